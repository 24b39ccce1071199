/* An OCI image layout on disk (image-spec "image-layout.md"): DIR/oci-layout, DIR/index.json,
 * DIR/blobs/sha256/<hex>. Tags are index.json entries annotated with
 * org.opencontainers.image.ref.name. Blobs are written under a temporary name and renamed to
 * their digest once it is known and checked; index.json is replaced atomically under a lock. */
#ifndef OCINOCO_LAYOUT_H
#define OCINOCO_LAYOUT_H

#include "blobsrc.h"
#include "registry.h"

#include <stdbool.h>

struct layout {
	char *dir;
};

/* create: make DIR, oci-layout, index.json and blobs/sha256 as needed. -1 after a message. */
int layout_open(struct layout *l, const char *dir, bool create, const char *what);
void layout_close(struct layout *l);

/* The document a tag (or, with neither, the only entry of index.json) or a digest names. */
int layout_get_manifest(struct layout *l, const char *tag, const char *digest, struct doc *d,
                        const char *what);
/* 1 present, 0 absent */
int layout_has_blob(struct layout *l, const char *digest);
int layout_get_blob(struct layout *l, const char *digest, blob_sink sink, void *ctx,
                    const char *what);
/* Stores a blob (skipped if present); src->digest is set afterwards. */
int layout_put_blob(struct layout *l, struct blob_src *src, const char *what);
/* Stores the document as a blob only (a manifest an index lists: reached through the index,
 * not listed in index.json). */
int layout_put_document(struct layout *l, const struct doc *d, const char *what);
/* Stores the document as a blob and, with a tag, points the tag at it in index.json (without,
 * lists it untagged). */
int layout_put_manifest(struct layout *l, const char *tag, const struct doc *d, const char *what);

#endif
