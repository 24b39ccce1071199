/* Hard links: the first archive path of each file (dev, ino) remembered, so that its later
 * paths become hard-link entries naming it. An open-addressing hash table of (dev, ino) and the
 * paths, one after another, in one buffer. Memory grows with the files remembered. */
#ifndef OCI_TAR_LINKS_H
#define OCI_TAR_LINKS_H

#include "util.h"

#include <stddef.h>
#include <sys/types.h>

struct link_slot;

struct link_table {
	struct link_slot *slots;
	size_t n, cap; /* cap a power of two, at least twice n */
	struct buf paths;
};

/* The first path remembered for (dev, ino), its length in *first_len; or NULL after remembering
 * path (path_len > 0 bytes) as that first path. The pointer is valid until the next call. */
const char *link_table_first(struct link_table *t, dev_t dev, ino_t ino, const char *path,
                             size_t path_len, size_t *first_len);

void link_table_free(struct link_table *t);

#endif
