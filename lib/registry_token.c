/* The registry client's auth (part of the request engine): the scopes a run wants, the
 * credentials it found, which Authorization a request carries, what a 401 asks for, and the
 * Bearer token flow (distribution's token spec, OAuth2 refresh tokens). */
#include "oci.h"
#include "ref.h"
#include "registry.h"
#include "registry_engine.h"
#include "util.h"

#include <err.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Returns whether the scope set grew. */
static bool want(struct registry *r, const char *path, bool push)
{
	for (size_t i = 0; i < r->nscopes; i++)
		if (strcmp(r->scopes[i].path, path) == 0) {
			bool grew = push && !r->scopes[i].push;
			r->scopes[i].push |= push;
			return grew;
		}
	r->scopes = xreallocarray(r->scopes, r->nscopes + 1, sizeof *r->scopes);
	r->scopes[r->nscopes++] = (struct scope){xstrdup(path), push};
	return true;
}

void registry_want(struct registry *r, const char *path, bool push)
{
	want(r, path, push);
}

/* Scopes a challenge asks for ("repository:NAME:pull,push", space separated). */
static bool want_challenge_scopes(struct registry *r, const char *scope)
{
	bool grew = false;
	char *s = xstrdup(scope);
	for (char *save = NULL, *tok = strtok_r(s, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (strncmp(tok, "repository:", 11) != 0)
			continue;
		char *name = tok + 11;
		char *colon = strrchr(name, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		bool push = strstr(colon + 1, "push") != NULL || strchr(colon + 1, '*') != NULL;
		grew |= want(r, name, push);
	}
	free(s);
	return grew;
}

static void lookup_creds(struct registry *r)
{
	if (r->creds_state != CREDS_UNKNOWN)
		return;
	char err[512];
	int got = auth_lookup(r->domain, &r->creds, err, sizeof err);
	if (got < 0)
		warnx("%s: credentials: %s", r->domain, err);
	r->creds_state = got > 0 ? CREDS_FOUND : got == 0 ? CREDS_NONE : CREDS_REFUSED;
	if (got > 0 && r->http->opts.verbose)
		http_trace("credentials for %s from %s", r->domain, r->creds.source);
}

static bool have_password(const struct registry *r)
{
	return r->creds_state == CREDS_FOUND && r->creds.username;
}

/* "Authorization: Basic base64(user:password)" on x, nothing of it left in memory. */
static void add_basic(const struct registry *r, struct http_xfer *x)
{
	char *up = xasprintf("%s:%s", r->creds.username, r->creds.password);
	char *b = base64_encode(up, strlen(up));
	http_xfer_add_header(x, "Authorization: Basic %s", b);
	free_secret(up);
	free_secret(b);
}

/* Before the registry has answered anything (and no hint said how it authenticates): a
 * username and password found for it go with the first requests, as Basic (curl -u does so),
 * which saves the 401 round trip where the registry takes Basic. One that wants a token
 * answers 401 with its challenge as it would have anyway; one that wants nothing ignores it. */
static void assume_basic(struct registry *r)
{
	if (r->scheme != SCHEME_NONE || r->scheme_known)
		return;
	lookup_creds(r);
	if (have_password(r) && r->creds.identitytoken == NULL)
		r->scheme = SCHEME_BASIC;
}

void registry_attach_credentials(struct registry *r, struct rreq *q)
{
	q->token_gen_used = 0;
	q->sent_scheme = SCHEME_NONE;
	/* a token request carries its own credentials; others get the registry's, and only
	 * at the registry's origin as it stands (scheme, host and port of its base URL): never
	 * on a redirect or an upload Location elsewhere, another port or scheme of the same
	 * host included, so never from https to http */
	if (q->noauth)
		return;
	http_xfer_del_header(&q->x, "Authorization");
	if (!url_same_origin(q->x.url, r->base))
		return;
	assume_basic(r);
	if (r->scheme == SCHEME_BEARER && r->token) {
		http_xfer_add_header(&q->x, "Authorization: Bearer %s", r->token);
		q->token_gen_used = r->token_gen;
		q->sent_scheme = SCHEME_BEARER;
	} else if (r->scheme == SCHEME_BASIC && have_password(r)) {
		add_basic(r, &q->x);
		q->sent_scheme = SCHEME_BASIC;
	}
}

/* A Bearer challenge: the realm, service and scopes it names; whether a new token is needed. */
static bool bearer_challenge(struct registry *r, const struct rreq *q, const struct challenge *c)
{
	bool grew = c->scope && want_challenge_scopes(r, c->scope);
	if (r->realm == NULL || strcmp(r->realm, c->realm) != 0) {
		free(r->realm);
		r->realm = xstrdup(c->realm);
		grew = true;
	}
	free(r->service);
	r->service = c->service ? xstrdup(c->service) : NULL;
	r->scheme = SCHEME_BEARER;
	/* A new token when none was sent, the scopes grew, or the one sent was the current one
	 * (expired, or not enough rights: then it fails again). */
	return grew || r->token == NULL || q->token_gen_used == r->token_gen;
}

bool registry_answer_challenge(struct registry *r, struct rreq *q, bool *need_token)
{
	const char *h = http_header(&q->x, "WWW-Authenticate");
	struct challenge c;
	if (h == NULL || !challenge_parse(h, &c))
		return false;
	q->auth_tries++;
	bool again = false;
	if (c.scheme == SCHEME_BEARER && c.realm) {
		if (bearer_challenge(r, q, &c))
			*need_token = true;
		again = true;
	} else if (c.scheme == SCHEME_BASIC) {
		lookup_creds(r);
		if (have_password(r) && q->sent_scheme != SCHEME_BASIC) {
			r->scheme = SCHEME_BASIC;
			again = true;
		}
	}
	challenge_free(&c);
	return again;
}

static char *scope_string(const struct scope *s)
{
	return xasprintf("repository:%s:%s", s->path, s->push ? "pull,push" : "pull");
}

/* A realm that is not HTTPS would get the credentials (and hand out the token) in clear text:
 * only with --insecure, or on loopback where nobody can be in the middle (as Docker allows). */
static bool realm_allowed(const struct registry *r)
{
	if (strncasecmp(r->realm, "https://", 8) == 0 || r->insecure)
		return true;
	char *o = url_origin(r->realm);
	bool loopback = o && host_is_loopback(strstr(o, "://") + 3);
	free(o);
	return loopback;
}

/* The token request: GET REALM?service=&scope=... with Basic credentials, or, with an identity
 * token, an OAuth2 POST of form (which must outlive the request). */
static void token_request(struct registry *r, struct rreq *q, struct buf *form)
{
	struct buf u = {0};
	buf_appendf(&u, "%s%c", r->realm, strchr(r->realm, '?') ? '&' : '?');
	char *sv = r->service ? registry_escape(r->service) : NULL;
	if (sv) {
		buf_appendf(&u, "service=%s", sv);
		buf_appendf(form, "service=%s&", sv);
	}
	buf_appendf(form, "scope=");
	for (size_t i = 0; i < r->nscopes; i++) {
		char *s = scope_string(&r->scopes[i]);
		char *e = registry_escape(s);
		buf_appendf(&u, "%sscope=%s", u.data[u.len - 1] == '?' ? "" : "&", e);
		buf_appendf(form, "%s%s", i ? "%20" : "", e);
		free(e);
		free(s);
	}
	free(sv);
	rreq_init(q, "GET", u.data);
	buf_free(&u);
	q->noauth = true;
	q->x.resp_max = 1u << 20;
	if (r->creds_state == CREDS_FOUND && r->creds.identitytoken) {
		/* An identity token is an OAuth2 refresh token (docker login stores one). */
		char *t = registry_escape(r->creds.identitytoken);
		buf_appendf(form, "&grant_type=refresh_token&client_id=ocinoco&refresh_token=%s",
		            t);
		free_secret(t);
		free(q->url);
		q->url = xstrdup(r->realm);
		q->x.method = "POST";
		q->x.has_body = true;
		q->x.body = form->data;
		q->x.body_len = form->len;
		q->x.body_size = (int64_t)form->len;
		http_xfer_add_header(&q->x, "Content-Type: application/x-www-form-urlencoded");
	} else if (have_password(r)) {
		add_basic(r, &q->x);
	}
}

/* The token of a 200 answer ("token", else "access_token"): 0, else -1 with auth_error set. */
static int token_take(struct registry *r, const struct rreq *q)
{
	char jerr[200];
	json_t *j =
	        json_parse(q->x.resp.data ? q->x.resp.data : "", q->x.resp.len, jerr, sizeof jerr);
	const char *t = json_string_value(json_object_get(j, "token"));
	if (t == NULL || *t == '\0')
		t = json_string_value(json_object_get(j, "access_token"));
	int ret = -1;
	if (t == NULL || *t == '\0') {
		r->auth_error = xasprintf("token server %s: no token in its answer", r->realm);
	} else if (!auth_text_clean(t)) {
		r->auth_error = xasprintf(
		        "token server %s: the token holds a control character (refused)", r->realm);
	} else {
		free_secret(r->token);
		r->token = xstrdup(t);
		r->token_gen++;
		ret = 0;
	}
	json_decref(j);
	return ret;
}

int registry_fetch_token(struct registry *r)
{
	free(r->auth_error);
	r->auth_error = NULL;
	if (!realm_allowed(r)) {
		r->auth_error =
		        xasprintf("token server %s: not HTTPS: it would get the credentials "
		                  "in clear text (refused; --insecure allows it)",
		                  r->realm);
		return -1;
	}
	lookup_creds(r);
	struct buf form = {0};
	struct rreq q, *qp = &q;
	token_request(r, &q, &form);
	registry_run(r, &qp, 1);
	r->tokens++;
	int ret = -1;
	if (q.x.result == CURLE_OK && q.x.status == 200) {
		ret = token_take(r, &q);
	} else {
		char *why = registry_error_text(r, &q);
		r->auth_error = xasprintf("token server %s: %s%s", r->realm, why,
		                          q.x.status == 401 && r->creds_state == CREDS_FOUND
		                                  ? " (wrong username or password?)"
		                                  : "");
		free(why);
	}
	if (q.x.resp.data)
		explicit_bzero(q.x.resp.data, q.x.resp.len);
	if (form.data)
		explicit_bzero(form.data, form.len);
	q.x.body = NULL;
	rreq_free(&q);
	buf_free(&form);
	return ret;
}

/* ---- hints: what an earlier program of the build learnt (no secret) ---- */

/* $OCINOCO_REGISTRY_HINTS/HOST (":" as "_"), if the directory is this user's own and nobody
 * else's (0700 or stricter, not a symbolic link); else NULL. */
static char *hint_path(const struct registry *r)
{
	const char *d = getenv("OCINOCO_REGISTRY_HINTS");
	struct stat st;
	if (d == NULL || d[0] != '/' || lstat(d, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		return NULL;
	char *p = xasprintf("%s/%s", d, r->host);
	for (char *c = p + strlen(d) + 1; *c; c++)
		if (*c == ':' || *c == '/' || *c == '[' || *c == ']')
			*c = '_';
	return p;
}

/* The hint line of what r knows, or NULL while it knows nothing yet. */
static char *hint_line(const struct registry *r)
{
	if (!r->scheme_known)
		return NULL;
	struct buf b = {0};
	buf_appendf(&b, "%s %s", strncmp(r->base, "http:", 5) == 0 ? "http" : "https",
	            r->scheme == SCHEME_BASIC    ? "basic"
	            : r->scheme == SCHEME_BEARER ? "bearer"
	                                         : "none");
	/* a realm or service with white space or a control character is not passed on */
	bool plain = true;
	for (const char *c = r->realm; c && *c; c++)
		plain &= *c > ' ' && *c != 0x7f;
	for (const char *c = r->service; c && *c; c++)
		plain &= *c > ' ' && *c != 0x7f;
	if (r->scheme == SCHEME_BEARER && r->realm && plain)
		buf_appendf(&b, " %s%s%s", r->realm, r->service ? " " : "",
		            r->service ? r->service : "");
	buf_appendf(&b, "\n");
	return b.data;
}

void registry_hints_read(struct registry *r)
{
	char *p = hint_path(r);
	if (p == NULL)
		return;
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(p);
	struct buf b = {0};
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_size > 4096 || buf_read_fd(&b, fd, 4096) < 0 || b.len == 0) {
		if (fd >= 0)
			close(fd);
		buf_free(&b);
		return;
	}
	close(fd);
	/* "SCHEME AUTH [REALM [SERVICE]]\n": SCHEME https or http, AUTH none, basic or bearer */
	char *save = NULL, *scheme = strtok_r(b.data, " \n", &save);
	char *auth = strtok_r(NULL, " \n", &save);
	char *realm = strtok_r(NULL, " \n", &save), *service = strtok_r(NULL, " \n", &save);
	if (scheme &&
	    (strcmp(scheme, "https") == 0 || (strcmp(scheme, "http") == 0 && r->may_use_http))) {
		free(r->base);
		r->base = xasprintf("%s://%s", scheme, r->host);
		r->scheme_known = true;
	}
	if (auth && strcmp(auth, "basic") == 0) {
		lookup_creds(r);
		if (have_password(r))
			r->scheme = SCHEME_BASIC;
	} else if (auth && strcmp(auth, "bearer") == 0 && realm) {
		r->scheme = SCHEME_BEARER;
		r->realm = xstrdup(realm);
		r->service = service ? xstrdup(service) : NULL;
		r->token_first = true;
	}
	if (r->http->opts.verbose && r->scheme_known)
		http_trace("%s: %s, %s auth (learnt by an earlier program of this build)", r->host,
		           scheme, auth ? auth : "no");
	r->hint_said = hint_line(r);
	buf_free(&b);
}

void registry_hints_write(struct registry *r)
{
	char *line = hint_line(r), *p = line ? hint_path(r) : NULL;
	if (p == NULL || (r->hint_said && strcmp(r->hint_said, line) == 0)) {
		free(line);
		free(p);
		return;
	}
	atomic_write_file(p, line, strlen(line), 0600); /* a hint is best effort */
	free(r->hint_said);
	r->hint_said = line;
	free(p);
}
