/* What every fuzz target shares: libFuzzer's entry point, an assertion that reports and aborts
 * (libFuzzer saves the input that made it fail), and a reader that splits the input into
 * fields. */
#ifndef OCINOCO_FUZZ_H
#define OCINOCO_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: assertion failed: %s: ", __FILE__, __LINE__,       \
			        #cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input, consumed from the front. */
struct fuzz_input {
	const char *p;
	size_t n;
};

static inline uint8_t fuzz_byte(struct fuzz_input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return (uint8_t)*in->p++;
}

/* The next field: the bytes up to sep (or the end; sep consumed), as a new NUL-terminated
 * string (an embedded NUL ends it early, as it would in any C string). */
static inline char *fuzz_field(struct fuzz_input *in, char sep)
{
	const char *end = memchr(in->p, sep, in->n);
	size_t len = end ? (size_t)(end - in->p) : in->n;
	char *s = malloc(len + 1);
	if (s == NULL)
		abort();
	memcpy(s, in->p, len);
	s[len] = '\0';
	in->p += len;
	in->n -= len;
	if (end) {
		in->p++;
		in->n--;
	}
	return s;
}

/* Whether any window of at least `window` bytes of secret occurs in text: a secret leaks
 * even when only a piece of it is shown. */
static inline bool fuzz_leaks(const char *text, const char *secret, size_t window)
{
	size_t n = strlen(secret);
	if (n < window)
		return n > 0 && strstr(text, secret) != NULL;
	for (size_t i = 0; i + window <= n; i++)
		if (memmem(text, strlen(text), secret + i, window))
			return true;
	return false;
}

#endif
