/* The registry protocol's operations on manifests and blob downloads (distribution spec
 * "Pulling", "Checking if content exists", "Pushing manifests", cross-repository mounts):
 * each builds its requests, lets the engine (registry_engine.c) run them, and reads the
 * answers. Uploads are in upload.c. */
#include "oci.h"
#include "registry.h"
#include "registry_engine.h"
#include "util.h"

#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ACCEPT_MANIFESTS[] =
        "Accept: " MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST;

int registry_get_manifest(struct registry *r, const char *path, const char *reference,
                          struct doc *d, const char *what)
{
	*d = (struct doc){0};
	char *url = xasprintf("/v2/%s/manifests/%s", path, reference);
	struct rreq q, *qp = &q;
	rreq_init(&q, "GET", url);
	free(url);
	http_xfer_add_header(&q.x, "%s", ACCEPT_MANIFESTS);
	q.x.resp_max = MANIFEST_MAX_BYTES;
	registry_run(r, &qp, 1);
	int ret = -1;
	if (q.x.too_big) {
		warnx("%s: manifest larger than %u bytes (4 MiB, the distribution spec's limit)",
		      what, MANIFEST_MAX_BYTES);
	} else if (!rreq_ok(&q)) {
		registry_fail(r, &q, what, NULL);
	} else {
		char err[256];
		d->data = q.x.resp;
		q.x.resp = (struct buf){0};
		if (doc_identify(d, http_header(&q.x, "Content-Type"), err, sizeof err) < 0) {
			warnx("%s: manifest is %s", what, err);
		} else if (digest_is_sha256(reference) && strcmp(reference, d->digest) != 0) {
			warnx("%s: digest mismatch: the registry served %s for %s", what, d->digest,
			      reference);
		} else if (d->media_type == NULL) {
			warnx("%s: not a manifest or index (no mediaType)", what);
		} else {
			const char *dcd = http_header(&q.x, "Docker-Content-Digest");
			if (dcd && strcmp(dcd, d->digest) != 0 && r->http->opts.verbose)
				http_trace(
				        "%s: Docker-Content-Digest %s differs from the body's %s",
				        what, dcd, d->digest);
			ret = 0;
		}
		if (ret < 0)
			doc_free(d);
	}
	rreq_free(&q);
	return ret;
}

static int exist(struct registry *r, const char *path, const char *kind, const char *const *digests,
                 size_t n, enum head_result *exists, const char *what)
{
	if (n == 0)
		return 0;
	struct rreq *qs = xcalloc(n, sizeof *qs);
	struct rreq **qp = xcalloc(n, sizeof *qp);
	for (size_t i = 0; i < n; i++) {
		char *url = xasprintf("/v2/%s/%s/%s", path, kind, digests[i]);
		rreq_init(&qs[i], "HEAD", url);
		free(url);
		if (strcmp(kind, "manifests") == 0)
			http_xfer_add_header(&qs[i].x, "%s", ACCEPT_MANIFESTS);
		qp[i] = &qs[i];
	}
	registry_run(r, qp, n);
	int ret = 0;
	for (size_t i = 0; i < n; i++) {
		if (rreq_ok(&qs[i]))
			exists[i] = HEAD_PRESENT;
		else if (qs[i].x.result == CURLE_OK && qs[i].x.status == 404)
			exists[i] = HEAD_ABSENT;
		else {
			char *doing = xasprintf("HEAD %s", digests[i]);
			ret = registry_fail(r, &qs[i], what, doing);
			free(doing);
			exists[i] = HEAD_FAILED;
		}
		rreq_free(&qs[i]);
	}
	free(qs);
	free(qp);
	return ret;
}

int registry_manifests_exist(struct registry *r, const char *path, const char *const *digests,
                             size_t n, enum head_result *exists, const char *what)
{
	return exist(r, path, "manifests", digests, n, exists, what);
}

int registry_blobs_exist(struct registry *r, const char *path, const char *const *digests, size_t n,
                         enum head_result *exists, const char *what)
{
	return exist(r, path, "blobs", digests, n, exists, what);
}

