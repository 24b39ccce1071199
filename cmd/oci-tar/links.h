/* Hard links: the first archive path of each file (dev, ino) remembered, so that its later
 * paths become hard-link entries naming it. An open-addressing hash table of (dev, ino) and the
 * paths, one after another, in one buffer. Memory grows with the files remembered. */
#ifndef OCI_TAR_LINKS_H
#define OCI_TAR_LINKS_H

#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct link_slot;

struct link_table {
	struct link_slot *slots;
	size_t n, cap; /* cap a power of two, at least twice n */
	struct buf paths;
	/* The file system link counts were last judged on. */
	dev_t counts_dev;
	bool counts_judged, counts_trusted;
};

/* Whether a file (st, found in directory dirfd) may have another path in the tree, so that its
 * path must be remembered or looked up: a non-directory with st_nlink > 1, or any non-directory
 * on a file system whose link counts cannot be trusted. Those are FUSE file systems: a
 * fuse-overlayfs mount counts only the names looked up since it was mounted, so a fresh mount
 * says 1 for the first path of a file with three. Elsewhere only linked files are remembered,
 * so memory does not grow with the tree. */
bool link_table_candidate(struct link_table *t, const struct stat *st, int dirfd);

/* The first path remembered for (dev, ino), its length in *first_len; or NULL after remembering
 * path (path_len > 0 bytes) as that first path. The pointer is valid until the next call. */
const char *link_table_first(struct link_table *t, dev_t dev, ino_t ino, const char *path,
                             size_t path_len, size_t *first_len);

void link_table_free(struct link_table *t);

#endif
