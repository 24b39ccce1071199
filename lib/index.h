/* Image indexes: which entries are images for a real platform, which of those a selection of
 * platforms takes, and a new index made of image manifests. The one home of that knowledge:
 * oci-fetch picks and lists platforms through here, oci-index builds indexes through here.
 * Pure (no I/O), so the unit tests drive it. */
#ifndef OCINOCO_INDEX_H
#define OCINOCO_INDEX_H

#include "digest.h"
#include "platform.h"
#include "util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The buildx attestation manifests' annotation ("attestation-manifest"). */
#define ANNOTATION_DOCKER_REFERENCE_TYPE "vnd.docker.reference.type"

enum index_entry_kind {
	INDEX_ENTRY_IMAGE,   /* an image manifest for a real platform */
	INDEX_ENTRY_INDEX,   /* a nested index */
	INDEX_ENTRY_SKIPPED, /* not an image for a platform: an attestation (buildx's
	                      * unknown/unknown with vnd.docker.reference.type), an artifact
	                      * (artifactType), an entry with no or an unknown platform */
};

/* What an entry of an index's "manifests" is; for an image, its platform (normalised) in p. */
enum index_entry_kind index_entry_kind(const json_t *entry, struct platform *p);

/* The index's image entries as "linux/amd64, linux/arm64/v8" (sep between them), appended to
 * out; "no platforms" when there are none. */
void index_platforms(const json_t *index, const char *sep, struct buf *out);

/* An entry a selection takes. */
struct index_pick {
	size_t pos;          /* its place in manifests[] */
	const json_t *entry; /* borrowed from the index */
	struct platform platform;
};

/* A selection: "all", or one or more OS/ARCH[/VARIANT] separated by commas. false with the
 * reason when one is malformed (a usage error). */
bool index_selection_check(const char *selection, char *err, size_t errlen);

/* The entries a selection takes, in the index's order (the selection's order does not
 * matter; a platform listed twice is taken once). "all" takes every image entry. false with
 * the reason in err: the document is not an index, a listed platform the index lacks (the
 * message names it and lists those the index has), a nested index (not descended into: the
 * message says which), no image entry at all. Caller frees *picks. */
bool index_select(const json_t *index, const char *selection, struct index_pick **picks, size_t *n,
                  char *err, size_t errlen);

/* A manifest to list in a new index. */
struct index_child {
	char digest[DIGEST_STR_LEN]; /* of the manifest's bytes */
	int64_t size;
	const char *media_type; /* the manifest's mediaType */
	const json_t *platform; /* the entry's platform object, copied as it is */
	const char *what;       /* names the child in messages (a file name) */
};

/* The platform object of an image, from its config: architecture, os, os.version, os.features
 * and variant, as the config has them (the image-spec's order). NULL when the config names no
 * os or architecture. */
json_t *index_platform_of_config(const json_t *config);

/* A new index of the children, in the order given: a Docker manifest list when every child is
 * a Docker schema 2 manifest, an OCI index when every child is an OCI manifest (a mix is
 * refused: registries refuse an OCI index of Docker manifests, and a Docker list cannot hold
 * OCI ones). Annotations: base_name and base_digest (each when not NULL) as
 * org.opencontainers.image.base.*, then "K=V" strings in order (a later K replaces). false
 * with err when the children mix families, two have the same platform, or one has no
 * platform. */
json_t *index_build(const struct index_child *children, size_t n, const char *base_name,
                    const char *base_digest, const char *const *annotations, size_t nannotations,
                    char *err, size_t errlen);

#endif
