/* A stream oci-put cannot finish sending: the upload broke off past the bytes it holds
 * (BLOBSRC_RING) and the registry cannot resume it. What made the stream can make it again byte
 * for byte (a layer of a tree: docs/DESIGN.md, Reliability), so oci-put reads it to its end,
 * prints its digest and exits EXIT_REPLAY; the same stream sent again with --expect DIGEST is
 * checked against it, and EXIT_MISMATCH says its bytes differ (what made it changed). */
#ifndef OCI_PUT_REPLAY_H
#define OCI_PUT_REPLAY_H

#include "blobsrc.h"
#include "push.h"
#include "store.h"

#define EXIT_MISMATCH 65 /* EX_DATAERR: the stream does not have the --expect digest */
#define EXIT_REPLAY   75 /* EX_TEMPFAIL: lost past the bytes held; its digest on stdout */

/* put_stream, as an exit status: EXIT_OK (the digest in src->digest), EXIT_FAIL, EXIT_MISMATCH
 * or EXIT_REPLAY (the digest printed), each said on stderr. With src->expect, the blob is HEADed
 * first: when it is there, the stream is only read to its end and checked, not sent. */
int put_stream_replayable(struct put_ctx *c, struct store *dst, struct blob_src *src);

#endif
