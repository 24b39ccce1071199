/* oci-cache: ocinoco's local layer cache, read and written. See oci-cache(1); an entry's form
 * and checks are entry.h's. A cache is an optimisation: what goes wrong with it is a warning and
 * a miss, never a failed build and never a trusted damaged entry. */
#include "dirs.h"
#include "entry.h"
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
        "usage: oci-cache [--dir DIR] get [-d FILE] KEY...\n"
        "       oci-cache [--dir DIR] put [--at LOCATION]... [--recipe RECIPE] DESCRIPTOR KEY...\n"
        "       oci-cache [--dir DIR] seen RECIPE...\n"
        "       oci-cache match [-d FILE] -c zstd|gzip|none TAR_DESCRIPTOR MANIFEST CONFIG\n"
        "       oci-cache -h | --help | --version\n";

enum { EXIT_MISS = 1 };

/* The cache directory: --dir, else the default (dirs.h). */
static char *cache_dir(const char *given)
{
	return given != NULL ? xstrdup(given) : cache_dir_default();
}

/* The key: the words joined by spaces; none may hold a newline. */
static char *join_key(int n, char **words)
{
	if (n == 0)
		usage_error(usage_text, "missing KEY");
	struct buf b = {0};
	for (int i = 0; i < n; i++) {
		if (words[i][0] == '\0' || strchr(words[i], '\n') != NULL)
			usage_error(usage_text, "KEY: an empty word or one with a newline");
		buf_appendf(&b, "%s%s", i ? " " : "", words[i]);
	}
	return b.data;
}

static int write_descriptor(const char *path, const json_t *d)
{
	size_t n;
	char *s = json_serialise(d, &n);
	char *line = xasprintf("%.*s\n", (int)n, s);
	int r = atomic_write_file(path, line, n + 1, 0644);
	int saved = errno;
	free(line);
	free(s);
	errno = saved;
	return r;
}

static const char *check_recipe(const char *what, const char *recipe)
{
	if (recipe[0] == '\0' || strchr(recipe, '\n') != NULL)
		usage_error(usage_text, "%s: empty, or with a newline", what);
	return recipe;
}

/* seen: for each recipe, "seen" when a build here recorded it (put --recipe), else "unseen",
 * a line each; exit 0 when every one was seen, else 1. */
static int cmd_seen(const char *dir, int argc, char **argv)
{
	if (argc < 2)
		usage_error(usage_text, "seen: expected a RECIPE");
	for (int i = 1; i < argc; i++)
		check_recipe("seen: RECIPE", argv[i]);
	struct buf out = {0};
	int rc = EXIT_OK;
	for (int i = 1; i < argc; i++) {
		bool seen = dir != NULL && recipe_seen(dir, argv[i]);
		buf_appendf(&out, "%s\n", seen ? "seen" : "unseen");
		if (!seen)
			rc = EXIT_MISS;
	}
	if (write_all(STDOUT_FILENO, out.data, out.len) < 0)
		err(EXIT_FAIL, "stdout");
	buf_free(&out);
	return rc;
}

/* get: a hit prints the digest and the locations, one a line, and writes the descriptor. */
static int cmd_get(const char *dir, int argc, char **argv)
{
	const char *desc_out = NULL;
	int c;
	optind = 1;
	while ((c = getopt(argc, argv, "+d:")) != -1) {
		if (c != 'd')
			usage_error(usage_text, "get: unknown option or missing value: %s",
			            argv[optind - 1]);
		desc_out = optarg;
	}
	char *key = join_key(argc - optind, argv + optind);
	if (dir == NULL) {
		warnx("no cache directory (no --dir, XDG_CACHE_HOME or HOME): a miss");
		free(key);
		return EXIT_MISS;
	}
	char *path = entry_path(dir, key), why[512];
	struct entry e;
	int r = entry_read(path, key, &e, why, sizeof why);
	if (r < 0)
		warnx("%s: entry ignored (%s): the layer is made again", path, why);
	if (r == 1 && desc_out != NULL && write_descriptor(desc_out, e.descriptor) < 0) {
		warn("%s", desc_out);
		r = -1;
	}
	if (r == 1) {
		printf("%s\n", descriptor_digest(e.descriptor));
		size_t i;
		json_t *v;
		json_array_foreach(e.at, i, v)
		{
			printf("%s\n", json_string_value(v));
		}
		if (fflush(stdout) != 0)
			err(EXIT_FAIL, "stdout");
	}
	entry_free(&e);
	free(path);
	free(key);
	return r == 1 ? EXIT_OK : EXIT_MISS;
}

