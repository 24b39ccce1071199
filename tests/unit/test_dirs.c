#include "dirs.h"
#include "alloc.h"
#include "tap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void default_is(const char *xdg, const char *home, const char *want)
{
	if (xdg)
		setenv("XDG_CACHE_HOME", xdg, 1);
	else
		unsetenv("XDG_CACHE_HOME");
	if (home)
		setenv("HOME", home, 1);
	else
		unsetenv("HOME");
	char *got = cache_dir_default();
	is_str(got, want, "XDG_CACHE_HOME=%s HOME=%s", xdg ? xdg : "(unset)",
	       home ? home : "(unset)");
	free(got);
}

int main(void)
{
	char tmpl[] = "/tmp/test_dirs.XXXXXX";
	const char *t = mkdtemp(tmpl);
	ok(t != NULL, "a temporary directory");
	char *deep = xasprintf("%s/a/b/c", t), *file = xasprintf("%s/x/y/f", t);
	is_int(mkdir_p(deep, 0700), 0, "mkdir_p a/b/c");
	ok(is_dir(deep), "a/b/c is a directory");
	is_int(mkdir_p(deep, 0700), 0, "mkdir_p again: already there");
	is_int(mkdir_parents(file, 0755), 0, "mkdir_parents x/y/f");
	char *xy = xasprintf("%s/x/y", t), *f = xasprintf("%s/x/y/f", t);
	ok(is_dir(xy), "x/y is a directory");
	ok(access(f, F_OK) != 0, "f itself is not made");
	FILE *fp = fopen(f, "w");
	fclose(fp);
	char *under = xasprintf("%s/x/y/f/g/h", t);
	ok(mkdir_parents(under, 0755) < 0 && errno == ENOTDIR, "under a file: ENOTDIR");
	is_int(mkdir_parents("f", 0755), 0, "a bare name: nothing to make");
	default_is("/xdg", "/home/u", "/xdg/ocinoco");
	default_is("rel", "/home/u", "/home/u/.cache/ocinoco");
	default_is(NULL, "/home/u", "/home/u/.cache/ocinoco");
	default_is(NULL, "", NULL);
	default_is(NULL, NULL, NULL);
	char *rm = xasprintf("rm -rf '%s'", t);
	ok(system(rm) == 0, "cleaned up");
	free(rm), free(deep), free(file), free(xy), free(f), free(under);
	return done_testing();
}
