#include "path.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

size_t path_clean(const char *p, size_t n, char *out)
{
	if (n == 0) {
		out[0] = '.';
		return 1;
	}
	bool rooted = p[0] == '/';
	size_t r = 0, w = 0, dotdot = 0;
	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			while (r < n && p[r] != '/')
				out[w++] = p[r++];
		}
	}
	if (w == 0)
		out[w++] = '.';
	return w;
}

char *path_clean_abs(const char *p)
{
	size_t n = strlen(p);
	char *in = xmalloc(n + 2), *out = xmalloc(n + 3);
	in[0] = '/';
	memcpy(in + 1, p, n);
	size_t len = path_clean(in, n + 1, out);
	out[len] = '\0';
	free(in);
	return out;
}

bool path_has_dotdot(const char *p)
{
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		p += strspn(p, "/");
	}
	return false;
}
