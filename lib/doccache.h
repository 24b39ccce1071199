/* The local cache of documents named by digest (--cache DIR, --default-cache): those oci-fetch
 * fetched by digest (a config blob, a platform's manifest picked from an index, a manifest or
 * index named REF@DIGEST), and the configs oci-put manifest pushed from local files. What a
 * digest names never changes, so a build that fetched or pushed one does not fetch it again; a
 * tag is always asked. Each document is the file DIR/blobs/sha256/HEX (HEX its digest's), its
 * bytes exactly (an OCI layout's blob path, beside oci-cache's DIR/layers/), mode 0600 in
 * directories made 0700: a config may hold what an image's environment holds.
 *
 * A cached file is used only when its bytes hash to its name, it is a regular file of at most
 * the document's limit and of the size its descriptor says (where one is known); any other is
 * ignored with a warning naming it, and fetched again (and the file replaced). Files are
 * written whole and renamed (atomic_file): builds sharing the cache never see a part. A cache
 * that cannot be written is a warning (once a run), never a failed fetch or push. Only
 * documents whose bytes were verified, never layers. */
#ifndef OCINOCO_DOCCACHE_H
#define OCINOCO_DOCCACHE_H

#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The cache directory of this run (NULL: none, the default). */
void doccache_use(const char *dir);
bool doccache_on(void);

/* The document of digest from the cache into out (appended), checked as above; size -1 when no
 * descriptor says it, max the document's limit. false: a miss (out as it was). */
bool doccache_get(const char *digest, int64_t size, size_t max, struct buf *out);

/* Stores a document whose bytes were verified against digest (a warning when it cannot). */
void doccache_put(const char *digest, const void *p, size_t n);

#endif
