/* SHA-256 digests in the OCI form "sha256:<64 lowercase hex>". */
#ifndef OCINOCO_DIGEST_H
#define OCINOCO_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "sha256:" + 64 hex + NUL */
#define DIGEST_STR_LEN 72

struct sha256 {
	void *ctx; /* EVP_MD_CTX */
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *p, size_t n);
/* Writes "sha256:<hex>" into out and frees the context. */
void sha256_final(struct sha256 *h, char out[DIGEST_STR_LEN]);
void sha256_of(const void *p, size_t n, char out[DIGEST_STR_LEN]);

/* How sha256_fd ended. */
enum sha256_fd_result {
	SHA256_FD_OK,
	SHA256_FD_READ_FAILED, /* errno says why */
	SHA256_FD_SINK_FAILED, /* the sink returned < 0 */
};
/* Reads fd to its end in 1 MiB reads, hashing them into out (written however it ends) and
 * handing each to sink (NULL: none) as it comes; *size: the bytes read. */
enum sha256_fd_result sha256_fd(int fd, int (*sink)(const char *p, size_t n, void *ctx), void *ctx,
                                char out[DIGEST_STR_LEN], uint64_t *size);

/* True for "sha256:" followed by exactly 64 lowercase hex digits. Other algorithms that the
 * image-spec registers (sha512) are refused by the callers with a message naming them. */
bool digest_is_sha256(const char *s);
/* True for any "algorithm:encoded" the image-spec grammar allows. */
bool digest_is_wellformed(const char *s);

#endif
