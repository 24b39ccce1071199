#include "graft.h"
#include "digest.h"
#include "oci.h"
#include "path.h"
#include "platform.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool is_media_type(const char *mt, const char *want)
{
	return mt && strcmp(mt, want) == 0;
}

static bool is_image_config_type(const char *mt)
{
	return is_media_type(mt, MT_OCI_CONFIG) || is_media_type(mt, MT_DOCKER_CONFIG);
}

/* The layer types a new layer may have: what oci-digest writes, and Docker's names for the
 * same bytes. Foreign/non-distributable layers are not built by anyone here. */
static bool is_graftable_layer_type(const char *mt)
{
	return is_media_type(mt, MT_OCI_LAYER) || is_media_type(mt, MT_OCI_LAYER_GZIP) ||
	       is_media_type(mt, MT_OCI_LAYER_ZSTD) || is_media_type(mt, MT_DOCKER_LAYER_GZIP) ||
	       is_media_type(mt, MT_DOCKER_LAYER);
}

static bool is_gzip_layer_type(const char *mt)
{
	return is_media_type(mt, MT_OCI_LAYER_GZIP) || is_media_type(mt, MT_DOCKER_LAYER_GZIP);
}

/* Same bytes, OCI name. Foreign layers keep their Docker type: their urls point outside the
 * registry and the type is what tells a client to fetch them there. */
static const char *oci_equivalent(const char *mt)
{
	if (is_media_type(mt, MT_DOCKER_LAYER_GZIP))
		return MT_OCI_LAYER_GZIP;
	if (is_media_type(mt, MT_DOCKER_LAYER))
		return MT_OCI_LAYER;
	return mt;
}

static const char *docker_equivalent(const char *mt)
{
	if (is_media_type(mt, MT_OCI_LAYER_GZIP))
		return MT_DOCKER_LAYER_GZIP;
	return mt;
}

bool graft_is_string_array(const json_t *a)
{
	size_t i;
	json_t *v;
	if (!json_is_array(a))
		return false;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return false;
	}
	return true;
}

bool graft_check_manifest(const json_t *m, char *err, size_t errlen)
{
	if (!json_is_object(m))
		return fail_reason(err, errlen, "is not a JSON object");
	const char *declared = json_string_value(json_object_get(m, "mediaType"));
	json_t *version = json_object_get(m, "schemaVersion");
	if (json_integer_value(version) == 1 ||
	    (declared && strncmp(declared, "application/vnd.docker.distribution.manifest.v1",
	                         strlen("application/vnd.docker.distribution.manifest.v1")) == 0))
		return fail_reason(
		        err, errlen,
		        "is a Docker schema 1 manifest, which is not supported (convert the "
		        "base with skopeo copy --format v2s2)");
	const char *mt = manifest_media_type(m);
	if (media_type_is_index(mt))
		return fail_reason(err, errlen,
		                   "is an index; pick a platform with oci-fetch --platform");
	if (!media_type_is_manifest(mt))
		return fail_reason(err, errlen, "is not an image manifest (mediaType %s)",
		                   mt ? mt : "missing");
	if (!json_is_integer(version) || json_integer_value(version) != 2)
		return fail_reason(err, errlen, "schemaVersion is not 2");

	char why[300];
	json_t *config = json_object_get(m, "config");
	if (!descriptor_check(config, why, sizeof why))
		return fail_reason(err, errlen, "config: %s", why);
	if (!is_image_config_type(descriptor_media_type(config)))
		return fail_reason(err, errlen,
		                   "is not a container image: its config's mediaType is %s",
		                   descriptor_media_type(config));
	json_t *layers = json_object_get(m, "layers");
	if (!json_is_array(layers))
		return fail_reason(err, errlen, "has no layers array");
	size_t i;
	json_t *layer;
	json_array_foreach(layers, i, layer)
	{
		if (!descriptor_check(layer, why, sizeof why))
			return fail_reason(err, errlen, "layers[%zu]: %s", i, why);
	}
	return true;
}

/* The members of the "config" object that changes read or extend must have the types the
 * image-spec gives them, or a change could not be applied as Docker would. */
