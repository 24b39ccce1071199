#include "push.h"
#include "hold.h"
#include "oci.h"
#include "util.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct blob_src *local_file(const struct put_ctx *c, const char *digest)
{
	return blobsrc_find(c->files, c->nfiles, digest);
}

const char **put_references(const struct doc *d, size_t *n, json_t **json, const char *what)
{
	char err[256];
	json_t *j = json_parse(d->data.data, d->data.len, err, sizeof err);
	*json = j;
	*n = 0;
	if (j == NULL) {
		warnx("%s: manifest is not JSON: %s", what, err);
		return NULL;
	}
	bool index = media_type_is_index(d->media_type);
	json_t *list = json_object_get(j, index ? "manifests" : "layers");
	if (!json_is_array(list) || (!index && !json_is_object(json_object_get(j, "config")))) {
		warnx("%s: not an image %s: no \"%s\"", what, index ? "index" : "manifest",
		      index ? "manifests" : "config and layers");
		return NULL;
	}
	const char **out = xcalloc(json_array_size(list) + 1, sizeof *out);
	if (!index) {
		json_t *cd = json_object_get(j, "config");
		if (!descriptor_check(cd, err, sizeof err)) {
			warnx("%s: config: %s", what, err);
			free(out);
			return NULL;
		}
		out[(*n)++] = descriptor_digest(cd);
	}
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		if (!descriptor_check(e, err, sizeof err)) {
			warnx("%s: %s[%zu]: %s", what, index ? "manifests" : "layers", i, err);
			free(out);
			return NULL;
		}
		const char *dg = descriptor_digest(e);
		bool dup = false;
		for (size_t k = 0; k < *n; k++)
			dup |= strcmp(out[k], dg) == 0;
		if (!dup)
			out[(*n)++] = dg;
	}
	return out;
}

/* Another repository of dst's registry: a mount can work. */
static bool can_mount(const struct store *dst, const struct store *src)
{
	return src != dst && store_same_registry(dst, src) &&
	       strcmp(dst->ref.path, src->ref.path) != 0;
}

/* How a blob stands in the destination. */
enum presence {
	MISSING,
	WAS_THERE,  /* found (HEAD) */
	MADE_THERE, /* uploaded, mounted or copied */
};

/* One blob put_blobs makes present. */
struct wanted_blob {
	const char *digest;
	struct blob_src *file; /* its local file, or NULL */
	enum presence presence;
	bool mount_asked; /* a mount from the first source is asked already */
	struct upload up; /* the upload session opened for file (speculate) */
};

static struct blob_op blob_op_for(struct wanted_blob *b, enum blob_op_kind kind,
                                  const struct store *msrc)
{
	struct blob_op op = {.kind = kind, .digest = b->digest, .ctx = b};
	if (kind == BLOB_MOUNT) {
		op.from = msrc->ref.path;
		b->mount_asked = true;
	} else if (kind != BLOB_HEAD) {
		op.up = &b->up;
		op.src = b->file;
	}
	return op;
}

/* The first source to mount from (another repository of dst's registry), or NULL. */
static const struct store *mount_source(const struct put_ctx *c, const struct store *dst)
{
	for (size_t s = 0; s < c->nsources; s++)
		if (can_mount(dst, c->sources[s]))
			return c->sources[s];
	return NULL;
}

/* What put_early made in dst for this blob: present already, or its file's session. */
static void take_early(const struct put_ctx *c, const struct store *dst, struct wanted_blob *b)
{
	struct early_put *e = c->early;
	if (e == NULL || e->dst != dst)
		return;
	for (size_t k = 0; k < e->npresent; k++)
		if (strcmp(e->present[k], b->digest) == 0)
			b->presence = MADE_THERE;
	for (size_t i = 0; i < c->nfiles && i < e->nups && b->presence == MISSING; i++)
		if (c->files[i] == b->file && e->ups[i].loc) {
			b->up = e->ups[i];
			e->ups[i] = (struct upload){0};
		}
}

/* Round 1, what is there: HEAD; or, unless head_first, a mount straight away of what has no
 * local file (a mount of a blob the repository has succeeds too). Upload sessions for local
 * files expected to be missing (speculate), opened meanwhile: no byte is sent before a HEAD
 * says it is missing (a no-op rebuild sends none). What put_early made present is not asked;
 * a file within BLOB_POST_MAX whose session it opened (its tag absent: a cold push) is PUT on
 * it at once, the PUT costing the round trip a HEAD would. */
