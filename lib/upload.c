/* Blob uploads (distribution spec "Pushing blobs"): one PUT for what fits the buffer, else
 * POST, one PATCH with everything, PUT ?digest=; resumed or restarted after a failure, and
 * chunks of OCI-Chunk-Min-Length for a registry that refuses the single PATCH. */
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

static int upload_open(struct registry *r, const char *path, char **loc, uint64_t *min_chunk,
                       const char *what)
{
	char *url = xasprintf("/v2/%s/blobs/uploads/", path);
	struct rreq q, *qp = &q;
	rreq_init(&q, "POST", url);
	free(url);
	registry_run(r, &qp, 1);
	int ret = -1;
	const char *l = http_header(&q.x, "Location");
	if (!rreq_ok(&q)) {
		registry_fail(r, &q, what, "POST blob upload");
	} else if (l == NULL || (*loc = url_resolve(q.x.reached, l)) == NULL) {
		warnx("%s: POST blob upload: HTTP %ld without a usable Location", what, q.x.status);
	} else {
		const char *m = http_header(&q.x, "OCI-Chunk-Min-Length");
		uint64_t v;
		*min_chunk = m && parse_u64(m, UINT64_MAX, &v) ? v : 0;
		ret = 0;
	}
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

/* Sends [off, end) of src in one request: PUT ?digest= (final) or PATCH. */
static enum outcome send_range(struct registry *r, char **loc, struct blob_src *src, uint64_t off,
                               uint64_t end, bool final, bool content_range, char **why)
{
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
	if (content_range && end > off)
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

static void cancel_upload(struct registry *r, const char *loc)
{
	struct rreq q, *qp = &q;
	rreq_init(&q, "DELETE", loc);
	q.once = true;
	registry_run(r, &qp, 1);
	rreq_free(&q);
}

int registry_upload_open(struct registry *r, const char *path, struct upload *u, const char *what)
{
	*u = (struct upload){0};
	return upload_open(r, path, &u->loc, &u->min_chunk, what);
}

void registry_upload_cancel(struct registry *r, struct upload *u)
{
	if (u->loc)
		cancel_upload(r, u->loc);
	free(u->loc);
	*u = (struct upload){0};
}

void registry_blob_batch(struct registry *r, const char *path, struct blob_op *ops, size_t n,
                         const char *what)
{
	if (n == 0)
		return;
	struct rreq *qs = xcalloc(n, sizeof *qs);
	struct rreq **qp = xcalloc(n, sizeof *qp);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		struct blob_op *op = &ops[i];
		struct rreq *q = &qs[i];
		char *url = NULL, *f;
		op->result = -1;
		switch (op->kind) {
		case BLOB_HEAD:
			url = xasprintf("/v2/%s/blobs/%s", path, op->digest);
			rreq_init(q, "HEAD", url);
			break;
		case BLOB_MOUNT:
			f = registry_escape(op->from);
			url = xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", path, op->digest,
			                f);
			free(f);
			rreq_init(q, "POST", url);
			break;
		case BLOB_OPEN:
			*op->up = (struct upload){0};
			url = xasprintf("/v2/%s/blobs/uploads/", path);
			rreq_init(q, "POST", url);
			break;
		case BLOB_PUT:
			if (op->up->loc == NULL || !op->src->seekable ||
			    op->src->size > BLOBSRC_RING)
				continue;
			url = with_digest(op->up->loc, op->src->digest);
			rreq_init(q, "PUT", url);
			q->once = true;
			q->x.has_body = true;
			q->x.body_fd = op->src->fd;
			q->x.body_off = 0;
			q->x.body_size = (int64_t)op->src->size;
			http_xfer_add_header(&q->x, "Content-Type: application/octet-stream");
			break;
		case BLOB_CANCEL:
			if (op->up->loc == NULL)
				continue;
			rreq_init(q, "DELETE", op->up->loc);
			q->once = true;
			break;
		}
		free(url);
		qp[m++] = q;
	}
	registry_run(r, qp, m);
	for (size_t i = 0, k = 0; i < n; i++) {
		struct blob_op *op = &ops[i];
		struct rreq *q = &qs[i];
		if (k == m || qp[k] != q)
			continue; /* not sent */
		k++;
		const char *l;
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
			l = http_header(&q->x, "Location");
			if (rreq_ok(q) && l && (op->up->loc = url_resolve(q->x.reached, l))) {
				const char *mc = http_header(&q->x, "OCI-Chunk-Min-Length");
				uint64_t v;
				op->up->min_chunk = mc && parse_u64(mc, UINT64_MAX, &v) ? v : 0;
				op->result = 0;
			}
			break;
		case BLOB_PUT:
			op->result = rreq_ok(q) ? 0 : -1;
			if (op->result < 0 && r->http->opts.verbose) {
				char *why = registry_error_text(r, q);
				http_trace("%s: PUT %s: %s; again from the start", what, op->digest,
				           why);
				free(why);
			}
			free(op->up->loc);
			*op->up = (struct upload){0};
			break;
		case BLOB_CANCEL:
			op->result = 0;
			free(op->up->loc);
			*op->up = (struct upload){0};
			break;
		}
	}
	for (size_t i = 0; i < m; i++)
		rreq_free(qp[i]);
	free(qs);
	free(qp);
}

