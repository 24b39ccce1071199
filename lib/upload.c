/* Blob uploads (distribution spec "Pushing blobs"): one PUT for what fits the buffer, else
 * POST, one PATCH with everything, PUT ?digest=; resumed or restarted after a failure, and
 * chunks of OCI-Chunk-Min-Length for a registry that refuses the single PATCH. */
#include "oci.h"
#include "registry.h"
#include "registry_engine.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct patch_body {
	struct blob_src *src;
	uint64_t start, pos, limit; /* limit: the offset after the last byte to send */
	bool read_error;
};

/* A request sent again (after a 401: a token expired while a stream was being made) sends its
 * body from the start again. */
static void patch_restart(struct rreq *q)
{
	struct patch_body *b = q->ctx;
	b->pos = b->start;
}

static size_t patch_read(char *p, size_t n, void *ctx)
{
	struct patch_body *b = ctx;
	if (b->pos >= b->limit)
		return 0;
	if (n > b->limit - b->pos)
		n = (size_t)(b->limit - b->pos);
	ssize_t r = blobsrc_read(b->src, b->pos, p, n);
	if (r < 0) {
		b->read_error = true;
		return CURL_READFUNC_ABORT;
	}
	b->pos += (uint64_t)r;
	return (size_t)r;
}

static char *newest_location(const struct rreq *q, const char *old)
{
	const char *l = http_header(&q->x, "Location");
	char *n = l ? url_resolve(q->x.reached, l) : NULL;
	return n ? n : xstrdup(old);
}

/* The session a POST opened (its Location, resolved, and OCI-Chunk-Min-Length): 0, or -1. */
static int session_from(const struct rreq *q, struct upload *u)
{
	const char *l = http_header(&q->x, "Location");
	if (!rreq_ok(q) || l == NULL || (u->loc = url_resolve(q->x.reached, l)) == NULL)
		return -1;
	const char *m = http_header(&q->x, "OCI-Chunk-Min-Length");
	uint64_t v;
	u->min_chunk = m && parse_u64(m, UINT64_MAX, &v) ? v : 0;
	return 0;
}

static void session_close(struct upload *u)
{
	free(u->loc);
	*u = (struct upload){0};
}

/* POST /v2/PATH/blobs/uploads/: a new session in *u. */
static int upload_open(struct registry *r, const char *path, struct upload *u, const char *what)
{
	char *url = xasprintf("/v2/%s/blobs/uploads/", path);
	struct rreq q, *qp = &q;
	rreq_init(&q, "POST", url);
	free(url);
	*u = (struct upload){0};
	registry_run(r, &qp, 1);
	int ret = -1;
	if (!rreq_ok(&q))
		registry_fail(r, &q, what, "POST blob upload");
	else if (session_from(&q, u) < 0)
		warnx("%s: POST blob upload: HTTP %ld without a usable Location", what, q.x.status);
	else
		ret = 0;
	rreq_free(&q);
	return ret;
}