static bool check_container_config(const json_t *cc, char *err, size_t errlen)
{
	if (cc == NULL || json_is_null(cc))
		return true;
	if (!json_is_object(cc))
		return fail_reason(err, errlen, "config is not an object");
	static const struct {
		const char *key;
		bool (*ok)(const json_t *);
		const char *what;
	} members[] = {
	        {"Env", graft_is_string_array, "an array of strings"},
	        {"Shell", graft_is_string_array, "an array of strings"},
	};
	for (size_t i = 0; i < sizeof members / sizeof *members; i++) {
		json_t *v = json_object_get(cc, members[i].key);
		if (v && !json_is_null(v) && !members[i].ok(v))
			return fail_reason(err, errlen, "config.%s is not %s", members[i].key,
			                   members[i].what);
	}
	const char *objects[] = {"Labels", "ExposedPorts"};
	for (size_t i = 0; i < sizeof objects / sizeof *objects; i++) {
		json_t *v = json_object_get(cc, objects[i]);
		if (v && !json_is_null(v) && !json_is_object(v))
			return fail_reason(err, errlen, "config.%s is not an object", objects[i]);
	}
	json_t *wd = json_object_get(cc, "WorkingDir");
	if (wd && !json_is_null(wd) && !json_is_string(wd))
		return fail_reason(err, errlen, "config.WorkingDir is not a string");
	return true;
}

bool graft_check_config(const json_t *config, size_t nlayers, char *err, size_t errlen)
{
	if (!json_is_object(config))
		return fail_reason(err, errlen, "is not a JSON object");
	json_t *rootfs = json_object_get(config, "rootfs");
	if (!json_is_object(rootfs))
		return fail_reason(err, errlen, "has no rootfs object");
	const char *type = json_string_value(json_object_get(rootfs, "type"));
	if (type == NULL || strcmp(type, "layers") != 0)
		return fail_reason(err, errlen, "rootfs.type is not \"layers\"");
	json_t *diff_ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(diff_ids))
		return fail_reason(err, errlen, "has no rootfs.diff_ids array");
	size_t i;
	json_t *d;
	json_array_foreach(diff_ids, i, d)
	{
		if (!json_is_string(d) || !digest_is_sha256(json_string_value(d)))
			return fail_reason(err, errlen,
			                   "rootfs.diff_ids[%zu] is not sha256:<64 hex>", i);
	}
	if (json_array_size(diff_ids) != nlayers)
		return fail_reason(err, errlen, "has %zu diff_ids but the manifest has %zu layers",
		                   json_array_size(diff_ids), nlayers);
	json_t *history = json_object_get(config, "history");
	if (history && !json_is_null(history) && !json_is_array(history))
		return fail_reason(err, errlen, "history is not an array");
	return check_container_config(json_object_get(config, "config"), err, errlen);
}

bool graft_check_layer(const json_t *desc, char *err, size_t errlen)
{
	if (!descriptor_check(desc, err, errlen))
		return false;
	const char *mt = descriptor_media_type(desc);
	if (!is_graftable_layer_type(mt))
		return fail_reason(
		        err, errlen,
		        "mediaType %s is not a layer type oci-graft grafts (tar, tar+gzip, "
		        "tar+zstd)",
		        mt);
	json_t *diff_id = json_object_get(desc, "diffID");
	if (diff_id == NULL)
		return fail_reason(err, errlen,
		                   "descriptor has no diffID (use oci-digest's descriptor)");
	if (!json_is_string(diff_id) || !digest_is_sha256(json_string_value(diff_id)))
		return fail_reason(err, errlen, "diffID is not sha256:<64 hex>");
	return true;
}

bool graft_check_kv(const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL)
		return fail_reason(err, errlen, "\"%s\" is not KEY=VALUE", arg);
	if (eq == arg)
		return fail_reason(err, errlen, "\"%s\" has an empty KEY", arg);
	return true;
}

/* --- scratch --- */

json_t *graft_scratch_config(const struct platform *p)
{
	/* The image-spec's member order; created is set by graft_config. */
	json_t *c = json_object();
	json_object_set_new(c, "created", json_string(""));
	platform_to_json(p, c);
	json_object_set_new(c, "config", json_object());
	json_t *rootfs = json_object();
	json_object_set_new(rootfs, "type", json_string("layers"));
	json_object_set_new(rootfs, "diff_ids", json_array());
	json_object_set_new(c, "rootfs", rootfs);
	json_object_set_new(c, "history", json_array());
	return c;
}