/* put: the entry of the key, its locations merged with those of an entry of the same blob. */
static int cmd_put(const char *dir, int argc, char **argv)
{
	struct entry e = {.at = json_array()};
	static const struct option longopts[] = {{"at", required_argument, NULL, 'a'},
	                                         {"recipe", required_argument, NULL, 'r'},
	                                         {NULL, 0, NULL, 0}};
	const char *recipe = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (c == 'r') {
			recipe = check_recipe("put: --recipe", optarg);
			continue;
		}
		if (c != 'a')
			usage_error(usage_text, "put: unknown option or missing value: %s",
			            argv[optind - 1]);
		if (optarg[0] == '\0' || strchr(optarg, '\n') != NULL)
			usage_error(usage_text, "put: --at: not a location: %s", optarg);
		entry_add_location(&e, optarg);
	}
	if (optind == argc)
		usage_error(usage_text, "put: missing DESCRIPTOR");
	const char *desc_path = argv[optind++];
	char *key = join_key(argc - optind, argv + optind);

	struct buf b = {0};
	char jerr[256], why[512];
	if (buf_read_file(&b, desc_path, ENTRY_MAX_BYTES) < 0)
		err(EXIT_FAIL, "%s", desc_path);
	e.descriptor = json_parse(b.data ? b.data : "", b.len, jerr, sizeof jerr);
	buf_free(&b);
	if (e.descriptor == NULL)
		errx(EXIT_FAIL, "%s: not JSON: %s", desc_path, jerr);
	if (!entry_descriptor_check(e.descriptor, why, sizeof why))
		errx(EXIT_FAIL, "%s: %s", desc_path, why);
	if (dir == NULL) {
		warnx("no cache directory (no --dir, XDG_CACHE_HOME or HOME): nothing stored");
	} else {
		char *path = entry_path(dir, key);
		struct entry old;
		if (entry_read(path, key, &old, why, sizeof why) == 1 &&
		    strcmp(descriptor_digest(old.descriptor), descriptor_digest(e.descriptor)) ==
		            0) {
			size_t i;
			json_t *v;
			json_array_foreach(old.at, i, v)
			{
				entry_add_location(&e, json_string_value(v));
			}
		}
		entry_free(&old);
		if (entry_write(path, key, &e) < 0)
			warn("%s: the entry is not stored", path);
		free(path);
		if (recipe != NULL && recipe_record(dir, recipe) < 0)
			warn("%s/recipes: the recipe is not stored", dir);
	}
	entry_free(&e);
	free(key);
	return EXIT_OK;
}

/* A document read whole and parsed; exits on failure (a previous image that cannot be read). */
static json_t *read_json(const char *path)
{
	struct buf b = {0};
	char jerr[256];
	if (buf_read_file(&b, path, DOCUMENT_MAX_BYTES) < 0)
		err(EXIT_FAIL, "%s", path);
	json_t *j = json_parse(b.data ? b.data : "", b.len, jerr, sizeof jerr);
	buf_free(&b);
	if (j == NULL)
		errx(EXIT_FAIL, "%s: not JSON: %s", path, jerr);
	return j;
}

/* The OCI layer media type of a compression name; NULL for another name. */
static const char *layer_media_type(const char *compression)
{
	if (strcmp(compression, "zstd") == 0)
		return MT_OCI_LAYER_ZSTD;
	if (strcmp(compression, "gzip") == 0)
		return MT_OCI_LAYER_GZIP;
	if (strcmp(compression, "none") == 0)
		return MT_OCI_LAYER;
	return NULL;
}

