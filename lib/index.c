#include "index.h"
#include "oci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum index_entry_kind index_entry_kind(const json_t *entry, struct platform *p)
{
	*p = (struct platform){0};
	if (media_type_is_index(descriptor_media_type(entry)))
		return INDEX_ENTRY_INDEX;
	if (json_object_get(entry, "artifactType") != NULL ||
	    json_object_get(json_object_get(entry, "annotations"),
	                    ANNOTATION_DOCKER_REFERENCE_TYPE) != NULL)
		return INDEX_ENTRY_SKIPPED;
	if (!platform_from_json(json_object_get(entry, "platform"), p) ||
	    strcmp(p->os, "unknown") == 0 || strcmp(p->arch, "unknown") == 0)
		return INDEX_ENTRY_SKIPPED;
	return INDEX_ENTRY_IMAGE;
}

static json_t *entries_of(const json_t *index)
{
	json_t *ms = json_object_get(index, "manifests");
	return json_is_array(ms) ? ms : NULL;
}

void index_platforms(const json_t *index, const char *sep, struct buf *out)
{
	size_t i, listed = 0;
	json_t *e;
	json_array_foreach(entries_of(index), i, e)
	{
		struct platform p;
		if (index_entry_kind(e, &p) != INDEX_ENTRY_IMAGE)
			continue;
		char s[96];
		platform_format(&p, s, sizeof s);
		buf_appendf(out, "%s%s", listed++ ? sep : "", s);
	}
	if (listed == 0)
		buf_appendf(out, "no platforms");
}

/* Calls each(platform text, ctx) for every item of a comma-separated selection; stops at
 * the first that returns false. */
static bool each_listed(const char *selection, bool (*each)(const char *, void *), void *ctx)
{
	const char *s = selection;
	for (;;) {
		size_t n = strcspn(s, ",");
		char item[128];
		if (n >= sizeof item)
			n = sizeof item - 1; /* then malformed: platform_parse refuses it */
		memcpy(item, s, n);
		item[n] = '\0';
		if (!each(item, ctx))
			return false;
		if (s[n] == '\0')
			return true;
		s += n + 1;
	}
}

struct check_ctx {
	char *err;
	size_t errlen;
};

static bool check_one(const char *item, void *ctx)
{
	struct check_ctx *c = ctx;
	struct platform p;
	if (!platform_parse(item, &p))
		return fail_reason(c->err, c->errlen, "\"%s\" is not OS/ARCH[/VARIANT]", item);
	return true;
}

bool index_selection_check(const char *selection, char *err, size_t errlen)
{
	if (strcmp(selection, "all") == 0)
		return true;
	struct check_ctx c = {err, errlen};
	return each_listed(selection, check_one, &c);
}

struct select_ctx {
	const json_t *index;
	bool *taken; /* per entry */
	char *err;
	size_t errlen;
};

/* Takes the first image entry of the listed platform. */
static bool take_listed(const char *item, void *ctx)
{
	struct select_ctx *c = ctx;
	struct platform want, have;
	if (!platform_parse(item, &want))
		return fail_reason(c->err, c->errlen, "\"%s\" is not OS/ARCH[/VARIANT]", item);
	size_t i;
	json_t *e;
	json_array_foreach(entries_of(c->index), i, e)
	{
		if (index_entry_kind(e, &have) == INDEX_ENTRY_IMAGE &&
		    platform_match(&want, &have)) {
			c->taken[i] = true;
			return true;
		}
	}
	char w[96];
	platform_format(&want, w, sizeof w);
	struct buf has = {0};
	index_platforms(c->index, ", ", &has);
	fail_reason(c->err, c->errlen, "no manifest for platform %s in the index; it has: %s", w,
	            has.data);
	buf_free(&has);
	return false;
}

/* A nested index is never silently dropped: the selection refuses it. */
static bool refuse_nested(const json_t *index, char *err, size_t errlen)
{
	size_t i;
	json_t *e;
	struct platform p;
	json_array_foreach(entries_of(index), i, e)
	{
		if (index_entry_kind(e, &p) == INDEX_ENTRY_INDEX)
			return fail_reason(
			        err, errlen,
			        "manifests[%zu] (%s) is an index inside the index, which "
			        "is not supported: name one of its images or platforms "
			        "directly",
			        i, descriptor_digest(e) ? descriptor_digest(e) : "no digest");
	}
	return true;
}

static bool check_entries(const json_t *index, char *err, size_t errlen)
{
	if (!media_type_is_index(manifest_media_type(index)) || entries_of(index) == NULL)
		return fail_reason(err, errlen, "not an image index (no manifests array)");
	size_t i;
	json_t *e;
	char why[256];
	json_array_foreach(entries_of(index), i, e)
	{
		if (!descriptor_check(e, why, sizeof why))
			return fail_reason(err, errlen, "manifests[%zu]: %s", i, why);
	}
	return true;
}

