#include "path.h"
#include "tap.h"

#include <stdlib.h>

static void abs_is(const char *in, const char *want)
{
	char *got = path_clean_abs(in);
	is_str(got, want, "clean /%s", in);
	free(got);
}

static void clean_is(const char *in, const char *want)
{
	char out[64];
	size_t n = path_clean(in, strlen(in), out);
	out[n] = '\0';
	is_str(out, want, "clean %s", in);
}

int main(void)
{
	abs_is("/", "/");
	abs_is("", "/");
	abs_is("/app", "/app");
	abs_is("/app/", "/app");
	abs_is("//app//src/./x/", "/app/src/x");
	abs_is("/app/../srv", "/srv");
	abs_is("/../../x", "/x");
	abs_is("/a/b/../../..", "/");
	abs_is("/a/..b/.c", "/a/..b/.c");
	abs_is("app/x", "/app/x");

	/* Go's path.Clean, relative paths keep their leading "..". */
	clean_is("", ".");
	clean_is(".", ".");
	clean_is("a/./b/", "a/b");
	clean_is("../a/../../b", "../../b");
	clean_is("a/..", ".");
	clean_is("/..", "/");

	ok(path_has_dotdot("a/../b"), "a/../b has ..");
	ok(path_has_dotdot(".."), ".. has ..");
	ok(!path_has_dotdot("a/..b/c.."), "a/..b/c.. has none");
	ok(!path_has_dotdot("/"), "/ has none");
	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}
