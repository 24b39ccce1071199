/* oci-tar's one job: the entries of a directory tree, in a deterministic order, into a tar
 * stream (see oci-tar(1)).
 *
 * The walk holds one directory fd per level (openat/fstat, never following a symlink), reads
 * each directory's names and sorts them bytewise (names.h), decides for each name whether the
 * exclude patterns leave it out, opens it and stores what was opened: a header, then a regular
 * file's bytes (copy.h), or a hard-link entry for a file seen before (links.h). Memory is
 * constant in file size and linear only in the depth, the names of the largest directory at each
 * depth (names.h) and the files remembered for hard links (links.h: every file on FUSE). A
 * signature walk shares its lstat calls and directory reads with a second thread (prefetch.h). */
#ifndef OCI_TAR_WALK_H
#define OCI_TAR_WALK_H

#include "exclude.h"
#include "out.h"
#include "part.h"
#include "signature.h"

#include <stdbool.h>
#include <stdint.h>

struct walk_options {
	const char *dir;  /* DIR as given */
	const char *root; /* --root-dir as "a/b/", or "" */
	uint64_t uid, gid;
	bool keep_mtime; /* each entry's own mtime, else mtime */
	int64_t mtime;
	const struct excluder *exclude; /* patterns relative to DIR; none: n == 0 */
	struct part *part;              /* --only and --skip (part.h); NULL: the whole tree */
	struct signature *signature;    /* non-NULL: every header goes into it too */
};

/* Writes the --root-dir entry (if any) and every entry under opt->dir to o, but not the end of
 * the archive; with o NULL no archive, and no file is read (opt->signature is then what the walk
 * is for: it gets the headers from the same lstat and fstat results either way); with opt->part
 * only the entries of that part, and the directories they need as parents, with the metadata they
 * have in the whole archive. Anything that cannot be read, or a file changing size while it is
 * read, ends the program with a message naming the path
 * ("oci-tar: DIR/a/b: why", exit 1), as does an --only or --skip pattern that matches nothing
 * ("oci-tar: --only P: matches nothing in DIR"); a socket is skipped with a warning. */
void walk_tree(const struct walk_options *opt, struct tar_out *o);

#endif
