#include "registry.h"
#include "registry_req.h"
#include "time_limits.h"
#include "oci.h"
#include "ref.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char ACCEPT_MANIFESTS[] =
        "Accept: " MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST;

void rreq_init(struct rreq *q, const char *method, const char *url)
{
	*q = (struct rreq){0};
	q->x.method = method;
	q->x.body_size = -1;
	q->url = xstrdup(url);
}

void rreq_free(struct rreq *q)
{
	http_xfer_free(&q->x);
	free(q->url);
	free(q->redirect_to);
	*q = (struct rreq){0};
}

void doc_free(struct doc *d)
{
	buf_free(&d->data);
	free(d->media_type);
	*d = (struct doc){0};
}

int doc_identify(struct doc *d, const char *fallback_type, char *err, size_t errlen)
{
	char jerr[200];
	sha256_of(d->data.data ? d->data.data : "", d->data.len, d->digest);
	json_t *j = json_parse(d->data.data ? d->data.data : "", d->data.len, jerr, sizeof jerr);
	if (j == NULL || !json_is_object(j)) {
		snprintf(err, errlen, "not a JSON object%s%s", j ? "" : ": ", j ? "" : jerr);
		json_decref(j);
		return -1;
	}
	/* The body's own mediaType wins over a Content-Type some registries get wrong. */
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	if (mt == NULL && fallback_type &&
	    (media_type_is_index(fallback_type) || media_type_is_manifest(fallback_type)))
		mt = fallback_type;
	if (mt == NULL)
		mt = manifest_media_type(j);
	if (mt == NULL)
		mt = fallback_type;
	free(d->media_type);
	d->media_type = mt ? xstrdup(mt) : NULL;
	json_decref(j);
	return 0;
}

struct registry *registry_new(struct http_client *http, const char *domain, const char *host,
                              bool insecure)
{
	struct registry *r = xcalloc(1, sizeof *r);
	r->http = http;
	r->domain = xstrdup(domain);
	r->host = xstrdup(host);
	r->insecure = insecure;
	/* Plain HTTP only where nobody can be in the middle, or when asked for. */
	r->may_use_http = insecure || host_is_loopback(host);
	r->base = xasprintf("https://%s", host);
	return r;
}

void registry_free(struct registry *r)
{
	if (r == NULL)
		return;
	creds_free(&r->creds);
	for (size_t i = 0; i < r->nscopes; i++)
		free(r->scopes[i].path);
	free(r->scopes);
	if (r->token)
		explicit_bzero(r->token, strlen(r->token));
	free(r->token);
	free(r->auth_error);
	free(r->realm);
	free(r->service);
	free(r->domain);
	free(r->host);
	free(r->base);
	free(r);
}

/* Returns whether the scope set grew. */
static bool want(struct registry *r, const char *path, bool pull, bool push)
{
	for (size_t i = 0; i < r->nscopes; i++)
		if (strcmp(r->scopes[i].path, path) == 0) {
			bool grew = push && !r->scopes[i].push;
			r->scopes[i].push |= push;
			(void)pull;
			return grew;
		}
	r->scopes = xreallocarray(r->scopes, r->nscopes + 1, sizeof *r->scopes);
	r->scopes[r->nscopes++] = (struct scope){xstrdup(path), push};
	return true;
}

void registry_want(struct registry *r, const char *path, bool push)
{
	want(r, path, true, push);
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
		grew |= want(r, name, true, push);
	}
	free(s);
	return grew;
}

/* "host:port" of a URL, so that credentials go only where they belong. */
static char *url_authority(const char *url)
{
	char *o = url_origin(url);
	if (o == NULL)
		return NULL;
	char *a = xstrdup(strstr(o, "://") + 3);
	free(o);
	return a;
}

static bool same_host(const char *a, const char *b)
{
	char *x = url_authority(a), *y = url_authority(b);
	/* http and https default ports differ; compare host names only when either has none */
	bool same = false;
	if (x && y) {
		char *cx = strrchr(x, ':'), *cy = strrchr(y, ':');
		if (cx)
			*cx = '\0';
		if (cy)
			*cy = '\0';
		same = strcmp(x, y) == 0;
	}
	free(x);
	free(y);
	return same;
}

