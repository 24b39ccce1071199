#include "ref.h"
#include "digest.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component ::= [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static bool component_valid(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !is_lower_alnum(s[0]))
		return false;
	while (i < n) {
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return true;
		size_t sep = i;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return false;
		if (i == sep || i == n || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

/* domain ::= host (":" port)?; host ::= label ("." label)* | "[" IPv6 "]" */
static bool domain_valid(const char *d)
{
	const char *p = d;
	if (*p == '[') {
		const char *end = strchr(p, ']');
		if (end == NULL || end - p - 1 <= 0 || end - p - 1 >= 64)
			return false;
		char addr[64];
		memcpy(addr, p + 1, (size_t)(end - p - 1));
		addr[end - p - 1] = '\0';
		struct in6_addr a6;
		if (inet_pton(AF_INET6, addr, &a6) != 1)
			return false;
		p = end + 1;
	} else {
		for (;;) {
			const char *start = p;
			while (isalnum((unsigned char)*p) || *p == '-')
				p++;
			if (p == start || start[0] == '-' || p[-1] == '-')
				return false;
			if (*p != '.')
				break;
			p++;
		}
	}
	if (*p == ':') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

bool ref_tag_valid(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > REF_TAG_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		bool word = isalnum((unsigned char)c) || c == '_';
		if (!(word || (i > 0 && (c == '.' || c == '-'))))
			return false;
	}
	return true;
}

bool ref_is_layout(const char *s)
{
	return strncmp(s, "oci:", 4) == 0;
}

static bool check_digest(const char *dg, char *err, size_t errlen)
{
	if (!digest_is_wellformed(dg))
		return fail_reason(err, errlen, "invalid digest \"%s\"", dg);
	if (strncmp(dg, "sha256:", 7) != 0)
		return fail_reason(err, errlen,
		                   "unsupported digest algorithm in \"%s\" (only sha256)", dg);
	if (!digest_is_sha256(dg))
		return fail_reason(err, errlen,
		                   "invalid sha256 digest \"%s\" (64 lowercase hex digits)", dg);
	return true;
}

/* "@DIGEST" at at, and ":TAG" at colon (either NULL: none), cut off the name they end and
 * kept in r. */
static bool take_digest(char *at, struct ref *r, char *err, size_t errlen)
{
	if (at == NULL)
		return true;
	*at = '\0';
	if (!check_digest(at + 1, err, errlen))
		return false;
	r->digest = xstrdup(at + 1);
	return true;
}

static bool take_tag(char *colon, struct ref *r, char *err, size_t errlen)
{
	if (colon == NULL)
		return true;
	*colon = '\0';
	if (!ref_tag_valid(colon + 1))
		return fail_reason(err, errlen, "invalid tag \"%s\"", colon + 1);
	r->tag = xstrdup(colon + 1);
	return true;
}

/* The last c in s with no '/' after it, or NULL. */
static char *last_in_final_component(char *s, int c)
{
	char *p = strrchr(s, c);
	return p && strchr(p, '/') == NULL ? p : NULL;
}

static int parse_layout(const char *s, struct ref *r, char *err, size_t errlen)
{
	char *rest = xstrdup(s + 4);
	r->kind = REF_LAYOUT;
	/* OCI's org.opencontainers.image.ref.name allows more than a Docker tag, but a tag stays
	 * a tag: anything that would not be one is more likely a typo. */
	if (!take_digest(last_in_final_component(rest, '@'), r, err, errlen) ||
	    !take_tag(last_in_final_component(rest, ':'), r, err, errlen))
		goto bad;
	if (rest[0] == '\0') {
		fail_reason(err, errlen, "no directory after \"oci:\"");
		goto bad;
	}
	r->dir = rest;
	return 0;
bad:
	free(rest);
	ref_free(r);
	return -1;
}

/* Refuses what cannot be a reference at all: empty, white space or control characters, a URL. */
static bool check_text(const char *s, char *err, size_t errlen)
{
	if (*s == '\0')
		return fail_reason(err, errlen, "empty reference");
	for (const char *c = s; *c; c++)
		if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c))
			return fail_reason(err, errlen, "invalid reference: contains whitespace");
	if (strstr(s, "://"))
		return fail_reason(err, errlen,
		                   "invalid reference: a URL; give host/repository[:tag]");
	return true;
}

/* distribution's splitDockerDomain: the first component is a domain if it has a dot, a port
 * or uppercase letters, or is "localhost"; else the domain is docker.io. index.docker.io is
 * docker.io, and a one-component docker.io repository is in library/. */
