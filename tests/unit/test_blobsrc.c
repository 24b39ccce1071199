/* The stream buffer behind uploads from stdin, and the OCI layout round trip. */
#include "blobsrc.h"
#include "layout.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static int to_buf(const char *p, size_t n, void *ctx)
{
	buf_append(ctx, p, n);
	return 0;
}

int main(void)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/tmp/test_blobsrc.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return printf("Bail out! mkdtemp\n"), 1;

	/* a stream larger than the ring: 1000 bytes through a ring of 64 */
	char data[1000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 7 + 3);
	int p[2];
	if (pipe(p) < 0 || write(p[1], data, sizeof data) != (ssize_t)sizeof data)
		return printf("Bail out! pipe\n"), 1;
	close(p[1]);
	struct blob_src s;
	ok(blobsrc_stream(&s, p[0], "pipe", 64, NULL) == 0, "a stream opens");
	ok(!s.eof && s.digest[0] == '\0', "  larger than the ring: digest not known yet");
	ok(blobsrc_holds(&s, 0), "  byte 0 is held before anything is sent");
	char got[1000];
	uint64_t off = 0;
	ssize_t r;
	while ((r = blobsrc_read(&s, off, got + off, 10)) > 0)
		off += (uint64_t)r;
	ok(off == sizeof data && memcmp(got, data, sizeof data) == 0, "reads back every byte");
	ok(s.eof && s.size == sizeof data, "  then its size is known");
	char want[DIGEST_STR_LEN];
	sha256_of(data, sizeof data, want);
	is_str(s.digest, want, "  and its digest");
	ok(!blobsrc_holds(&s, 0), "byte 0 is gone from the ring");
	ok(blobsrc_holds(&s, 1000 - 64), "the last 64 bytes are held");
	size_t again = 0;
	while (again < 64 && (r = blobsrc_read(&s, 936 + again, got + again, 64 - again)) > 0)
		again += (size_t)r;
	ok(again == 64 && memcmp(got, data + 936, 64) == 0, "  and can be read again (a resume)");
	ok(blobsrc_read(&s, 10, got, 1) < 0, "reading a dropped offset fails");
	blobsrc_close(&s);
	close(p[0]);

	/* a held stream: read as asked and ahead, the hist bytes behind what was read out kept */
	if (pipe(p) < 0 || write(p[1], data, sizeof data) != (ssize_t)sizeof data)
		return printf("Bail out! pipe\n"), 1;
	close(p[1]);
	blobsrc_stream_held(&s, p[0], "pipe", 64, 32, NULL);
	ok(s.end == 0 && blobsrc_wants(&s), "a held stream reads nothing at first, and wants to");
	blobsrc_feed(&s);
	is_int(s.end, 96, "  one feed reads ahead up to hist + ahead bytes");
	ok(!blobsrc_wants(&s), "  then wants no more");
	off = 0;
	while (off < 64 && (r = blobsrc_read(&s, off, got + off, 64 - off)) > 0)
		off += (uint64_t)r;
	ok(off == 64 && memcmp(got, data, 64) == 0, "the first 64 read out");
	ok(blobsrc_holds(&s, 0) && !blobsrc_wants(&s), "  byte 0 still held: no room");
	while (off < 80 && (r = blobsrc_read(&s, off, got + off, 80 - off)) > 0)
		off += (uint64_t)r;
	ok(!blobsrc_holds(&s, 0) && blobsrc_holds(&s, 16), "80 read out: the 64 behind are held");
	ok(blobsrc_wants(&s), "  and there is room to read ahead");
	blobsrc_feed(&s);
	is_int(s.end, 112, "  a feed fills it");
	char one;
	ok(blobsrc_holds(&s, 16) && blobsrc_read(&s, 16, &one, 1) == 1 && one == data[16],
	   "  without dropping what is held");
	while ((r = blobsrc_read(&s, off, got + off, 10)) > 0)
		off += (uint64_t)r;
	ok(off == sizeof data && memcmp(got, data, sizeof data) == 0, "reads back every byte");
	ok(s.eof && s.size == sizeof data, "  then its size is known");
	is_str(s.digest, want, "  and its digest");
	ok(blobsrc_holds(&s, 1000 - 64) && !blobsrc_holds(&s, 1000 - 65), "the last 64 are held");
	blobsrc_close(&s);
	close(p[0]);

	if (pipe(p) < 0 || write(p[1], "abc", 3) != 3)
		return printf("Bail out! pipe\n"), 1;
	close(p[1]);
	blobsrc_stream_held(&s, p[0], "pipe", 64, 32, NULL);
	ok(blobsrc_fill(&s, 5) == 0 && s.eof && s.size == 3,
	   "a held stream that ends before the offset filled to: size known");
	sha256_of("abc", 3, want);
	is_str(s.digest, want, "  and digest");
	blobsrc_close(&s);
	close(p[0]);

	if (pipe(p) < 0 || write(p[1], "abc", 3) != 3)
		return printf("Bail out! pipe\n"), 1;
	close(p[1]);
	blobsrc_stream_held(
	        &s, p[0], "pipe", 64, 32,
	        "sha256:0000000000000000000000000000000000000000000000000000000000000000");
	for (int i = 0; i < 3 && blobsrc_wants(&s); i++)
		blobsrc_feed(&s);
	ok(s.eof && !blobsrc_wants(&s), "a held stream read to its end by feeds");
	ok(blobsrc_read(&s, 0, got, 3) == 3 && blobsrc_read(&s, 3, got, 3) < 0 &&
	           s.error == EBADMSG,
	   "  a wrong digest fails the read at the end, after the bytes");
	ok(blobsrc_fill(&s, 10) < 0, "  and a fill");
	blobsrc_close(&s);
	close(p[0]);
	sha256_of(data, sizeof data, want);

	/* a stream that must have a digest */
	if (pipe(p) < 0 || write(p[1], "abc", 3) != 3)
		return printf("Bail out! pipe\n"), 1;
	close(p[1]);
	ok(blobsrc_stream(
	           &s, p[0], "pipe", 64,
	           "sha256:0000000000000000000000000000000000000000000000000000000000000000") < 0,
	   "a stream whose bytes do not hash to the expected digest fails");
	blobsrc_close(&s);
	close(p[0]);

	/* the layout: a blob in, a manifest tagged, read back */
	char *ldir = xasprintf("%s/layout", dir);
	struct layout l;
	ok(layout_open(&l, ldir, true, "oci:test") == 0, "a layout is created");
	char *f = xasprintf("%s/blob", dir);
	int fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, sizeof data) != (ssize_t)sizeof data)
		return printf("Bail out! %s\n", f), 1;
	close(fd);
	ok(blobsrc_file(&s, f) == 0, "a file source");
	is_str(s.digest, want, "  has the digest of its bytes");
	ok(layout_put_blob(&l, &s, "oci:test") == 0, "the blob goes into the layout");
	ok(layout_has_blob(&l, want), "  and is there");
	struct buf b = {0};
	ok(layout_get_blob(&l, want, to_buf, &b, "oci:test") == 0 && b.len == sizeof data &&
	           memcmp(b.data, data, sizeof data) == 0,
	   "  and reads back");
	buf_free(&b);
	blobsrc_close(&s);

	/* the body's mediaType wins over what the server called it */
	struct doc t = {0};
	const char *ix =
	        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
	        "\"manifests\":[]}";
	buf_append(&t.data, ix, strlen(ix));
	char e2[256];
	ok(doc_identify(&t, "application/vnd.docker.distribution.manifest.v2+json", e2,
	                sizeof e2) == 0,
	   "a document identifies");
	is_str(t.media_type, "application/vnd.oci.image.index.v1+json",
	       "  by its own mediaType, not the Content-Type");
	doc_free(&t);
	const char *nomt = "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}";
	buf_append(&t.data, nomt, strlen(nomt));
	ok(doc_identify(&t, "application/vnd.docker.distribution.manifest.v2+json", e2,
	                sizeof e2) == 0,
	   "without mediaType");
	is_str(t.media_type, "application/vnd.docker.distribution.manifest.v2+json",
	       "  a manifest Content-Type is believed");
	doc_free(&t);
	buf_append(&t.data, nomt, strlen(nomt));
	ok(doc_identify(&t, "text/plain", e2, sizeof e2) == 0, "with a useless Content-Type");
	is_str(t.media_type, "application/vnd.oci.image.manifest.v1+json",
	       "  the shape says OCI manifest");
	doc_free(&t);

	struct doc d = {0};
	const char *m =
	        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	        "\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:0000000000000000000000000000"
	        "000000000000000000000000000000000000\",\"size\":1},\"layers\":[]}";
	buf_append(&d.data, m, strlen(m));
	char err[256];
	ok(doc_identify(&d, NULL, err, sizeof err) == 0, "a manifest document");
	ok(layout_put_manifest(&l, "v1", &d, "oci:test") == 0, "tagged v1 in the layout");
	ok(layout_put_manifest(&l, "v1", &d, "oci:test") == 0, "  tagging again replaces");
	struct doc back;
	ok(layout_get_manifest(&l, "v1", NULL, &back, "oci:test") == 0 &&
	           strcmp(back.digest, d.digest) == 0,
	   "v1 reads back the same digest");
	doc_free(&back);
	ok(layout_get_manifest(&l, NULL, NULL, &back, "oci:test") == 0,
	   "no tag: the only entry of index.json");
	doc_free(&back);
	char *idx = xasprintf("%s/index.json", ldir);
	const char *first = NULL;
	ok(buf_read_file(&b, idx, 1 << 20) == 0 &&
	           strstr(b.data, "\"org.opencontainers.image.ref.name\":\"v1\"") != NULL,
	   "index.json names the tag");
	first = b.data ? strstr(b.data, d.digest) : NULL;
	ok(first && strstr(first + 1, d.digest) == NULL, "  once (the old entry was replaced)");
	buf_free(&b);
	doc_free(&d);
	layout_close(&l);

	char *rm = xasprintf("rm -rf '%s'", dir);
	if (system(rm) != 0)
		printf("# could not remove %s\n", dir);
	free(rm);
	free(idx);
	free(f);
	free(ldir);
	return done_testing();
}
