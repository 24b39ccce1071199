/* oci-tar: writes a deterministic tar stream of a directory's contents to stdout. See
 * oci-tar(1); the walk is walk.h's, the output out.h's. */
#include "atomic_file.h"
#include "exclude.h"
#include "fdio.h"
#include "oci.h"
#include "out.h"
#include "part.h"
#include "path.h"
#include "cli.h"
#include "signature.h"
#include "util.h"
#include "walk.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
        "usage: oci-tar [--root-dir PATH] [--uid N] [--gid N] [--mtime EPOCH | keep]\n"
        "               [--exclude PATTERN ...] [--exclude-from FILE ...]\n"
        "               [--only PATTERN ...] [--skip PATTERN ...]\n"
        "               [--signature | --signature-out FILE] DIR\n"
        "       oci-tar -h | --help | --version\n";

struct options {
	struct walk_options walk;
	char *root; /* walk.root, owned */
	struct excluder ex;
	struct part part;
	bool signature;
	const char *signature_out; /* --signature-out FILE, or NULL */
};

static bool parse_time(const char *s, int64_t *out)
{
	bool neg = s[0] == '-';
	uint64_t v;
	if (!parse_u64(s + neg, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v))
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* "/a//b/./" -> "a/b/"; "/" and "" -> "". */
static char *parse_root(const char *s)
{
	if (path_has_dotdot(s))
		usage_error(usage_text, "--root-dir must not contain '..': %s", s);
	char *clean = path_clean_abs(s);
	char *root = clean[1] ? xasprintf("%s/", clean + 1) : xstrdup("");
	free(clean);
	return root;
}

static void add_exclude_file(struct excluder *ex, const char *path)
{
	struct buf b = {0};
	if (buf_read_file(&b, path, DOCUMENT_MAX_BYTES) < 0)
		err(EXIT_FAIL, "%s", path);
	char why[600];
	if (exclude_add_text(ex, b.data, b.len, why, sizeof why) < 0)
		usage_error(usage_text, "%s: %s", path, why);
	buf_free(&b);
}

/* The long options; their values are above every character. */
enum {
	OPT_ROOT = 256,
	OPT_UID,
	OPT_GID,
	OPT_MTIME,
	OPT_EXCLUDE,
	OPT_EXCLUDE_FROM,
	OPT_ONLY,
	OPT_SKIP,
	OPT_SIGNATURE,
	OPT_SIGNATURE_OUT
};

static const struct option longopts[] = {
        {"root-dir", required_argument, NULL, OPT_ROOT},
        {"uid", required_argument, NULL, OPT_UID},
        {"gid", required_argument, NULL, OPT_GID},
        {"mtime", required_argument, NULL, OPT_MTIME},
        {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"exclude-from", required_argument, NULL, OPT_EXCLUDE_FROM},
        {"only", required_argument, NULL, OPT_ONLY},
        {"skip", required_argument, NULL, OPT_SKIP},
        {"signature", no_argument, NULL, OPT_SIGNATURE},
        {"signature-out", required_argument, NULL, OPT_SIGNATURE_OUT},
        CLI_HELP_VERSION_LONGOPTS,
        {NULL, 0, NULL, 0},
};

static void parse_options(int argc, char **argv, struct options *opt)
{
	*opt = (struct options){.root = xstrdup("")};
	struct walk_options *w = &opt->walk;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde != NULL && *sde != '\0' && !parse_time(sde, &w->mtime))
		usage_error(usage_text, "SOURCE_DATE_EPOCH is not a number of seconds: %s", sde);
	char why[600];
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'V':
		case 'h':
			cli_common_option(c, "oci-tar", usage_text);
		case OPT_ROOT:
			free(opt->root);
			opt->root = parse_root(optarg);
			break;
		case OPT_UID:
			if (!parse_u64(optarg, UINT32_MAX, &w->uid))
				usage_error(usage_text, "--uid: not a user id: %s", optarg);
			break;
		case OPT_GID:
			if (!parse_u64(optarg, UINT32_MAX, &w->gid))
				usage_error(usage_text, "--gid: not a group id: %s", optarg);
			break;
		case OPT_MTIME:
			w->keep_mtime = strcmp(optarg, "keep") == 0;
			if (!w->keep_mtime && !parse_time(optarg, &w->mtime))
				usage_error(usage_text, "--mtime: not EPOCH seconds or keep: %s",
				            optarg);
			break;
		case OPT_EXCLUDE:
			if (exclude_add(&opt->ex, optarg, why, sizeof why) < 0)
				usage_error(usage_text, "--exclude: %s", why);
			break;
		case OPT_EXCLUDE_FROM:
			add_exclude_file(&opt->ex, optarg);
			break;
		case OPT_ONLY:
		case OPT_SKIP:
			if (part_add(&opt->part, c == OPT_ONLY ? PART_ONLY : PART_SKIP, optarg, why,
			             sizeof why) < 0)
				usage_error(usage_text, "%s: %s",
				            c == OPT_ONLY ? "--only" : "--skip", why);
			break;
		case OPT_SIGNATURE:
			opt->signature = true;
			break;
		case OPT_SIGNATURE_OUT:
			if (*optarg == '\0')
				usage_error(usage_text, "--signature-out: an empty FILE");
			opt->signature_out = optarg;
			break;
		default:
			if (optopt > 0 && optopt < 256)
				usage_error(usage_text, "unknown option: -%c", optopt);
			if (optopt >= OPT_ROOT)
				usage_error(usage_text, "option needs a value: %s",
				            argv[optind - 1]);
			usage_error(usage_text, "unknown option: %s", argv[optind - 1]);
		}
	}
	if (opt->signature && opt->signature_out != NULL)
		usage_error(usage_text, "--signature and --signature-out: one or the other");
	if (optind == argc)
		usage_error(usage_text, "missing DIR");
	if (optind + 1 < argc)
		usage_error(usage_text, "one DIR only, got also: %s", argv[optind + 1]);
	w->dir = argv[optind];
	w->root = opt->root;
	w->exclude = &opt->ex;
	w->part = opt->part.n > 0 ? &opt->part : NULL;
}

