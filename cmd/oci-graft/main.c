/* oci-graft: puts layers on top of a base image, offline. Reads the base manifest and config
 * and oci-digest's layer descriptors; writes the new config and manifest. The output is a pure
 * function of the inputs (and SOURCE_DATE_EPOCH), so the same build gives the same digests. */
#include "digest.h"
#include "graft.h"
#include "oci.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
        "usage: oci-graft --manifest FILE --config FILE --config-out FILE [-o FILE]\n"
        "                 [--base-name REF] [--layer FILE [--created-by TEXT]]... [changes]\n"
        "       oci-graft --scratch [--platform OS/ARCH[/VARIANT]] --config-out FILE [-o FILE]\n"
        "                 [--layer FILE [--created-by TEXT]]... [changes]\n"
        "changes: [--created TIME|now] [--oci] [--entrypoint CMD] [--cmd CMD] [--env K=V]...\n"
        "         [--workdir DIR] [--user USER[:GROUP]] [--label K=V]... [--expose "
        "PORT[/PROTO]]...\n"
        "         [--annotation K=V]...\n";

enum {
	OPT_MANIFEST = 256,
	OPT_CONFIG,
	OPT_CONFIG_OUT,
	OPT_LAYER,
	OPT_CREATED_BY,
	OPT_BASE_NAME,
	OPT_CREATED,
	OPT_SCRATCH,
	OPT_PLATFORM,
	OPT_OCI,
	OPT_ENTRYPOINT,
	OPT_CMD,
	OPT_ENV,
	OPT_WORKDIR,
	OPT_USER,
	OPT_LABEL,
	OPT_EXPOSE,
	OPT_ANNOTATION,
};

