#include "blobsrc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int blobsrc_file(struct blob_src *s, const char *path)
{
	*s = (struct blob_src){.seekable = true, .name = xstrdup(path)};
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (s->fd < 0 || fstat(s->fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if (sha256_fd(s->fd, NULL, NULL, s->digest, &s->size) != SHA256_FD_OK)
		goto fail;
	s->eof = true;
	return 0;
fail:;
	int e = errno;
	blobsrc_close(s);
	errno = e;
	return -1;
}

/* Reads more of the stream into the ring, dropping the oldest bytes when it is full. */
static int ingest(struct blob_src *s, size_t want)
{
	if (s->failed)
		return -1;
	if (s->eof)
		return 0;
	if (want > s->cap)
		want = s->cap;
	size_t pos = (size_t)(s->end % s->cap);
	if (want > s->cap - pos)
		want = s->cap - pos;
	ssize_t r = read_retry(s->fd, s->ring + pos, want);
	if (r < 0) {
		s->error = errno;
		s->failed = true;
		return -1;
	}
	if (r == 0) {
		s->eof = true;
		s->size = s->end;
		sha256_final(&s->hash, s->digest);
		s->hashing = false;
		if (s->expect[0] && strcmp(s->expect, s->digest) != 0) {
			s->error = EBADMSG;
			s->failed = true;
			return -1;
		}
		return 0;
	}
	sha256_update(&s->hash, s->ring + pos, (size_t)r);
	s->end += (uint64_t)r;
	if (s->end - s->base > s->cap)
		s->base = s->end - s->cap;
	return (int)r;
}

int blobsrc_stream(struct blob_src *s, int fd, const char *name, size_t cap, const char *expect)
{
	*s = (struct blob_src){.fd = fd, .cap = cap, .name = xstrdup(name)};
	if (expect)
		snprintf(s->expect, sizeof s->expect, "%s", expect);
	s->ring = xmalloc(cap);
	sha256_init(&s->hash);
	s->hashing = true;
	while (!s->eof && s->end < cap)
		if (ingest(s, cap - (size_t)s->end) < 0) {
			errno = s->error;
			return -1;
		}
	return 0;
}

void blobsrc_stream_held(struct blob_src *s, int fd, const char *name, size_t hist, size_t ahead,
                         const char *expect)
{
	*s = (struct blob_src){.fd = fd, .cap = hist + ahead, .name = xstrdup(name)};
	if (expect)
		snprintf(s->expect, sizeof s->expect, "%s", expect);
	s->ring = xmalloc(s->cap);
	sha256_init(&s->hash);
	s->hashing = true;
	s->held = true;
	s->hist = hist;
}

uint64_t blobsrc_first_held(const struct blob_src *s)
{
	if (s->seekable)
		return 0;
	uint64_t keep = s->held && s->sent > s->hist ? s->sent - s->hist : 0;
	return keep > s->base ? keep : s->base;
}

/* Bytes that can be read in without dropping any from keep on. */
static size_t room_from(const struct blob_src *s, uint64_t keep)
{
	return s->cap - (size_t)(s->end - keep);
}

bool blobsrc_wants(const struct blob_src *s)
{
	return s->held && !s->eof && !s->failed && room_from(s, blobsrc_first_held(s)) > 0;
}

void blobsrc_feed(struct blob_src *s)
{
	if (blobsrc_wants(s))
		ingest(s, room_from(s, blobsrc_first_held(s)));
}

bool blobsrc_holds(const struct blob_src *s, uint64_t off)
{
	return s->seekable || off >= blobsrc_first_held(s);
}

ssize_t blobsrc_read(struct blob_src *s, uint64_t off, void *p, size_t n)
{
	if (s->seekable) {
		ssize_t r = pread_retry(s->fd, p, n, (off_t)off);
		if (r < 0)
			s->error = errno;
		return r;
	}
	if (off < blobsrc_first_held(s) || off > s->end) {
		s->error = EINVAL;
		return -1;
	}
	if (off == s->end) {
		if (s->failed)
			return -1;
		if (s->eof)
			return 0;
		/* Never drop the byte asked for: read at most what keeps off in the ring (and,
		 * held, what keeps the bytes behind the highest offset read out). */
		size_t room = s->cap - (size_t)(s->end - off);
		if (s->held && room_from(s, blobsrc_first_held(s)) > 0)
			room = room_from(s, blobsrc_first_held(s));
		if (room == 0)
			room = 1;
		if (ingest(s, n < room ? n : room) < 0)
			return -1;
		if (off == s->end)
			return 0;
	}
	size_t avail = (size_t)(s->end - off);
	size_t pos = (size_t)(off % s->cap);
	if (n > avail)
		n = avail;
	if (n > s->cap - pos)
		n = s->cap - pos;
	memcpy(p, s->ring + pos, n);
	if (off + n > s->sent)
		s->sent = off + n;
	return (ssize_t)n;
}

int blobsrc_fill(struct blob_src *s, uint64_t upto)
{
	while (!s->seekable && !s->eof && s->end < upto) {
		size_t want = (size_t)(upto - s->end < s->cap ? upto - s->end : s->cap);
		if (s->held) {
			/* what was read out may go when upto needs the room (a chunk), nothing
			 * after */
			uint64_t keep = blobsrc_first_held(s);
			uint64_t need = upto > s->cap ? upto - s->cap : 0;
			if (need > keep)
				keep = need < s->sent ? need : (s->sent > keep ? s->sent : keep);
			if (room_from(s, keep) == 0)
				break;
			if (want > room_from(s, keep))
				want = room_from(s, keep);
		}
		if (ingest(s, want) < 0) {
			errno = s->error;
			return -1;
		}
	}
	if (s->failed) {
		errno = s->error;
		return -1;
	}
	return 0;
}

int blobsrc_drain(struct blob_src *s)
{
	while (!s->seekable && !s->eof)
		if (ingest(s, s->cap) < 0) {
			errno = s->error;
			return -1;
		}
	return 0;
}

void blobsrc_close(struct blob_src *s)
{
	if (s->hashing) {
		char d[DIGEST_STR_LEN];
		sha256_final(&s->hash, d);
	}
	if (s->seekable && s->fd >= 0)
		close(s->fd);
	free(s->ring);
	free(s->name);
	*s = (struct blob_src){.fd = -1};
}

struct blob_src *blobsrc_find(struct blob_src *const *srcs, size_t n, const char *digest)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(srcs[i]->digest, digest) == 0)
			return srcs[i];
	return NULL;
}
