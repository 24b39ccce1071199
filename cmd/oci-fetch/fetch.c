#include "fetch.h"
#include "digest.h"
#include "oci.h"
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

static int config_sink(const char *p, size_t n, void *ctx)
{
	struct buf *b = ctx;
	if (b->len + n > DOCUMENT_MAX_BYTES) {
		warnx("config blob larger than %u bytes", DOCUMENT_MAX_BYTES);
		return -1;
	}
	buf_append(b, p, n);
	return 0;
}

/* What a run holds, at file scope: a failing run leaves it reachable (no leak reports). */
static struct {
	struct store st;
	struct session s;
	struct doc top, man;
	struct buf config;
} run;

/* The manifest of the wanted platform in an index, or an error listing what exists. */
static char *pick_platform(const struct doc *idx, const struct platform *want, const char *name)
{
	char err[256];
	json_t *j = json_parse(idx->data.data, idx->data.len, err, sizeof err);
	json_t *ms = json_object_get(j, "manifests"), *e;
	size_t i;
	char *found = NULL;
	struct buf have = {0};
	json_array_foreach(ms, i, e)
	{
		struct platform p;
		if (!descriptor_check(e, err, sizeof err) ||
		    !platform_from_json(json_object_get(e, "platform"), &p))
			continue;
		if (strcmp(p.os, "unknown") == 0) /* attestations */
			continue;
		if (platform_match(want, &p)) {
			found = xstrdup(descriptor_digest(e));
			break;
		}
		char s[96];
		platform_format(&p, s, sizeof s);
		buf_appendf(&have, "%s%s", have.len ? ", " : "", s);
	}
	if (found == NULL) {
		char w[96];
		platform_format(want, w, sizeof w);
		warnx("%s: no manifest for platform %s in the index; it has: %s", name, w,
		      have.len ? have.data : "no platforms");
	}
	buf_free(&have);
	json_decref(j);
	return found;
}

/* The image manifest the reference names: through an index to the wanted platform's, unless
 * the index itself is asked for. NULL after a message. */
static const struct doc *resolve_manifest(const struct fetch_job *job)
{
	if (store_get_manifest(&run.st, NULL, &run.top) < 0)
		return NULL;
	if (job->mode == FETCH_INDEX)
		return &run.top;
	const struct doc *res = &run.top;
	if (media_type_is_index(run.top.media_type)) {
		char *dg = pick_platform(&run.top, &job->want, job->ref);
		if (dg == NULL)
			return NULL;
		int r = store_get_manifest(&run.st, dg, &run.man);
		free(dg);
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
	char jerr[256];
	json_t *j = json_parse(m->data.data, m->data.len, jerr, sizeof jerr);
	json_t *cd = json_object_get(j, "config");
	int r = -1;
	if (!descriptor_check(cd, jerr, sizeof jerr))
		warnx("%s: the manifest's config: %s", job->ref, jerr);
	else
		r = store_get_blob(&run.st, descriptor_digest(cd), config_sink, &run.config);
	json_decref(j);
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
	session_init(&run.s, &job->net.http, job->net.insecure);
	if (store_attach(&run.s, &run.st, false) < 0)
		return EXIT_FAIL;
	int r = job->mode == FETCH_BLOB ? fetch_blob(job) : fetch_documents(job);
	if (r < 0)
		return EXIT_FAIL;
	doc_free(&run.man);
	doc_free(&run.top);
	buf_free(&run.config);
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
