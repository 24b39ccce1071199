/* URL handling of lib/http.h. The first byte picks the check:
 *   0: url_resolve, url_origin, redact_url, redact_header on raw "BASE\nLOCATION" text: no
 *      crash, a resolved URL has an origin, origins are stable;
 *   1: a URL with a password and a credential-like query parameter built from the input: the
 *      redacted text is the same whatever the secrets' letters and digits are (so no byte of
 *      them survives) and does not hold them;
 *   2: an Authorization-like header the same way; any other header is left as it is;
 *   3: url_same_origin on raw "A\nB" is symmetric, reflexive for a URL, and false for a
 *      non-URL; on URLs built from one host and port it tells http from https (never the same
 *      origin, even on the same port), a port from another, and knows the default ports, the
 *      host's case and that userinfo and path are not part of an origin. */
#include "fuzz.h"
#include "http.h"
#include "util.h"

#include <ctype.h>
#include <strings.h>

static bool same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void raw(struct fuzz_input *in)
{
	char *base = fuzz_field(in, '\n');
	char *loc = fuzz_field(in, '\n');
	char *u = url_resolve(base, loc);
	char *ob = url_origin(base);
	if (u) {
		/* Resolving against a URL gives a URL, which resolves to itself. */
		char *again = url_resolve(base, u);
		FUZZ_ASSERT(same_str(u, again), "\"%s\" + \"%s\" -> \"%s\" -> \"%s\"", base, loc, u,
		            again);
		free(again);
		char *o = url_origin(u);
		if (o) {
			char *oo = url_origin(o);
			FUZZ_ASSERT(same_str(o, oo),
			            "origin of \"%s\" is \"%s\", whose origin is \"%s\"", u, o, oo);
			for (const char *p = strstr(o, "://") + 3; *p; p++)
				FUZZ_ASSERT(!isupper((unsigned char)*p),
				            "origin \"%s\" not lowercase", o);
			free(oo);
		}
		free(o);
		free(redact_url(u));
	}
	free(ob);
	free(redact_url(base));
	free(redact_header(base));
	free(redact_header(loc));
	free(u);
	free(base);
	free(loc);
}

/* The field's bytes that are in allowed, at most max of them. */
static char *filtered(struct fuzz_input *in, const char *allowed, size_t max)
{
	char *f = fuzz_field(in, '\n');
	size_t w = 0;
	for (size_t r = 0; f[r] && w < max; r++)
		if (strchr(allowed, f[r]))
			f[w++] = f[r];
	f[w] = '\0';
	return f;
}

/* The same text with every letter and digit moved to the next one: same URL structure,
 * different secret. */
static char *shifted(const char *s)
{
	char *t = xstrdup(s);
	for (char *p = t; *p; p++) {
		if (*p == 'z' || *p == 'Z' || *p == '9')
			*p = *p == '9' ? '0' : (char)(*p - 25);
		else if (isalnum((unsigned char)*p))
			(*p)++;
	}
	return t;
}

static bool has_alnum(const char *s)
{
	for (; *s; s++)
		if (isalnum((unsigned char)*s))
			return true;
	return false;
}

#define ALNUM      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define UNRESERVED ALNUM "-._~"
#define SUBDELIMS  "!$&'()*+,;="

struct url_parts {
	const char *scheme, *user, *pass, *host, *port, *path, *query, *name, *token, *frag;
};

static char *build_url(const struct url_parts *u)
{
	struct buf b = {0};
	buf_appendf(&b, "%s://", u->scheme);
	if (u->pass[0])
		buf_appendf(&b, "%s:%s@", u->user, u->pass);
	buf_appendf(&b, "%s", u->host);
	if (u->port[0])
		buf_appendf(&b, ":%s", u->port);
	buf_appendf(&b, "/%s?%s%s%s=%s", u->path, u->query, u->query[0] ? "&" : "", u->name,
	            u->token);
	if (u->frag[0])
		buf_appendf(&b, "#%s", u->frag);
	return b.data;
}

