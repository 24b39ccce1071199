#include "names.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DENTS_CAP (64u << 10)

static void push_name(struct name_stack *s, const char *name, unsigned char type)
{
	size_t len = strlen(name);
	if (s->len + len + 2 > s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1 << 16;
		while (s->len + len + 2 > s->cap)
			s->cap *= 2;
		s->names = xreallocarray(s->names, s->cap, 1);
	}
	if (s->offs_len == s->offs_cap) {
		s->offs_cap = s->offs_cap ? 2 * s->offs_cap : 1024;
		s->offs = xreallocarray(s->offs, s->offs_cap, sizeof *s->offs);
	}
	s->offs[s->offs_len++] = s->len;
	s->names[s->len] = (char)type;
	memcpy(s->names + s->len + 1, name, len + 1);
	s->len += len + 2;
}

static int by_name(const void *a, const void *b, void *names)
{
	return strcmp((char *)names + *(const size_t *)a + 1,
	              (char *)names + *(const size_t *)b + 1);
}

int names_push(struct name_stack *s, int fd, struct dir_names *d)
{
	if (s->dents == NULL)
		s->dents = xmalloc(DENTS_CAP);
	*d = (struct dir_names){.names_mark = s->len, .first = s->offs_len};
	for (;;) {
		ssize_t n = getdents64(fd, s->dents, DENTS_CAP);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		for (ssize_t at = 0; at < n;) {
			struct dirent64 *e = (struct dirent64 *)(s->dents + at);
			at += e->d_reclen;
			const char *name = e->d_name;
			if (name[0] == '.' &&
			    (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
				continue;
			push_name(s, name, e->d_type);
		}
	}
	d->count = s->offs_len - d->first;
	qsort_r(s->offs + d->first, d->count, sizeof *s->offs, by_name, s->names);
	return 0;
}

void names_pop(struct name_stack *s, const struct dir_names *d)
{
	s->len = d->names_mark;
	s->offs_len = d->first;
}

void names_free(struct name_stack *s)
{
	free(s->names);
	free(s->offs);
	free(s->dents);
	*s = (struct name_stack){0};
}
