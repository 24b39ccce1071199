/* oci-fetch's jobs: an image's manifest (the platform picked from an index), its config, a
 * blob, its index or its digest, from a registry or an OCI image layout, every digest
 * verified, each output written whole (atomic_file) or to stdout; and the references' full
 * names (offline). */
#ifndef OCINOCO_FETCH_H
#define OCINOCO_FETCH_H

#include "cli.h"
#include "platform.h"

#include <stdbool.h>

enum fetch_mode {
	FETCH_MANIFEST,
	FETCH_INDEX,
	FETCH_CONFIG,
	FETCH_BLOB,
	FETCH_DIGEST,
	FETCH_PLATFORMS, /* the index's image platforms, one a line (platforms.c) */
	FETCH_EACH,      /* every selected platform's manifest and config into each_dir */
};

struct fetch_job {
	const char *ref;
	enum fetch_mode mode;
	const char *blob;      /* FETCH_BLOB: the digest */
	struct platform want;  /* the platform to pick from an index */
	const char *selection; /* FETCH_EACH: "all" or a list of platforms */
	const char *each_dir;  /* FETCH_EACH: where the files go */
	bool platform_given;   /* --platform: a single-platform image must be that one too */
	const char *output;    /* what mode names; NULL or "-": stdout */
	const char *config_out, *digest_out, *manifest_out; /* NULL: not written */
	const char *cache_dir; /* the document cache (doccache.h); NULL: none */
	struct net_options net;
};

/* EXIT_OK, or EXIT_FAIL after a message; a bad reference is a usage error (exits 2). */
int fetch_run(const struct fetch_job *job, const char *usage);

/* --name: each reference in its full normalised form, one a line, all checked before any is
 * printed. EXIT_OK, or EXIT_USAGE after a message. */
int fetch_names(int n, char **refs);

#endif
