/* oci-index: writes an image index of manifests, offline. Either a base index's entries
 * replaced by new manifests (a multi-platform build: each entry keeps its base platform as the
 * base had it), or images and indexes combined (each image's platform read from its config,
 * each index's platform images taken in). The output is a pure function of the inputs. */
#include "digest.h"
#include "index.h"
#include "oci.h"
#include "util.h"
#include "cli.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
        "usage: oci-index --base INDEX [--base-name REF] (--child DIGEST=MANIFEST)...\n"
        "                 [--annotations-of MANIFEST] [--annotation K=V]... [-o FILE]\n"
        "                 [--digest-out FILE]\n"
        "       oci-index (--add MANIFEST --config CONFIG | --add INDEX)...\n"
        "                 [--annotation K=V]... [-o FILE] [--digest-out FILE]\n"
        "       oci-index -h | --help | --version\n";

/* A document read whole, parsed, and named by its file. */
struct file_doc {
	const char *path;
	struct buf bytes;
	json_t *json;
	char digest[DIGEST_STR_LEN];
};

/* What the command line asks for: the documents, and which option named each. */
struct request {
	const char *base_path, *base_name, *out, *digest_out, *annotations_of;
	const char **children; /* "DIGEST=MANIFEST" */
	size_t nchildren;
	const char **adds, **configs; /* configs[i]: the --config after adds[i], or NULL */
	size_t nadds;
	const char **annotations;
	size_t nannotations;
};

