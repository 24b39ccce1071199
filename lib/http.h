/* HTTP transport over libcurl: one multi handle per run, so every connection (and its TLS
 * session) is kept alive and reused by every request of the run; several transfers run at once
 * (HTTP/2 multiplexes them on one TLS connection; plain HTTP/1.1 opens at most
 * HTTP_MAX_HOST_CONNECTIONS). No redirects are followed here: the registry layer decides. */
#ifndef OCINOCO_HTTP_H
#define OCINOCO_HTTP_H

#include "util.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#define HTTP_MAX_HOST_CONNECTIONS 4

struct http_opts {
	const char *cacert; /* a CA file trusted besides the system's (else SSL_CERT_FILE) */
	int verbose;        /* 1: each exchange on stderr, secrets redacted */
	long timeout;       /* seconds without progress, and the start of each request's deadline
	                     * (0: OCINOCO_TIMEOUT, lib/time_limits.h) */
	uint64_t min_rate;  /* bytes a second a request must average after its first timeout
	                     * seconds (0: OCINOCO_MIN_RATE) */
	bool http1;         /* HTTP/1.1 only (see oci-put blob -) */
};

/* A descriptor read while transfers run (a stream being uploaded, read ahead while requests
 * are in flight): when it is readable and wants(ctx), feed(ctx) reads it once. */
struct http_feed {
	int fd; /* -1: none */
	bool (*wants)(void *ctx);
	void (*feed)(void *ctx);
	void *ctx;
};

struct http_client {
	CURLM *multi;
	CURLSH *share;
	struct http_opts opts;
	char *cafile, *capath; /* http_ca_locations */
	struct http_feed feed;
	unsigned long requests, connections; /* for -v and the round-trip tests */
};

struct http_header {
	char *name, *value;
};

struct http_xfer {
	/* request */
	const char *method;
	char *url;                  /* owned */
	struct curl_slist *headers; /* owned */
	bool insecure;              /* do not verify TLS (--insecure) */
	/* body, one of: memory, a file range (pread), a callback (size < 0: chunked) */
	bool has_body;
	const char *body;
	size_t body_len;
	int body_fd;
	uint64_t body_off;
	size_t (*read_cb)(char *p, size_t n, void *ctx);
	void *read_ctx;
	int64_t body_size;
	/* response: 2xx bodies to write_cb when set, else (and any other status) into resp */
	size_t (*write_cb)(const char *p, size_t n, void *ctx);
	void *write_ctx;
	size_t resp_max; /* larger bodies abort the transfer with too_big */
	long status;
	struct buf resp;
	bool too_big, write_failed;
	struct http_header *hdrs;
	size_t nhdrs;
	char *reached; /* the URL the response came from (owned) */
	CURLcode result;
	char errbuf[CURL_ERROR_SIZE];
	bool too_slow; /* cut: slower than its deadline allows (result CURLE_OPERATION_TIMEDOUT) */
	/* private */
	CURL *easy;
	struct curl_slist *wire; /* headers as sent */
	uint64_t sent;
	double started, waited_on_us; /* monotonic seconds; time spent in read_cb and write_cb */
	uint64_t rate;                /* the client's min_rate */
	long floor;                   /* the client's timeout */
};

void http_init(struct http_client *c, const struct http_opts *o);
/* Where TLS trust comes from: the system's CA directory (SSL_CERT_DIR, else libcurl's), whose
 * certificates OpenSSL reads only when a chain needs one, plus one file that ADDS trust
 * (cacert, else SSL_CERT_FILE; none when it is the system bundle itself and the directory the
 * system's, which hold the same certificates). Loading the system bundle file would parse ~140
 * certificates, ~45 ms of CPU, in every program run. *dir is NULL when there is no such
 * directory: then libcurl's built-in bundle is used, and the extra file replaces it. */
void http_ca_locations(const char *cacert, char **file, char **dir);
void http_cleanup(struct http_client *c);
/* Sets the feed (fd -1: none); returns the one it replaces. */
struct http_feed http_set_feed(struct http_client *c, struct http_feed f);

/* Runs the transfers at once and returns when all are done (each has result and status).
 * Besides the no-progress timeout, each transfer has a deadline: it is cut (too_slow) once it
 * has taken longer than timeout + bytes / min_rate seconds (bytes sent and received so far),
 * not counting the time its read_cb or write_cb took (a stream's producer, a copy's
 * consumer). */
void http_run(struct http_client *c, struct http_xfer **xs, size_t n);

/* Response header (case-insensitive; the last one if repeated) or NULL. */
const char *http_header(const struct http_xfer *x, const char *name);
/* Clears the response (before the transfer runs again) and the request (before reuse). */
void http_xfer_clear_response(struct http_xfer *x);
void http_xfer_free(struct http_xfer *x);
void http_xfer_set_url(struct http_xfer *x, const char *url);
void http_xfer_add_header(struct http_xfer *x, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Removes headers whose name is NAME (case-insensitive). */
void http_xfer_del_header(struct http_xfer *x, const char *name);

/* LOCATION resolved against BASE (the URL actually reached), RFC 3986 via curl's URL API;
 * NULL if either is not a URL, or the result is not http or https, or not the URL it names
 * when parsed on its own (resolving it again gives it back). */
char *url_resolve(const char *base, const char *location);
/* "scheme://host[:port]" of a URL, lowercased host; NULL if not a URL. */
char *url_origin(const char *url);
/* Whether two URLs have the same origin (RFC 6454): scheme, host (case-insensitive) and port
 * (the scheme's default when none is given) all equal; false if either is not a URL. Where
 * credentials may go: http://h and https://h are different origins, so are h:5000 and h:5001. */
bool url_same_origin(const char *a, const char *b);
/* The URL with any password and signature-like query values replaced by "<redacted>". */
char *redact_url(const char *url);
/* "Name: value" with credentials in Authorization-like headers replaced by "<redacted>". */
char *redact_header(const char *line);

/* The verbose trace and every warning go here ("prog: ..." on stderr). */
void http_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
