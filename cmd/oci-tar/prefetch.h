/* The lstat calls of a signature walk shared with a second thread (they are most of the walk's
 * time, and a machine has at least two cores): when the walk enters a directory it hands it over
 * (prefetch_push); the thread lstats its names from the last one backwards, the deepest directory
 * first, while the walk takes them from the first one in order (prefetch_stat), lstat'ing itself
 * any the thread has not taken. Directories are left to the walk (it opens them). Each result is
 * exactly the fstatat(AT_SYMLINK_NOFOLLOW) the walk would make; memory is a struct stat per name
 * of the directories open at once. */
#ifndef OCI_TAR_PREFETCH_H
#define OCI_TAR_PREFETCH_H

#include "names.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct prefetch;

/* Starts the thread; NULL when it cannot be made (the walk then lstats by itself). */
struct prefetch *prefetch_start(void);

/* Directory dirfd, at depth (0: DIR), with names d, pushed: the walk is in it now. */
void prefetch_push(struct prefetch *p, size_t depth, int dirfd, const struct dir_names *d);

/* The lstat of name i (not a directory) of the directory at depth (the deepest pushed), each i
 * asked once, in order: 0 and *st, -1 and errno as fstatat failed, or 1 when the thread has not
 * taken it (the walk calls fstatat itself). */
int prefetch_stat(struct prefetch *p, size_t depth, size_t i, struct stat *st);

/* The walk is at name i of the directory at depth (the deepest). */
void prefetch_at(struct prefetch *p, size_t depth, size_t i);

/* The thread also reads ahead the next directory the walk will enter (opened, fstat'ed, its
 * names read and sorted: what the walk does, earlier). Directory name i at depth, when it was:
 * true with *fd (the walk's to close) and *st; its names are then prefetch_dir_names's, to
 * names_adopt before prefetch_dir_done. */
bool prefetch_take_dir(struct prefetch *p, size_t depth, size_t i, int *fd, struct stat *st);
struct dir_names *prefetch_dir_names(struct prefetch *p);
void prefetch_dir_done(struct prefetch *p);

/* The walk is done with name i at depth: a directory read ahead for it and not taken (left out)
 * is dropped. */
void prefetch_pass(struct prefetch *p, size_t depth, size_t i);

/* The directory at depth (the deepest) left: once this returns the thread no longer uses its
 * fd or names. */
void prefetch_pop(struct prefetch *p, size_t depth);

/* Stops and joins the thread, frees p. */
void prefetch_stop(struct prefetch *p);

#endif
