/* oci-digest's layer descriptor writer, and its one pass checked in-process against the codecs'
 * own decoders. */
#include "gzip_blocks.h"
#include "layer.h"
#include "oci.h"
#include "tap.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static const char empty_sha[] =
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char abc_sha[] =
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static void test_descriptor_line(void)
{
	struct layer_result r = {.size = 1234567890123};
	memcpy(r.digest, abc_sha, sizeof abc_sha);
	memcpy(r.diff_id, empty_sha, sizeof empty_sha);
	size_t len;
	char *line = layer_descriptor_line(LAYER_ZSTD, &r, &len);
	is_str(line,
	       "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\","
	       "\"digest\":\"sha256:"
	       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
	       "\"size\":1234567890123,"
	       "\"diffID\":\"sha256:"
	       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\""
	       "}\n",
	       "the zstd descriptor is DESIGN.md's, members in order, one line");
	is_int(len, strlen(line), "its length counts the newline");
	free(line);

	json_t *d = layer_descriptor(LAYER_GZIP, &r);
	char err[200];
	ok(descriptor_check(d, err, sizeof err), "it is a valid OCI descriptor");
	is_str(descriptor_media_type(d), "application/vnd.oci.image.layer.v1.tar+gzip",
	       "gzip media type");
	is_int(descriptor_size(d), 1234567890123, "a size beyond 32 bits survives");
	json_decref(d);
	is_str(layer_media_type(LAYER_NONE), "application/vnd.oci.image.layer.v1.tar",
	       "no compression is a plain tar media type");
}

static void test_options(void)
{
	enum layer_compression c = LAYER_NONE;
	ok(layer_compression_parse("zstd", &c) && c == LAYER_ZSTD, "zstd parses");
	ok(layer_compression_parse("gzip", &c) && c == LAYER_GZIP, "gzip parses");
	ok(layer_compression_parse("none", &c) && c == LAYER_NONE, "none parses");
	ok(!layer_compression_parse("ZSTD", &c) && !layer_compression_parse("", &c),
	   "anything else is refused");
	int min, max, def;
	layer_levels(LAYER_ZSTD, &min, &max, &def);
	ok(min == 1 && max == 19 && def == 3, "zstd levels 1..19, default 3");
	layer_levels(LAYER_GZIP, &min, &max, &def);
	ok(min == 1 && max == 9 && def == 6, "gzip levels 1..9, default 6");
	layer_levels(LAYER_NONE, &min, &max, &def);
	ok(min > max, "none takes no level");
	ok(layer_max_threads() >= 1, "libzstd has multi-threading");
}

/* Runs layer_stream over n bytes through memory files; returns the output (caller frees). */
static unsigned char *run_stream(const void *in, size_t n, struct layer_options *o,
                                 struct layer_result *r, size_t *out_len)
{
	int in_fd = memfd_create("in", 0), out_fd = memfd_create("out", 0);
	if (in_fd < 0 || out_fd < 0 || write(in_fd, in, n) != (ssize_t)n ||
	    lseek(in_fd, 0, SEEK_SET) != 0)
		return NULL;
	struct layer_error e;
	int rc = layer_stream(in_fd, out_fd, o, r, &e);
	off_t len = lseek(out_fd, 0, SEEK_END);
	unsigned char *out = malloc((size_t)len + 1);
	if (rc < 0 || out == NULL || pread(out_fd, out, (size_t)len, 0) != len) {
		free(out);
		out = NULL;
	}
	close(in_fd);
	close(out_fd);
	*out_len = (size_t)len;
	return out;
}