static const char *display(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

static void read_doc(struct file_doc *d, const char *path, size_t max)
{
	d->path = path;
	if (buf_read_file(&d->bytes, path, max) != 0) {
		if (errno == EFBIG)
			errx(EXIT_FAIL, "%s: larger than %zu bytes", display(path), max);
		err(EXIT_FAIL, "%s", display(path));
	}
	char why[300];
	d->json = json_parse(d->bytes.data, d->bytes.len, why, sizeof why);
	if (d->json == NULL)
		errx(EXIT_FAIL, "%s: not JSON: %s", display(path), why);
	sha256_of(d->bytes.data, d->bytes.len, d->digest);
}

static void free_doc(struct file_doc *d)
{
	buf_free(&d->bytes);
	json_decref(d->json);
}

/* A manifest as an index entry (its platform set by the caller). */
static struct index_child child_of(const struct file_doc *m)
{
	struct index_child c = {.size = (int64_t)m->bytes.len,
	                        .media_type = manifest_media_type(m->json),
	                        .what = display(m->path)};
	memcpy(c.digest, m->digest, sizeof c.digest);
	if (!media_type_is_manifest(c.media_type))
		errx(EXIT_FAIL, "%s: not an image manifest (mediaType %s)", c.what,
		     c.media_type ? c.media_type : "missing");
	return c;
}

/* --base and --child: each new manifest takes the place of the base entry it was grafted
 * onto, in the base's order, with that entry's platform. */
static size_t children_of_base(const struct request *r, struct file_doc *base,
                               struct file_doc *docs, struct index_child *out)
{
	read_doc(base, r->base_path, MANIFEST_MAX_BYTES);
	if (!media_type_is_index(manifest_media_type(base->json)))
		errx(EXIT_FAIL, "%s: not an image index", display(r->base_path));
	json_t *ms = json_object_get(base->json, "manifests");
	size_t *pos = xcalloc(r->nchildren + 1, sizeof *pos);
	for (size_t i = 0; i < r->nchildren; i++) {
		const char *eq = strchr(r->children[i], '=');
		char *dg = xstrndup(r->children[i], (size_t)(eq - r->children[i]));
		size_t k;
		json_t *e;
		pos[i] = SIZE_MAX;
		json_array_foreach(ms, k, e)
		{
			const char *ed = descriptor_digest(e);
			if (ed && strcmp(ed, dg) == 0) {
				pos[i] = k;
				break;
			}
		}
		if (pos[i] == SIZE_MAX)
			errx(EXIT_FAIL, "--child %s: not an entry of %s", r->children[i],
			     display(r->base_path));
		for (size_t j = 0; j < i; j++)
			if (pos[j] == pos[i])
				errx(EXIT_FAIL, "--child: %s is given twice", dg);
		free(dg);
		read_doc(&docs[i], eq + 1, MANIFEST_MAX_BYTES);
	}
	/* in the base's order */
	size_t n = 0;
	for (size_t k = 0; k < json_array_size(ms); k++)
		for (size_t i = 0; i < r->nchildren; i++)
			if (pos[i] == k) {
				out[n] = child_of(&docs[i]);
				out[n++].platform =
				        json_object_get(json_array_get(ms, k), "platform");
			}
	free(pos);
	return n;
}

/* The config --config names must be the one the manifest names (sha256 and size). */
static void check_config(const struct file_doc *m, const struct file_doc *c)
{
	json_t *named = json_object_get(m->json, "config");
	char why[300];
	if (!descriptor_check(named, why, sizeof why))
		errx(EXIT_FAIL, "%s: config: %s", display(m->path), why);
	if (strcmp(c->digest, descriptor_digest(named)) != 0 ||
	    (int64_t)c->bytes.len != descriptor_size(named))
		errx(EXIT_FAIL, "%s: is not the config %s names (its sha256 is %s, not %s)",
		     display(c->path), display(m->path), c->digest, descriptor_digest(named));
}

/* An --add INDEX: its images for a real platform, their platforms as the index has them. */
static size_t children_of_index(const struct file_doc *idx, struct index_child *out)
{
	struct index_pick *picks;
	size_t n;
	char why[600];
	if (!index_select(idx->json, "all", &picks, &n, why, sizeof why))
		errx(EXIT_FAIL, "%s: %s", display(idx->path), why);
	for (size_t i = 0; i < n; i++) {
		const json_t *e = picks[i].entry;
		out[i] = (struct index_child){.size = descriptor_size(e),
		                              .media_type = descriptor_media_type(e),
		                              .platform = json_object_get(e, "platform"),
		                              .what = display(idx->path)};
		snprintf(out[i].digest, sizeof out[i].digest, "%s", descriptor_digest(e));
	}
	free(picks);
	return n;
}

/* --add: images (the platform from the config) and indexes (their entries), in order. */
static size_t children_of_adds(const struct request *r, struct file_doc *docs,
                               struct file_doc *configs, json_t **platforms,
                               struct index_child **out)
{
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < r->nadds; i++) {
		read_doc(&docs[i], r->adds[i], MANIFEST_MAX_BYTES);
		bool is_index = media_type_is_index(manifest_media_type(docs[i].json));
		if (is_index && r->configs[i])
			usage_error(usage_text, "--add %s is an index: it takes no --config",
			            r->adds[i]);
		if (!is_index && r->configs[i] == NULL)
			usage_error(usage_text,
			            "--add %s: give its --config (an image's platform is in its "
			            "config)",
			            r->adds[i]);
		size_t more =
		        is_index ? json_array_size(json_object_get(docs[i].json, "manifests")) : 1;
		if (n + more > cap) {
			cap = (n + more) * 2;
			*out = xreallocarray(*out, cap, sizeof **out);
		}
		if (is_index) {
			n += children_of_index(&docs[i], *out + n);
			continue;
		}
		read_doc(&configs[i], r->configs[i], DOCUMENT_MAX_BYTES);
		check_config(&docs[i], &configs[i]);
		platforms[i] = index_platform_of_config(configs[i].json);
		if (platforms[i] == NULL)
			errx(EXIT_FAIL, "%s: names no os and architecture", display(r->configs[i]));
		(*out)[n] = child_of(&docs[i]);
		(*out)[n++].platform = platforms[i];
	}
	return n;
}

static void write_out(const char *path, const char *data, size_t len)
{
	if (path == NULL || strcmp(path, "-") == 0) {
		if (write_all(STDOUT_FILENO, data, len) != 0)
			err(EXIT_FAIL, "stdout");
		return;
	}
	if (atomic_write_file(path, data, len, 0644) != 0)
		err(EXIT_FAIL, "%s", path);
}

