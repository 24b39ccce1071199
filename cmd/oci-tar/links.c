#include "links.h"

#include <linux/magic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/vfs.h>

struct link_slot {
	dev_t dev;
	ino_t ino;
	size_t path_at, path_len; /* in paths; path_len 0: an empty slot */
};

static size_t slot_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev * 0xc2b2ae3d27d4eb4fULL;
	return (size_t)(h >> 17) & (cap - 1);
}

/* The slot of (dev, ino), or the empty slot where it goes. */
static struct link_slot *slot_of(const struct link_table *t, dev_t dev, ino_t ino)
{
	size_t i = slot_hash(dev, ino, t->cap);
	while (t->slots[i].path_len != 0) {
		if (t->slots[i].dev == dev && t->slots[i].ino == ino)
			return &t->slots[i];
		i = (i + 1) & (t->cap - 1);
	}
	return &t->slots[i];
}

/* Doubles the table when one more entry would fill more than half of it. */
static void make_room(struct link_table *t)
{
	if (2 * (t->n + 1) <= t->cap)
		return;
	struct link_slot *old = t->slots;
	size_t old_cap = t->cap;
	t->cap = old_cap ? 2 * old_cap : 64;
	t->slots = xcalloc(t->cap, sizeof *t->slots);
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].path_len != 0)
			*slot_of(t, old[i].dev, old[i].ino) = old[i];
	free(old);
}

const char *link_table_first(struct link_table *t, dev_t dev, ino_t ino, const char *path,
                             size_t path_len, size_t *first_len)
{
	make_room(t);
	struct link_slot *s = slot_of(t, dev, ino);
	if (s->path_len != 0) {
		*first_len = s->path_len;
		return t->paths.data + s->path_at;
	}
	*s = (struct link_slot){dev, ino, t->paths.len, path_len};
	buf_append(&t->paths, path, path_len);
	t->n++;
	return NULL;
}

/* FUSE daemons report link counts of their own making; when statfs fails, nothing is
 * trusted (remembering too many files costs memory, never correctness). */
static bool counts_trusted(int dirfd)
{
	struct statfs fs;
	return fstatfs(dirfd, &fs) == 0 && fs.f_type != FUSE_SUPER_MAGIC;
}

bool link_table_candidate(struct link_table *t, const struct stat *st, int dirfd)
{
	if (S_ISDIR(st->st_mode))
		return false;
	if (st->st_nlink > 1)
		return true;
	/* A non-directory is on its directory's file system: a mount point is a directory. */
	if (!t->counts_judged || t->counts_dev != st->st_dev) {
		t->counts_dev = st->st_dev;
		t->counts_judged = true;
		t->counts_trusted = counts_trusted(dirfd);
	}
	return !t->counts_trusted;
}

void link_table_free(struct link_table *t)
{
	free(t->slots);
	buf_free(&t->paths);
	*t = (struct link_table){0};
}
