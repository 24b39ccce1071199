/* oci-put manifest --cache DIR: once the manifest is in place, the configs it names that were
 * given as --blob files go into the document cache (doccache.h), so that the next fetch of the
 * image (a rebuild's --cache-from) asks the registry for its manifest and not for its config;
 * an image manifest put goes there too (by its digest, which names those bytes for ever), so
 * that the next build's run that finds the tag naming it (--previous-out) reads it from there.
 * The config of a manifest, or of each manifest of an index that is a --blob file itself; never
 * a layer, never an index. A file is kept only as its bytes are read now, when they hash
 * to the descriptor's digest, have its size and are within DOCUMENT_MAX_BYTES (a file changed
 * since its upload is left out, silently: the push is not its concern). */
#ifndef OCI_PUT_KEEP_H
#define OCI_PUT_KEEP_H

#include "blobsrc.h"
#include "doc.h"

#include <stddef.h>

/* The document just put, and the --blob files (digests known); nothing without a cache. */
void keep_documents(const struct doc *d, struct blob_src *const *files, size_t nfiles);

#endif
