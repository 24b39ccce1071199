/* oci-fetch's platform work on a fetched top document: the one platform a fetch resolves, the
 * list --platforms prints, and the manifests and configs of several platforms (--each), all
 * through lib/index.c's test of which entries are images for a platform (the documents fetched
 * by digest through lib/docfetch.c). */
#ifndef OCI_FETCH_PLATFORMS_H
#define OCI_FETCH_PLATFORMS_H

#include "docfetch.h"
#include "platform.h"
#include "oci.h"
#include "store.h"

/* The index's entry (a copy: caller json_decrefs) of the manifest for want, or NULL after a
 * message naming the platforms the index has. */
json_t *fetch_pick_platform(const struct doc *index, const struct platform *want, const char *name);

/* --platforms: the platforms of an index's images, one a line as --platform takes them
 * (attestations and artifacts not listed); for a single image, its config's. Written to out
 * (NULL: stdout) only once all are known. */
int fetch_print_platforms(struct store *st, const struct doc *top, const char *out,
                          const char *name);

/* --each DIR with --platform SELECTION ("all" or P1,P2...): for the selected entries, in the
 * index's order, numbered from 1: DIR/N.json (the manifest) and DIR/N.config.json (its
 * config), and DIR/platforms with a line "N DIGEST PLATFORM" each (DIGEST the entry's), the
 * last file written. A single image (no index) is entry 1 when the selection takes its
 * platform. -1 after a message (a listed platform missing: it names the ones there are). */
int fetch_each_platform(struct store *st, const struct doc *top, const char *selection,
                        const char *dir, const char *name);

#endif