int registry_put_blob(struct registry *r, const char *path, struct blob_src *src, const char *what)
{
	return registry_upload(r, path, NULL, src, what);
}

int registry_upload(struct registry *r, const char *path, struct upload *u, struct blob_src *src,
                    const char *what)
{
	bool mono = src->digest[0] && src->size <= BLOBSRC_RING && (src->seekable || src->eof);
	uint64_t chunk = 0; /* 0: one PATCH with everything */
	int restarts = 0, resumes = 0;
	char *loc = NULL, *why = NULL;
	int ret = -1;
	uint64_t min_chunk = 0;
	if (u && u->loc) {
		loc = u->loc;
		min_chunk = u->min_chunk;
		*u = (struct upload){0};
		goto opened;
	}
restart:
	free(loc);
	loc = NULL;
	if (restarts > 0) {
		if (r->http->opts.verbose)
			http_trace("%s: restarting the upload from byte 0", what);
		registry_sleep(registry_backoff(restarts));
	}
	min_chunk = 0;
	if (upload_open(r, path, &loc, &min_chunk, what) < 0)
		goto out;
opened:
	if (mono) {
		enum outcome o = send_range(r, &loc, src, 0, src->size, true, false, &why);
		if (o == SENT) {
			ret = 0;
			goto out;
		}
		if (o == TRANSIENT && ++restarts < REGISTRY_MAX_ATTEMPTS) {
			free(why);
			why = NULL;
			goto restart;
		}
		warnx("%s: uploading %s: %s", what, src->name, why);
		goto out;
	}
	uint64_t off = 0;
	for (;;) {
		uint64_t end = UINT64_MAX;
		if (chunk) {
			if (blobsrc_fill(src, off + chunk) < 0) {
				warnx("%s: reading %s: %s", what, src->name, strerror(errno));
				goto out;
			}
			end = src->seekable ? src->size : src->end;
			if (end > off + chunk)
				end = off + chunk;
			if (end == off && (src->seekable || src->eof))
				break;
		}
		enum outcome o = send_range(r, &loc, src, off, end, false, chunk != 0, &why);
		if (o == SENT) {
			off = end == UINT64_MAX ? src->size : end;
			if (chunk == 0 || ((src->seekable || src->eof) && off >= src->size))
				break;
			continue;
		}
		if (o == TOO_LARGE && chunk == 0 && blobsrc_holds(src, 0)) {
			/* A registry that wants chunks: of OCI-Chunk-Min-Length, capped by the
			 * buffer so that each can be sent again. */
			chunk = min_chunk > (8u << 20) ? min_chunk : (8u << 20);
			if (chunk > src->cap && !src->seekable)
				chunk = src->cap;
			if (r->http->opts.verbose)
				http_trace("%s: %s; uploading in chunks of %" PRIu64 " bytes", what,
				           why, chunk);
			free(why);
			why = NULL;
			cancel_upload(r, loc);
			restarts++;
			goto restart;
		}
		if (o != TRANSIENT || ++resumes >= REGISTRY_MAX_ATTEMPTS) {
			warnx("%s: uploading %s: %s", what, src->name, why);
			goto out;
		}
		registry_sleep(registry_backoff(resumes));
		uint64_t next;
		if (upload_status(r, &loc, &next) == 0 && blobsrc_holds(src, next) &&
		    next <= (src->seekable ? src->size : src->end)) {
			if (r->http->opts.verbose)
				http_trace("%s: resuming the upload at byte %" PRIu64, what, next);
			off = next;
			free(why);
			why = NULL;
			continue;
		}
		if (blobsrc_holds(src, 0) && ++restarts < REGISTRY_MAX_ATTEMPTS) {
			free(why);
			why = NULL;
			goto restart;
		}
		warnx("%s: uploading %s: %s; the registry cannot resume the upload and the first "
		      "%" PRIu64 " bytes of the stream are no longer held",
		      what, src->name, why, blobsrc_first_held(src));
		goto out;
	}
	/* All sent: the digest is known now. */
	for (int tries = 0;; tries++) {
		enum outcome o = send_range(r, &loc, src, off, off, true, false, &why);
		if (o == SENT) {
			ret = 0;
			break;
		}
		if (o != TRANSIENT || tries + 1 >= REGISTRY_MAX_ATTEMPTS) {
			warnx("%s: completing the upload of %s: %s", what, src->name, why);
			break;
		}
		free(why);
		why = NULL;
		registry_sleep(registry_backoff(tries + 1));
	}
out:
	free(why);
	free(loc);
	return ret;
}
