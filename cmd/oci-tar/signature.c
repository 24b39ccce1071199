#include "signature.h"

#include "util.h"
#include "version.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Changed whenever what is hashed changes. */
static const char signature_scheme[] = "ocinoco oci-tar signature 1 " OCINOCO_VERSION;

void signature_start(struct signature *s)
{
	*s = (struct signature){0};
	clock_gettime(CLOCK_REALTIME, &s->start);
	sha256_init(&s->h);
	sha256_update(&s->h, signature_scheme, sizeof signature_scheme);
}

static int64_t ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

bool signature_is_racy(const struct timespec *t, const struct timespec *start)
{
	int64_t window = t->tv_nsec == 0 ? SIGNATURE_RACY_COARSE_NS : SIGNATURE_RACY_NS;
	return ns_of(t) > ns_of(start) - window;
}

/* Little-endian, so the bytes hashed are the same on every machine. */
static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

bool signature_add(struct signature *s, const struct tar_entry *e, const struct stat *st)
{
	s->entries++;
	size_t bound = tar_header_bound(e);
	if (bound > s->block_cap) {
		s->block = xreallocarray(s->block, bound, 1);
		s->block_cap = bound;
	}
	s->block_len = tar_header_encode(e, s->block);
	sha256_update(&s->h, s->block, s->block_len);
	/* A directory's entry is its header alone (its children are entries of their own); a hard
	 * link's is the path it names. A file's and a symlink's bytes are told by their identity.
	 */
	if (e->type != TAR_REGTYPE && e->type != TAR_SYMTYPE)
		return false;
	unsigned char id[7 * 8];
	put_u64(id, (uint64_t)st->st_dev);
	put_u64(id + 8, (uint64_t)st->st_ino);
	put_u64(id + 16, (uint64_t)st->st_size);
	put_u64(id + 24, (uint64_t)st->st_mtim.tv_sec);
	put_u64(id + 32, (uint64_t)st->st_mtim.tv_nsec);
	put_u64(id + 40, (uint64_t)st->st_ctim.tv_sec);
	put_u64(id + 48, (uint64_t)st->st_ctim.tv_nsec);
	sha256_update(&s->h, id, sizeof id);
	if (s->racy || !(signature_is_racy(&st->st_mtim, &s->start) ||
	                 signature_is_racy(&st->st_ctim, &s->start)))
		return false;
	s->racy = true;
	return true;
}

void signature_final(struct signature *s, char out[DIGEST_STR_LEN])
{
	sha256_final(&s->h, out);
	free(s->block);
	s->block = NULL;
	s->block_len = s->block_cap = 0;
}

void signature_free(struct signature *s)
{
	free(s->block);
	free(s->racy_path);
	*s = (struct signature){0};
}

size_t signature_line(struct signature *s, char out[SIGNATURE_LINE_MAX])
{
	char hex[DIGEST_STR_LEN];
	signature_final(s, hex);
	int n = snprintf(out, SIGNATURE_LINE_MAX, "%s%s%s\n", hex, s->racy ? " racy" : "",
	                 s->entries == 0 ? " empty" : "");
	return (size_t)n;
}
