/* Plain TAP for the unit tests: each check prints "ok N - name" or "not ok N - name". */
#ifndef OCINOCO_TAP_H
#define OCINOCO_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

#define ok(cond, ...)                                                                              \
	do {                                                                                       \
		int tap_ok_ = (cond) ? 1 : 0;                                                      \
		printf("%sok %d - ", tap_ok_ ? "" : "not ", ++tap_count);                          \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		if (!tap_ok_) {                                                                    \
			tap_failed++;                                                              \
			printf("#   at %s:%d\n", __FILE__, __LINE__);                              \
		}                                                                                  \
	} while (0)

#define is_str(got, want, ...)                                                                     \
	do {                                                                                       \
		const char *tap_g_ = (got), *tap_w_ = (want);                                      \
		int tap_eq_ = tap_g_ && tap_w_ ? strcmp(tap_g_, tap_w_) == 0 : tap_g_ == tap_w_;   \
		ok(tap_eq_, __VA_ARGS__);                                                          \
		if (!tap_eq_)                                                                      \
			printf("#   got:  \"%s\"\n#   want: \"%s\"\n", tap_g_ ? tap_g_ : "(null)", \
			       tap_w_ ? tap_w_ : "(null)");                                        \
	} while (0)

#define is_int(got, want, ...)                                                                     \
	do {                                                                                       \
		intmax_t tap_g_ = (intmax_t)(got), tap_w_ = (intmax_t)(want);                      \
		ok(tap_g_ == tap_w_, __VA_ARGS__);                                                 \
		if (tap_g_ != tap_w_)                                                              \
			printf("#   got:  %jd\n#   want: %jd\n", tap_g_, tap_w_);                  \
	} while (0)

#define is_mem(got, want, n, ...) ok(memcmp((got), (want), (n)) == 0, __VA_ARGS__)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
