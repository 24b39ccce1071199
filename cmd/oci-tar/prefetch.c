#include "prefetch.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Deeper directories are lstat'ed by the walk itself: the jobs are a fixed array, so the thread
 * never sees it move. */
#define PF_MAX_DEPTH 1024
/* How long the idle thread spins (in pause instructions) before it sleeps on a futex, and how
 * long the walk spins on a name the thread is lstat'ing before it yields. */
#define PF_SPIN 256

/* A name's state: the thread takes names from the end of the directory, the walk from the
 * start (it needs them in order); each lstats what it takes, so the two meet in the middle and
 * neither waits for the other but on one name at most. */
enum { PF_FREE, PF_TAKEN, PF_DONE, PF_WALK };

struct pf_job {
	int dirfd;
	const struct dir_names *d;
	struct stat *st;
	int *err; /* 0 or an errno, for a PF_DONE name */
	_Atomic unsigned char *state;
	size_t cap;
	size_t tail;        /* the thread's: the names [tail, count) were taken by it */
	size_t scan;        /* the thread's: no directory to read ahead before this name */
	_Atomic size_t cur; /* the first name the walk has not begun */
};

/* The one directory read ahead: the next the walk will enter, as far as the thread can tell. */
enum { DIR_EMPTY, DIR_FILLING, DIR_READY, DIR_TAKEN };

struct pf_dir {
	_Atomic int state; /* EMPTY -> FILLING (the thread) -> READY -> TAKEN -> EMPTY (the walk) */
	size_t depth, index; /* whose: name index of the directory at depth */
	int fd;              /* -1: opening or reading it failed (the walk does it again) */
	struct stat st;
	struct dir_names names;
	char *dents;
};

struct prefetch {
	pthread_t thread;
	struct pf_job *jobs[PF_MAX_DEPTH];
	/* The jobs [0, depth) are live. The thread sets busy to the job it is about to use and then
	 * checks that the job is still live; the walk lowers depth and then waits until busy is not
	 * that job: with sequentially consistent atomics one of them sees the other. */
	_Atomic size_t depth;
	_Atomic long busy;    /* -1: none */
	_Atomic uint32_t gen; /* bumped by each push: the futex the idle thread sleeps on */
	_Atomic bool idle, quit;
	struct pf_dir dir;
};

static void futex_wait(_Atomic uint32_t *word, uint32_t seen)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* One name of the deepest live job that has one left, from its end; false when there is none. */
static bool stat_one(struct prefetch *p)
{
	for (long k = (long)atomic_load(&p->depth) - 1; k >= 0; k--) {
		atomic_store(&p->busy, k);
		if ((long)atomic_load(&p->depth) <= k) { /* popped meanwhile: look again */
			atomic_store(&p->busy, -1);
			return true;
		}
		struct pf_job *j = p->jobs[k];
		unsigned char free_state = PF_FREE;
		if (j->tail > 0 &&
		    atomic_compare_exchange_strong(&j->state[j->tail - 1], &free_state, PF_TAKEN)) {
			size_t i = --j->tail;
			unsigned char type;
			const char *name = names_at(j->d, i, &type);
			if (type != DT_DIR) /* the walk opens directories */
				j->err[i] =
				        fstatat(j->dirfd, name, &j->st[i], AT_SYMLINK_NOFOLLOW) < 0
				                ? errno
				                : 0;
			atomic_store(&j->state[i], PF_DONE);
			atomic_store(&p->busy, -1);
			return true;
		}
		j->tail = 0; /* the walk got there: the rest is its */
		atomic_store(&p->busy, -1);
	}
	return false;
}

/* Reads ahead the next directory the walk will enter (the first one after where the walk is, in
 * the deepest directory that has one) when none is; false when there is none to read. */