/* match: the layer of a previous image (its manifest and config) with the diffID of an
 * uncompressed layer (oci-digest -c none -d) and the media type of the compression: its
 * descriptor, diffID added, to FILE and its digest on stdout. */
static int cmd_match(int argc, char **argv)
{
	const char *desc_out = NULL, *mt = NULL;
	int c;
	optind = 1;
	while ((c = getopt(argc, argv, "+d:c:")) != -1) {
		if (c == 'd')
			desc_out = optarg;
		else if (c == 'c' && (mt = layer_media_type(optarg)) == NULL)
			usage_error(usage_text, "match: -c %s: expected zstd, gzip or none",
			            optarg);
		else if (c != 'c')
			usage_error(usage_text, "match: unknown option or missing value: %s",
			            argv[optind - 1]);
	}
	if (mt == NULL)
		usage_error(usage_text, "match: missing -c zstd|gzip|none");
	if (argc - optind != 3)
		usage_error(usage_text, "match: expected TAR_DESCRIPTOR MANIFEST CONFIG");
	json_t *raw = read_json(argv[optind]), *m = read_json(argv[optind + 1]),
	       *cfg = read_json(argv[optind + 2]);
	char why[512];
	if (!entry_descriptor_check(raw, why, sizeof why))
		errx(EXIT_FAIL, "%s: %s", argv[optind], why);
	const char *diff = json_string_value(json_object_get(raw, "diffID"));
	json_t *layers = json_object_get(m, "layers");
	json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	if (!json_is_array(layers) || !json_is_array(ids) ||
	    json_array_size(layers) != json_array_size(ids))
		errx(EXIT_FAIL, "%s, %s: not the manifest and config of one image",
		     argv[optind + 1], argv[optind + 2]);
	int rc = EXIT_MISS;
	for (size_t i = 0; i < json_array_size(layers) && rc != EXIT_OK; i++) {
		json_t *l = json_array_get(layers, i);
		const char *id = json_string_value(json_array_get(ids, i));
		const char *lmt = descriptor_media_type(l);
		if (id == NULL || strcmp(id, diff) != 0 || lmt == NULL || strcmp(lmt, mt) != 0 ||
		    !descriptor_check(l, why, sizeof why))
			continue;
		json_t *d = json_pack("{s:s, s:s, s:I, s:s}", "mediaType", lmt, "digest",
		                      descriptor_digest(l), "size", (json_int_t)descriptor_size(l),
		                      "diffID", diff);
		if (desc_out != NULL && write_descriptor(desc_out, d) < 0)
			err(EXIT_FAIL, "%s", desc_out);
		printf("%s\n", descriptor_digest(l));
		if (fflush(stdout) != 0)
			err(EXIT_FAIL, "stdout");
		json_decref(d);
		rc = EXIT_OK;
	}
	json_decref(raw);
	json_decref(m);
	json_decref(cfg);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"dir", required_argument, NULL, 'D'},
	        CLI_HELP_VERSION_LONGOPTS,
	        {NULL, 0, NULL, 0},
	};
	const char *given = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case 'V':
			cli_common_option(c, "oci-cache", usage_text);
		case 'D':
			given = optarg;
			break;
		default:
			usage_error(usage_text, "unknown option or missing value: %s",
			            argv[optind - 1]);
		}
	}
	if (optind == argc)
		usage_error(usage_text, "missing command: get, put, seen or match");
	const char *cmd = argv[optind];
	if (strcmp(cmd, "match") == 0)
		return cmd_match(argc - optind, argv + optind);
	char *dir = cache_dir(given);
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	int rc;
	if (strcmp(cmd, "get") == 0)
		rc = cmd_get(dir, sub_argc, sub_argv);
	else if (strcmp(cmd, "put") == 0)
		rc = cmd_put(dir, sub_argc, sub_argv);
	else if (strcmp(cmd, "seen") == 0)
		rc = cmd_seen(dir, sub_argc, sub_argv);
	else
		usage_error(usage_text, "unknown command: %s", cmd);
	free(dir);
	return rc;
}
