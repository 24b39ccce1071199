/* oci-digest's one job: a single pass over an uncompressed layer that compresses it and hashes
 * both sides, and the layer descriptor that pass yields (docs/DESIGN.md, "Layer descriptor"). */
#ifndef OCI_DIGEST_LAYER_H
#define OCI_DIGEST_LAYER_H

#include "digest.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum layer_compression { LAYER_ZSTD, LAYER_GZIP, LAYER_NONE };

/* What the input must be: any bytes, or a whole tar stream, its headers followed as they stream
 * by up to its end-of-archive (tar_check.h). */
enum layer_input { LAYER_INPUT_ANY, LAYER_INPUT_TAR };

struct layer_options {
	enum layer_compression compression;
	enum layer_input input;
	int level;   /* within layer_levels(); ignored for LAYER_NONE */
	int threads; /* zstd or gzip workers, >= 1; the output does not depend on it */
};

struct layer_result {
	char diff_id[DIGEST_STR_LEN]; /* sha256 of the uncompressed stream */
	char digest[DIGEST_STR_LEN];  /* sha256 of the compressed stream */
	uint64_t size;                /* bytes of the compressed stream */
};

/* What failed when layer_stream() returns -1: reading, writing (errno in err), the codec or the
 * input's check (the message in msg). */
struct layer_error {
	enum { LAYER_ERR_READ, LAYER_ERR_WRITE, LAYER_ERR_CODEC, LAYER_ERR_INPUT } stage;
	int err;
	char msg[192];
};

/* "zstd", "gzip", "none"; false for anything else. */
bool layer_compression_parse(const char *name, enum layer_compression *out);
const char *layer_compression_name(enum layer_compression c);
const char *layer_media_type(enum layer_compression c);
/* The levels a compression accepts and its default; min > max when it takes none. */
void layer_levels(enum layer_compression c, int *min, int *max, int *def);
/* The most zstd workers the library accepts (0 when it was built without threads); gzip takes
 * as many. */
int layer_max_threads(void);

/* {"mediaType","digest","size","diffID"} in that order. */
json_t *layer_descriptor(enum layer_compression c, const struct layer_result *r);
/* The descriptor on one line with its newline, as oci-digest prints it. Caller frees. */
char *layer_descriptor_line(enum layer_compression c, const struct layer_result *r, size_t *len);

/* Reads in_fd to its end and writes the compressed stream to out_fd, hashing both in the same
 * pass; memory stays the same whatever the length. 0, or -1 with e filled in. */
int layer_stream(int in_fd, int out_fd, const struct layer_options *o, struct layer_result *r,
                 struct layer_error *e);

#endif
