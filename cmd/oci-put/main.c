/* oci-put: put blobs and manifests into a registry repository or an OCI image layout, each blob
 * only if it is not there yet (HEAD, mount, upload), streaming with constant memory. */
#include "digest.h"
#include "jobs.h"
#include "progress.h"
#include "store.h"
#include "cli.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
        "usage: oci-put blob [--mount-from REPO] [--from REF] [--expect DIGEST]\n"
        "                    [--if-not-empty] [--hold FILE] DEST (FILE | - | DIGEST)...\n"
        "       oci-put manifest [--from REF]... [--blob FILE]... [--tag REF]...\n"
        "                        [[--name REF]... [--docker-save]] [--cache DIR | "
        "--default-cache]\n"
        "                        [--previous-out FILE --previous-config-out FILE]\n"
        "                        DEST[:TAG] (FILE | -)\n"
        "       common options: [--insecure] [--cacert FILE] [-q] [-v]\n"
        "       oci-put -h | --help | --version\n";

struct opts {
	struct net_options net;
	struct cache_options cache; /* manifest: where the configs pushed from files are kept */
	const char *mount_from, *from, *expect, *hold, *previous_out, *previous_config_out;
	const char **blobs, **tags, **names, **froms; /* froms: every --from (manifest: several) */
	size_t nblobs, ntags, nnames, nfroms;
	bool docker_save, quiet, if_not_empty;
};

static void open_store(struct store *st, const char *name)
{
	char e[256];
	if (store_parse(st, name, e, sizeof e) < 0)
		usage_error(usage, "%s: invalid reference: %s", name, e);
}

/* --mount-from REPO: a repository of DEST's registry ("team/base"), or a full reference. */
static void open_mount_source(struct store *st, const char *repo, const struct store *dst)
{
	open_store(st, repo);
	const char *slash = strchr(repo, '/');
	bool has_domain =
	        st->ref.kind == REF_LAYOUT || (slash && strcmp(st->ref.domain, "docker.io") != 0) ||
	        strncmp(repo, "docker.io/", 10) == 0 || strncmp(repo, "index.docker.io/", 16) == 0;
	if (has_domain || dst->ref.kind != REF_REGISTRY)
		return;
	char *full = xasprintf("%s/%s", dst->ref.domain, repo);
	store_close(st);
	open_store(st, full);
	free(full);
}

/* blob: DEST and at least one FILE, - (once) or DIGEST. */
static void blob_args(struct blob_job *j, int argc, char **argv, const struct opts *o)
{
	if (argc < 2)
		usage_error(usage, "blob: DEST and at least one FILE, - or DIGEST");
	j->net = o->net;
	open_store(&j->dst, argv[0]);
	if ((j->has_mount_from = o->mount_from != NULL))
		open_mount_source(&j->mount_from, o->mount_from, &j->dst);
	if ((j->has_from = o->from != NULL))
		open_store(&j->from, o->from);
	j->nargs = (size_t)argc - 1;
	j->args = argv + 1;
	j->is_digest = xcalloc(j->nargs, sizeof *j->is_digest);
	j->stream = -1;
	for (size_t i = 0; i < j->nargs; i++) {
		if (strcmp(j->args[i], "-") == 0) {
			if (j->stream >= 0)
				usage_error(usage, "blob: stdin (-) can be read only once");
			j->stream = (int)i;
		} else if (strncmp(j->args[i], "sha256:", 7) == 0) {
			if (!digest_is_sha256(j->args[i]))
				usage_error(usage, "%s: not a sha256 digest (sha256:<64 hex>)",
				            j->args[i]);
			j->is_digest[i] = true;
		}
	}
	if ((j->if_not_empty = o->if_not_empty) && j->stream < 0)
		usage_error(usage, "--if-not-empty is for a stream (-)");
	if ((j->hold = o->hold) && j->stream < 0)
		usage_error(usage, "--hold is for a stream (-)");
	if ((j->expect = o->expect) && (j->stream < 0 || !digest_is_sha256(o->expect)))
		usage_error(usage, "--expect %s: %s", o->expect,
		            j->stream < 0 ? "is for a stream (-)"
		                          : "not a sha256 digest (sha256:<64 hex>)");
}

