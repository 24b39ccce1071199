#include "layout.h"
#include "dirs.h"
#include "oci.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char OCI_LAYOUT[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

int layout_open(struct layout *l, const char *dir, bool create, const char *what)
{
	*l = (struct layout){.dir = xstrdup(dir)};
	char *p = xasprintf("%s/oci-layout", dir);
	struct stat st;
	int ret = 0;
	if (stat(p, &st) < 0) {
		if (!create || errno != ENOENT) {
			warnx("%s: not an OCI image layout: %s: %s", what, p, strerror(errno));
			ret = -1;
		} else {
			char *blobs = xasprintf("%s/blobs/sha256", dir);
			char *idx = xasprintf("%s/index.json", dir);
			static const char empty[] =
			        "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX
			        "\",\"manifests\":[]}";
			if (mkdir_p(blobs, 0755) < 0 ||
			    (access(idx, F_OK) < 0 &&
			     atomic_write_file(idx, empty, strlen(empty), 0644) < 0) ||
			    atomic_write_file(p, OCI_LAYOUT, strlen(OCI_LAYOUT), 0644) < 0) {
				warnx("%s: creating the OCI image layout %s: %s", what, dir,
				      strerror(errno));
				ret = -1;
			}
			free(blobs);
			free(idx);
		}
	} else if (create) {
		char *blobs = xasprintf("%s/blobs/sha256", dir);
		if (mkdir_p(blobs, 0755) < 0) {
			warnx("%s: %s: %s", what, blobs, strerror(errno));
			ret = -1;
		}
		free(blobs);
	}
	free(p);
	if (ret < 0)
		layout_close(l);
	return ret;
}

void layout_close(struct layout *l)
{
	free(l->dir);
	json_decref(l->pending);
	json_decref(l->children);
	*l = (struct layout){0};
}

static char *blob_path(const struct layout *l, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", l->dir, digest + 7);
}

static json_t *read_index(struct layout *l, const char *what)
{
	char *p = xasprintf("%s/index.json", l->dir);
	struct buf b = {0};
	json_t *j = NULL;
	char err[200];
	if (buf_read_file(&b, p, MANIFEST_MAX_BYTES) < 0)
		warnx("%s: %s: %s", what, p, strerror(errno));
	else if ((j = json_parse(b.data ? b.data : "", b.len, err, sizeof err)) == NULL ||
	         !json_is_array(json_object_get(j, "manifests"))) {
		warnx("%s: %s: not an OCI index%s%s", what, p, j ? "" : ": ", j ? "" : err);
		json_decref(j);
		j = NULL;
	}
	buf_free(&b);
	free(p);
	return j;
}

static const char *entry_ref_name(json_t *e)
{
	return json_string_value(
	        json_object_get(json_object_get(e, "annotations"), ANNOTATION_REF_NAME));
}

static int read_doc(struct layout *l, const char *digest, const char *mt, struct doc *d,
                    const char *what)
{
	*d = (struct doc){0};
	char *p = blob_path(l, digest);
	char err[256];
	int ret = -1;
	if (buf_read_file(&d->data, p, MANIFEST_MAX_BYTES) < 0) {
		if (errno == EFBIG)
			warnx("%s: manifest larger than %u bytes (4 MiB, the distribution spec's "
			      "limit)",
			      what, MANIFEST_MAX_BYTES);
		else
			warnx("%s: %s: %s", what, p, strerror(errno));
	} else if (doc_identify(d, mt, err, sizeof err) < 0) {
		warnx("%s: manifest is %s", what, err);
	} else if (strcmp(d->digest, digest) != 0) {
		warnx("%s: digest mismatch: %s hashes to %s", what, p, d->digest);
	} else {
		ret = 0;
	}
	if (ret < 0)
		doc_free(d);
	free(p);
	return ret;
}

int layout_get_manifest(struct layout *l, const char *tag, const char *digest, struct doc *d,
                        const char *what)
{
	if (digest)
		return read_doc(l, digest, NULL, d, what);
	json_t *idx = read_index(l, what);
	if (idx == NULL)
		return -1;
	json_t *ms = json_object_get(idx, "manifests"), *e, *found = NULL;
	size_t i;
	json_array_foreach(ms, i, e)
	{
		const char *name = entry_ref_name(e);
		if (tag ? name && strcmp(name, tag) == 0 : json_array_size(ms) == 1)
			found = e;
	}
	int ret = -1;
	char err[200];
	if (found == NULL) {
		struct buf names = {0};
		json_array_foreach(ms, i, e)
		{
			const char *n = entry_ref_name(e);
			if (n)
				buf_appendf(&names, "%s%s", names.len ? ", " : "", n);
		}
		if (tag)
			warnx("%s: no tag \"%s\" in %s/index.json (it has: %s)", what, tag, l->dir,
			      names.len ? names.data : "no tags");
		else
			warnx("%s: %s/index.json has %zu entries: name one with oci:DIR:TAG (tags: "
			      "%s)",
			      what, l->dir, json_array_size(ms), names.len ? names.data : "none");
		buf_free(&names);
	} else if (!descriptor_check(found, err, sizeof err)) {
		warnx("%s: %s/index.json: %s", what, l->dir, err);
	} else {
		ret = read_doc(l, descriptor_digest(found), descriptor_media_type(found), d, what);
	}
	json_decref(idx);
	return ret;
}