static void lookup_creds(struct registry *r)
{
	if (r->creds_state != 0)
		return;
	char err[512];
	int got = auth_lookup(r->domain, &r->creds, err, sizeof err);
	if (got < 0)
		warnx("%s: credentials: %s", r->domain, err);
	r->creds_state = got > 0 ? 1 : -1;
	if (got > 0 && r->http->opts.verbose)
		http_trace("credentials for %s from %s", r->domain, r->creds.source);
}

static void start(struct registry *r, struct rreq *q)
{
	char *url = q->redirect_to     ? xstrdup(q->redirect_to)
	            : q->url[0] == '/' ? xasprintf("%s%s", r->base, q->url)
	                               : xstrdup(q->url);
	http_xfer_set_url(&q->x, url);
	q->sent_https = strncmp(url, "https:", 6) == 0;
	q->x.insecure = r->insecure;
	q->token_gen_used = 0;
	q->sent_scheme = SCHEME_NONE;
	/* a token request carries its own credentials; others get the registry's, and only
	 * on the registry's host (never on a redirect elsewhere) */
	if (!q->noauth)
		http_xfer_del_header(&q->x, "Authorization");
	if (!q->noauth && same_host(url, r->base)) {
		if (r->scheme == SCHEME_BEARER && r->token) {
			http_xfer_add_header(&q->x, "Authorization: Bearer %s", r->token);
			q->token_gen_used = r->token_gen;
			q->sent_scheme = SCHEME_BEARER;
		} else if (r->scheme == SCHEME_BASIC && r->creds_state > 0 && r->creds.username) {
			char *up = xasprintf("%s:%s", r->creds.username, r->creds.password);
			char *b = base64_encode(up, strlen(up));
			http_xfer_add_header(&q->x, "Authorization: Basic %s", b);
			explicit_bzero(up, strlen(up));
			explicit_bzero(b, strlen(b));
			free(up);
			free(b);
			q->sent_scheme = SCHEME_BASIC;
		}
	}
	free(url);
	if (q->prepare)
		q->prepare(q);
}

bool registry_transient_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SEND_FAIL_REWIND: /* a body that cannot be sent again on a new connection */
		return true;
	default:
		return false;
	}
}

