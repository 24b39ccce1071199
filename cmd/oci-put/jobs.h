/* The two jobs of oci-put, their arguments parsed and checked by main (a usage error there
 * exits 2): each attaches its stores to one session, makes everything present, PUTs, prints
 * what it put, and returns the exit code. A job's struct is static in main, so that what a
 * failing run leaves allocated stays reachable (no leak reports). */
#ifndef OCI_PUT_JOBS_H
#define OCI_PUT_JOBS_H

#include "blobsrc.h"
#include "cli.h"
#include "doc.h"
#include "push.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>

/* oci-put blob [--mount-from REPO] [--from REF] [--expect DIGEST] [--if-not-empty]
 *              [--hold FILE] DEST (FILE | - | DIGEST)... */
struct blob_job {
	struct net_options net;
	struct store dst, mount_from, from;
	bool has_mount_from, has_from;
	char **args; /* FILE, - or DIGEST */
	size_t nargs;
	bool *is_digest;    /* per argument */
	int stream;         /* the argument that is "-", or -1 */
	const char *expect; /* --expect: the stream's digest (replay.h) */
	bool if_not_empty;  /* --if-not-empty: an empty stream sends and prints nothing */
	const char *hold;   /* --hold FILE: the stream sent only once FILE says so (hold.h) */
	/* the job's own */
	struct session s;
	struct blob_src *src, **local;
	const char **known;
};
int put_blob_job(struct blob_job *j);

/* oci-put manifest [--from REF]... [--blob FILE]... [--tag REF]... [--cache DIR]
 *                  [--previous-out FILE --previous-config-out FILE] DEST[:TAG] (FILE | -) */
struct manifest_job {
	struct net_options net;
	struct store dst, *from, *tags; /* from: each --from, tried in order */
	size_t nfrom, ntags;
	const char **blobs; /* --blob FILE */
	size_t nblobs;
	const char *file; /* the manifest, or "-" */
	char *cache_dir;  /* --cache DIR, --default-cache: the configs pushed kept (keep.h) */
	const char *previous_out, *previous_config_out; /* --previous-out (previous.h) */
	/* the job's own */
	struct session s;
	struct doc d;
	struct blob_src *bsrc, **local;
	struct store **sources; /* the --from stores, then DEST for the other tags */
	struct early_put early; /* a cold push's: made in DEST while the manifest is awaited */
	struct buf out;
};
int put_manifest_job(struct manifest_job *j);

#endif
