/* Paths inside images and archives: '/'-separated, cleaned lexically the way Go's path.Clean
 * does (docker build, BuildKit and the image-spec's tools all use it), never against the file
 * system. */
#ifndef OCINOCO_PATH_H
#define OCINOCO_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Go's path.Clean of the n bytes at p: duplicate slashes, "." and ".." (against what precedes
 * it) removed lexically; "" is ".". out has room for n + 1 bytes (the result is never longer,
 * "." for the empty path aside); no NUL is written. Returns the length written. */
size_t path_clean(const char *p, size_t n, char *out);
/* The cleaned absolute form of p (path.Clean("/" + p)), NUL-terminated; caller frees. */
char *path_clean_abs(const char *p);
/* Whether some '/'-separated component of p is "..". */
bool path_has_dotdot(const char *p);

#endif