static size_t first_round(const struct put_ctx *c, const struct store *dst,
                          const struct store *msrc, struct wanted_blob *bs, size_t n,
                          struct blob_op *ops)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		struct wanted_blob *b = &bs[i];
		if (b->presence != MISSING)
			continue;
		if (b->file && b->up.loc && b->file->seekable && b->file->size <= BLOB_POST_MAX) {
			ops[m++] = blob_op_for(b, BLOB_PUT, msrc);
			continue;
		}
		bool mount = !b->file && msrc && !c->head_first;
		ops[m++] = blob_op_for(b, mount ? BLOB_MOUNT : BLOB_HEAD, msrc);
		if (b->file && c->speculate && !b->up.loc)
			ops[m++] = blob_op_for(b, BLOB_OPEN, msrc);
	}
	for (size_t t = 0; t < c->ntags; t++)
		if (c->tags[t].repo == dst && !c->tags[t].there && !c->tags[t].asked)
			ops[m++] = (struct blob_op){.kind = BLOB_TAG,
			                            .digest = c->manifest,
			                            .from = c->tags[t].tag,
			                            .ctx = &c->tags[t]};
	return m;
}

/* Round 2, at once: mounts of what is missing, the missing files PUT on their sessions (the
 * others cancelled), a HEAD of what a mount straight away did not bring (it may be there all
 * the same). Local files are mounted only with mount_local (--mount-from): without it they are
 * a build's new blobs, which a mount would not find. After a failure, only cancellations. */
static size_t second_round(const struct put_ctx *c, const struct store *msrc,
                           struct wanted_blob *bs, size_t n, struct blob_op *ops, bool failed)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		struct wanted_blob *b = &bs[i];
		if (b->presence != MISSING || failed) {
			if (b->up.loc)
				ops[m++] = blob_op_for(b, BLOB_CANCEL, msrc);
		} else if (b->file && b->up.loc && !(msrc && c->mount_local)) {
			ops[m++] = blob_op_for(b, BLOB_PUT, msrc);
		} else if (b->file && !(msrc && c->mount_local) && b->file->seekable &&
		           b->file->size <= BLOB_POST_MAX) {
			/* no session: the single-request upload (a 202's session: PUT later; a
			 * refusal: POST and PUT later) */
			ops[m++] = blob_op_for(b, BLOB_POST, msrc);
		} else if (msrc && !b->mount_asked && (!b->file || c->mount_local)) {
			ops[m++] = blob_op_for(b, BLOB_MOUNT, msrc);
		} else if (!b->file && b->mount_asked) {
			ops[m++] = blob_op_for(b, BLOB_HEAD, msrc);
		}
	}
	return m;
}

/* A round run, each blob's presence from its operations' results; -1 if a HEAD failed. A tag
 * that is the manifest already: its blobs are all there. */
static int run_round(struct store *dst, struct blob_op *ops, size_t m, struct wanted_blob *bs,
                     size_t n)
{
	store_blob_batch(dst, ops, m);
	int ret = 0;
	bool tagged = false;
	for (size_t k = 0; k < m; k++) {
		struct wanted_blob *b = ops[k].ctx;
		if (ops[k].kind == BLOB_TAG) {
			struct tag_check *t = ops[k].ctx;
			t->there = ops[k].result == 1;
			tagged |= t->there;
		} else if (ops[k].kind == BLOB_HEAD && ops[k].result < 0)
			ret = -1;
		else if (ops[k].kind == BLOB_HEAD && ops[k].result == 1)
			b->presence = WAS_THERE;
		else if ((ops[k].kind == BLOB_MOUNT && ops[k].result == 1) ||
		         (ops[k].kind == BLOB_PUT && ops[k].result == 0) ||
		         (ops[k].kind == BLOB_POST && ops[k].result == 1))
			b->presence = MADE_THERE;
	}
	for (size_t i = 0; i < n && tagged; i++)
		if (bs[i].presence == MISSING)
			bs[i].presence = WAS_THERE;
	return tagged ? 0 : ret;
}

