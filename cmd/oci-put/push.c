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

int put_blobs(struct put_ctx *c, struct store *dst, const char *const *digests, size_t n)
{
	if (n == 0)
		return 0;
	int *have = xcalloc(n, sizeof *have);
	int ret = 0;
	const char **ask = xcalloc(n, sizeof *ask);
	size_t *where = xcalloc(n, sizeof *where);
	int *got = xcalloc(n, sizeof *got);
	/* Blobs with no local copy and a source in the same registry: mount them straight away
	 * (a mount of a blob the repository has succeeds too), which saves the HEAD round
	 * trip for the base layers of every build. */
	for (size_t s = 0; s < c->nsources; s++) {
		if (c->sources[s] == dst || !store_same_registry(dst, c->sources[s]))
			continue;
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (!have[i] && !local_file(c, digests[i]))
				ask[m] = digests[i], where[m++] = i;
		store_mount(dst, c->sources[s], ask, m, got);
		for (size_t k = 0; k < m; k++)
			if (got[k])
				have[where[k]] = 2;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!have[i])
			ask[m] = digests[i], where[m++] = i;
	if (store_blobs_exist(dst, ask, m, got) < 0)
		ret = -1;
	for (size_t k = 0; k < m && ret == 0; k++)
		have[where[k]] = got[k];
	/* local files too, with --mount-from: a mount moves no bytes (without it, local files are
	 * the new blobs of a build, and a mount would only cost a round trip) */
	for (size_t s = 0; s < c->nsources && ret == 0 && c->mount_local; s++) {
		if (c->sources[s] == dst || !store_same_registry(dst, c->sources[s]))
			continue;
		m = 0;
		for (size_t i = 0; i < n; i++)
			if (!have[i] && local_file(c, digests[i]))
				ask[m] = digests[i], where[m++] = i;
		store_mount(dst, c->sources[s], ask, m, got);
		for (size_t k = 0; k < m; k++)
			if (got[k])
				have[where[k]] = 2;
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (have[i])
			continue;
		struct blob_src *f = local_file(c, digests[i]);
		if (f) {
			if (store_put_blob(dst, f) < 0)
				ret = -1;
			else
				have[i] = 2;
			continue;
		}
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
	free(ask);
	free(where);
	free(got);
	free(have);
	return ret;
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
			ret = put_document(c, dst, &d, NULL);
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

int put_document(struct put_ctx *c, struct store *dst, const struct doc *d, const char *tag)
{
	int ret = put_document_refs(c, dst, d);
	if (ret == 0)
		ret = store_put_manifest(dst, tag, d);
	return ret;
}
