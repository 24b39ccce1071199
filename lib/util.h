/* Small helpers every program uses: allocation that cannot fail, full writes, numbers, atomic
 * files. */
#ifndef OCINOCO_UTIL_H
#define OCINOCO_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit codes of every program (documented in each man page). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Allocation failure is not a condition any caller can handle: these exit(1) with a message. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer; data is always NUL-terminated (not counted in len). */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_append(struct buf *b, const void *p, size_t n);
void buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Reads all of fd into b, failing (-1, errno EFBIG) past max bytes. */
int buf_read_fd(struct buf *b, int fd, size_t max);
/* Reads a whole file ("-" for stdin) into b; -1 with errno on failure. */
int buf_read_file(struct buf *b, const char *path, size_t max);

/* write(2) until done, retrying EINTR and short writes; 0 or -1 with errno. */
int write_all(int fd, const void *p, size_t n);
/* read(2) until n bytes or EOF, retrying EINTR; bytes read or -1 with errno. */
ssize_t read_full(int fd, void *p, size_t n);

/* Decimal unsigned integer, whole string, <= max; false on any junk. */
bool parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Output written to PATH.tmp-XXXXXX next to PATH and renamed over it only on success, so a
 * failed or interrupted run never leaves a half-written PATH. The temporary file is removed on
 * exit and on SIGINT/SIGTERM/SIGHUP/SIGPIPE if not committed. An existing PATH that is not a
 * regular file (/dev/null, a FIFO) is opened and written in place instead. */
struct atomic_file {
	char *path, *tmp;
	int fd;
};
int atomic_open(struct atomic_file *f, const char *path, mode_t mode);
int atomic_commit(struct atomic_file *f); /* fsync-free rename; 0 or -1 with errno */
void atomic_abort(struct atomic_file *f);

/* The reason a check failed, written into the caller's err buffer (errlen bytes); returns
 * false, so that a check ends with `return fail_reason(err, errlen, "...", ...)`. */
bool fail_reason(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Usage error: "prog: msg" then "usage: ..." hint, exit 2. */
void usage_error(const char *usage, const char *fmt, ...)
        __attribute__((format(printf, 2, 3), noreturn));

#endif
