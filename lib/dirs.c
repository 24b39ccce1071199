#include "dirs.h"
#include "alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir of the first upto characters of p, and of each of their '/'-separated prefixes first. */
static int make_prefixes(const char *p, size_t upto, mode_t mode)
{
	char *s = xstrdup(p);
	int r = 0;
	for (size_t i = 1; i <= upto && r == 0; i++) {
		if (i < upto && s[i] != '/')
			continue;
		char c = s[i];
		s[i] = '\0';
		if (mkdir(s, mode) < 0 && errno != EEXIST)
			r = -1;
		s[i] = c;
	}
	int saved = errno;
	free(s);
	errno = saved;
	return r;
}

int mkdir_p(const char *dir, mode_t mode)
{
	return make_prefixes(dir, strlen(dir), mode);
}

int mkdir_parents(const char *path, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	return slash == NULL || slash == path ? 0
	                                      : make_prefixes(path, (size_t)(slash - path), mode);
}

char *cache_dir_default(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/ocinoco", xdg);
	if (home != NULL && home[0] != '\0')
		return xasprintf("%s/.cache/ocinoco", home);
	return NULL;
}