void registry_mount(struct registry *r, const char *path, const char *const *digests,
                    const char *from, size_t n, int *mounted)
{
	if (n == 0)
		return;
	struct rreq *qs = xcalloc(n, sizeof *qs);
	struct rreq **qp = xcalloc(n, sizeof *qp);
	char *f = registry_escape(from);
	for (size_t i = 0; i < n; i++) {
		char *url =
		        xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", path, digests[i], f);
		rreq_init(&qs[i], "POST", url);
		free(url);
		qp[i] = &qs[i];
	}
	free(f);
	registry_run(r, qp, n);
	for (size_t i = 0; i < n; i++) {
		/* Anything but 201 (a 202 opens an upload instead) means: upload it normally. */
		mounted[i] = qs[i].x.result == CURLE_OK && qs[i].x.status == 201;
		rreq_free(&qs[i]);
	}
	free(qs);
	free(qp);
}

int registry_put_manifest(struct registry *r, const char *path, const char *reference,
                          const struct doc *d, const char *what)
{
	char *url = xasprintf("/v2/%s/manifests/%s", path, reference);
	struct rreq q, *qp = &q;
	rreq_init(&q, "PUT", url);
	free(url);
	http_xfer_add_header(&q.x, "Content-Type: %s", d->media_type);
	q.x.has_body = true;
	q.x.body = d->data.data;
	q.x.body_len = d->data.len;
	q.x.body_size = (int64_t)d->data.len;
	registry_run(r, &qp, 1);
	int ret = 0;
	if (!rreq_ok(&q)) {
		ret = registry_fail(r, &q, what, "PUT manifest");
	} else {
		const char *dcd = http_header(&q.x, "Docker-Content-Digest");
		if (dcd && strcmp(dcd, d->digest) != 0)
			warnx("%s: the registry says it stored %s, not %s", what, dcd, d->digest);
	}
	q.x.body = NULL;
	rreq_free(&q);
	return ret;
}

struct blob_get {
	blob_sink sink;
	void *ctx;
	struct sha256 h;
	uint64_t delivered, skip;
	bool first;
	bool sink_failed;
	struct rreq *q;
};

static void blob_get_prepare(struct rreq *q)
{
	struct blob_get *g = q->ctx;
	http_xfer_del_header(&q->x, "Range");
	if (g->delivered > 0)
		http_xfer_add_header(&q->x, "Range: bytes=%" PRIu64 "-", g->delivered);
	g->first = true;
}

static size_t blob_get_write(const char *p, size_t n, void *ctx)
{
	struct blob_get *g = ctx;
	size_t all = n;
	if (g->first) {
		long st = 0;
		curl_easy_getinfo(g->q->x.easy, CURLINFO_RESPONSE_CODE, &st);
		g->skip = st == 206 ? 0 : g->delivered;
		g->first = false;
	}
	if (g->skip) {
		size_t s = g->skip < n ? (size_t)g->skip : n;
		p += s;
		n -= s;
		g->skip -= s;
	}
	if (n == 0)
		return all;
	sha256_update(&g->h, p, n);
	g->delivered += n;
	if (g->sink(p, n, g->ctx) < 0) {
		g->sink_failed = true;
		return 0;
	}
	return all;
}

int registry_get_blob(struct registry *r, const char *path, const char *digest, blob_sink sink,
                      void *ctx, const char *what)
{
	char *url = xasprintf("/v2/%s/blobs/%s", path, digest);
	struct rreq q, *qp = &q;
	rreq_init(&q, "GET", url);
	free(url);
	struct blob_get g = {.sink = sink, .ctx = ctx, .q = &q};
	sha256_init(&g.h);
	q.follow = true;
	q.prepare = blob_get_prepare;
	q.ctx = &g;
	q.x.write_cb = blob_get_write;
	q.x.write_ctx = &g;
	/* A dropped connection resumes where it stopped (Range: see blob_get_prepare). */
	int ret = -1;
	registry_run(r, &qp, 1);
	char got[DIGEST_STR_LEN];
	sha256_final(&g.h, got);
	if (g.sink_failed)
		warnx("%s: blob %s: cannot write it out", what, digest);
	else if (!rreq_ok(&q))
		registry_fail(r, &q, what, digest);
	else if (strcmp(got, digest) != 0)
		warnx("%s: blob %s: digest mismatch: the bytes served hash to %s", what, digest,
		      got);
	else
		ret = 0;
	rreq_free(&q);
	return ret;
}