/* --- time --- */

static bool take_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool take_char(const char **p, const char *any)
{
	if (**p == '\0' || strchr(any, **p) == NULL)
		return false;
	(*p)++;
	return true;
}

static int days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

/* The callers keep every field in range; the modulos let the compiler see the length. */
static void format_tm(const struct tm *t, const char *frac, size_t fraclen,
                      char out[GRAFT_TIME_MAX])
{
	snprintf(out, GRAFT_TIME_MAX, "%04u-%02u-%02uT%02u:%02u:%02u%s%.*sZ",
	         (unsigned)(t->tm_year + 1900) % 10000, (unsigned)(t->tm_mon + 1) % 100,
	         (unsigned)t->tm_mday % 100, (unsigned)t->tm_hour % 100, (unsigned)t->tm_min % 100,
	         (unsigned)t->tm_sec % 100, fraclen ? "." : "", (int)(fraclen % 10), frac);
}

void graft_format_epoch(uint64_t epoch, char out[GRAFT_TIME_MAX])
{
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	format_tm(&tm, "", 0, out);
}

bool graft_parse_time(const char *s, char out[GRAFT_TIME_MAX], char *err, size_t errlen)
{
	const char *p = s;
	int year, month, day, hour, min, sec, oh = 0, om = 0, sign = 0;
	if (!take_digits(&p, 4, &year) || !take_char(&p, "-") || !take_digits(&p, 2, &month) ||
	    !take_char(&p, "-") || !take_digits(&p, 2, &day) || !take_char(&p, "Tt") ||
	    !take_digits(&p, 2, &hour) || !take_char(&p, ":") || !take_digits(&p, 2, &min) ||
	    !take_char(&p, ":") || !take_digits(&p, 2, &sec))
		goto bad;
	const char *frac = "";
	size_t fraclen = 0;
	if (take_char(&p, ".")) {
		frac = p;
		while (*p >= '0' && *p <= '9')
			p++;
		fraclen = (size_t)(p - frac);
		if (fraclen == 0 || fraclen > 9)
			goto bad;
		while (fraclen > 0 && frac[fraclen - 1] == '0')
			fraclen--;
	}
	if (take_char(&p, "Zz")) {
		sign = 0;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!take_digits(&p, 2, &oh) || !take_char(&p, ":") || !take_digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			goto bad;
	} else {
		goto bad;
	}
	if (*p != '\0' || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
	    hour > 23 || min > 59 || sec > 59)
		goto bad;

	struct tm tm = {.tm_year = year - 1900,
	                .tm_mon = month - 1,
	                .tm_mday = day,
	                .tm_hour = hour,
	                .tm_min = min,
	                .tm_sec = sec};
	time_t t = timegm(&tm) - sign * (oh * 3600 + om * 60);
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		goto bad;
	format_tm(&tm, frac, fraclen, out);
	return true;
bad:
	return fail_reason(err, errlen,
	                   "\"%s\" is not an RFC 3339 time (like 2024-05-01T12:00:00Z)", s);
}

/* --- variables --- */

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static const char *env_lookup(const json_t *env, const char *name, size_t n)
{
	size_t i;
	json_t *v;
	json_array_foreach(env, i, v)
	{
		const char *s = json_string_value(v);
		if (s && strncmp(s, name, n) == 0 && s[n] == '=')
			return s + n + 1;
	}
	return NULL;
}

static bool expand_into(struct buf *out, const char *s, size_t len, const json_t *env, char *err,
                        size_t errlen);

/* The end of ${NAME:-word}'s word starting at k: the '}' that closes it (nested ${ counted,
 * backslash escapes skipped), or len. */
static size_t word_end(const char *s, size_t len, size_t k)
{
	size_t depth = 1;
	while (k < len) {
		if (s[k] == '\\' && k + 1 < len)
			k += 2;
		else if (s[k] == '$' && k + 1 < len && s[k + 1] == '{')
			depth++, k += 2;
		else if (s[k] == '}' && --depth == 0)
			break;
		else
			k++;
	}
	return k;
}

