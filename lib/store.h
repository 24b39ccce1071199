/* A place images live: a registry repository or an OCI image layout, behind the same
 * operations, so that oci-fetch and oci-put treat "oci:DIR" and "host/repo" alike.
 * A session holds what one run shares: the HTTP connections and one struct registry (one
 * token) per registry host. Open every store of the run first (that declares the token
 * scopes: pull, push, and mount sources together), then work. */
#ifndef OCINOCO_STORE_H
#define OCINOCO_STORE_H

#include "blobsrc.h"
#include "http.h"
#include "layout.h"
#include "ref.h"
#include "registry.h"

#include <stdbool.h>

struct session {
	struct http_client http;
	bool insecure;
	struct registry **regs;
	size_t nregs;
	struct session *side; /* the source side of streamed copies (its own thread) */
};

struct store {
	char *name; /* as the user wrote it: every message names it */
	struct ref ref;
	struct registry *reg; /* REF_REGISTRY (owned by the session) */
	struct layout lay;    /* REF_LAYOUT */
	bool push;
	/* store_name_image: the image's full names and their tags, how the layout names it */
	char **names, **tags;
	size_t nnames;
	enum layout_naming naming;
};

void session_init(struct session *s, const struct http_opts *o, bool insecure);
/* Reads a held stream ahead while the session's requests are in flight (NULL: none); returns
 * the feed it replaces. */
struct http_feed session_feed(struct session *s, struct blob_src *src);
/* With -v: the run's requests, new connections and token requests per registry. */
void session_end(struct session *s);

/* Parses a reference: -1 with the reason in err (a usage error). */
int store_parse(struct store *st, const char *name, char *err, size_t errlen);
/* Attaches to the session: for a registry declares pull (and push) on the repository; for a
 * layout opens it (creating it when push). -1 after a message. */
int store_attach(struct session *s, struct store *st, bool push);
void store_close(struct store *st);

bool store_is_layout(const struct store *st);
/* Same registry: a cross-repository mount can work. */
bool store_same_registry(const struct store *a, const struct store *b);

/* A layout DEST (oci:DIR, no tag) names the image it is given by the references (each
 * normalised: "alpine" is docker.io/library/alpine:latest), as how says: its untagged
 * store_put_manifest (not an index's child) is then layout_put_image. -1 with the reason in
 * err (a usage error): not a layout, a tag in DEST, a reference that is not an image's with a
 * tag. */
int store_name_image(struct store *st, const char *const *refs, size_t n, enum layout_naming how,
                     char *err, size_t errlen);

/* reference: a tag or digest (NULL: the one the store's reference names). */
int store_get_manifest(struct store *st, const char *reference, struct doc *d);
/* Asked for an index's children before they are put: a layout writes their index.json entries
 * with the index's, in one rewrite. */
int store_manifests_exist(struct store *st, const char *const *digests, size_t n,
                          enum head_result *exists);
int store_blobs_exist(struct store *st, const char *const *digests, size_t n,
                      enum head_result *exists);
int store_get_blob(struct store *st, const char *digest, blob_sink sink, void *ctx);
int store_put_blob(struct store *st, struct blob_src *src);
/* An upload session opened before the blob's bytes are all there (a registry: POST; a layout:
 * nothing), then the upload on it (which takes it over), or its cancellation. */
int store_upload_open(struct store *st, struct upload *u);
int store_upload(struct store *st, struct upload *u, struct blob_src *src);
void store_upload_cancel(struct store *st, struct upload *u);
/* registry_blob_batch (a layout: HEAD looks, nothing is mounted, sessions are empty, a PUT is
 * left to store_upload). */
void store_blob_batch(struct store *st, struct blob_op *ops, size_t n);
/* Mounts blobs from another repository of the same registry; mounted[i] = 1 or 0. */
void store_mount(struct store *dst, const struct store *from, const char *const *digests, size_t n,
                 int *mounted);
/* Copies a blob from one store to another, streamed (never on disk), verified. */
int store_copy_blob(struct session *s, struct store *dst, struct store *from, const char *digest);
/* reference: a tag, or NULL to store it by digest only. */
int store_put_manifest(struct store *st, const char *reference, const struct doc *d);

#endif
