/* The part of the tree one run writes, for a build of several layers: --only PATTERN (the
 * entries the patterns select) and --skip PATTERN (the entries they do not), both lists in
 * .dockerignore syntax relative to DIR (exclude.h: a pattern that selects a directory selects
 * everything under it, a '!' pattern takes back what an earlier one selected). An entry is in
 * the part when the --only patterns select it (or there are none) and the --skip patterns do
 * not. So `--only P` and `--skip P` split the archive in two, every entry in exactly one.
 *
 * Each pattern must match some entry of the whole archive (what --exclude leaves): a pattern
 * that matches nothing is a mistake, reported by part_unmatched(). */
#ifndef OCI_TAR_PART_H
#define OCI_TAR_PART_H

#include "exclude.h"

#include <stdbool.h>
#include <stddef.h>

enum part_list { PART_ONLY, PART_SKIP };

struct part_pattern;

struct part {
	struct excluder only, skip;    /* n == 0: that option was not given */
	struct part_pattern *patterns; /* each pattern alone, to tell whether it matched */
	size_t n, unmatched;
};

/* Adds pattern to a list, as exclude_add() reads it. 0, or -1 with the reason in err. */
int part_add(struct part *p, enum part_list list, const char *pattern, char *err, size_t errlen);

/* Notes that the whole archive has path (relative to DIR, no trailing '/'): the patterns that
 * match it have matched something. Its parent directories were noted before it. */
void part_note(struct part *p, const char *path, size_t len);

/* The first pattern that has matched nothing yet, as given, and its option ("--only" or
 * "--skip"); NULL when every one has matched. */
const char *part_unmatched(const struct part *p, const char **option);

void part_free(struct part *p);

#endif
