/* oci-graft: puts layers on top of a base image, offline. Reads the base manifest and config
 * and oci-digest's layer descriptors; writes the new config and manifest. The output is a pure
 * function of the inputs (and SOURCE_DATE_EPOCH), so the same build gives the same digests.
 * Here: the options; the job (reading, checking, writing) is job.c, the grafting graft.c. */
#include "graft.h"
#include "job.h"
#include "cli.h"
#include "util.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
        "usage: oci-graft --manifest FILE --config FILE --config-out FILE [-o FILE]\n"
        "                 [--digest-out FILE] [--base-name REF] [--layer FILE [--created-by "
        "TEXT]]...\n"
        "                 [changes]\n"
        "       oci-graft --scratch [--platform OS/ARCH[/VARIANT]] --config-out FILE [-o FILE]\n"
        "                 [--digest-out FILE] [--layer FILE [--created-by TEXT]]... [changes]\n"
        "       oci-graft --check [--platform OS/ARCH[/VARIANT]] [changes]\n"
        "changes: [--created TIME|now] [--oci] [--entrypoint CMD] [--cmd CMD] [--env K=V]...\n"
        "         [--workdir DIR] [--user USER[:GROUP]] [--label K=V]... [--expose "
        "PORT[/PROTO]]...\n"
        "         [--healthcheck CMD|NONE] [--healthcheck-interval D] [--healthcheck-timeout D]\n"
        "         [--healthcheck-start-period D] [--healthcheck-retries N] [--stop-signal SIG]\n"
        "         [--volume PATH]... [--shell JSON] [--annotation K=V]...\n"
        "         [--annotate-created] [--source-url URL] [--revision REV]\n"
        "         [--version-from PACKAGE_JSON]\n"
        "       oci-graft -h | --help | --version\n";

enum {
	OPT_MANIFEST = 256,
	OPT_CONFIG,
	OPT_CONFIG_OUT,
	OPT_DIGEST_OUT,
	OPT_LAYER,
	OPT_CREATED_BY,
	OPT_BASE_NAME,
	OPT_CREATED,
	OPT_SCRATCH,
	OPT_CHECK,
	OPT_PLATFORM,
	OPT_OCI,
	OPT_ENTRYPOINT,
	OPT_CMD,
	OPT_ENV,
	OPT_WORKDIR,
	OPT_USER,
	OPT_LABEL,
	OPT_EXPOSE,
	OPT_HEALTHCHECK,
	OPT_HEALTH_INTERVAL,
	OPT_HEALTH_TIMEOUT,
	OPT_HEALTH_START_PERIOD,
	OPT_HEALTH_RETRIES,
	OPT_STOP_SIGNAL,
	OPT_VOLUME,
	OPT_SHELL,
	OPT_ANNOTATION,
	OPT_ANNOTATE_CREATED,
	OPT_SOURCE_URL,
	OPT_REVISION,
	OPT_VERSION_FROM,
};

/* The options that are config changes, and the change each makes. */
static const struct {
	int opt;
	enum graft_change_kind kind;
} change_opts[] = {
        {OPT_ENTRYPOINT, GRAFT_ENTRYPOINT},
        {OPT_CMD, GRAFT_CMD},
        {OPT_ENV, GRAFT_ENV},
        {OPT_WORKDIR, GRAFT_WORKDIR},
        {OPT_USER, GRAFT_USER},
        {OPT_LABEL, GRAFT_LABEL},
        {OPT_EXPOSE, GRAFT_EXPOSE},
        {OPT_HEALTHCHECK, GRAFT_HEALTHCHECK},
        {OPT_HEALTH_INTERVAL, GRAFT_HEALTH_INTERVAL},
        {OPT_HEALTH_TIMEOUT, GRAFT_HEALTH_TIMEOUT},
        {OPT_HEALTH_START_PERIOD, GRAFT_HEALTH_START_PERIOD},
        {OPT_HEALTH_RETRIES, GRAFT_HEALTH_RETRIES},
        {OPT_STOP_SIGNAL, GRAFT_STOP_SIGNAL},
        {OPT_VOLUME, GRAFT_VOLUME},
        {OPT_SHELL, GRAFT_SHELL},
};

