#include "time_limits.h"
#include "util.h"

#include <err.h>
#include <stdlib.h>

/* NAME's value, default DFLT (also for an empty value or 0 when zero_is_default). */
static uint64_t from_env(const char *name, uint64_t max, uint64_t dflt, bool zero_is_default,
                         const char *what)
{
	const char *v = getenv(name);
	uint64_t n = dflt;
	if (v && *v && !parse_u64(v, max, &n))
		errx(EXIT_USAGE, "%s=%s: not a number of %s (at most %llu)", name, v, what,
		     (unsigned long long)max);
	return n == 0 && zero_is_default ? dflt : n;
}

const struct time_limits *time_limits(void)
{
	static struct time_limits l;
	if (l.timeout == 0) {
		l.timeout = (long)from_env("OCINOCO_TIMEOUT", 3600, 60, true, "seconds");
		l.min_rate = from_env("OCINOCO_MIN_RATE", UINT64_C(1) << 40, 10240, true,
		                      "bytes a second");
		l.max_wait = (long)from_env("OCINOCO_MAX_WAIT", 86400, 120, false, "seconds");
	}
	return &l;
}