static void url_secrets(struct fuzz_input *in)
{
	static const char *const schemes[] = {"http", "https", "HTTPS", "s3"};
	static const char *const words[] = {"sig",         "token",     "cred",
	                                    "pass",        "secret",    "key",
	                                    "auth",        "Signature", "X-Amz-Credential",
	                                    "access_token"};
	uint8_t sel = fuzz_byte(in);
	uint8_t caps = fuzz_byte(in);
	struct url_parts u = {.scheme = schemes[sel % 4]};
	char *user = filtered(in, UNRESERVED SUBDELIMS "%", 64);
	char *pass = filtered(in, UNRESERVED SUBDELIMS "%:", 64);
	char *host = filtered(in, ALNUM ".-", 64);
	char *port = filtered(in, "0123456789", 5);
	char *path = filtered(in, UNRESERVED SUBDELIMS "%:@/", 128);
	char *query = filtered(in, UNRESERVED SUBDELIMS "%:@/?", 128);
	char *prefix = filtered(in, ALNUM "-_", 80);
	char *token = filtered(in, UNRESERVED "!$'()*+,;=%:@/?", 128);
	char *frag = filtered(in, UNRESERVED SUBDELIMS "%:@/?", 32);
	char *word = xstrdup(words[(sel >> 2) % (sizeof words / sizeof *words)]);
	for (size_t i = 0; word[i]; i++)
		if (caps & (1u << (i % 8)))
			word[i] = (char)toupper((unsigned char)word[i]);
	char *name = xasprintf("%s%s", prefix, word);
	if (!has_alnum(token) || (pass[0] && !has_alnum(pass)) || host[0] == '\0')
		goto out;
	u.user = user, u.pass = pass, u.host = host, u.port = port, u.path = path;
	u.query = query, u.name = name, u.token = token, u.frag = frag;
	char *url1 = build_url(&u);
	char *pass2 = shifted(pass), *token2 = shifted(token);
	u.pass = pass2, u.token = token2;
	char *url2 = build_url(&u);
	char *r1 = redact_url(url1), *r2 = redact_url(url2);
	FUZZ_ASSERT(strcmp(r1, r2) == 0, "the redaction of \"%s\" depends on its secrets: \"%s\"",
	            url1, r1);
	/* (Not a search for the secret's text: the other parts may hold the same text.) */
	char *redacted_value = xasprintf("%s=<redacted>", name);
	FUZZ_ASSERT(strstr(r1, redacted_value), "\"%s\" -> \"%s\"", url1, r1);
	free(redacted_value);
	free(r1);
	free(r2);
	free(url1);
	free(url2);
	free(pass2);
	free(token2);
out:
	free(user);
	free(pass);
	free(host);
	free(port);
	free(path);
	free(query);
	free(prefix);
	free(token);
	free(frag);
	free(word);
	free(name);
}

static void header_secrets(struct fuzz_input *in)
{
	static const char *const names[] = {"Authorization", "Proxy-Authorization", "Cookie",
	                                    "Set-Cookie", "X-Registry-Auth"};
	uint8_t sel = fuzz_byte(in);
	uint8_t caps = fuzz_byte(in);
	char *scheme = filtered(in, ALNUM "-._~+/", 32);
	char *other = filtered(in, ALNUM "-_", 32);
	char *secret = fuzz_field(in, '\n');
	char *name = xstrdup(names[sel % 5]);
	for (size_t i = 0; name[i]; i++)
		if (caps & (1u << (i % 8)))
			name[i] = (char)(islower((unsigned char)name[i]) ? toupper(name[i])
			                                                 : tolower(name[i]));
	/* Without a scheme the value's first word is taken for one: only a one-word secret. */
	if (has_alnum(secret) && (scheme[0] || strchr(secret, ' ') == NULL)) {
		const char *sp = scheme[0] ? " " : "";
		char *secret2 = shifted(secret);
		char *h1 = xasprintf("%s: %s%s%s", name, scheme, sp, secret);
		char *h2 = xasprintf("%s: %s%s%s", name, scheme, sp, secret2);
		char *r1 = redact_header(h1), *r2 = redact_header(h2);
		FUZZ_ASSERT(strcmp(r1, r2) == 0,
		            "the redaction of \"%s\" depends on its secret: \"%s\"", h1, r1);
		FUZZ_ASSERT(strstr(r1, "<redacted>"), "\"%s\" -> \"%s\"", h1, r1);
		free(r1);
		free(r2);
		free(h1);
		free(h2);
		free(secret2);
	}
	bool secret_name = false;
	for (size_t i = 0; i < 5; i++)
		secret_name |= strcasecmp(other, names[i]) == 0;
	if (!secret_name) {
		char *h = xasprintf("%s: %s", other, secret);
		char *r = redact_header(h);
		FUZZ_ASSERT(strcmp(h, r) == 0, "\"%s\" changed to \"%s\"", h, r);
		free(r);
		free(h);
	}
	free(scheme);
	free(other);
	free(secret);
	free(name);
}

