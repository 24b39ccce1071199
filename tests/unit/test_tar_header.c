/* The tar header encoding (oci-tar's): ustar name/prefix split, octal and base-256 numbers, pax
 * records and their self-counting lengths, checksums, and when a pax header appears at all; and
 * the decoding (oci-digest's): numbers, checksums, data sizes, pax size records. */
#include "tar_header.h"
#include "tap.h"

#include <stdlib.h>

static char block[8 * TAR_BLOCK];

static const struct tar_ustar *ustar_at(size_t off)
{
	return (const struct tar_ustar *)(block + off);
}

/* The field as a string (fields need not end in NUL). */
static const char *field(const char *f, size_t width)
{
	static char s[256];
	memcpy(s, f, width);
	s[width] = '\0';
	return s;
}

static unsigned long long octal(const char *f, size_t width)
{
	return strtoull(field(f, width), NULL, 8);
}

static bool checksum_ok(const struct tar_ustar *h)
{
	return octal(h->chksum, 7) == tar_checksum(h) && h->chksum[6] == '\0' &&
	       h->chksum[7] == ' ';
}

/* n copies of c; the last few results stay valid (a small ring of buffers, nothing to free). */
static char *repeat(char c, size_t n)
{
	static char ring[8][400];
	static size_t next;
	char *s = ring[next++ % 8];
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static struct tar_entry file_entry(const char *path)
{
	return (struct tar_entry){.path = path,
	                          .path_len = strlen(path),
	                          .link = "",
	                          .type = TAR_REGTYPE,
	                          .mode = 0644};
}

static void test_split(void)
{
	size_t p = 99;
	ok(tar_split_path("a/b", 3, &p) && p == 0, "a short path goes whole into name");
	char *hundred = repeat('x', 100);
	ok(tar_split_path(hundred, 100, &p) && p == 0, "exactly 100 bytes fit in name with no NUL");
	char path[400];
	/* 150-byte directory, '/', 100-byte file: the longest split ustar can hold for this name.
	 */
	snprintf(path, sizeof path, "%s/%s", repeat('d', 150), hundred);
	ok(tar_split_path(path, strlen(path), &p) && p == 150,
	   "prefix 150 + '/' + name 100 splits");
	snprintf(path, sizeof path, "%s/%s", repeat('d', 155), repeat('n', 100));
	ok(tar_split_path(path, strlen(path), &p) && p == 155,
	   "prefix of exactly 155 bytes splits");
	snprintf(path, sizeof path, "%s/%s", repeat('d', 156), repeat('n', 10));
	ok(!tar_split_path(path, strlen(path), &p), "a 156-byte prefix does not fit");
	snprintf(path, sizeof path, "d/%s", repeat('n', 101));
	ok(!tar_split_path(path, strlen(path), &p), "a 101-byte last component never fits");
	snprintf(path, sizeof path, "a/bb/%s", repeat('n', 97));
	ok(tar_split_path(path, strlen(path), &p) && p == 1,
	   "the first '/' that leaves <= 100 bytes");
	is_str(path + p + 1, path + 2, "  so the name keeps as much as it can");
	snprintf(path, sizeof path, "%s/", repeat('d', 100));
	ok(!tar_split_path(path, strlen(path), &p),
	   "a directory's trailing '/' is never the split");
	snprintf(path, sizeof path, "%s/%s/", repeat('d', 100), repeat('e', 50));
	ok(tar_split_path(path, strlen(path), &p) && p == 100, "  but the one before it is");
	snprintf(path, sizeof path, "/%s", repeat('n', 100));
	ok(!tar_split_path(path, strlen(path), &p), "an empty prefix is no split");
}

static void test_numbers(void)
{
	char f[12];
	ok(tar_put_octal(f, 8, 0755), "mode fits");
	is_mem(f, "0000755", 8, "  as seven zero-padded digits and a NUL");
	ok(tar_put_octal(f, 8, 07777777) && !tar_put_octal(f, 8, 010000000),
	   "an 8-byte field holds up to 07777777");
	ok(tar_put_octal(f, 12, 077777777777ULL), "a 12-byte field holds 8 GiB - 1");
	is_mem(f, "77777777777", 12, "  as eleven digits");
	memset(f, 'z', sizeof f);
	ok(!tar_put_octal(f, 12, 1ULL << 33), "8 GiB does not fit in octal");
	is_int(f[0], 'z', "  and the field is left alone");

	unsigned char b[12];
	tar_put_base256((char *)b, 12, 8589934592LL);
	static const unsigned char eight_gib[12] = {0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0};
	is_mem(b, eight_gib, 12, "base-256 of 8 GiB: marker byte then big-endian");
	tar_put_base256((char *)b, 12, -1);
	static const unsigned char minus_one[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	is_mem(b, minus_one, 12, "base-256 of -1 is all 0xff (two's complement)");
	tar_put_base256((char *)b, 12, -2);
	ok(b[0] == 0xff && b[11] == 0xfe, "base-256 of -2 ends in 0xfe");
	tar_put_base256((char *)b, 8, 4294967295LL);
	static const unsigned char big_uid[8] = {0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
	is_mem(b, big_uid, 8, "base-256 of uid 2^32-1 in an 8-byte field");
}

static void test_records(void)
{
	char rec[4200];
	is_int(tar_pax_record(rec, "path", "a", 1), 9, "\"9 path=a\\n\" is 9 bytes");
	is_mem(rec, "9 path=a\n", 9, "  and is written so");
	/* Where the length gains a digit, it must count that digit too. */
	char value[4100];
	memset(value, 'v', sizeof value);
	int bad = 0;
	for (size_t vlen = 0; vlen < sizeof value; vlen++) {
		size_t n = tar_pax_record(rec, "path", value, vlen);
		char head[32];
		int h = snprintf(head, sizeof head, "%zu path=", n);
		if (n != (size_t)h + vlen + 1 || memcmp(rec, head, (size_t)h) != 0 ||
		    rec[n - 1] != '\n')
			bad++;
	}
	is_int(bad, 0, "every record length from 1 to 4 digits counts itself exactly");
	is_int(tar_pax_record_len(4, 90), 99, "97 bytes plus a 2-digit length is 99");
	is_int(tar_pax_record_len(4, 91), 101, "one more byte crosses to 3 digits: 101, never 100");
	is_int(tar_pax_record_len(4, 989), 999, "996 bytes plus 3 digits is 999");
	is_int(tar_pax_record_len(4, 990), 1001, "one more: 1001, never 1000");
}

/* Finds "key=" in the records and returns its value (NUL-terminated copy). */
static const char *record(const char *recs, size_t len, const char *key)
{
	static char v[5000];
	for (size_t at = 0; at < len;) {
		char *end;
		unsigned long n = strtoul(recs + at, &end, 10);
		if (n == 0 || *end != ' ')
			return NULL;
		const char *kv = end + 1;
		size_t klen = strlen(key);
		if (strncmp(kv, key, klen) == 0 && kv[klen] == '=') {
			size_t vlen = recs + at + n - 1 - (kv + klen + 1);
			memcpy(v, kv + klen + 1, vlen);
			v[vlen] = '\0';
			return v;
		}
		at += n;
	}
	return NULL;
}

static void test_encode(void)
{
	struct tar_entry e = file_entry("dir/file.txt");
	e.size = 5;
	e.mtime = 1700000000;
	e.uid = 1000;
	e.gid = 100;
	is_int(tar_header_bound(&e), TAR_BLOCK, "a plain file needs one block");
	memset(block, 0x55, sizeof block);
	is_int(tar_header_encode(&e, block), TAR_BLOCK, "and gets one");
	const struct tar_ustar *h = ustar_at(0);
	is_str(field(h->name, 100), "dir/file.txt", "name");
	is_str(field(h->mode, 8), "0000644", "mode");
	is_str(field(h->uid, 8), "0001750", "uid 1000");
	is_str(field(h->gid, 8), "0000144", "gid 100");
	is_str(field(h->size, 12), "00000000005", "size");
	is_str(field(h->mtime, 12), "14524770400", "mtime");
	is_int(h->typeflag, '0', "typeflag regular");
	is_mem(h->magic,
	       "ustar\0"
	       "00",
	       8, "magic ustar\\0 and version 00");
	is_str(field(h->uname, 32), "", "uname empty");
	is_str(field(h->gname, 32), "", "gname empty");
	is_str(field(h->devmajor, 8), "0000000", "devmajor zero");
	ok(checksum_ok(h), "checksum: six octal digits, NUL, space, and right");
	is_int(h->pad[11], 0, "the block's tail is zero, not left over");

	e = file_entry("setuid");
	e.mode = 04755;
	tar_header_encode(&e, block);
	is_str(field(ustar_at(0)->mode, 8), "0004755", "setuid bit kept");
	e.mode = 0170755; /* file-type bits are not mode bits */
	tar_header_encode(&e, block);
	is_str(field(ustar_at(0)->mode, 8), "0000755", "only the 07777 bits go in the mode");

	e = file_entry("dev/null");
	e.type = TAR_CHRTYPE;
	e.devmajor = 1;
	e.devminor = 3;
	tar_header_encode(&e, block);
	ok(ustar_at(0)->typeflag == '3' && octal(ustar_at(0)->devmajor, 8) == 1 &&
	           octal(ustar_at(0)->devminor, 8) == 3,
	   "character device: typeflag 3, major and minor");

	e = file_entry("link");
	e.type = TAR_SYMTYPE;
	e.link = "../target";
	e.link_len = 9;
	tar_header_encode(&e, block);
	is_str(field(ustar_at(0)->linkname, 100), "../target", "symlink target in linkname");

	/* A long but splittable path: still one ustar block. */
	char path[600];
	snprintf(path, sizeof path, "%s/%s", repeat('p', 120), repeat('n', 90));
	e = file_entry(path);
	is_int(tar_header_encode(&e, block), TAR_BLOCK, "a 211-byte path that splits needs no pax");
	is_str(field(ustar_at(0)->prefix, 155), repeat('p', 120), "  prefix");
	is_str(field(ustar_at(0)->name, 100), repeat('n', 90), "  name");
}

static void test_pax(void)
{
	char path[600];
	snprintf(path, sizeof path, "a/b/%s", repeat('x', 300));
	struct tar_entry e = file_entry(path);
	e.size = 3;
	e.mtime = 7;
	size_t n = tar_header_encode(&e, block);
	ok(n <= tar_header_bound(&e), "bound holds");
	is_int(n, 3 * TAR_BLOCK, "a 304-byte path: pax header, one block of records, ustar header");
	const struct tar_ustar *x = ustar_at(0);
	is_int(x->typeflag, 'x', "the pax header's typeflag is x");
	char want[120];
	snprintf(want, sizeof want, "a/b/PaxHeaders/%s", repeat('x', 85));
	is_str(field(x->name, 100), want,
	       "its name is GNU tar's %%d/PaxHeaders/%%f cut to 100 bytes: no pid, no time");
	ok(checksum_ok(x), "its checksum");
	is_str(field(x->mode, 8), "0000644", "its mode");
	size_t rlen = octal(x->size, 12);
	is_int(rlen, tar_pax_record_len(4, 304), "its size is the record length");
	is_str(record(block + TAR_BLOCK, rlen, "path"), path, "the path record has the whole path");
	ok(record(block + TAR_BLOCK, rlen, "size") == NULL, "and no record for what fits");
	ok(record(block + TAR_BLOCK, rlen, "mtime") == NULL, "  (mtime 7 fits)");
	int junk = 0;
	for (size_t i = TAR_BLOCK + rlen; i < 2 * TAR_BLOCK; i++)
		junk += block[i] != 0;
	is_int(junk, 0, "records are padded with zeros to the block");
	const struct tar_ustar *h = ustar_at(2 * TAR_BLOCK);
	ok(checksum_ok(h) && h->typeflag == '0' && octal(h->size, 12) == 3,
	   "then the file's ustar header");

	e = file_entry("big");
	e.size = 8589934592ULL;
	n = tar_header_encode(&e, block);
	is_int(n, 3 * TAR_BLOCK, "an 8 GiB file gets a pax header");
	rlen = octal(ustar_at(0)->size, 12);
	is_str(record(block + TAR_BLOCK, rlen, "size"), "8589934592", "  with size=8589934592");
	is_mem(block + TAR_BLOCK, "19 size=8589934592\n", 19,
	       "  as exactly \"19 size=8589934592\\n\"");
	h = ustar_at(2 * TAR_BLOCK);
	ok((unsigned char)h->size[0] == 0x80 && h->size[7] == 2,
	   "  and base-256 in the ustar field");
	ok(checksum_ok(h), "  checksum over the binary field");
	e.size = 8589934591ULL;
	is_int(tar_header_encode(&e, block), TAR_BLOCK, "8 GiB - 1 still fits ustar");

	e = file_entry("old");
	e.mtime = -1;
	tar_header_encode(&e, block);
	rlen = octal(ustar_at(0)->size, 12);
	is_str(record(block + TAR_BLOCK, rlen, "mtime"), "-1", "a negative mtime: pax mtime=-1");
	ok((unsigned char)ustar_at(2 * TAR_BLOCK)->mtime[0] == 0xff,
	   "  and base-256 -1 in the field");
	is_str(field(ustar_at(0)->mtime, 12), "00000000000", "  the pax header itself says 0");
	e.mtime = 1LL << 33;
	tar_header_encode(&e, block);
	rlen = octal(ustar_at(0)->size, 12);
	is_str(record(block + TAR_BLOCK, rlen, "mtime"), "8589934592", "an mtime past 2242: pax");

	e = file_entry("f");
	e.uid = 2097152;
	e.gid = 4294967295U;
	tar_header_encode(&e, block);
	rlen = octal(ustar_at(0)->size, 12);
	is_str(record(block + TAR_BLOCK, rlen, "uid"), "2097152", "uid 2^21: pax uid");
	is_str(record(block + TAR_BLOCK, rlen, "gid"), "4294967295", "gid 2^32-1: pax gid");
	e.uid = 2097151;
	e.gid = 2097151;
	is_int(tar_header_encode(&e, block), TAR_BLOCK, "uid/gid 2^21-1 fit ustar");

	e = file_entry("l");
	e.type = TAR_SYMTYPE;
	char *target = repeat('t', 101);
	e.link = target;
	e.link_len = 101;
	tar_header_encode(&e, block);
	rlen = octal(ustar_at(0)->size, 12);
	is_str(record(block + TAR_BLOCK, rlen, "linkpath"), target,
	       "a 101-byte target: pax linkpath");
	is_str(ustar_at(0)->name, "./PaxHeaders/l",
	       "a top-level entry's pax name is ./PaxHeaders/NAME");
	e.link_len = 100;
	is_int(tar_header_encode(&e, block), TAR_BLOCK, "a 100-byte target fits linkname");

	/* Several overflows: records sorted by key, every one present. */
	snprintf(path, sizeof path, "%s", repeat('q', 260));
	e = file_entry(path);
	e.type = TAR_LNKTYPE;
	e.link = target;
	e.link_len = 101;
	e.uid = 1u << 30;
	e.mtime = -5;
	tar_header_encode(&e, block);
	rlen = octal(ustar_at(0)->size, 12);
	const char *r = block + TAR_BLOCK;
	ok(strncmp(strstr(r, " linkpath=") - 3, "115", 3) == 0, "linkpath record length 115");
	ok(strstr(r, "linkpath=") < strstr(r, "mtime=") &&
	           strstr(r, "mtime=") < strstr(r, "path=q") &&
	           strstr(r, "path=q") < strstr(r, "uid="),
	   "records in key order: linkpath, mtime, path, uid");

	snprintf(path, sizeof path, "%s/", repeat('d', 120));
	e = file_entry(path);
	e.type = TAR_DIRTYPE;
	tar_header_encode(&e, block);
	rlen = octal(ustar_at(0)->size, 12);
	is_str(record(block + TAR_BLOCK, rlen, "path"), path,
	       "a long directory keeps its '/' in pax");
	ok(strncmp(ustar_at(0)->name, "./PaxHeaders/ddd", 16) == 0, "  its pax name drops the '/'");
}

/* Decoding: what the encoder writes reads back, and what no writer writes is refused. */
static void test_decode_numbers(void)
{
	char f[12];
	int64_t v = -7;
	tar_put_octal(f, 12, 012345);
	ok(tar_get_number(f, 12, &v) && v == 012345, "octal reads back");
	ok(tar_get_number("  755 \0\0", 8, &v) && v == 0755, "leading spaces, a space ends it");
	ok(tar_get_number("77777777777", 11, &v) && v == 077777777777LL,
	   "digits up to the field's end");
	ok(!tar_get_number("\0\0\0\0\0\0\0\0", 8, &v), "an empty field is no number");
	ok(!tar_get_number("0012x45\0", 8, &v), "a stray character is refused");
	ok(tar_get_number("0012 45\0", 8, &v) && v == 012, "  but a space ends the digits");
	tar_put_base256(f, 12, 8589934592LL);
	ok(tar_get_number(f, 12, &v) && v == 8589934592LL, "base-256 of 8 GiB reads back");
	tar_put_base256(f, 12, -2);
	ok(tar_get_number(f, 12, &v) && v == -2, "base-256 of -2 reads back");
	tar_put_base256(f, 8, 4294967295LL);
	ok(tar_get_number(f, 8, &v) && v == 4294967295LL, "base-256 in an 8-byte field");
	static const unsigned char huge[12] = {0x80, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	ok(!tar_get_number((const char *)huge, 12, &v), "base-256 beyond int64_t is refused");
}

static void test_decode_headers(void)
{
	memset(block, 0, sizeof block);
	ok(tar_block_is_zero(block), "a zero block");
	struct tar_entry e = file_entry("a/file");
	e.size = 1000;
	tar_header_encode(&e, block);
	const struct tar_ustar *h = ustar_at(0);
	ok(!tar_block_is_zero(block), "a header is no zero block");
	ok(tar_checksum_ok(h), "the encoder's checksum checks");
	uint64_t size = 0;
	ok(tar_data_size(h, false, 0, &size) && size == 1000, "a file's data: its size field");
	ok(tar_data_size(h, true, 123, &size) && size == 123, "  or the pax override");
	block[0] ^= 1;
	ok(!tar_checksum_ok(h), "one flipped bit fails the checksum");
	block[0] ^= 1;
	memcpy(block + 200, "\xe9", 1); /* a byte >= 0x80 in linkname: signed and unsigned differ */
	unsigned sum = tar_checksum(h);
	tar_put_octal(((struct tar_ustar *)block)->chksum, 7, sum - 256);
	ok(tar_checksum_ok(h), "an old writer's signed-char checksum checks too");
	tar_put_octal(((struct tar_ustar *)block)->chksum, 7, sum - 1);
	ok(!tar_checksum_ok(h), "  but no other sum");
	e = file_entry("d/");
	e.type = TAR_DIRTYPE;
	e.size = 4096; /* what some writers put there; POSIX: no data follows */
	tar_header_encode(&e, block);
	ok(tar_data_size(h, true, 99, &size) && size == 0, "a directory has no data");
	e = file_entry("l");
	e.type = TAR_SYMTYPE;
	e.link = "target";
	e.link_len = 6;
	tar_header_encode(&e, block);
	ok(tar_data_size(h, false, 0, &size) && size == 0, "a symlink has no data");
	e = file_entry("big");
	e.size = 1ULL << 40;
	size_t n = tar_header_encode(&e, block);
	h = ustar_at(n - TAR_BLOCK);
	ok(tar_data_size(h, false, 0, &size) && size == 1ULL << 40,
	   "a size beyond octal reads back from base-256");
	bool found = false;
	size_t rlen = (size_t)octal(ustar_at(0)->size, 12);
	ok(tar_pax_size(block + TAR_BLOCK, rlen, &found, &size) && found && size == 1ULL << 40,
	   "the encoder's pax size record reads back");
	ok(tar_pax_size(block + TAR_BLOCK, TAR_BLOCK, &found, &size) && found,
	   "  with the block's NUL padding after it");
}

static void test_decode_pax(void)
{
	bool found = true;
	uint64_t size = 0;
	const char *r = "9 path=a\n13 size=4096\n";
	ok(tar_pax_size(r, strlen(r), &found, &size) && found && size == 4096,
	   "size found among records");
	r = "9 path=a\n";
	ok(tar_pax_size(r, strlen(r), &found, &size) && !found, "no size record: none found");
	ok(tar_pax_size("", 0, &found, &size) && !found, "no records at all");
	r = "11 path=a\n";
	ok(!tar_pax_size(r, strlen(r), &found, &size), "a length past the data is refused");
	r = "9 path=ab";
	ok(!tar_pax_size(r, strlen(r), &found, &size), "a record not ending in newline is refused");
	r = "8 patha\n";
	ok(!tar_pax_size(r, strlen(r), &found, &size), "a record with no '=' is refused");
	r = "12 size=40x\n";
	ok(!tar_pax_size(r, strlen(r), &found, &size), "a size that is no number is refused");
	r = "garbage";
	ok(!tar_pax_size(r, strlen(r), &found, &size), "no length is refused");
	r = "9 path=a\n\0x";
	ok(!tar_pax_size(r, 11, &found, &size), "data after the NUL padding is refused");
}

int main(void)
{
	test_split();
	test_numbers();
	test_records();
	test_encode();
	test_pax();
	test_decode_numbers();
	test_decode_headers();
	test_decode_pax();
	return done_testing();
}
