/* The documents of an image a store holds, fetched by digest through the document cache
 * (doccache.h: a registry's, when the cache is on; a layout's are on disk already): a manifest
 * or index, an image's config. Shared by oci-fetch and oci-put (a build's previous image). */
#ifndef OCINOCO_DOCFETCH_H
#define OCINOCO_DOCFETCH_H

#include "oci.h"
#include "store.h"

#include <jansson.h>

/* The config blob of an image manifest, verified, at most DOCUMENT_MAX_BYTES, appended to
 * config; -1 after a message naming name. */
int docfetch_config(struct store *st, const struct doc *manifest, struct buf *config,
                    const char *name);

/* The manifest or index a descriptor names (an index's entry), or with desc NULL the one the
 * store's reference names (a tag is always asked). -1 after a message. */
int docfetch_manifest(struct store *st, const json_t *desc, struct doc *d);

#endif
