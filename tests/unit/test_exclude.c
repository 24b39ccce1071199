/* oci-tar's exclude patterns against the cases of moby/patternmatcher's own tests (its
 * TestMatches, multi-pattern and filepath.Match tables, ignorefile.ReadAll), plus fsutil's rule
 * for walking into an excluded directory. */
#include "exclude.h"
#include "tap.h"

#include <stdlib.h>

static bool build(struct excluder *x, const char *const *patterns, char *err, size_t errlen)
{
	*x = (struct excluder){0};
	for (size_t i = 0; patterns[i]; i++)
		if (exclude_add(x, patterns[i], err, errlen) < 0)
			return false;
	return true;
}

/* As a walk sees path: each parent directory matched in turn, its results handed down. */
static bool walk_match(const struct excluder *x, const char *path)
{
	bool *parent = NULL, *info = calloc(x->n + 1, sizeof *info);
	const char *slash;
	for (const char *p = path; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
		exclude_match(x, path, (size_t)(slash - path), parent, info);
		if (parent == NULL)
			parent = calloc(x->n + 1, sizeof *parent);
		memcpy(parent, info, x->n * sizeof *info);
	}
	bool m = exclude_match(x, path, strlen(path), parent, info);
	free(parent);
	free(info);
	return m;
}

/* Both ways of asking must agree: with the parents' results, and with none (the parents are
 * then matched in the call). */
static void check(const char *const *patterns, const char *path, bool want)
{
	struct excluder x;
	char err[300] = "";
	if (!build(&x, patterns, err, sizeof err)) {
		ok(0, "patterns %s... build: %s", patterns[0], err);
		return;
	}
	bool walked = walk_match(&x, path);
	bool direct = exclude_match(&x, path, strlen(path), NULL, NULL);
	ok(walked == want && direct == want, "%s%s%s %s \"%s\"", patterns[0],
	   patterns[1] ? ", " : "", patterns[1] ? patterns[1] : "",
	   want ? "matches" : "does not match", path);
	if (walked != direct)
		printf("#   walked %d, direct %d\n", walked, direct);
	exclude_free(&x);
}

static void check1(const char *pattern, const char *path, bool want)
{
	const char *p[] = {pattern, NULL};
	check(p, path, want);
}

/* patternmatcher's TestMatches table (exact and inexact both count as a match here: a walk
 * always knows the parent directories). */
