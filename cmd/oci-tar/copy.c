#include "copy.h"
#include "fdio.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* A file at least this long with fewer blocks than its size has holes worth looking for. */
#define SPARSE_MIN (64u << 10)
/* A dense file at least this long goes into a pipe by splice(2): the pipe takes references to
 * the file's page cache pages, with no copy into this process and out of it again (12% less
 * CPU for oci-tar on the npm tree). A shorter one is cheaper copied than worth flushing the
 * buffer for, and a spliced page holds one of the pipe's slots whatever it holds. */
#define SPLICE_MIN (64u << 10)

/* Whether the output is a pipe, which splice writes to: not looked at yet (0), yes (1), no (-1). */
static int splice_works;

static int fail(struct copy_error *e, enum copy_failure kind)
{
	e->kind = kind;
	e->err = kind == COPY_ERR_READ ? errno : 0;
	return -1;
}

/* Reads bytes [pos, end) of fd into o. */
static int copy_range(struct tar_out *o, int fd, uint64_t pos, uint64_t end, struct copy_error *e)
{
	while (pos < end) {
		size_t want;
		char *at = tar_out_tail(o, &want);
		if (want > end - pos)
			want = (size_t)(end - pos);
		ssize_t r = pread_retry(fd, at, want, (off_t)pos);
		if (r < 0)
			return fail(e, COPY_ERR_READ);
		if (r == 0)
			return fail(e, COPY_ERR_SHRANK);
		o->len += (size_t)r;
		pos += (uint64_t)r;
	}
	return 0;
}

/* Where the data from pos on starts (size when there is none): holes is cleared when the file
 * system cannot tell, and the rest is then read as data. -1 on an error. */
static int64_t next_data(int fd, uint64_t pos, uint64_t size, bool *holes)
{
	off_t data = *holes ? lseek(fd, (off_t)pos, SEEK_DATA) : (off_t)pos;
	if (data < 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
		*holes = false;
		return (int64_t)pos;
	}
	if (data < 0 && errno != ENXIO) /* ENXIO: no data up to the end */
		return -1;
	return data < 0 || (uint64_t)data > size ? (int64_t)size : (int64_t)data;
}

/* Copies size bytes of a file that has holes: the holes are written as zeros (or seeked over in
 * a regular output file) without reading them. */
static int copy_sparse(struct tar_out *o, int fd, uint64_t size, struct copy_error *e)
{
	uint64_t pos = 0;
	bool holes = true;
	while (pos < size) {
		int64_t data = next_data(fd, pos, size, &holes);
		if (data < 0)
			return fail(e, COPY_ERR_READ);
		tar_out_zeros(o, (uint64_t)data - pos);
		pos = (uint64_t)data;
		if (pos == size)
			break;
		off_t hole = holes ? lseek(fd, (off_t)pos, SEEK_HOLE) : (off_t)size;
		if (hole < 0)
			return fail(e, errno == ENXIO ? COPY_ERR_SHRANK : COPY_ERR_READ);
		uint64_t end = (uint64_t)hole > size ? size : (uint64_t)hole;
		if (copy_range(o, fd, pos, end, e) < 0)
			return -1;
		pos = end;
	}
	/* A hole read no bytes, so only the size can tell whether the file changed. */
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fail(e, COPY_ERR_READ);
	if ((uint64_t)st.st_size != size)
		return fail(e, (uint64_t)st.st_size > size ? COPY_ERR_GREW : COPY_ERR_SHRANK);
	return 0;
}

/* Copies size bytes read straight into the output buffer. The last read asks for one byte more
 * than is left, when the buffer has room for it: getting it means the file grew, getting less
 * means the end was reached, with no extra read at the end of every small file. */
static int copy_dense(struct tar_out *o, int fd, uint64_t size, struct copy_error *e)
{
	uint64_t left = size;
	bool at_end = false;
	while (left > 0 || !at_end) {
		size_t want;
		char *at = tar_out_tail(o, &want);
		if (want > left)
			want = (size_t)left + 1;
		char one;
		ssize_t r = left > 0 ? read_retry(fd, at, want) : read_retry(fd, &one, 1);
		if (r < 0)
			return fail(e, COPY_ERR_READ);
		if ((uint64_t)r > left)
			return fail(e, COPY_ERR_GREW);
		if (r == 0 && left > 0)
			return fail(e, COPY_ERR_SHRANK);
		o->len += (size_t)r;
		left -= (uint64_t)r;
		at_end = r == 0 || (left == 0 && (size_t)r < want);
	}
	return 0;
}

static bool output_is_pipe(const struct tar_out *o)
{
	struct stat st;
	if (splice_works == 0)
		splice_works = fstat(o->fd, &st) == 0 && S_ISFIFO(st.st_mode) ? 1 : -1;
	return splice_works > 0;
}

/* Copies size bytes by splice into the pipe, then reads one byte at the end to tell whether the
 * file grew, as copy_dense does. 1, having copied nothing, when the file system cannot splice
 * the file: read it instead. */
static int copy_spliced(struct tar_out *o, int fd, uint64_t size, struct copy_error *e)
{
	tar_out_flush(o);
	loff_t pos = 0;
	while ((uint64_t)pos < size) {
		ssize_t r = splice(fd, &pos, o->fd, NULL, (size_t)(size - (uint64_t)pos), 0);
		if (r > 0)
			continue;
		if (r == 0)
			return fail(e, COPY_ERR_SHRANK);
		if (errno == EINTR)
			continue;
		if (pos == 0 && errno == EINVAL)
			return 1;
		if (errno == EPIPE)
			err(EXIT_FAIL, "write to %s", o->name);
		return fail(e, COPY_ERR_READ);
	}
	char one;
	ssize_t r = pread_retry(fd, &one, 1, (off_t)size);
	if (r < 0)
		return fail(e, COPY_ERR_READ);
	return r > 0 ? fail(e, COPY_ERR_GREW) : 0;
}

int copy_file(struct tar_out *o, int fd, const struct stat *st, struct copy_error *e)
{
	uint64_t size = (uint64_t)st->st_size;
	bool sparse = size >= SPARSE_MIN && (uint64_t)st->st_blocks * 512 < size;
	int r = 1;
	if (!sparse && size >= SPLICE_MIN && output_is_pipe(o))
		r = copy_spliced(o, fd, size, e);
	if (r > 0)
		r = sparse ? copy_sparse(o, fd, size, e) : copy_dense(o, fd, size, e);
	if (r < 0)
		return -1;
	tar_out_pad(o, size);
	return 0;
}
