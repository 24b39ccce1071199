/* oci-fetch: print an image's manifest, config, a blob or its index, from a registry or an OCI
 * image layout, the platform resolved and every digest verified. Here: the options; the jobs
 * are fetch.c. */
#include "digest.h"
#include "dirs.h"
#include "fetch.h"
#include "cli.h"
#include "index.h"
#include "util.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
        "usage: oci-fetch [--platform OS/ARCH[/VARIANT]] [--index | --config | --blob DIGEST | "
        "--digest]\n"
        "                 [-o FILE] [--config-out FILE] [--digest-out FILE] [--manifest-out FILE]\n"
        "                 [--cache DIR | --default-cache] [--insecure] [--cacert FILE] [-v] REF\n"
        "       oci-fetch --platform all|OS/ARCH[/VARIANT][,...] --each DIR\n"
        "                 [--cache DIR | --default-cache] [--insecure] [--cacert FILE] [-v] REF\n"
        "       oci-fetch --platforms [-o FILE] [--insecure] [--cacert FILE] [-v] REF\n"
        "       oci-fetch --name [--platform all|OS/ARCH[/VARIANT][,...]] [REF...]\n"
        "       oci-fetch -h | --help | --version\n";

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
	        {"name", no_argument, NULL, OPT_NAME},
	        {"platforms", no_argument, NULL, OPT_PLATFORMS},
	        {"each", required_argument, NULL, OPT_EACH},
	        CLI_CACHE_LONGOPTS,
	        CLI_NET_LONGOPTS,
	        CLI_HELP_VERSION_LONGOPTS,
	        {0},
	};
	struct fetch_job job = {.mode = FETCH_MANIFEST};
	int modes = 0, c;
	const char *platform = NULL;
	bool names = false;
	struct cache_options cache = {0};
	while ((c = getopt_long(argc, argv, "o:vh", longopts, NULL)) != -1) {
		if (cli_net_option(c, &job.net) || cli_cache_option(c, &cache, usage))
			continue;
		switch (c) {
		case OPT_PLATFORM:
			platform = optarg;
			break;
		case OPT_INDEX:
			job.mode = FETCH_INDEX, modes++;
			break;
		case OPT_CONFIG:
			job.mode = FETCH_CONFIG, modes++;
			break;
		case OPT_BLOB:
			job.mode = FETCH_BLOB, modes++, job.blob = optarg;
			break;
		case OPT_DIGEST:
			job.mode = FETCH_DIGEST, modes++;
			break;
		case 'o':
			job.output = optarg;
			break;
		case OPT_CONFIG_OUT:
			job.config_out = optarg;
			break;
		case OPT_DIGEST_OUT:
			job.digest_out = optarg;
			break;
		case OPT_MANIFEST_OUT:
			job.manifest_out = optarg;
			break;
		case OPT_NAME:
			names = true;
			break;
		case OPT_PLATFORMS:
			job.mode = FETCH_PLATFORMS, modes++;
			break;
		case OPT_EACH:
			job.mode = FETCH_EACH, modes++, job.each_dir = optarg;
			break;
		default: /* -h, --help, --version, or what getopt refused */
			cli_common_option(c, "oci-fetch", usage);
		}
	}
	char why[256];
	bool selection = names || job.mode == FETCH_EACH;
	if (selection && platform && !index_selection_check(platform, why, sizeof why))
		usage_error(usage, "--platform %s: %s", platform, why);
	if (names) {
		if (argc == optind && platform)
			return EXIT_OK; /* only the platforms checked */
		if (argc == optind)
			usage_error(usage, "--name: no reference");
		return fetch_names(argc - optind, argv + optind);
	}
	if (argc - optind != 1)
		usage_error(usage, "%s", argc - optind ? "one reference, please" : "no reference");
	job.ref = argv[optind];
	if (modes > 1)
		usage_error(usage, "--index, --config, --blob, --digest, --platforms and --each "
		                   "exclude each other");
	if (job.blob && !digest_is_sha256(job.blob))
		usage_error(usage, "--blob %s: not a sha256 digest (sha256:<64 hex>)", job.blob);
	if (job.mode == FETCH_EACH && platform == NULL)
		usage_error(usage, "--each DIR: which platforms? (--platform all or a list)");
	if (job.mode == FETCH_PLATFORMS && platform)
		usage_error(usage, "--platforms lists every platform: it takes no --platform");
	if ((job.mode == FETCH_EACH || job.mode == FETCH_PLATFORMS) &&
	    (job.config_out || job.digest_out || job.manifest_out ||
	     (job.mode == FETCH_EACH && job.output)))
		usage_error(usage, "--%s writes only %s",
		            job.mode == FETCH_EACH ? "each" : "platforms",
		            job.mode == FETCH_EACH ? "into its DIR" : "the list");
	job.platform_given = platform != NULL;
	job.selection = platform;
	if (job.mode == FETCH_EACH || job.mode == FETCH_PLATFORMS)
		platform_host(&job.want);
	else if (platform == NULL)
		platform_host(&job.want);
	else if (!platform_parse(platform, &job.want))
		usage_error(usage, "--platform %s: not OS/ARCH[/VARIANT]", platform);
	if (job.mode == FETCH_BLOB && (job.config_out || job.digest_out || job.manifest_out))
		usage_error(usage, "--blob writes only the blob");
	char *cache_dir = cli_cache_dir(&cache, usage, "every document fetched");
	job.cache_dir = cache_dir;
	int rc = fetch_run(&job, usage);
	free(cache_dir);
	return rc;
}
