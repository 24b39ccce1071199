/* The names of the directories being walked, each directory's sorted bytewise, on one stack:
 * a directory's names are pushed when the walk enters it and dropped when it leaves, so memory
 * is linear in the names of the directories open at once, not in the tree. */
#ifndef OCI_TAR_NAMES_H
#define OCI_TAR_NAMES_H

#include <stddef.h>

struct name_stack {
	char *names; /* each "d_type name\0" */
	size_t len, cap;
	size_t *offs; /* where each name starts in names */
	size_t offs_len, offs_cap;
	char *dents; /* getdents64 buffer */
};

/* One directory's names on the stack. */
struct dir_names {
	size_t names_mark; /* names' length before them */
	size_t first;      /* index in offs of the first */
	size_t count;
};

/* Pushes the names of directory fd but "." and "..", sorted bytewise (strcmp). 0, or -1 with
 * errno set. */
int names_push(struct name_stack *s, int fd, struct dir_names *d);

/* Name i of d and its d_type. s->names may move when another directory is pushed: take the name
 * again after that, never keep the pointer. */
static inline const char *names_at(const struct name_stack *s, const struct dir_names *d, size_t i,
                                   unsigned char *type)
{
	size_t at = s->offs[d->first + i];
	*type = (unsigned char)s->names[at];
	return s->names + at + 1;
}

/* Drops d, the directory pushed last. */
void names_pop(struct name_stack *s, const struct dir_names *d);

void names_free(struct name_stack *s);

#endif