/* Copied, streamed, from a source other than dst; with several, the first that has it. */
static int copy_from_sources(struct put_ctx *c, struct store *dst, struct wanted_blob *b)
{
	size_t candidates = 0;
	for (size_t s = 0; s < c->nsources; s++)
		candidates += c->sources[s] != dst;
	for (size_t s = 0; s < c->nsources; s++) {
		if (c->sources[s] == dst)
			continue;
		/* with several sources, ask before copying (a failed copy is an error) */
		enum head_result there = HEAD_ABSENT;
		if (candidates > 1 &&
		    (store_blobs_exist(c->sources[s], &b->digest, 1, &there) < 0 ||
		     there != HEAD_PRESENT))
			continue;
		if (store_copy_blob(c->s, dst, c->sources[s], b->digest) < 0) {
			/* the one candidate: was it there at all? (asked only once a copy failed)
			 */
			c->missing = candidates == 1 &&
			             store_blobs_exist(c->sources[s], &b->digest, 1, &there) == 0 &&
			             there == HEAD_ABSENT;
			if (c->missing)
				warnx("%s: blob %s is missing: not in the repository nor in %s",
				      dst->name, b->digest, c->sources[s]->name);
			return -1;
		}
		b->presence = MADE_THERE;
		return 0;
	}
	c->missing = true;
	warnx("%s: blob %s is missing: not in the repository%s", dst->name, b->digest,
	      c->nsources ? " nor in any source (--from)"
	                  : " (give it with --blob FILE or --from REF)");
	return -1;
}

/* Round 3, one blob: a file too large for one PUT (on its open session) or whose PUT failed;
 * a mount from the other sources; a streamed copy. */
static int put_one(struct put_ctx *c, struct store *dst, const struct store *msrc,
                   struct wanted_blob *b)
{
	if (b->file) {
		if (store_upload(dst, &b->up, b->file) < 0)
			return -1;
		b->presence = MADE_THERE;
		return 0;
	}
	int mounted = 0;
	for (size_t s = 0; s < c->nsources && !mounted; s++)
		if (c->sources[s] != msrc && can_mount(dst, c->sources[s]))
			store_mount(dst, c->sources[s], &b->digest, 1, &mounted);
	if (mounted) {
		b->presence = MADE_THERE;
		return 0;
	}
	return copy_from_sources(c, dst, b);
}

int put_blobs(struct put_ctx *c, struct store *dst, const char *const *digests, size_t n)
{
	if (n == 0)
		return 0;
	struct wanted_blob *bs = xcalloc(n, sizeof *bs);
	for (size_t i = 0; i < n; i++) {
		bs[i] = (struct wanted_blob){.digest = digests[i],
		                             .file = local_file(c, digests[i])};
		take_early(c, dst, &bs[i]);
	}
	struct blob_op *ops = xcalloc(2 * n + c->ntags, sizeof *ops);
	const struct store *msrc = mount_source(c, dst);
	int ret = run_round(dst, ops, first_round(c, dst, msrc, bs, n, ops), bs, n);
	if (run_round(dst, ops, second_round(c, msrc, bs, n, ops, ret < 0), bs, n) < 0)
		ret = -1;
	for (size_t i = 0; i < n && ret == 0; i++)
		if (bs[i].presence == MISSING)
			ret = put_one(c, dst, msrc, &bs[i]);
	for (size_t i = 0; i < n; i++)
		free(bs[i].up.loc); /* a failure left it open: the registry expires it */
	free(ops);
	free(bs);
	return ret;
}

/* The layers of the base (an image manifest), or NULL: an index, a manifest with more than
 * PUT_EARLY_MAX_LAYERS, one that cannot be fetched. */
static char **base_layers(struct store *base, size_t *n)
{
	struct doc d;
	char **out = NULL;
	*n = 0;
	if (store_get_manifest(base, NULL, &d) < 0)
		return NULL;
	json_t *j = NULL;
	size_t k = 0;
	const char **refs = media_type_is_manifest(d.media_type)
	                            ? put_references(&d, &k, &j, base->name)
	                            : NULL;
	if (refs && k >= 1 && k - 1 <= PUT_EARLY_MAX_LAYERS) {
		out = xcalloc(k, sizeof *out);
		for (size_t r = 1; r < k; r++) /* refs[0]: the base's config */
			out[(*n)++] = xstrdup(refs[r]);
	}
	free(refs);
	json_decref(j);
	doc_free(&d);
	return out;
}