/* --signature: one line, "sha256:<hex>", with " racy" after it when a file's timestamps are too
 * recent to key a cache with (signature.h), " empty" when the archive would hold no entry. */
static void print_signature(struct options *opt)
{
	struct signature sig;
	signature_start(&sig);
	opt->walk.signature = &sig;
	walk_tree(&opt->walk, NULL);
	char line[SIGNATURE_LINE_MAX];
	size_t n = signature_line(&sig, line);
	if (fwrite(line, 1, n, stdout) != n || fflush(stdout) != 0)
		err(EXIT_FAIL, "stdout");
	signature_free(&sig);
}

/* The archive to stdout; with --signature-out, the signature of the same walk into FILE once
 * the whole archive is written: FILE is made when the run begins (so one that cannot be written
 * fails before any work) and appears, renamed into place, only after the archive's end. */
static void write_archive(struct options *opt)
{
	struct atomic_file sig_file = {.fd = -1};
	struct signature sig;
	if (opt->signature_out != NULL) {
		if (atomic_open(&sig_file, opt->signature_out, 0666) < 0)
			err(EXIT_FAIL, "%s", opt->signature_out);
		signature_start(&sig);
		opt->walk.signature = &sig;
	}
	struct tar_out out;
	tar_out_open(&out, STDOUT_FILENO, "stdout");
	walk_tree(&opt->walk, &out);
	/* The end of the archive: two zero blocks, written only when everything above worked. */
	tar_out_end(&out);
	tar_out_free(&out);
	if (opt->signature_out == NULL)
		return;
	char line[SIGNATURE_LINE_MAX];
	size_t n = signature_line(&sig, line);
	if (write_all(sig_file.fd, line, n) < 0 || atomic_commit(&sig_file) < 0)
		err(EXIT_FAIL, "%s", opt->signature_out);
	signature_free(&sig);
}

int main(int argc, char **argv)
{
	struct options opt;
	parse_options(argc, argv, &opt);
	if (opt.signature) {
		print_signature(&opt);
		free(opt.root);
		exclude_free(&opt.ex);
		part_free(&opt.part);
		return EXIT_OK;
	}
	if (isatty(STDOUT_FILENO))
		usage_error(usage_text,
		            "refusing to write a tar stream to a terminal; redirect stdout");

	write_archive(&opt);
	free(opt.root);
	exclude_free(&opt.ex);
	part_free(&opt.part);
	return EXIT_OK;
}
