/* oci-put manifest --previous-out FILE --previous-config-out FILE: the image DEST's tag names
 * before this run puts anything, read by the run that will put the new one (its connection
 * and token made already): a build's previous image, whose layers it may reuse, with no
 * program run and no connection of its own. */
#ifndef OCI_PUT_PREVIOUS_H
#define OCI_PUT_PREVIOUS_H

#include "push.h"
#include "store.h"

/* Given the tag's early check t (push.h; NULL: not asked): the manifest it names and its config
 * written to out and config_out (through the document cache, by digest), and what the run says
 * on stdout after "previous ": the manifest's digest; "none" for a tag that names nothing
 * (404); "unknown" when it could not be read or is no image manifest (an index: the reader asks
 * otherwise). Never fails the run. */
const char *previous_read(struct store *dst, const struct tag_check *t, const char *out,
                          const char *config_out);

#endif
