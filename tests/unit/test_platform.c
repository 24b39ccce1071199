#include "platform.h"
#include "tap.h"

static void parses(const char *in, const char *want)
{
	struct platform p;
	char s[96] = "";
	bool r = platform_parse(in, &p);
	if (r)
		platform_format(&p, s, sizeof s);
	ok(r, "%s parses", in);
	is_str(s, want, "  normalised to %s", want);
}

static bool matches(const char *want, const char *os, const char *arch, const char *variant)
{
	struct platform w, h;
	json_t *j = json_pack("{s:s, s:s}", "os", os, "architecture", arch);
	if (variant)
		json_object_set_new(j, "variant", json_string(variant));
	platform_parse(want, &w);
	bool r = platform_from_json(j, &h) && platform_match(&w, &h);
	json_decref(j);
	return r;
}

int main(void)
{
	parses("linux/amd64", "linux/amd64");
	parses("linux/x86_64", "linux/amd64");
	parses("Linux/AMD64", "linux/amd64");
	parses("linux/arm64", "linux/arm64/v8");
	parses("linux/aarch64", "linux/arm64/v8");
	parses("linux/arm64/8", "linux/arm64/v8");
	parses("linux/arm", "linux/arm/v7");
	parses("linux/armhf", "linux/arm/v7");
	parses("linux/arm/v6", "linux/arm/v6");
	parses("linux/amd64/v1", "linux/amd64");
	parses("linux/amd64/v3", "linux/amd64/v3");
	parses("windows/amd64", "windows/amd64");
	struct platform p;
	ok(!platform_parse("linux", &p), "no architecture: refused");
	ok(!platform_parse("linux/", &p), "empty architecture: refused");
	ok(!platform_parse("/amd64", &p), "empty os: refused");
	ok(!platform_parse("linux/arm/v7/x", &p), "four parts: refused");
	ok(!platform_parse("linux//v7", &p), "empty architecture before a variant: refused");
	ok(!platform_parse("linux/amd 64", &p), "a space: refused");
	ok(!platform_parse("linux/amd64/", &p), "empty variant: refused");

	ok(matches("linux/arm64", "linux", "arm64", NULL), "arm64 wanted, index has no variant");
	ok(matches("linux/arm64", "linux", "arm64", "v8"), "arm64 wanted, index says v8");
	ok(matches("linux/arm64/v8", "linux", "arm64", NULL), "arm64/v8 wanted, index has none");
	ok(!matches("linux/arm/v7", "linux", "arm", "v6"), "arm/v7 is not arm/v6");
	ok(matches("linux/amd64", "linux", "amd64", NULL), "amd64 = amd64");
	ok(!matches("linux/amd64", "linux", "arm64", NULL), "amd64 is not arm64");
	ok(!matches("linux/amd64", "windows", "amd64", NULL), "linux is not windows");

	platform_host(&p);
	ok(p.os[0] && p.arch[0], "this machine has a platform (%s/%s)", p.os, p.arch);
	ok(strcmp(p.arch, "x86_64") != 0 && strcmp(p.arch, "aarch64") != 0, "  in OCI's names");
	return done_testing();
}
