/* The OCI distribution API of one registry: the operations the programs need (manifests and
 * blob reads in registry.c, uploads in upload.c), over the request engine below them
 * (registry_engine.h: auth, retries, redirects). One struct registry per registry host per
 * run: its connections and its token are reused by every request of the run.
 * Every function that fails prints "prog: WHAT: why" (WHAT names the reference) and returns -1. */
#ifndef OCINOCO_REGISTRY_H
#define OCINOCO_REGISTRY_H

#include "auth.h"
#include "blobsrc.h"
#include "digest.h"
#include "doc.h"
#include "http.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>

#define REGISTRY_MAX_ATTEMPTS    6 /* tries of one request (transient failures) */
#define REGISTRY_RETRY_AFTER_MAX 60

struct scope {
	char *path;
	bool push;
};

enum creds_state {
	CREDS_UNKNOWN, /* not looked up yet */
	CREDS_FOUND,
	CREDS_NONE,    /* none for this registry */
	CREDS_REFUSED, /* unusable (a broken file or helper, a control character): said */
};

struct registry {
	struct http_client *http;
	char *domain, *host;
	char *base; /* "https://host" (or "http://host" after the fallback) */
	bool insecure, scheme_known, may_use_http;
	/* auth */
	enum creds_state creds_state;
	struct creds creds;
	enum auth_scheme scheme; /* learned from the first 401 */
	char *realm, *service;
	struct scope *scopes;
	size_t nscopes;
	char *token;
	unsigned long token_gen; /* bumped for each new token */
	unsigned long tokens;    /* token requests made */
	char *auth_error;        /* why the last token request failed */
	bool token_first;        /* a hint named a Bearer realm: fetch the token before asking */
	char *hint_said;         /* the hint line last read or written (registry_hints_write) */
};

struct registry *registry_new(struct http_client *http, const char *domain, const char *host,
                              bool insecure);
void registry_free(struct registry *r);
/* Declares a repository this run will pull from (or push to) so that the first token covers
 * every scope at once. */
void registry_want(struct registry *r, const char *path, bool push);

/* GET a manifest or index by tag or digest (all four media types accepted), at most 4 MiB,
 * verified against the digest when the reference is one. */
int registry_get_manifest(struct registry *r, const char *path, const char *reference,
                          struct doc *d, const char *what);
/* What a HEAD found. */
enum head_result {
	HEAD_ABSENT,  /* 404 */
	HEAD_PRESENT, /* 2xx */
	HEAD_FAILED,  /* the HEAD failed (said; the call returns -1) */
};
/* HEADs manifests / blobs, concurrently. */
int registry_manifests_exist(struct registry *r, const char *path, const char *const *digests,
                             size_t n, enum head_result *exists, const char *what);
int registry_blobs_exist(struct registry *r, const char *path, const char *const *digests, size_t n,
                         enum head_result *exists, const char *what);
/* Cross-repository mounts, concurrently: mounted[i] = 1 on 201, else 0 (upload it then). */
void registry_mount(struct registry *r, const char *path, const char *const *digests,
                    const char *from, size_t n, int *mounted);
/* GET a blob, following redirects (no Authorization off the registry's origin), resuming with Range
 * after a dropped connection, verifying the digest; bytes go to sink as they come. */
int registry_get_blob(struct registry *r, const char *path, const char *digest, blob_sink sink,
                      void *ctx, const char *what);
/* Uploads a blob. A source whose digest is known and that is at most BLOBSRC_RING bytes goes
 * in one PUT; otherwise POST, one PATCH with all of it, PUT ?digest=. The digest is in
 * src->digest afterwards. */
int registry_put_blob(struct registry *r, const char *path, struct blob_src *src, const char *what);
/* An upload session (POST /blobs/uploads/), opened before its bytes are all known. */
struct upload {
	char *loc;          /* where its bytes go (Location) */
	uint64_t min_chunk; /* OCI-Chunk-Min-Length */
};
int registry_upload_open(struct registry *r, const char *path, struct upload *u, const char *what);
/* registry_put_blob on the open session (which it takes over: a restart opens a new one). */
int registry_upload(struct registry *r, const char *path, struct upload *u, struct blob_src *src,
                    const char *what);
/* DELETE on the session (nothing needed it after all); errors do not matter. */
void registry_upload_cancel(struct registry *r, struct upload *u);

/* Blob requests that do not depend on each other, run at once (one round trip):
 *   BLOB_HEAD   result 1 present, 0 absent, -1 error (said)
 *   BLOB_MOUNT  from a repository of this registry: result 1 mounted, else 0 (a 202 opens an
 *               upload instead: upload it then)
 *   BLOB_OPEN   an upload session into *up: result 0, else -1 (not said: the upload that
 *               follows without it says what fails)
 *   BLOB_PUT    src (a file, digest known, at most BLOBSRC_RING bytes) in one PUT on *up, which
 *               it closes: result 0, else -1 (not said, not retried: registry_upload then); a
 *               larger blob is not sent, and *up stays open for registry_upload
 *   BLOB_CANCEL DELETE *up, which it closes; errors do not matter
 *   BLOB_POST   the single-request upload: src (a file, digest known, at most BLOB_POST_MAX
 *               bytes) as the body of POST ?digest=: result 1 uploaded (201); 0 the registry
 *               opened a session into *up instead (202 with a Location: BLOB_PUT it there);
 *               -1 refused (404, 405, any other answer; not said: upload it otherwise)
 *   BLOB_TAG    HEAD of the manifest tagged `from`: result 1 when it is the manifest
 *               `digest` (Docker-Content-Digest), else 0 (absent, another one, an error; a
 *               NULL `digest`: not known yet, result 0); the tag's digest in `tagged` (a
 *               sha256 digest, else "": absent, an error, a digest of another form); `absent`
 *               when the registry answered 404 (the tag names no manifest) */
/* The largest body a single-request upload sends: a registry that answers it with a session
 * (CNCF distribution ignores the body and answers 202) has it sent again by the PUT, so what it
 * may cost is bounded by what one round trip is worth. */
#define BLOB_POST_MAX (256u << 10)
enum blob_op_kind { BLOB_HEAD, BLOB_MOUNT, BLOB_OPEN, BLOB_PUT, BLOB_CANCEL, BLOB_POST, BLOB_TAG };
struct blob_op {
	enum blob_op_kind kind;
	const char *digest;   /* HEAD, MOUNT, PUT, TAG */
	const char *from;     /* MOUNT: the repository; TAG: the tag */
	struct blob_src *src; /* PUT, POST */
	struct upload *up;    /* OPEN, PUT, CANCEL, POST */
	int result;
	char tagged[DIGEST_STR_LEN]; /* TAG: the manifest the tag names now, or "" */
	bool absent;                 /* TAG: answered 404 */
	void *ctx;                   /* the caller's: what the operation is for */
};
void registry_blob_batch(struct registry *r, const char *path, struct blob_op *ops, size_t n,
                         const char *what);
/* PUT a manifest under a tag or its digest with its media type; 0 and digest set. */
int registry_put_manifest(struct registry *r, const char *path, const char *reference,
                          const struct doc *d, const char *what);

#endif