/* ${NAME}, ${NAME:-word} or ${NAME:+word} at s[i] ("${"); *next is the index after it. */
static bool expand_braced(struct buf *out, const char *s, size_t len, size_t i, const json_t *env,
                          size_t *next, char *err, size_t errlen)
{
	size_t name = i + 2, j = name;
	if (j < len && is_name_start(s[j]))
		while (j < len && is_name_char(s[j]))
			j++;
	if (j == name)
		return fail_reason(err, errlen, "bad substitution in \"%.*s\"", (int)len, s);
	if (j >= len)
		return fail_reason(err, errlen, "unterminated ${ in \"%.*s\"", (int)len, s);
	const char *val = env_lookup(env, s + name, j - name);
	if (s[j] == '}') {
		if (val)
			buf_append(out, val, strlen(val));
		*next = j + 1;
		return true;
	}
	if (s[j] != ':' || j + 1 >= len || (s[j + 1] != '-' && s[j + 1] != '+'))
		return fail_reason(err, errlen,
		                   "unsupported substitution in \"%.*s\" (only $NAME, ${NAME}, "
		                   "${NAME:-word}, ${NAME:+word})",
		                   (int)len, s);
	char op = s[j + 1];
	size_t word = j + 2, k = word_end(s, len, word);
	if (k >= len)
		return fail_reason(err, errlen, "unterminated ${ in \"%.*s\"", (int)len, s);
	bool set = val && *val;
	if ((op == '-' && !set) || (op == '+' && set)) {
		if (!expand_into(out, s + word, k - word, env, err, errlen))
			return false;
	} else if (op == '-') {
		buf_append(out, val, strlen(val));
	}
	*next = k + 1;
	return true;
}

static bool expand_into(struct buf *out, const char *s, size_t len, const json_t *env, char *err,
                        size_t errlen)
{
	size_t i = 0;
	while (i < len) {
		if (s[i] == '\\' && i + 1 < len && s[i + 1] == '$') {
			buf_append(out, "$", 1);
			i += 2;
		} else if (s[i] != '$') {
			buf_append(out, s + i, 1);
			i++;
		} else if (i + 1 < len && is_name_start(s[i + 1])) {
			size_t j = i + 1;
			while (j < len && is_name_char(s[j]))
				j++;
			const char *val = env_lookup(env, s + i + 1, j - i - 1);
			if (val)
				buf_append(out, val, strlen(val));
			i = j;
		} else if (i + 1 >= len || s[i + 1] != '{') {
			/* Like the shell: a $ that starts no name is itself. */
			buf_append(out, "$", 1);
			i++;
		} else if (!expand_braced(out, s, len, i, env, &i, err, errlen)) {
			return false;
		}
	}
	return true;
}

char *graft_expand(const char *s, const json_t *env, char *err, size_t errlen)
{
	struct buf out = {0};
	buf_append(&out, "", 0);
	if (!expand_into(&out, s, strlen(s), env, err, errlen)) {
		buf_free(&out);
		return NULL;
	}
	return out.data;
}

/* --- changes --- */

struct port_range {
	unsigned lo, hi;
	char proto[5];
};

static bool parse_port(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return v >= 1 && v <= 65535;
}

/* Docker's EXPOSE: PORT or START-END, then /tcp (the default), /udp or /sctp. */
static bool parse_expose(const char *s, struct port_range *r, char *err, size_t errlen)
{
	*r = (struct port_range){0};
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	const char *dash = memchr(s, '-', n);
	bool ok;
	if (dash) {
		ok = parse_port(s, (size_t)(dash - s), &r->lo) &&
		     parse_port(dash + 1, n - (size_t)(dash - s) - 1, &r->hi) && r->lo <= r->hi;
	} else {
		ok = parse_port(s, n, &r->lo);
		r->hi = r->lo;
	}
	if (!ok)
		return fail_reason(err, errlen, "\"%s\" is not PORT[/PROTO] or START-END[/PROTO]",
		                   s);
	strcpy(r->proto, "tcp");
	if (slash) {
		const char *proto = slash + 1;
		if (strcasecmp(proto, "tcp") != 0 && strcasecmp(proto, "udp") != 0 &&
		    strcasecmp(proto, "sctp") != 0)
			return fail_reason(err, errlen, "\"%s\": protocol is not tcp, udp or sctp",
			                   s);
		for (size_t i = 0; proto[i]; i++)
			r->proto[i] = (char)(proto[i] | 0x20);
		r->proto[strlen(proto)] = '\0';
	}
	return true;
}

