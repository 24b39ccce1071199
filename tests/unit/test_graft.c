/* oci-graft's helpers: RFC 3339 times, Docker's WORKDIR path rules and ENV expansion. */
#include "graft.h"
#include "oci.h"
#include "tap.h"

#include <stdlib.h>

static void time_is(const char *in, const char *want)
{
	char out[GRAFT_TIME_MAX], err[200];
	bool ok = graft_parse_time(in, out, err, sizeof err);
	is_str(ok ? out : NULL, want, "time %s", in);
}

static void time_bad(const char *in)
{
	char out[GRAFT_TIME_MAX], err[200];
	ok(!graft_parse_time(in, out, err, sizeof err), "time %s is refused", in);
}

static void expand_is(const json_t *env, const char *in, const char *want)
{
	char err[200];
	char *got = graft_expand(in, env, err, sizeof err);
	is_str(got, want, "expand %s", in);
	free(got);
}

static void expand_bad(const json_t *env, const char *in)
{
	char err[200];
	char *got = graft_expand(in, env, err, sizeof err);
	ok(got == NULL, "expand %s is refused (%s)", in, got ? got : err);
	free(got);
}

int main(void)
{
	time_is("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z");
	time_is("2024-05-01t12:00:00z", "2024-05-01T12:00:00Z");
	time_is("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z");
	time_is("2024-01-01T01:30:00+02:00", "2023-12-31T23:30:00Z");
	time_is("2023-12-31T23:00:00-01:30", "2024-01-01T00:30:00Z");
	time_is("2024-02-29T00:00:00.500Z", "2024-02-29T00:00:00.5Z");
	time_is("2024-02-29T00:00:00.000000000Z", "2024-02-29T00:00:00Z");
	time_is("2024-02-29T00:00:00.123456789Z", "2024-02-29T00:00:00.123456789Z");
	time_is("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z");
	time_bad("2023-02-29T00:00:00Z");
	time_bad("2024-13-01T00:00:00Z");
	time_bad("2024-05-01T24:00:00Z");
	time_bad("2024-05-01T12:00:60Z");
	time_bad("2024-05-01T12:00:00");
	time_bad("2024-05-01 12:00:00Z");
	time_bad("2024-05-01T12:00:00.Z");
	time_bad("2024-05-01T12:00:00.1234567890Z");
	time_bad("2024-05-01T12:00:00+0200");
	time_bad("2024-05-01T12:00:00Zjunk");
	time_bad("0000-01-01T00:00:00+01:00");
	time_bad("1714564800");

	char out[GRAFT_TIME_MAX];
	graft_format_epoch(0, out);
	is_str(out, "1970-01-01T00:00:00Z", "epoch 0");
	graft_format_epoch(1700000000, out);
	is_str(out, "2023-11-14T22:13:20Z", "epoch 1700000000");
	graft_format_epoch(GRAFT_EPOCH_MAX, out);
	is_str(out, "9999-12-31T23:59:59Z", "the last epoch allowed");

	json_error_t e;
	json_t *env =
	        json_loads("[\"HOME=/root\",\"EMPTY=\",\"P=/bin:/usr/bin\",\"X=a=b\"]", 0, &e);
	expand_is(env, "plain", "plain");
	expand_is(env, "$HOME/app", "/root/app");
	expand_is(env, "${HOME}app", "/rootapp");
	expand_is(env, "/app/bin:$P", "/app/bin:/bin:/usr/bin");
	expand_is(env, "$X", "a=b");
	expand_is(env, "[$UNSET]", "[]");
	expand_is(env, "${UNSET:-dflt}", "dflt");
	expand_is(env, "${EMPTY:-dflt}", "dflt");
	expand_is(env, "${HOME:-dflt}", "/root");
	expand_is(env, "${HOME:+set}", "set");
	expand_is(env, "${EMPTY:+set}", "");
	expand_is(env, "${UNSET:-${HOME}/x}", "/root/x");
	expand_is(env, "\\$HOME", "$HOME");
	expand_is(env, "C:\\dir", "C:\\dir");
	expand_is(env, "cost $5 $", "cost $5 $");
	expand_is(env, "$HOMEX", "");
	expand_bad(env, "${}");
	expand_bad(env, "${HOME");
	expand_bad(env, "${HOME:-x");
	expand_bad(env, "${HOME#/}");
	expand_bad(env, "${1}");
	json_decref(env);

	char err[200];
	ok(graft_check_kv("A=", err, sizeof err), "K= is a key with an empty value");
	ok(!graft_check_kv("=v", err, sizeof err), "an empty key is refused");
	ok(!graft_check_kv("novalue", err, sizeof err), "no = is refused");

	struct platform arm;
	platform_parse("linux/ARMv7l", &arm);
	json_t *c = graft_scratch_config(&arm);
	size_t n;
	char *s = json_serialise(c, &n);
	is_str(s,
	       "{\"created\":\"\",\"architecture\":\"arm\",\"variant\":\"v7\",\"os\":\"linux\","
	       "\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"history\":[]}",
	       "scratch config for linux/ARMv7l: normalised to linux/arm/v7");
	free(s);
	json_decref(c);
	static const struct {
		const char *in;
		int64_t ns;
	} durations[] = {{"0", 0},
	                 {"30s", 30000000000},
	                 {"1m30s", 90000000000},
	                 {"500ms", 500000000},
	                 {"1.5h", 5400000000000},
	                 {"2us", 2000},
	                 {"1h2m3s4ms", 3723004000000}};
	for (size_t i = 0; i < sizeof durations / sizeof *durations; i++) {
		int64_t ns = -1;
		ok(graft_parse_duration(durations[i].in, &ns) && ns == durations[i].ns,
		   "duration %s is %" PRId64 " ns", durations[i].in, durations[i].ns);
	}
	const char *bad_durations[] = {"", "30", "s", "-1s", "1x", "1s2", "99999999999h"};
	for (size_t i = 0; i < sizeof bad_durations / sizeof *bad_durations; i++) {
		int64_t ns;
		ok(!graft_parse_duration(bad_durations[i], &ns), "duration \"%s\" is refused",
		   bad_durations[i]);
	}
	static const struct {
		const char *in, *want;
	} urls[] = {
	        {"https://github.com/o/r.git", "https://github.com/o/r"},
	        {"https://user:tok@github.com/o/r", "https://github.com/o/r"},
	        {"https://tok@gitlab.example/g/sub/r.git", "https://gitlab.example/g/sub/r"},
	        {"git@github.com:o/r.git", "https://github.com/o/r"},
	        {"ssh://git@host:2222/o/r.git", "ssh://host:2222/o/r"},
	        {"/srv/git/r", "/srv/git/r"},
	};
	for (size_t i = 0; i < sizeof urls / sizeof *urls; i++) {
		char *got = graft_source_url(urls[i].in);
		is_str(got, urls[i].want, "source URL %s", urls[i].in);
		free(got);
	}
	return done_testing();
}
