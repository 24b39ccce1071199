/* Tar header encoding: POSIX ustar where an entry fits, a pax extended header ('x') in front of
 * it only for what ustar cannot hold (POSIX.1-2001, "pax Interchange Format"). Every byte is a
 * function of the entry alone: no time, pid, user or group names. */
#ifndef OCI_TAR_HEADER_H
#define OCI_TAR_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAR_BLOCK 512

/* The ustar header block, fields in the standard's order and sizes. */
struct tar_ustar {
	char name[100];
	char mode[8];
	char uid[8];
	char gid[8];
	char size[12];
	char mtime[12];
	char chksum[8];
	char typeflag;
	char linkname[100];
	char magic[6];   /* "ustar\0" */
	char version[2]; /* "00" */
	char uname[32];
	char gname[32];
	char devmajor[8];
	char devminor[8];
	char prefix[155];
	char pad[12];
};

/* typeflag values, named as the standard names them. */
enum tar_type {
	TAR_REGTYPE = '0',
	TAR_LNKTYPE = '1',
	TAR_SYMTYPE = '2',
	TAR_CHRTYPE = '3',
	TAR_BLKTYPE = '4',
	TAR_DIRTYPE = '5',
	TAR_FIFOTYPE = '6',
	TAR_XHDTYPE = 'x',
};

/* What one archive member says about itself. path is the full member name (a directory's ends in
 * '/'); link is the hard link's first path or the symlink's target. */
struct tar_entry {
	const char *path;
	size_t path_len;
	const char *link;
	size_t link_len;
	enum tar_type type;
	uint32_t mode; /* permission bits with setuid/setgid/sticky: 07777 */
	uint64_t uid, gid;
	int64_t mtime;
	uint64_t size;
	uint32_t devmajor, devminor;
};

/* The largest value each numeric field holds in octal. */
#define TAR_MAX_ID    07777777ULL     /* uid, gid, devmajor, devminor: 8-byte fields */
#define TAR_MAX_SIZE  077777777777ULL /* size, mtime: 12-byte fields; 8 GiB - 1 */
#define TAR_MAX_MTIME 077777777777LL

/* An upper bound of what tar_header_encode writes for e (a multiple of TAR_BLOCK). */
size_t tar_header_bound(const struct tar_entry *e);

/* Writes e's header blocks to out (which has tar_header_bound(e) bytes of room) and returns how
 * many bytes it wrote: 512, or more when a pax header comes first. */
size_t tar_header_encode(const struct tar_entry *e, char *out);

/* The pieces, exposed for the unit tests. */

/* Where the path splits into ustar prefix and name: false if it cannot (the path then needs a pax
 * record). *prefix_len is 0 when the whole path fits in name, else the prefix's length (the '/'
 * between prefix and name is in neither field). */
bool tar_split_path(const char *path, size_t len, size_t *prefix_len);

/* Writes v as zero-padded octal digits and a NUL into a field of width bytes; false (field
 * untouched) if it needs more than width - 1 digits. */
bool tar_put_octal(char *field, size_t width, uint64_t v);

/* GNU/star base-256: the high bit of the first byte set, then the two's complement big-endian
 * value; holds any int64_t in an 8- or 12-byte field. */
void tar_put_base256(char *field, size_t width, int64_t v);

/* Length of the pax record "LEN key=value\n", where LEN counts its own digits too. */
size_t tar_pax_record_len(size_t key_len, size_t value_len);

/* Writes that record to out and returns its length. */
size_t tar_pax_record(char *out, const char *key, const char *value, size_t value_len);

/* The ustar checksum: the sum of the block's bytes with the chksum field read as spaces. */
unsigned tar_checksum(const struct tar_ustar *h);

/* Decoding: what a reader needs to follow an archive's blocks as they stream by (where each
 * header is, how many data blocks follow it) without keeping the archive. */

/* GNU tar's types that carry their data like a file: the long name or link of the next
 * header ('L', 'K'), a pax global header ('g'), an old GNU sparse file ('S', whose header may
 * be followed by extension blocks before its data). */
enum tar_gnu_type {
	TAR_GLOBAL_TYPE = 'g',
	TAR_GNU_LONGNAME = 'L',
	TAR_GNU_LONGLINK = 'K',
	TAR_GNU_SPARSE = 'S',
};

/* Old GNU sparse headers: the "isextended" byte of the header and of each extension block; when
 * set, one more 512-byte extension block follows. */
#define TAR_GNU_SPARSE_ISEXTENDED     482
#define TAR_GNU_SPARSE_EXT_ISEXTENDED 504

/* True if all TAR_BLOCK bytes are zero: two of them at a header position end the archive. */
bool tar_block_is_zero(const void *block);

/* True if h's chksum field (octal) holds its checksum: tar_checksum, or the sum of its bytes as
 * signed chars, which some old writers used. */
bool tar_checksum_ok(const struct tar_ustar *h);

/* Reads a numeric field as tar writers write it: octal digits after optional spaces, ended by
 * NUL, space or the field's end (tar_put_octal's form); or base-256 (tar_put_base256's form).
 * false for anything else, or a value beyond int64_t. */
bool tar_get_number(const char *field, size_t width, int64_t *v);

/* How many data bytes follow h (before padding to TAR_BLOCK): its size field, or the pax size
 * override when has_override; 0 for the types that POSIX says store no data (links, devices,
 * directories, FIFOs). false if the size field is malformed or negative. */
bool tar_data_size(const struct tar_ustar *h, bool has_override, uint64_t override, uint64_t *size);

/* Looks for a "size" record in the len bytes of a pax extended header's data: true and *found
 * when it has one (its value in *size), true and !*found when it has none; false when the data
 * is not a series of well-formed records "LEN key=value\n" or the size is not a decimal
 * number. */
bool tar_pax_size(const char *data, size_t len, bool *found, uint64_t *size);

#endif
