/* Directories: made as needed (mkdir -p), and where ocinoco's local cache is by default (the
 * layer entries of oci-cache and the documents of oci-fetch --default-cache share it). */
#ifndef OCINOCO_DIRS_H
#define OCINOCO_DIRS_H

#include <sys/types.h>

/* mkdir -p dir: each missing directory made with mode (umask applied); 0, or -1 with errno. */
int mkdir_p(const char *dir, mode_t mode);
/* mkdir -p of the directory path is in; 0, or -1 with errno. */
int mkdir_parents(const char *path, mode_t mode);

/* The local cache's default directory: $XDG_CACHE_HOME/ocinoco when that is an absolute path,
 * else $HOME/.cache/ocinoco; NULL when neither is set. Caller frees. */
char *cache_dir_default(void);

#endif
