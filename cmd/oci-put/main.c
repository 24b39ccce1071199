/* oci-put: put blobs and manifests into a registry repository or an OCI image layout, each blob
 * only if it is not there yet (HEAD, mount, upload), streaming with constant memory. */
#include "blobsrc.h"
#include "digest.h"
#include "oci.h"
#include "push.h"
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
        "usage: oci-put blob [--mount-from REPO] [--from REF] DEST (FILE | - | DIGEST)...\n"
        "       oci-put manifest [--from REF]... [--blob FILE]... [--tag REF]... DEST[:TAG] "
        "(FILE | -)\n"
        "       common options: [--insecure] [--cacert FILE] [-v]\n";

struct opts {
	const char *mount_from, *from, *cacert;
	const char **blobs, **tags, **froms; /* froms: every --from (manifest takes several) */
	size_t nblobs, ntags, nfroms;
	bool insecure;
	int verbose;
};

static void open_store(struct store *st, const char *name)
{
	char e[256];
	if (store_parse(st, name, e, sizeof e) < 0)
		usage_error(usage, "%s: invalid reference: %s", name, e);
}

static void start_session(struct session *s, const struct opts *o, bool http1)
{
	struct http_opts ho = {.cacert = o->cacert, .verbose = o->verbose, .http1 = http1};
	session_init(s, &ho, o->insecure);
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

static int cmd_blob(int argc, char **argv, const struct opts *o)
{
	if (argc < 2)
		usage_error(usage, "blob: DEST and at least one FILE, - or DIGEST");
	/* Static: what a failing run leaves allocated stays reachable (no leak reports). */
	static struct store dst, mnt, from;
	static struct session s;
	static struct blob_src *src, **local;
	static bool *is_digest;
	static const char **known;
	open_store(&dst, argv[0]);
	if (o->mount_from)
		open_mount_source(&mnt, o->mount_from, &dst);
	if (o->from)
		open_store(&from, o->from);
	size_t n = (size_t)argc - 1;
	char **args = argv + 1;
	src = xcalloc(n, sizeof *src);
	is_digest = xcalloc(n, sizeof *is_digest);
	int stream = -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(args[i], "-") == 0) {
			if (stream >= 0)
				usage_error(usage, "blob: stdin (-) can be read only once");
			stream = (int)i;
		} else if (strncmp(args[i], "sha256:", 7) == 0) {
			if (!digest_is_sha256(args[i]))
				usage_error(usage, "%s: not a sha256 digest (sha256:<64 hex>)",
				            args[i]);
			is_digest[i] = true;
		}
	}
	/* A stream alone (a build's layer): HTTP/1.1, whose TCP window grows with the upload,
	 * where the HTTP/2 of Go registries lets 1 MiB through per round trip (17 round trips
	 * for a 17 MB layer). Its requests come one after another: one connection either way. */
	start_session(&s, o, n == 1 && stream == 0);
	if (store_attach(&s, &dst, true) < 0 ||
	    (o->mount_from && store_attach(&s, &mnt, false) < 0) ||
	    (o->from && store_attach(&s, &from, false) < 0))
		return EXIT_FAIL;
	struct store *sources[2];
	size_t nsources = 0;
	if (o->mount_from)
		sources[nsources++] = &mnt;
	if (o->from)
		sources[nsources++] = &from;

	/* local bytes first: every file's digest, and stdin up to the buffer */
	local = xcalloc(n, sizeof *local);
	known = xcalloc(n, sizeof *known);
	size_t nlocal = 0, nknown = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_digest[i]) {
			known[nknown++] = args[i];
			continue;
		}
		if ((int)i == stream) {
			/* read while the files are HEADed and the stream's upload session opened */
			blobsrc_stream_held(&src[i], STDIN_FILENO, "stdin", BLOBSRC_RING,
			                    BLOBSRC_AHEAD, NULL);
			session_feed(&s, &src[i]);
			continue;
		} else if (blobsrc_file(&src[i], args[i]) < 0) {
			err(EXIT_FAIL, "%s", args[i]);
		}
		local[nlocal++] = &src[i];
		known[nknown++] = src[i].digest;
	}
	struct put_ctx c = {.s = &s,
	                    .files = local,
	                    .nfiles = nlocal,
	                    .sources = sources,
	                    .nsources = nsources,
	                    .mount_local = o->mount_from != NULL};
	if (put_blobs(&c, &dst, known, nknown) < 0)
		return EXIT_FAIL;
	if (stream >= 0 && put_stream(&c, &dst, &src[stream]) < 0)
		return EXIT_FAIL;
	for (size_t i = 0; i < n; i++)
		printf("%s\n", is_digest[i] ? args[i] : src[i].digest);
	if (fflush(stdout) != 0 || ferror(stdout))
		err(EXIT_FAIL, "stdout");
	for (size_t i = 0; i < n; i++)
		if (!is_digest[i])
			blobsrc_close(&src[i]);
	free(src);
	free(is_digest);
	free(local);
	free(known);
	session_end(&s);
	store_close(&dst);
	if (o->mount_from)
		store_close(&mnt);
	if (o->from)
		store_close(&from);
	return EXIT_OK;
}

