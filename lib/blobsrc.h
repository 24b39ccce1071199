/* Where the bytes of a blob come from: a regular file (any offset can be read again) or a
 * stream such as stdin, held in a ring of the most recent bytes so that a failed upload can be
 * restarted (while the ring still holds byte 0) or resumed (from any offset it still holds).
 * The digest is computed as the bytes come in, once. */
#ifndef OCINOCO_BLOBSRC_H
#define OCINOCO_BLOBSRC_H

#include "digest.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The stream buffer: a stream that ends within it is uploaded like a file (digest known, HEAD,
 * one PUT); 16 MiB also bounds the memory of a streamed upload. */
#define BLOBSRC_RING (16u << 20)
/* A held stream (blobsrc_stream_held) may read this far past the last byte sent, besides the
 * BLOBSRC_RING bytes it keeps behind it: the producer need not wait for each round trip. */
#define BLOBSRC_AHEAD (4u << 20)

struct blob_src {
	int fd;
	bool seekable;
	bool eof;                    /* stream: the end has been read (size, digest known) */
	uint64_t size;               /* file, or stream once eof */
	char digest[DIGEST_STR_LEN]; /* "" until known */
	char expect[DIGEST_STR_LEN]; /* stream: the digest it must have, else reading fails */
	char *name;                  /* for messages */
	int error;                   /* errno of a failed read */
	/* stream: bytes [base, end) are held in ring[off % cap] */
	char *ring;
	size_t cap;
	uint64_t base, end;
	struct sha256 hash;
	bool hashing;
	/* held stream: the bytes from hist before the highest offset read out (sent) are kept */
	bool held, failed;
	size_t hist;
	uint64_t sent;
};

/* A regular file: reads it once to compute the digest. -1 with errno. */
int blobsrc_file(struct blob_src *s, const char *path);
/* A stream: reads up to cap bytes ahead; if it ends there, size and digest are known. With
 * expect, reaching the end with another digest is a read error (EBADMSG). -1 with errno. */
int blobsrc_stream(struct blob_src *s, int fd, const char *name, size_t cap, const char *expect);
/* A stream read as the upload asks for it, and ahead of it (blobsrc_feed) while requests are
 * in flight, nothing at first: the upload can start before the stream ends. Its ring holds
 * hist + ahead bytes; the hist bytes before the highest offset read out so far stay readable
 * (a restart from byte 0 works until hist bytes have been read out). With expect as for
 * blobsrc_stream. */
void blobsrc_stream_held(struct blob_src *s, int fd, const char *name, size_t hist, size_t ahead,
                         const char *expect);
/* Held stream: whether there is room to read ahead (and the end has not been read). */
bool blobsrc_wants(const struct blob_src *s);
/* Held stream: one read(2) into the room there is (for when poll(2) says fd is readable). */
void blobsrc_feed(struct blob_src *s);
/* The first offset still held (0 for a file). */
uint64_t blobsrc_first_held(const struct blob_src *s);
/* Whether offset off can still be read (always for a file). */
bool blobsrc_holds(const struct blob_src *s, uint64_t off);
/* Up to n bytes at off (which must be held, or the next byte of the stream); 0 at the end; -1
 * on a read error (errno in s->error) or an offset no longer held (EINVAL). */
ssize_t blobsrc_read(struct blob_src *s, uint64_t off, void *p, size_t n);
/* Reads ahead until byte upto-1 is held or the stream ends; -1 on a read error. */
int blobsrc_fill(struct blob_src *s, uint64_t upto);
/* Reads the stream to its end (discarding what the ring cannot hold) so the digest is known. */
int blobsrc_drain(struct blob_src *s);
void blobsrc_close(struct blob_src *s);
/* The one of the n sources whose digest is digest (files: their digests known), or NULL. */
struct blob_src *blobsrc_find(struct blob_src *const *srcs, size_t n, const char *digest);

#endif