void put_early(struct put_ctx *c, struct store *dst, size_t nups, struct early_put *e)
{
	*e = (struct early_put){.dst = dst, .ups = xcalloc(nups + 1, sizeof *e->ups), .nups = nups};
	struct store *base = NULL;
	for (size_t s = 0; s < c->nsources && base == NULL; s++)
		if (can_mount(dst, c->sources[s]))
			base = c->sources[s];
	size_t nl = 0;
	char **layers = base ? base_layers(base, &nl) : NULL;
	struct blob_op *ops = xcalloc(nl + nups + 1, sizeof *ops);
	size_t m = 0;
	for (size_t i = 0; i < nl; i++)
		ops[m++] = (struct blob_op){
		        .kind = BLOB_MOUNT, .digest = layers[i], .from = base->ref.path};
	for (size_t i = 0; i < nups; i++)
		ops[m++] = (struct blob_op){.kind = BLOB_OPEN, .up = &e->ups[i]};
	store_blob_batch(dst, ops, m);
	e->present = xcalloc(nl + 1, sizeof *e->present);
	for (size_t i = 0; i < nl; i++) {
		if (ops[i].result == 1)
			e->present[e->npresent++] = layers[i];
		else
			free(layers[i]);
	}
	free(layers);
	free(ops);
}

void put_early_end(struct early_put *e, struct store *dst)
{
	struct blob_op *ops = xcalloc(e->nups + 1, sizeof *ops);
	size_t m = 0;
	for (size_t i = 0; i < e->nups; i++)
		if (e->ups[i].loc)
			ops[m++] = (struct blob_op){.kind = BLOB_CANCEL, .up = &e->ups[i]};
	store_blob_batch(dst, ops, m);
	free(ops);
	for (size_t k = 0; k < e->npresent; k++)
		free(e->present[k]);
	free(e->present);
	free(e->ups);
	*e = (struct early_put){0};
}

/* --if-not-empty: the stream ended with no byte, and nothing is to be sent. */
static bool nothing_to_send(const struct put_ctx *c, const struct blob_src *src)
{
	return c->if_not_empty && src->eof && src->size == 0;
}

/* --hold: whether the stream is to be sent at all, asked while it is read ahead (and, into a
 * registry, its upload session u opened); -1 after a message. Dropped: nothing sent (u
 * cancelled), c->dropped. */
static int held_answer(struct put_ctx *c, struct store *dst, struct blob_src *src, struct upload *u)
{
	if (c->hold_fd < 0)
		return 0;
	enum hold_answer a = hold_wait(c->hold_fd, c->hold, src);
	c->hold_fd = -1;
	if (a == HOLD_SEND)
		return 0;
	if (u)
		store_upload_cancel(dst, u);
	if (a == HOLD_FAILED)
		return -1;
	c->dropped = true;
	return 1;
}

int put_stream(struct put_ctx *c, struct store *dst, struct blob_src *src)
{
	if (store_is_layout(dst)) {
		int h = held_answer(c, dst, src, NULL);
		if (h != 0)
			return h < 0 ? -1 : 0;
		if (c->if_not_empty && blobsrc_fill(src, 1) < 0) {
			warn("%s", src->name);
			return -1;
		}
		return nothing_to_send(c, src) ? 0 : store_put_blob(dst, src);
	}
	struct upload u;
	if (store_upload_open(dst, &u) < 0)
		return -1;
	int h = held_answer(c, dst, src, &u);
	if (h != 0)
		return h < 0 ? -1 : 0;
	if (blobsrc_fill(src, PUT_STREAM_SMALL + 1) < 0) {
		warn("%s", src->name);
		store_upload_cancel(dst, &u);
		return -1;
	}
	if (nothing_to_send(c, src)) {
		store_upload_cancel(dst, &u);
		return 0;
	}
	if (src->eof && src->size > PUT_STREAM_TINY && src->size <= PUT_STREAM_SMALL) {
		const char *dg = src->digest;
		enum head_result there = HEAD_ABSENT;
		if (store_blobs_exist(dst, &dg, 1, &there) < 0) {
			store_upload_cancel(dst, &u);
			return -1;
		}
		int mounted = 0;
		for (size_t s = 0;
		     s < c->nsources && there != HEAD_PRESENT && !mounted && c->mount_local; s++)
			if (c->sources[s] != dst && store_same_registry(dst, c->sources[s]))
				store_mount(dst, c->sources[s], &dg, 1, &mounted);
		if (there == HEAD_PRESENT || mounted) {
			store_upload_cancel(dst, &u);
			return 0;
		}
	}
	return store_upload(dst, &u, src);
}

static int put_refs(struct put_ctx *c, struct store *dst, const struct doc *d, int level);

