#include "errors.h"

#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

bool fail_reason(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

void usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s", usage);
	exit(EXIT_USAGE);
}
