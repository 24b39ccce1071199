#include "number.h"

#include <errno.h>
#include <stdlib.h>

bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}
