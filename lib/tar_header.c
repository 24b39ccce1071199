#include "tar_header.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(struct tar_ustar) == TAR_BLOCK, "a ustar header is one block");

#define NAME_MAX_LEN   sizeof(((struct tar_ustar *)0)->name)
#define PREFIX_MAX_LEN sizeof(((struct tar_ustar *)0)->prefix)
#define LINK_MAX_LEN   sizeof(((struct tar_ustar *)0)->linkname)

/* Longest decimal form of an int64_t or uint64_t, with the sign. */
#define NUM_MAX_LEN 20

static size_t round_block(size_t n)
{
	return (n + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
}

bool tar_split_path(const char *path, size_t len, size_t *prefix_len)
{
	if (len <= NAME_MAX_LEN) {
		*prefix_len = 0;
		return true;
	}
	/* The first '/' that leaves at most 100 bytes after it: the longest name, the shortest
	 * prefix. The name part must not be empty, so a directory's trailing '/' never splits. */
	size_t first = len - NAME_MAX_LEN - 1;
	for (size_t i = first < 1 ? 1 : first; i <= PREFIX_MAX_LEN && i + 1 < len; i++)
		if (path[i] == '/') {
			*prefix_len = i;
			return true;
		}
	return false;
}

bool tar_put_octal(char *field, size_t width, uint64_t v)
{
	size_t digits = width - 1;
	if (digits < 22 && (v >> (3 * digits)) != 0)
		return false;
	field[digits] = '\0';
	for (size_t i = digits; i-- > 0; v >>= 3)
		field[i] = (char)('0' + (v & 7));
	return true;
}

void tar_put_base256(char *field, size_t width, int64_t v)
{
	uint64_t u = (uint64_t)v;
	for (size_t i = width; i-- > 0;) {
		field[i] = (char)(u & 0xff);
		/* An arithmetic shift, so a negative value fills with 0xff. */
		u = v < 0 ? (u >> 8) | (0xffULL << 56) : u >> 8;
	}
	field[0] = (char)(v < 0 ? 0xff : 0x80);
}

static void put_number(char *field, size_t width, int64_t v)
{
	if (v < 0 || !tar_put_octal(field, width, (uint64_t)v))
		tar_put_base256(field, width, v);
}

static size_t decimal_digits(size_t n)
{
	size_t d = 1;
	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

size_t tar_pax_record_len(size_t key_len, size_t value_len)
{
	/* "LEN key=value\n": the length counts its own digits, so grow it until it is stable. */
	size_t rest = 1 + key_len + 1 + value_len + 1;
	size_t len = rest + decimal_digits(rest);
	while (decimal_digits(len) + rest != len)
		len = decimal_digits(len) + rest;
	return len;
}

size_t tar_pax_record(char *out, const char *key, const char *value, size_t value_len)
{
	size_t key_len = strlen(key);
	size_t len = tar_pax_record_len(key_len, value_len);
	size_t n = (size_t)sprintf(out, "%zu %s=", len, key);
	memcpy(out + n, value, value_len);
	out[n + value_len] = '\n';
	return len;
}

unsigned tar_checksum(const struct tar_ustar *h)
{
	const unsigned char *p = (const unsigned char *)h;
	size_t at = offsetof(struct tar_ustar, chksum);
	unsigned sum = 0;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += i >= at && i < at + sizeof h->chksum ? ' ' : p[i];
	return sum;
}

/* What ustar cannot hold, so a pax record must say it. */
struct overflow {
	bool path, link, size, uid, gid, mtime;
};

static struct overflow overflow_of(const struct tar_entry *e, size_t *prefix_len)
{
	return (struct overflow){
	        .path = !tar_split_path(e->path, e->path_len, prefix_len),
	        .link = e->link_len > LINK_MAX_LEN,
	        .size = e->size > TAR_MAX_SIZE,
	        .uid = e->uid > TAR_MAX_ID,
	        .gid = e->gid > TAR_MAX_ID,
	        .mtime = e->mtime < 0 || e->mtime > TAR_MAX_MTIME,
	};
}

static bool any(struct overflow o)
{
	return o.path || o.link || o.size || o.uid || o.gid || o.mtime;
}

size_t tar_header_bound(const struct tar_entry *e)
{
	size_t prefix_len;
	if (!any(overflow_of(e, &prefix_len)))
		return TAR_BLOCK;
	/* Each record is at most its key, value, separators and a 20-digit length. */
	size_t records =
	        (4 + e->path_len + 24) + (8 + e->link_len + 24) + 4 * (5 + 2 * NUM_MAX_LEN);
	return TAR_BLOCK + round_block(records) + TAR_BLOCK;
}

/* The ustar block with everything but the checksum; the path and link are cut to fit when a pax
 * record carries them in full. */
static void fill_ustar(struct tar_ustar *h, const struct tar_entry *e, size_t prefix_len)
{
	memset(h, 0, sizeof *h);
	if (prefix_len > 0) {
		memcpy(h->prefix, e->path, prefix_len);
		memcpy(h->name, e->path + prefix_len + 1, e->path_len - prefix_len - 1);
	} else {
		memcpy(h->name, e->path, e->path_len < NAME_MAX_LEN ? e->path_len : NAME_MAX_LEN);
	}
	tar_put_octal(h->mode, sizeof h->mode, e->mode & 07777);
	put_number(h->uid, sizeof h->uid, (int64_t)e->uid);
	put_number(h->gid, sizeof h->gid, (int64_t)e->gid);
	put_number(h->size, sizeof h->size, (int64_t)e->size);
	put_number(h->mtime, sizeof h->mtime, e->mtime);
	h->typeflag = (char)e->type;
	memcpy(h->linkname, e->link, e->link_len < LINK_MAX_LEN ? e->link_len : LINK_MAX_LEN);
	memcpy(h->magic, "ustar", 6);
	memcpy(h->version, "00", 2);
	put_number(h->devmajor, sizeof h->devmajor, e->devmajor);
	put_number(h->devminor, sizeof h->devminor, e->devminor);
}

static void seal(struct tar_ustar *h)
{
	/* Six octal digits, NUL, space: the form every tar writes and reads. */
	tar_put_octal(h->chksum, 7, tar_checksum(h));
	h->chksum[7] = ' ';
}

/* The pax header's own name, GNU tar's "%d/PaxHeaders/%f": a function of the path alone. */
static size_t pax_name(const struct tar_entry *e, char *out, size_t cap)
{
	size_t len = e->path_len;
	while (len > 1 && e->path[len - 1] == '/')
		len--;
	size_t base = len;
	while (base > 0 && e->path[base - 1] != '/')
		base--;
	const char *dir = ".";
	size_t dir_len = 1;
	if (base > 0) {
		dir = e->path;
		dir_len = base - 1;
	}
	int n = snprintf(out, cap, "%.*s/PaxHeaders/%.*s", (int)dir_len, dir, (int)(len - base),
	                 e->path + base);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static size_t put_record_num(char *out, const char *key, int64_t v, bool is_signed)
{
	char num[NUM_MAX_LEN + 2];
	int n = is_signed ? snprintf(num, sizeof num, "%" PRId64, v)
	                  : snprintf(num, sizeof num, "%" PRIu64, (uint64_t)v);
	return tar_pax_record(out, key, num, (size_t)n);
}

size_t tar_header_encode(const struct tar_entry *e, char *out)
{
	size_t prefix_len = 0;
	struct overflow o = overflow_of(e, &prefix_len);
	size_t at = 0;
	if (any(o)) {
		/* Records in key order, like other deterministic writers. */
		char *rec = out + TAR_BLOCK;
		size_t n = 0;
		if (o.gid)
			n += put_record_num(rec + n, "gid", (int64_t)e->gid, false);
		if (o.link)
			n += tar_pax_record(rec + n, "linkpath", e->link, e->link_len);
		if (o.mtime)
			n += put_record_num(rec + n, "mtime", e->mtime, true);
		if (o.path)
			n += tar_pax_record(rec + n, "path", e->path, e->path_len);
		if (o.size)
			n += put_record_num(rec + n, "size", (int64_t)e->size, false);
		if (o.uid)
			n += put_record_num(rec + n, "uid", (int64_t)e->uid, false);
		memset(rec + n, 0, round_block(n) - n);

		char name[NAME_MAX_LEN + PREFIX_MAX_LEN + 2];
		size_t name_len = pax_name(e, name, sizeof name);
		struct tar_entry x = {
		        .path = name,
		        .path_len = name_len,
		        .link = "",
		        .type = TAR_XHDTYPE,
		        .mode = 0644,
		        .uid = o.uid ? 0 : e->uid,
		        .gid = o.gid ? 0 : e->gid,
		        .mtime = o.mtime ? 0 : e->mtime,
		        .size = n,
		};
		size_t x_prefix = 0;
		if (!tar_split_path(name, name_len, &x_prefix)) {
			/* Cut to the name field at a UTF-8 character boundary. */
			size_t cut = NAME_MAX_LEN;
			while (cut > 0 && ((unsigned char)name[cut] & 0xc0) == 0x80)
				cut--;
			x.path_len = cut;
			x_prefix = 0;
		}
		struct tar_ustar *xh = (struct tar_ustar *)out;
		fill_ustar(xh, &x, x_prefix);
		seal(xh);
		at = TAR_BLOCK + round_block(n);
	}
	struct tar_ustar *h = (struct tar_ustar *)(out + at);
	fill_ustar(h, e, o.path ? 0 : prefix_len);
	seal(h);
	return at + TAR_BLOCK;
}

/* Decoding. */

bool tar_block_is_zero(const void *block)
{
	const unsigned char *p = block;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		if (p[i] != 0)
			return false;
	return true;
}

bool tar_checksum_ok(const struct tar_ustar *h)
{
	int64_t want;
	if (!tar_get_number(h->chksum, sizeof h->chksum, &want))
		return false;
	const signed char *p = (const signed char *)h;
	size_t at = offsetof(struct tar_ustar, chksum);
	long signed_sum = 0;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		signed_sum += i >= at && i < at + sizeof h->chksum ? ' ' : p[i];
	return want == (int64_t)tar_checksum(h) || want == signed_sum;
}

bool tar_get_number(const char *field, size_t width, int64_t *v)
{
	const unsigned char *f = (const unsigned char *)field;
	if (width > 0 && (f[0] == 0x80 || f[0] == 0xff)) {
		/* Base-256: the bytes after the marker must fit in 63 bits with the sign. */
		bool negative = f[0] == 0xff;
		uint64_t u = negative ? UINT64_MAX : 0;
		for (size_t i = 1; i < width; i++) {
			if ((u >> 55) != (negative ? 0x1ff : 0))
				return false;
			u = u << 8 | f[i];
		}
		if (negative ? (int64_t)u >= 0 : u > INT64_MAX)
			return false;
		*v = (int64_t)u;
		return true;
	}
	size_t i = 0;
	while (i < width && f[i] == ' ')
		i++;
	size_t digits = 0;
	uint64_t u = 0;
	for (; i < width && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (u > (uint64_t)INT64_MAX >> 3)
			return false;
		u = u << 3 | (uint64_t)(f[i] - '0');
	}
	if (digits == 0 || (i < width && f[i] != '\0' && f[i] != ' '))
		return false;
	*v = (int64_t)u;
	return true;
}

bool tar_data_size(const struct tar_ustar *h, bool has_override, uint64_t override, uint64_t *size)
{
	switch (h->typeflag) {
	case TAR_LNKTYPE:
	case TAR_SYMTYPE:
	case TAR_CHRTYPE:
	case TAR_BLKTYPE:
	case TAR_DIRTYPE:
	case TAR_FIFOTYPE:
		/* "No data logical records are stored for types LNKTYPE, SYMTYPE, or DIRTYPE" and
		 * "no data logical records shall be stored" for CHRTYPE, BLKTYPE, FIFOTYPE. */
		*size = 0;
		return true;
	default:
		break;
	}
	if (has_override) {
		*size = override;
		return true;
	}
	int64_t v;
	if (!tar_get_number(h->size, sizeof h->size, &v) || v < 0)
		return false;
	*size = (uint64_t)v;
	return true;
}

/* A decimal number of at most 19 digits (no overflow of int64_t), the whole of s[0..len). */
static bool parse_decimal(const char *s, size_t len, uint64_t *v)
{
	if (len == 0 || len > 19)
		return false;
	uint64_t u = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		u = u * 10 + (uint64_t)(s[i] - '0');
	}
	*v = u;
	return true;
}

bool tar_pax_size(const char *data, size_t len, bool *found, uint64_t *size)
{
	*found = false;
	size_t at = 0;
	while (at < len) {
		/* Writers pad the last block with NULs after the records. */
		if (data[at] == '\0') {
			for (; at < len; at++)
				if (data[at] != '\0')
					return false;
			break;
		}
		size_t digits = 0;
		while (at + digits < len && data[at + digits] >= '0' && data[at + digits] <= '9')
			digits++;
		uint64_t rec_len;
		if (!parse_decimal(data + at, digits, &rec_len) || rec_len > len - at ||
		    rec_len < digits + 4 || data[at + digits] != ' ' ||
		    data[at + rec_len - 1] != '\n')
			return false;
		const char *key = data + at + digits + 1;
		const char *end = data + at + rec_len - 1;
		const char *eq = memchr(key, '=', (size_t)(end - key));
		if (eq == NULL || eq == key)
			return false;
		if (eq - key == 4 && memcmp(key, "size", 4) == 0) {
			if (!parse_decimal(eq + 1, (size_t)(end - eq - 1), size))
				return false;
			*found = true;
		}
		at += rec_len;
	}
	return true;
}
