#include "docfetch.h"
#include "doccache.h"
#include "util.h"

#include <err.h>

static int config_sink(const char *p, size_t n, void *ctx)
{
	struct buf *b = ctx;
	if (b->len + n > DOCUMENT_MAX_BYTES) {
		warnx("config blob larger than %u bytes", DOCUMENT_MAX_BYTES);
		return -1;
	}
	buf_append(b, p, n);
	return 0;
}

/* The documents of a registry go through the cache; a layout's are on disk already. */
static bool cache_serves(const struct store *st)
{
	return doccache_on() && !store_is_layout(st);
}

/* The blob of a config descriptor cd into config: from the cache, else fetched (and kept). */
static int get_config(struct store *st, const json_t *cd, struct buf *config)
{
	const char *dg = descriptor_digest(cd);
	int64_t size = descriptor_size(cd);
	if (cache_serves(st) && doccache_get(dg, size, DOCUMENT_MAX_BYTES, config))
		return 0;
	size_t start = config->len;
	int r = store_get_blob(st, dg, config_sink, config);
	if (r == 0 && cache_serves(st) && config->len - start == (uint64_t)size)
		doccache_put(dg, config->data + start, config->len - start);
	return r;
}

int docfetch_config(struct store *st, const struct doc *manifest, struct buf *config,
                    const char *name)
{
	char why[256];
	json_t *j = json_parse(manifest->data.data, manifest->data.len, why, sizeof why);
	json_t *cd = json_object_get(j, "config");
	int r = -1;
	if (j == NULL)
		warnx("%s: manifest %s is not JSON: %s", name, manifest->digest, why);
	else if (!descriptor_check(cd, why, sizeof why))
		warnx("%s: the manifest's config: %s", name, why);
	else
		r = get_config(st, cd, config);
	json_decref(j);
	return r;
}

int docfetch_manifest(struct store *st, const json_t *desc, struct doc *d)
{
	const char *dg = desc ? descriptor_digest(desc) : st->ref.digest;
	int64_t size = desc ? descriptor_size(desc) : -1;
	*d = (struct doc){0};
	if (dg && cache_serves(st) && doccache_get(dg, size, MANIFEST_MAX_BYTES, &d->data)) {
		char why[256];
		if (doc_identify(d, desc ? descriptor_media_type(desc) : NULL, why, sizeof why) ==
		            0 &&
		    d->media_type != NULL)
			return 0;
		/* verified bytes naming no type of their own: the registry's Content-Type says */
		doc_free(d);
	}
	if (store_get_manifest(st, desc ? dg : NULL, d) < 0)
		return -1;
	if (dg && cache_serves(st) && (size < 0 || d->data.len == (uint64_t)size))
		doccache_put(d->digest, d->data.data, d->data.len);
	return 0;
}
