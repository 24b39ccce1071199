#include "previous.h"
#include "atomic_file.h"
#include "docfetch.h"
#include "oci.h"
#include "util.h"

#include <err.h>

static bool write_doc(const char *path, const struct buf *b)
{
	if (atomic_write_file(path, b->data, b->len, 0644) == 0)
		return true;
	warn("%s", path);
	return false;
}

/* The image manifest the tag named (by its digest: verified, and through the cache) and its
 * config, written; false if not. */
static bool read_previous(struct store *dst, const char *digest, const char *out,
                          const char *config_out)
{
	json_t *desc = json_pack("{s:s}", "digest", digest);
	struct doc d = {0};
	struct buf config = {0};
	bool ok = desc && docfetch_manifest(dst, desc, &d) == 0 &&
	          media_type_is_manifest(d.media_type) &&
	          docfetch_config(dst, &d, &config, dst->name) == 0 &&
	          write_doc(config_out, &config) && write_doc(out, &d.data);
	json_decref(desc);
	doc_free(&d);
	buf_free(&config);
	return ok;
}

const char *previous_read(struct store *dst, const struct tag_check *t, const char *out,
                          const char *config_out)
{
	if (t && t->asked && t->absent)
		return "none";
	if (t && t->asked && t->tagged[0] && read_previous(dst, t->tagged, out, config_out))
		return t->tagged;
	return "unknown";
}
