/* oci-digest: compress an uncompressed layer from stdin and describe it. See oci-digest(1). */
#include "layer.h"
#include "cli.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
        "usage: oci-digest [-c zstd|gzip|none] [-l LEVEL] [-T THREADS] [-o FILE]\n"
        "                  [-d DESCRIPTOR_FILE] [--digest-out FILE] [--raw]\n"
        "       oci-digest -h | --help | --version\n";

/* Pipes hold 64 KiB by default: one read per 64 KiB and a wake-up of the writer each time.
 * 1 MiB is the unprivileged limit (/proc/sys/fs/pipe-max-size); failing to grow is harmless. */
#define PIPE_BYTES (1 << 20)

static void grow_pipe(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && fcntl(fd, F_GETPIPE_SZ) < PIPE_BYTES)
		(void)fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES);
}

/* Long options with no short form. */
enum { OPT_RAW = 256 };

static int parse_int(const char *opt, const char *s, int min, int max)
{
	uint64_t v;
	if (!parse_u64(s, (uint64_t)max, &v) || (int)v < min)
		usage_error(usage_text, "%s %s: expected a number from %d to %d", opt, s, min, max);
	return (int)v;
}

static int online_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int)n;
}

/* -T THREADS (0, like zstd -T0, or none: one worker per online core), as many as libzstd
 * allows. */
static int threads(enum layer_compression compression, const char *arg)
{
	int max_threads = layer_max_threads();
	if (compression == LAYER_ZSTD && max_threads < 1)
		errx(EXIT_FAIL, "libzstd was built without multi-threading, which a reproducible "
		                "layer needs");
	int n = arg ? parse_int("-T", arg, 0, INT_MAX) : 0;
	if (n == 0)
		n = online_cores();
	return n > max_threads ? max_threads : n;
}

/* The layer from stdin to out_path (atomically, left uncommitted in *out) or stdout, as opt
 * says; exits 1 with the reason when that fails. */
static void stream_layer(const struct layer_options *opt, const char *out_path,
                         struct atomic_file *out, struct layer_result *res)
{
	int out_fd = STDOUT_FILENO;
	if (out_path) {
		if (atomic_open(out, out_path, 0666) < 0)
			err(EXIT_FAIL, "%s", out_path);
		out_fd = out->fd;
	} else {
		grow_pipe(STDOUT_FILENO);
	}
	grow_pipe(STDIN_FILENO);

	struct layer_error e = {0};
	if (layer_stream(STDIN_FILENO, out_fd, opt, res, &e) < 0) {
		atomic_abort(out);
		switch (e.stage) {
		case LAYER_ERR_READ:
			errno = e.err;
			err(EXIT_FAIL, "stdin");
		case LAYER_ERR_WRITE:
			errno = e.err;
			err(EXIT_FAIL, "%s", out_path ? out_path : "stdout");
		case LAYER_ERR_INPUT:
			/* Whatever went out on stdout is no layer: the exit status says so, and no
			 * descriptor is written. */
			errx(EXIT_FAIL, "stdin: not a whole tar stream: %s (--raw takes any data)",
			     e.msg);
		case LAYER_ERR_CODEC:
			break;
		}
		errx(EXIT_FAIL, "%s", e.msg);
	}
}

/* The descriptor (-d FILE, else stdout with -o, stderr without) and --digest-out, each whole
 * before the layer is committed; then the layer. Exits 1 naming what failed, having removed
 * what was not committed. */
