#include "out.h"

#include "util.h"

#include <err.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The pipe is asked to be as large as an unprivileged process may make it. */
#define PIPE_SIZE (1u << 20)
/* A run of zeros at least this long is seeked over when the output allows it. */
#define SEEK_MIN (64u << 10)

void tar_out_open(struct tar_out *o, int fd, const char *name)
{
	*o = (struct tar_out){.fd = fd, .name = name};
	struct stat st;
	if (fstat(fd, &st) < 0)
		err(EXIT_FAIL, "%s", name);
	if (S_ISFIFO(st.st_mode)) {
		int size = fcntl(fd, F_GETPIPE_SZ);
		if (size >= 0 && (unsigned)size < PIPE_SIZE)
			(void)fcntl(fd, F_SETPIPE_SZ, (int)PIPE_SIZE);
	} else if (S_ISREG(st.st_mode)) {
		int fl = fcntl(fd, F_GETFL);
		off_t at = lseek(fd, 0, SEEK_CUR);
		o->can_seek = fl >= 0 && !(fl & O_APPEND) && at >= 0 && at == st.st_size;
	}
	if (posix_memalign((void **)&o->buf, 4096, TAR_OUT_CAP) != 0)
		errx(EXIT_FAIL, "out of memory");
}

void tar_out_flush(struct tar_out *o)
{
	if (o->len > 0 && write_all(o->fd, o->buf, o->len) < 0)
		err(EXIT_FAIL, "write to %s", o->name);
	o->len = 0;
}

/* Room for n bytes (n <= TAR_OUT_CAP) in one piece at buf + len. */
static char *room_for(struct tar_out *o, size_t n)
{
	if (TAR_OUT_CAP - o->len < n)
		tar_out_flush(o);
	return o->buf + o->len;
}

void tar_out_write(struct tar_out *o, const char *p, size_t n)
{
	while (n > 0) {
		size_t room;
		char *at = tar_out_tail(o, &room);
		size_t k = room < n ? room : n;
		memcpy(at, p, k);
		o->len += k;
		p += k;
		n -= k;
	}
}

/* The whole buffers of a run of n zeros, straight from a zero buffer: no memset per chunk.
 * Called with the buffer empty; returns what is left (less than TAR_OUT_CAP). */
static uint64_t write_zero_buffers(struct tar_out *o, uint64_t n)
{
	if (o->zeros == NULL)
		o->zeros = xcalloc(1, TAR_OUT_CAP);
	for (; n >= TAR_OUT_CAP; n -= TAR_OUT_CAP)
		if (write_all(o->fd, o->zeros, TAR_OUT_CAP) < 0)
			err(EXIT_FAIL, "write to %s", o->name);
	return n;
}

void tar_out_zeros(struct tar_out *o, uint64_t n)
{
	if (o->can_seek && n >= SEEK_MIN) {
		tar_out_flush(o);
		if (lseek(o->fd, (off_t)n, SEEK_CUR) < 0)
			err(EXIT_FAIL, "seek in %s", o->name);
		return;
	}
	while (n > 0) {
		if (o->len == TAR_OUT_CAP) {
			tar_out_flush(o);
			if (n >= TAR_OUT_CAP) {
				n = write_zero_buffers(o, n);
				continue;
			}
		}
		size_t room = TAR_OUT_CAP - o->len;
		size_t k = room < n ? room : (size_t)n;
		memset(o->buf + o->len, 0, k);
		o->len += k;
		n -= k;
	}
}

void tar_out_pad(struct tar_out *o, uint64_t size)
{
	size_t pad = (size_t)(-size % TAR_BLOCK);
	memset(room_for(o, pad), 0, pad);
	o->len += pad;
}

void tar_out_header(struct tar_out *o, const struct tar_entry *e)
{
	size_t bound = tar_header_bound(e);
	if (bound <= TAR_OUT_CAP) {
		o->len += tar_header_encode(e, room_for(o, bound));
		return;
	}
	char *tmp = xmalloc(bound); /* a path of megabytes: rare enough to allocate */
	size_t n = tar_header_encode(e, tmp);
	tar_out_write(o, tmp, n);
	free(tmp);
}

void tar_out_end(struct tar_out *o)
{
	tar_out_zeros(o, 2 * TAR_BLOCK);
	tar_out_flush(o);
}

void tar_out_free(struct tar_out *o)
{
	free(o->buf);
	free(o->zeros);
	*o = (struct tar_out){.fd = -1};
}
