/* The .dockerignore matcher. The input is "PATTERNS\0PATH\0PATH...".
 *   - exclude_add_text on PATTERNS, then each PATH walked from its first component down the
 *     way oci-tar walks (each directory's results passed to its children): when a directory
 *     is excluded and exclude_descend says it need not be walked, nothing under it may be
 *     kept, or oci-tar would lose files docker build keeps;
 *   - patterns made from the first PATH (printable ASCII, no spaces, no "." or ".."
 *     components) must match it as .dockerignore says: the path with its punctuation escaped,
 *     "*" for each component, "** /" and its last component, its first component and "/ **",
 *     and an exception re-including it. */
#include "../../cmd/oci-tar/exclude.h"
#include "fuzz.h"
#include "util.h"

#include <ctype.h>

static bool match(const struct excluder *x, const char *path)
{
	return exclude_match(x, path, strlen(path), NULL, NULL);
}

static void walk(const struct excluder *x, const char *path, size_t len)
{
	bool *info = xcalloc(2 * (x->n + 1), sizeof *info);
	bool *parent = NULL, *cur = info;
	bool pruned = false;
	const char *pruned_at = NULL;
	size_t pruned_len = 0;
	for (size_t end = 0; end <= len; end++) {
		if (end < len && path[end] != '/')
			continue;
		if (end == 0 || path[end - 1] == '/')
			break; /* an empty component: not a path oci-tar would see */
		bool excluded = exclude_match(x, path, end, parent, cur);
		FUZZ_ASSERT(!pruned || excluded,
		            "\"%.*s\" is excluded and not walked, but \"%.*s\" under it is kept",
		            (int)pruned_len, pruned_at, (int)end, path);
		if (excluded && !pruned && !exclude_descend(x, path, end)) {
			pruned = true;
			pruned_at = path;
			pruned_len = end;
		}
		parent = cur;
		cur = cur == info ? info + x->n + 1 : info;
	}
	free(info);
}

static void add(struct excluder *x, const char *pattern)
{
	char err[512];
	FUZZ_ASSERT(exclude_add(x, pattern, err, sizeof err) == 0, "\"%s\": %s", pattern, err);
}

/* The first path made into printable ASCII with no empty, "." or ".." components. */
static char *clean(const char *s)
{
	struct buf b = {0};
	buf_append(&b, "", 0);
	size_t comp = 0;
	for (const char *p = s;; p++) {
		if (*p == '/' || *p == '\0') {
			bool dots = (comp == 1 && b.data[b.len - 1] == '.') ||
			            (comp == 2 && memcmp(b.data + b.len - 2, "..", 2) == 0);
			if (dots)
				b.len -= comp;
			if (comp > 0 && !dots && *p)
				buf_append(&b, "/", 1);
			b.data[b.len] = '\0';
			comp = 0;
			if (*p == '\0')
				break;
			continue;
		}
		char c = (char)(0x21 + (unsigned char)*p % 0x5e);
		if (c == '/')
			c = '_';
		buf_append(&b, &c, 1);
		comp++;
	}
	while (b.len > 0 && b.data[b.len - 1] == '/')
		b.data[--b.len] = '\0';
	return b.data;
}

static char *escaped(const char *s, size_t n)
{
	struct buf b = {0};
	buf_append(&b, "", 0);
	for (size_t i = 0; i < n; i++) {
		if (ispunct((unsigned char)s[i]) && s[i] != '/')
			buf_append(&b, "\\", 1);
		buf_append(&b, s + i, 1);
	}
	return b.data;
}

static void made_patterns(const char *path)
{
	size_t len = strlen(path);
	if (len == 0)
		return;
	const char *last = strrchr(path, '/');
	last = last ? last + 1 : path;
	size_t first_len = strcspn(path, "/");
	bool nested = first_len < len;
	char *child = xasprintf("%s/c", path), *longer = xasprintf("%sz", path);
	char *first = xstrndup(path, first_len);

	struct excluder x = {0};
	char *p = escaped(path, len);
	add(&x, p);
	FUZZ_ASSERT(match(&x, path), "\"%s\" does not match \"%s\"", p, path);
	FUZZ_ASSERT(match(&x, child), "\"%s\" does not match \"%s\"", p, child);
	FUZZ_ASSERT(!match(&x, longer), "\"%s\" matches \"%s\"", p, longer);
	FUZZ_ASSERT(!nested || !match(&x, first), "\"%s\" matches \"%s\"", p, first);
	/* and re-included by its exception */
	char *q = xasprintf("!%s", p);
	add(&x, q);
	FUZZ_ASSERT(!match(&x, path), "\"%s\" then \"%s\" excludes \"%s\"", p, q, path);
	free(q);
	free(p);
	exclude_free(&x);

	struct buf stars = {0};
	buf_append(&stars, "*", 1);
	for (const char *c = path; *c; c++)
		if (*c == '/')
			buf_append(&stars, "/*", 2);
	add(&x, stars.data);
	FUZZ_ASSERT(match(&x, path), "\"%s\" does not match \"%s\"", stars.data, path);
	FUZZ_ASSERT(!nested || !match(&x, first), "\"%s\" matches \"%s\"", stars.data, first);
	buf_free(&stars);
	exclude_free(&x);

	char *e = escaped(last, strlen(last));
	p = xasprintf("**/%s", e);
	add(&x, p);
	FUZZ_ASSERT(match(&x, path), "\"%s\" does not match \"%s\"", p, path);
	q = xasprintf("deeper/%s", path);
	FUZZ_ASSERT(match(&x, q), "\"%s\" does not match \"%s\"", p, q);
	free(q);
	free(p);
	free(e);
	exclude_free(&x);

	e = escaped(first, first_len);
	p = xasprintf("%s/**", e);
	add(&x, p);
	FUZZ_ASSERT(match(&x, path) == nested, "\"%s\" on \"%s\"", p, path);
	FUZZ_ASSERT(match(&x, child), "\"%s\" does not match \"%s\"", p, child);
	free(p);
	free(e);
	exclude_free(&x);

	free(first);
	free(child);
	free(longer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {(const char *)data, size};
	const char *nul = memchr(in.p, '\0', in.n);
	size_t tlen = nul ? (size_t)(nul - in.p) : in.n;
	struct excluder x = {0};
	char err[1024] = "";
	if (exclude_add_text(&x, in.p, tlen, err, sizeof err) < 0)
		FUZZ_ASSERT(strncmp(err, "line ", 5) == 0, "error without its line: %s", err);
	in.p += tlen;
	in.n -= tlen;
	bool firstpath = true;
	fuzz_byte(&in); /* the '\0' after the patterns */
	while (in.n > 0) {
		char *path = fuzz_field(&in, '\0');
		size_t len = strlen(path);
		while (len > 0 && path[len - 1] == '/')
			path[--len] = '\0';
		const char *rel = path + strspn(path, "/");
		walk(&x, rel, strlen(rel));
		if (firstpath) {
			char *c = clean(rel);
			made_patterns(c);
			free(c);
			firstpath = false;
		}
		free(path);
	}
	exclude_free(&x);
	return 0;
}
