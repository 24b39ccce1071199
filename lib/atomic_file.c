#include "atomic_file.h"
#include "alloc.h"
#include "errors.h"
#include "fdio.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Uncommitted temporary files, removed by the exit and signal handlers. A signal handler may
 * only call async-signal-safe functions, so the paths are kept as plain C strings. */
#define MAX_PENDING 8
static char *pending[MAX_PENDING];

static void remove_pending(void)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending[i])
			unlink(pending[i]);
}

static void on_fatal_signal(int sig)
{
	remove_pending();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void track(char *tmp)
{
	static bool installed;
	if (!installed) {
		installed = true;
		atexit(remove_pending);
		int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
		for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
			struct sigaction sa = {.sa_handler = on_fatal_signal};
			struct sigaction old;
			sigaction(sigs[i], NULL, &old);
			if (old.sa_handler != SIG_IGN)
				sigaction(sigs[i], &sa, NULL);
		}
	}
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending[i] == NULL) {
			pending[i] = tmp;
			return;
		}
	errx(EXIT_FAIL, "too many temporary files at once");
}

static void untrack(const char *tmp)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending[i] == tmp)
			pending[i] = NULL;
}

int atomic_open(struct atomic_file *f, const char *path, mode_t mode)
{
	struct stat st;
	*f = (struct atomic_file){.fd = -1};
	/* A device or FIFO (-o /dev/null, /dev/stdout, a named pipe) is written in place: renaming
	 * a file over it would replace the device node. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		f->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (f->fd < 0)
			return -1;
		f->path = xstrdup(path);
		return 0;
	}
	f->tmp = xasprintf("%s.tmp-XXXXXX", path);
	f->fd = mkostemp(f->tmp, O_CLOEXEC);
	if (f->fd < 0) {
		int saved = errno;
		free(f->tmp);
		*f = (struct atomic_file){.fd = -1};
		errno = saved;
		return -1;
	}
	f->path = xstrdup(path);
	track(f->tmp);
	mode_t mask = umask(0);
	umask(mask);
	fchmod(f->fd, mode & ~mask);
	return 0;
}

int atomic_commit(struct atomic_file *f)
{
	int r = close(f->fd);
	f->fd = -1;
	if (r == 0 && f->tmp)
		r = rename(f->tmp, f->path);
	int saved = errno;
	if (f->tmp) {
		if (r != 0)
			unlink(f->tmp);
		untrack(f->tmp);
	}
	free(f->tmp);
	free(f->path);
	*f = (struct atomic_file){.fd = -1};
	errno = saved;
	return r;
}

void atomic_abort(struct atomic_file *f)
{
	if (f->path == NULL)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp) {
		unlink(f->tmp);
		untrack(f->tmp);
	}
	free(f->tmp);
	free(f->path);
	*f = (struct atomic_file){.fd = -1};
}

int atomic_write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	struct atomic_file f;
	if (atomic_open(&f, path, mode) < 0)
		return -1;
	if (write_all(f.fd, p, n) < 0) {
		int saved = errno;
		atomic_abort(&f);
		errno = saved;
		return -1;
	}
	return atomic_commit(&f);
}