static bool check_user(const char *s, char *err, size_t errlen)
{
	const char *colon = strchr(s, ':');
	if (*s == '\0' || colon == s || (colon && (colon[1] == '\0' || strchr(colon + 1, ':'))))
		return fail_reason(err, errlen, "\"%s\" is not USER[:GROUP]", s);
	return true;
}

/* exec form if the value is a JSON array, else the shell form; NULL if it looks like an array
 * but is not one of strings (Docker would silently run it through the shell). */
json_t *graft_exec_form(const char *arg, bool *is_exec, char *err, size_t errlen)
{
	const char *p = arg + strspn(arg, " \t\n\r");
	*is_exec = *p == '[';
	if (!*is_exec)
		return NULL;
	json_error_t e;
	json_t *a = json_loads(arg, 0, &e);
	if (!graft_is_string_array(a)) {
		json_decref(a);
		fail_reason(err, errlen,
		            "\"%s\" starts like a JSON array but is not an array of strings", arg);
		return NULL;
	}
	return a;
}

bool graft_check_change(const struct graft_change *c, char *err, size_t errlen)
{
	bool exec;
	json_t *a;
	bool has_var = strchr(c->arg, '$') != NULL;
	struct port_range r;
	switch (c->kind) {
	case GRAFT_ENTRYPOINT:
	case GRAFT_CMD:
		a = graft_exec_form(c->arg, &exec, err, errlen);
		json_decref(a);
		return !exec || a != NULL;
	case GRAFT_ENV:
	case GRAFT_LABEL:
		return graft_check_kv(c->arg, err, errlen);
	case GRAFT_WORKDIR:
		if (*c->arg == '\0')
			return fail_reason(err, errlen, "empty directory");
		return true;
	case GRAFT_USER:
		return has_var || check_user(c->arg, err, errlen);
	case GRAFT_EXPOSE:
		return has_var || parse_expose(c->arg, &r, err, errlen);
	default:
		return graft_check_runtime_change(c, err, errlen);
	}
}

static const char *change_option(enum graft_change_kind k)
{
	static const char *names[] = {
	        [GRAFT_ENTRYPOINT] = "--entrypoint",
	        [GRAFT_CMD] = "--cmd",
	        [GRAFT_ENV] = "--env",
	        [GRAFT_WORKDIR] = "--workdir",
	        [GRAFT_USER] = "--user",
	        [GRAFT_LABEL] = "--label",
	        [GRAFT_EXPOSE] = "--expose",
	        [GRAFT_HEALTHCHECK] = "--healthcheck",
	        [GRAFT_HEALTH_INTERVAL] = "--healthcheck-interval",
	        [GRAFT_HEALTH_TIMEOUT] = "--healthcheck-timeout",
	        [GRAFT_HEALTH_START_PERIOD] = "--healthcheck-start-period",
	        [GRAFT_HEALTH_RETRIES] = "--healthcheck-retries",
	        [GRAFT_STOP_SIGNAL] = "--stop-signal",
	        [GRAFT_VOLUME] = "--volume",
	        [GRAFT_SHELL] = "--shell",
	};
	return names[k];
}

/* Object member `key` of cc, made an empty object/array if absent or null. */
static json_t *member(json_t *cc, const char *key, json_t *(*make)(void))
{
	json_t *v = json_object_get(cc, key);
	if (v == NULL || json_is_null(v)) {
		v = make();
		json_object_set_new(cc, key, v);
	}
	return v;
}

/* The shell form runs through the image's shell: config.Shell (Dockerfile SHELL) if set,
 * else /bin/sh -c, or cmd /S /C on Windows, as docker build does. */
