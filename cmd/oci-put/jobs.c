#include "jobs.h"
#include "doccache.h"
#include "hold.h"
#include "keep.h"
#include "oci.h"
#include "previous.h"
#include "push.h"
#include "replay.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void start_session(struct session *s, const struct net_options *o, bool http1)
{
	struct http_opts ho = o->http;
	ho.http1 = http1;
	session_init(s, &ho, o->insecure);
}

static void flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		err(EXIT_FAIL, "stdout");
}

/* ---- oci-put blob ---- */

/* Local bytes first: every file's digest (j->local, j->known with the DIGEST arguments), and
 * stdin up to the buffer, read while the files are HEADed and its upload session opened. */
static void read_local(struct blob_job *j, size_t *nlocal, size_t *nknown)
{
	j->src = xcalloc(j->nargs, sizeof *j->src);
	j->local = xcalloc(j->nargs, sizeof *j->local);
	j->known = xcalloc(j->nargs, sizeof *j->known);
	*nlocal = *nknown = 0;
	for (size_t i = 0; i < j->nargs; i++) {
		if (j->is_digest[i]) {
			j->known[(*nknown)++] = j->args[i];
			continue;
		}
		if ((int)i == j->stream) {
			blobsrc_stream_held(&j->src[i], STDIN_FILENO, "stdin", BLOBSRC_RING,
			                    BLOBSRC_AHEAD, j->expect);
			session_feed(&j->s, &j->src[i]);
			continue;
		}
		if (blobsrc_file(&j->src[i], j->args[i]) < 0)
			err(EXIT_FAIL, "%s", j->args[i]);
		j->local[(*nlocal)++] = &j->src[i];
		j->known[(*nknown)++] = j->src[i].digest;
	}
}

static void blob_job_free(struct blob_job *j)
{
	for (size_t i = 0; i < j->nargs; i++)
		if (!j->is_digest[i])
			blobsrc_close(&j->src[i]);
	free(j->src);
	free(j->is_digest);
	free(j->local);
	free(j->known);
	session_end(&j->s);
	store_close(&j->dst);
	if (j->has_mount_from)
		store_close(&j->mount_from);
	if (j->has_from)
		store_close(&j->from);
}

int put_blob_job(struct blob_job *j)
{
	/* A stream alone (a build's layer): HTTP/1.1, whose TCP window grows with the upload,
	 * where the HTTP/2 of Go registries lets 1 MiB through per round trip (17 round trips
	 * for a 17 MB layer). Its requests come one after another: one connection either way. */
	start_session(&j->s, &j->net, j->nargs == 1 && j->stream == 0);
	if (store_attach(&j->s, &j->dst, true) < 0 ||
	    (j->has_mount_from && store_attach(&j->s, &j->mount_from, false) < 0) ||
	    (j->has_from && store_attach(&j->s, &j->from, false) < 0))
		return EXIT_FAIL;
	struct store *sources[2];
	size_t nsources = 0;
	if (j->has_mount_from)
		sources[nsources++] = &j->mount_from;
	if (j->has_from)
		sources[nsources++] = &j->from;
	int hold_fd = -1;
	if (j->hold && (hold_fd = hold_open(j->hold)) < 0)
		err(EXIT_FAIL, "--hold %s", j->hold);
	size_t nlocal, nknown;
	read_local(j, &nlocal, &nknown);
	struct put_ctx c = {.s = &j->s,
	                    .files = j->local,
	                    .nfiles = nlocal,
	                    .sources = sources,
	                    .nsources = nsources,
	                    .mount_local = j->has_mount_from,
	                    .if_not_empty = j->if_not_empty,
	                    .hold_fd = hold_fd,
	                    .hold = j->hold};
	if (put_blobs(&c, &j->dst, j->known, nknown) < 0)
		return EXIT_FAIL;
	int rc = j->stream >= 0 ? put_stream_replayable(&c, &j->dst, &j->src[j->stream]) : EXIT_OK;
	if (rc != EXIT_OK)
		return rc;
	bool unsent =
	        c.dropped || (j->if_not_empty && j->stream >= 0 && j->src[j->stream].size == 0);
	for (size_t i = 0; i < j->nargs; i++)
		if (!((int)i == j->stream && unsent))
			printf("%s\n", j->is_digest[i] ? j->args[i] : j->src[i].digest);
	flush_stdout();
	blob_job_free(j);
	return EXIT_OK;
}

