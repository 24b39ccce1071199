/* oci-fetch: print an image's manifest, config, a blob or its index, from a registry or an OCI
 * image layout, the platform resolved and every digest verified. */
#include "digest.h"
#include "index.h"
#include "oci.h"
#include "platform.h"
#include "platforms.h"
#include "ref.h"
#include "store.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
        "usage: oci-fetch [--platform OS/ARCH[/VARIANT]] [--index | --config | --blob DIGEST | "
        "--digest]\n"
        "                 [-o FILE] [--config-out FILE] [--digest-out FILE] [--manifest-out FILE]\n"
        "                 [--insecure] [--cacert FILE] [-v] REF\n"
        "       oci-fetch --platform all|OS/ARCH[/VARIANT][,...] --each DIR\n"
        "                 [--insecure] [--cacert FILE] [-v] REF\n"
        "       oci-fetch --platforms [-o FILE] [--insecure] [--cacert FILE] [-v] REF\n"
        "       oci-fetch --name [--platform all|OS/ARCH[/VARIANT][,...]] [REF...]\n";

enum mode {
	MODE_MANIFEST,
	MODE_INDEX,
	MODE_CONFIG,
	MODE_BLOB,
	MODE_DIGEST,
	MODE_PLATFORMS,
	MODE_EACH
};

/* An output: stdout, or a file written atomically. */
struct out {
	const char *path;
	struct atomic_file f;
	int fd;
};

static void out_open(struct out *o, const char *path)
{
	o->path = path;
	if (path == NULL || strcmp(path, "-") == 0) {
		o->fd = STDOUT_FILENO;
		o->path = NULL;
		return;
	}
	if (atomic_open(&o->f, path, 0644) < 0)
		err(EXIT_FAIL, "%s", path);
	o->fd = o->f.fd;
}

static int out_sink(const char *p, size_t n, void *ctx)
{
	struct out *o = ctx;
	if (write_all(o->fd, p, n) < 0) {
		warn("%s", o->path ? o->path : "stdout");
		return -1;
	}
	return 0;
}

static void out_commit(struct out *o)
{
	if (o->path && atomic_commit(&o->f) < 0)
		err(EXIT_FAIL, "%s", o->path);
}

static void write_file(const char *path, const void *p, size_t n)
{
	static struct out o;
	out_open(&o, path);
	if (out_sink(p, n, &o) < 0)
		exit(EXIT_FAIL);
	out_commit(&o);
}

/* --name: each reference in its full normalised form, offline; for scripts that must name an
 * image exactly as the programs will (docker.io/library/alpine:latest for alpine). All are
 * checked before any is printed, so a failure leaves stdout empty. */
