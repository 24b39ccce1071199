/* challenge_parse: any header either gives a Basic/Bearer challenge or nothing (no fields
 * left set); and a Bearer challenge built from arbitrary realm/service/scope values, quoted
 * and escaped as RFC 7235 says, parses back to exactly those values, preferred over a Basic
 * one offered with it. */
#include "auth.h"
#include "fuzz.h"
#include "util.h"

static void quoted(struct buf *b, const char *name, const char *v)
{
	buf_appendf(b, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_append(b, "\\", 1);
		buf_append(b, v, 1);
	}
	buf_append(b, "\"", 1);
}

static void any_header(const char *h)
{
	struct challenge c;
	bool ok = challenge_parse(h, &c);
	FUZZ_ASSERT(ok == (c.scheme != SCHEME_NONE), "\"%s\"", h);
	if (!ok)
		FUZZ_ASSERT(c.realm == NULL && c.service == NULL && c.scope == NULL &&
		                    c.error == NULL,
		            "\"%s\": no challenge but fields set", h);
	challenge_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {(const char *)data, size};
	uint8_t mode = fuzz_byte(&in);
	if ((mode & 1) == 0) {
		char *h = fuzz_field(&in, '\0');
		any_header(h);
		free(h);
		return 0;
	}
	char *realm = fuzz_field(&in, '\n');
	char *service = fuzz_field(&in, '\n');
	char *scope = fuzz_field(&in, '\n');
	struct buf h = {0};
	if (mode & 2)
		buf_appendf(&h, "Basic realm=\"basic\", ");
	buf_appendf(&h, "%s ", mode & 4 ? "bEARER" : "Bearer");
	quoted(&h, "realm", realm);
	buf_appendf(&h, mode & 8 ? " , " : ",");
	quoted(&h, "service", service);
	buf_appendf(&h, ",");
	quoted(&h, "scope", scope);
	if (mode & 16)
		buf_appendf(&h, ", Basic realm=\"later\"");
	struct challenge c;
	FUZZ_ASSERT(challenge_parse(h.data, &c), "\"%s\" not parsed", h.data);
	FUZZ_ASSERT(c.scheme == SCHEME_BEARER, "\"%s\": scheme %d", h.data, c.scheme);
	FUZZ_ASSERT(c.realm && strcmp(c.realm, realm) == 0, "\"%s\": realm \"%s\"", h.data,
	            c.realm);
	FUZZ_ASSERT(c.service && strcmp(c.service, service) == 0, "\"%s\": service \"%s\"", h.data,
	            c.service);
	FUZZ_ASSERT(c.scope && strcmp(c.scope, scope) == 0, "\"%s\": scope \"%s\"", h.data,
	            c.scope);
	FUZZ_ASSERT(c.error == NULL, "\"%s\"", h.data);
	challenge_free(&c);
	buf_free(&h);
	free(realm);
	free(service);
	free(scope);
	return 0;
}
