/* The tar header encoder (oci-tar's ustar + pax headers): an entry built from the input is
 * encoded into exactly tar_header_bound() bytes (ASan catches a write past it), and a reader
 * written here from POSIX.1-2001 (checksum, ustar fields, octal or base-256 numbers, the pax
 * records that override them) must read back the same entry. When lib/tar_header gains its
 * decoder, decoding with it must agree too (not there yet). */
#include "fuzz.h"

#if __has_include("../../cmd/oci-tar/tar_header.h")
#include "../../cmd/oci-tar/tar_header.h"
#else
#include "tar_header.h"
#endif

#include <inttypes.h>

struct read_entry {
	char path[2048], link[2048];
	size_t path_len, link_len;
	char type;
	uint64_t mode, uid, gid, size, devmajor, devminor;
	int64_t mtime;
};

static size_t field_len(const char *f, size_t n)
{
	const char *z = memchr(f, '\0', n);
	return z ? (size_t)(z - f) : n;
}

/* An octal field (leading spaces or zeros, ended by NUL or space) or GNU base-256. */
static int64_t number(const char *f, size_t n, const char *what)
{
	const unsigned char *u = (const unsigned char *)f;
	if (u[0] & 0x80) {
		uint64_t v = u[0] == 0xff ? UINT64_MAX : 0;
		for (size_t i = 1; i < n; i++)
			v = v << 8 | u[i];
		return (int64_t)v;
	}
	uint64_t v = 0;
	size_t i = 0;
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] != '\0' && f[i] != ' '; i++) {
		FUZZ_ASSERT(f[i] >= '0' && f[i] <= '7', "%s: byte 0x%02x in an octal field", what,
		            (unsigned char)f[i]);
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	return (int64_t)v;
}

static void check_block(const struct tar_ustar *h)
{
	const unsigned char *p = (const unsigned char *)h;
	unsigned sum = 0;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += i >= 148 && i < 156 ? ' ' : p[i];
	FUZZ_ASSERT((unsigned)number(h->chksum, sizeof h->chksum, "chksum") == sum,
	            "checksum %.8s, the block sums to %o", h->chksum, sum);
	FUZZ_ASSERT(memcmp(h->magic, "ustar", 6) == 0 && memcmp(h->version, "00", 2) == 0,
	            "not a ustar block");
}

/* A pax number: decimal, '-' only where signed, no wrap-around (a reader would refuse it). */
static uint64_t decimal(const char *v, size_t n, const char *key, bool is_signed)
{
	uint64_t x = 0;
	bool neg = is_signed && n > 0 && v[0] == '-';
	FUZZ_ASSERT(n > (size_t)neg, "pax %s: empty", key);
	for (size_t i = neg; i < n; i++) {
		FUZZ_ASSERT(v[i] >= '0' && v[i] <= '9', "pax %s: \"%.*s\"", key, (int)n, v);
		unsigned d = (unsigned)(v[i] - '0');
		FUZZ_ASSERT(x <= (UINT64_MAX - d) / 10, "pax %s: \"%.*s\" overflows", key, (int)n,
		            v);
		x = x * 10 + d;
	}
	if (is_signed)
		FUZZ_ASSERT(x <= (uint64_t)INT64_MAX + neg, "pax %s: \"%.*s\" overflows", key,
		            (int)n, v);
	return neg ? 0 - x : x;
}

