/* The names of the directories being walked, each directory's sorted bytewise: one buffer per
 * depth, reused by the next directory at that depth, so memory is linear in the depth and the
 * largest directory at each depth, not in the tree. A directory's names stay where they are
 * until it is popped (another thread may read them meanwhile: prefetch.h). */
#ifndef OCI_TAR_NAMES_H
#define OCI_TAR_NAMES_H

#include <stddef.h>

/* One directory's names. */
struct dir_names {
	char *names; /* each "d_type name\0" */
	size_t len, cap;
	size_t *offs; /* where each name starts in names, sorted by name */
	size_t count, offs_cap;
};

struct name_stack {
	struct dir_names **levels; /* levels[0..depth) the directories open, outermost first */
	size_t depth, nlevels;
	char *dents; /* getdents64 buffer */
};

/* Pushes the names of directory fd but "." and "..", sorted bytewise (strcmp). The directory's
 * names, valid until it is popped; NULL with errno set. */
const struct dir_names *names_push(struct name_stack *s, int fd);

/* Reads the names of directory fd into d (its buffers reused), sorted, with dents a buffer of
 * NAMES_DENTS_CAP bytes. 0, or -1 with errno set. */
#define NAMES_DENTS_CAP (64u << 10)
int names_read(struct dir_names *d, int fd, char *dents);

/* Pushes names read by names_read: d's contents are swapped with the new level's buffers. */
const struct dir_names *names_adopt(struct name_stack *s, struct dir_names *d);

/* Name i of d and its d_type. */
static inline const char *names_at(const struct dir_names *d, size_t i, unsigned char *type)
{
	size_t at = d->offs[i];
	*type = (unsigned char)d->names[at];
	return d->names + at + 1;
}

/* Drops the directory pushed last. */
void names_pop(struct name_stack *s);

void names_free(struct name_stack *s);

#endif
