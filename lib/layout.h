/* An OCI image layout on disk (image-spec "image-layout.md"): DIR/oci-layout, DIR/index.json,
 * DIR/blobs/sha256/<hex>. Tags are index.json entries annotated with
 * org.opencontainers.image.ref.name. Blobs are written under a temporary name and renamed to
 * their digest once it is known and checked; index.json is replaced atomically under a lock. */
#ifndef OCINOCO_LAYOUT_H
#define OCINOCO_LAYOUT_H

#include "blobsrc.h"
#include "doc.h"

#include <jansson.h>
#include <stdbool.h>

/* How a layout names the image put with layout_put_image. */
enum layout_naming {
	LAYOUT_NAME_TAGS,        /* an entry per tag (org.opencontainers.image.ref.name), as
	                          * skopeo's oci:DIR:TAG; a repeated tag once */
	LAYOUT_NAME_DOCKER_SAVE, /* index.json lists only the image, an entry per name with the
	                          * full name too (io.containerd.image.name), and manifest.json
	                          * names it for docker load: the layout docker save writes */
};

struct layout {
	char *dir;
	/* index.json entries this run adds, written in one rewrite (layout_put_manifest) */
	json_t *pending;
	/* digests of an index's children (layout_expect_children): their entries wait for it */
	json_t *children;
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
/* Stores the document as a blob and points the tag (NULL: none) at it in index.json. An
 * index's children (declared by layout_expect_children) are stored as blobs only: the index
 * reaches them, index.json names the index. */
int layout_put_manifest(struct layout *l, const char *tag, const struct doc *d, const char *what);
/* The digests that are about to be put as an index's children. */
void layout_expect_children(struct layout *l, const char *const *digests, size_t n);
bool layout_is_expected_child(const struct layout *l, const char *digest);
/* layout_put_manifest for an image named by full references (names[i]
 * "docker.io/library/a:1", tags[i] its tag "1"): entries named as how says (for
 * LAYOUT_NAME_DOCKER_SAVE d is an image manifest, with docker's manifest.json, or an index). */
int layout_put_image(struct layout *l, const struct doc *d, const char *const *names,
                     const char *const *tags, size_t nnames, enum layout_naming how,
                     const char *what);

#endif
