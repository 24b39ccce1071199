/* oci-tar --signature: what an archive would hold, known without reading a byte of any file.
 *
 * The signature is the SHA-256 of every header the archive would have, in archive order (so it
 * covers every path, type, mode, owner, size, link target and emitted mtime, and through them
 * --root-dir, --uid, --gid, --mtime, the excludes and the part), and, for each regular file and
 * symlink, what tells its contents apart from any earlier ones: device, inode, size, mtime and
 * ctime to the nanosecond. A file's bytes can only change with its ctime (or its inode, when
 * replaced), so two walks with the same signature see the same archive bytes, unless a file was
 * changed twice within one tick of the file system's clock (git's "racy" case): a file whose
 * mtime or ctime is within SIGNATURE_RACY of the walk's start makes the signature racy, not to
 * be stored as a key. The program's version is hashed first, so a new version misses. */
#ifndef OCI_TAR_SIGNATURE_H
#define OCI_TAR_SIGNATURE_H

#include "digest.h"
#include "tar_header.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* Nanoseconds: timestamps with nanoseconds (ext4, xfs, btrfs, tmpfs) come from the kernel's
 * coarse clock, at most a tick (10 ms at HZ=100) behind the walk's clock, so a change after the
 * walk's start has a timestamp at most a tick before it; 20 ms is two ticks (exFAT's 10 ms steps
 * too). (200 ms made the usual "build, then build again at once" a miss: a file the build before
 * had just written was racy in it, so its key was never stored.) Whole seconds (a timestamp with
 * no nanoseconds) may be of a file system that keeps no more: then 2 s (FAT keeps mtime in
 * 2-second steps). */
#define SIGNATURE_RACY_NS        20000000LL
#define SIGNATURE_RACY_COARSE_NS 2000000000LL

struct signature {
	struct sha256 h;
	struct timespec start; /* CLOCK_REALTIME when the walk began */
	bool racy;
	uint64_t entries; /* how many headers: 0, an empty archive */
	char *racy_path;  /* the first racy file, for messages (set by the caller), or NULL */
	char *block;      /* the last entry's header blocks, grown as needed */
	size_t block_len, block_cap;
};

/* Starts the hash with the program's version; notes the time. */
void signature_start(struct signature *s);

/* One entry: its header e; st is what lstat (or fstat) gave for it. Its header blocks are then
 * s->block[0..s->block_len), for a caller that writes them too. True when this entry is the first
 * to make the signature racy: the caller may then name it in s->racy_path (allocated). */
bool signature_add(struct signature *s, const struct tar_entry *e, const struct stat *st);

/* "sha256:<hex>" into out; frees what s holds but racy and racy_path. */
void signature_final(struct signature *s, char out[DIGEST_STR_LEN]);

void signature_free(struct signature *s);

/* The line of oci-tar --signature (and --signature-out): "sha256:<hex>", then " racy" when a
 * file is too recent to key a cache with, " empty" when the archive holds no entry, "\n". */
#define SIGNATURE_LINE_MAX (DIGEST_STR_LEN + sizeof " racy empty\n")

/* Finishes s (signature_final) and writes its line, NUL-terminated, into out; its length. */
size_t signature_line(struct signature *s, char out[SIGNATURE_LINE_MAX]);

/* Whether a timestamp is too recent to be trusted, with start the walk's start. */
bool signature_is_racy(const struct timespec *t, const struct timespec *start);

#endif
