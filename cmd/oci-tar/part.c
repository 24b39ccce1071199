#include "part.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

struct part_pattern {
	enum part_list list;
	char *text;            /* as given */
	struct excluder alone; /* the pattern alone, without its '!' */
	bool matched;
};

int part_add(struct part *p, enum part_list list, const char *pattern, char *err, size_t errlen)
{
	struct excluder *x = list == PART_ONLY ? &p->only : &p->skip;
	if (exclude_add(x, pattern, err, errlen) < 0)
		return -1;
	p->patterns = xreallocarray(p->patterns, p->n + 1, sizeof *p->patterns);
	struct part_pattern *pp = &p->patterns[p->n++];
	*pp = (struct part_pattern){.list = list, .text = xstrdup(pattern)};
	/* What a '!' pattern matches is the pattern after the '!'. */
	const char *plain = pattern + strspn(pattern, " \t\n\v\f\r");
	if (*plain == '!')
		plain++;
	if (exclude_add(&pp->alone, plain, err, errlen) < 0)
		return -1;
	p->unmatched++;
	return 0;
}

void part_note(struct part *p, const char *path, size_t len)
{
	/* The parents were noted before, so only the path itself needs matching. */
	static const bool parent_unmatched[1] = {false};
	for (size_t i = 0; i < p->n && p->unmatched > 0; i++) {
		struct part_pattern *pp = &p->patterns[i];
		if (!pp->matched && exclude_match(&pp->alone, path, len, parent_unmatched, NULL)) {
			pp->matched = true;
			p->unmatched--;
		}
	}
}

const char *part_unmatched(const struct part *p, const char **option)
{
	for (size_t i = 0; i < p->n; i++) {
		if (!p->patterns[i].matched) {
			*option = p->patterns[i].list == PART_ONLY ? "--only" : "--skip";
			return p->patterns[i].text;
		}
	}
	return NULL;
}

void part_free(struct part *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->patterns[i].text);
		exclude_free(&p->patterns[i].alone);
	}
	free(p->patterns);
	exclude_free(&p->only);
	exclude_free(&p->skip);
	*p = (struct part){0};
}
