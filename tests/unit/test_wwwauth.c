#include "auth.h"
#include "tap.h"

static void bearer(const char *h, const char *realm, const char *service, const char *scope)
{
	struct challenge c;
	ok(challenge_parse(h, &c), "parses: %s", h);
	is_int(c.scheme, SCHEME_BEARER, "  Bearer");
	is_str(c.realm, realm, "  realm");
	is_str(c.service, service, "  service");
	is_str(c.scope, scope, "  scope");
	challenge_free(&c);
}

int main(void)
{
	bearer("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	       "scope=\"repository:library/alpine:pull\"",
	       "https://auth.docker.io/token", "registry.docker.io",
	       "repository:library/alpine:pull");
	bearer("bearer  REALM=\"https://ghcr.io/token\" , Service=\"ghcr.io\", "
	       "scope=\"repository:o/r:pull,push repository:o/base:pull\"",
	       "https://ghcr.io/token", "ghcr.io",
	       "repository:o/r:pull,push repository:o/base:pull");
	bearer("Bearer realm=https://h/t,service=svc", "https://h/t", "svc", NULL);
	bearer("Bearer realm=\"a\\\"b\",service=\"x\\\\y\"", "a\"b", "x\\y", NULL);
	bearer("Basic realm=\"basic\", Bearer realm=\"https://t/token\",service=\"s\"",
	       "https://t/token", "s", NULL);
	bearer("Bearer "
	       "realm=\"https://t\",error=\"insufficient_scope\",scope=\"repository:a:push\"",
	       "https://t", NULL, "repository:a:push");

	struct challenge c;
	ok(challenge_parse("Bearer realm=\"x\",error=\"invalid_token\"", &c) && c.error &&
	           strcmp(c.error, "invalid_token") == 0,
	   "the error parameter is kept");
	challenge_free(&c);
	ok(challenge_parse("Basic realm=\"Registry Realm\"", &c), "Basic parses");
	is_int(c.scheme, SCHEME_BASIC, "  Basic");
	is_str(c.realm, "Registry Realm", "  realm with a space");
	challenge_free(&c);
	ok(challenge_parse("Negotiate, Basic realm=\"r\"", &c) && c.scheme == SCHEME_BASIC,
	   "an unknown scheme before Basic is skipped");
	challenge_free(&c);
	ok(!challenge_parse("Negotiate", &c), "only an unknown scheme: nothing usable");
	ok(!challenge_parse("", &c), "empty header: nothing");
	ok(!challenge_parse("Bearer realm=\"unterminated", &c), "unterminated quote is refused");
	return done_testing();
}
