#include "fetch.h"
#include "digest.h"
#include "doccache.h"
#include "oci.h"
#include "platforms.h"
#include "ref.h"
#include "store.h"
#include "util.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where one output goes: stdout, or a file written under a temporary name and renamed. */
struct output_file {
	const char *path; /* NULL: stdout */
	struct atomic_file f;
	int fd;
};

static void output_open(struct output_file *o, const char *path)
{
	o->path = path;
	if (path == NULL || strcmp(path, "-") == 0) {
		o->fd = STDOUT_FILENO;
		o->path = NULL;
		return;
	}
	if (atomic_open(&o->f, path, 0644) < 0)
		err(EXIT_FAIL, "%s", path);
	o->fd = o->f.fd;
}

static int output_sink(const char *p, size_t n, void *ctx)
{
	struct output_file *o = ctx;
	if (write_all(o->fd, p, n) < 0) {
		warn("%s", o->path ? o->path : "stdout");
		return -1;
	}
	return 0;
}

static void output_commit(struct output_file *o)
{
	if (o->path && atomic_commit(&o->f) < 0)
		err(EXIT_FAIL, "%s", o->path);
}

static void write_output(const char *path, const void *p, size_t n)
{
	static struct output_file o; /* static: reachable at any exit (no leak reports) */
	output_open(&o, path);
	if (output_sink(p, n, &o) < 0)
		exit(EXIT_FAIL);
	output_commit(&o);
}

/* What a run holds, at file scope: a failing run leaves it reachable (no leak reports). */
static struct {
	struct store st;
	struct session s;
	struct doc top, man;
	struct buf config;
} run;

/* The image manifest the reference names: through an index to the wanted platform's, unless
 * the index itself is asked for. NULL after a message. */
static const struct doc *resolve_manifest(const struct fetch_job *job)
{
	if (docfetch_manifest(&run.st, NULL, &run.top) < 0)
		return NULL;
	if (job->mode == FETCH_INDEX)
		return &run.top;
	const struct doc *res = &run.top;
	if (media_type_is_index(run.top.media_type)) {
		json_t *entry = fetch_pick_platform(&run.top, &job->want, job->ref);
		if (entry == NULL)
			return NULL;
		int r = docfetch_manifest(&run.st, entry, &run.man);
		json_decref(entry);
		if (r < 0)
			return NULL;
		res = &run.man;
	}
	if (!media_type_is_manifest(res->media_type)) {
		warnx("%s: not an image manifest (mediaType %s)", job->ref, res->media_type);
		return NULL;
	}
	return res;
}

/* A single-platform image (no index to pick from) must be the --platform asked for: its config
 * says which it is. */
static int check_image_platform(const struct fetch_job *job)
{
	struct platform have;
	json_t *cj = json_loadb(run.config.data, run.config.len, 0, NULL);
	int ret = 0;
	if (cj && platform_from_json(cj, &have) && !platform_match(&job->want, &have)) {
		char w[96], h[96];
		platform_format(&job->want, w, sizeof w);
		platform_format(&have, h, sizeof h);
		warnx("%s: the image is for %s, not %s", job->ref, h, w);
		ret = -1;
	}
	json_decref(cj);
	return ret;
}

/* The config blob the manifest names, into run.config. */
static int fetch_config(const struct fetch_job *job, const struct doc *m)
{
	int r = docfetch_config(&run.st, m, &run.config, job->ref);
	if (r == 0 && job->platform_given && m == &run.top)
		r = check_image_platform(job);
	return r;
}

static void write_outputs(const struct fetch_job *job, const struct doc *m)
{
	char line[DIGEST_STR_LEN + 1];
	snprintf(line, sizeof line, "%s\n", m->digest);
	switch (job->mode) {
	case FETCH_MANIFEST:
	case FETCH_INDEX:
		write_output(job->output, m->data.data, m->data.len);
		break;
	case FETCH_CONFIG:
		write_output(job->output, run.config.data, run.config.len);
		break;
	case FETCH_DIGEST:
		write_output(job->output, line, strlen(line));
		break;
	case FETCH_BLOB:
	case FETCH_PLATFORMS:
	case FETCH_EACH:
		break;
	}
	if (job->manifest_out)
		write_output(job->manifest_out, m->data.data, m->data.len);
	if (job->config_out)
		write_output(job->config_out, run.config.data, run.config.len);
	if (job->digest_out)
		write_output(job->digest_out, line, strlen(line));
}

static int fetch_blob(const struct fetch_job *job)
{
	static struct output_file o;
	output_open(&o, job->output);
	if (store_get_blob(&run.st, job->blob, output_sink, &o) < 0)
		return -1; /* the temporary file goes at exit */
	output_commit(&o);
	return 0;
}

/* --platforms and --each: platforms.c's jobs on the top document. */
static int fetch_platforms(const struct fetch_job *job)
{
	if (docfetch_manifest(&run.st, NULL, &run.top) < 0)
		return -1;
	return job->mode == FETCH_EACH
	               ? fetch_each_platform(&run.st, &run.top, job->selection, job->each_dir,
	                                     job->ref)
	               : fetch_print_platforms(&run.st, &run.top, job->output, job->ref);
}

static int fetch_documents(const struct fetch_job *job)
{
	const struct doc *m = resolve_manifest(job);
	if (m == NULL)
		return -1;
	if ((job->mode == FETCH_CONFIG || job->config_out) && fetch_config(job, m) < 0)
		return -1;
	write_outputs(job, m);
	return 0;
}

int fetch_run(const struct fetch_job *job, const char *usage)
{
	char e[256];
	if (store_parse(&run.st, job->ref, e, sizeof e) < 0)
		usage_error(usage, "%s: invalid reference: %s", job->ref, e);
	doccache_use(job->cache_dir);
	session_init(&run.s, &job->net.http, job->net.insecure);
	if (store_attach(&run.s, &run.st, false) < 0)
		return EXIT_FAIL;
	int r = job->mode == FETCH_BLOB                                   ? fetch_blob(job)
	        : job->mode == FETCH_PLATFORMS || job->mode == FETCH_EACH ? fetch_platforms(job)
	                                                                  : fetch_documents(job);
	if (r < 0)
		return EXIT_FAIL;
	doc_free(&run.man);
	doc_free(&run.top);
	buf_free(&run.config);
	doccache_use(NULL);
	session_end(&run.s);
	store_close(&run.st);
	return EXIT_OK;
}

int fetch_names(int n, char **refs)
{
	struct buf out = {0};
	for (int i = 0; i < n; i++) {
		struct ref r;
		char e[256];
		if (ref_parse(refs[i], &r, e, sizeof e) < 0) {
			warnx("%s: invalid reference: %s", refs[i], e);
			buf_free(&out);
			return EXIT_USAGE;
		}
		char *s = ref_string(&r);
		buf_appendf(&out, "%s\n", s);
		free(s);
		ref_free(&r);
	}
	int rc = write_all(STDOUT_FILENO, out.data, out.len);
	buf_free(&out);
	if (rc < 0)
		err(EXIT_FAIL, "stdout");
	return EXIT_OK;
}
