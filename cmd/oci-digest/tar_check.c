#include "tar_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tar_check_init(struct tar_check *t)
{
	memset(t, 0, sizeof *t);
	t->state = TAR_AT_HEADER;
}

void tar_check_free(struct tar_check *t)
{
	free(t->pax);
	t->pax = NULL;
}

__attribute__((format(printf, 2, 3))) static bool invalid(struct tar_check *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof t->msg, fmt, ap);
	va_end(ap);
	t->state = TAR_AT_INVALID;
	tar_check_free(t);
	return false;
}

static uint64_t padded(uint64_t n)
{
	return n + (TAR_BLOCK - n % TAR_BLOCK) % TAR_BLOCK;
}

/* A whole header block is in t->block: what comes after it. */
static bool on_header(struct tar_check *t)
{
	const struct tar_ustar *h = (const struct tar_ustar *)t->block;
	if (tar_block_is_zero(t->block)) {
		t->state = t->state == TAR_AT_ZERO ? TAR_AT_END : TAR_AT_ZERO;
		return true;
	}
	if (t->state == TAR_AT_ZERO)
		return invalid(t, "a lone zero block at byte %llu, then more entries",
		               (unsigned long long)(t->header_at - TAR_BLOCK));
	if (!tar_checksum_ok(h))
		return invalid(t, "no tar header at byte %llu (its checksum does not match)",
		               (unsigned long long)t->header_at);
	/* A pax 'x' header's size applies to the entry it comes before, not to a long-name entry
	 * or another pax header in between. */
	bool applies = h->typeflag != TAR_XHDTYPE && h->typeflag != TAR_GLOBAL_TYPE &&
	               h->typeflag != TAR_GNU_LONGNAME && h->typeflag != TAR_GNU_LONGLINK;
	uint64_t size;
	if (!tar_data_size(h, applies && t->has_size, t->size, &size))
		return invalid(t, "the tar header at byte %llu has no valid size",
		               (unsigned long long)t->header_at);
	if (applies)
		t->has_size = false;
	t->left = padded(size);
	if (h->typeflag == TAR_XHDTYPE) {
		if (size > TAR_CHECK_PAX_MAX)
			return invalid(t,
			               "the pax header at byte %llu holds %llu bytes (at most %u)",
			               (unsigned long long)t->header_at, (unsigned long long)size,
			               TAR_CHECK_PAX_MAX);
		free(t->pax);
		t->pax = malloc(size ? size : 1);
		if (t->pax == NULL)
			return invalid(t, "out of memory");
		t->pax_len = 0;
		t->pax_size = size;
		t->state = TAR_AT_PAX;
	} else if (h->typeflag == TAR_GNU_SPARSE && t->block[TAR_GNU_SPARSE_ISEXTENDED] != 0) {
		t->state = TAR_AT_SPARSE;
	} else {
		t->state = TAR_AT_DATA;
	}
	t->fill = 0;
	return true;
}

/* The pax header's records are all in: its size record, if any, is the next entry's size. */
static bool on_pax(struct tar_check *t)
{
	bool found;
	uint64_t size;
	if (!tar_pax_size(t->pax, t->pax_len, &found, &size))
		return invalid(t, "the pax header at byte %llu has malformed records",
		               (unsigned long long)t->header_at);
	if (found) {
		t->has_size = true;
		t->size = size;
	}
	free(t->pax);
	t->pax = NULL;
	return true;
}

bool tar_check_feed(struct tar_check *t, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t take = 0;
		switch (t->state) {
		case TAR_AT_INVALID:
			return false;
		case TAR_AT_END:
			for (size_t i = 0; i < n; i++)
				if (p[i] != 0)
					return invalid(
					        t, "data after the end-of-archive, at byte %llu",
					        (unsigned long long)(t->offset + i));
			t->offset += n;
			return true;
		case TAR_AT_DATA:
		case TAR_AT_PAX:
			take = t->left < n ? (size_t)t->left : n;
			if (t->state == TAR_AT_PAX && t->pax_len < t->pax_size) {
				size_t keep = t->pax_size - t->pax_len < take
				                      ? t->pax_size - t->pax_len
				                      : take;
				memcpy(t->pax + t->pax_len, p, keep);
				t->pax_len += keep;
			}
			t->left -= take;
			if (t->left == 0) {
				if (t->state == TAR_AT_PAX && !on_pax(t))
					return false;
				t->state = TAR_AT_HEADER;
				t->header_at = t->offset + take;
			}
			break;
		case TAR_AT_HEADER:
		case TAR_AT_ZERO:
		case TAR_AT_SPARSE:
			take = TAR_BLOCK - t->fill < n ? TAR_BLOCK - t->fill : n;
			memcpy(t->block + t->fill, p, take);
			t->fill += take;
			if (t->fill == TAR_BLOCK) {
				if (t->state == TAR_AT_SPARSE) {
					/* An extension block of sparse map entries; the data
					 * follows the last one. */
					if (t->block[TAR_GNU_SPARSE_EXT_ISEXTENDED] == 0)
						t->state = TAR_AT_DATA;
					t->fill = 0;
				} else if (!on_header(t)) {
					return false;
				} else if (t->state == TAR_AT_ZERO || t->state == TAR_AT_END) {
					t->fill = 0;
					t->header_at = t->offset + take;
				}
				if (t->state == TAR_AT_DATA && t->left == 0) {
					t->state = TAR_AT_HEADER;
					t->header_at = t->offset + take;
				}
			}
			break;
		}
		t->offset += take;
		p += take;
		n -= take;
	}
	return true;
}

bool tar_check_end(struct tar_check *t)
{
	unsigned long long at = t->offset;
	switch (t->state) {
	case TAR_AT_END:
		return true;
	case TAR_AT_INVALID:
		return false;
	case TAR_AT_ZERO:
		if (t->fill == 0)
			return invalid(t,
			               "cut off at byte %llu, after one zero block of the two that "
			               "end an archive",
			               at);
		return invalid(t, "cut off at byte %llu, inside a header", at);
	case TAR_AT_HEADER:
		if (t->fill == 0)
			return invalid(
			        t,
			        "no end-of-archive (two zero blocks) where it stops, at byte "
			        "%llu",
			        at);
		return invalid(t, "cut off at byte %llu, inside a header", at);
	default:
		return invalid(
		        t, "cut off at byte %llu, inside the entry whose header is at byte %llu",
		        at, (unsigned long long)t->header_at);
	}
}
