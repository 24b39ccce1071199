/* oci-graft's checks and helpers. The first byte picks:
 *   0: the input is JSON documents, one after another (as a --layer file holds them): the
 *      first is checked as a base manifest, the second as its config, the rest as new layers;
 *      every document also goes through each check. The text after the last document is
 *      changes, a line each: a digit (the graft_change_kind) and its value. When the checks
 *      pass, the graft is made, and what it makes must pass the same checks (a grafted image
 *      can be grafted onto again); an --env K=V without '$' is in the Env as K=V;
 *   1: graft_parse_time: an accepted time is normalised, and the normal form parses to itself;
 *   2: graft_expand of the first line against the other lines as the Env: text with no '$'
 *      comes out unchanged. */
#include "digest.h"
#include "fuzz.h"
#include "../../cmd/oci-graft/graft.h"
#include "oci.h"
#include "util.h"

#define ZERO_DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static void every_check(const json_t *doc)
{
	char err[512];
	for (size_t n = 0; n < 3; n++)
		graft_check_config(doc, n, err, sizeof err);
	graft_check_manifest(doc, err, sizeof err);
	graft_check_layer(doc, err, sizeof err);
}

/* The last --env of each KEY without '$' (nothing to expand) is in the Env as it was given. */
static void check_env(const json_t *config, const struct graft_change *c, size_t n)
{
	json_t *env = json_object_get(json_object_get(config, "config"), "Env");
	for (size_t i = 0; i < n; i++) {
		if (c[i].kind != GRAFT_ENV || strchr(c[i].arg, '$') || strchr(c[i].arg, '\\'))
			continue;
		size_t klen = (size_t)(strchr(c[i].arg, '=') - c[i].arg);
		bool later = false;
		for (size_t j = i + 1; j < n; j++)
			later |= c[j].kind == GRAFT_ENV &&
			         (strncmp(c[j].arg, c[i].arg, klen + 1) == 0 ||
			          strchr(c[j].arg, '$'));
		if (later)
			continue;
		bool found = false;
		size_t k;
		json_t *v;
		json_array_foreach(env, k, v)
		{
			found |= strcmp(json_string_value(v), c[i].arg) == 0;
		}
		FUZZ_ASSERT(found, "--env \"%s\" is not in the Env", c[i].arg);
	}
}

static void documents(struct fuzz_input *in)
{
	json_t *docs[8];
	size_t ndocs = 0, off = 0;
	while (ndocs < 8) {
		while (off < in->n && strchr(" \t\r\n", in->p[off]) && in->p[off])
			off++;
		if (off >= in->n)
			break;
		json_error_t e;
		json_t *d = json_loadb(in->p + off, in->n - off,
		                       JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &e);
		if (d == NULL)
			break;
		every_check(d);
		docs[ndocs++] = d;
		off += (size_t)e.position;
	}
	char err[512];
	if (ndocs < 2 || !graft_check_manifest(docs[0], err, sizeof err))
		goto out;
	size_t nbase = json_array_size(json_object_get(docs[0], "layers"));
	if (!graft_check_config(docs[1], nbase, err, sizeof err))
		goto out;
	struct graft_layer layers[6];
	for (size_t i = 2; i < ndocs; i++) {
		if (!graft_check_layer(docs[i], err, sizeof err))
			goto out;
		layers[i - 2] = (struct graft_layer){docs[i], "fuzz"};
	}
	/* The rest: changes, as oci-graft takes them (UTF-8, graft_check_change). */
	struct graft_change changes[16];
	char *texts[16];
	size_t nchanges = 0;
	struct fuzz_input rest = {in->p + off, in->n - off};
	while (rest.n > 0 && nchanges < 16) {
		char *line = fuzz_field(&rest, '\n');
		json_t *utf8 = json_string(line);
		struct graft_change c = {(enum graft_change_kind)((line[0] - '0') & 7), line + 1};
		if (line[0] < '0' || line[0] > '6' || utf8 == NULL ||
		    !graft_check_change(&c, err, sizeof err)) {
			free(line);
		} else {
			texts[nchanges] = line;
			changes[nchanges++] = c;
		}
		json_decref(utf8);
	}
	const char *annotations[] = {"k=v"};
	struct graft_request req = {.created = "2024-05-01T12:00:00Z",
	                            .base_name = "docker.io/library/base:latest",
	                            .base_digest = ZERO_DIGEST,
	                            .layers = layers,
	                            .nlayers = ndocs - 2,
	                            .changes = changes,
	                            .nchanges = nchanges,
	                            .annotations = annotations,
	                            .nannotations = 1};
	json_t *config = json_deep_copy(docs[1]);
	/* A change may still be refused once expanded (a usage error); nothing else may fail. */
	bool ok = graft_config(config, &req, err, sizeof err);
	FUZZ_ASSERT(ok || nchanges > 0, "graft_config: %s", err);
	if (ok) {
		FUZZ_ASSERT(graft_check_config(config, nbase + req.nlayers, err, sizeof err),
		            "the grafted config fails its own check: %s", err);
		check_env(config, changes, nchanges);
	}
	json_t *m = graft_manifest(docs[0], &req, ZERO_DIGEST, 2);
	FUZZ_ASSERT(graft_check_manifest(m, err, sizeof err),
	            "the grafted manifest fails its own check: %s", err);
	FUZZ_ASSERT(json_array_size(json_object_get(m, "layers")) == nbase + req.nlayers,
	            "layers lost");
	size_t len;
	char *s = json_serialise(m, &len);
	free(s);
	json_decref(m);
	json_decref(config);
	for (size_t i = 0; i < nchanges; i++)
		free(texts[i]);
out:
	for (size_t i = 0; i < ndocs; i++)
		json_decref(docs[i]);
}

static void times(struct fuzz_input *in)
{
	char *s = fuzz_field(in, '\0');
	char out[GRAFT_TIME_MAX], again[GRAFT_TIME_MAX], err[512] = "";
	if (graft_parse_time(s, out, err, sizeof err)) {
		size_t n = strlen(out);
		FUZZ_ASSERT(n >= 20 && out[n - 1] == 'Z', "\"%s\" -> \"%s\"", s, out);
		FUZZ_ASSERT(graft_parse_time(out, again, err, sizeof err), "\"%s\" -> \"%s\": %s",
		            s, out, err);
		FUZZ_ASSERT(strcmp(out, again) == 0, "\"%s\" -> \"%s\" -> \"%s\"", s, out, again);
	} else {
		FUZZ_ASSERT(err[0], "\"%s\" refused without a reason", s);
	}
	free(s);
}

static void expand(struct fuzz_input *in)
{
	char *s = fuzz_field(in, '\n');
	json_t *env = json_array();
	while (in->n > 0) {
		char *e = fuzz_field(in, '\n');
		json_array_append_new(env, json_string(e)); /* NULL (not UTF-8) is not added */
		free(e);
	}
	char err[512] = "";
	char *out = graft_expand(s, env, err, sizeof err);
	if (strchr(s, '$') == NULL)
		FUZZ_ASSERT(out && strcmp(out, s) == 0, "\"%s\" -> \"%s\"", s, out ? out : err);
	if (out == NULL)
		FUZZ_ASSERT(err[0], "\"%s\" refused without a reason", s);
	free(out);
	json_decref(env);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {(const char *)data, size};
	switch (fuzz_byte(&in) % 3) {
	case 0:
		documents(&in);
		break;
	case 1:
		times(&in);
		break;
	case 2:
		expand(&in);
		break;
	}
	return 0;
}