static void test_moby_table(void)
{
	static const struct {
		const char *pattern, *text;
		bool match;
	} t[] = {
	        {"**", "file", 1},
	        {"**", "file/", 1},
	        {"**/", "file", 1},
	        {"**/", "file/", 1},
	        {"**", "dir/file", 1},
	        {"**/", "dir/file", 1},
	        {"**", "dir/file/", 1},
	        {"**/", "dir/file/", 1},
	        {"**/**", "dir/file", 1},
	        {"**/**", "dir/file/", 1},
	        {"dir/**", "dir/file", 1},
	        {"dir/**", "dir/file/", 1},
	        {"dir/**", "dir/dir2/file", 1},
	        {"dir/**", "dir/dir2/file/", 1},
	        {"**/dir", "dir", 1},
	        {"**/dir", "dir/file", 1},
	        {"**/dir2/*", "dir/dir2/file", 1},
	        {"**/dir2/*", "dir/dir2/file/", 1},
	        {"**/dir2/**", "dir/dir2/dir3/file", 1},
	        {"**/dir2/**", "dir/dir2/dir3/file/", 1},
	        {"**file", "file", 1},
	        {"**file", "dir/file", 1},
	        {"**/file", "dir/file", 1},
	        {"**file", "dir/dir/file", 1},
	        {"**/file", "dir/dir/file", 1},
	        {"**/file*", "dir/dir/file", 1},
	        {"**/file*", "dir/dir/file.txt", 1},
	        {"**/file*txt", "dir/dir/file.txt", 1},
	        {"**/file*.txt", "dir/dir/file.txt", 1},
	        {"**/file*.txt*", "dir/dir/file.txt", 1},
	        {"**/**/*.txt", "dir/dir/file.txt", 1},
	        {"**/**/*.txt2", "dir/dir/file.txt", 0},
	        {"**/*.txt", "file.txt", 1},
	        {"**/**/*.txt", "file.txt", 1},
	        {"a**/*.txt", "a/file.txt", 1},
	        {"a**/*.txt", "a/dir/file.txt", 1},
	        {"a**/*.txt", "a/dir/dir/file.txt", 1},
	        {"a/*.txt", "a/dir/file.txt", 0},
	        {"a/*.txt", "a/file.txt", 1},
	        {"a/*.txt**", "a/file.txt", 1},
	        {"a[b-d]e", "ae", 0},
	        {"a[b-d]e", "ace", 1},
	        {"a[b-d]e", "aae", 0},
	        {"a[^b-d]e", "aze", 1},
	        {".*", ".foo", 1},
	        {".*", "foo", 0},
	        {"abc.def", "abcdef", 0},
	        {"abc.def", "abc.def", 1},
	        {"abc.def", "abcZdef", 0},
	        {"abc?def", "abcZdef", 1},
	        {"abc?def", "abcdef", 0},
	        {"**/foo/bar", "foo/bar", 1},
	        {"**/foo/bar", "dir/foo/bar", 1},
	        {"**/foo/bar", "dir/dir2/foo/bar", 1},
	        {"abc/**", "abc", 0},
	        {"abc/**", "abc/def", 1},
	        {"abc/**", "abc/def/ghi", 1},
	        {"**/.foo", ".foo", 1},
	        {"**/.foo", "bar.foo", 0},
	        {"a(b)c/def", "a(b)c/def", 1},
	        {"a(b)c/def", "a(b)c/xyz", 0},
	        {"a.|)$(}+{bc", "a.|)$(}+{bc", 1},
	        {"dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
	         "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", 1},
	        {"dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", 1},
	        {"a\\\\", "a\\", 1},
	        {"a\\*b", "a*b", 1},
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		check1(t[i].pattern, t[i].text, t[i].match);
}

static void test_multi(void)
{
	const char *a[] = {"**", "!util/docker/web", NULL};
	check(a, "util/docker/web/foo", false);
	const char *b[] = {"**", "!util/docker/web", "util/docker/web/foo", NULL};
	check(b, "util/docker/web/foo", true);
	const char *c[] = {"**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", NULL};
	check(c, "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false);
	const char *d[] = {"**", "!dist/*.whl", NULL};
	check(d, "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false);
	const char *e[] = {"docs", "!docs/README.md", NULL};
	check(e, "docs/README.md", false);
	check(e, "docs/other.md", true);
	const char *f[] = {"docs/*", "!docs/README.md", NULL};
	check(f, "docs/README.md", false);
	const char *g[] = {"*.go", "!fileutils.go", NULL};
	check(g, "fileutils.go", false);
	check(g, "main.go", true);
	const char *h[] = {"!fileutils.go", "*.go", NULL};
	check(h, "fileutils.go", true);
	/* Later rules win, either way round. */
	const char *i[] = {"*.md", "!README*.md", "README-secret.md", NULL};
	check(i, "README.md", false);
	check(i, "README-secret.md", true);
	check(i, "CHANGES.md", true);
	/* '*' stays in its directory; "**" does not. */
	const char *j[] = {"*.log", NULL};
	check(j, "a.log", true);
	check(j, "sub/a.log", false);
	const char *k[] = {"**/*.log", NULL};
	check(k, "sub/deeper/a.log", true);
	/* A directory pattern excludes everything under it. */
	const char *l[] = {"node_modules", NULL};
	check(l, "node_modules/x/y.js", true);
	check(l, "node_modulesx", false);
	check(l, "src/node_modules", false);
}

/* The filepath.Match table patternmatcher borrows: bad syntax is refused at add time. */
static void test_match_syntax(void)
{
	static const struct {
		const char *pattern, *s;
		int match; /* -1: bad pattern */
	} t[] = {
	        {"abc", "abc", 1},
	        {"*", "abc", 1},
	        {"*c", "abc", 1},
	        {"a*", "a", 1},
	        {"a*", "abc", 1},
	        {"a*", "ab/c", 1},
	        {"a*/b", "abc/b", 1},
	        {"a*/b", "a/c/b", 0},
	        {"a*b*c*d*e*/f", "axbxcxdxe/f", 1},
	        {"a*b*c*d*e*/f", "axbxcxdxexxx/f", 1},
	        {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", 0},
	        {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", 0},
	        {"a*b?c*x", "abxbbxdbxebxczzx", 1},
	        {"a*b?c*x", "abxbbxdbxebxczzy", 0},
	        {"ab[c]", "abc", 1},
	        {"ab[b-d]", "abc", 1},
	        {"ab[e-g]", "abc", 0},
	        {"ab[^c]", "abc", 0},
	        {"ab[^b-d]", "abc", 0},
	        {"ab[^e-g]", "abc", 1},
	        {"a\\*b", "a*b", 1},
	        {"a\\*b", "ab", 0},
	        {"a?b",
	         "a\xe2\x98\xba"
	         "b",
	         1},
	        {"a[^a]b",
	         "a\xe2\x98\xba"
	         "b",
	         1},
	        {"a???b",
	         "a\xe2\x98\xba"
	         "b",
	         0},
	        {"a[^a][^a][^a]b",
	         "a\xe2\x98\xba"
	         "b",
	         0},
	        {"[a-\xce\xb6]*", "\xce\xb1", 1},
	        {"*[a-\xce\xb6]", "A", 0},
	        {"a?b", "a/b", 0},
	        {"a*b", "a/b", 0},
	        {"[\\]a]", "]", 1},
	        {"[\\-]", "-", 1},
	        {"[x\\-]", "x", 1},
	        {"[x\\-]", "-", 1},
	        {"[x\\-]", "z", 0},
	        {"[\\-x]", "x", 1},
	        {"[\\-x]", "-", 1},
	        {"[\\-x]", "a", 0},
	        {"[]a]", "]", -1},
	        {"[-]", "-", -1},
	        {"[x-]", "x", -1},
	        {"[-x]", "x", -1},
	        {"\\", "a", -1},
	        {"[a-b-c]", "a", -1},
	        {"[", "a", -1},
	        {"[^", "a", -1},
	        {"[^bc", "a", -1},
	        {"a[", "a", -1},
	        {"a[", "ab", -1},
	        {"*x", "xxx", 1},
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		if (t[i].match >= 0) {
			check1(t[i].pattern, t[i].s, t[i].match);
			continue;
		}
		struct excluder x = {0};
		char err[300] = "";
		ok(exclude_add(&x, t[i].pattern, err, sizeof err) < 0 &&
		           strstr(err, "syntax error"),
		   "bad pattern %s is refused: %s", t[i].pattern, err);
		exclude_free(&x);
	}
	struct excluder x = {0};
	char err[300] = "";
	ok(exclude_add(&x, "!", err, sizeof err) < 0, "a lone ! is refused");
	is_str(err, "illegal exclusion pattern: \"!\"", "  with patternmatcher's message");
	exclude_free(&x);
}

static void patterns_are(const struct excluder *x, const char *const *want, const char *what)
{
	size_t n = 0;
	while (want[n])
		n++;
	bool same = x->n == n;
	for (size_t i = 0; same && i < n; i++) {
		bool exc;
		const char *t = exclude_pattern_text(x, i, &exc);
		char got[300];
		snprintf(got, sizeof got, "%s%s", exc ? "!" : "", t);
		same = strcmp(got, want[i]) == 0;
		if (!same)
			printf("#   pattern %zu: got \"%s\", want \"%s\"\n", i, got, want[i]);
	}
	ok(same, "%s", what);
}

static void test_ignore_file(void)
{
	/* ignorefile.ReadAll's test, less its "!" lines (patternmatcher.New refuses those). */
	const char text[] = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n"
	                    "! /inverted/abs/path\n";
	struct excluder x = {0};
	char err[300] = "";
	ok(exclude_add_text(&x, text, strlen(text), err, sizeof err) == 0,
	   "ReadAll's sample reads");
	const char *want[] = {"test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path",
	                      NULL};
	patterns_are(&x, want,
	             "  leading '/' dropped, blank lines and comments skipped, '! /x' is '!x'");
	exclude_free(&x);

	const char bad[] = "ok\n\n!\n";
	ok(exclude_add_text(&x, bad, strlen(bad), err, sizeof err) < 0, "a lone ! line is refused");
	is_str(err, "line 3: illegal exclusion pattern: \"!\"", "  naming its line");
	exclude_free(&x);

	const char crlf[] =
	        "\xef\xbb\xbf# bom and comment\r\n  ./dist//x/  \r\n\t!./dist/x/keep \r\n"
	        " # not a comment: the '#' is not first\n!**/*.go\nsrc/../build\n";
	ok(exclude_add_text(&x, crlf, strlen(crlf), err, sizeof err) == 0,
	   "BOM, CRLF, blanks read");
	const char *want2[] = {"dist/x",   "!dist/x/keep", "# not a comment: the '#' is not first",
	                       "!**/*.go", "build",        NULL};
	patterns_are(&x, want2, "  trimmed, ./ and // and trailing / and .. cleaned");
	exclude_free(&x);
}

static void descend_is(const char *const *patterns, const char *dir, bool want)
{
	struct excluder x;
	char err[300];
	build(&x, patterns, err, sizeof err);
	ok(exclude_descend(&x, dir, strlen(dir)) == want, "with %s, %s: %s",
	   patterns[1] ? patterns[1] : patterns[0], dir, want ? "walked into" : "skipped");
	exclude_free(&x);
}

static void test_descend(void)
{
	const char *none[] = {"node_modules", NULL};
	descend_is(none, "node_modules", false);
	const char *deep[] = {"node_modules", "!node_modules/pkg/keep.js", NULL};
	descend_is(deep, "node_modules", true);
	descend_is(deep, "node_modules/pkg", true);
	descend_is(deep, "node_modules/other", false);
	descend_is(deep, "node_mod", false);
	const char *glob[] = {"dir", "!dir/sub/**", NULL};
	descend_is(glob, "dir", true);
	descend_is(glob, "dir/sub", true);
	descend_is(glob, "dirx", false);
	const char *star[] = {"dir", "!dir/sub/*", NULL};
	descend_is(star, "dir/sub", true);
	descend_is(star, "dir/other", false);
	const char *wild[] = {"vendor", "!**/*.go", NULL};
	descend_is(wild, "vendor", true);
	descend_is(wild, "anything/at/all", true);
	const char *wild2[] = {"a", "!a/*/keep", NULL};
	descend_is(wild2, "b", true);
}

/* Re-inclusion inside an excluded directory, as a walk sees it. */
static void test_reinclude(void)
{
	const char *p[] = {"node_modules", "!node_modules/pkg/keep.js", NULL};
	check(p, "node_modules", true);
	check(p, "node_modules/pkg", true);
	check(p, "node_modules/pkg/keep.js", false);
	check(p, "node_modules/pkg/other.js", true);
	const char *q[] = {"**/*.map", "!vendor/**", "vendor/**/*.map", NULL};
	check(q, "src/a.js.map", true);
	check(q, "vendor/lib/a.js", false);
	check(q, "vendor/lib/a.js.map", true);
	const char *r[] = {"*", "!dist", NULL};
	check(r, "README.md", true);
	check(r, "dist", false);
	check(r, "dist/app.js", false);
}

int main(void)
{
	test_moby_table();
	test_multi();
	test_match_syntax();
	test_ignore_file();
	test_descend();
	test_reinclude();
	return done_testing();
}
