/* See progress.h. One line for the whole program, whatever the number of transfers running. */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_AFTER  1.0  /* seconds of transfer before the line appears */
#define PROGRESS_REDRAW 0.25 /* seconds between two redraws */

static struct {
	bool on, started, drawn;
	const char *prog;
	uint64_t bytes;
	double first, last_draw; /* when the first byte went, when the line was last drawn */
} p;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 1023 B, 1.0 KiB, 12.5 MiB, 3.2 GiB */
static int human(char *out, size_t n, double v)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof unit / sizeof *unit) {
		v /= 1024;
		u++;
	}
	return u == 0 ? snprintf(out, n, "%.0f %s", v, unit[u])
	              : snprintf(out, n, "%.1f %s", v, unit[u]);
}

size_t progress_format(char *out, size_t n, const char *prog, uint64_t bytes, double secs)
{
	char b[32], r[32] = "";
	human(b, sizeof b, (double)bytes);
	if (secs > 0)
		human(r, sizeof r, (double)bytes / secs);
	int len = secs > 0 ? snprintf(out, n, "%s: %s sent, %s/s", prog, b, r)
	                   : snprintf(out, n, "%s: %s sent", prog, b);
	return len < 0 ? 0 : (size_t)len < n ? (size_t)len : n - 1;
}

static void draw(double t)
{
	char line[128];
	progress_format(line, sizeof line, p.prog, p.bytes, t - p.first);
	/* back to the start of the line, the line, erase what a longer one left */
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p.drawn = true;
	p.last_draw = t;
}

/* At exit: the final numbers, and the newline that gives the terminal its line back. */
static void progress_end(void)
{
	if (!p.drawn)
		return;
	draw(now());
	fputc('\n', stderr);
	fflush(stderr);
}

void progress_init(const char *prog, bool quiet)
{
	p.on = !quiet && isatty(STDERR_FILENO);
	p.prog = prog;
	if (p.on)
		atexit(progress_end);
}

void progress_count(uint64_t bytes)
{
	if (!p.on)
		return;
	double t = now();
	if (bytes > 0 && !p.started) {
		p.started = true;
		p.first = t;
	}
	p.bytes += bytes;
	if (!p.started || t - p.first < PROGRESS_AFTER)
		return;
	if (!p.drawn || t - p.last_draw >= PROGRESS_REDRAW)
		draw(t);
}