bool registry_transient_status(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* Bounded exponential back-off: 0.25 s, 0.5 s, 1 s ... at most 8 s. */
double registry_backoff(int attempt)
{
	double d = 0.25;
	for (int i = 1; i < attempt && d < 8; i++)
		d *= 2;
	return d > 8 ? 8 : d;
}

static double retry_after(const struct http_xfer *x, int attempt)
{
	const char *ra = http_header(x, "Retry-After");
	uint64_t secs;
	if (ra && parse_u64(ra, 1u << 30, &secs))
		return secs > REGISTRY_RETRY_AFTER_MAX ? REGISTRY_RETRY_AFTER_MAX : (double)secs;
	if (ra) {
		time_t t = curl_getdate(ra, NULL);
		time_t now = time(NULL);
		if (t > now)
			return t - now > REGISTRY_RETRY_AFTER_MAX ? REGISTRY_RETRY_AFTER_MAX
			                                          : (double)(t - now);
		if (t != -1)
			return 0;
	}
	return registry_backoff(attempt);
}

/* Seconds this run has waited before retries, on any thread (OCINOCO_MAX_WAIT bounds it). */
static _Atomic long waited_ms;

bool registry_may_wait(double secs)
{
	return (double)waited_ms / 1000 + secs <= (double)time_limits()->max_wait;
}

void registry_sleep(double secs)
{
	double left = (double)time_limits()->max_wait - (double)waited_ms / 1000;
	if (secs > left)
		secs = left > 0 ? left : 0;
	waited_ms += (long)(secs * 1000);
	struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

enum verdict { DONE, AGAIN };

static enum verdict judge(struct registry *r, struct rreq *q, bool *need_token, double *wait)
{
	struct http_xfer *x = &q->x;
	if (x->result != CURLE_OK) {
		/* A loopback (or --insecure) registry that does not speak TLS: plain HTTP. */
		if (q->sent_https && r->may_use_http && !r->scheme_known &&
		    x->result == CURLE_SSL_CONNECT_ERROR && same_host(x->url, r->base)) {
			free(r->base);
			r->base = xasprintf("http://%s", r->host);
			r->scheme_known = true;
			if (r->http->opts.verbose)
				http_trace("%s does not speak TLS: using plain HTTP", r->host);
			return AGAIN;
		}
		if (q->sent_https && strncmp(r->base, "http:", 5) == 0 && q->url[0] == '/')
			return AGAIN; /* another request switched the scheme meanwhile */
		if (x->write_failed || x->too_big)
			return DONE;
		if (registry_transient_curl(x->result) && !q->once &&
		    q->attempts + 1 < REGISTRY_MAX_ATTEMPTS) {
			q->attempts++;
			free(q->redirect_to);
			q->redirect_to = NULL;
			double d = registry_backoff(q->attempts);
			*wait = d > *wait ? d : *wait;
			return AGAIN;
		}
		return DONE;
	}
	if (same_host(x->url, r->base))
		r->scheme_known = true;
	if (x->status == 401 && !q->noauth && q->auth_tries < 2 && same_host(x->url, r->base)) {
		const char *h = http_header(x, "WWW-Authenticate");
		struct challenge c;
		if (h == NULL || !challenge_parse(h, &c))
			return DONE;
		q->auth_tries++;
		enum verdict v = DONE;
		if (c.scheme == SCHEME_BEARER && c.realm) {
			bool grew = c.scope && want_challenge_scopes(r, c.scope);
			if (r->realm == NULL || strcmp(r->realm, c.realm) != 0) {
				free(r->realm);
				r->realm = xstrdup(c.realm);
				grew = true;
			}
			free(r->service);
			r->service = c.service ? xstrdup(c.service) : NULL;
			r->scheme = SCHEME_BEARER;
			/* A new token when none was sent, the scopes grew, or the one sent was the
			 * current one (expired, or not enough rights: then it fails again). */
			if (grew || r->token == NULL || q->token_gen_used == r->token_gen)
				*need_token = true;
			v = AGAIN;
		} else if (c.scheme == SCHEME_BASIC) {
			lookup_creds(r);
			if (r->creds_state > 0 && r->creds.username &&
			    q->sent_scheme != SCHEME_BASIC) {
				r->scheme = SCHEME_BASIC;
				v = AGAIN;
			}
		}
		challenge_free(&c);
		return v;
	}
	if (q->follow && x->status >= 300 && x->status < 400 && x->status != 304 &&
	    http_header(x, "Location") && q->redirects < 10) {
		char *to = url_resolve(x->reached, http_header(x, "Location"));
		if (to == NULL)
			return DONE;
		free(q->redirect_to);
		q->redirect_to = to;
		q->redirects++;
		return AGAIN;
	}
	if (registry_transient_status(x->status) && !q->once &&
	    q->attempts + 1 < REGISTRY_MAX_ATTEMPTS) {
		q->attempts++;
		free(q->redirect_to);
		q->redirect_to = NULL;
		double d = retry_after(x, q->attempts);
		*wait = d > *wait ? d : *wait;
		return AGAIN;
	}
	return DONE;
}

char *registry_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	if (e == NULL)
		errx(EXIT_FAIL, "out of memory");
	char *c = xstrdup(e);
	curl_free(e);
	return c;
}

static char *scope_string(const struct scope *s)
{
	return xasprintf("repository:%s:%s", s->path, s->push ? "pull,push" : "pull");
}

static int fetch_token(struct registry *r)
{
	free(r->auth_error);
	r->auth_error = NULL;
	lookup_creds(r);
	struct buf u = {0};
	buf_appendf(&u, "%s%c", r->realm, strchr(r->realm, '?') ? '&' : '?');
	struct buf form = {0};
	bool refresh = r->creds_state > 0 && r->creds.identitytoken;
	char *sv = r->service ? registry_escape(r->service) : NULL;
	if (sv) {
		buf_appendf(&u, "service=%s", sv);
		buf_appendf(&form, "service=%s&", sv);
	}
	buf_appendf(&form, "scope=");
	for (size_t i = 0; i < r->nscopes; i++) {
		char *s = scope_string(&r->scopes[i]);
		char *e = registry_escape(s);
		buf_appendf(&u, "%sscope=%s", u.data[u.len - 1] == '?' ? "" : "&", e);
		buf_appendf(&form, "%s%s", i ? "%20" : "", e);
		free(e);
		free(s);
	}
	free(sv);
	struct rreq q;
	rreq_init(&q, "GET", u.data);
	q.noauth = true;
	if (refresh) {
		/* An identity token is an OAuth2 refresh token (docker login stores one). */
		char *t = registry_escape(r->creds.identitytoken);
		buf_appendf(&form, "&grant_type=refresh_token&client_id=ocinoco&refresh_token=%s",
		            t);
		explicit_bzero(t, strlen(t));
		free(t);
		free(q.url);
		q.url = xstrdup(r->realm);
		q.x.method = "POST";
		q.x.has_body = true;
		q.x.body = form.data;
		q.x.body_len = form.len;
		q.x.body_size = (int64_t)form.len;
		http_xfer_add_header(&q.x, "Content-Type: application/x-www-form-urlencoded");
	} else if (r->creds_state > 0 && r->creds.username) {
		char *up = xasprintf("%s:%s", r->creds.username, r->creds.password);
		char *b = base64_encode(up, strlen(up));
		http_xfer_add_header(&q.x, "Authorization: Basic %s", b);
		explicit_bzero(up, strlen(up));
		explicit_bzero(b, strlen(b));
		free(up);
		free(b);
	}
	q.x.resp_max = 1u << 20;
	struct rreq *qp = &q;
	registry_run(r, &qp, 1);
	r->tokens++;
	int ret = -1;
	if (q.x.result == CURLE_OK && q.x.status == 200) {
		char jerr[200];
		json_t *j = json_parse(q.x.resp.data ? q.x.resp.data : "", q.x.resp.len, jerr,
		                       sizeof jerr);
		const char *t = json_string_value(json_object_get(j, "token"));
		if (t == NULL || *t == '\0')
			t = json_string_value(json_object_get(j, "access_token"));
		if (t && *t) {
			if (r->token)
				explicit_bzero(r->token, strlen(r->token));
			free(r->token);
			r->token = xstrdup(t);
			r->token_gen++;
			ret = 0;
		} else {
			r->auth_error =
			        xasprintf("token server %s: no token in its answer", r->realm);
		}
		json_decref(j);
	} else {
		char *why = registry_error_text(r, &q);
		r->auth_error = xasprintf("token server %s: %s%s", r->realm, why,
		                          q.x.status == 401 && r->creds_state > 0
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
	buf_free(&u);
	buf_free(&form);
	return ret;
}

void registry_run(struct registry *r, struct rreq **qs, size_t n)
{
	struct rreq **pend = xcalloc(n, sizeof *pend);
	struct http_xfer **xs = xcalloc(n, sizeof *xs);
	size_t np = n, nheld = 0;
	memcpy(pend, qs, n * sizeof *pend);
	/* A registry that may speak plain HTTP: one request finds out which (a TLS handshake
	 * that fails, then HTTP) before the others go, so that they do not each try TLS first;
	 * they go with its retry (after the token, if it asked for one). */
	if (!r->scheme_known && r->may_use_http && n > 1)
		nheld = n - 1, np = 1;
	while (np > 0 || nheld > 0) {
		for (size_t i = 0; i < np; i++) {
			start(r, pend[i]);
			xs[i] = &pend[i]->x;
		}
		http_run(r->http, xs, np);
		bool need_token = false;
		double wait = 0;
		size_t nn = 0;
		for (size_t i = 0; i < np; i++)
			if (judge(r, pend[i], &need_token, &wait) == AGAIN)
				pend[nn++] = pend[i];
		np = nn;
		if (need_token && np > 0 && fetch_token(r) < 0) {
			/* those waiting for a token keep their 401 */
			nn = 0;
			for (size_t i = 0; i < np; i++)
				if (pend[i]->x.status != 401)
					pend[nn++] = pend[i];
			np = nn;
		}
		if (nheld > 0) {
			memcpy(pend + np, qs + 1, nheld * sizeof *pend);
			np += nheld;
			nheld = 0;
		}
		if (wait > 0 && np > 0 && !registry_may_wait(wait)) {
			for (size_t i = 0; i < np; i++)
				pend[i]->gave_up = wait; /* they keep their last answer */
			break;
		}
		if (wait > 0 && np > 0) {
			if (r->http->opts.verbose)
				http_trace("retrying in %.2f s", wait);
			registry_sleep(wait);
		}
	}
	free(pend);
	free(xs);
}

static void wait_limit_text(struct buf *b, const struct rreq *q)
{
	if (q->gave_up > 0)
		buf_appendf(
		        b,
		        " (not retried: waiting %.0f s more would pass the %ld s a run may wait "
		        "for retries, OCINOCO_MAX_WAIT)",
		        q->gave_up, time_limits()->max_wait);
}

/* "HTTP 404 MANIFEST_UNKNOWN: manifest unknown" or the transport error. */
char *registry_error_text(const struct registry *r, const struct rreq *q)
{
	const struct http_xfer *x = &q->x;
	struct buf b = {0};
	if (x->result != CURLE_OK) {
		char *u = redact_url(x->url);
		if (x->too_big)
			buf_appendf(&b, "%s %s: response too large", x->method, u);
		else
			buf_appendf(&b, "%s %s: %s", x->method, u, x->errbuf);
		if (x->result == CURLE_PEER_FAILED_VERIFICATION)
			buf_appendf(&b,
			            " (trust its CA with --cacert FILE or SSL_CERT_FILE, or use "
			            "--insecure)");
		free(u);
		wait_limit_text(&b, q);
		return b.data;
	}
	buf_appendf(&b, "HTTP %ld", x->status);
	char jerr[80];
	json_t *j = x->resp.len ? json_parse(x->resp.data, x->resp.len, jerr, sizeof jerr) : NULL;
	json_t *errs = json_object_get(j, "errors");
	size_t i;
	json_t *e;
	int shown = 0;
	json_array_foreach(errs, i, e)
	{
		const char *code = json_string_value(json_object_get(e, "code"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		if (code == NULL && msg == NULL)
			continue;
		buf_appendf(&b, "%s%s%s%s", shown++ ? "; " : " ", code ? code : "",
		            code && msg ? ": " : "", msg ? msg : "");
		if (shown == 3)
			break;
	}
	if (!shown && j) {
		/* token servers: {"details": "..."} or {"error": "..."} */
		const char *d = json_string_value(json_object_get(j, "details"));
		if (d == NULL)
			d = json_string_value(json_object_get(j, "error"));
		if (d)
			buf_appendf(&b, " %s", d);
	}
	json_decref(j);
	if (!shown && x->status == 401) {
		const char *h = http_header(x, "WWW-Authenticate");
		struct challenge c;
		if (h && challenge_parse(h, &c)) {
			if (c.error)
				buf_appendf(&b, " %s", c.error);
			challenge_free(&c);
		}
		buf_appendf(&b, "%s", shown ? "" : " UNAUTHORIZED: authentication required");
	}
	wait_limit_text(&b, q);
	if (x->status == 401 && r->auth_error)
		buf_appendf(&b, " (%s)", r->auth_error);
	else if (x->status == 401 && q->sent_scheme == SCHEME_BASIC)
		buf_appendf(&b, " (the credentials from %s were refused)", r->creds.source);
	else if (x->status == 401 && r->creds_state < 0 && !q->noauth)
		buf_appendf(&b, " (no credentials for %s found)", r->domain);
	return b.data;
}

int registry_fail(const struct registry *r, const struct rreq *q, const char *what,
                  const char *doing)
{
	char *t = registry_error_text(r, q);
	if (q->x.result != CURLE_OK)
		doing = NULL; /* the text names the request already */
	warnx("%s: %s%s%s", what, doing ? doing : "", doing ? ": " : "", t);
	free(t);
	return -1;
}

bool rreq_ok(const struct rreq *q)
{
	return q->x.result == CURLE_OK && q->x.status >= 200 && q->x.status < 300;
}

/* ---- manifests ---- */

int registry_get_manifest(struct registry *r, const char *path, const char *reference,
                          struct doc *d, const char *what)
{
	*d = (struct doc){0};
	char *url = xasprintf("/v2/%s/manifests/%s", path, reference);
	struct rreq q, *qp = &q;
	rreq_init(&q, "GET", url);
	free(url);
	http_xfer_add_header(&q.x, "%s", ACCEPT_MANIFESTS);
	q.x.resp_max = MANIFEST_MAX_BYTES;
	registry_run(r, &qp, 1);
	int ret = -1;
	if (q.x.too_big) {
		warnx("%s: manifest larger than %u bytes (4 MiB, the distribution spec's limit)",
		      what, MANIFEST_MAX_BYTES);
	} else if (!rreq_ok(&q)) {
		registry_fail(r, &q, what, NULL);
	} else {
		char err[256];
		d->data = q.x.resp;
		q.x.resp = (struct buf){0};
		if (doc_identify(d, http_header(&q.x, "Content-Type"), err, sizeof err) < 0) {
			warnx("%s: manifest is %s", what, err);
		} else if (digest_is_sha256(reference) && strcmp(reference, d->digest) != 0) {
			warnx("%s: digest mismatch: the registry served %s for %s", what, d->digest,
			      reference);
		} else if (d->media_type == NULL) {
			warnx("%s: not a manifest or index (no mediaType)", what);
		} else {
			const char *dcd = http_header(&q.x, "Docker-Content-Digest");
			if (dcd && strcmp(dcd, d->digest) != 0 && r->http->opts.verbose)
				http_trace(
				        "%s: Docker-Content-Digest %s differs from the body's %s",
				        what, dcd, d->digest);
			ret = 0;
		}
		if (ret < 0)
			doc_free(d);
	}
	rreq_free(&q);
	return ret;
}

static int exist(struct registry *r, const char *path, const char *kind, const char *const *digests,
                 size_t n, int *exists, const char *what)
{
	if (n == 0)
		return 0;
	struct rreq *qs = xcalloc(n, sizeof *qs);
	struct rreq **qp = xcalloc(n, sizeof *qp);
	for (size_t i = 0; i < n; i++) {
		char *url = xasprintf("/v2/%s/%s/%s", path, kind, digests[i]);
		rreq_init(&qs[i], "HEAD", url);
		free(url);
		if (strcmp(kind, "manifests") == 0)
			http_xfer_add_header(&qs[i].x, "%s", ACCEPT_MANIFESTS);
		qp[i] = &qs[i];
	}
	registry_run(r, qp, n);
	int ret = 0;
	for (size_t i = 0; i < n; i++) {
		if (rreq_ok(&qs[i]))
			exists[i] = 1;
		else if (qs[i].x.result == CURLE_OK && qs[i].x.status == 404)
			exists[i] = 0;
		else {
			char *doing = xasprintf("HEAD %s", digests[i]);
			ret = registry_fail(r, &qs[i], what, doing);
			free(doing);
			exists[i] = -1;
		}
		rreq_free(&qs[i]);
	}
	free(qs);
	free(qp);
	return ret;
}

int registry_manifests_exist(struct registry *r, const char *path, const char *const *digests,
                             size_t n, int *exists, const char *what)
{
	return exist(r, path, "manifests", digests, n, exists, what);
}

int registry_blobs_exist(struct registry *r, const char *path, const char *const *digests, size_t n,
                         int *exists, const char *what)
{
	return exist(r, path, "blobs", digests, n, exists, what);
}

void registry_mount(struct registry *r, const char *path, const char *const *digests,
                    const char *from, size_t n, int *mounted)
{
	if (n == 0)
		return;
	struct rreq *qs = xcalloc(n, sizeof *qs);
	struct rreq **qp = xcalloc(n, sizeof *qp);
	char *f = registry_escape(from);
	for (size_t i = 0; i < n; i++) {
		char *url =
		        xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", path, digests[i], f);
		rreq_init(&qs[i], "POST", url);
		free(url);
		qp[i] = &qs[i];
	}
	free(f);
	registry_run(r, qp, n);
	for (size_t i = 0; i < n; i++) {
		/* Anything but 201 (a 202 opens an upload instead) means: upload it normally. */
		mounted[i] = qs[i].x.result == CURLE_OK && qs[i].x.status == 201;
		rreq_free(&qs[i]);
	}
	free(qs);
	free(qp);
}

int registry_put_manifest(struct registry *r, const char *path, const char *reference,
                          const struct doc *d, const char *what)
{
	char *url = xasprintf("/v2/%s/manifests/%s", path, reference);
	struct rreq q, *qp = &q;
	rreq_init(&q, "PUT", url);
	free(url);
	http_xfer_add_header(&q.x, "Content-Type: %s", d->media_type);
	q.x.has_body = true;
	q.x.body = d->data.data;
	q.x.body_len = d->data.len;
	q.x.body_size = (int64_t)d->data.len;
	registry_run(r, &qp, 1);
	int ret = 0;
	if (!rreq_ok(&q)) {
		ret = registry_fail(r, &q, what, "PUT manifest");
	} else {
		const char *dcd = http_header(&q.x, "Docker-Content-Digest");
		if (dcd && strcmp(dcd, d->digest) != 0)
			warnx("%s: the registry says it stored %s, not %s", what, dcd, d->digest);
	}
	q.x.body = NULL;
	rreq_free(&q);
	return ret;
}

/* ---- blob download ---- */

struct blob_get {
	blob_sink sink;
	void *ctx;
	struct sha256 h;
	uint64_t delivered, skip;
	bool first;
	bool sink_failed;
	struct rreq *q;
};

static void blob_get_prepare(struct rreq *q)
{
	struct blob_get *g = q->ctx;
	http_xfer_del_header(&q->x, "Range");
	if (g->delivered > 0)
		http_xfer_add_header(&q->x, "Range: bytes=%" PRIu64 "-", g->delivered);
	g->first = true;
}

static size_t blob_get_write(const char *p, size_t n, void *ctx)
{
	struct blob_get *g = ctx;
	size_t all = n;
	if (g->first) {
		long st = 0;
		curl_easy_getinfo(g->q->x.easy, CURLINFO_RESPONSE_CODE, &st);
		g->skip = st == 206 ? 0 : g->delivered;
		g->first = false;
	}
	if (g->skip) {
		size_t s = g->skip < n ? (size_t)g->skip : n;
		p += s;
		n -= s;
		g->skip -= s;
	}
	if (n == 0)
		return all;
	sha256_update(&g->h, p, n);
	g->delivered += n;
	if (g->sink(p, n, g->ctx) < 0) {
		g->sink_failed = true;
		return 0;
	}
	return all;
}

int registry_get_blob(struct registry *r, const char *path, const char *digest, blob_sink sink,
                      void *ctx, const char *what)
{
	char *url = xasprintf("/v2/%s/blobs/%s", path, digest);
	struct rreq q, *qp = &q;
	rreq_init(&q, "GET", url);
	free(url);
	struct blob_get g = {.sink = sink, .ctx = ctx, .q = &q};
	sha256_init(&g.h);
	q.follow = true;
	q.prepare = blob_get_prepare;
	q.ctx = &g;
	q.x.write_cb = blob_get_write;
	q.x.write_ctx = &g;
	/* A dropped connection resumes where it stopped (Range: see blob_get_prepare). */
	int ret = -1;
	registry_run(r, &qp, 1);
	char got[DIGEST_STR_LEN];
	sha256_final(&g.h, got);
	if (g.sink_failed)
		warnx("%s: blob %s: cannot write it out", what, digest);
	else if (!rreq_ok(&q))
		registry_fail(r, &q, what, digest);
	else if (strcmp(got, digest) != 0)
		warnx("%s: blob %s: digest mismatch: the bytes served hash to %s", what, digest,
		      got);
	else
		ret = 0;
	rreq_free(&q);
	return ret;
}