/* ---- oci-put manifest ---- */

/* The manifest or index to put (at most 4 MiB, JSON, with a media type): exits 1 if not. */
static void read_manifest(struct doc *d, const char *file)
{
	const char *name = strcmp(file, "-") ? file : "stdin";
	char e[256];
	if (buf_read_file(&d->data, file, MANIFEST_MAX_BYTES) < 0) {
		if (errno == EFBIG)
			errx(EXIT_FAIL,
			     "%s: manifest larger than %u bytes (4 MiB, the distribution "
			     "spec's limit)",
			     name, MANIFEST_MAX_BYTES);
		err(EXIT_FAIL, "%s", name);
	}
	if (d->data.len == 0)
		errx(EXIT_FAIL, "%s: empty: no manifest to put (nothing was put)", name);
	if (doc_identify(d, NULL, e, sizeof e) < 0)
		errx(EXIT_FAIL, "%s: manifest is %s", name, e);
	if (!media_type_is_manifest(d->media_type) && !media_type_is_index(d->media_type))
		errx(EXIT_FAIL, "%s: not an image manifest or index (mediaType %s)", name,
		     d->media_type ? d->media_type : "missing");
}

/* Printed only once everything is in place. */
static void pushed(struct buf *out, const struct store *st, const char *digest)
{
	char *repo = ref_repository(&st->ref);
	buf_appendf(out, "%s@%s\n", repo, digest);
	free(repo);
}

/* Another tag of DEST's repository (or layout): its blobs are there already. */
static bool same_repository(const struct store *a, const struct store *b)
{
	return store_is_layout(a)
	               ? store_is_layout(b) && strcmp(a->ref.dir, b->ref.dir) == 0
	               : store_same_registry(a, b) && strcmp(a->ref.path, b->ref.path) == 0;
}

/* The tags to HEAD (a tag already pointing at the manifest is not PUT again): those of
 * registries, by name, each with the store of its repository. */
static void tag_checks(struct manifest_job *j, struct put_ctx *c)
{
	c->tags = xcalloc(j->ntags + 1, sizeof *c->tags);
	for (size_t i = 0; i <= j->ntags; i++) {
		struct store *t = i == 0 ? &j->dst : &j->tags[i - 1];
		if (store_is_layout(t) || t->ref.tag == NULL)
			continue;
		c->tags[c->ntags++] = (struct tag_check){
		        .repo = i == 0 || same_repository(t, &j->dst) ? &j->dst : t,
		        .tag = t->ref.tag};
	}
}

/* Before the manifest is known: every tag HEADed, one round a repository, what each names
 * kept (the connection and its authentication made meanwhile). */
static void ask_tags(struct put_ctx *c)
{
	struct blob_op *ops = xcalloc(c->ntags + 1, sizeof *ops);
	for (size_t k = 0; k < c->ntags; k++) {
		if (c->tags[k].asked)
			continue;
		struct store *repo = c->tags[k].repo;
		size_t m = 0;
		for (size_t t = k; t < c->ntags; t++)
			if (c->tags[t].repo == repo)
				ops[m++] = (struct blob_op){.kind = BLOB_TAG,
				                            .from = c->tags[t].tag,
				                            .ctx = &c->tags[t]};
		store_blob_batch(repo, ops, m);
		for (size_t i = 0; i < m; i++) {
			struct tag_check *t = ops[i].ctx;
			t->asked = true;
			t->absent = ops[i].absent;
			memcpy(t->tagged, ops[i].tagged, sizeof t->tagged);
		}
	}
	free(ops);
}

/* The manifest known: each tag asked before is there when it named it. */
static void settle_tags(struct put_ctx *c)
{
	for (size_t k = 0; k < c->ntags; k++)
		if (c->tags[k].asked)
			c->tags[k].there = strcmp(c->tags[k].tagged, c->manifest) == 0;
}