static bool read_one_dir(struct prefetch *p)
{
	struct pf_dir *x = &p->dir;
	if (atomic_load(&x->state) != DIR_EMPTY)
		return false;
	for (long k = (long)atomic_load(&p->depth) - 1; k >= 0; k--) {
		atomic_store(&p->busy, k);
		if ((long)atomic_load(&p->depth) <= k) {
			atomic_store(&p->busy, -1);
			return true;
		}
		struct pf_job *j = p->jobs[k];
		size_t i = atomic_load_explicit(&j->cur, memory_order_relaxed);
		if (i < j->scan)
			i = j->scan;
		unsigned char type = DT_UNKNOWN;
		const char *name = NULL;
		for (; i < j->d->count; i++) {
			name = names_at(j->d, i, &type);
			if (type == DT_DIR)
				break;
		}
		j->scan = i + 1;
		if (i < j->d->count) {
			x->depth = (size_t)k;
			x->index = i;
			atomic_store(&x->state, DIR_FILLING);
			x->fd = openat(j->dirfd, name,
			               O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY);
			if (x->fd >= 0 && (fstat(x->fd, &x->st) < 0 ||
			                   names_read(&x->names, x->fd, x->dents) < 0)) {
				close(x->fd);
				x->fd = -1;
			}
			atomic_store(&x->state, DIR_READY);
			atomic_store(&p->busy, -1);
			return true;
		}
		atomic_store(&p->busy, -1);
	}
	return false;
}

static void *run(void *arg)
{
	struct prefetch *p = arg;
	while (!atomic_load(&p->quit)) {
		uint32_t gen = atomic_load(&p->gen);
		if (read_one_dir(p) || stat_one(p))
			continue;
		int spin = PF_SPIN;
		while (spin-- > 0 && atomic_load_explicit(&p->gen, memory_order_relaxed) == gen &&
		       !atomic_load_explicit(&p->quit, memory_order_relaxed))
			cpu_relax();
		if (spin >= 0)
			continue;
		atomic_store(&p->idle, true);
		if (atomic_load(&p->gen) == gen && !atomic_load(&p->quit))
			futex_wait(&p->gen, gen);
		atomic_store(&p->idle, false);
	}
	return NULL;
}

struct prefetch *prefetch_start(void)
{
	struct prefetch *p = xcalloc(1, sizeof *p);
	atomic_init(&p->busy, -1);
	p->dir.dents = xmalloc(NAMES_DENTS_CAP);
	/* The thread gets no signals: SIGPIPE and the rest stay the walk's. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&p->thread, NULL, run, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		free(p);
		return NULL;
	}
	return p;
}

static void wake_thread(struct prefetch *p)
{
	atomic_fetch_add(&p->gen, 1);
	if (atomic_load(&p->idle))
		futex_wake(&p->gen);
}

void prefetch_push(struct prefetch *p, size_t depth, int dirfd, const struct dir_names *d)
{
	if (depth >= PF_MAX_DEPTH)
		return;
	/* depth is not live yet (the walk pushes it only after popping what was there), so the
	 * thread does not look at this job while it is set up. */
	struct pf_job *j = p->jobs[depth];
	if (j == NULL)
		j = p->jobs[depth] = xcalloc(1, sizeof *j);
	if (j->cap < d->count) {
		j->cap = d->count > 2 * j->cap ? d->count : 2 * j->cap;
		free(j->st);
		free(j->err);
		free((void *)j->state);
		j->st = xreallocarray(NULL, j->cap, sizeof *j->st);
		j->err = xreallocarray(NULL, j->cap, sizeof *j->err);
		j->state = xreallocarray(NULL, j->cap, sizeof *j->state);
	}
	for (size_t i = 0; i < d->count; i++)
		atomic_init(&j->state[i], PF_FREE);
	j->dirfd = dirfd;
	j->d = d;
	j->tail = d->count;
	j->scan = 0;
	atomic_store_explicit(&j->cur, 0, memory_order_relaxed);
	atomic_store(&p->depth, depth + 1);
	wake_thread(p);
}