static void split_domain(const char *name, struct ref *r)
{
	const char *first = strchr(name, '/');
	size_t n = first ? (size_t)(first - name) : 0;
	bool up = false;
	for (size_t i = 0; i < n; i++)
		up |= isupper((unsigned char)name[i]) != 0;
	if (first && (memchr(name, '.', n) || memchr(name, ':', n) || up ||
	              (n == 9 && memcmp(name, "localhost", 9) == 0))) {
		r->domain = xstrndup(name, n);
		r->path = xstrdup(first + 1);
	} else {
		r->domain = xstrdup("docker.io");
		r->path = xstrdup(name);
	}
	if (strcmp(r->domain, "index.docker.io") == 0) {
		free(r->domain);
		r->domain = xstrdup("docker.io");
	}
	if (strcmp(r->domain, "docker.io") == 0 && strchr(r->path, '/') == NULL) {
		char *p = xasprintf("library/%s", r->path);
		free(r->path);
		r->path = p;
	}
}

/* The domain and the repository path, as distribution's grammar allows them. */
static bool check_name(const struct ref *r, char *err, size_t errlen)
{
	if (!domain_valid(r->domain))
		return fail_reason(err, errlen, "invalid registry host \"%s\"", r->domain);
	if (r->path[0] == '\0')
		return fail_reason(err, errlen, "invalid reference: no repository name");
	for (const char *c = r->path; *c; c++)
		if (isupper((unsigned char)*c))
			return fail_reason(err, errlen, "repository name must be lowercase");
	for (const char *p = r->path;;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!component_valid(p, n))
			return fail_reason(err, errlen, "invalid repository name \"%s\"", r->path);
		if (e == NULL)
			break;
		p = e + 1;
	}
	if (strlen(r->domain) + 1 + strlen(r->path) > REF_NAME_MAX)
		return fail_reason(err, errlen, "repository name longer than %d characters",
		                   REF_NAME_MAX);
	return true;
}

int ref_parse(const char *s, struct ref *r, char *err, size_t errlen)
{
	*r = (struct ref){0};
	if (ref_is_layout(s))
		return parse_layout(s, r, err, errlen);
	if (!check_text(s, err, errlen))
		return -1;
	char *name = xstrdup(s);
	bool ok = take_digest(strchr(name, '@'), r, err, errlen);
	if (ok) {
		char *slash = strrchr(name, '/');
		ok = take_tag(strrchr(slash ? slash : name, ':'), r, err, errlen);
	}
	if (ok)
		split_domain(name, r);
	free(name);
	if (!ok || !check_name(r, err, errlen)) {
		ref_free(r);
		return -1;
	}
	r->host = xstrdup(strcmp(r->domain, "docker.io") == 0 ? "registry-1.docker.io" : r->domain);
	return 0;
}

void ref_free(struct ref *r)
{
	free(r->domain);
	free(r->host);
	free(r->path);
	free(r->dir);
	free(r->tag);
	free(r->digest);
	*r = (struct ref){0};
}

const char *ref_reference(const struct ref *r)
{
	return r->digest ? r->digest : r->tag ? r->tag : "latest";
}

char *ref_repository(const struct ref *r)
{
	if (r->kind == REF_LAYOUT)
		return xasprintf("oci:%s", r->dir);
	return xasprintf("%s/%s", r->domain, r->path);
}

char *ref_string(const struct ref *r)
{
	char *repo = ref_repository(r);
	char *s;
	if (r->digest && r->tag)
		s = xasprintf("%s:%s@%s", repo, r->tag, r->digest);
	else if (r->digest)
		s = xasprintf("%s@%s", repo, r->digest);
	else if (r->tag || r->kind == REF_REGISTRY)
		s = xasprintf("%s:%s", repo, r->tag ? r->tag : "latest");
	else
		s = xstrdup(repo);
	free(repo);
	return s;
}

bool ref_same_registry(const struct ref *a, const struct ref *b)
{
	if (a->kind != REF_REGISTRY || b->kind != REF_REGISTRY)
		return false;
	return strcmp(a->host, b->host) == 0;
}

bool host_is_loopback(const char *host)
{
	char h[64];
	const char *end;
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (end == NULL || (size_t)(end - host - 1) >= sizeof h)
			return false;
		memcpy(h, host + 1, (size_t)(end - host - 1));
		h[end - host - 1] = '\0';
		struct in6_addr a6;
		return inet_pton(AF_INET6, h, &a6) == 1 && memcmp(&a6, &in6addr_loopback, 16) == 0;
	}
	end = strchr(host, ':');
	size_t n = end ? (size_t)(end - host) : strlen(host);
	if (n >= sizeof h)
		return false;
	memcpy(h, host, n);
	h[n] = '\0';
	if (strcasecmp(h, "localhost") == 0)
		return true;
	struct in_addr a4;
	return inet_pton(AF_INET, h, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}
