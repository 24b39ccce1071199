/* The runtime settings of a container config that Dockerfile's HEALTHCHECK, STOPSIGNAL, VOLUME
 * and SHELL set, as docker build writes them into the config object (moby's
 * container.HealthConfig: Test, Interval, Timeout, StartPeriod, Retries, durations in
 * nanoseconds; StopSignal; Volumes as an object of empty objects; Shell as an array). */
#include "graft.h"
#include "util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool graft_change_is_health_timing(enum graft_change_kind k)
{
	return k == GRAFT_HEALTH_INTERVAL || k == GRAFT_HEALTH_TIMEOUT ||
	       k == GRAFT_HEALTH_START_PERIOD || k == GRAFT_HEALTH_RETRIES;
}

/* One number and unit of a duration ("1.5h", "30s"): its nanoseconds, added to *ns. */
static bool take_duration_part(const char **p, int64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"ns", 1},  {"us", 1e3}, {"µs", 1e3},  {"ms", 1e6},
	             {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
	char *end;
	if (!isdigit((unsigned char)**p) && **p != '.')
		return false;
	double v = strtod(*p, &end);
	if (end == *p)
		return false;
	size_t best = 0, best_len = 0;
	for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
		size_t n = strlen(units[i].unit);
		if (strncmp(end, units[i].unit, n) == 0 && n > best_len)
			best = i, best_len = n;
	}
	if (best_len == 0)
		return false;
	double total = (double)*ns + v * units[best].ns;
	if (total > (double)INT64_MAX)
		return false;
	*ns = (int64_t)total;
	*p = end + best_len;
	return true;
}

bool graft_parse_duration(const char *s, int64_t *ns)
{
	*ns = 0;
	if (strcmp(s, "0") == 0)
		return true;
	if (*s == '\0')
		return false;
	while (*s)
		if (!take_duration_part(&s, ns))
			return false;
	return true;
}

/* SIGNAME, NAME or a number 1-64, as STOPSIGNAL takes it (kept as written). */
static bool signal_ok(const char *s)
{
	uint64_t n;
	if (parse_u64(s, 64, &n))
		return n >= 1;
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	if (!isupper((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '+' &&
		    *s != '-')
			return false;
	return true;
}

static bool check_timing(const struct graft_change *c, char *err, size_t errlen)
{
	int64_t ns;
	uint64_t n;
	if (c->kind == GRAFT_HEALTH_RETRIES)
		return parse_u64(c->arg, INT32_MAX, &n) ||
		       fail_reason(err, errlen, "\"%s\" is not a number of retries", c->arg);
	if (!graft_parse_duration(c->arg, &ns))
		return fail_reason(err, errlen, "\"%s\" is not a duration (like 30s, 1m30s, 500ms)",
		                   c->arg);
	/* docker build: a duration is 0 (the default) or at least 1 ms. */
	if (ns != 0 && ns < 1000000)
		return fail_reason(err, errlen, "\"%s\" is shorter than 1ms", c->arg);
	return true;
}

/* --shell: Dockerfile's SHELL takes only the JSON form. */
static json_t *shell_array(const char *arg, char *err, size_t errlen)
{
	bool exec;
	json_t *a = graft_exec_form(arg, &exec, err, errlen);
	if (!exec || a == NULL || json_array_size(a) == 0) {
		json_decref(a);
		if (!exec || a != NULL)
			fail_reason(err, errlen,
			            "\"%s\" is not a JSON array of strings (like "
			            "[\"/bin/bash\", \"-c\"])",
			            arg);
		return NULL;
	}
	return a;
}

bool graft_check_runtime_change(const struct graft_change *c, char *err, size_t errlen)
{
	bool exec;
	json_t *a;
	switch (c->kind) {
	case GRAFT_HEALTHCHECK:
		if (*c->arg == '\0')
			return fail_reason(err, errlen, "empty command (NONE disables the check)");
		a = graft_exec_form(c->arg, &exec, err, errlen);
		json_decref(a);
		return !exec || a != NULL;
	case GRAFT_HEALTH_INTERVAL:
	case GRAFT_HEALTH_TIMEOUT:
	case GRAFT_HEALTH_START_PERIOD:
	case GRAFT_HEALTH_RETRIES:
		return check_timing(c, err, errlen);
	case GRAFT_STOP_SIGNAL:
		return strchr(c->arg, '$') || signal_ok(c->arg) ||
		       fail_reason(err, errlen, "\"%s\" is not a signal (SIGTERM, TERM or 15)",
		                   c->arg);
	case GRAFT_VOLUME:
		return *c->arg != '\0' || fail_reason(err, errlen, "empty path");
	case GRAFT_SHELL:
		a = shell_array(c->arg, err, errlen);
		json_decref(a);
		return a != NULL;
	default:
		return true;
	}
}

/* HEALTHCHECK CMD: the exec form as ["CMD", ...], the shell form as ["CMD-SHELL", "..."],
 * NONE as ["NONE"]; a new check replaces the base's whole Healthcheck, as in a Dockerfile. */
static json_t *health_test(const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "NONE") == 0)
		return json_pack("[s]", "NONE");
	bool exec;
	json_t *a = graft_exec_form(arg, &exec, err, errlen);
	if (exec && a == NULL)
		return NULL;
	if (!exec)
		return json_pack("[s, s]", "CMD-SHELL", arg);
	json_array_insert_new(a, 0, json_string("CMD"));
	return a;
}

