#include "doccache.h"
#include "digest.h"
#include "dirs.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct {
	char *dir;
	bool warned; /* a store failed once: said once */
} cache;

void doccache_use(const char *dir)
{
	free(cache.dir);
	cache.dir = dir ? xstrdup(dir) : NULL;
}

bool doccache_on(void)
{
	return cache.dir != NULL;
}

/* The file of a digest; NULL when there is no cache or the digest is not sha256:<64 hex>. */
static char *doc_path(const char *digest)
{
	if (cache.dir == NULL || digest == NULL || !digest_is_sha256(digest))
		return NULL;
	return xasprintf("%s/blobs/sha256/%s", cache.dir, digest + 7);
}

/* The bytes of the open file fd, checked: 0, or -1 with the reason in why. */
static int read_checked(int fd, const char *digest, int64_t size, size_t max, struct buf *b,
                        char *why, size_t whylen)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(why, whylen, "larger than %zu bytes", max);
		return -1;
	}
	if (size >= 0 && st.st_size != size) {
		snprintf(why, whylen, "%jd bytes, not the %jd its descriptor says",
		         (intmax_t)st.st_size, (intmax_t)size);
		return -1;
	}
	if (buf_read_fd(b, fd, max) < 0) {
		snprintf(why, whylen, "%s",
		         errno == EFBIG ? "larger than a document can be" : strerror(errno));
		return -1;
	}
	if (size >= 0 && b->len != (uint64_t)size) { /* it changed since the fstat */
		snprintf(why, whylen, "%zu bytes, not the %jd its descriptor says", b->len,
		         (intmax_t)size);
		return -1;
	}
	char have[DIGEST_STR_LEN];
	sha256_of(b->data ? b->data : "", b->len, have);
	if (strcmp(have, digest) != 0) {
		snprintf(why, whylen, "its bytes hash to %s", have);
		return -1;
	}
	return 0;
}

bool doccache_get(const char *digest, int64_t size, size_t max, struct buf *out)
{
	char *path = doc_path(digest);
	if (path == NULL)
		return false;
	/* O_NONBLOCK: a FIFO put there does not hang the open (it is refused as not a file) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char why[256];
	struct buf b = {0};
	bool hit = false;
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			warnx("%s: cached document ignored (%s): fetched again", path,
			      strerror(errno));
	} else if (read_checked(fd, digest, size, max, &b, why, sizeof why) < 0) {
		warnx("%s: cached document ignored (%s): fetched again", path, why);
	} else {
		buf_append(out, b.data ? b.data : "", b.len);
		hit = true;
	}
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	free(path);
	return hit;
}

/* The bytes as the whole file at path, renamed into place; 0, or -1 with errno. */
static int write_doc(const char *path, const void *p, size_t n)
{
	struct stat st;
	/* what is there and not a file (a FIFO, a device) is not written through */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if (mkdir_parents(path, 0700) < 0)
		return -1;
	return atomic_write_file(path, p, n, 0600);
}

void doccache_put(const char *digest, const void *p, size_t n)
{
	char *path = doc_path(digest);
	if (path && write_doc(path, p, n) < 0 && !cache.warned) {
		warn("%s: not cached", path);
		cache.warned = true;
	}
	free(path);
}
