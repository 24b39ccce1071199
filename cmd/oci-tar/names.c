#include "names.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void push_name(struct dir_names *d, const char *name, unsigned char type)
{
	size_t len = strlen(name);
	if (d->len + len + 2 > d->cap) {
		d->cap = d->cap ? 2 * d->cap : 1 << 14;
		while (d->len + len + 2 > d->cap)
			d->cap *= 2;
		d->names = xreallocarray(d->names, d->cap, 1);
	}
	if (d->count == d->offs_cap) {
		d->offs_cap = d->offs_cap ? 2 * d->offs_cap : 256;
		d->offs = xreallocarray(d->offs, d->offs_cap, sizeof *d->offs);
	}
	d->offs[d->count++] = d->len;
	d->names[d->len] = (char)type;
	memcpy(d->names + d->len + 1, name, len + 1);
	d->len += len + 2;
}

static int by_name(const void *a, const void *b, void *names)
{
	return strcmp((char *)names + *(const size_t *)a + 1,
	              (char *)names + *(const size_t *)b + 1);
}

int names_read(struct dir_names *d, int fd, char *dents)
{
	d->len = d->count = 0;
	for (;;) {
		ssize_t n = getdents64(fd, dents, NAMES_DENTS_CAP);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		for (ssize_t at = 0; at < n;) {
			struct dirent64 *e = (struct dirent64 *)(dents + at);
			at += e->d_reclen;
			const char *name = e->d_name;
			if (name[0] == '.' &&
			    (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
				continue;
			push_name(d, name, e->d_type);
		}
	}
	if (d->count > 1) /* an empty directory's buffers may be NULL yet */
		qsort_r(d->offs, d->count, sizeof *d->offs, by_name, d->names);
	return 0;
}

static struct dir_names *next_level(struct name_stack *s)
{
	if (s->depth == s->nlevels) {
		s->levels = xreallocarray(s->levels, s->nlevels + 1, sizeof *s->levels);
		s->levels[s->nlevels++] = xcalloc(1, sizeof **s->levels);
	}
	return s->levels[s->depth];
}

const struct dir_names *names_push(struct name_stack *s, int fd)
{
	if (s->dents == NULL)
		s->dents = xmalloc(NAMES_DENTS_CAP);
	struct dir_names *d = next_level(s);
	if (names_read(d, fd, s->dents) < 0)
		return NULL;
	s->depth++;
	return d;
}

const struct dir_names *names_adopt(struct name_stack *s, struct dir_names *ready)
{
	struct dir_names *d = next_level(s);
	struct dir_names t = *d;
	*d = *ready;
	*ready = t;
	s->depth++;
	return d;
}

void names_pop(struct name_stack *s)
{
	s->depth--;
}

void names_free(struct name_stack *s)
{
	for (size_t i = 0; i < s->nlevels; i++) {
		free(s->levels[i]->names);
		free(s->levels[i]->offs);
		free(s->levels[i]);
	}
	free(s->levels);
	free(s->dents);
	*s = (struct name_stack){0};
}
