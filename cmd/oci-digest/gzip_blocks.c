#include "gzip_blocks.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* RFC 1952 member header: ID1 ID2 CM=8 (deflate) FLG=0 (no name, comment, extra) MTIME=0, then
 * XFL and OS; trailer: CRC32 and ISIZE (the length mod 2^32), little-endian. */
#define GZIP_HEADER  10
#define GZIP_TRAILER 8
/* OS "unknown", what Go's compress/gzip (and so Docker) writes. */
#define GZIP_OS_UNKNOWN 255
/* XFL as zlib sets it: 2 for the slowest level, 4 for the fastest, else 0. */
#define GZIP_XFL_BEST    2
#define GZIP_XFL_FASTEST 4

/* One block's buffers. A slot holds block seq where seq % nslots is its index. */
struct slot {
	unsigned char *in, *out;
	size_t in_len, out_len;
	bool done; /* out holds in's member */
};

struct gzip_blocks {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a block was queued, or stop */
	pthread_cond_t done; /* a block was compressed */
	struct slot *slots;
	size_t nslots, out_cap;
	/* Blocks counted from the stream's start: queued by the reader, started by a worker,
	 * taken by the writer. taken <= started <= queued <= taken + nslots. */
	uint64_t queued, started, taken;
	bool stop;
	unsigned char xfl;
	int nworkers, ncompressors;
	pthread_t *workers;
	struct libdeflate_compressor **compressors; /* one per worker */
};

