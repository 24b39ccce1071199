/* oci-graft's one job: read the base (or take the empty one of --scratch) and the layer
 * descriptor files, check them, graft (graft.h), and write the new config, the manifest and its
 * digest, each complete under a temporary name before any is renamed into place. */
#ifndef OCINOCO_GRAFT_JOB_H
#define OCINOCO_GRAFT_JOB_H

#include "graft.h"
#include "platform.h"

#include <stdbool.h>
#include <stddef.h>

/* A --layer FILE and the --created-by that follows it (NULL: "oci-graft"). */
struct graft_layer_file {
	const char *path; /* "-" is stdin */
	const char *created_by;
};

enum graft_base {
	GRAFT_BASE_FILES,   /* --manifest and --config */
	GRAFT_BASE_SCRATCH, /* --scratch: the empty base for platform */
	GRAFT_BASE_CHECK,   /* --check: the empty base, nothing read or written */
};

struct graft_job {
	enum graft_base base;
	const char *manifest_path, *config_path; /* GRAFT_BASE_FILES; "-" is stdin */
	struct platform platform;                /* the other two */
	const struct graft_layer_file *layers;
	size_t nlayers;
	const char *config_out;   /* required unless GRAFT_BASE_CHECK */
	const char *manifest_out; /* NULL: stdout */
	const char *digest_out;   /* NULL: none; else "sha256:<hex>\n" of the manifest */
	const char *version_from; /* a package.json whose "version" annotates the image */
	struct graft_request req; /* created, base_name, changes...; base_digest and layers are
	                           * set by the job */
};

/* EXIT_OK; EXIT_FAIL after a message (a file that cannot be read, is not what it must be,
 * cannot be written); EXIT_USAGE with the reason in why (a change that is bad once applied)
 * and nothing written. */
int graft_job_run(struct graft_job *job, char *why, size_t whylen);

#endif
