/* What an image is made of, as the programs hold it: a document (a manifest or an index) is
 * held whole, exactly its bytes; a blob streams through a sink as it comes. Every store (a
 * registry, a layout) serves both in these shapes. */
#ifndef OCINOCO_DOC_H
#define OCINOCO_DOC_H

#include "digest.h"
#include "util.h"

#include <stddef.h>

/* A manifest or index as served: exactly its bytes, their digest, its media type. */
struct doc {
	struct buf data;
	char digest[DIGEST_STR_LEN];
	char *media_type;
};
void doc_free(struct doc *d);
/* Fills digest and media type from data (mediaType member, else the shape, else fallback);
 * -1 with a reason in err if it is not a JSON object. */
int doc_identify(struct doc *d, const char *fallback_type, char *err, size_t errlen);

/* Where a blob's bytes go as they come: 0 ok, -1 stop. */
typedef int (*blob_sink)(const char *p, size_t n, void *ctx);

#endif
