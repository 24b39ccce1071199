#include "push.h"
#include "oci.h"
#include "util.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct blob_src *local_file(struct put_ctx *c, const char *digest)
{
	for (size_t i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i]->digest, digest) == 0)
			return c->files[i];
	return NULL;
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

int put_blobs(struct put_ctx *c, struct store *dst, const char *const *digests, size_t n)
{
	if (n == 0)
		return 0;
	int *have = xcalloc(n, sizeof *have);
	bool *mounted_from_first = xcalloc(n, sizeof *mounted_from_first);
	struct upload *ups = xcalloc(n, sizeof *ups);
	struct blob_op *ops = xcalloc(2 * n, sizeof *ops);
	size_t *of = xcalloc(2 * n, sizeof *of); /* the digest each op is for */
	int ret = 0;
	const struct store *msrc = NULL; /* the first source to mount from */
	for (size_t s = 0; s < c->nsources && msrc == NULL; s++)
		if (can_mount(dst, c->sources[s]))
			msrc = c->sources[s];

	/* 1. What is there: HEAD; or, unless head_first, a mount straight away of what has no
	 * local file (a mount of a blob the repository has succeeds too). Upload sessions for
	 * local files expected to be missing (speculate), opened meanwhile. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		struct blob_src *f = local_file(c, digests[i]);
		if (!f && msrc && !c->head_first) {
			ops[m] = (struct blob_op){
			        .kind = BLOB_MOUNT, .digest = digests[i], .from = msrc->ref.path};
			mounted_from_first[i] = true;
		} else {
			ops[m] = (struct blob_op){.kind = BLOB_HEAD, .digest = digests[i]};
		}
		of[m++] = i;
		if (f && c->speculate) {
			ops[m] = (struct blob_op){.kind = BLOB_OPEN, .up = &ups[i]};
			of[m++] = i;
		}
	}
	store_blob_batch(dst, ops, m);
	for (size_t k = 0; k < m; k++) {
		if (ops[k].kind == BLOB_HEAD && ops[k].result < 0)
			ret = -1;
		else if (ops[k].kind == BLOB_HEAD && ops[k].result == 1)
			have[of[k]] = 1;
		else if (ops[k].kind == BLOB_MOUNT && ops[k].result == 1)
			have[of[k]] = 2;
	}

	/* 2. At once: mounts of what is missing, the missing files PUT on their sessions (the
	 * others cancelled), a HEAD of what a mount straight away did not bring (it may be there
	 * all the same). Local files are mounted only with mount_local (--mount-from): without
	 * it they are a build's new blobs, which a mount would not find. */
	m = 0;
	for (size_t i = 0; i < n; i++) {
		struct blob_src *f = local_file(c, digests[i]);
		if (have[i] || ret < 0) {
			if (ups[i].loc) {
				ops[m] = (struct blob_op){.kind = BLOB_CANCEL, .up = &ups[i]};
				of[m++] = i;
			}
			continue;
		}
		if (f && ups[i].loc && !(msrc && c->mount_local)) {
			ops[m] = (struct blob_op){
			        .kind = BLOB_PUT, .digest = digests[i], .src = f, .up = &ups[i]};
		} else if (msrc && !mounted_from_first[i] && (!f || c->mount_local)) {
			ops[m] = (struct blob_op){
			        .kind = BLOB_MOUNT, .digest = digests[i], .from = msrc->ref.path};
			mounted_from_first[i] = true;
		} else if (!f && mounted_from_first[i]) {
			ops[m] = (struct blob_op){.kind = BLOB_HEAD, .digest = digests[i]};
		} else {
			continue;
		}
		of[m++] = i;
	}
	store_blob_batch(dst, ops, m);
	for (size_t k = 0; k < m; k++) {
		if (ops[k].kind == BLOB_HEAD && ops[k].result < 0)
			ret = -1;
		else if (ops[k].kind == BLOB_HEAD && ops[k].result == 1)
			have[of[k]] = 1;
		else if ((ops[k].kind == BLOB_MOUNT && ops[k].result == 1) ||
		         (ops[k].kind == BLOB_PUT && ops[k].result == 0))
			have[of[k]] = 2;
	}

	/* 3. The rest one by one: files too large for one PUT (on their open session) or whose
	 * PUT failed, mounts from the other sources, streamed copies. */
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (have[i])
			continue;
		struct blob_src *f = local_file(c, digests[i]);
		if (f) {
			if (store_upload(dst, &ups[i], f) < 0)
				ret = -1;
			else
				have[i] = 2;
			continue;
		}
		for (size_t s = 0; s < c->nsources && !have[i]; s++)
			if (c->sources[s] != msrc && can_mount(dst, c->sources[s]))
				store_mount(dst, c->sources[s], &digests[i], 1, &have[i]);
		if (have[i])
			continue;
		size_t candidates = 0;
		for (size_t s = 0; s < c->nsources; s++)
			candidates += c->sources[s] != dst;
		for (size_t s = 0; s < c->nsources && !have[i]; s++) {
			if (c->sources[s] == dst)
				continue;
			/* with several sources, ask before copying (a failed copy is an error) */
			int there = 0;
			if (candidates > 1 &&
			    (store_blobs_exist(c->sources[s], &digests[i], 1, &there) < 0 ||
			     !there))
				continue;
			if (store_copy_blob(c->s, dst, c->sources[s], digests[i]) < 0) {
				ret = -1;
				break;
			}
			have[i] = 2;
		}
		if (!have[i] && ret == 0) {
			warnx("%s: blob %s is missing: not in the repository%s", dst->name,
			      digests[i],
			      c->nsources ? " nor in any source (--from)"
			                  : " (give it with --blob FILE or --from REF)");
			ret = -1;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(ups[i].loc); /* a failure left it open: the registry expires it */
	free(ops);
	free(of);
	free(ups);
	free(mounted_from_first);
	free(have);
	return ret;
}

int put_stream(struct put_ctx *c, struct store *dst, struct blob_src *src)
{
	if (store_is_layout(dst))
		return store_put_blob(dst, src);
	struct upload u;
	if (store_upload_open(dst, &u) < 0)
		return -1;
	if (blobsrc_fill(src, PUT_STREAM_SMALL + 1) < 0) {
		warn("%s", src->name);
		store_upload_cancel(dst, &u);
		return -1;
	}
	if (src->eof && src->size <= PUT_STREAM_SMALL) {
		const char *dg = src->digest;
		int have = 0;
		if (store_blobs_exist(dst, &dg, 1, &have) < 0) {
			store_upload_cancel(dst, &u);
			return -1;
		}
		for (size_t s = 0; s < c->nsources && !have && c->mount_local; s++)
			if (c->sources[s] != dst && store_same_registry(dst, c->sources[s]))
				store_mount(dst, c->sources[s], &dg, 1, &have);
		if (have) {
			store_upload_cancel(dst, &u);
			return 0;
		}
	}
	return store_upload(dst, &u, src);
}

static int put_children(struct put_ctx *c, struct store *dst, const char *const *digests, size_t n)
{
	if (n == 0)
		return 0;
	int *have = xcalloc(n, sizeof *have);
	int ret = store_manifests_exist(dst, digests, n, have);
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (have[i])
			continue;
		struct doc d = {0};
		bool ok = false;
		struct blob_src *f = local_file(c, digests[i]);
		char err[256];
		if (f) {
			if (buf_read_file(&d.data, f->name, MANIFEST_MAX_BYTES) < 0 ||
			    doc_identify(&d, NULL, err, sizeof err) < 0)
				warnx("%s: %s: not a manifest", dst->name, f->name);
			else
				ok = true;
		}
		for (size_t s = 0; s < c->nsources && !ok; s++) {
			if (c->sources[s] == dst)
				continue;
			if (store_get_manifest(c->sources[s], digests[i], &d) == 0)
				ok = true;
		}
		if (!ok) {
			warnx("%s: manifest %s listed in the index is missing%s", dst->name,
			      digests[i],
			      c->nsources ? "" : " (give it with --blob FILE or --from REF)");
			ret = -1;
		} else {
			ret = put_document_refs(c, dst, &d);
			if (ret == 0)
				ret = store_put_child_manifest(dst, &d);
		}
		doc_free(&d);
	}
	free(have);
	return ret;
}

int put_document_refs(struct put_ctx *c, struct store *dst, const struct doc *d)
{
	json_t *j;
	size_t n;
	const char **refs = put_references(d, &n, &j, dst->name);
	if (refs == NULL) {
		json_decref(j);
		return -1;
	}
	int ret = media_type_is_index(d->media_type) ? put_children(c, dst, refs, n)
	                                             : put_blobs(c, dst, refs, n);
	free(refs);
	json_decref(j);
	return ret;
}
