/* OCI and Docker media types, descriptors and JSON documents shared by the programs. */
#ifndef OCINOCO_OCI_H
#define OCINOCO_OCI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define MT_OCI_MANIFEST     "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX        "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG       "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER        "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP   "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD   "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_OCI_NONDIST      "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define MT_OCI_NONDIST_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define MT_OCI_NONDIST_ZSTD "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

#define MT_DOCKER_MANIFEST   "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST       "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG     "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
/* Docker's uncompressed layer (containers/image knows it; rare in the wild). */
#define MT_DOCKER_LAYER        "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_FOREIGN      "application/vnd.docker.image.rootfs.foreign.diff.tar"
#define MT_DOCKER_FOREIGN_GZIP "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

#define ANNOTATION_BASE_NAME   "org.opencontainers.image.base.name"
#define ANNOTATION_BASE_DIGEST "org.opencontainers.image.base.digest"
#define ANNOTATION_REF_NAME    "org.opencontainers.image.ref.name"
#define ANNOTATION_CREATED     "org.opencontainers.image.created"
#define ANNOTATION_SOURCE      "org.opencontainers.image.source"
#define ANNOTATION_REVISION    "org.opencontainers.image.revision"
#define ANNOTATION_VERSION     "org.opencontainers.image.version"
/* The full image name in an OCI layout docker save writes (containerd's image store). */
#define ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"

/* Manifests and indexes larger than this are refused (the distribution spec's 4 MiB). */
#define MANIFEST_MAX_BYTES (4u << 20)
/* Configs carry the whole history, so they may be larger than a manifest, but stay bounded;
 * so do the other documents a program reads whole (an exclude file). */
#define DOCUMENT_MAX_BYTES (64u << 20)

/* Parses JSON from bytes; on failure returns NULL and writes "line L column C: text" to err. */
json_t *json_parse(const char *data, size_t len, char *err, size_t errlen);

/* Serialises compactly, keys in the order they were inserted or parsed (jansson keeps it), so
 * the same document always gives the same bytes. Caller frees. */
char *json_serialise(const json_t *doc, size_t *len);

/* A descriptor {"mediaType","digest","size",...}: checks the three required members (sha256
 * digest, non-negative size); false with a reason in err otherwise. */
bool descriptor_check(const json_t *desc, char *err, size_t errlen);
const char *descriptor_media_type(const json_t *desc);
const char *descriptor_digest(const json_t *desc);
int64_t descriptor_size(const json_t *desc);

/* The "mediaType" of a manifest or index document, falling back to its shape when the member is
 * missing (Docker schema 2 always has it; an OCI manifest may omit it). NULL if neither. */
const char *manifest_media_type(const json_t *doc);
bool media_type_is_index(const char *mt);
bool media_type_is_manifest(const char *mt);

#endif