/* Reads the header blocks at out (n bytes): an optional pax header, then the entry's. */
static void read_back(const char *out, size_t n, struct read_entry *r)
{
	bool pax_path = false, pax_link = false, pax_size = false, pax_uid = false, pax_gid = false,
	     pax_mtime = false;
	size_t at = 0;
	const struct tar_ustar *h = (const struct tar_ustar *)out;
	check_block(h);
	if (h->typeflag == 'x') {
		size_t len = (size_t)number(h->size, sizeof h->size, "pax size");
		FUZZ_ASSERT(TAR_BLOCK + len <= n, "pax records past the header's end");
		const char *rec = out + TAR_BLOCK, *end = rec + len;
		while (rec < end) {
			size_t rl = 0, i = 0;
			while (rec + i < end && rec[i] >= '0' && rec[i] <= '9')
				rl = rl * 10 + (size_t)(rec[i++] - '0');
			FUZZ_ASSERT(rl > i && rec + rl <= end && rec[i] == ' ' &&
			                    rec[rl - 1] == '\n',
			            "a malformed pax record");
			const char *key = rec + i + 1,
			           *eq = memchr(key, '=', (size_t)(rec + rl - key));
			FUZZ_ASSERT(eq, "a pax record without '='");
			size_t kl = (size_t)(eq - key), vl = (size_t)(rec + rl - 1 - eq - 1);
			const char *v = eq + 1;
#define KEY(k) (kl == strlen(k) && memcmp(key, k, kl) == 0)
			if (KEY("path")) {
				FUZZ_ASSERT(vl < sizeof r->path, "path too long for the test");
				memcpy(r->path, v, vl);
				r->path_len = vl;
				pax_path = true;
			} else if (KEY("linkpath")) {
				FUZZ_ASSERT(vl < sizeof r->link, "link too long for the test");
				memcpy(r->link, v, vl);
				r->link_len = vl;
				pax_link = true;
			} else if (KEY("size")) {
				r->size = decimal(v, vl, "size", false), pax_size = true;
			} else if (KEY("uid")) {
				r->uid = decimal(v, vl, "uid", false), pax_uid = true;
			} else if (KEY("gid")) {
				r->gid = decimal(v, vl, "gid", false), pax_gid = true;
			} else if (KEY("mtime")) {
				r->mtime = (int64_t)decimal(v, vl, "mtime", true), pax_mtime = true;
			} else {
				FUZZ_ASSERT(false, "unexpected pax key %.*s", (int)kl, key);
			}
#undef KEY
			rec += rl;
		}
		at = TAR_BLOCK + (len + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
		FUZZ_ASSERT(at + TAR_BLOCK == n, "%zu bytes written, the headers end at %zu", n,
		            at + TAR_BLOCK);
		h = (const struct tar_ustar *)(out + at);
		check_block(h);
		FUZZ_ASSERT(h->typeflag != 'x', "two pax headers");
	} else {
		FUZZ_ASSERT(n == TAR_BLOCK, "%zu bytes for a plain ustar header", n);
	}
	if (!pax_path) {
		size_t pl = field_len(h->prefix, sizeof h->prefix);
		size_t nl = field_len(h->name, sizeof h->name);
		r->path_len = 0;
		if (pl) {
			memcpy(r->path, h->prefix, pl);
			r->path[pl] = '/';
			r->path_len = pl + 1;
		}
		memcpy(r->path + r->path_len, h->name, nl);
		r->path_len += nl;
	}
	if (!pax_link) {
		r->link_len = field_len(h->linkname, sizeof h->linkname);
		memcpy(r->link, h->linkname, r->link_len);
	}
	r->type = h->typeflag;
	r->mode = (uint64_t)number(h->mode, sizeof h->mode, "mode");
	if (!pax_uid)
		r->uid = (uint64_t)number(h->uid, sizeof h->uid, "uid");
	if (!pax_gid)
		r->gid = (uint64_t)number(h->gid, sizeof h->gid, "gid");
	if (!pax_size)
		r->size = (uint64_t)number(h->size, sizeof h->size, "size");
	if (!pax_mtime)
		r->mtime = number(h->mtime, sizeof h->mtime, "mtime");
	r->devmajor = (uint64_t)number(h->devmajor, sizeof h->devmajor, "devmajor");
	r->devminor = (uint64_t)number(h->devminor, sizeof h->devminor, "devminor");
}

static uint64_t u64(struct fuzz_input *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | fuzz_byte(in);
	return v;
}

/* Mostly small values (what files have), sometimes any 64-bit one. */
static uint64_t number_of(struct fuzz_input *in, uint8_t sel, int bit)
{
	uint64_t v = u64(in);
	return sel & (1u << bit) ? v : v % 010000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char types[] = {TAR_REGTYPE, TAR_LNKTYPE, TAR_SYMTYPE, TAR_CHRTYPE,
	                             TAR_BLKTYPE, TAR_DIRTYPE, TAR_FIFOTYPE};
	struct fuzz_input in = {(const char *)data, size};
	uint8_t sel = fuzz_byte(&in);
	struct tar_entry e = {.type = (enum tar_type)types[fuzz_byte(&in) % 7]};
	e.mode = (uint32_t)(u64(&in) & 07777);
	e.uid = number_of(&in, sel, 0);
	e.gid = number_of(&in, sel, 1);
	e.size = number_of(&in, sel, 2);
	e.mtime = (int64_t)number_of(&in, sel, 3);
	e.devmajor = (uint32_t)(u64(&in) % 010000000);
	e.devminor = (uint32_t)(u64(&in) % 010000000);
	char *path = fuzz_field(&in, '\0');
	char *link = fuzz_field(&in, '\0');
	e.path = path, e.path_len = strlen(path);
	e.link = link, e.link_len = strlen(link);
	if (e.path_len == 0 || e.path_len >= 2000 || e.link_len >= 2000)
		goto out;
	size_t bound = tar_header_bound(&e);
	FUZZ_ASSERT(bound % TAR_BLOCK == 0 && bound >= TAR_BLOCK, "bound %zu", bound);
	char *buf = malloc(bound);
	size_t n = tar_header_encode(&e, buf);
	FUZZ_ASSERT(n <= bound && n % TAR_BLOCK == 0 && n > 0, "%zu bytes, bound %zu", n, bound);
	static struct read_entry r;
	memset(&r, 0, sizeof r);
	read_back(buf, n, &r);
	FUZZ_ASSERT(r.path_len == e.path_len && memcmp(r.path, e.path, e.path_len) == 0,
	            "path \"%s\" read back as \"%.*s\"", e.path, (int)r.path_len, r.path);
	FUZZ_ASSERT(r.link_len == e.link_len && memcmp(r.link, e.link, e.link_len) == 0,
	            "link \"%s\" read back as \"%.*s\"", e.link, (int)r.link_len, r.link);
	FUZZ_ASSERT(r.type == (char)e.type && r.mode == e.mode, "type %c mode %o", r.type,
	            (unsigned)r.mode);
	FUZZ_ASSERT(r.uid == e.uid && r.gid == e.gid,
	            "uid %" PRIu64 " gid %" PRIu64 " read as %" PRIu64 " %" PRIu64, e.uid, e.gid,
	            r.uid, r.gid);
	FUZZ_ASSERT(r.size == e.size, "size %" PRIu64 " read as %" PRIu64, e.size, r.size);
	FUZZ_ASSERT(r.mtime == e.mtime, "mtime %" PRId64 " read as %" PRId64, e.mtime, r.mtime);
	FUZZ_ASSERT(r.devmajor == e.devmajor && r.devminor == e.devminor, "devices");
	free(buf);
out:
	free(path);
	free(link);
	return 0;
}