static bool tag_is_there(const struct put_ctx *c, const struct store *t)
{
	for (size_t k = 0; k < c->ntags; k++)
		if (c->tags[k].there && c->tags[k].tag == t->ref.tag)
			return true;
	return false;
}

/* A repository one of whose tags is the manifest already: so are its blobs (nothing to ask). */
static bool repository_tagged(const struct put_ctx *c, const struct store *repo)
{
	for (size_t k = 0; k < c->ntags; k++)
		if (c->tags[k].there && c->tags[k].repo == repo)
			return true;
	return false;
}

/* Every target's blobs first, the manifests last and in a row: a target that fails (its
 * credentials, its registry) leaves no tag pushed anywhere. */
static int put_everywhere(struct manifest_job *j, struct put_ctx *c, struct store **sources)
{
	c->manifest = j->d.digest;
	settle_tags(c);
	if (!repository_tagged(c, &j->dst) && put_document_refs(c, &j->dst, &j->d) < 0)
		return -1;
	/* the other tags: their blobs come from DEST (mounted in the same registry) */
	c->nsources = 0;
	sources[c->nsources++] = &j->dst;
	for (size_t i = 0; i < j->nfrom; i++)
		sources[c->nsources++] = &j->from[i];
	for (size_t i = 0; i < j->ntags; i++) {
		if (same_repository(&j->tags[i], &j->dst))
			continue;
		/* in DEST's registry, every blob is mounted from DEST at once (one round; a mount
		 * of a blob the repository has succeeds too), none uploaded again */
		struct put_ctx o = *c;
		if (store_same_registry(&j->tags[i], &j->dst))
			o.head_first = o.speculate = false, o.nfiles = 0;
		if (!repository_tagged(c, &j->tags[i]) &&
		    put_document_refs(&o, &j->tags[i], &j->d) < 0)
			return -1;
	}
	for (size_t i = 0; i <= j->ntags; i++) {
		struct store *t = i == 0 ? &j->dst : &j->tags[i - 1];
		if (!tag_is_there(c, t) && store_put_manifest(t, t->ref.tag, &j->d) < 0)
			return -1;
		pushed(&j->out, t, j->d.digest);
	}
	return 0;
}

static void manifest_job_free(struct manifest_job *j)
{
	buf_free(&j->out);
	session_end(&j->s);
	for (size_t i = 0; i < j->nblobs; i++)
		blobsrc_close(&j->bsrc[i]);
	for (size_t i = 0; i < j->ntags; i++)
		store_close(&j->tags[i]);
	free(j->tags);
	free(j->bsrc);
	free(j->local);
	doc_free(&j->d);
	store_close(&j->dst);
	for (size_t i = 0; i < j->nfrom; i++)
		store_close(&j->from[i]);
	free(j->from);
	free(j->sources);
	doccache_use(NULL);
	free(j->cache_dir);
}

/* The session, DEST, the tags and the registry --from stores attached to it (before the first
 * request: one token for all the repositories), the layout --from stores too unless
 * layouts_later (opened once the manifest is read). */
static int connect_stores(struct manifest_job *j, bool layouts_later)
{
	start_session(&j->s, &j->net, false);
	if (store_attach(&j->s, &j->dst, true) < 0)
		return -1;
	for (size_t i = 0; i < j->nfrom; i++)
		if (!(layouts_later && store_is_layout(&j->from[i])) &&
		    store_attach(&j->s, &j->from[i], false) < 0)
			return -1;
	for (size_t i = 0; i < j->ntags; i++)
		if (store_attach(&j->s, &j->tags[i], true) < 0)
			return -1;
	return 0;
}

static int attach_layout_froms(struct manifest_job *j)
{
	for (size_t i = 0; i < j->nfrom; i++)
		if (store_is_layout(&j->from[i]) && store_attach(&j->s, &j->from[i], false) < 0)
			return -1;
	return 0;
}

