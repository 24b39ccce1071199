/* oci-tar's output: the tar stream written to one file descriptor through one buffer, in large
 * pieces. Headers, padding and small files are gathered in the buffer; a file's bytes are read
 * straight into it (tar_out_tail). Runs of zeros (holes, the end of the archive) are skipped with
 * lseek when the output is a regular file written at its end, so the output is sparse too.
 *
 * A write or seek that fails ends the program: "oci-tar: write to NAME: why", exit 1. */
#ifndef OCI_TAR_OUT_H
#define OCI_TAR_OUT_H

#include "tar_header.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Small enough to stay in L2 while the kernel copies it into the pipe (1 MiB measured ~8% slower
 * for the whole pack on 2 cores). */
#define TAR_OUT_CAP (128u << 10)

struct tar_out {
	int fd;
	const char *name; /* for messages: "stdout" */
	char *buf;        /* TAR_OUT_CAP bytes; buf[0..len) not yet written */
	size_t len;
	bool can_seek; /* a regular file written at its end: zero runs may be left unwritten */
	char *zeros;   /* TAR_OUT_CAP zero bytes, allocated for the first long zero run to a pipe */
};

/* Sets o up to write to fd: asks a pipe for a 1 MiB buffer (the reader wakes up less often; not
 * fatal if refused), tells whether zero runs may be seeked over, allocates the buffer. */
void tar_out_open(struct tar_out *o, int fd, const char *name);

/* Writes what the buffer holds. */
void tar_out_flush(struct tar_out *o);

/* Where the next bytes go and how many fit (at least one): a reader fills up to *room bytes at
 * the returned place and then adds what it read to o->len. */
static inline char *tar_out_tail(struct tar_out *o, size_t *room)
{
	if (o->len == TAR_OUT_CAP)
		tar_out_flush(o);
	*room = TAR_OUT_CAP - o->len;
	return o->buf + o->len;
}

void tar_out_write(struct tar_out *o, const char *p, size_t n);

/* n zero bytes: written, or seeked over when o->can_seek and the run is long. */
void tar_out_zeros(struct tar_out *o, uint64_t n);

/* The zeros that fill a member of size bytes up to a whole block. */
void tar_out_pad(struct tar_out *o, uint64_t size);

/* e's header blocks (tar_header_encode). */
void tar_out_header(struct tar_out *o, const struct tar_entry *e);

/* The end of the archive, two zero blocks, and everything flushed. */
void tar_out_end(struct tar_out *o);

void tar_out_free(struct tar_out *o);

#endif
