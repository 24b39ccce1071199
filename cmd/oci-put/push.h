/* Making blobs and manifests present in a store before a manifest that references them is PUT:
 * HEAD what is there, upload local files, mount from repositories of the same registry, copy
 * (streamed) from other stores; anything still missing is an error, and nothing is PUT. */
#ifndef OCI_PUT_PUSH_H
#define OCI_PUT_PUSH_H

#include "blobsrc.h"
#include "store.h"

#include <jansson.h>

/* A tag about to be pointed at a manifest: HEADed with the first round of blob requests in
 * its repository, or before the manifest is known (asked: a manifest read from stdin); one
 * that points at the manifest already is not PUT again. */
struct tag_check {
	struct store *repo; /* the store whose put_blobs HEADs it (same repository) */
	const char *tag;
	bool there;                  /* the tag is the manifest already (then so are its blobs) */
	bool asked;                  /* HEADed already: its answer in `tagged`, not asked again */
	char tagged[DIGEST_STR_LEN]; /* asked: the manifest it named then, or "" */
	bool absent;                 /* asked: it named none (404) */
};

/* What was made in dst while the manifest was awaited (put_early), for put_blobs there: the
 * blobs known present (no HEAD), and an upload session for each local file (files[i]), taken
 * over by the blob that is the file (no HEAD: PUT at once) or cancelled by put_early_end. */
struct early_put {
	const struct store *dst;
	char **present; /* mounted (201) */
	size_t npresent;
	struct upload *ups; /* one a file; loc NULL: none, or taken */
	size_t nups;
};

struct put_ctx {
	struct session *s;
	struct blob_src **files; /* local blobs (--blob FILE, FILE arguments): digests known */
	size_t nfiles;
	struct store **sources; /* mount/copy candidates, in order */
	size_t nsources;
	bool mount_local; /* also try to mount blobs there are local files of (--mount-from) */
	bool head_first;  /* HEAD blobs before mounting them (a build's new layer is there) */
	bool speculate;   /* open upload sessions for local files while they are HEADed */
	size_t documents; /* the documents an index walk has reached (put_document_refs) */
	struct tag_check *tags; /* HEADed in the first round of their repository's blobs */
	size_t ntags;
	const char *manifest; /* the digest the tags are checked against */
	bool missing;         /* a blob was in neither dst nor any source (EXIT_MISSING) */
	bool if_not_empty; /* put_stream: a stream that ends empty is not sent (--if-not-empty) */
	int hold_fd;       /* put_stream: --hold's answer read from it first (hold.h), or -1 */
	const char *hold;  /* its name */
	bool dropped;      /* put_stream: --hold said drop: nothing was sent */
	struct early_put *early; /* or NULL */
};

/* oci-put manifest's exit status when a blob the document names is in neither DEST nor any
 * source (EX_NOINPUT): what ocinoco build, which trusted its cache, makes the layer again on. */
#define EXIT_MISSING 66

/* Bounds of an index walk, which a registry serving an endless chain or an enormous tree cannot
 * move: documents nest at most this many levels (the one given is level 1; real images: an
 * index of manifests, 2), and one walk reaches at most this many documents. */
#define PUT_MAX_LEVELS    4
#define PUT_MAX_DOCUMENTS 10000

/* Every digest present in dst as a blob, in rounds whose requests go at once (HEADs, mounts,
 * upload sessions; PUTs of small files, more mounts; then one by one the rest: larger files,
 * other sources' mounts, copies); -1 after naming each one that could not be made so. */
int put_blobs(struct put_ctx *c, struct store *dst, const char *const *digests, size_t n);
/* The document's blobs (or, for an index, its manifests with theirs, each manifest PUT by
 * digest once its references are there) present in dst; within PUT_MAX_LEVELS and
 * PUT_MAX_DOCUMENTS, else an error naming the index. */
int put_document_refs(struct put_ctx *c, struct store *dst, const struct doc *d);
/* A stream that ends within this many bytes has its digest known in time to skip its upload
 * (HEAD); a longer one is sent as it comes (it would wait for its end otherwise). */
#define PUT_STREAM_SMALL (4u << 20)
/* A stream that ends within this many bytes is sent (one PUT on its session) without a HEAD
 * first: the HEAD would cost the same round trip as sending it. */
#define PUT_STREAM_TINY (256u << 10)
/* A held stream (blobsrc_stream_held, read ahead by session_feed) into dst: the upload session
 * is opened at once (auth and POST while the stream is read); a stream that ends within
 * PUT_STREAM_SMALL bytes (and more than PUT_STREAM_TINY) is then HEADed (mounted with
 * mount_local) and, if present, not sent (the session cancelled), else sent in one PUT; a
 * longer one is sent as it comes. With if_not_empty, a stream that ends empty sends nothing: its
 * session is cancelled (DELETE), and 0 is returned. With hold_fd, nothing is sent (the stream
 * read ahead within its buffer) until --hold answers; drop: the session is cancelled, 0 is
 * returned and dropped set. */
int put_stream(struct put_ctx *c, struct store *dst, struct blob_src *src);
/* A manifest certain to be PUT in dst (its tag absent), still awaited: the layers of the base
 * (the first source dst can mount from, fetched by the reference it was given; an image
 * manifest, else nothing is mounted) mounted into dst, and nups upload sessions opened there
 * for the local files to come, in one round; what it made in *e. Nothing fails: what it could
 * not make is left to put_blobs' rounds. */
#define PUT_EARLY_MAX_LAYERS 256
void put_early(struct put_ctx *c, struct store *dst, size_t nups, struct early_put *e);
/* The sessions put_blobs did not take, cancelled; *e freed. */
void put_early_end(struct early_put *e, struct store *dst);
/* The digests a manifest or index references (config and layers; or manifests). Caller frees
 * the array (the strings are owned by *json). */
const char **put_references(const struct doc *d, size_t *n, json_t **json, const char *what);

#endif
