/* Making blobs and manifests present in a store before a manifest that references them is PUT:
 * HEAD what is there, upload local files, mount from repositories of the same registry, copy
 * (streamed) from other stores; anything still missing is an error, and nothing is PUT. */
#ifndef OCI_PUT_PUSH_H
#define OCI_PUT_PUSH_H

#include "blobsrc.h"
#include "store.h"

#include <jansson.h>

struct put_ctx {
	struct session *s;
	struct blob_src **files; /* local blobs (--blob FILE, FILE arguments): digests known */
	size_t nfiles;
	struct store **sources; /* mount/copy candidates, in order */
	size_t nsources;
	bool mount_local; /* also try to mount blobs there are local files of (--mount-from) */
	bool head_first;  /* HEAD blobs before mounting them (a build's new layer is there) */
	bool speculate;   /* open upload sessions for local files while they are HEADed */
};

/* Every digest present in dst as a blob; -1 after naming each one that could not be made so.
 * present (optional) gets, per digest, 1 = was there, 2 = uploaded/mounted/copied. */
int put_blobs(struct put_ctx *c, struct store *dst, const char *const *digests, size_t n);
/* The document's blobs (or, for an index, its manifests, recursively) present in dst. */
int put_document_refs(struct put_ctx *c, struct store *dst, const struct doc *d);
/* A stream that ends within this many bytes has its digest known in time to skip its upload
 * (HEAD); a longer one is sent as it comes (it would wait for its end otherwise). */
#define PUT_STREAM_SMALL (4u << 20)
/* A held stream (blobsrc_stream_held, read ahead by session_feed) into dst: the upload session
 * is opened at once (auth and POST while the stream is read); a stream that ends within
 * PUT_STREAM_SMALL bytes is then HEADed (mounted with mount_local) and, if present, not sent
 * (the session cancelled), else sent in one PUT; a longer one is sent as it comes. */
int put_stream(struct put_ctx *c, struct store *dst, struct blob_src *src);
/* The digests a manifest or index references (config and layers; or manifests). Caller frees
 * the array (the strings are owned by *json). */
const char **put_references(const struct doc *d, size_t *n, json_t **json, const char *what);

#endif