struct worker_arg {
	struct gzip_blocks *g;
	struct libdeflate_compressor *c;
};

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void compress_slot(const struct gzip_blocks *g, struct libdeflate_compressor *c,
                          struct slot *s)
{
	unsigned char *p = s->out;
	memcpy(p, "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);
	p[8] = g->xfl;
	p[9] = GZIP_OS_UNKNOWN;
	/* out_cap is libdeflate's bound for GZIP_BLOCK bytes, so this always fits. */
	size_t n = libdeflate_deflate_compress(c, s->in, s->in_len, p + GZIP_HEADER,
	                                       g->out_cap - GZIP_HEADER - GZIP_TRAILER);
	p += GZIP_HEADER + n;
	put_le32(p, libdeflate_crc32(0, s->in, s->in_len));
	put_le32(p + 4, (uint32_t)s->in_len);
	s->out_len = GZIP_HEADER + n + GZIP_TRAILER;
}

static void *worker(void *arg)
{
	struct gzip_blocks *g = ((struct worker_arg *)arg)->g;
	struct libdeflate_compressor *c = ((struct worker_arg *)arg)->c;
	free(arg);
	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (!g->stop && g->started == g->queued)
			pthread_cond_wait(&g->work, &g->mu);
		if (g->stop)
			break;
		struct slot *s = &g->slots[g->started++ % g->nslots];
		pthread_mutex_unlock(&g->mu);
		compress_slot(g, c, s);
		pthread_mutex_lock(&g->mu);
		s->done = true;
		pthread_cond_signal(&g->done);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/* A block's input and a compressor's tables (libdeflate's ~650 KiB at level 6, its hash tables
 * probed all over) in whole 2 MiB pages aligned to 2 MiB, which the kernel backs with huge pages
 * where transparent huge pages are on for madvise: fewer TLB misses, ~3% less CPU for the gzip
 * pack of the npm tree. Allocations this small or smaller are left to malloc. */
#define HUGE_PAGE (2u << 20)
#define HUGE_MIN  (256u << 10)

static void *huge_alloc(size_t n)
{
	if (n < HUGE_MIN)
		return malloc(n);
	size_t m = (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	void *p = aligned_alloc(HUGE_PAGE, m);
	if (p != NULL)
		(void)madvise(p, m, MADV_HUGEPAGE);
	return p;
}

struct gzip_blocks *gzip_blocks_new(int level, int workers)
{
	/* oci-digest makes no other use of libdeflate, so setting its allocator is safe. */
	libdeflate_set_memory_allocator(huge_alloc, free);
	struct gzip_blocks *g = calloc(1, sizeof *g);
	if (g == NULL)
		return NULL;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->work, NULL);
	pthread_cond_init(&g->done, NULL);
	g->xfl = level >= 9 ? GZIP_XFL_BEST : level <= 1 ? GZIP_XFL_FASTEST : 0;
	/* One block being read, one being written, one per worker being compressed. Untouched
	 * pages of the buffers cost nothing, so a small layer on many cores stays small. */
	g->nslots = (size_t)workers + 2;
	g->slots = calloc(g->nslots, sizeof *g->slots);
	g->compressors = calloc((size_t)workers, sizeof *g->compressors);
	g->workers = calloc((size_t)workers, sizeof *g->workers);
	if (g->slots == NULL || g->compressors == NULL || g->workers == NULL)
		goto fail;
	for (; g->ncompressors < workers; g->ncompressors++)
		if ((g->compressors[g->ncompressors] = libdeflate_alloc_compressor(level)) == NULL)
			goto fail;
	g->out_cap = GZIP_HEADER +
	             libdeflate_deflate_compress_bound(g->compressors[0], GZIP_BLOCK) +
	             GZIP_TRAILER;
	for (size_t i = 0; i < g->nslots; i++)
		if ((g->slots[i].in = huge_alloc(GZIP_BLOCK)) == NULL ||
		    (g->slots[i].out = malloc(g->out_cap)) == NULL)
			goto fail;
	for (; g->nworkers < workers; g->nworkers++) {
		struct worker_arg *a = malloc(sizeof *a);
		if (a == NULL)
			goto fail;
		*a = (struct worker_arg){g, g->compressors[g->nworkers]};
		if (pthread_create(&g->workers[g->nworkers], NULL, worker, a) != 0) {
			free(a);
			goto fail;
		}
	}
	return g;
fail:
	gzip_blocks_free(g);
	return NULL;
}

unsigned char *gzip_blocks_input(struct gzip_blocks *g)
{
	/* Only this thread moves queued and taken: no lock needed to read them. */
	if (g->queued - g->taken == g->nslots)
		return NULL;
	return g->slots[g->queued % g->nslots].in;
}

void gzip_blocks_queue(struct gzip_blocks *g, size_t len)
{
	pthread_mutex_lock(&g->mu);
	struct slot *s = &g->slots[g->queued % g->nslots];
	s->in_len = len;
	s->done = false;
	g->queued++;
	pthread_cond_signal(&g->work);
	pthread_mutex_unlock(&g->mu);
}

const unsigned char *gzip_blocks_take(struct gzip_blocks *g, enum gzip_wait wait, size_t *len)
{
	if (g->taken == g->queued)
		return NULL;
	struct slot *s = &g->slots[g->taken % g->nslots];
	pthread_mutex_lock(&g->mu);
	while (!s->done && wait == GZIP_WAIT)
		pthread_cond_wait(&g->done, &g->mu);
	bool ready = s->done;
	pthread_mutex_unlock(&g->mu);
	if (!ready)
		return NULL;
	g->taken++;
	*len = s->out_len;
	return s->out;
}

void gzip_blocks_free(struct gzip_blocks *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_broadcast(&g->work);
	pthread_mutex_unlock(&g->mu);
	for (int i = 0; i < g->nworkers; i++)
		pthread_join(g->workers[i], NULL);
	for (size_t i = 0; g->slots && i < g->nslots; i++) {
		free(g->slots[i].in);
		free(g->slots[i].out);
	}
	for (int i = 0; i < g->ncompressors; i++)
		libdeflate_free_compressor(g->compressors[i]);
	free(g->slots);
	free(g->compressors);
	free(g->workers);
	pthread_cond_destroy(&g->work);
	pthread_cond_destroy(&g->done);
	pthread_mutex_destroy(&g->mu);
	free(g);
}