static json_t *shell_form(const json_t *config, const json_t *cc, const char *arg)
{
	json_t *shell = json_object_get(cc, "Shell");
	json_t *a;
	if (graft_is_string_array(shell) && json_array_size(shell) > 0) {
		a = json_deep_copy(shell);
	} else {
		const char *os = json_string_value(json_object_get(config, "os"));
		a = json_array();
		bool windows = os && strcmp(os, "windows") == 0;
		json_array_append_new(a, json_string(windows ? "cmd" : "/bin/sh"));
		if (windows)
			json_array_append_new(a, json_string("/S"));
		json_array_append_new(a, json_string(windows ? "/C" : "-c"));
	}
	json_array_append_new(a, json_string(arg));
	return a;
}

/* Splits "K=V" and expands both sides in the current environment. */
static bool expand_kv(const char *arg, const json_t *env, char **key, char **val, char *err,
                      size_t errlen)
{
	if (!graft_check_kv(arg, err, errlen))
		return false;
	const char *eq = strchr(arg, '=');
	char *rawkey = xstrndup(arg, (size_t)(eq - arg));
	*key = graft_expand(rawkey, env, err, errlen);
	free(rawkey);
	if (*key == NULL)
		return false;
	*val = graft_expand(eq + 1, env, err, errlen);
	if (*val == NULL) {
		free(*key);
		return false;
	}
	if (**key == '\0' || strchr(*key, '=')) {
		fail_reason(err, errlen, "\"%s\": KEY expands to \"%s\"", arg, *key);
		free(*key);
		free(*val);
		return false;
	}
	return true;
}

static bool apply_env(json_t *cc, const char *arg, char *err, size_t errlen)
{
	json_t *env = member(cc, "Env", json_array);
	char *key, *val;
	if (!expand_kv(arg, env, &key, &val, err, errlen))
		return false;
	char *entry = xasprintf("%s=%s", key, val);
	size_t keylen = strlen(key), i;
	json_t *v;
	bool replaced = false;
	json_array_foreach(env, i, v)
	{
		const char *s = json_string_value(v);
		if (strncmp(s, key, keylen) == 0 && s[keylen] == '=') {
			json_array_set_new(env, i, json_string(entry));
			replaced = true;
			break;
		}
	}
	if (!replaced)
		json_array_append_new(env, json_string(entry));
	free(entry);
	free(key);
	free(val);
	return true;
}

/* ENTRYPOINT, CMD: the exec form (a JSON array) as it is, the shell form through the shell. */
static bool apply_command(json_t *config, json_t *cc, const struct graft_change *c, char *err,
                          size_t errlen)
{
	bool exec;
	json_t *a = graft_exec_form(c->arg, &exec, err, errlen);
	if (exec && a == NULL)
		return false;
	json_object_set_new(cc, c->kind == GRAFT_CMD ? "Cmd" : "Entrypoint",
	                    exec ? a : shell_form(config, cc, c->arg));
	return true;
}

/* WORKDIR: a relative one is relative to the previous one, as in docker build; cleaned. */
static bool apply_workdir(json_t *cc, const char *s, const char *arg, char *err, size_t errlen)
{
	if (*s == '\0')
		return fail_reason(err, errlen, "\"%s\" expands to an empty directory", arg);
	const char *cur = json_string_value(json_object_get(cc, "WorkingDir"));
	char *joined = s[0] == '/' ? xstrdup(s) : xasprintf("%s/%s", cur ? cur : "", s);
	char *clean = path_clean_abs(joined);
	json_object_set_new(cc, "WorkingDir", json_string(clean));
	free(clean);
	free(joined);
	return true;
}

static bool apply_user(json_t *cc, const char *s, char *err, size_t errlen)
{
	if (!check_user(s, err, errlen))
		return false;
	json_object_set_new(cc, "User", json_string(s));
	return true;
}

static bool apply_label(json_t *cc, const char *arg, const json_t *env, char *err, size_t errlen)
{
	char *key, *val;
	if (!expand_kv(arg, env, &key, &val, err, errlen))
		return false;
	json_object_set_new(member(cc, "Labels", json_object), key, json_string(val));
	free(key);
	free(val);
	return true;
}