/* Printed only once everything is in place. */
static void pushed(struct buf *out, const struct store *st, const char *digest)
{
	char *repo = ref_repository(&st->ref);
	buf_appendf(out, "%s@%s\n", repo, digest);
	free(repo);
}

static int cmd_manifest(int argc, char **argv, const struct opts *o)
{
	if (argc != 2)
		usage_error(usage, "manifest: DEST[:TAG] and one FILE or -");
	static struct store dst, *from, *tags;
	static struct session s;
	static struct doc d;
	static struct blob_src *bsrc, **local;
	open_store(&dst, argv[0]);
	if (dst.ref.digest)
		usage_error(usage,
		            "%s: DEST takes a tag, not a digest (the digest is the manifest's)",
		            argv[0]);
	from = xcalloc(o->nfroms + 1, sizeof *from);
	for (size_t i = 0; i < o->nfroms; i++)
		open_store(&from[i], o->froms[i]);
	tags = xcalloc(o->ntags + 1, sizeof *tags);
	for (size_t i = 0; i < o->ntags; i++) {
		open_store(&tags[i], o->tags[i]);
		if (tags[i].ref.digest)
			usage_error(usage, "--tag %s: a tag, not a digest", o->tags[i]);
	}

	char e[256];
	const char *file = argv[1];
	if (buf_read_file(&d.data, file, MANIFEST_MAX_BYTES) < 0) {
		if (errno == EFBIG)
			errx(EXIT_FAIL,
			     "%s: manifest larger than %u bytes (4 MiB, the distribution "
			     "spec's limit)",
			     strcmp(file, "-") ? file : "stdin", MANIFEST_MAX_BYTES);
		err(EXIT_FAIL, "%s", strcmp(file, "-") ? file : "stdin");
	}
	if (doc_identify(&d, NULL, e, sizeof e) < 0)
		errx(EXIT_FAIL, "%s: manifest is %s", strcmp(file, "-") ? file : "stdin", e);
	if (!media_type_is_manifest(d.media_type) && !media_type_is_index(d.media_type))
		errx(EXIT_FAIL, "%s: not an image manifest or index (mediaType %s)",
		     strcmp(file, "-") ? file : "stdin", d.media_type ? d.media_type : "missing");

	bsrc = xcalloc(o->nblobs + 1, sizeof *bsrc);
	local = xcalloc(o->nblobs + 1, sizeof *local);
	for (size_t i = 0; i < o->nblobs; i++) {
		if (blobsrc_file(&bsrc[i], o->blobs[i]) < 0)
			err(EXIT_FAIL, "%s", o->blobs[i]);
		local[i] = &bsrc[i];
	}

	start_session(&s, o, false);
	if (store_attach(&s, &dst, true) < 0)
		return EXIT_FAIL;
	for (size_t i = 0; i < o->nfroms; i++)
		if (store_attach(&s, &from[i], false) < 0)
			return EXIT_FAIL;
	for (size_t i = 0; i < o->ntags; i++)
		if (store_attach(&s, &tags[i], true) < 0)
			return EXIT_FAIL;

	static struct store **sources;
	sources = xcalloc(o->nfroms + 2, sizeof *sources);
	/* A build's manifest: its new layer is in DEST already and its config is new, so HEAD
	 * first, and open the config's upload session while the HEADs go. */
	struct put_ctx c = {.s = &s,
	                    .files = local,
	                    .nfiles = o->nblobs,
	                    .sources = sources,
	                    .head_first = true,
	                    .speculate = true};
	for (size_t i = 0; i < o->nfroms; i++)
		sources[c.nsources++] = &from[i];
	/* Every target's blobs first, the manifests last and in a row: a target that fails (its
	 * credentials, its registry) leaves no tag pushed anywhere. */
	if (put_document_refs(&c, &dst, &d) < 0)
		return EXIT_FAIL;
	/* the other tags: their blobs come from DEST (mounted in the same registry) */
	c.nsources = 0;
	sources[c.nsources++] = &dst;
	for (size_t i = 0; i < o->nfroms; i++)
		sources[c.nsources++] = &from[i];
	for (size_t i = 0; i < o->ntags; i++) {
		/* another tag of DEST's repository: its blobs are there already */
		bool same =
		        store_is_layout(&tags[i])
		                ? store_is_layout(&dst) && strcmp(tags[i].ref.dir, dst.ref.dir) == 0
		                : store_same_registry(&tags[i], &dst) &&
		                          strcmp(tags[i].ref.path, dst.ref.path) == 0;
		if (!same && put_document_refs(&c, &tags[i], &d) < 0)
			return EXIT_FAIL;
	}
	static struct buf out;
	if (store_put_manifest(&dst, dst.ref.tag, &d) < 0)
		return EXIT_FAIL;
	pushed(&out, &dst, d.digest);
	for (size_t i = 0; i < o->ntags; i++) {
		if (store_put_manifest(&tags[i], tags[i].ref.tag, &d) < 0)
			return EXIT_FAIL;
		pushed(&out, &tags[i], d.digest);
	}
	fputs(out.data, stdout);
	buf_free(&out);
	if (fflush(stdout) != 0 || ferror(stdout))
		err(EXIT_FAIL, "stdout");
	session_end(&s);
	for (size_t i = 0; i < o->nblobs; i++)
		blobsrc_close(&bsrc[i]);
	for (size_t i = 0; i < o->ntags; i++)
		store_close(&tags[i]);
	free(tags);
	free(bsrc);
	free(local);
	doc_free(&d);
	store_close(&dst);
	for (size_t i = 0; i < o->nfroms; i++)
		store_close(&from[i]);
	free(from);
	free(sources);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_MOUNT_FROM = 256, OPT_FROM, OPT_BLOB, OPT_TAG, OPT_INSECURE, OPT_CACERT };
	static const struct option longopts[] = {
	        {"mount-from", required_argument, NULL, OPT_MOUNT_FROM},
	        {"from", required_argument, NULL, OPT_FROM},
	        {"blob", required_argument, NULL, OPT_BLOB},
	        {"tag", required_argument, NULL, OPT_TAG},
	        {"insecure", no_argument, NULL, OPT_INSECURE},
	        {"cacert", required_argument, NULL, OPT_CACERT},
	        {"verbose", no_argument, NULL, 'v'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	static struct opts o; /* static: reachable at any exit (no leak reports) */
	o.blobs = xcalloc((size_t)argc, sizeof *o.blobs);
	o.tags = xcalloc((size_t)argc, sizeof *o.tags);
	o.froms = xcalloc((size_t)argc, sizeof *o.froms);
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
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MOUNT_FROM:
			o.mount_from = optarg;
			break;
		case OPT_FROM:
			o.from = optarg;
			o.froms[o.nfroms++] = optarg;
			break;
		case OPT_BLOB:
			o.blobs[o.nblobs++] = optarg;
			break;
		case OPT_TAG:
			o.tags[o.ntags++] = optarg;
			break;
		case OPT_INSECURE:
			o.insecure = true;
			break;
		case OPT_CACERT:
			o.cacert = optarg;
			break;
		case 'v':
			o.verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (cmd == NULL)
		usage_error(usage, "blob or manifest?");
	bool blob = strcmp(cmd, "blob") == 0;
	if (!blob && strcmp(cmd, "manifest") != 0)
		usage_error(usage, "%s: not a command (blob, manifest)", cmd);
	if (blob && (o.nblobs || o.ntags))
		usage_error(usage, "--blob and --tag are for manifest");
	if (blob && o.nfroms > 1)
		usage_error(usage, "blob takes one --from");
	if (!blob && o.mount_from)
		usage_error(usage, "--mount-from is for blob (manifest mounts from --from)");
	int r = blob ? cmd_blob(argc - optind, argv + optind, &o)
	             : cmd_manifest(argc - optind, argv + optind, &o);
	free(o.blobs);
	free(o.tags);
	free(o.froms);
	return r;
}
