#include "replay.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int mismatch(const struct store *dst, const struct blob_src *src)
{
	warnx("%s: %s: digest mismatch: the bytes hash to %s, not the expected %s", dst->name,
	      src->name, src->digest, src->expect);
	return EXIT_MISMATCH;
}

static int read_failed(const struct store *dst, const struct blob_src *src)
{
	if (src->error == EBADMSG)
		return mismatch(dst, src);
	warnx("%s: %s: %s", dst->name, src->name, strerror(src->error));
	return EXIT_FAIL;
}

/* The rest of the stream read (dropped as it comes), so that its digest is known and checked. */
static int read_to_end(const struct store *dst, struct blob_src *src)
{
	/* (the end may have been met already, by the feed while requests ran) */
	return blobsrc_drain(src) == 0 && !src->failed ? EXIT_OK : read_failed(dst, src);
}

/* --expect: the blob may be there now (the upload that broke off completed after all, or
 * another run sent it). */
static int expected(struct store *dst, struct blob_src *src, bool *there)
{
	const char *dg = src->expect;
	int have = 0;
	*there = false;
	if (!store_is_layout(dst) && store_blobs_exist(dst, &dg, 1, &have) < 0)
		return EXIT_FAIL;
	if (have) {
		*there = true;
		return read_to_end(dst, src);
	}
	/* a short stream ends here: a mismatch is said as one, not as a read error */
	return blobsrc_fill(src, PUT_STREAM_SMALL + 1) < 0 ? read_failed(dst, src) : EXIT_OK;
}

int put_stream_replayable(struct put_ctx *c, struct store *dst, struct blob_src *src)
{
	if (src->expect[0]) {
		bool there;
		int r = expected(dst, src, &there);
		if (r != EXIT_OK || there)
			return r;
	}
	if (put_stream(c, dst, src) == 0)
		return EXIT_OK;
	if (src->failed)
		return src->error == EBADMSG ? EXIT_MISMATCH : EXIT_FAIL; /* said by the upload */
	/* the upload said why it stopped; can it be made again? */
	if (store_is_layout(dst) || blobsrc_holds(src, 0))
		return EXIT_FAIL;
	int r = read_to_end(dst, src);
	if (r != EXIT_OK)
		return r;
	warnx("%s: %s cannot be sent on from where its upload broke off; send the same %" PRIu64
	      " bytes again with --expect %s",
	      dst->name, src->name, src->size, src->digest);
	printf("%s\n", src->digest);
	if (fflush(stdout) != 0 || ferror(stdout))
		err(EXIT_FAIL, "stdout");
	return EXIT_REPLAY;
}