static bool apply_expose(json_t *cc, const char *s, char *err, size_t errlen)
{
	struct port_range r;
	if (!parse_expose(s, &r, err, errlen))
		return false;
	json_t *ports = member(cc, "ExposedPorts", json_object);
	for (unsigned p = r.lo; p <= r.hi; p++) {
		char key[16];
		snprintf(key, sizeof key, "%u/%s", p, r.proto);
		json_object_set_new(ports, key, json_object());
	}
	return true;
}

/* The changes whose value is expanded whole first ($VAR from the image's Env). */
static bool apply_expanded(json_t *cc, const struct graft_change *c, const json_t *env, char *err,
                           size_t errlen)
{
	char *s = graft_expand(c->arg, env, err, errlen);
	if (s == NULL)
		return false;
	bool ok = c->kind == GRAFT_WORKDIR ? apply_workdir(cc, s, c->arg, err, errlen)
	          : c->kind == GRAFT_USER  ? apply_user(cc, s, err, errlen)
	                                   : apply_expose(cc, s, err, errlen);
	free(s);
	return ok;
}

static bool apply_change_kind(json_t *config, json_t *cc, const struct graft_change *c,
                              const json_t *env, char *err, size_t errlen)
{
	switch (c->kind) {
	case GRAFT_ENTRYPOINT:
	case GRAFT_CMD:
		return apply_command(config, cc, c, err, errlen);
	case GRAFT_ENV:
		return apply_env(cc, c->arg, err, errlen);
	case GRAFT_WORKDIR:
	case GRAFT_USER:
	case GRAFT_EXPOSE:
		return apply_expanded(cc, c, env, err, errlen);
	case GRAFT_LABEL:
		return apply_label(cc, c->arg, env, err, errlen);
	default:
		return graft_apply_runtime_change(cc, c, env, err, errlen);
	}
}

/* One change, in the environment the changes before it left; its option named on failure. */
static bool apply_change(json_t *config, json_t *cc, const struct graft_change *c, char *err,
                         size_t errlen)
{
	json_t *empty_env = NULL;
	json_t *env = json_object_get(cc, "Env");
	if (!json_is_array(env))
		env = empty_env = json_array();
	bool ok = apply_change_kind(config, cc, c, env, err, errlen);
	json_decref(empty_env);
	if (!ok) {
		char why[512];
		snprintf(why, sizeof why, "%s", err);
		fail_reason(err, errlen, "%s: %s", change_option(c->kind), why);
	}
	return ok;
}

bool graft_config(json_t *config, const struct graft_request *req, char *err, size_t errlen)
{
	json_object_set_new(config, "created", json_string(req->created));
	json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	json_t *history = member(config, "history", json_array);
	for (size_t i = 0; i < req->nlayers; i++) {
		json_array_append(diff_ids, json_object_get(req->layers[i].desc, "diffID"));
		json_t *h = json_object();
		json_object_set_new(h, "created", json_string(req->created));
		json_object_set_new(h, "created_by", json_string(req->layers[i].created_by));
		json_array_append_new(history, h);
	}
	if (req->nchanges == 0)
		return true;
	json_t *cc = member(config, "config", json_object);
	bool entrypoint_set = false, cmd_set = false;
	for (size_t i = 0; i < req->nchanges; i++) {
		if (graft_change_is_health_timing(req->changes[i].kind))
			continue;
		if (!apply_change(config, cc, &req->changes[i], err, errlen))
			return false;
		entrypoint_set |= req->changes[i].kind == GRAFT_ENTRYPOINT;
		cmd_set |= req->changes[i].kind == GRAFT_CMD;
	}
	/* The timings refine the Healthcheck the changes above left. */
	for (size_t i = 0; i < req->nchanges; i++)
		if (graft_change_is_health_timing(req->changes[i].kind) &&
		    !apply_change(config, cc, &req->changes[i], err, errlen))
			return false;
	/* docker build: ENTRYPOINT resets the base's CMD unless this build sets CMD too. */
	if (entrypoint_set && !cmd_set)
		json_object_del(cc, "Cmd");
	return true;
}

/* --- the manifest --- */