/* manifest: DEST[:TAG] (a tag, not a digest) and one FILE or -; --tag REFs are tags. */
static void manifest_args(struct manifest_job *j, int argc, char **argv, const struct opts *o)
{
	if (argc != 2)
		usage_error(usage, "manifest: DEST[:TAG] and one FILE or -");
	j->net = o->net;
	open_store(&j->dst, argv[0]);
	if (j->dst.ref.digest)
		usage_error(usage,
		            "%s: DEST takes a tag, not a digest (the digest is the manifest's)",
		            argv[0]);
	j->nfrom = o->nfroms;
	j->from = xcalloc(o->nfroms + 1, sizeof *j->from);
	for (size_t i = 0; i < o->nfroms; i++)
		open_store(&j->from[i], o->froms[i]);
	/* --name: a layout DEST names the image by full references */
	char e[256];
	if (o->nnames &&
	    store_name_image(&j->dst, o->names, o->nnames,
	                     o->docker_save ? LAYOUT_NAME_DOCKER_SAVE : LAYOUT_NAME_TAGS, e,
	                     sizeof e) < 0)
		usage_error(usage, "--name: %s", e);
	j->ntags = o->ntags;
	j->tags = xcalloc(o->ntags + 1, sizeof *j->tags);
	for (size_t i = 0; i < o->ntags; i++) {
		open_store(&j->tags[i], o->tags[i]);
		if (j->tags[i].ref.digest)
			usage_error(usage, "--tag %s: a tag, not a digest", o->tags[i]);
	}
	j->blobs = o->blobs;
	j->nblobs = o->nblobs;
	j->file = argv[1];
	/* (the tag is read while the manifest is awaited on stdin) */
	if ((j->previous_out = o->previous_out) &&
	    (strcmp(j->file, "-") != 0 || j->dst.ref.kind != REF_REGISTRY || !j->dst.ref.tag))
		usage_error(
		        usage,
		        "--previous-out: DEST a registry's tag, the manifest read from stdin (-)");
	j->previous_config_out = o->previous_config_out;
	j->cache_dir = cli_cache_dir(&o->cache, usage, "no config kept");
}

