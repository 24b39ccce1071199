/* The version of ocinoco, one for the whole tree: the top-level VERSION file, which the Makefile
 * passes as -DOCINOCO_VERSION="...". */
#ifndef OCINOCO_VERSION_H
#define OCINOCO_VERSION_H

#include "util.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef OCINOCO_VERSION
#error "OCINOCO_VERSION is defined by the Makefile, from the file VERSION"
#endif

/* What the registry sees in User-Agent. */
#define OCINOCO_USER_AGENT "ocinoco/" OCINOCO_VERSION

/* --version: "PROGRAM VERSION" on stdout, then exit 0 (1 if stdout cannot take it). */
static inline _Noreturn void version_exit(const char *program)
{
	if (printf("%s %s\n", program, OCINOCO_VERSION) < 0 || fflush(stdout) != 0)
		err(EXIT_FAIL, "stdout");
	exit(EXIT_OK);
}

#endif
