/* Allocation that cannot fail. */
#ifndef OCINOCO_ALLOC_H
#define OCINOCO_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Allocation failure is not a condition any caller can handle: these exit(1) with a message. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Wipes a secret string (a password, a token, a header holding one) and frees it; NULL is
 * nothing to do. */
void free_secret(char *s);

#endif
