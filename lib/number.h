/* Numbers from text. */
#ifndef OCINOCO_NUMBER_H
#define OCINOCO_NUMBER_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal unsigned integer, whole string, <= max; false on any junk. */
bool parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
