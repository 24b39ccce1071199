/* The progress line of a long transfer: "PROG: 12.5 MiB sent, 4.1 MiB/s" on stderr, redrawn in
 * place (carriage return) a few times a second once bytes have been flowing for more than a
 * second, and ended with a newline when the program exits. Only when stderr is a terminal and
 * the program was not asked to be quiet: never a byte of it in a pipe or a log file. The
 * transport counts the bytes it sends (progress_count); everything else is here. */
#ifndef OCINOCO_PROGRESS_H
#define OCINOCO_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Turns the line on for PROG when stderr is a terminal and not quiet; otherwise every other
 * call is a no-op. */
void progress_init(const char *prog, bool quiet);
/* BYTES more sent (0: just a chance to redraw, while a transfer waits). */
void progress_count(uint64_t bytes);
/* The line for BYTES sent in SECS seconds (no rate when SECS <= 0), into out[n]; its length. */
size_t progress_format(char *out, size_t n, const char *prog, uint64_t bytes, double secs);

#endif
