#include "job.h"
#include "digest.h"
#include "oci.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a run holds, at file scope: a run that ends in errx leaves it reachable (no leak
 * reports), one that succeeds frees it. */
static struct {
	json_t *manifest, *config, *result;
	struct graft_layer *layers;
	size_t nlayers;
	struct buf in;
	char *config_bytes, *manifest_bytes;
	char *version;
} run;

static const char *display(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

static void read_input(const char *path, size_t max)
{
	buf_free(&run.in);
	if (buf_read_file(&run.in, path, max) != 0) {
		if (errno == EFBIG)
			errx(EXIT_FAIL, "%s: larger than %zu bytes", display(path), max);
		err(EXIT_FAIL, "%s", display(path));
	}
}

static json_t *parse_input(const char *path)
{
	char why[300];
	json_t *doc = json_parse(run.in.data, run.in.len, why, sizeof why);
	if (doc == NULL)
		errx(EXIT_FAIL, "%s: not JSON: %s", display(path), why);
	return doc;
}

/* The base manifest: its bytes give base_digest. */
static void read_base_manifest(const char *path, char base_digest[DIGEST_STR_LEN])
{
	char why[300];
	read_input(path, MANIFEST_MAX_BYTES);
	run.manifest = parse_input(path);
	if (!graft_check_manifest(run.manifest, why, sizeof why))
		errx(EXIT_FAIL, "%s: %s", display(path), why);
	sha256_of(run.in.data, run.in.len, base_digest);
}

/* The base config: the one the manifest names (sha256 and size), with a diff_id per layer. */
static void read_base_config(const char *path, const char *manifest_path)
{
	char why[300], got[DIGEST_STR_LEN];
	read_input(path, DOCUMENT_MAX_BYTES);
	json_t *named = json_object_get(run.manifest, "config");
	sha256_of(run.in.data, run.in.len, got);
	if (strcmp(got, descriptor_digest(named)) != 0)
		errx(EXIT_FAIL, "%s: is not the config %s names (its sha256 is %s, not %s)",
		     display(path), display(manifest_path), got, descriptor_digest(named));
	if ((int64_t)run.in.len != descriptor_size(named))
		errx(EXIT_FAIL, "%s: is %zu bytes but %s says %jd", display(path), run.in.len,
		     display(manifest_path), (intmax_t)descriptor_size(named));
	run.config = parse_input(path);
	size_t nbase = json_array_size(json_object_get(run.manifest, "layers"));
	if (!graft_check_config(run.config, nbase, why, sizeof why))
		errx(EXIT_FAIL, "%s: %s", display(path), why);
}

/* A descriptor file holds one descriptor, or several separated by white space (one per line,
 * as `jq -c` prints them), each a layer in that order. */
static void read_layer_file(const struct graft_layer_file *lf)
{
	read_input(lf->path, MANIFEST_MAX_BYTES);
	const char *data = run.in.data ? run.in.data : "";
	size_t off = 0, count = 0;
	for (;;) {
		off += strspn(data + off, " \t\r\n");
		if (off >= run.in.len)
			break;
		json_error_t e;
		json_t *desc = json_loadb(data + off, run.in.len - off,
		                          JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &e);
		if (desc == NULL)
			errx(EXIT_FAIL, "%s: not JSON (descriptor %zu): line %d column %d: %s",
			     display(lf->path), count + 1, e.line, e.column, e.text);
		run.layers = xreallocarray(run.layers, run.nlayers + 1, sizeof *run.layers);
		run.layers[run.nlayers++] =
		        (struct graft_layer){desc, lf->created_by ? lf->created_by : "oci-graft"};
		char why[300];
		if (!graft_check_layer(desc, why, sizeof why))
			errx(EXIT_FAIL, "%s: %s", display(lf->path), why);
		off += (size_t)e.position;
		count++;
	}
	if (count == 0)
		errx(EXIT_FAIL, "%s: holds no layer descriptor", display(lf->path));
}

/* --version-from: the "version" of a package.json (npm's); none when it has none. */
static void read_version(const char *path)
{
	read_input(path, DOCUMENT_MAX_BYTES);
	json_t *j = parse_input(path);
	const char *v = json_string_value(json_object_get(j, "version"));
	run.version = v && *v ? xstrdup(v) : NULL;
	json_decref(j);
}

static void open_output(struct atomic_file *f, const char *path, const char *data, size_t len)
{
	if (atomic_open(f, path, 0644) != 0)
		err(EXIT_FAIL, "%s", path);
	if (write_all(f->fd, data, len) != 0)
		err(EXIT_FAIL, "%s", path);
}

static void commit_output(struct atomic_file *f, const char *path)
{
	if (atomic_commit(f) != 0)
		err(EXIT_FAIL, "%s", path);
}

/* The config, the manifest (a file or stdout) and its digest: all complete under temporary
 * names before the first is renamed into place. */
static void write_outputs(const struct graft_job *job, size_t config_len, size_t manifest_len)
{
	struct atomic_file cf, mf, df;
	char line[DIGEST_STR_LEN + 1];
	open_output(&cf, job->config_out, run.config_bytes, config_len);
	if (job->manifest_out)
		open_output(&mf, job->manifest_out, run.manifest_bytes, manifest_len);
	if (job->digest_out) {
		sha256_of(run.manifest_bytes, manifest_len, line);
		strcat(line, "\n");
		open_output(&df, job->digest_out, line, strlen(line));
	}
	commit_output(&cf, job->config_out);
	if (job->manifest_out)
		commit_output(&mf, job->manifest_out);
	else if (write_all(STDOUT_FILENO, run.manifest_bytes, manifest_len) != 0)
		err(EXIT_FAIL, "stdout");
	if (job->digest_out)
		commit_output(&df, job->digest_out);
}

static void free_run(void)
{
	free(run.manifest_bytes);
	free(run.config_bytes);
	json_decref(run.result);
	json_decref(run.config);
	json_decref(run.manifest);
	for (size_t i = 0; i < run.nlayers; i++)
		json_decref(run.layers[i].desc);
	free(run.layers);
	free(run.version);
	buf_free(&run.in);
	memset(&run, 0, sizeof run);
}

int graft_job_run(struct graft_job *job, char *why, size_t whylen)
{
	char base_digest[DIGEST_STR_LEN];
	if (job->base == GRAFT_BASE_FILES) {
		read_base_manifest(job->manifest_path, base_digest);
		job->req.base_digest = base_digest;
		read_base_config(job->config_path, job->manifest_path);
	} else {
		run.config = graft_scratch_config(&job->platform);
	}
	for (size_t i = 0; i < job->nlayers; i++)
		read_layer_file(&job->layers[i]);
	job->req.layers = run.layers;
	job->req.nlayers = run.nlayers;
	if (job->version_from) {
		read_version(job->version_from);
		job->req.version = run.version;
	}

	int rc = EXIT_OK;
	if (!graft_config(run.config, &job->req, why, whylen)) {
		rc = EXIT_USAGE;
	} else if (job->base != GRAFT_BASE_CHECK) {
		size_t config_len, manifest_len;
		char config_digest[DIGEST_STR_LEN];
		run.config_bytes = json_serialise(run.config, &config_len);
		sha256_of(run.config_bytes, config_len, config_digest);
		run.result =
		        graft_manifest(run.manifest, &job->req, config_digest, (int64_t)config_len);
		run.manifest_bytes = json_serialise(run.result, &manifest_len);
		write_outputs(job, config_len, manifest_len);
	}
	free_run();
	return rc;
}
