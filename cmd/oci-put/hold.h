/* --hold FILE: a stream read into its buffer, but not sent, until FILE says whether to send it.
 * A build starts its layer's upload before it knows whether the layer is needed (a previous
 * image may have it): the bytes wait here, within the stream's buffer, for that answer. */
#ifndef OCI_PUT_HOLD_H
#define OCI_PUT_HOLD_H

#include "blobsrc.h"

/* FILE's answer: a line "send", or "drop" (also FILE's end with no line). */
enum hold_answer { HOLD_SEND, HOLD_DROP, HOLD_FAILED };

/* Opens FILE (a FIFO its writer holds open, a pipe such as /dev/fd/N, a file) to be read while
 * the stream is; -1 with errno. */
int hold_open(const char *path);
/* Reads the stream src ahead (as far as its buffer lets it) until fd answers; closes fd.
 * HOLD_FAILED after a message naming path (a read error, an answer that is neither). */
enum hold_answer hold_wait(int fd, const char *path, struct blob_src *src);

#endif
