/* How long a run may take where it waits on others (a registry, a credential helper), for
 * every program alike, from the environment:
 *   OCINOCO_TIMEOUT   seconds a request may make no progress; also the start of each request's
 *                     deadline, and how long a credential helper may take (default 60)
 *   OCINOCO_MIN_RATE  bytes a second a request must average once its first OCINOCO_TIMEOUT
 *                     seconds are over: its deadline is OCINOCO_TIMEOUT + bytes / rate
 *                     (default 10240)
 *   OCINOCO_MAX_WAIT  seconds one run may spend in all waiting before retries (back-off and
 *                     Retry-After added up; default 120)
 * A malformed value is a usage error (exit 2) the first time time_limits() is called. */
#ifndef OCINOCO_TIME_LIMITS_H
#define OCINOCO_TIME_LIMITS_H

#include <stdint.h>

struct time_limits {
	long timeout;      /* seconds, 1..3600 */
	uint64_t min_rate; /* bytes a second, >= 1 */
	long max_wait;     /* seconds, 0..86400 */
};

const struct time_limits *time_limits(void);

#endif
