/* Follows a tar stream's headers as it streams by, to tell a whole archive from anything else:
 * random bytes, a truncated stream, a stream that stops where its writer failed. It keeps one
 * header block (and a pax header's records) at a time, whatever the archive's length.
 * docs/DESIGN.md, "Layer descriptor". */
#ifndef OCI_DIGEST_TAR_CHECK_H
#define OCI_DIGEST_TAR_CHECK_H

#include "tar_header.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest pax extended header accepted: far beyond what any writer puts in one ('x' records
 * are a path, a link, numbers, extended attributes of at most 64 KiB each on Linux). */
#define TAR_CHECK_PAX_MAX (1u << 20)

struct tar_check {
	enum {
		TAR_AT_HEADER,  /* filling a header block */
		TAR_AT_DATA,    /* skipping an entry's data and padding */
		TAR_AT_PAX,     /* collecting a pax extended header's records */
		TAR_AT_SPARSE,  /* filling an old GNU sparse extension block */
		TAR_AT_ZERO,    /* one zero block seen at a header position */
		TAR_AT_END,     /* end-of-archive seen: only zeros may follow */
		TAR_AT_INVALID, /* not a tar stream: msg says why */
	} state;
	unsigned char block[TAR_BLOCK];
	size_t fill;        /* bytes in block */
	uint64_t left;      /* TAR_AT_DATA, TAR_AT_PAX: bytes still to come, padding included */
	uint64_t offset;    /* bytes of the stream seen */
	uint64_t header_at; /* where the header being filled or followed starts */
	char *pax;          /* TAR_AT_PAX: the records so far */
	size_t pax_len, pax_size;
	bool has_size; /* a pax header gave the next entry's size */
	uint64_t size;
	char msg[160];
};

void tar_check_init(struct tar_check *t);
/* Takes the next n bytes of the stream; false once they make it no tar stream (t->msg). */
bool tar_check_feed(struct tar_check *t, const unsigned char *p, size_t n);
/* At the end of the stream: false unless it ended with its end-of-archive (t->msg). */
bool tar_check_end(struct tar_check *t);
void tar_check_free(struct tar_check *t);

#endif
