/* The registry client's request engine: one request's retry, auth and redirect state, and
 * requests run at once over the session's HTTP client. The operations (registry.c, upload.c)
 * build requests and read their answers; the engine sends them, attaches credentials
 * (registry_token.c), answers 401s, follows redirects, and retries. */
#include "oci.h"
#include "ref.h"
#include "registry.h"
#include "registry_engine.h"
#include "time_limits.h"
#include "util.h"

#include <err.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	registry_hints_read(r);
	return r;
}

void registry_free(struct registry *r)
{
	if (r == NULL)
		return;
	creds_free(&r->creds);
	free(r->hint_said);
	for (size_t i = 0; i < r->nscopes; i++)
		free(r->scopes[i].path);
	free(r->scopes);
	free_secret(r->token);
	free(r->auth_error);
	free(r->realm);
	free(r->service);
	free(r->domain);
	free(r->host);
	free(r->base);
	free(r);
}

/* Sets the URL of the next try (a redirect's, or the base URL and the path) and its
 * credentials. */
static void start(struct registry *r, struct rreq *q)
{
	char *url = q->redirect_to     ? xstrdup(q->redirect_to)
	            : q->url[0] == '/' ? xasprintf("%s%s", r->base, q->url)
	                               : xstrdup(q->url);
	http_xfer_set_url(&q->x, url);
	free(url);
	q->sent_https = strncmp(q->x.url, "https:", 6) == 0;
	q->x.insecure = r->insecure;
	registry_attach_credentials(r, q);
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

enum decision { FINISHED, TRY_AGAIN };

/* Another try after delay (the longest delay of a round is the round's wait). */
static enum decision try_again_after(struct rreq *q, double delay, double *wait)
{
	free(q->redirect_to);
	q->redirect_to = NULL;
	*wait = delay > *wait ? delay : *wait;
	return TRY_AGAIN;
}

static bool may_retry(const struct rreq *q)
{
	return !q->once && q->attempts + 1 < REGISTRY_MAX_ATTEMPTS;
}

/* No response: the plain-HTTP fallback of a registry that does not speak TLS, a retry of a
 * transient failure, or the end. */
static enum decision after_transport_error(struct registry *r, struct rreq *q, double *wait)
{
	struct http_xfer *x = &q->x;
	/* A loopback (or --insecure) registry that does not speak TLS: plain HTTP. */
	if (q->sent_https && r->may_use_http && !r->scheme_known &&
	    x->result == CURLE_SSL_CONNECT_ERROR && url_same_origin(x->url, r->base)) {
		free(r->base);
		r->base = xasprintf("http://%s", r->host);
		r->scheme_known = true;
		if (r->http->opts.verbose)
			http_trace("%s does not speak TLS: using plain HTTP", r->host);
		return TRY_AGAIN;
	}
	if (q->sent_https && strncmp(r->base, "http:", 5) == 0 && q->url[0] == '/')
		return TRY_AGAIN; /* another request switched the scheme meanwhile */
	if (x->write_failed || x->too_big)
		return FINISHED;
	if (registry_transient_curl(x->result) && may_retry(q)) {
		q->attempts++;
		return try_again_after(q, registry_backoff(q->attempts), wait);
	}
	return FINISHED;
}

/* A redirect to follow (blob GETs): the next try goes to its Location. */
static bool redirect(struct rreq *q)
{
	const struct http_xfer *x = &q->x;
	const char *l = http_header(x, "Location");
	if (!q->follow || x->status < 300 || x->status >= 400 || x->status == 304 || l == NULL ||
	    q->redirects >= 10)
		return false;
	char *to = url_resolve(x->reached, l);
	if (to == NULL)
		return false;
	free(q->redirect_to);
	q->redirect_to = to;
	q->redirects++;
	return true;
}

/* Whether a finished try is tried again: after the plain-HTTP fallback, a 401 whose challenge
 * the credentials can answer (*need_token: a new token first), a redirect, a transient failure
 * (*wait: the back-off or Retry-After, the longest of the round). */
static enum decision retry_decision(struct registry *r, struct rreq *q, bool *need_token,
                                    double *wait)
{
	struct http_xfer *x = &q->x;
	if (x->result != CURLE_OK)
		return after_transport_error(r, q, wait);
	bool at_registry = url_same_origin(x->url, r->base);
	if (at_registry)
		r->scheme_known = true;
	if (x->status == 401 && !q->noauth && q->auth_tries < 2 && at_registry)
		return registry_answer_challenge(r, q, need_token) ? TRY_AGAIN : FINISHED;
	if (redirect(q))
		return TRY_AGAIN;
	if (registry_transient_status(x->status) && may_retry(q)) {
		q->attempts++;
		return try_again_after(q, retry_after(x, q->attempts), wait);
	}
	return FINISHED;
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
	/* a Bearer realm known from a hint: the token first, with no 401 to ask for it (if that
	 * fails, the 401s say what to do) */
	if (r->token_first && r->token == NULL && n > 0 && !qs[0]->noauth) {
		r->token_first = false;
		if (registry_fetch_token(r) < 0) {
			free(r->auth_error);
			r->auth_error = NULL;
		}
	}
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
			if (retry_decision(r, pend[i], &need_token, &wait) == TRY_AGAIN)
				pend[nn++] = pend[i];
		np = nn;
		if (need_token && np > 0 && registry_fetch_token(r) < 0) {
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
	registry_hints_write(r);
}

/* "GET URL: what curl says", the URL redacted. */
static void transport_error_text(struct buf *b, const struct http_xfer *x)
{
	char *u = redact_url(x->url);
	if (x->too_big)
		buf_appendf(b, "%s %s: response too large", x->method, u);
	else
		buf_appendf(b, "%s %s: %s", x->method, u, x->errbuf);
	if (x->result == CURLE_PEER_FAILED_VERIFICATION)
		buf_appendf(b, " (trust its CA with --cacert FILE or SSL_CERT_FILE, or use "
		               "--insecure)");
	free(u);
}

/* " CODE: message; ..." (at most 3) of a distribution error document, else a token server's
 * " details"; returns whether any was shown. */
static bool error_document_text(struct buf *b, const struct http_xfer *x)
{
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
		buf_appendf(b, "%s%s%s%s", shown++ ? "; " : " ", code ? code : "",
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
			buf_appendf(b, " %s", d);
	}
	json_decref(j);
	return shown > 0;
}

/* A 401 without an error document: the challenge's error; then why auth did not help. */
static void unauthorized_text(struct buf *b, const struct registry *r, const struct rreq *q,
                              bool shown)
{
	if (!shown) {
		const char *h = http_header(&q->x, "WWW-Authenticate");
		struct challenge c;
		if (h && challenge_parse(h, &c)) {
			if (c.error)
				buf_appendf(b, " %s", c.error);
			challenge_free(&c);
		}
		buf_appendf(b, " UNAUTHORIZED: authentication required");
	}
	if (r->auth_error)
		buf_appendf(b, " (%s)", r->auth_error);
	else if (q->sent_scheme == SCHEME_BASIC)
		buf_appendf(b, " (the credentials from %s were refused)", r->creds.source);
	else if (r->creds_state == CREDS_NONE && !q->noauth)
		buf_appendf(b, " (no credentials for %s found)", r->domain);
}

/* A retry not made: it would have waited beyond OCINOCO_MAX_WAIT. */
static void wait_limit_text(struct buf *b, const struct rreq *q)
{
	if (q->gave_up > 0)
		buf_appendf(
		        b,
		        " (not retried: waiting %.0f s more would pass the %ld s a run may wait "
		        "for retries, OCINOCO_MAX_WAIT)",
		        q->gave_up, time_limits()->max_wait);
}

char *registry_error_text(const struct registry *r, const struct rreq *q)
{
	const struct http_xfer *x = &q->x;
	struct buf b = {0};
	if (x->result != CURLE_OK) {
		transport_error_text(&b, x);
		wait_limit_text(&b, q);
		return b.data;
	}
	buf_appendf(&b, "HTTP %ld", x->status);
	bool shown = error_document_text(&b, x);
	wait_limit_text(&b, q);
	if (x->status == 401)
		unauthorized_text(&b, r, q, shown);
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
