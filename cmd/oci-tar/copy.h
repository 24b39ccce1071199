/* A regular file's bytes into the tar stream: exactly the size its header announced, then the
 * padding to a whole block. A file that shrinks or grows while it is read is an error, never
 * padded or cut. The holes of a sparse file are not read where the file system can tell where
 * they are (SEEK_DATA/SEEK_HOLE); where it cannot (FUSE, for one), they are read like data,
 * which gives the same bytes. */
#ifndef OCI_TAR_COPY_H
#define OCI_TAR_COPY_H

#include "out.h"

#include <sys/stat.h>

/* Why copy_file() stopped: a read (or seek, or fstat) failed with errno err, or the file no
 * longer has the size the header announced. */
enum copy_failure { COPY_ERR_READ, COPY_ERR_SHRANK, COPY_ERR_GREW };

struct copy_error {
	enum copy_failure kind;
	int err; /* errno, for COPY_ERR_READ */
};

/* Copies st->st_size bytes of fd (open for reading at offset 0; st is its fstat) to o, then
 * makes sure the file ends there, then pads. 0, or -1 with e filled in (o then holds part of the
 * file: the archive cannot be completed). */
int copy_file(struct tar_out *o, int fd, const struct stat *st, struct copy_error *e);

#endif
