/* The small helpers every program uses, one concern per file: allocation (alloc.h), byte
 * buffers (buf.h), whole reads and writes (fdio.h), numbers from text (number.h), atomic
 * output files (atomic_file.h), exit codes and usage errors (errors.h). */
#ifndef OCINOCO_UTIL_H
#define OCINOCO_UTIL_H

#include "alloc.h"
#include "atomic_file.h"
#include "buf.h"
#include "errors.h"
#include "fdio.h"
#include "number.h"

#endif
