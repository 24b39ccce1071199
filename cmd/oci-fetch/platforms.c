#include "platforms.h"
#include "docfetch.h"
#include "index.h"
#include "oci.h"
#include "util.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *parse_doc(const struct doc *d, const char *name)
{
	char why[256];
	json_t *j = json_parse(d->data.data, d->data.len, why, sizeof why);
	if (j == NULL)
		warnx("%s: %s is not JSON: %s", name, d->digest, why);
	return j;
}

json_t *fetch_pick_platform(const struct doc *index, const struct platform *want, const char *name)
{
	json_t *j = parse_doc(index, name);
	if (j == NULL)
		return NULL;
	char sel[96], why[1024];
	platform_format(want, sel, sizeof sel);
	struct index_pick *picks;
	size_t n;
	json_t *found = NULL;
	if (index_select(j, sel, &picks, &n, why, sizeof why)) {
		found = json_deep_copy(picks[0].entry);
		free(picks);
	} else {
		warnx("%s: %s", name, why);
	}
	json_decref(j);
	return found;
}

/* A single image's platform, from its config. */
static bool image_platform(struct store *st, const struct doc *m, struct platform *p,
                           struct buf *config, const char *name)
{
	if (docfetch_config(st, m, config, name) < 0)
		return false;
	json_t *cj = json_loadb(config->data, config->len, 0, NULL);
	bool ok = platform_from_json(cj, p);
	json_decref(cj);
	if (!ok)
		warnx("%s: the image's config names no os and architecture", name);
	return ok;
}

static int write_whole(const char *path, const void *p, size_t n)
{
	if (atomic_write_file(path, p, n, 0644) < 0) {
		warn("%s", path);
		return -1;
	}
	return 0;
}

int fetch_print_platforms(struct store *st, const struct doc *top, const char *out,
                          const char *name)
{
	struct buf list = {0};
	int r = -1;
	if (media_type_is_index(top->media_type)) {
		json_t *j = parse_doc(top, name);
		struct index_pick *picks;
		size_t n;
		char why[1024];
		if (j && index_select(j, "all", &picks, &n, why, sizeof why)) {
			for (size_t i = 0; i < n; i++) {
				char s[96];
				platform_format(&picks[i].platform, s, sizeof s);
				buf_appendf(&list, "%s\n", s);
			}
			free(picks);
			r = 0;
		} else if (j) {
			warnx("%s: %s", name, why);
		}
		json_decref(j);
	} else {
		struct platform p;
		struct buf config = {0};
		if (image_platform(st, top, &p, &config, name)) {
			char s[96];
			platform_format(&p, s, sizeof s);
			buf_appendf(&list, "%s\n", s);
			r = 0;
		}
		buf_free(&config);
	}
	if (r == 0) {
		if (out && strcmp(out, "-") != 0)
			r = write_whole(out, list.data, list.len);
		else if (write_all(STDOUT_FILENO, list.data, list.len) < 0)
			err(EXIT_FAIL, "stdout");
	}
	buf_free(&list);
	return r;
}

/* One selected platform's manifest (have, else the one the index entry names) and config into
 * DIR/N.json and DIR/N.config.json. */
static int fetch_one(struct store *st, const json_t *entry, const struct doc *have, size_t n,
                     const char *dir, const char *name)
{
	struct doc m = {0};
	struct buf config = {0};
	int r = -1;
	if (have == NULL && docfetch_manifest(st, entry, &m) < 0)
		return -1;
	const struct doc *d = have ? have : &m;
	if (!media_type_is_manifest(d->media_type)) {
		warnx("%s: %s is not an image manifest (mediaType %s)", name, d->digest,
		      d->media_type ? d->media_type : "missing");
	} else if (docfetch_config(st, d, &config, name) == 0) {
		char *mp = xasprintf("%s/%zu.json", dir, n);
		char *cp = xasprintf("%s/%zu.config.json", dir, n);
		r = write_whole(mp, d->data.data, d->data.len) < 0 ||
		                    write_whole(cp, config.data, config.len) < 0
		            ? -1
		            : 0;
		free(mp);
		free(cp);
	}
	buf_free(&config);
	doc_free(&m);
	return r;
}

/* The selection of a single image: its own platform, if the selection names it. */
static int each_of_image(struct store *st, const struct doc *top, const char *selection,
                         const char *dir, struct buf *list, const char *name)
{
	struct platform p;
	struct buf config = {0};
	bool ok = image_platform(st, top, &p, &config, name);
	buf_free(&config);
	if (!ok)
		return -1;
	char have[96];
	platform_format(&p, have, sizeof have);
	/* an index of one entry, so that the selection is judged in one place */
	json_t *one =
	        json_pack("{s:i, s:s, s:[{s:s, s:s, s:I, s:{}}]}", "schemaVersion", 2, "mediaType",
	                  MT_OCI_INDEX, "manifests", "mediaType", top->media_type, "digest",
	                  top->digest, "size", (json_int_t)top->data.len, "platform");
	platform_to_json(&p, json_object_get(json_array_get(json_object_get(one, "manifests"), 0),
	                                     "platform"));
	struct index_pick *picks;
	size_t n;
	char why[1024];
	int r = -1;
	if (!index_select(one, selection, &picks, &n, why, sizeof why)) {
		warnx("%s: a single image for %s, not an index: %s", name, have, why);
	} else {
		free(picks);
		r = fetch_one(st, NULL, top, 1, dir, name);
		buf_appendf(list, "1 %s %s\n", top->digest, have);
	}
	json_decref(one);
	return r;
}

static int each_of_index(struct store *st, const struct doc *top, const char *selection,
                         const char *dir, struct buf *list, const char *name)
{
	json_t *j = parse_doc(top, name);
	if (j == NULL)
		return -1;
	struct index_pick *picks = NULL;
	size_t n = 0;
	char why[1024];
	int r = 0;
	if (!index_select(j, selection, &picks, &n, why, sizeof why)) {
		warnx("%s: %s", name, why);
		r = -1;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *dg = descriptor_digest(picks[i].entry);
		char s[96];
		platform_format(&picks[i].platform, s, sizeof s);
		r = fetch_one(st, picks[i].entry, NULL, i + 1, dir, name);
		buf_appendf(list, "%zu %s %s\n", i + 1, dg, s);
	}
	if (r == 0) {
		char *ip = xasprintf("%s/index.json", dir);
		r = write_whole(ip, top->data.data, top->data.len);
		free(ip);
	}
	free(picks);
	json_decref(j);
	return r;
}

int fetch_each_platform(struct store *st, const struct doc *top, const char *selection,
                        const char *dir, const char *name)
{
	struct buf list = {0};
	int r = media_type_is_index(top->media_type)
	                ? each_of_index(st, top, selection, dir, &list, name)
	                : each_of_image(st, top, selection, dir, &list, name);
	if (r == 0) {
		char *lp = xasprintf("%s/platforms", dir);
		r = write_whole(lp, list.data, list.len);
		free(lp);
	}
	buf_free(&list);
	return r;
}
