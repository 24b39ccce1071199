/* gzip made on every core: the input cut into blocks of a fixed size, each block compressed
 * on its own by libdeflate into a complete gzip member (RFC 1952: a file may be a series of
 * members, and every gzip reader reads them in turn), the members handed back in input order.
 * A member's bytes depend on its block and the level only, so the stream does not depend on the
 * number of workers nor on how the input was read. docs/DESIGN.md, "Determinism". */
#ifndef OCI_DIGEST_GZIP_BLOCKS_H
#define OCI_DIGEST_GZIP_BLOCKS_H

#include <stddef.h>

/* The uncompressed bytes of each member but the last. 2 MiB keeps the npm tree's layer within
 * 0.45% of `gzip -6` (1 MiB: 0.63%, 512 KiB: 1.0%, one member: 0.23%) and memory at
 * (workers + 2) x ~4 MiB; a layer of a few MB still spreads over the cores. Changing it
 * changes every gzip layer's bytes. */
#define GZIP_BLOCK (2u << 20)

struct gzip_blocks;

/* level 1-9 (libdeflate's levels, which follow zlib's), workers >= 1: the threads, buffers and
 * compressors of (workers + 2) blocks at once. NULL: out of memory or threads. */
struct gzip_blocks *gzip_blocks_new(int level, int workers);

/* The buffer of the next block (GZIP_BLOCK bytes), free to fill; NULL while every buffer holds a
 * block not yet taken: take the oldest first. */
unsigned char *gzip_blocks_input(struct gzip_blocks *g);

/* Queues the block returned by the last gzip_blocks_input, holding len bytes (GZIP_BLOCK for
 * all but the last block of a stream; 0 only for an empty stream's one block). */
void gzip_blocks_queue(struct gzip_blocks *g, size_t len);

/* The oldest queued block's member once compressed, and its length: NULL when none is queued,
 * or (GZIP_NO_WAIT) when it is not compressed yet. The bytes stay valid until the next call of
 * any gzip_blocks function. */
enum gzip_wait { GZIP_NO_WAIT, GZIP_WAIT };
const unsigned char *gzip_blocks_take(struct gzip_blocks *g, enum gzip_wait wait, size_t *len);

/* Stops the workers (the blocks still queued are dropped) and frees everything. */
void gzip_blocks_free(struct gzip_blocks *g);

#endif