char *graft_source_url(const char *url)
{
	struct buf b = {0};
	const char *scheme = strstr(url, "://");
	const char *at = strchr(url, '@'), *colon = strchr(url, ':'), *slash = strchr(url, '/');
	if (scheme) {
		/* scheme://[userinfo@]host/path: the userinfo is a credential */
		const char *host = scheme + 3;
		const char *end = host + strcspn(host, "/");
		const char *ui = memchr(host, '@', (size_t)(end - host));
		buf_append(&b, url, (size_t)(host - url));
		buf_appendf(&b, "%s", ui ? ui + 1 : host);
	} else if (at && colon && at < colon && (slash == NULL || slash > colon)) {
		/* git@host:org/repo */
		buf_appendf(&b, "https://%.*s/%s", (int)(colon - at - 1), at + 1, colon + 1);
	} else {
		buf_appendf(&b, "%s", url);
	}
	if (b.len > 4 && strcmp(b.data + b.len - 4, ".git") == 0)
		b.data[b.len -= 4] = '\0';
	return b.data;
}

bool graft_result_is_oci(const json_t *base, const struct graft_request *req)
{
	if (req->force_oci || base == NULL ||
	    !is_media_type(manifest_media_type(base), MT_DOCKER_MANIFEST))
		return true;
	for (size_t i = 0; i < req->nlayers; i++)
		if (!is_gzip_layer_type(descriptor_media_type(req->layers[i].desc)))
			return true;
	return false;
}

static void set_media_type(json_t *desc, const char *mt)
{
	if (!is_media_type(descriptor_media_type(desc), mt))
		json_object_set_new(desc, "mediaType", json_string(mt));
}

json_t *graft_manifest(const json_t *base, const struct graft_request *req,
                       const char *config_digest, int64_t config_size)
{
	bool oci = graft_result_is_oci(base, req);
	bool from_docker = base && is_media_type(manifest_media_type(base), MT_DOCKER_MANIFEST);

	json_t *m = json_object();
	json_object_set_new(m, "schemaVersion", json_integer(2));
	json_object_set_new(m, "mediaType",
	                    json_string(oci ? MT_OCI_MANIFEST : MT_DOCKER_MANIFEST));
	json_t *config = json_object();
	json_object_set_new(config, "mediaType",
	                    json_string(oci ? MT_OCI_CONFIG : MT_DOCKER_CONFIG));
	json_object_set_new(config, "digest", json_string(config_digest));
	json_object_set_new(config, "size", json_integer(config_size));
	json_object_set_new(m, "config", config);

	json_t *layers = json_array();
	size_t i;
	json_t *layer;
	json_array_foreach(json_object_get(base, "layers"), i, layer)
	{
		json_t *d = json_deep_copy(layer);
		if (oci && from_docker)
			set_media_type(d, oci_equivalent(descriptor_media_type(d)));
		json_array_append_new(layers, d);
	}
	for (i = 0; i < req->nlayers; i++) {
		json_t *d = json_deep_copy(req->layers[i].desc);
		json_object_del(d, "diffID");
		const char *mt = descriptor_media_type(d);
		set_media_type(d, oci ? oci_equivalent(mt) : docker_equivalent(mt));
		json_array_append_new(layers, d);
	}
	json_object_set_new(m, "layers", layers);

	json_t *annotations = json_object();
	if (req->base_name)
		json_object_set_new(annotations, ANNOTATION_BASE_NAME, json_string(req->base_name));
	if (req->base_digest)
		json_object_set_new(annotations, ANNOTATION_BASE_DIGEST,
		                    json_string(req->base_digest));
	if (req->annotate_created)
		json_object_set_new(annotations, ANNOTATION_CREATED, json_string(req->created));
	if (req->source)
		json_object_set_new(annotations, ANNOTATION_SOURCE, json_string(req->source));
	if (req->revision)
		json_object_set_new(annotations, ANNOTATION_REVISION, json_string(req->revision));
	if (req->version)
		json_object_set_new(annotations, ANNOTATION_VERSION, json_string(req->version));
	for (i = 0; i < req->nannotations; i++) {
		const char *kv = req->annotations[i], *eq = strchr(kv, '=');
		char *key = xstrndup(kv, (size_t)(eq - kv));
		json_object_set_new(annotations, key, json_string(eq + 1));
		free(key);
	}
	if (json_object_size(annotations) > 0)
		json_object_set_new(m, "annotations", annotations);
	else
		json_decref(annotations);
	return m;
}
