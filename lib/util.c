#include "util.h"

#include <bsd/stdlib.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		err(EXIT_FAIL, "out of memory");
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		err(EXIT_FAIL, "out of memory");
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	p = reallocarray(p, n ? n : 1, size ? size : 1);
	if (p == NULL)
		err(EXIT_FAIL, "out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		err(EXIT_FAIL, "out of memory");
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (p == NULL)
		err(EXIT_FAIL, "out of memory");
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		err(EXIT_FAIL, "out of memory");
	va_end(ap);
	return s;
}

static void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = xreallocarray(b->data, cap, 1);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		err(EXIT_FAIL, "vsnprintf");
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	*b = (struct buf){0};
}

int buf_read_fd(struct buf *b, int fd, size_t max)
{
	for (;;) {
		buf_reserve(b, 65536);
		size_t room = b->cap - b->len - 1;
		ssize_t n = read(fd, b->data + b->len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
		if (b->len > max) {
			errno = EFBIG;
			return -1;
		}
	}
	return 0;
}

int buf_read_file(struct buf *b, const char *path, size_t max)
{
	if (strcmp(path, "-") == 0)
		return buf_read_fd(b, STDIN_FILENO, max);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = buf_read_fd(b, fd, max);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t read_full(int fd, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

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

bool fail_reason(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

void usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s", usage);
	exit(EXIT_USAGE);
}
