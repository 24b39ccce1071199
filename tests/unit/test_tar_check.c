/* oci-digest's tar stream check: an archive is taken however its bytes are split into reads,
 * and refused when cut anywhere before its end-of-archive or followed by anything but zeros. */
#include "../../cmd/oci-digest/tar_check.h"
#include "tap.h"

#include <stdlib.h>

static unsigned char archive[64 * TAR_BLOCK];

/* Appends an entry (its header blocks, size bytes of data and the padding) at *at. */
static void add(size_t *at, const char *path, enum tar_type type, uint64_t size)
{
	struct tar_entry e = {.path = path,
	                      .path_len = strlen(path),
	                      .link = "",
	                      .type = type,
	                      .mode = 0644,
	                      .size = size};
	*at += tar_header_encode(&e, (char *)archive + *at);
	memset(archive + *at, 'd', size);
	*at += (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
}

/* Feeds n bytes in reads of chunk bytes; true if every feed and the end were taken. */
static bool check(const unsigned char *p, size_t n, size_t chunk, char *msg, size_t msg_cap)
{
	struct tar_check t;
	tar_check_init(&t);
	bool good = true;
	for (size_t at = 0; good && at < n; at += chunk)
		good = tar_check_feed(&t, p + at, n - at < chunk ? n - at : chunk);
	good = good && tar_check_end(&t);
	if (msg)
		snprintf(msg, msg_cap, "%s", t.msg);
	tar_check_free(&t);
	return good;
}

int main(void)
{
	size_t n = 0;
	char long_path[300];
	memset(long_path, 'p', 250);
	memcpy(long_path + 120, "/", 1);
	long_path[250] = '\0';
	add(&n, "dir/", TAR_DIRTYPE, 0);
	add(&n, "dir/file", TAR_REGTYPE, 1000);
	size_t pax_at = n;
	add(&n, long_path, TAR_REGTYPE, 513); /* a pax header with the path first */
	add(&n, "empty", TAR_REGTYPE, 0);
	size_t entries_end = n;
	n += 2 * TAR_BLOCK; /* the end-of-archive: zeros */

	char msg[200];
	static const size_t chunks[] = {1, 7, 511, 512, 513, 4096, 1 << 20};
	bool all = true;
	for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++)
		all = all && check(archive, n, chunks[i], NULL, 0);
	ok(all, "a whole archive is taken in reads of 1, 7, 511, 512, 513, 4096 bytes or at once");

	bool refused = true;
	for (size_t cut = 0; cut < n; cut++)
		refused = refused && !check(archive, cut, 4096, NULL, 0);
	ok(refused, "cut at any byte before its end, it is refused");

	memset(archive + n, 0, 3000);
	ok(check(archive, n + 3000, 100, NULL, 0), "zeros after the end are taken");
	archive[n + 2999] = 1;
	ok(!check(archive, n + 3000, 100, msg, sizeof msg), "a non-zero byte after the end is not");
	char want[200];
	snprintf(want, sizeof want, "data after the end-of-archive, at byte %zu", n + 2999);
	is_str(msg, want, "  and the message says where");
	archive[n + 2999] = 0;

	ok(!check(archive, entries_end + TAR_BLOCK, 512, msg, sizeof msg),
	   "one zero block is no end");
	snprintf(want, sizeof want,
	         "cut off at byte %zu, after one zero block of the two that end an archive",
	         entries_end + TAR_BLOCK);
	is_str(msg, want, "  and the message says so");

	archive[TAR_BLOCK + 10] ^= 1; /* inside dir/file's header */
	ok(!check(archive, n, 512, msg, sizeof msg), "a header with a wrong checksum is refused");
	is_str(msg, "no tar header at byte 512 (its checksum does not match)", "  at its offset");
	archive[TAR_BLOCK + 10] ^= 1;

	/* The pax header's size record overrides the ustar size of the entry after it: with
	 * size=0, the 513 data bytes become a header that is no header. */
	unsigned char copy[sizeof archive];
	memcpy(copy, archive, sizeof copy);
	ok(copy[pax_at + 156] == 'x', "the long path has a pax header");
	char *rec = (char *)copy + pax_at + TAR_BLOCK;
	size_t rec_len = strlen(rec);
	char *end = rec + rec_len;
	memcpy(end, "10 size=0\n", 10); /* an extra record, into the padding */
	struct tar_ustar *xh = (struct tar_ustar *)(copy + pax_at);
	tar_put_octal(xh->size, sizeof xh->size, rec_len + 10);
	tar_put_octal(xh->chksum, 7, tar_checksum(xh));
	ok(!check(copy, n, 512, msg, sizeof msg), "a pax size=0 makes the data the next header");
	snprintf(want, sizeof want, "no tar header at byte %zu (its checksum does not match)",
	         pax_at + 3 * TAR_BLOCK);
	is_str(msg, want, "  which is no header");
	memcpy(end, "1x size=0\n", 10);
	tar_put_octal(xh->chksum, 7, tar_checksum(xh));
	ok(!check(copy, n, 512, msg, sizeof msg), "a malformed pax record is refused");
	snprintf(want, sizeof want, "the pax header at byte %zu has malformed records", pax_at);
	is_str(msg, want, "  naming the pax header");
	return done_testing();
}
