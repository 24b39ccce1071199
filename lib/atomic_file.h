/* Outputs that appear whole or not at all. */
#ifndef OCINOCO_ATOMIC_FILE_H
#define OCINOCO_ATOMIC_FILE_H

#include <sys/types.h>

/* Output written to PATH.tmp-XXXXXX next to PATH and renamed over it only on success, so a
 * failed or interrupted run never leaves a half-written PATH. The temporary file is removed on
 * exit and on SIGINT/SIGTERM/SIGHUP/SIGPIPE if not committed. An existing PATH that is not a
 * regular file (/dev/null, a FIFO) is opened and written in place instead. */
struct atomic_file {
	char *path, *tmp;
	int fd;
};
int atomic_open(struct atomic_file *f, const char *path, mode_t mode);
int atomic_commit(struct atomic_file *f); /* fsync-free rename; 0 or -1 with errno */
void atomic_abort(struct atomic_file *f);
/* The n bytes at p as the whole of path (atomic_open, one write, atomic_commit); 0, or -1 with
 * errno and nothing of it left behind. */
int atomic_write_file(const char *path, const void *p, size_t n, mode_t mode);

#endif
