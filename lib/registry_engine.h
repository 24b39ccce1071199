/* Inside the registry client: the request engine below the operations. One request with its
 * retry, auth and redirect state, and the engine that runs requests at once
 * (registry_engine.c) with the credentials and tokens they need (registry_token.c), for the
 * operations (registry.c: manifests, blob HEAD, mount, GET; upload.c: uploads).
 * Not for the programs: they use registry.h or store.h. */
#ifndef OCINOCO_REGISTRY_ENGINE_H
#define OCINOCO_REGISTRY_ENGINE_H

#include "http.h"
#include "registry.h"

#include <stdbool.h>

/* One request of the run, with its retry state. */
struct rreq {
	struct http_xfer x;
	char *url;         /* "/v2/..." relative to the registry's base URL, or absolute */
	char *redirect_to; /* where a redirect sent the current try */
	bool follow;       /* follow redirects (blob GETs) */
	bool noauth;       /* a token-server request */
	bool once;         /* no retries here: the caller restarts or resumes */
	int attempts, auth_tries, redirects;
	bool sent_https;
	enum auth_scheme sent_scheme; /* what Authorization the last try carried */
	unsigned long token_gen_used;
	double gave_up; /* not retried: waiting this long would pass OCINOCO_MAX_WAIT */
	void (*prepare)(struct rreq *q);
	void *ctx;
};

void rreq_init(struct rreq *q, const char *method, const char *url);
void rreq_free(struct rreq *q);
/* A 2xx answer. */
bool rreq_ok(const struct rreq *q);

/* Runs the requests at once: auth (401 -> token or Basic, then again), redirects for those
 * that follow them, retries of transient failures with back-off (unless once). */
void registry_run(struct registry *r, struct rreq **qs, size_t n);
/* "HTTP 404 MANIFEST_UNKNOWN: manifest unknown", or the transport error (caller frees). */
char *registry_error_text(const struct registry *r, const struct rreq *q);
/* Prints "prog: WHAT: [DOING: ]error text"; returns -1. */
int registry_fail(const struct registry *r, const struct rreq *q, const char *what,
                  const char *doing);
bool registry_transient_curl(CURLcode c);
bool registry_transient_status(long status);
/* Back-off before try n (1, 2, ...): 0.25 s doubling, at most 8 s. */
double registry_backoff(int attempt);
/* Sleeps secs, or what is left of the run's OCINOCO_MAX_WAIT (lib/time_limits.h) if less. */
void registry_sleep(double secs);
/* Whether sleeping secs more keeps the run within OCINOCO_MAX_WAIT. */
bool registry_may_wait(double secs);
/* URL-escapes (caller frees). */
char *registry_escape(const char *s);

/* Auth (registry_token.c). */
/* The registry's Authorization on q (Bearer token or Basic), only where q->x.url has the
 * registry's origin as it stands (its base URL); none on a token request (noauth). */
void registry_attach_credentials(struct registry *r, struct rreq *q);
/* q got a 401 from the registry: whether its challenge can be answered (try again), and
 * *need_token set when a new token must come first. */
bool registry_answer_challenge(struct registry *r, struct rreq *q, bool *need_token);
/* A token for every scope wanted; -1 with r->auth_error set (an HTTPS realm unless --insecure
 * or loopback; a token free of control characters). */
int registry_fetch_token(struct registry *r);
/* What an earlier program of the same build learnt of this registry (its scheme, the auth
 * challenge: no secret), from the directory $OCINOCO_REGISTRY_HINTS names, so that the first
 * request needs no 401 first; and what this one learnt, for the next: written after each run
 * of requests that changed it (so a program that then exits on an error, a 404 say, has passed
 * it on too). Only in a directory of this user's that nobody else can read or write (else
 * ignored). */
void registry_hints_read(struct registry *r);
void registry_hints_write(struct registry *r);

#endif