/* The manifest and the --blob files (which may be written while the tags are asked). */
static void read_inputs(struct manifest_job *j)
{
	read_manifest(&j->d, j->file);
	j->bsrc = xcalloc(j->nblobs + 1, sizeof *j->bsrc);
	j->local = xcalloc(j->nblobs + 1, sizeof *j->local);
	for (size_t i = 0; i < j->nblobs; i++) {
		if (blobsrc_file(&j->bsrc[i], j->blobs[i]) < 0)
			err(EXIT_FAIL, "%s", j->blobs[i]);
		j->local[i] = &j->bsrc[i];
	}
}

/* A manifest that comes on stdin (a build's, written once it is made) has its registry tags
 * asked while it is awaited; not into a layout, which attaching would create. */
static bool asks_tags_first(const struct manifest_job *j)
{
	if (strcmp(j->file, "-") != 0 || store_is_layout(&j->dst))
		return false;
	for (size_t i = 0; i < j->ntags; i++)
		if (store_is_layout(&j->tags[i]))
			return false;
	return true;
}

/* Every target a layout: no registry fetch will want its config (a layout's are on disk). */
static bool all_layouts(const struct manifest_job *j)
{
	for (size_t i = 0; i < j->ntags; i++)
		if (!store_is_layout(&j->tags[i]))
			return false;
	return store_is_layout(&j->dst);
}

/* DEST's own tag's check, or NULL. */
static const struct tag_check *dest_tag(const struct manifest_job *j, const struct put_ctx *c)
{
	for (size_t k = 0; k < c->ntags; k++)
		if (c->tags[k].repo == &j->dst && c->tags[k].tag == j->dst.ref.tag)
			return &c->tags[k];
	return NULL;
}

/* DEST's tag, asked early, names no manifest (404): a manifest will be PUT there. */
static bool dest_tag_absent(const struct manifest_job *j, const struct put_ctx *c)
{
	const struct tag_check *t = dest_tag(j, c);
	return t && t->asked && t->absent;
}

/* --previous-out: stdout's first line, at once (the build's layers wait for it). */
static void say_previous(struct manifest_job *j, const struct tag_check *t)
{
	printf("previous %s\n", previous_read(&j->dst, t, j->previous_out, j->previous_config_out));
	flush_stdout();
}

int put_manifest_job(struct manifest_job *j)
{
	struct put_ctx c = {.s = &j->s};
	struct store **sources = j->sources = xcalloc(j->nfrom + 2, sizeof *sources);
	c.sources = sources;
	for (size_t i = 0; i < j->nfrom; i++)
		sources[c.nsources++] = &j->from[i];
	bool early = asks_tags_first(j);
	if (early) {
		if (connect_stores(j, true) < 0)
			return EXIT_FAIL;
		tag_checks(j, &c);
		ask_tags(&c);
		if (j->previous_out) {
			doccache_use(j->cache_dir);
			say_previous(j, dest_tag(j, &c));
		}
		/* a cold push (a new repository): the base's layers mounted and the --blob files'
		 * sessions opened while the manifest is awaited (a rebuild: nothing more sent) */
		if (dest_tag_absent(j, &c)) {
			put_early(&c, &j->dst, j->nblobs, &j->early);
			c.early = &j->early;
		}
	}
	if (j->previous_out && !early) /* (its reader must not wait for the manifest) */
		say_previous(j, NULL);
	read_inputs(j);
	if (early ? attach_layout_froms(j) < 0 : connect_stores(j, false) < 0)
		return EXIT_FAIL;
	if (!early)
		tag_checks(j, &c);
	/* A build's manifest: its new layer is in DEST already and its config is new, so HEAD
	 * first, and open the config's upload session while the HEADs go. */
	c.files = j->local;
	c.nfiles = j->nblobs;
	c.head_first = c.speculate = true;
	int ret = put_everywhere(j, &c, sources);
	if (c.early)
		put_early_end(c.early, &j->dst);
	free(c.tags);
	if (ret < 0)
		return c.missing ? EXIT_MISSING : EXIT_FAIL;
	fputs(j->out.data, stdout);
	flush_stdout();
	if (!all_layouts(j)) {
		doccache_use(j->cache_dir);
		keep_documents(&j->d, j->local, j->nblobs);
	}
	manifest_job_free(j);
	return EXIT_OK;
}