int prefetch_stat(struct prefetch *p, size_t depth, size_t i, struct stat *st)
{
	if (depth >= PF_MAX_DEPTH)
		return 1;
	struct pf_job *j = p->jobs[depth];
	unsigned char state = PF_FREE;
	if (atomic_compare_exchange_strong(&j->state[i], &state, PF_WALK))
		return 1; /* the walk's own */
	for (int spin = 0; state != PF_DONE; spin++) {
		if (spin < PF_SPIN)
			cpu_relax();
		else
			sched_yield();
		state = atomic_load(&j->state[i]);
	}
	if (j->err[i] != 0) {
		errno = j->err[i];
		return -1;
	}
	*st = j->st[i];
	return 0;
}

/* Waits while the thread reads the directory ahead. */
static int dir_state(struct prefetch *p)
{
	int state;
	for (int spin = 0; (state = atomic_load(&p->dir.state)) == DIR_FILLING; spin++) {
		if (spin < PF_SPIN)
			cpu_relax();
		else
			sched_yield();
	}
	return state;
}

/* The directory read ahead, when it is name index at depth: dropped. */
static void drop_dir(struct prefetch *p, size_t depth, size_t index, bool any_index)
{
	struct pf_dir *x = &p->dir;
	if (atomic_load(&x->state) == DIR_EMPTY || x->depth != depth ||
	    (!any_index && x->index != index))
		return;
	if (dir_state(p) != DIR_READY)
		return;
	if (x->fd >= 0)
		close(x->fd);
	atomic_store(&x->state, DIR_EMPTY);
	wake_thread(p);
}

void prefetch_at(struct prefetch *p, size_t depth, size_t i)
{
	if (depth < PF_MAX_DEPTH)
		atomic_store_explicit(&p->jobs[depth]->cur, i + 1, memory_order_relaxed);
}

bool prefetch_take_dir(struct prefetch *p, size_t depth, size_t i, int *fd, struct stat *st)
{
	struct pf_dir *x = &p->dir;
	if (depth >= PF_MAX_DEPTH || atomic_load(&x->state) == DIR_EMPTY || x->depth != depth ||
	    x->index != i || dir_state(p) != DIR_READY)
		return false;
	if (x->fd < 0) {
		drop_dir(p, depth, i, false);
		return false;
	}
	*fd = x->fd;
	*st = x->st;
	atomic_store(&x->state, DIR_TAKEN);
	return true;
}

struct dir_names *prefetch_dir_names(struct prefetch *p)
{
	return &p->dir.names;
}

void prefetch_dir_done(struct prefetch *p)
{
	atomic_store(&p->dir.state, DIR_EMPTY);
	wake_thread(p);
}

void prefetch_pass(struct prefetch *p, size_t depth, size_t i)
{
	if (depth < PF_MAX_DEPTH)
		drop_dir(p, depth, i, false);
}

void prefetch_pop(struct prefetch *p, size_t depth)
{
	if (depth >= PF_MAX_DEPTH)
		return;
	atomic_store(&p->depth, depth);
	for (int spin = 0; atomic_load(&p->busy) == (long)depth; spin++) {
		if (spin < PF_SPIN)
			cpu_relax();
		else
			sched_yield(); /* the thread may have lost its core */
	}
	drop_dir(p, depth, 0, true);
}

void prefetch_stop(struct prefetch *p)
{
	atomic_store(&p->depth, 0);
	atomic_store(&p->quit, true);
	wake_thread(p);
	pthread_join(p->thread, NULL);
	if (atomic_load(&p->dir.state) == DIR_READY && p->dir.fd >= 0)
		close(p->dir.fd);
	free(p->dir.names.names);
	free(p->dir.names.offs);
	free(p->dir.dents);
	for (size_t i = 0; i < PF_MAX_DEPTH && p->jobs[i] != NULL; i++) {
		free(p->jobs[i]->st);
		free(p->jobs[i]->err);
		free((void *)p->jobs[i]->state);
		free(p->jobs[i]);
	}
	free(p);
}
