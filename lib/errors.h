/* Exit codes, usage errors and the reasons checks give. */
#ifndef OCINOCO_ERRORS_H
#define OCINOCO_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

/* Exit codes of every program (documented in each man page). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* The reason a check failed, written into the caller's err buffer (errlen bytes); returns
 * false, so that a check ends with `return fail_reason(err, errlen, "...", ...)`. */
bool fail_reason(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Usage error: "prog: msg" then "usage: ..." hint, exit 2. */
void usage_error(const char *usage, const char *fmt, ...)
        __attribute__((format(printf, 2, 3), noreturn));

#endif