static const struct option longopts[] = {
        {"manifest", required_argument, NULL, OPT_MANIFEST},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"config-out", required_argument, NULL, OPT_CONFIG_OUT},
        {"output", required_argument, NULL, 'o'},
        {"layer", required_argument, NULL, OPT_LAYER},
        {"created-by", required_argument, NULL, OPT_CREATED_BY},
        {"base-name", required_argument, NULL, OPT_BASE_NAME},
        {"created", required_argument, NULL, OPT_CREATED},
        {"scratch", no_argument, NULL, OPT_SCRATCH},
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"oci", no_argument, NULL, OPT_OCI},
        {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
        {"cmd", required_argument, NULL, OPT_CMD},
        {"env", required_argument, NULL, OPT_ENV},
        {"workdir", required_argument, NULL, OPT_WORKDIR},
        {"user", required_argument, NULL, OPT_USER},
        {"label", required_argument, NULL, OPT_LABEL},
        {"expose", required_argument, NULL, OPT_EXPOSE},
        {"annotation", required_argument, NULL, OPT_ANNOTATION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* A --layer FILE and the --created-by that follows it. */
struct layer_arg {
	const char *path;
	const char *created_by;
};

static const char *display(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

/* Everything that ends up in a JSON string must be UTF-8 (jansson refuses anything else). */
static void need_utf8(const char *opt, const char *arg)
{
	json_t *s = json_string(arg);
	if (s == NULL)
		usage_error(usage_text, "%s: \"%s\" is not valid UTF-8", opt, arg);
	json_decref(s);
}

static void read_file(struct buf *b, const char *path, size_t max)
{
	if (buf_read_file(b, path, max) != 0) {
		if (errno == EFBIG)
			errx(EXIT_FAIL, "%s: larger than %zu bytes", display(path), max);
		err(EXIT_FAIL, "%s", display(path));
	}
}

static json_t *parse_or_die(const struct buf *b, const char *path)
{
	char why[300];
	json_t *doc = json_parse(b->data, b->len, why, sizeof why);
	if (doc == NULL)
		errx(EXIT_FAIL, "%s: not JSON: %s", display(path), why);
	return doc;
}

/* A descriptor file holds one descriptor, or several separated by white space (one per line,
 * as `jq -c` prints them), each a layer in that order. */
static void read_layers(const struct layer_arg *arg, struct graft_layer **layers, size_t *n)
{
	struct buf b = {0};
	read_file(&b, arg->path, MANIFEST_MAX_BYTES);
	size_t off = 0, count = 0;
	for (;;) {
		off += strspn(b.data + off, " \t\r\n");
		if (off >= b.len)
			break;
		json_error_t e;
		json_t *desc = json_loadb(b.data + off, b.len - off,
		                          JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &e);
		if (desc == NULL)
			errx(EXIT_FAIL, "%s: not JSON (descriptor %zu): line %d column %d: %s",
			     display(arg->path), count + 1, e.line, e.column, e.text);
		char why[300];
		if (!graft_check_layer(desc, why, sizeof why))
			errx(EXIT_FAIL, "%s: %s", display(arg->path), why);
		*layers = xreallocarray(*layers, *n + 1, sizeof **layers);
		(*layers)[(*n)++] =
		        (struct graft_layer){desc, arg->created_by ? arg->created_by : "oci-graft"};
		off += (size_t)e.position;
		count++;
	}
	if (count == 0)
		errx(EXIT_FAIL, "%s: holds no layer descriptor", display(arg->path));
	buf_free(&b);
}

static void write_output(const char *path, const char *data, size_t len, struct atomic_file *f)
{
	if (atomic_open(f, path, 0644) != 0)
		err(EXIT_FAIL, "%s", path);
	if (write_all(f->fd, data, len) != 0)
		err(EXIT_FAIL, "%s", path);
}

static void created_time(const char *opt, char out[GRAFT_TIME_MAX])
{
	char why[300];
	if (opt && strcmp(opt, "now") == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		graft_format_epoch((uint64_t)ts.tv_sec, out);
	} else if (opt) {
		if (!graft_parse_time(opt, out, why, sizeof why))
			usage_error(usage_text, "--created: %s", why);
	} else {
		const char *sde = getenv("SOURCE_DATE_EPOCH");
		uint64_t epoch = 0;
		if (sde && *sde && !parse_u64(sde, GRAFT_EPOCH_MAX, &epoch))
			errx(EXIT_USAGE,
			     "SOURCE_DATE_EPOCH: \"%s\" is not a number of seconds since "
			     "1970 up to year 9999",
			     sde);
		graft_format_epoch(epoch, out);
	}
}

int main(int argc, char **argv)
{
	const char *manifest_path = NULL, *config_path = NULL, *config_out = NULL;
	const char *manifest_out = NULL, *platform = NULL, *created_opt = NULL;
	struct graft_request req = {0};
	struct layer_arg *layer_args = NULL;
	size_t nlayer_args = 0;
	bool scratch = false;
	char why[600];

	opterr = 0;
	int c, li;
	while ((li = -1, c = getopt_long(argc, argv, "+:o:h", longopts, &li)) != -1) {
		char opt[32];
		if (li >= 0)
			snprintf(opt, sizeof opt, "--%s", longopts[li].name);
		else
			snprintf(opt, sizeof opt, "-%c", c);
		enum graft_change_kind kind;
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case OPT_MANIFEST:
			manifest_path = optarg;
			break;
		case OPT_CONFIG:
			config_path = optarg;
			break;
		case OPT_CONFIG_OUT:
			config_out = optarg;
			break;
		case 'o':
			manifest_out = optarg;
			break;
		case OPT_LAYER:
			layer_args = xreallocarray(layer_args, nlayer_args + 1, sizeof *layer_args);
			layer_args[nlayer_args++] = (struct layer_arg){optarg, NULL};
			break;
		case OPT_CREATED_BY:
			need_utf8("--created-by", optarg);
			if (nlayer_args == 0)
				usage_error(usage_text, "--created-by must follow the --layer it "
				                        "describes");
			if (layer_args[nlayer_args - 1].created_by != NULL)
				usage_error(usage_text, "--layer %s has two --created-by",
				            layer_args[nlayer_args - 1].path);
			layer_args[nlayer_args - 1].created_by = optarg;
			break;
		case OPT_BASE_NAME:
			need_utf8("--base-name", optarg);
			req.base_name = optarg;
			break;
		case OPT_CREATED:
			created_opt = optarg;
			break;
		case OPT_SCRATCH:
			scratch = true;
			break;
		case OPT_PLATFORM:
			platform = optarg;
			break;
		case OPT_OCI:
			req.force_oci = true;
			break;
		case OPT_ANNOTATION:
			need_utf8("--annotation", optarg);
			if (!graft_check_kv(optarg, why, sizeof why))
				usage_error(usage_text, "--annotation: %s", why);
			req.annotations = xreallocarray(req.annotations, req.nannotations + 1,
			                                sizeof *req.annotations);
			req.annotations[req.nannotations++] = optarg;
			break;
		case OPT_ENTRYPOINT:
		case OPT_CMD:
		case OPT_ENV:
		case OPT_WORKDIR:
		case OPT_USER:
		case OPT_LABEL:
		case OPT_EXPOSE:
			kind = c == OPT_ENTRYPOINT ? GRAFT_ENTRYPOINT
			       : c == OPT_CMD      ? GRAFT_CMD
			       : c == OPT_ENV      ? GRAFT_ENV
			       : c == OPT_WORKDIR  ? GRAFT_WORKDIR
			       : c == OPT_USER     ? GRAFT_USER
			       : c == OPT_LABEL    ? GRAFT_LABEL
			                           : GRAFT_EXPOSE;
			need_utf8(opt, optarg);
			req.changes =
			        xreallocarray(req.changes, req.nchanges + 1, sizeof *req.changes);
			req.changes[req.nchanges] = (struct graft_change){kind, optarg};
			if (!graft_check_change(&req.changes[req.nchanges], why, sizeof why))
				usage_error(usage_text, "%s: %s", opt, why);
			req.nchanges++;
			break;
		case ':':
			usage_error(usage_text, "option %s needs a value", argv[optind - 1]);
		default:
			usage_error(usage_text, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error(usage_text, "unexpected argument \"%s\"", argv[optind]);

	if (scratch) {
		if (manifest_path || config_path)
			usage_error(usage_text, "--scratch takes no --manifest or --config");
		if (req.base_name)
			usage_error(usage_text, "--base-name names a base; --scratch has none");
	} else {
		if (manifest_path == NULL || config_path == NULL)
			usage_error(usage_text, "missing --manifest and --config (or --scratch)");
		if (platform)
			usage_error(usage_text, "--platform goes with --scratch (the base's config "
			                        "names its platform)");
	}
	if (config_out == NULL)
		usage_error(usage_text, "missing --config-out FILE (the new config blob)");
	if (strcmp(config_out, "-") == 0)
		usage_error(usage_text, "--config-out must be a file (stdout is the manifest's)");
	if (manifest_out && strcmp(manifest_out, "-") == 0)
		manifest_out = NULL;
	if (manifest_out && strcmp(manifest_out, config_out) == 0)
		usage_error(usage_text, "-o and --config-out are the same file");
	int stdin_users = (manifest_path && strcmp(manifest_path, "-") == 0) +
	                  (config_path && strcmp(config_path, "-") == 0);
	for (size_t i = 0; i < nlayer_args; i++)
		stdin_users += strcmp(layer_args[i].path, "-") == 0;
	if (stdin_users > 1)
		usage_error(usage_text, "only one input can be - (stdin)");

	/* --scratch: this machine's platform unless --platform names one. */
	struct platform plat = {0};
	if (scratch && platform == NULL)
		platform_host(&plat);
	else if (scratch && !platform_parse(platform, &plat))
		usage_error(usage_text, "--platform %s: not OS/ARCH[/VARIANT]", platform);

	char created[GRAFT_TIME_MAX];
	created_time(created_opt, created);
	req.created = created;

	/* The base: its manifest bytes give base.digest; the config must be the one it names. */
	json_t *manifest = NULL, *config;
	char base_digest[DIGEST_STR_LEN];
	if (scratch) {
		config = graft_scratch_config(&plat);
	} else {
		struct buf mb = {0}, cb = {0};
		read_file(&mb, manifest_path, MANIFEST_MAX_BYTES);
		manifest = parse_or_die(&mb, manifest_path);
		if (!graft_check_manifest(manifest, why, sizeof why))
			errx(EXIT_FAIL, "%s: %s", display(manifest_path), why);
		sha256_of(mb.data, mb.len, base_digest);
		req.base_digest = base_digest;
		buf_free(&mb);

		read_file(&cb, config_path, DOCUMENT_MAX_BYTES);
		json_t *named = json_object_get(manifest, "config");
		char got[DIGEST_STR_LEN];
		sha256_of(cb.data, cb.len, got);
		if (strcmp(got, descriptor_digest(named)) != 0)
			errx(EXIT_FAIL, "%s: is not the config %s names (its sha256 is %s, not %s)",
			     display(config_path), display(manifest_path), got,
			     descriptor_digest(named));
		if ((int64_t)cb.len != descriptor_size(named))
			errx(EXIT_FAIL, "%s: is %zu bytes but %s says %jd", display(config_path),
			     cb.len, display(manifest_path), (intmax_t)descriptor_size(named));
		config = parse_or_die(&cb, config_path);
		buf_free(&cb);
		if (!graft_check_config(config,
		                        json_array_size(json_object_get(manifest, "layers")), why,
		                        sizeof why))
			errx(EXIT_FAIL, "%s: %s", display(config_path), why);
	}

	struct graft_layer *layers = NULL;
	size_t nlayers = 0;
	for (size_t i = 0; i < nlayer_args; i++)
		read_layers(&layer_args[i], &layers, &nlayers);
	req.layers = layers;
	req.nlayers = nlayers;

	if (!graft_config(config, &req, why, sizeof why))
		usage_error(usage_text, "%s", why);
	size_t config_len, manifest_len;
	char *config_bytes = json_serialise(config, &config_len);
	char config_digest[DIGEST_STR_LEN];
	sha256_of(config_bytes, config_len, config_digest);
	json_t *result = graft_manifest(manifest, &req, config_digest, (int64_t)config_len);
	char *manifest_bytes = json_serialise(result, &manifest_len);

	/* Both files complete under temporary names before either is renamed into place. */
	struct atomic_file cf, mf;
	write_output(config_out, config_bytes, config_len, &cf);
	if (manifest_out)
		write_output(manifest_out, manifest_bytes, manifest_len, &mf);
	if (atomic_commit(&cf) != 0)
		err(EXIT_FAIL, "%s", config_out);
	if (manifest_out) {
		if (atomic_commit(&mf) != 0)
			err(EXIT_FAIL, "%s", manifest_out);
	} else if (write_all(STDOUT_FILENO, manifest_bytes, manifest_len) != 0) {
		err(EXIT_FAIL, "stdout");
	}

	free(manifest_bytes);
	free(config_bytes);
	json_decref(result);
	json_decref(config);
	json_decref(manifest);
	for (size_t i = 0; i < nlayers; i++)
		json_decref(layers[i].desc);
	free(layers);
	free(layer_args);
	free(req.changes);
	free(req.annotations);
	return EXIT_OK;
}
