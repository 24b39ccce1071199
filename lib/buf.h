/* A growable byte buffer, and reading whole files into one. */
#ifndef OCINOCO_BUF_H
#define OCINOCO_BUF_H

#include <stddef.h>

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

#endif