int layout_has_blob(struct layout *l, const char *digest)
{
	char *p = blob_path(l, digest);
	int r = access(p, F_OK) == 0;
	free(p);
	return r;
}

int layout_get_blob(struct layout *l, const char *digest, blob_sink sink, void *ctx,
                    const char *what)
{
	char *p = blob_path(l, digest);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		warnx("%s: blob %s: %s: %s", what, digest, p, strerror(errno));
		free(p);
		return -1;
	}
	char got[DIGEST_STR_LEN];
	uint64_t size;
	int ret = -1;
	switch (sha256_fd(fd, sink, ctx, got, &size)) {
	case SHA256_FD_READ_FAILED:
		warnx("%s: %s: %s", what, p, strerror(errno));
		break;
	case SHA256_FD_SINK_FAILED:
		warnx("%s: blob %s: cannot write it out", what, digest);
		break;
	case SHA256_FD_OK:
		if (strcmp(got, digest) != 0)
			warnx("%s: blob %s: digest mismatch: %s hashes to %s", what, digest, p,
			      got);
		else
			ret = 0;
		break;
	}
	close(fd);
	free(p);
	return ret;
}

int layout_put_blob(struct layout *l, struct blob_src *src, const char *what)
{
	if (src->digest[0] && (src->seekable || src->eof) && layout_has_blob(l, src->digest))
		return 0;
	char *tmpl = xasprintf("%s/blobs/sha256/upload", l->dir);
	struct atomic_file f;
	if (atomic_open(&f, tmpl, 0644) < 0) {
		warnx("%s: %s: %s", what, tmpl, strerror(errno));
		free(tmpl);
		return -1;
	}
	free(tmpl);
	char *b = xmalloc(1u << 20);
	uint64_t off = 0;
	int ret = 0;
	for (;;) {
		ssize_t r = blobsrc_read(src, off, b, 1u << 20);
		if (r < 0) {
			if (src->error == EBADMSG)
				warnx("%s: %s: digest mismatch: got %s, expected %s", what,
				      src->name, src->digest, src->expect);
			else
				warnx("%s: reading %s: %s", what, src->name, strerror(src->error));
			ret = -1;
			break;
		}
		if (r == 0)
			break;
		if (write_all(f.fd, b, (size_t)r) < 0) {
			warnx("%s: %s: %s", what, f.tmp, strerror(errno));
			ret = -1;
			break;
		}
		off += (uint64_t)r;
	}
	free(b);
	if (ret < 0) {
		atomic_abort(&f);
		return -1;
	}
	/* the name is the digest, known only now */
	free(f.path);
	f.path = blob_path(l, src->digest);
	if (atomic_commit(&f) < 0) {
		warnx("%s: storing blob %s: %s", what, src->digest, strerror(errno));
		return -1;
	}
	return 0;
}

/* The document as a blob (if it is not there yet). */
static int store_document(struct layout *l, const struct doc *d, const char *what)
{
	char *p = blob_path(l, d->digest);
	int ret = 0;
	if (access(p, F_OK) < 0 && atomic_write_file(p, d->data.data, d->data.len, 0644) < 0) {
		warnx("%s: %s: %s", what, p, strerror(errno));
		ret = -1;
	}
	free(p);
	return ret;
}

/* index.json's entry for the document, named by tag (NULL: unnamed) and, for docker save's
 * layout, by its full name. */
static json_t *index_entry(const struct doc *d, const char *tag, const char *full_name)
{
	json_t *e = json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest,
	                      "size", (json_int_t)d->data.len);
	if (full_name)
		json_object_set_new(e, "annotations",
		                    json_pack("{s:s, s:s}", ANNOTATION_CONTAINERD_NAME, full_name,
		                              ANNOTATION_REF_NAME, tag));
	else if (tag)
		json_object_set_new(e, "annotations", json_pack("{s:s}", ANNOTATION_REF_NAME, tag));
	return e;
}

/* An entry into the index's manifests: a named one replaces the entries of its name, an
 * unnamed one goes in unless its digest is there. */
static void add_entry(json_t *ms, json_t *entry)
{
	const char *tag = entry_ref_name(entry), *digest = descriptor_digest(entry);
	bool present = false;
	for (size_t i = json_array_size(ms); i-- > 0;) {
		json_t *e = json_array_get(ms, i);
		const char *name = entry_ref_name(e), *dg = descriptor_digest(e);
		if (tag && name && strcmp(name, tag) == 0)
			json_array_remove(ms, i);
		else if (!tag && dg && strcmp(dg, digest) == 0)
			present = true;
	}
	if (!present)
		json_array_append(ms, entry);
}

/* Compact JSON and a newline, as `jq -c` prints it (docker save's files). */
static char *json_line(const json_t *doc, size_t *len)
{
	char *s = json_serialise(doc, len);
	s = xreallocarray(s, *len + 2, 1);
	s[(*len)++] = '\n';
	s[*len] = '\0';
	return s;
}