/* The index's annotations as K=V: those of --annotations-of's manifest (but for its base's,
 * which name its own platform's base), then every --annotation. */
static size_t annotations(const struct request *r, struct file_doc *from, char ***out)
{
	size_t n = 0;
	json_t *a = NULL;
	if (r->annotations_of) {
		read_doc(from, r->annotations_of, MANIFEST_MAX_BYTES);
		a = json_object_get(from->json, "annotations");
	}
	*out = xcalloc(json_object_size(a) + r->nannotations + 1, sizeof **out);
	const char *key;
	json_t *v;
	json_object_foreach(a, key, v)
	{
		if (!json_is_string(v) || strchr(key, '=') || *key == '\0' ||
		    strcmp(key, ANNOTATION_BASE_NAME) == 0 ||
		    strcmp(key, ANNOTATION_BASE_DIGEST) == 0)
			continue;
		(*out)[n++] = xasprintf("%s=%s", key, json_string_value(v));
	}
	for (size_t i = 0; i < r->nannotations; i++)
		(*out)[n++] = xstrdup(r->annotations[i]);
	return n;
}

/* The program's one job: the children from the inputs, the index, its bytes out. */
static int write_index(const struct request *r)
{
	/* Static: what a failing run leaves allocated stays reachable (no leak reports). */
	static struct file_doc base, *docs, *configs;
	static json_t **platforms;
	static struct index_child *children;
	size_t ndocs = r->base_path ? r->nchildren : r->nadds, n;
	docs = xcalloc(ndocs + 1, sizeof *docs);
	configs = xcalloc(ndocs + 1, sizeof *configs);
	platforms = xcalloc(ndocs + 1, sizeof *platforms);
	if (r->base_path) {
		children = xcalloc(ndocs + 1, sizeof *children);
		n = children_of_base(r, &base, docs, children);
	} else {
		n = children_of_adds(r, docs, configs, platforms, &children);
	}
	static struct file_doc from;
	static char **ann;
	size_t nann = annotations(r, &from, &ann);
	char why[600];
	json_t *idx = index_build(children, n, r->base_name, r->base_path ? base.digest : NULL,
	                          (const char *const *)ann, nann, why, sizeof why);
	for (size_t i = 0; i < nann; i++)
		free(ann[i]);
	free(ann);
	free_doc(&from);
	if (idx == NULL)
		errx(EXIT_FAIL, "%s", why);
	size_t len;
	char *bytes = json_serialise(idx, &len);
	char digest[DIGEST_STR_LEN], line[DIGEST_STR_LEN + 1];
	sha256_of(bytes, len, digest);
	snprintf(line, sizeof line, "%s\n", digest);
	if (r->digest_out)
		write_out(r->digest_out, line, strlen(line));
	write_out(r->out, bytes, len);
	free(bytes);
	json_decref(idx);
	for (size_t i = 0; i < ndocs; i++) {
		free_doc(&docs[i]);
		free_doc(&configs[i]);
		json_decref(platforms[i]);
	}
	free_doc(&base);
	free(docs);
	free(configs);
	free(platforms);
	free(children);
	return EXIT_OK;
}

/* Everything that ends up in a JSON string must be UTF-8 (jansson refuses anything else). */
static void need_utf8(const char *opt, const char *arg)
{
	json_t *s = json_string(arg);
	if (s == NULL)
		usage_error(usage_text, "%s: \"%s\" is not valid UTF-8", opt, arg);
	json_decref(s);
}

static void need_kv(const char *opt, const char *arg)
{
	need_utf8(opt, arg);
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg)
		usage_error(usage_text, "%s: \"%s\" is not KEY=VALUE with a KEY", opt, arg);
}