int main(int argc, char **argv)
{
	enum {
		OPT_MOUNT_FROM = 256,
		OPT_FROM,
		OPT_BLOB,
		OPT_TAG,
		OPT_NAME,
		OPT_DOCKER_SAVE,
		OPT_EXPECT,
		OPT_IF_NOT_EMPTY,
		OPT_HOLD,
		OPT_PREVIOUS_OUT,
		OPT_PREVIOUS_CONFIG_OUT
	};
	static const struct option longopts[] = {
	        {"mount-from", required_argument, NULL, OPT_MOUNT_FROM},
	        {"from", required_argument, NULL, OPT_FROM},
	        {"expect", required_argument, NULL, OPT_EXPECT},
	        {"if-not-empty", no_argument, NULL, OPT_IF_NOT_EMPTY},
	        {"hold", required_argument, NULL, OPT_HOLD},
	        {"previous-out", required_argument, NULL, OPT_PREVIOUS_OUT},
	        {"previous-config-out", required_argument, NULL, OPT_PREVIOUS_CONFIG_OUT},
	        {"blob", required_argument, NULL, OPT_BLOB},
	        {"tag", required_argument, NULL, OPT_TAG},
	        {"name", required_argument, NULL, OPT_NAME},
	        {"docker-save", no_argument, NULL, OPT_DOCKER_SAVE},
	        CLI_CACHE_LONGOPTS,
	        CLI_NET_LONGOPTS,
	        CLI_HELP_VERSION_LONGOPTS,
	        {"quiet", no_argument, NULL, 'q'},
	        {0},
	};
	static struct opts o; /* static: reachable at any exit (no leak reports) */
	o.blobs = xcalloc((size_t)argc, sizeof *o.blobs);
	o.tags = xcalloc((size_t)argc, sizeof *o.tags);
	o.froms = xcalloc((size_t)argc, sizeof *o.froms);
	o.names = xcalloc((size_t)argc, sizeof *o.names);
	/* The command is the first word that is neither an option nor an option's argument;
	 * options may come before or after it. */
	const char *cmd = NULL;
	for (int i = 1; i < argc && cmd == NULL; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (a[0] == '-' && a[1] != '\0') {
			for (const struct option *lo = longopts; lo->name; lo++)
				if (lo->has_arg == required_argument && strncmp(a, "--", 2) == 0 &&
				    strcmp(a + 2, lo->name) == 0)
					i++;
			continue;
		}
		cmd = a;
		memmove(argv + i, argv + i + 1, (size_t)(argc - i) * sizeof *argv);
		argc--;
	}
	int c;
	while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		if (cli_net_option(c, &o.net) || cli_cache_option(c, &o.cache, usage))
			continue;
		switch (c) {
		case OPT_MOUNT_FROM:
			o.mount_from = optarg;
			break;
		case OPT_FROM:
			o.from = optarg;
			o.froms[o.nfroms++] = optarg;
			break;
		case OPT_EXPECT:
			o.expect = optarg;
			break;
		case OPT_IF_NOT_EMPTY:
			o.if_not_empty = true;
			break;
		case OPT_HOLD:
			o.hold = optarg;
			break;
		case OPT_PREVIOUS_OUT:
			o.previous_out = optarg;
			break;
		case OPT_PREVIOUS_CONFIG_OUT:
			o.previous_config_out = optarg;
			break;
		case OPT_BLOB:
			o.blobs[o.nblobs++] = optarg;
			break;
		case OPT_TAG:
			o.tags[o.ntags++] = optarg;
			break;
		case OPT_NAME:
			o.names[o.nnames++] = optarg;
			break;
		case OPT_DOCKER_SAVE:
			o.docker_save = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		default: /* -h, --help, --version, or what getopt refused */
			cli_common_option(c, "oci-put", usage);
		}
	}
	if (cmd == NULL)
		usage_error(usage, "blob or manifest?");
	bool blob = strcmp(cmd, "blob") == 0;
	if (!blob && strcmp(cmd, "manifest") != 0)
		usage_error(usage, "%s: not a command (blob, manifest)", cmd);
	if (blob && (o.nblobs || o.ntags || o.nnames))
		usage_error(usage, "--blob, --tag and --name are for manifest");
	if (blob && (o.cache.dir || o.cache.use_default))
		usage_error(usage, "--cache and --default-cache are for manifest");
	if (o.docker_save && !o.nnames)
		usage_error(usage, "--docker-save names the image: give --name REF");
	if (blob && o.nfroms > 1)
		usage_error(usage, "blob takes one --from");
	if (!blob && o.mount_from)
		usage_error(usage, "--mount-from is for blob (manifest mounts from --from)");
	if (!blob && o.expect)
		usage_error(usage, "--expect is for blob");
	if (!blob && o.if_not_empty)
		usage_error(usage, "--if-not-empty is for blob");
	if (!blob && o.hold)
		usage_error(usage, "--hold is for blob");
	if (blob && (o.previous_out || o.previous_config_out))
		usage_error(usage, "--previous-out and --previous-config-out are for manifest");
	if (!o.previous_out != !o.previous_config_out)
		usage_error(usage, "--previous-out and --previous-config-out go together");
	progress_init("oci-put", o.quiet);
	/* static: reachable at any exit (no leak reports) */
	static struct blob_job bj;
	static struct manifest_job mj;
	if (blob)
		blob_args(&bj, argc - optind, argv + optind, &o);
	else
		manifest_args(&mj, argc - optind, argv + optind, &o);
	int r = blob ? put_blob_job(&bj) : put_manifest_job(&mj);
	free(o.blobs);
	free(o.tags);
	free(o.froms);
	free(o.names);
	return r;
}