static void write_outputs(const struct layer_options *opt, const struct layer_result *res,
                          const char *out_path, struct atomic_file *out, const char *desc_path,
                          const char *digest_path)
{
	struct atomic_file desc = {.fd = -1}, dg = {.fd = -1};
	size_t len;
	char *line = layer_descriptor_line(opt->compression, res, &len);
	/* The descriptor is written before the layer is committed, so a layer never appears
	 * without its descriptor. */
	if (desc_path) {
		if (atomic_open(&desc, desc_path, 0666) < 0 || write_all(desc.fd, line, len) < 0) {
			int saved = errno;
			atomic_abort(out);
			atomic_abort(&desc);
			errno = saved;
			err(EXIT_FAIL, "%s", desc_path);
		}
	}
	/* --digest-out: the layer's digest on a line, complete before the layer is committed */
	char dline[DIGEST_STR_LEN + 1];
	snprintf(dline, sizeof dline, "%s\n", res->digest);
	if (digest_path && (atomic_open(&dg, digest_path, 0666) < 0 ||
	                    write_all(dg.fd, dline, strlen(dline)) < 0 || atomic_commit(&dg) < 0)) {
		int saved = errno;
		atomic_abort(out);
		atomic_abort(&desc);
		errno = saved;
		err(EXIT_FAIL, "%s", digest_path);
	}
	if (out_path && atomic_commit(out) < 0) {
		int saved = errno;
		atomic_abort(&desc);
		errno = saved;
		err(EXIT_FAIL, "%s", out_path);
	}
	if (desc_path) {
		if (atomic_commit(&desc) < 0)
			err(EXIT_FAIL, "%s", desc_path);
	} else {
		/* With -o, stdout is free for the descriptor; without it, stdout is the layer. */
		FILE *f = out_path ? stdout : stderr;
		if (fwrite(line, 1, len, f) != len || fflush(f) != 0)
			err(EXIT_FAIL, "%s", out_path ? "stdout" : "stderr");
	}
	free(line);
	if (!out_path && close(STDOUT_FILENO) < 0)
		err(EXIT_FAIL, "stdout");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"compression", required_argument, NULL, 'c'},
	        {"level", required_argument, NULL, 'l'},
	        {"threads", required_argument, NULL, 'T'},
	        {"output", required_argument, NULL, 'o'},
	        {"descriptor", required_argument, NULL, 'd'},
	        {"raw", no_argument, NULL, OPT_RAW},
	        {"digest-out", required_argument, NULL, 'D'},
	        CLI_HELP_VERSION_LONGOPTS,
	        {NULL, 0, NULL, 0},
	};
	struct layer_options opt = {.compression = LAYER_ZSTD, .input = LAYER_INPUT_TAR};
	const char *level_arg = NULL, *threads_arg = NULL, *out_path = NULL, *desc_path = NULL,
	           *digest_path = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "c:l:T:o:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (!layer_compression_parse(optarg, &opt.compression))
				usage_error(usage_text, "-c %s: expected zstd, gzip or none",
				            optarg);
			break;
		case 'l':
			level_arg = optarg;
			break;
		case 'T':
			threads_arg = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'd':
			desc_path = optarg;
			break;
		case OPT_RAW:
			opt.input = LAYER_INPUT_ANY;
			break;
		case 'D':
			digest_path = optarg;
			break;
		default: /* -h, --help, --version, or what getopt refused */
			cli_common_option(c, "oci-digest", usage_text);
		}
	}
	if (optind < argc)
		usage_error(usage_text, "unexpected argument: %s", argv[optind]);

	int min, max;
	layer_levels(opt.compression, &min, &max, &opt.level);
	if (level_arg && min > max)
		usage_error(usage_text, "-l: -c %s has no levels",
		            layer_compression_name(opt.compression));
	if (level_arg)
		opt.level = parse_int("-l", level_arg, min, max);

	opt.threads = threads(opt.compression, threads_arg);

	if (out_path && strcmp(out_path, "-") == 0)
		out_path = NULL;
	if (isatty(STDIN_FILENO))
		usage_error(usage_text, "stdin is a terminal: pipe an uncompressed layer in");
	if (out_path == NULL && isatty(STDOUT_FILENO))
		usage_error(usage_text,
		            "refusing to write a layer to a terminal: redirect stdout or "
		            "use -o FILE");

	struct atomic_file out = {.fd = -1};
	struct layer_result res;
	stream_layer(&opt, out_path, &out, &res);
	write_outputs(&opt, &res, out_path, &out, desc_path, digest_path);
	return EXIT_OK;
}