/* The manifests an index lists (at level), present in dst. */
/* A child manifest an index lists: its local --blob file, else from a source. */
static int load_child(struct put_ctx *c, struct store *dst, const char *digest, struct doc *d)
{
	struct blob_src *f = local_file(c, digest);
	char err[256];
	if (f) {
		if (buf_read_file(&d->data, f->name, MANIFEST_MAX_BYTES) == 0 &&
		    doc_identify(d, NULL, err, sizeof err) == 0)
			return 0;
		warnx("%s: %s: not a manifest", dst->name, f->name);
		doc_free(d);
	}
	for (size_t s = 0; s < c->nsources; s++)
		if (c->sources[s] != dst && store_get_manifest(c->sources[s], digest, d) == 0)
			return 0;
	warnx("%s: manifest %s listed in the index is missing%s", dst->name, digest,
	      c->nsources ? "" : " (give it with --blob FILE or --from REF)");
	return -1;
}

/* What the missing children reference, present in dst: the blobs of every image manifest
 * among them in one put_blobs (its rounds once, not once a child), a nested index's own
 * children through put_refs. */
static int put_children_refs(struct put_ctx *c, struct store *dst, const struct doc *docs,
                             const enum head_result *have, size_t n, int level)
{
	const char **all = NULL;
	size_t nall = 0;
	json_t **jsons = xcalloc(n, sizeof *jsons), *seen = json_object();
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (have[i] == HEAD_PRESENT)
			continue;
		if (media_type_is_index(docs[i].media_type)) {
			ret = put_refs(c, dst, &docs[i], level + 1);
			continue;
		}
		size_t k;
		const char **refs = put_references(&docs[i], &k, &jsons[i], dst->name);
		if (refs == NULL) {
			ret = -1;
			break;
		}
		all = xreallocarray(all, nall + k + 1, sizeof *all);
		for (size_t r = 0; r < k; r++) {
			if (json_object_get(seen, refs[r]))
				continue; /* a blob two children share (the new layer) */
			json_object_set_new(seen, refs[r], json_true());
			all[nall++] = refs[r];
		}
		free(refs);
	}
	if (ret == 0)
		ret = put_blobs(c, dst, all, nall);
	free(all);
	json_decref(seen);
	for (size_t i = 0; i < n; i++)
		json_decref(jsons[i]);
	free(jsons);
	return ret;
}

static int put_children(struct put_ctx *c, struct store *dst, const struct doc *index,
                        const char *const *digests, size_t n, int level)
{
	if (n == 0)
		return 0;
	if (level >= PUT_MAX_LEVELS) {
		warnx("%s: index %s: documents nested more than %d levels deep (refused)",
		      dst->name, index->digest, PUT_MAX_LEVELS);
		return -1;
	}
	c->documents += n;
	if (c->documents > PUT_MAX_DOCUMENTS) {
		warnx("%s: index %s: more than %d documents in all (refused)", dst->name,
		      index->digest, PUT_MAX_DOCUMENTS);
		return -1;
	}
	enum head_result *have = xcalloc(n, sizeof *have);
	struct doc *docs = xcalloc(n, sizeof *docs);
	int ret = store_manifests_exist(dst, digests, n, have);
	size_t held = 0; /* the children are held together: bounded */
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (have[i] == HEAD_PRESENT)
			continue;
		if (load_child(c, dst, digests[i], &docs[i]) < 0)
			ret = -1;
		else if ((held += docs[i].data.len) > DOCUMENT_MAX_BYTES) {
			warnx("%s: index %s: its manifests are more than %u bytes in all (refused)",
			      dst->name, index->digest, DOCUMENT_MAX_BYTES);
			ret = -1;
		}
	}
	if (ret == 0)
		ret = put_children_refs(c, dst, docs, have, n, level);
	for (size_t i = 0; i < n && ret == 0; i++)
		if (have[i] != HEAD_PRESENT)
			ret = store_put_manifest(dst, NULL, &docs[i]);
	for (size_t i = 0; i < n; i++)
		doc_free(&docs[i]);
	free(docs);
	free(have);
	return ret;
}

/* The document's references (at level: 1 for the one given) present in dst. */
static int put_refs(struct put_ctx *c, struct store *dst, const struct doc *d, int level)
{
	json_t *j;
	size_t n;
	const char **refs = put_references(d, &n, &j, dst->name);
	if (refs == NULL) {
		json_decref(j);
		return -1;
	}
	int ret = media_type_is_index(d->media_type) ? put_children(c, dst, d, refs, n, level)
	                                             : put_blobs(c, dst, refs, n);
	free(refs);
	json_decref(j);
	return ret;
}

int put_document_refs(struct put_ctx *c, struct store *dst, const struct doc *d)
{
	c->documents = 0;
	return put_refs(c, dst, d, 1);
}