bool index_select(const json_t *index, const char *selection, struct index_pick **picks, size_t *n,
                  char *err, size_t errlen)
{
	*picks = NULL;
	*n = 0;
	if (!check_entries(index, err, errlen) || !refuse_nested(index, err, errlen))
		return false;
	json_t *ms = entries_of(index), *e;
	size_t count = json_array_size(ms), i;
	bool *taken = xcalloc(count + 1, sizeof *taken);
	struct platform p;
	if (strcmp(selection, "all") == 0) {
		json_array_foreach(ms, i, e)
		{
			taken[i] = index_entry_kind(e, &p) == INDEX_ENTRY_IMAGE;
		}
	} else {
		struct select_ctx c = {index, taken, err, errlen};
		if (!each_listed(selection, take_listed, &c)) {
			free(taken);
			return false;
		}
	}
	*picks = xcalloc(count + 1, sizeof **picks);
	json_array_foreach(ms, i, e)
	{
		if (!taken[i])
			continue;
		index_entry_kind(e, &p);
		(*picks)[(*n)++] = (struct index_pick){i, e, p};
	}
	free(taken);
	if (*n == 0) {
		free(*picks);
		*picks = NULL;
		return fail_reason(err, errlen,
		                   "the index has no image for a platform (its %zu entries are "
		                   "attestations, artifacts or of unknown platform)",
		                   count);
	}
	return true;
}

json_t *index_platform_of_config(const json_t *config)
{
	static const char *const members[] = {"architecture", "os", "os.version", "os.features",
	                                      "variant"};
	if (!json_is_string(json_object_get(config, "os")) ||
	    !json_is_string(json_object_get(config, "architecture")))
		return NULL;
	json_t *p = json_object();
	for (size_t i = 0; i < sizeof members / sizeof *members; i++) {
		json_t *v = json_object_get(config, members[i]);
		if (v && !json_is_null(v) && !(json_is_string(v) && *json_string_value(v) == '\0'))
			json_object_set(p, members[i], v);
	}
	return p;
}

/* One platform: the same normalised OS/ARCH/VARIANT and the same os.version. */
static bool same_platform(const json_t *a, const json_t *b)
{
	struct platform pa, pb;
	if (!platform_from_json(a, &pa) || !platform_from_json(b, &pb) || !platform_match(&pa, &pb))
		return false;
	const char *va = json_string_value(json_object_get(a, "os.version"));
	const char *vb = json_string_value(json_object_get(b, "os.version"));
	return (va == NULL && vb == NULL) || (va && vb && strcmp(va, vb) == 0);
}

/* The new index's mediaType: the children's family, which must be one. */
static const char *family_of(const struct index_child *c, size_t n, char *err, size_t errlen)
{
	size_t docker = 0;
	for (size_t i = 0; i < n; i++) {
		if (!media_type_is_manifest(c[i].media_type)) {
			fail_reason(err, errlen, "%s: not an image manifest (mediaType %s)",
			            c[i].what, c[i].media_type ? c[i].media_type : "missing");
			return NULL;
		}
		docker += strcmp(c[i].media_type, MT_DOCKER_MANIFEST) == 0;
	}
	if (docker == n)
		return MT_DOCKER_LIST;
	if (docker == 0)
		return MT_OCI_INDEX;
	fail_reason(err, errlen,
	            "%zu of the %zu manifests are Docker schema 2 and the others OCI: one index "
	            "cannot hold both (registries refuse an OCI index of Docker manifests); make "
	            "them one family (ocinoco build --oci, or zstd layers, give OCI)",
	            docker, n);
	return NULL;
}

static bool check_platforms(const struct index_child *c, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		struct platform p;
		if (!platform_from_json(c[i].platform, &p))
			return fail_reason(err, errlen, "%s: no platform (os and architecture)",
			                   c[i].what);
		for (size_t k = 0; k < i; k++)
			if (same_platform(c[k].platform, c[i].platform)) {
				char s[96];
				platform_format(&p, s, sizeof s);
				return fail_reason(err, errlen,
				                   "%s and %s are both for %s: an index holds one "
				                   "image per platform",
				                   c[k].what, c[i].what, s);
			}
	}
	return true;
}

static json_t *annotations_of(const char *base_name, const char *base_digest, const char *const *kv,
                              size_t nkv)
{
	json_t *a = json_object();
	if (base_name)
		json_object_set_new(a, ANNOTATION_BASE_NAME, json_string(base_name));
	if (base_digest)
		json_object_set_new(a, ANNOTATION_BASE_DIGEST, json_string(base_digest));
	for (size_t i = 0; i < nkv; i++) {
		const char *eq = strchr(kv[i], '=');
		if (eq == NULL || eq == kv[i])
			continue; /* the callers check K=V */
		char *key = xstrndup(kv[i], (size_t)(eq - kv[i]));
		json_object_set_new(a, key, json_string(eq + 1));
		free(key);
	}
	return a;
}

json_t *index_build(const struct index_child *c, size_t n, const char *base_name,
                    const char *base_digest, const char *const *annotations, size_t nannotations,
                    char *err, size_t errlen)
{
	if (n == 0) {
		fail_reason(err, errlen, "no manifest to list");
		return NULL;
	}
	const char *mt = family_of(c, n, err, errlen);
	if (mt == NULL || !check_platforms(c, n, err, errlen))
		return NULL;
	json_t *idx = json_object();
	json_object_set_new(idx, "schemaVersion", json_integer(2));
	json_object_set_new(idx, "mediaType", json_string(mt));
	json_t *ms = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "mediaType", json_string(c[i].media_type));
		json_object_set_new(e, "digest", json_string(c[i].digest));
		json_object_set_new(e, "size", json_integer((json_int_t)c[i].size));
		json_object_set_new(e, "platform", json_deep_copy(c[i].platform));
		json_array_append_new(ms, e);
	}
	json_object_set_new(idx, "manifests", ms);
	json_t *a = annotations_of(base_name, base_digest, annotations, nannotations);
	if (json_object_size(a) > 0)
		json_object_set_new(idx, "annotations", a);
	else
		json_decref(a);
	return idx;
}
