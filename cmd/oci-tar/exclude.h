/* Exclude patterns with the semantics of .dockerignore as docker build (BuildKit) applies them:
 * moby/patternmatcher's matching (MatchesUsingParentResults), moby/patternmatcher/ignorefile's
 * line cleaning, and fsutil's rule for walking into an excluded directory.
 *
 * Patterns are relative to the directory being archived, '/'-separated. '*' and '?' do not
 * cross '/'; '**' matches any number of directories; "[...]" is a character class; '\' escapes
 * the next character. A path is excluded when the last pattern that matches it (or one of its
 * parent directories) is not a '!' exception. */
#ifndef OCI_TAR_EXCLUDE_H
#define OCI_TAR_EXCLUDE_H

#include <stdbool.h>
#include <stddef.h>

struct exclude_pattern;

struct excluder {
	struct exclude_pattern *patterns;
	size_t n, cap;
	/* Some pattern is a '!' exception. */
	bool exceptions;
	/* Some exception has a wildcard (other than a trailing "/" star or "/" star-star): then
	 * any excluded directory may hold something it re-includes, so every one is walked. */
	bool wild_exceptions;
	/* Matching state, sized for the longest pattern. */
	unsigned char *scratch;
	size_t scratch_len;
};

/* Adds one pattern as it would appear on a .dockerignore line (no comment handling): trimmed,
 * '!' for an exception, cleaned like a path ("./a//b/" is "a/b"), a leading '/' dropped.
 * 0, or -1 with the reason in err. */
int exclude_add(struct excluder *x, const char *pattern, char *err, size_t errlen);

/* Adds every pattern of a .dockerignore text: lines starting with '#' are comments, blank lines
 * are skipped, a UTF-8 byte-order mark is ignored. 0, or -1 with "line N: reason" in err. */
int exclude_add_text(struct excluder *x, const char *text, size_t len, char *err, size_t errlen);

/* Whether path (relative, no leading or trailing '/', len bytes) is excluded. parent holds the
 * per-pattern results of its parent directory (NULL for a top-level path, or when unknown: then
 * the parent directories are matched here); the results for this path are written to info
 * (x->n entries) when info is not NULL, for its children. */
bool exclude_match(const struct excluder *x, const char *path, size_t len, const bool *parent,
                   bool *info);

/* Whether an excluded directory must still be walked because an exception could re-include
 * something under it. */
bool exclude_descend(const struct excluder *x, const char *dir, size_t len);

/* Pattern i as cleaned (without its '!'), and whether it is an exception: for tests. */
const char *exclude_pattern_text(const struct excluder *x, size_t i, bool *exception);

void exclude_free(struct excluder *x);

#endif
