#include "keep.h"
#include "doccache.h"
#include "oci.h"
#include "util.h"

#include <jansson.h>
#include <string.h>
#include <unistd.h>

/* The bytes of the --blob file of descriptor desc into out, read again now (at most max) and
 * checked: its size and digest; false when there is no such file or it is not those bytes. */
static bool read_described(const json_t *desc, size_t max, struct blob_src *const *files, size_t n,
                           struct buf *out)
{
	char e[256];
	if (!descriptor_check(desc, e, sizeof e))
		return false;
	const char *digest = descriptor_digest(desc);
	int64_t size = descriptor_size(desc);
	struct blob_src *f = blobsrc_find(files, n, digest);
	if (f == NULL || size < 0 || (uint64_t)size > max)
		return false;
	/* its descriptor, open since it was hashed (a regular file; uploads read it with pread) */
	if (lseek(f->fd, 0, SEEK_SET) < 0 || buf_read_fd(out, f->fd, max) < 0)
		return false;
	char have[DIGEST_STR_LEN];
	sha256_of(out->data ? out->data : "", out->len, have);
	return out->len == (uint64_t)size && strcmp(have, digest) == 0;
}

/* The config of the manifest json, if it is a --blob file, into the cache. */
static void keep_config_of(const json_t *manifest, struct blob_src *const *files, size_t n)
{
	const json_t *cd = json_object_get(manifest, "config");
	struct buf b = {0};
	if (json_is_object(cd) && read_described(cd, DOCUMENT_MAX_BYTES, files, n, &b))
		doccache_put(descriptor_digest(cd), b.data, b.len);
	buf_free(&b);
}

void keep_documents(const struct doc *d, struct blob_src *const *files, size_t nfiles)
{
	if (!doccache_on())
		return;
	char e[256];
	json_t *j = json_parse(d->data.data, d->data.len, e, sizeof e);
	if (j == NULL)
		return;
	if (media_type_is_manifest(d->media_type)) {
		keep_config_of(j, files, nfiles);
		doccache_put(d->digest, d->data.data, d->data.len);
	}
	const json_t *list = json_object_get(j, "manifests");
	if (media_type_is_index(d->media_type) && json_is_array(list)) {
		size_t i;
		const json_t *md;
		json_array_foreach(list, i, md)
		{
			struct buf b = {0};
			json_t *child = NULL;
			if (read_described(md, MANIFEST_MAX_BYTES, files, nfiles, &b) &&
			    (child = json_parse(b.data, b.len, e, sizeof e)) != NULL)
				keep_config_of(child, files, nfiles);
			json_decref(child);
			buf_free(&b);
		}
	}
	json_decref(j);
}