/* index.json: read, the pending entries added (with replace, the image's entries alone, as
 * docker save writes them: a trailing newline too), written back; under a lock so that
 * concurrent runs do not lose each other's tags. */
static int write_index(struct layout *l, bool replace, const char *what)
{
	int dfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || flock(dfd, LOCK_EX) < 0) {
		warnx("%s: locking %s: %s", what, l->dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	int ret = -1;
	json_t *idx = read_index(l, what);
	if (idx) {
		json_t *ms = json_object_get(idx, "manifests"), *e;
		size_t i;
		if (replace)
			json_array_clear(ms);
		json_array_foreach(l->pending, i, e)
		{
			if (replace)
				json_array_append(ms, e);
			else
				add_entry(ms, e);
		}
		size_t n;
		char *s = replace ? json_line(idx, &n) : json_serialise(idx, &n);
		char *ip = xasprintf("%s/index.json", l->dir);
		if (atomic_write_file(ip, s, n, 0644) < 0)
			warnx("%s: %s: %s", what, ip, strerror(errno));
		else
			ret = 0;
		free(ip);
		free(s);
		json_decref(idx);
	}
	close(dfd);
	json_array_clear(l->pending);
	return ret;
}

static void add_pending(struct layout *l, json_t *entry)
{
	if (l->pending == NULL)
		l->pending = json_array();
	json_array_append_new(l->pending, entry);
}

bool layout_is_expected_child(const struct layout *l, const char *digest)
{
	size_t i;
	json_t *c;
	json_array_foreach(l->children, i, c)
	{
		if (strcmp(json_string_value(c), digest) == 0)
			return true;
	}
	return false;
}

void layout_expect_children(struct layout *l, const char *const *digests, size_t n)
{
	if (l->children == NULL)
		l->children = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(l->children, json_string(digests[i]));
}

int layout_put_manifest(struct layout *l, const char *tag, const struct doc *d, const char *what)
{
	if (store_document(l, d, what) < 0)
		return -1;
	/* an index's child is reached through the index: a blob, not an index.json entry */
	if (!tag && layout_is_expected_child(l, d->digest))
		return 0;
	add_pending(l, index_entry(d, tag, NULL));
	return write_index(l, false, what);
}

/* docker load's manifest.json for an image manifest: its config, its names, its layers, as
 * paths in the layout. */
static int write_docker_manifest(struct layout *l, const struct doc *d, json_t *names,
                                 const char *what)
{
	char err[256];
	json_t *m = json_parse(d->data.data, d->data.len, err, sizeof err);
	json_t *layers = json_array(), *e;
	size_t i;
	json_array_foreach(json_object_get(m, "layers"), i, e)
	{
		json_array_append_new(layers,
		                      json_sprintf("blobs/sha256/%s", descriptor_digest(e) + 7));
	}
	json_t *doc = json_pack("[{s:o, s:O, s:o}]", "Config",
	                        json_sprintf("blobs/sha256/%s",
	                                     descriptor_digest(json_object_get(m, "config")) + 7),
	                        "RepoTags", names, "Layers", layers);
	size_t n;
	char *s = json_line(doc, &n);
	char *p = xasprintf("%s/manifest.json", l->dir);
	int ret = atomic_write_file(p, s, n, 0644);
	if (ret < 0)
		warnx("%s: %s: %s", what, p, strerror(errno));
	free(p);
	free(s);
	json_decref(doc);
	json_decref(m);
	return ret;
}

int layout_put_image(struct layout *l, const struct doc *d, const char *const *names,
                     const char *const *tags, size_t nnames, enum layout_naming how,
                     const char *what)
{
	if (how == LAYOUT_NAME_DOCKER_SAVE && !media_type_is_manifest(d->media_type) &&
	    !media_type_is_index(d->media_type)) {
		warnx("%s: docker save's layout holds an image manifest or index, not %s", what,
		      d->media_type);
		return -1;
	}
	if (store_document(l, d, what) < 0)
		return -1;
	json_t *repo_tags = json_array();
	for (size_t i = 0; i < nnames; i++) {
		const char *tag = tags[i];
		if (how == LAYOUT_NAME_DOCKER_SAVE) {
			add_pending(l, index_entry(d, tag, names[i]));
			json_array_append_new(repo_tags, json_string(names[i]));
			continue;
		}
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen = seen || strcmp(tags[j], tag) == 0;
		if (!seen)
			add_pending(l, index_entry(d, tag, NULL));
	}
	int ret = 0;
	/* manifest.json holds one image: an index is loaded through index.json (docker with the
	 * containerd image store, podman, skopeo) */
	if (how == LAYOUT_NAME_DOCKER_SAVE && media_type_is_manifest(d->media_type))
		ret = write_docker_manifest(l, d, repo_tags, what);
	if (ret == 0)
		ret = write_index(l, how == LAYOUT_NAME_DOCKER_SAVE, what);
	json_decref(repo_tags);
	return ret;
}