static int print_names(int n, char **refs)
{
	if (n == 0)
		usage_error(usage, "--name: no reference");
	struct buf out = {0};
	for (int i = 0; i < n; i++) {
		struct ref r;
		char e[256];
		if (ref_parse(refs[i], &r, e, sizeof e) < 0) {
			warnx("%s: invalid reference: %s", refs[i], e);
			buf_free(&out);
			return EXIT_USAGE;
		}
		char *s = ref_string(&r);
		buf_appendf(&out, "%s\n", s);
		free(s);
		ref_free(&r);
	}
	int rc = write_all(STDOUT_FILENO, out.data, out.len);
	buf_free(&out);
	if (rc < 0)
		err(EXIT_FAIL, "stdout");
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	enum {
		OPT_PLATFORM = 256,
		OPT_INDEX,
		OPT_CONFIG,
		OPT_BLOB,
		OPT_DIGEST,
		OPT_CONFIG_OUT,
		OPT_DIGEST_OUT,
		OPT_MANIFEST_OUT,
		OPT_INSECURE,
		OPT_CACERT,
		OPT_NAME,
		OPT_PLATFORMS,
		OPT_EACH
	};
	static const struct option longopts[] = {
	        {"platform", required_argument, NULL, OPT_PLATFORM},
	        {"index", no_argument, NULL, OPT_INDEX},
	        {"config", no_argument, NULL, OPT_CONFIG},
	        {"blob", required_argument, NULL, OPT_BLOB},
	        {"digest", no_argument, NULL, OPT_DIGEST},
	        {"output", required_argument, NULL, 'o'},
	        {"config-out", required_argument, NULL, OPT_CONFIG_OUT},
	        {"digest-out", required_argument, NULL, OPT_DIGEST_OUT},
	        {"manifest-out", required_argument, NULL, OPT_MANIFEST_OUT},
	        {"insecure", no_argument, NULL, OPT_INSECURE},
	        {"cacert", required_argument, NULL, OPT_CACERT},
	        {"name", no_argument, NULL, OPT_NAME},
	        {"platforms", no_argument, NULL, OPT_PLATFORMS},
	        {"each", required_argument, NULL, OPT_EACH},
	        {"verbose", no_argument, NULL, 'v'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	enum mode mode = MODE_MANIFEST;
	int modes = 0;
	const char *platform = NULL, *blob = NULL, *output = NULL, *config_out = NULL,
	           *digest_out = NULL, *manifest_out = NULL, *cacert = NULL, *each = NULL;
	bool insecure = false, names = false;
	int verbose = 0, c;
	while ((c = getopt_long(argc, argv, "o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PLATFORM:
			platform = optarg;
			break;
		case OPT_INDEX:
			mode = MODE_INDEX, modes++;
			break;
		case OPT_CONFIG:
			mode = MODE_CONFIG, modes++;
			break;
		case OPT_BLOB:
			mode = MODE_BLOB, modes++, blob = optarg;
			break;
		case OPT_DIGEST:
			mode = MODE_DIGEST, modes++;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_CONFIG_OUT:
			config_out = optarg;
			break;
		case OPT_DIGEST_OUT:
			digest_out = optarg;
			break;
		case OPT_MANIFEST_OUT:
			manifest_out = optarg;
			break;
		case OPT_INSECURE:
			insecure = true;
			break;
		case OPT_CACERT:
			cacert = optarg;
			break;
		case OPT_NAME:
			names = true;
			break;
		case OPT_PLATFORMS:
			mode = MODE_PLATFORMS, modes++;
			break;
		case OPT_EACH:
			mode = MODE_EACH, modes++, each = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	char why[256];
	if (names && platform && !index_selection_check(platform, why, sizeof why))
		usage_error(usage, "--platform %s: %s", platform, why);
	if (names && platform && argc == optind)
		return EXIT_OK; /* only the platforms checked */
	if (names)
		return print_names(argc - optind, argv + optind);
	if (argc - optind != 1)
		usage_error(usage, "%s", argc - optind ? "one reference, please" : "no reference");
	if (modes > 1)
		usage_error(usage,
		            "--index, --config, --blob, --digest, --platforms and --each exclude "
		            "each other");
	if (blob && !digest_is_sha256(blob))
		usage_error(usage, "--blob %s: not a sha256 digest (sha256:<64 hex>)", blob);
	if (mode == MODE_EACH && platform == NULL)
		usage_error(usage, "--each DIR: which platforms? (--platform all or a list)");
	if (mode == MODE_EACH && !index_selection_check(platform, why, sizeof why))
		usage_error(usage, "--platform %s: %s", platform, why);
	if (mode == MODE_PLATFORMS && platform)
		usage_error(usage, "--platforms lists every platform: it takes no --platform");
	if ((mode == MODE_EACH || mode == MODE_PLATFORMS) &&
	    (config_out || digest_out || manifest_out || (each && output)))
		usage_error(usage, "--%s writes only %s", each ? "each" : "platforms",
		            each ? "into its DIR" : "the list");
	struct platform want;
	if (mode == MODE_EACH || mode == MODE_PLATFORMS)
		platform_host(&want);
	else if (platform == NULL)
		platform_host(&want);
	else if (!platform_parse(platform, &want))
		usage_error(usage, "--platform %s: not OS/ARCH[/VARIANT]", platform);
	if (mode == MODE_BLOB && (config_out || digest_out || manifest_out))
		usage_error(usage, "--blob writes only the blob");

	/* Static: what a failing run leaves allocated stays reachable (no leak reports). */
	static struct store st;
	static struct session s;
	static struct doc top, man;
	static struct buf config;
	const char *name = argv[optind];
	char e[256];
	if (store_parse(&st, name, e, sizeof e) < 0)
		usage_error(usage, "%s: invalid reference: %s", name, e);
	struct http_opts ho = {.cacert = cacert, .verbose = verbose};
	session_init(&s, &ho, insecure);
	if (store_attach(&s, &st, false) < 0)
		return EXIT_FAIL;

	if (mode == MODE_BLOB) {
		static struct out o;
		out_open(&o, output);
		if (store_get_blob(&st, blob, out_sink, &o) < 0)
			return EXIT_FAIL; /* the temporary file goes at exit */
		out_commit(&o);
		session_end(&s);
		store_close(&st);
		return EXIT_OK;
	}

	if (store_get_manifest(&st, NULL, &top) < 0)
		return EXIT_FAIL;
	if (mode == MODE_PLATFORMS || mode == MODE_EACH) {
		int r = mode == MODE_EACH ? fetch_each_platform(&st, &top, platform, each, name)
		                          : fetch_print_platforms(&st, &top, output, name);
		doc_free(&top);
		session_end(&s);
		store_close(&st);
		return r < 0 ? EXIT_FAIL : EXIT_OK;
	}
	struct doc *res = &top;
	if (mode != MODE_INDEX && media_type_is_index(top.media_type)) {
		char *dg = fetch_pick_platform(&top, &want, name);
		if (dg == NULL)
			return EXIT_FAIL;
		int r = store_get_manifest(&st, dg, &man);
		free(dg);
		if (r < 0)
			return EXIT_FAIL;
		res = &man;
	}
	if (mode != MODE_INDEX && !media_type_is_manifest(res->media_type))
		errx(EXIT_FAIL, "%s: not an image manifest (mediaType %s)", name, res->media_type);

	if (mode == MODE_CONFIG || config_out) {
		if (fetch_config_blob(&st, res, &config, name) < 0)
			return EXIT_FAIL;
		/* a single-platform image: its config says which platform it is */
		struct platform have;
		json_t *cj = platform && res == &top ? json_loadb(config.data, config.len, 0, NULL)
		                                     : NULL;
		if (cj && platform_from_json(cj, &have) && !platform_match(&want, &have)) {
			char w[96], h[96];
			platform_format(&want, w, sizeof w);
			platform_format(&have, h, sizeof h);
			warnx("%s: the image is for %s, not %s", name, h, w);
			json_decref(cj);
			return EXIT_FAIL;
		}
		json_decref(cj);
	}
	char line[DIGEST_STR_LEN + 1];
	snprintf(line, sizeof line, "%s\n", res->digest);
	switch (mode) {
	case MODE_MANIFEST:
	case MODE_INDEX:
		write_file(output, res->data.data, res->data.len);
		break;
	case MODE_CONFIG:
		write_file(output, config.data, config.len);
		break;
	case MODE_DIGEST:
		write_file(output, line, strlen(line));
		break;
	case MODE_BLOB:
	case MODE_PLATFORMS:
	case MODE_EACH:
		break;
	}
	if (manifest_out)
		write_file(manifest_out, res->data.data, res->data.len);
	if (config_out)
		write_file(config_out, config.data, config.len);
	if (digest_out)
		write_file(digest_out, line, strlen(line));
	if (res != &top)
		doc_free(&man);
	doc_free(&top);
	buf_free(&config);
	session_end(&s);
	store_close(&st);
	return EXIT_OK;
}