static char *with_digest(const char *loc, const char *digest)
{
	return xasprintf("%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?', digest);
}

enum outcome { SENT, TRANSIENT, TOO_LARGE, PERMANENT };

static enum outcome classify(const struct rreq *q, const struct patch_body *b)
{
	if (b && b->read_error)
		return PERMANENT;
	if (q->x.result != CURLE_OK)
		return registry_transient_curl(q->x.result) ? TRANSIENT : PERMANENT;
	if (q->x.status >= 200 && q->x.status < 300)
		return SENT;
	if (q->x.status == 413 || q->x.status == 416)
		return TOO_LARGE;
	return registry_transient_status(q->x.status) ? TRANSIENT : PERMANENT;
}

/* How a range of the blob goes: a PATCH (with a Content-Range: one chunk of several), or the
 * PUT ?digest= that completes the upload. */
enum send_kind { SEND_PATCH, SEND_PATCH_CHUNK, SEND_PUT_DIGEST };

/* Sends [off, end) of src in one request (end UINT64_MAX: to its end, however long). */
static enum outcome send_range(struct registry *r, char **loc, struct blob_src *src, uint64_t off,
                               uint64_t end, enum send_kind kind, char **why)
{
	bool final = kind == SEND_PUT_DIGEST;
	char *url = final ? with_digest(*loc, src->digest) : xstrdup(*loc);
	struct rreq q, *qp = &q;
	rreq_init(&q, final ? "PUT" : "PATCH", url);
	free(url);
	q.once = true;
	struct patch_body b = {.src = src, .start = off, .pos = off, .limit = end};
	q.prepare = patch_restart;
	q.ctx = &b;
	q.x.has_body = true;
	q.x.read_cb = patch_read;
	q.x.read_ctx = &b;
	bool known = src->seekable || src->eof || end != UINT64_MAX;
	if (known && end == UINT64_MAX)
		b.limit = end = src->size;
	q.x.body_size = known ? (int64_t)(end - off) : -1;
	http_xfer_add_header(&q.x, "Content-Type: application/octet-stream");
	if (kind == SEND_PATCH_CHUNK && end > off)
		http_xfer_add_header(&q.x, "Content-Range: %" PRIu64 "-%" PRIu64, off, end - 1);
	registry_run(r, &qp, 1);
	enum outcome o = classify(&q, &b);
	if (o == SENT) {
		char *n = newest_location(&q, *loc);
		free(*loc);
		*loc = n;
	} else if (b.read_error && src->error == EBADMSG) {
		*why = xasprintf("digest mismatch: the bytes hash to %s, not %s", src->digest,
		                 src->expect);
	} else if (b.read_error) {
		*why = xasprintf("reading %s: %s", src->name, strerror(src->error));
	} else {
		*why = registry_error_text(r, &q);
	}
	rreq_free(&q);
	return o;
}

/* Where the registry says the upload stands (GET on the upload URL: Range 0-N). */
static int upload_status(struct registry *r, char **loc, uint64_t *next)
{
	struct rreq q, *qp = &q;
	rreq_init(&q, "GET", *loc);
	registry_run(r, &qp, 1);
	int ret = -1;
	if (rreq_ok(&q)) {
		const char *range = http_header(&q.x, "Range");
		uint64_t a = 0, b = 0;
		*next = 0;
		if (range && sscanf(range, "%*[bytes=]%" SCNu64 "-%" SCNu64, &a, &b) == 2 && b > 0)
			*next = b + 1;
		else if (range && sscanf(range, "%" SCNu64 "-%" SCNu64, &a, &b) == 2 && b > 0)
			*next = b + 1;
		char *n = newest_location(&q, *loc);
		free(*loc);
		*loc = n;
		ret = 0;
	}
	rreq_free(&q);
	return ret;
}

/* A cancellation is best effort: a registry that hands out tokens wants a "delete" scope for
 * it, which no token of ours has (a 401, and another token for nothing), so there it is not
 * sent (the registry expires the session); elsewhere it is sent once, its 401 not answered. */
static bool cancel_request(struct registry *r, struct rreq *q, const char *loc)
{
	if (r->scheme == SCHEME_BEARER)
		return false;
	rreq_init(q, "DELETE", loc);
	q->once = true;
	q->auth_tries = 2;
	return true;
}

static void cancel_upload(struct registry *r, const char *loc)
{
	struct rreq q, *qp = &q;
	if (!cancel_request(r, &q, loc))
		return;
	registry_run(r, &qp, 1);
	rreq_free(&q);
}

int registry_upload_open(struct registry *r, const char *path, struct upload *u, const char *what)
{
	return upload_open(r, path, u, what);
}

void registry_upload_cancel(struct registry *r, struct upload *u)
{
	if (u->loc)
		cancel_upload(r, u->loc);
	session_close(u);
}

/* The whole of a file as the body, sent once (a failure: the caller uploads otherwise). */
static void body_from_file(struct rreq *q, const struct blob_src *src)
{
	q->once = true;
	q->x.has_body = true;
	q->x.body_fd = src->fd;
	q->x.body_off = 0;
	q->x.body_size = (int64_t)src->size;
	http_xfer_add_header(&q->x, "Content-Type: application/octet-stream");
}

/* The request of one batch operation in q; false if it is not sent (see registry.h). */
static bool batch_request(struct registry *r, const char *path, struct blob_op *op, struct rreq *q)
{
	char *url = NULL, *f;
	op->result = -1;
	switch (op->kind) {
	case BLOB_HEAD:
		url = xasprintf("/v2/%s/blobs/%s", path, op->digest);
		rreq_init(q, "HEAD", url);
		break;
	case BLOB_MOUNT:
		f = registry_escape(op->from);
		url = xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", path, op->digest, f);
		free(f);
		rreq_init(q, "POST", url);
		break;
	case BLOB_OPEN:
		*op->up = (struct upload){0};
		url = xasprintf("/v2/%s/blobs/uploads/", path);
		rreq_init(q, "POST", url);
		break;
	case BLOB_POST:
		*op->up = (struct upload){0};
		if (!op->src->seekable || op->src->size > BLOB_POST_MAX || !op->src->digest[0])
			return false;
		url = xasprintf("/v2/%s/blobs/uploads/?digest=%s", path, op->src->digest);
		rreq_init(q, "POST", url);
		body_from_file(q, op->src);
		break;
	case BLOB_PUT:
		if (op->up->loc == NULL || !op->src->seekable || op->src->size > BLOBSRC_RING)
			return false;
		url = with_digest(op->up->loc, op->src->digest);
		rreq_init(q, "PUT", url);
		body_from_file(q, op->src);
		break;
	case BLOB_TAG:
		url = xasprintf("/v2/%s/manifests/%s", path, op->from);
		rreq_init(q, "HEAD", url);
		http_xfer_add_header(&q->x, "Accept: " MT_OCI_INDEX ", " MT_OCI_MANIFEST
		                            ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST);
		break;
	case BLOB_CANCEL:
		if (op->up->loc == NULL || !cancel_request(r, q, op->up->loc)) {
			op->result = 0;
			session_close(op->up);
			return false;
		}
		break;
	}
	free(url);
	return true;
}

/* A single-request upload's answer: 1 uploaded, 0 a session to PUT on, -1 refused. */
static int post_result(struct registry *r, const struct rreq *q, struct blob_op *op,
                       const char *what)
{
	if (q->x.result == CURLE_OK && q->x.status == 201)
		return 1;
	if (q->x.result == CURLE_OK && q->x.status == 202 && session_from(q, op->up) == 0)
		return 0;
	if (r->http->opts.verbose) {
		char *why = registry_error_text(r, q);
		http_trace("%s: POST ?digest=%s: %s; uploading with POST and PUT", what, op->digest,
		           why);
		free(why);
	}
	return -1;
}

/* op->result from the answer to its request. */
static void batch_result(struct registry *r, struct blob_op *op, const struct rreq *q,
                         const char *what)
{
	switch (op->kind) {
	case BLOB_HEAD:
		if (rreq_ok(q)) {
			op->result = 1;
		} else if (q->x.result == CURLE_OK && q->x.status == 404) {
			op->result = 0;
		} else {
			char *doing = xasprintf("HEAD %s", op->digest);
			registry_fail(r, q, what, doing);
			free(doing);
		}
		break;
	case BLOB_MOUNT:
		op->result = q->x.result == CURLE_OK && q->x.status == 201;
		break;
	case BLOB_OPEN:
		op->result = session_from(q, op->up);
		break;
	case BLOB_PUT:
		op->result = rreq_ok(q) ? 0 : -1;
		if (op->result < 0 && r->http->opts.verbose) {
			char *why = registry_error_text(r, q);
			http_trace("%s: PUT %s: %s; again from the start", what, op->digest, why);
			free(why);
		}
		session_close(op->up);
		break;
	case BLOB_CANCEL:
		op->result = 0;
		session_close(op->up);
		break;
	case BLOB_POST:
		op->result = post_result(r, q, op, what);
		break;
	case BLOB_TAG: {
		const char *dcd = rreq_ok(q) ? http_header(&q->x, "Docker-Content-Digest") : NULL;
		op->tagged[0] = '\0';
		if (dcd && digest_is_sha256(dcd))
			memcpy(op->tagged, dcd, DIGEST_STR_LEN);
		op->result = op->digest && op->tagged[0] && strcmp(op->tagged, op->digest) == 0;
		op->absent = q->x.result == CURLE_OK && q->x.status == 404;
		break;
	}
	}
}

void registry_blob_batch(struct registry *r, const char *path, struct blob_op *ops, size_t n,
                         const char *what)
{
	if (n == 0)
		return;
	struct rreq *qs = xcalloc(n, sizeof *qs);
	struct rreq **qp = xcalloc(n, sizeof *qp);
	struct blob_op **sent = xcalloc(n, sizeof *sent);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (batch_request(r, path, &ops[i], &qs[m])) {
			sent[m] = &ops[i];
			qp[m] = &qs[m];
			m++;
		}
	registry_run(r, qp, m);
	for (size_t k = 0; k < m; k++) {
		batch_result(r, sent[k], &qs[k], what);
		rreq_free(&qs[k]);
	}
	free(sent);
	free(qs);
	free(qp);
}

int registry_put_blob(struct registry *r, const char *path, struct blob_src *src, const char *what)
{
	return registry_upload(r, path, NULL, src, what);
}

/* ---- the upload state machine ---- */

/* Where an upload stands: its session (opened, or taken over), how it sends, what failed. */
enum upload_state {
	UP_OPEN,      /* open a session (again: a restart from byte 0) */
	UP_PUT_WHOLE, /* all of a small blob whose digest is known in one PUT ?digest= */
	UP_SEND,      /* the next PATCH: everything, or one chunk */
	UP_RESUME,    /* a PATCH failed: where the registry says the upload stands */
	UP_COMPLETE,  /* all sent: PUT ?digest= */
	UP_DONE,
	UP_FAILED, /* said */
};

struct upload_run {
	struct registry *r;
	const char *path, *what;
	struct blob_src *src;
	bool whole;      /* UP_PUT_WHOLE rather than PATCHes */
	struct upload s; /* the session: its newest Location, its OCI-Chunk-Min-Length */
	uint64_t chunk;  /* 0: one PATCH with everything */
	uint64_t off;    /* the next byte to send */
	int restarts, resumes;
	char *why; /* why the last request failed */
};

static void forget_why(struct upload_run *u)
{
	free(u->why);
	u->why = NULL;
}

static enum upload_state failed(struct upload_run *u, const char *doing)
{
	warnx("%s: %s %s: %s", u->what, doing, u->src->name, u->why);
	return UP_FAILED;
}

/* Where sending starts once a session is open. */
static enum upload_state opened(struct upload_run *u)
{
	u->off = 0;
	return u->whole ? UP_PUT_WHOLE : UP_SEND;
}

static enum upload_state restart(struct upload_run *u)
{
	forget_why(u);
	u->restarts++;
	return UP_OPEN;
}

static enum upload_state open_session(struct upload_run *u)
{
	session_close(&u->s);
	if (u->restarts > 0) {
		if (u->r->http->opts.verbose)
			http_trace("%s: restarting the upload from byte 0", u->what);
		registry_sleep(registry_backoff(u->restarts));
	}
	if (upload_open(u->r, u->path, &u->s, u->what) < 0)
		return UP_FAILED;
	return opened(u);
}

static enum upload_state put_whole(struct upload_run *u)
{
	enum outcome o =
	        send_range(u->r, &u->s.loc, u->src, 0, u->src->size, SEND_PUT_DIGEST, &u->why);
	if (o == SENT)
		return UP_DONE;
	if (o == TRANSIENT && u->restarts + 1 < REGISTRY_MAX_ATTEMPTS)
		return restart(u);
	return failed(u, "uploading");
}

/* A registry that wants chunks: of OCI-Chunk-Min-Length, capped by the buffer so that each can
 * be sent again; the session is cancelled and a new one opened. */
static enum upload_state in_chunks(struct upload_run *u)
{
	struct blob_src *src = u->src;
	u->chunk = u->s.min_chunk > (8u << 20) ? u->s.min_chunk : (8u << 20);
	if (u->chunk > src->cap && !src->seekable)
		u->chunk = src->cap;
	if (u->r->http->opts.verbose)
		http_trace("%s: %s; uploading in chunks of %" PRIu64 " bytes", u->what, u->why,
		           u->chunk);
	cancel_upload(u->r, u->s.loc);
	return restart(u);
}

static enum upload_state send_next(struct upload_run *u)
{
	struct blob_src *src = u->src;
	uint64_t end = UINT64_MAX;
	if (u->chunk) {
		if (blobsrc_fill(src, u->off + u->chunk) < 0) {
			warnx("%s: reading %s: %s", u->what, src->name, strerror(errno));
			return UP_FAILED;
		}
		end = src->seekable ? src->size : src->end;
		if (end > u->off + u->chunk)
			end = u->off + u->chunk;
		if (end == u->off && (src->seekable || src->eof))
			return UP_COMPLETE;
	}
	enum outcome o = send_range(u->r, &u->s.loc, src, u->off, end,
	                            u->chunk ? SEND_PATCH_CHUNK : SEND_PATCH, &u->why);
	if (o == SENT) {
		u->off = end == UINT64_MAX ? src->size : end;
		bool all = (src->seekable || src->eof) && u->off >= src->size;
		return u->chunk == 0 || all ? UP_COMPLETE : UP_SEND;
	}
	if (o == TOO_LARGE && u->chunk == 0 && blobsrc_holds(src, 0))
		return in_chunks(u);
	if (o != TRANSIENT || ++u->resumes >= REGISTRY_MAX_ATTEMPTS)
		return failed(u, "uploading");
	return UP_RESUME;
}

/* On where the registry says the upload stands, if those bytes are still held; else from byte
 * 0 if that is still held. */
static enum upload_state resume(struct upload_run *u)
{
	struct blob_src *src = u->src;
	registry_sleep(registry_backoff(u->resumes));
	uint64_t next;
	if (upload_status(u->r, &u->s.loc, &next) == 0 && blobsrc_holds(src, next) &&
	    next <= (src->seekable ? src->size : src->end)) {
		if (u->r->http->opts.verbose)
			http_trace("%s: resuming the upload at byte %" PRIu64, u->what, next);
		u->off = next;
		forget_why(u);
		return UP_SEND;
	}
	if (blobsrc_holds(src, 0) && u->restarts + 1 < REGISTRY_MAX_ATTEMPTS)
		return restart(u);
	warnx("%s: uploading %s: %s; the registry cannot resume the upload and the first "
	      "%" PRIu64 " bytes of the stream are no longer held",
	      u->what, src->name, u->why, blobsrc_first_held(src));
	return UP_FAILED;
}

/* All sent: the digest is known now. */
static enum upload_state complete(struct upload_run *u)
{
	for (int tries = 0;; tries++) {
		enum outcome o = send_range(u->r, &u->s.loc, u->src, u->off, u->off,
		                            SEND_PUT_DIGEST, &u->why);
		if (o == SENT)
			return UP_DONE;
		if (o != TRANSIENT || tries + 1 >= REGISTRY_MAX_ATTEMPTS)
			return failed(u, "completing the upload of");
		forget_why(u);
		registry_sleep(registry_backoff(tries + 1));
	}
}

int registry_upload(struct registry *r, const char *path, struct upload *session,
                    struct blob_src *src, const char *what)
{
	struct upload_run u = {
	        .r = r,
	        .path = path,
	        .what = what,
	        .src = src,
	        .whole = src->digest[0] && src->size <= BLOBSRC_RING && (src->seekable || src->eof),
	};
	enum upload_state st = UP_OPEN;
	if (session && session->loc) {
		u.s = *session;
		*session = (struct upload){0};
		st = opened(&u);
	}
	while (st != UP_DONE && st != UP_FAILED) {
		switch (st) {
		case UP_OPEN:
			st = open_session(&u);
			break;
		case UP_PUT_WHOLE:
			st = put_whole(&u);
			break;
		case UP_SEND:
			st = send_next(&u);
			break;
		case UP_RESUME:
			st = resume(&u);
			break;
		case UP_COMPLETE:
			st = complete(&u);
			break;
		case UP_DONE:
		case UP_FAILED:
			break;
		}
	}
	free(u.why);
	session_close(&u.s);
	return st == UP_DONE ? 0 : -1;
}