static void same_origin_raw(struct fuzz_input *in)
{
	char *a = fuzz_field(in, '\n');
	char *b = fuzz_field(in, '\n');
	bool ab = url_same_origin(a, b), ba = url_same_origin(b, a);
	FUZZ_ASSERT(ab == ba, "url_same_origin(\"%s\", \"%s\") is %d, reversed %d", a, b, ab, ba);
	char *oa = url_origin(a), *ob = url_origin(b);
	FUZZ_ASSERT(url_same_origin(a, a) == (oa != NULL), "\"%s\" (origin %s) and itself", a,
	            oa ? oa : "none");
	FUZZ_ASSERT(!ab || (oa && ob), "\"%s\" and \"%s\": same origin, but not both URLs", a, b);
	free(oa);
	free(ob);
	free(a);
	free(b);
}

static void expect_origin(const char *a, const char *b, bool want)
{
	bool got = url_same_origin(a, b);
	FUZZ_ASSERT(got == want, "url_same_origin(\"%s\", \"%s\") is %d", a, b, got);
	FUZZ_ASSERT(url_same_origin(b, a) == want, "url_same_origin(\"%s\", \"%s\")", b, a);
}

static void same_origin_built(struct fuzz_input *in)
{
	uint8_t caps = fuzz_byte(in);
	char *host = filtered(in, "abcdefghijklmnopqrstuvwxyz0123456789.-", 64);
	char *digits = filtered(in, "0123456789", 4);
	char *path = filtered(in, UNRESERVED "/", 32);
	if (host[0] == '\0' || host[0] == '.' || host[0] == '-')
		goto out;
	char probe[128];
	snprintf(probe, sizeof probe, "http://%s/", host);
	char *o = url_origin(probe);
	free(o);
	if (o == NULL)
		goto out; /* not a host curl takes */
	unsigned port = 1 + (unsigned)strtoul(digits[0] ? digits : "0", NULL, 10) % 65000;
	char *upper = xstrdup(host);
	for (size_t i = 0; upper[i]; i++)
		if (caps & (1u << (i % 8)))
			upper[i] = (char)toupper((unsigned char)upper[i]);
	char *http_p = xasprintf("http://%s:%u/%s", host, port, path);
	char *https_p = xasprintf("https://%s:%u/x", upper, port);
	char *http_p2 = xasprintf("http://u:pw@%s:%u/other?q=1", upper, port);
	char *http_next = xasprintf("http://%s:%u/%s", host, port % 65000 + 1, path);
	char *http = xasprintf("http://%s/%s", upper, path);
	char *http80 = xasprintf("http://%s:80/", host);
	char *https = xasprintf("https://%s/%s", host, path);
	char *https443 = xasprintf("https://%s:443", upper);
	char *http443 = xasprintf("http://%s:443/", host);
	expect_origin(http_p, https_p, false);
	expect_origin(http_p, http_p2, true);
	expect_origin(http_p, http_next, false);
	expect_origin(http, http80, true);
	expect_origin(https, https443, true);
	expect_origin(http, https, false);
	expect_origin(http443, https443, false);
	expect_origin(http80, https443, false);
	free(upper);
	free(http_p);
	free(https_p);
	free(http_p2);
	free(http_next);
	free(http);
	free(http80);
	free(https);
	free(https443);
	free(http443);
out:
	free(host);
	free(digits);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {(const char *)data, size};
	switch (fuzz_byte(&in) % 5) {
	case 0:
		raw(&in);
		break;
	case 1:
		url_secrets(&in);
		break;
	case 2:
		header_secrets(&in);
		break;
	case 3:
		same_origin_raw(&in);
		break;
	case 4:
		same_origin_built(&in);
		break;
	}
	return 0;
}