static const char *timing_key(enum graft_change_kind k)
{
	switch (k) {
	case GRAFT_HEALTH_INTERVAL:
		return "Interval";
	case GRAFT_HEALTH_TIMEOUT:
		return "Timeout";
	case GRAFT_HEALTH_START_PERIOD:
		return "StartPeriod";
	default:
		return "Retries";
	}
}

static bool apply_timing(json_t *cc, const struct graft_change *c, char *err, size_t errlen)
{
	json_t *hc = json_object_get(cc, "Healthcheck");
	if (!json_is_object(hc))
		return fail_reason(err, errlen,
		                   "needs --healthcheck (the image has no health "
		                   "check to time)");
	if (!check_timing(c, err, errlen))
		return false;
	int64_t v = 0;
	uint64_t n = 0;
	if (c->kind == GRAFT_HEALTH_RETRIES)
		parse_u64(c->arg, INT32_MAX, &n), v = (int64_t)n;
	else
		graft_parse_duration(c->arg, &v);
	json_object_set_new(hc, timing_key(c->kind), json_integer(v));
	return true;
}

bool graft_apply_runtime_change(json_t *cc, const struct graft_change *c, const json_t *env,
                                char *err, size_t errlen)
{
	char *s = NULL;
	json_t *v;
	bool ok = true;
	switch (c->kind) {
	case GRAFT_HEALTHCHECK:
		if ((v = health_test(c->arg, err, errlen)) == NULL)
			return false;
		json_object_set_new(cc, "Healthcheck", json_pack("{s:o}", "Test", v));
		break;
	case GRAFT_HEALTH_INTERVAL:
	case GRAFT_HEALTH_TIMEOUT:
	case GRAFT_HEALTH_START_PERIOD:
	case GRAFT_HEALTH_RETRIES:
		return apply_timing(cc, c, err, errlen);
	case GRAFT_STOP_SIGNAL:
		if ((s = graft_expand(c->arg, env, err, errlen)) == NULL)
			return false;
		ok = signal_ok(s) || fail_reason(err, errlen, "\"%s\" is not a signal", s);
		if (ok)
			json_object_set_new(cc, "StopSignal", json_string(s));
		break;
	case GRAFT_VOLUME:
		if ((s = graft_expand(c->arg, env, err, errlen)) == NULL)
			return false;
		ok = *s != '\0' ||
		     fail_reason(err, errlen, "\"%s\" expands to an empty path", c->arg);
		if (ok) {
			v = json_object_get(cc, "Volumes");
			if (!json_is_object(v)) {
				v = json_object();
				json_object_set_new(cc, "Volumes", v);
			}
			json_object_set_new(v, s, json_object());
		}
		break;
	case GRAFT_SHELL:
		if ((v = shell_array(c->arg, err, errlen)) == NULL)
			return false;
		json_object_set_new(cc, "Shell", v);
		break;
	default:
		break;
	}
	free(s);
	return ok;
}