static const struct option longopts[] = {
        {"manifest", required_argument, NULL, OPT_MANIFEST},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"config-out", required_argument, NULL, OPT_CONFIG_OUT},
        {"output", required_argument, NULL, 'o'},
        {"digest-out", required_argument, NULL, OPT_DIGEST_OUT},
        {"layer", required_argument, NULL, OPT_LAYER},
        {"created-by", required_argument, NULL, OPT_CREATED_BY},
        {"base-name", required_argument, NULL, OPT_BASE_NAME},
        {"created", required_argument, NULL, OPT_CREATED},
        {"scratch", no_argument, NULL, OPT_SCRATCH},
        {"check", no_argument, NULL, OPT_CHECK},
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"oci", no_argument, NULL, OPT_OCI},
        {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
        {"cmd", required_argument, NULL, OPT_CMD},
        {"env", required_argument, NULL, OPT_ENV},
        {"workdir", required_argument, NULL, OPT_WORKDIR},
        {"user", required_argument, NULL, OPT_USER},
        {"label", required_argument, NULL, OPT_LABEL},
        {"expose", required_argument, NULL, OPT_EXPOSE},
        {"healthcheck", required_argument, NULL, OPT_HEALTHCHECK},
        {"healthcheck-interval", required_argument, NULL, OPT_HEALTH_INTERVAL},
        {"healthcheck-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT},
        {"healthcheck-start-period", required_argument, NULL, OPT_HEALTH_START_PERIOD},
        {"healthcheck-retries", required_argument, NULL, OPT_HEALTH_RETRIES},
        {"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
        {"volume", required_argument, NULL, OPT_VOLUME},
        {"shell", required_argument, NULL, OPT_SHELL},
        {"annotation", required_argument, NULL, OPT_ANNOTATION},
        {"annotate-created", no_argument, NULL, OPT_ANNOTATE_CREATED},
        {"source-url", required_argument, NULL, OPT_SOURCE_URL},
        {"revision", required_argument, NULL, OPT_REVISION},
        {"version-from", required_argument, NULL, OPT_VERSION_FROM},
        CLI_HELP_VERSION_LONGOPTS,
        {NULL, 0, NULL, 0},
};

/* Everything that ends up in a JSON string must be UTF-8 (jansson refuses anything else). */
static void need_utf8(const char *opt, const char *arg)
{
	json_t *s = json_string(arg);
	if (s == NULL)
		usage_error(usage_text, "%s: \"%s\" is not valid UTF-8", opt, arg);
	json_decref(s);
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

static void add_layer(struct graft_layer_file **files, size_t *n, const char *path)
{
	*files = xreallocarray(*files, *n + 1, sizeof **files);
	(*files)[(*n)++] = (struct graft_layer_file){path, NULL};
}

static void set_created_by(struct graft_layer_file *files, size_t n, const char *text)
{
	need_utf8("--created-by", text);
	if (n == 0)
		usage_error(usage_text, "--created-by must follow the --layer it describes");
	if (files[n - 1].created_by != NULL)
		usage_error(usage_text, "--layer %s has two --created-by", files[n - 1].path);
	files[n - 1].created_by = text;
}

static void add_annotation(struct graft_request *req, const char *arg)
{
	char why[300];
	need_utf8("--annotation", arg);
	if (!graft_check_kv(arg, why, sizeof why))
		usage_error(usage_text, "--annotation: %s", why);
	req->annotations =
	        xreallocarray(req->annotations, req->nannotations + 1, sizeof *req->annotations);
	req->annotations[req->nannotations++] = arg;
}

static void add_change(struct graft_request *req, enum graft_change_kind kind, const char *opt,
                       const char *arg)
{
	char why[300];
	need_utf8(opt, arg);
	req->changes = xreallocarray(req->changes, req->nchanges + 1, sizeof *req->changes);
	req->changes[req->nchanges] = (struct graft_change){kind, arg};
	if (!graft_check_change(&req->changes[req->nchanges], why, sizeof why))
		usage_error(usage_text, "%s: %s", opt, why);
	req->nchanges++;
}

static bool change_kind(int opt, enum graft_change_kind *kind)
{
	for (size_t i = 0; i < sizeof change_opts / sizeof *change_opts; i++)
		if (change_opts[i].opt == opt) {
			*kind = change_opts[i].kind;
			return true;
		}
	return false;
}

/* The base: the files, or the empty one of --scratch and --check, for --platform (this
 * machine's by default). */
static void choose_base(struct graft_job *job, bool scratch, bool check, const char *platform)
{
	if (scratch && check)
		usage_error(usage_text, "--scratch and --check exclude each other");
	if (scratch || check) {
		if (job->manifest_path || job->config_path)
			usage_error(usage_text, "%s takes no --manifest or --config",
			            check ? "--check" : "--scratch");
		if (job->req.base_name && scratch)
			usage_error(usage_text, "--base-name names a base; --scratch has none");
		job->base = check ? GRAFT_BASE_CHECK : GRAFT_BASE_SCRATCH;
		if (platform == NULL)
			platform_host(&job->platform);
		else if (!platform_parse(platform, &job->platform))
			usage_error(usage_text, "--platform %s: not OS/ARCH[/VARIANT]", platform);
		return;
	}
	if (job->manifest_path == NULL || job->config_path == NULL)
		usage_error(usage_text, "missing --manifest and --config (or --scratch)");
	if (platform)
		usage_error(usage_text, "--platform goes with --scratch (the base's config "
		                        "names its platform)");
	job->base = GRAFT_BASE_FILES;
}

static bool is_stdin(const char *path)
{
	return path && strcmp(path, "-") == 0;
}

/* The outputs are files (the manifest may go to stdout), not the same one twice; at most one
 * input is stdin. --check writes nothing. */
static void check_files(struct graft_job *job)
{
	if (job->base == GRAFT_BASE_CHECK) {
		if (job->config_out || job->manifest_out || job->digest_out)
			usage_error(usage_text, "--check writes nothing (no --config-out, -o or "
			                        "--digest-out)");
		return;
	}
	if (job->config_out == NULL)
		usage_error(usage_text, "missing --config-out FILE (the new config blob)");
	if (is_stdin(job->config_out))
		usage_error(usage_text, "--config-out must be a file (stdout is the manifest's)");
	if (is_stdin(job->manifest_out))
		job->manifest_out = NULL;
	if (is_stdin(job->digest_out))
		usage_error(usage_text, "--digest-out must be a file (stdout is the manifest's)");
	const char *out[] = {job->config_out, job->manifest_out, job->digest_out};
	static const char *const names[] = {"--config-out", "-o", "--digest-out"};
	for (size_t i = 0; i < 3; i++)
		for (size_t j = i + 1; j < 3; j++)
			if (out[i] && out[j] && strcmp(out[i], out[j]) == 0)
				usage_error(usage_text, "%s and %s are the same file", names[j],
				            names[i]);
	int stdin_users = is_stdin(job->manifest_path) + is_stdin(job->config_path);
	for (size_t i = 0; i < job->nlayers; i++)
		stdin_users += is_stdin(job->layers[i].path);
	if (stdin_users > 1)
		usage_error(usage_text, "only one input can be - (stdin)");
}

int main(int argc, char **argv)
{
	static struct graft_job job; /* static: reachable at any exit (no leak reports) */
	static struct graft_layer_file *layers;
	size_t nlayers = 0;
	const char *platform = NULL, *created_opt = NULL;
	bool scratch = false, check = false;
	static char *source;

	opterr = 0;
	int c, li;
	while ((li = -1, c = getopt_long(argc, argv, "+:o:h", longopts, &li)) != -1) {
		char opt[32];
		if (li >= 0)
			snprintf(opt, sizeof opt, "--%s", longopts[li].name);
		else
			snprintf(opt, sizeof opt, "-%c", c);
		enum graft_change_kind kind;
		if (change_kind(c, &kind)) {
			add_change(&job.req, kind, opt, optarg);
			continue;
		}
		switch (c) {
		case 'V':
		case 'h':
			cli_common_option(c, "oci-graft", usage_text);
		case OPT_MANIFEST:
			job.manifest_path = optarg;
			break;
		case OPT_CONFIG:
			job.config_path = optarg;
			break;
		case OPT_CONFIG_OUT:
			job.config_out = optarg;
			break;
		case 'o':
			job.manifest_out = optarg;
			break;
		case OPT_DIGEST_OUT:
			job.digest_out = optarg;
			break;
		case OPT_LAYER:
			add_layer(&layers, &nlayers, optarg);
			break;
		case OPT_CREATED_BY:
			set_created_by(layers, nlayers, optarg);
			break;
		case OPT_BASE_NAME:
			need_utf8("--base-name", optarg);
			job.req.base_name = optarg;
			break;
		case OPT_CREATED:
			created_opt = optarg;
			break;
		case OPT_SCRATCH:
			scratch = true;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_PLATFORM:
			platform = optarg;
			break;
		case OPT_OCI:
			job.req.force_oci = true;
			break;
		case OPT_ANNOTATION:
			add_annotation(&job.req, optarg);
			break;
		case OPT_ANNOTATE_CREATED:
			job.req.annotate_created = true;
			break;
		case OPT_SOURCE_URL:
			need_utf8("--source-url", optarg);
			free(source);
			job.req.source = source = graft_source_url(optarg);
			break;
		case OPT_REVISION:
			need_utf8("--revision", optarg);
			job.req.revision = optarg;
			break;
		case OPT_VERSION_FROM:
			job.version_from = optarg;
			break;
		default: /* ':' or an unknown option */
			cli_refused_option(c, argv, usage_text);
		}
	}
	cli_no_operands(argc, argv, usage_text);
	job.layers = layers;
	job.nlayers = nlayers;
	choose_base(&job, scratch, check, platform);
	check_files(&job);
	char created[GRAFT_TIME_MAX];
	created_time(created_opt, created);
	job.req.created = created;

	char why[600];
	int rc = graft_job_run(&job, why, sizeof why);
	if (rc == EXIT_USAGE)
		usage_error(usage_text, "%s", why);
	free(layers);
	free(job.req.changes);
	free(job.req.annotations);
	free(source);
	return rc;
}