static void test_stream(void)
{
	/* 3 MiB: more than one zstd job at level 1 (2 MiB), so workers really split it. */
	size_t n = 3u << 20;
	unsigned char *in = malloc(n);
	for (size_t i = 0; i < n; i++)
		in[i] = (unsigned char)((i * 2654435761u) >> 13 ^ (i % 251 ? 0 : i));
	char in_sha[DIGEST_STR_LEN], out_sha[DIGEST_STR_LEN];
	sha256_of(in, n, in_sha);

	struct layer_options o = {.compression = LAYER_ZSTD, .level = 1, .threads = 1};
	struct layer_result r1, r2;
	size_t len1, len2;
	unsigned char *z1 = run_stream(in, n, &o, &r1, &len1);
	o.threads = 3;
	unsigned char *z2 = run_stream(in, n, &o, &r2, &len2);
	ok(z1 && z2 && len1 == len2 && memcmp(z1, z2, len1) == 0,
	   "zstd: one worker and three workers give the same bytes");
	is_str(r1.diff_id, in_sha, "zstd: diffID is the sha256 of the input");
	sha256_of(z1, len1, out_sha);
	is_str(r1.digest, out_sha, "zstd: digest is the sha256 of the output");
	is_int(r1.size, len1, "zstd: size is the output's length");
	unsigned char *back = malloc(n + 1);
	size_t got = ZSTD_decompress(back, n + 1, z1, len1);
	ok(!ZSTD_isError(got) && got == n && memcmp(back, in, n) == 0,
	   "zstd: the library's decoder gives the input back");
	free(z1);
	free(z2);

	o = (struct layer_options){.compression = LAYER_GZIP, .level = 6, .threads = 1};
	unsigned char *g = run_stream(in, n, &o, &r1, &len1);
	static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
	ok(g && len1 > 18 && memcmp(g, header, sizeof header) == 0,
	   "gzip: header has no name, mtime 0, OS unknown");
	z_stream z = {0};
	ok(g && inflateInit2(&z, 15 + 16) == Z_OK, "gzip: inflate starts");
	/* A series of members (RFC 1952, 2.2), one per block: inflate each in turn. */
	z.next_in = g, z.avail_in = (uInt)len1, z.next_out = back, z.avail_out = (uInt)n + 1;
	int members = 0, zr;
	while ((zr = inflate(&z, Z_FINISH)) == Z_STREAM_END && ++members && z.avail_in > 0)
		inflateReset(&z);
	ok(g && zr == Z_STREAM_END && z.avail_in == 0 && n + 1 - z.avail_out == n &&
	           memcmp(back, in, n) == 0,
	   "gzip: zlib inflates it back to the input, member by member");
	is_int(members, (int)((n + GZIP_BLOCK - 1) / GZIP_BLOCK), "gzip: one member per block");
	o.threads = 3;
	unsigned char *g3 = run_stream(in, n, &o, &r2, &len2);
	ok(g && g3 && len1 == len2 && memcmp(g, g3, len1) == 0 && strcmp(r1.digest, r2.digest) == 0,
	   "gzip: one worker and three workers give the same bytes");
	free(g3);
	inflateEnd(&z);
	is_str(r1.diff_id, in_sha, "gzip: diffID is the sha256 of the input");
	free(g);

	o = (struct layer_options){.compression = LAYER_NONE};
	unsigned char *t = run_stream(in, n, &o, &r1, &len1);
	ok(t && len1 == n && memcmp(t, in, n) == 0, "none: output is the input");
	ok(strcmp(r1.digest, in_sha) == 0 && strcmp(r1.diff_id, in_sha) == 0 && r1.size == n,
	   "none: digest = diffID = sha256 of the input");
	free(t);

	o = (struct layer_options){.compression = LAYER_ZSTD, .level = 3, .threads = 2};
	t = run_stream("", 0, &o, &r1, &len1);
	is_str(r1.diff_id, empty_sha, "empty input: diffID of nothing");
	ok(t && ZSTD_decompress(back, 1, t, len1) == 0, "empty input: a valid empty zstd frame");
	free(t);
	free(back);
	free(in);
}

static void test_errors(void)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	int in_fd = memfd_create("in", 0);
	if (in_fd < 0 || write(in_fd, "abc", 3) != 3 || lseek(in_fd, 0, SEEK_SET) != 0)
		return;
	struct layer_options o = {.compression = LAYER_NONE};
	struct layer_result r;
	struct layer_error e = {0};
	ok(layer_stream(in_fd, p[1], &o, &r, &e) < 0 && e.stage == LAYER_ERR_WRITE &&
	           e.err == EPIPE,
	   "a write error is reported as a write error with its errno");
	close(p[1]);
	close(in_fd);
	e = (struct layer_error){0};
	ok(layer_stream(-1, STDOUT_FILENO, &o, &r, &e) < 0 && e.stage == LAYER_ERR_READ &&
	           e.err == EBADF,
	   "a read error is reported as a read error with its errno");
}

int main(void)
{
	test_descriptor_line();
	test_options();
	test_stream();
	test_errors();
	return done_testing();
}
