#include "store.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void session_init(struct session *s, const struct http_opts *o, bool insecure)
{
	*s = (struct session){.insecure = insecure};
	http_init(&s->http, o);
}

static bool feed_wants(void *ctx)
{
	return blobsrc_wants(ctx);
}

static void feed_read(void *ctx)
{
	blobsrc_feed(ctx);
}

struct http_feed session_feed(struct session *s, struct blob_src *src)
{
	struct http_feed f = {.fd = -1};
	if (src)
		f = (struct http_feed){
		        .fd = src->fd, .wants = feed_wants, .feed = feed_read, .ctx = src};
	return http_set_feed(&s->http, f);
}

void session_end(struct session *s)
{
	if (s->http.opts.verbose && s->http.requests > 0) {
		unsigned long tokens = 0;
		for (size_t i = 0; i < s->nregs; i++)
			tokens += s->regs[i]->tokens;
		http_trace("%lu requests, %lu new connections, %lu token requests",
		           s->http.requests, s->http.connections, tokens);
	}
	if (s->side) {
		session_end(s->side);
		free(s->side);
	}
	for (size_t i = 0; i < s->nregs; i++)
		registry_free(s->regs[i]);
	free(s->regs);
	http_cleanup(&s->http);
	*s = (struct session){0};
}

int store_parse(struct store *st, const char *name, char *err, size_t errlen)
{
	*st = (struct store){0};
	if (ref_parse(name, &st->ref, err, errlen) < 0)
		return -1;
	st->name = xstrdup(name);
	return 0;
}

static struct registry *session_registry(struct session *s, const struct ref *r)
{
	for (size_t i = 0; i < s->nregs; i++)
		if (strcmp(s->regs[i]->host, r->host) == 0)
			return s->regs[i];
	s->regs = xreallocarray(s->regs, s->nregs + 1, sizeof *s->regs);
	return s->regs[s->nregs++] = registry_new(&s->http, r->domain, r->host, s->insecure);
}

int store_attach(struct session *s, struct store *st, bool push)
{
	st->push = push;
	if (st->ref.kind == REF_LAYOUT)
		return layout_open(&st->lay, st->ref.dir, push, st->name);
	st->reg = session_registry(s, &st->ref);
	registry_want(st->reg, st->ref.path, push);
	return 0;
}

void store_close(struct store *st)
{
	for (size_t i = 0; i < st->nnames; i++) {
		free(st->names[i]);
		free(st->tags[i]);
	}
	free(st->names);
	free(st->tags);
	layout_close(&st->lay);
	ref_free(&st->ref);
	free(st->name);
	*st = (struct store){0};
}

bool store_is_layout(const struct store *st)
{
	return st->ref.kind == REF_LAYOUT;
}

bool store_same_registry(const struct store *a, const struct store *b)
{
	return ref_same_registry(&a->ref, &b->ref);
}

int store_name_image(struct store *st, const char *const *refs, size_t n, enum layout_naming how,
                     char *err, size_t errlen)
{
	if (!store_is_layout(st) || st->ref.tag || st->ref.digest) {
		snprintf(err, errlen, "%s: names are for a layout DEST without a tag (oci:DIR)",
		         st->name);
		return -1;
	}
	st->names = xcalloc(n, sizeof *st->names);
	st->tags = xcalloc(n, sizeof *st->tags);
	st->naming = how;
	for (size_t i = 0; i < n; i++) {
		struct ref r;
		char why[200];
		if (ref_parse(refs[i], &r, why, sizeof why) < 0) {
			snprintf(err, errlen, "%s: invalid reference: %s", refs[i], why);
			return -1;
		}
		bool tagged = r.kind == REF_REGISTRY && r.digest == NULL;
		if (tagged) {
			st->names[i] = ref_string(&r);
			st->tags[i] = xstrdup(r.tag ? r.tag : "latest");
			st->nnames++;
		}
		ref_free(&r);
		if (!tagged) {
			snprintf(err, errlen, "%s: not an image reference with a tag", refs[i]);
			return -1;
		}
	}
	return 0;
}

int store_get_manifest(struct store *st, const char *reference, struct doc *d)
{
	if (store_is_layout(st)) {
		const char *dg = st->ref.digest, *tag = st->ref.tag;
		if (reference) {
			bool is_digest = strncmp(reference, "sha256:", 7) == 0;
			dg = is_digest ? reference : NULL;
			tag = is_digest ? NULL : reference;
		}
		return layout_get_manifest(&st->lay, tag, dg, d, st->name);
	}
	return registry_get_manifest(st->reg, st->ref.path,
	                             reference ? reference : ref_reference(&st->ref), d, st->name);
}

int store_manifests_exist(struct store *st, const char *const *digests, size_t n,
                          enum head_result *exists)
{
	if (store_is_layout(st)) {
		layout_expect_children(&st->lay, digests, n);
		for (size_t i = 0; i < n; i++)
			exists[i] =
			        layout_has_blob(&st->lay, digests[i]) ? HEAD_PRESENT : HEAD_ABSENT;
		return 0;
	}
	return registry_manifests_exist(st->reg, st->ref.path, digests, n, exists, st->name);
}

int store_blobs_exist(struct store *st, const char *const *digests, size_t n,
                      enum head_result *exists)
{
	if (store_is_layout(st)) {
		for (size_t i = 0; i < n; i++)
			exists[i] =
			        layout_has_blob(&st->lay, digests[i]) ? HEAD_PRESENT : HEAD_ABSENT;
		return 0;
	}
	return registry_blobs_exist(st->reg, st->ref.path, digests, n, exists, st->name);
}