static void check_request(const struct request *r)
{
	if (r->base_path && r->nadds)
		usage_error(usage_text, "--base (with --child) and --add exclude each other");
	if (r->base_path == NULL && r->nchildren)
		usage_error(usage_text, "--child goes with --base");
	if (r->base_path == NULL && r->base_name)
		usage_error(usage_text, "--base-name goes with --base");
	if (r->base_path == NULL && r->annotations_of)
		usage_error(usage_text, "--annotations-of goes with --base");
	if (r->base_path && r->nchildren == 0)
		usage_error(usage_text, "--base: no --child DIGEST=MANIFEST");
	if (r->base_path == NULL && r->nadds == 0)
		usage_error(usage_text, "nothing to index: --base with --child, or --add");
	for (size_t i = 0; i < r->nchildren; i++) {
		const char *eq = strchr(r->children[i], '=');
		char *dg = eq ? xstrndup(r->children[i], (size_t)(eq - r->children[i])) : NULL;
		bool ok = dg && digest_is_sha256(dg) && eq[1] != '\0';
		free(dg);
		if (!ok)
			usage_error(usage_text, "--child %s: not DIGEST=MANIFEST (sha256:<64 hex>)",
			            r->children[i]);
	}
	if (r->out && r->digest_out && strcmp(r->out, r->digest_out) == 0)
		usage_error(usage_text, "-o and --digest-out are the same file");
}

int main(int argc, char **argv)
{
	enum {
		OPT_BASE = 256,
		OPT_BASE_NAME,
		OPT_CHILD,
		OPT_ADD,
		OPT_CONFIG,
		OPT_ANNOTATION,
		OPT_ANNOTATIONS_OF,
		OPT_DIGEST_OUT
	};
	static const struct option longopts[] = {
	        {"base", required_argument, NULL, OPT_BASE},
	        {"base-name", required_argument, NULL, OPT_BASE_NAME},
	        {"child", required_argument, NULL, OPT_CHILD},
	        {"add", required_argument, NULL, OPT_ADD},
	        {"config", required_argument, NULL, OPT_CONFIG},
	        {"annotation", required_argument, NULL, OPT_ANNOTATION},
	        {"annotations-of", required_argument, NULL, OPT_ANNOTATIONS_OF},
	        {"output", required_argument, NULL, 'o'},
	        {"digest-out", required_argument, NULL, OPT_DIGEST_OUT},
	        CLI_HELP_VERSION_LONGOPTS,
	        {0},
	};
	static struct request r; /* static: reachable at any exit (no leak reports) */
	r.children = xcalloc((size_t)argc, sizeof *r.children);
	r.adds = xcalloc((size_t)argc, sizeof *r.adds);
	r.configs = xcalloc((size_t)argc, sizeof *r.configs);
	r.annotations = xcalloc((size_t)argc, sizeof *r.annotations);
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_BASE:
			r.base_path = optarg;
			break;
		case OPT_BASE_NAME:
			need_utf8("--base-name", optarg);
			r.base_name = optarg;
			break;
		case OPT_CHILD:
			r.children[r.nchildren++] = optarg;
			break;
		case OPT_ADD:
			r.adds[r.nadds++] = optarg;
			break;
		case OPT_CONFIG:
			if (r.nadds == 0)
				usage_error(usage_text,
				            "--config must follow the --add it belongs to");
			if (r.configs[r.nadds - 1])
				usage_error(usage_text, "--add %s has two --config",
				            r.adds[r.nadds - 1]);
			r.configs[r.nadds - 1] = optarg;
			break;
		case OPT_ANNOTATION:
			need_kv("--annotation", optarg);
			r.annotations[r.nannotations++] = optarg;
			break;
		case OPT_ANNOTATIONS_OF:
			r.annotations_of = optarg;
			break;
		case 'o':
			r.out = optarg;
			break;
		case OPT_DIGEST_OUT:
			r.digest_out = optarg;
			break;
		case 'h':
		case 'V':
			cli_common_option(c, "oci-index", usage_text);
		default: /* ':' or an unknown option */
			cli_refused_option(c, argv, usage_text);
		}
	}
	cli_no_operands(argc, argv, usage_text);
	check_request(&r);
	int rc = write_index(&r);
	free(r.children);
	free(r.adds);
	free(r.configs);
	free(r.annotations);
	return rc;
}
