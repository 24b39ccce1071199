#include "digest.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

static const EVP_MD *sha256_md(void)
{
	static EVP_MD *md;
	/* An explicitly fetched EVP_MD skips the implicit provider lookup on every init. */
	if (md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		errx(EXIT_FAIL, "OpenSSL: SHA-256 is not available");
	return md;
}

void sha256_init(struct sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, sha256_md(), NULL) != 1)
		errx(EXIT_FAIL, "OpenSSL: cannot start SHA-256");
	h->ctx = ctx;
}

void sha256_update(struct sha256 *h, const void *p, size_t n)
{
	if (n && EVP_DigestUpdate(h->ctx, p, n) != 1)
		errx(EXIT_FAIL, "OpenSSL: SHA-256 update failed");
}

void sha256_final(struct sha256 *h, char out[DIGEST_STR_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(h->ctx, md, &len) != 1 || len != sizeof md)
		errx(EXIT_FAIL, "OpenSSL: SHA-256 final failed");
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[71] = '\0';
}

void sha256_of(const void *p, size_t n, char out[DIGEST_STR_LEN])
{
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, p, n);
	sha256_final(&h, out);
}

bool digest_is_sha256(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 71)
		return false;
	for (const char *c = s + 7; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

/* image-spec: algorithm ::= component ([+._-] component)*, component ::= [a-z0-9]+,
 * encoded ::= [a-zA-Z0-9=_-]+ */
bool digest_is_wellformed(const char *s)
{
	const char *colon = strchr(s, ':');
	if (colon == NULL || colon == s || colon[1] == '\0')
		return false;
	bool need_component = true;
	for (const char *c = s; c < colon; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))
			need_component = false;
		else if (strchr("+._-", *c) && !need_component)
			need_component = true;
		else
			return false;
	}
	if (need_component)
		return false;
	for (const char *c = colon + 1; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || strchr("=_-", *c)))
			return false;
	return true;
}

enum sha256_fd_result sha256_fd(int fd, int (*sink)(const char *p, size_t n, void *ctx), void *ctx,
                                char out[DIGEST_STR_LEN], uint64_t *size)
{
	enum { CHUNK = 1u << 20 };
	char *b = xmalloc(CHUNK);
	struct sha256 h;
	sha256_init(&h);
	enum sha256_fd_result res = SHA256_FD_OK;
	*size = 0;
	for (;;) {
		ssize_t r = read_retry(fd, b, CHUNK);
		if (r < 0) {
			res = SHA256_FD_READ_FAILED;
			break;
		}
		if (r == 0)
			break;
		sha256_update(&h, b, (size_t)r);
		*size += (uint64_t)r;
		if (sink && sink(b, (size_t)r, ctx) < 0) {
			res = SHA256_FD_SINK_FAILED;
			break;
		}
	}
	int e = errno;
	free(b);
	sha256_final(&h, out);
	errno = e;
	return res;
}