int store_get_blob(struct store *st, const char *digest, blob_sink sink, void *ctx)
{
	if (store_is_layout(st))
		return layout_get_blob(&st->lay, digest, sink, ctx, st->name);
	return registry_get_blob(st->reg, st->ref.path, digest, sink, ctx, st->name);
}

int store_put_blob(struct store *st, struct blob_src *src)
{
	if (store_is_layout(st))
		return layout_put_blob(&st->lay, src, st->name);
	return registry_put_blob(st->reg, st->ref.path, src, st->name);
}

int store_upload_open(struct store *st, struct upload *u)
{
	*u = (struct upload){0};
	if (store_is_layout(st))
		return 0;
	return registry_upload_open(st->reg, st->ref.path, u, st->name);
}

int store_upload(struct store *st, struct upload *u, struct blob_src *src)
{
	if (store_is_layout(st))
		return layout_put_blob(&st->lay, src, st->name);
	return registry_upload(st->reg, st->ref.path, u, src, st->name);
}

void store_upload_cancel(struct store *st, struct upload *u)
{
	if (!store_is_layout(st))
		registry_upload_cancel(st->reg, u);
}

void store_blob_batch(struct store *st, struct blob_op *ops, size_t n)
{
	if (!store_is_layout(st)) {
		registry_blob_batch(st->reg, st->ref.path, ops, n, st->name);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct blob_op *op = &ops[i];
		switch (op->kind) {
		case BLOB_HEAD:
			op->result = layout_has_blob(&st->lay, op->digest) ? 1 : 0;
			break;
		case BLOB_MOUNT:
			op->result = 0;
			break;
		case BLOB_OPEN:
			*op->up = (struct upload){0};
			op->result = 0;
			break;
		case BLOB_PUT:
		case BLOB_POST:
			if (op->up)
				*op->up = (struct upload){0};
			op->result = -1;
			break;
		case BLOB_CANCEL:
		case BLOB_TAG: /* a layout's index.json is written in any case */
			op->result = 0;
			op->absent = false;
			break;
		}
	}
}

void store_mount(struct store *dst, const struct store *from, const char *const *digests, size_t n,
                 int *mounted)
{
	memset(mounted, 0, n * sizeof *mounted);
	if (!store_same_registry(dst, from) || strcmp(dst->ref.path, from->ref.path) == 0)
		return;
	registry_mount(dst->reg, dst->ref.path, digests, from->ref.path, n, mounted);
}

int store_put_manifest(struct store *st, const char *reference, const struct doc *d)
{
	if (store_is_layout(st) && reference == NULL && st->nnames > 0 &&
	    !layout_is_expected_child(&st->lay, d->digest))
		return layout_put_image(&st->lay, d, (const char *const *)st->names,
		                        (const char *const *)st->tags, st->nnames, st->naming,
		                        st->name);
	if (store_is_layout(st))
		return layout_put_manifest(&st->lay, reference, d, st->name);
	return registry_put_manifest(st->reg, st->ref.path, reference ? reference : d->digest, d,
	                             st->name);
}

/* ---- streamed copy: a thread GETs into a socket, the upload reads the other end ---- */

struct copy {
	struct store *from;
	const char *digest;
	int fd;
	int ret;
};

static int copy_sink(const char *p, size_t n, void *ctx)
{
	struct copy *c = ctx;
	while (n > 0) {
		/* MSG_NOSIGNAL: the reader may stop early (an upload error) */
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *copy_thread(void *arg)
{
	struct copy *c = arg;
	c->ret = store_get_blob(c->from, c->digest, copy_sink, c);
	shutdown(c->fd, SHUT_WR);
	return NULL;
}

int store_copy_blob(struct session *s, struct store *dst, struct store *from, const char *digest)
{
	/* The source side runs on its own thread, so it needs its own connections (libcurl
	 * handles are not shared between threads): one side session for all copies of the run,
	 * one at a time. */
	struct store src = *from;
	if (!store_is_layout(from)) {
		if (s->side == NULL) {
			s->side = xmalloc(sizeof *s->side);
			session_init(s->side, &s->http.opts, s->insecure);
		}
		src.reg = session_registry(s->side, &from->ref);
		registry_want(src.reg, from->ref.path, false);
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		err(EXIT_FAIL, "socketpair");
	struct copy c = {.from = &src, .digest = digest, .fd = sv[1]};
	pthread_t t;
	if (pthread_create(&t, NULL, copy_thread, &c) != 0)
		errx(EXIT_FAIL, "cannot start a thread");
	struct blob_src bs;
	char *name = xasprintf("%s@%s", from->name, digest);
	int ret = -1, e = 0;
	/* The upload session is opened while the first bytes come in; a blob that ends within
	 * the buffer then goes in one PUT. */
	blobsrc_stream_held(&bs, sv[0], name, BLOBSRC_RING, BLOBSRC_AHEAD, digest);
	struct http_feed prev = session_feed(s, &bs);
	struct upload u;
	if (store_upload_open(dst, &u) == 0) {
		if (blobsrc_fill(&bs, BLOBSRC_RING + 1) < 0) {
			e = errno;
			store_upload_cancel(dst, &u);
		} else {
			ret = store_upload(dst, &u, &bs);
		}
	}
	http_set_feed(&s->http, prev);
	/* unblock the writer if the upload stopped early */
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(t, NULL);
	/* when the source failed, it said why; what the reading side saw follows from it */
	if (e == EBADMSG && c.ret == 0)
		warnx("%s: digest mismatch: the bytes hash to %s, not %s", name, bs.digest, digest);
	else if (e && c.ret == 0)
		warnx("%s: %s", name, strerror(e));
	close(sv[0]);
	close(sv[1]);
	blobsrc_close(&bs);
	free(name);
	return ret == 0 && c.ret == 0 ? 0 : -1;
}
