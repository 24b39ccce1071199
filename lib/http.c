#include "http.h"
#include "progress.h"
#include "time_limits.h"
#include "util.h"
#include "version.h"

#include <ctype.h>
#include <err.h>
#include <poll.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void http_trace(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	flockfile(stderr);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

void http_init(struct http_client *c, const struct http_opts *o)
{
	static bool global;
	if (!global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			errx(EXIT_FAIL, "libcurl: cannot initialise");
		global = true;
	}
	*c = (struct http_client){.opts = *o};
	/* OCINOCO_TIMEOUT, OCINOCO_MIN_RATE: for every program alike (lib/time_limits.h) */
	const struct time_limits *l = time_limits();
	if (c->opts.timeout <= 0)
		c->opts.timeout = l->timeout;
	if (c->opts.min_rate == 0)
		c->opts.min_rate = l->min_rate;
	http_ca_locations(o->cacert, &c->cafile, &c->capath);
	c->feed.fd = -1;
	c->multi = curl_multi_init();
	c->share = curl_share_init();
	if (c->multi == NULL || c->share == NULL)
		errx(EXIT_FAIL, "libcurl: cannot create a transfer handle");
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)HTTP_MAX_HOST_CONNECTIONS);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	                  (long)(2 * HTTP_MAX_HOST_CONNECTIONS));
}

static bool same_file(const char *a, const char *b)
{
	struct stat x, y;
	return a && b && stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
}

void http_ca_locations(const char *cacert, char **file, char **dir)
{
	/* the system's store as libcurl was built to find it: a bundle file and a directory */
	char *sys_file = NULL, *sys_dir = NULL;
	CURL *e = curl_easy_init();
	if (e) {
		curl_easy_getinfo(e, CURLINFO_CAINFO, &sys_file);
		curl_easy_getinfo(e, CURLINFO_CAPATH, &sys_dir);
	}
	const char *f = cacert && *cacert ? cacert : getenv("SSL_CERT_FILE");
	const char *d = getenv("SSL_CERT_DIR");
	if (d == NULL || *d == '\0')
		d = sys_dir;
	struct stat st;
	/* SSL_CERT_DIR may list several directories (OpenSSL splits it at ':') */
	bool is_dir = d && (strchr(d, ':') || (stat(d, &st) == 0 && S_ISDIR(st.st_mode)));
	*dir = is_dir ? xstrdup(d) : NULL;
	if (f && *f == '\0')
		f = NULL;
	/* SSL_CERT_FILE naming the system bundle (a common setting) adds nothing to the system
	 * directory made from the same certificates: not worth parsing it */
	if (f && is_dir && same_file(d, sys_dir) && same_file(f, sys_file))
		f = NULL;
	*file = f ? xstrdup(f) : NULL;
	if (e)
		curl_easy_cleanup(e);
}

struct http_feed http_set_feed(struct http_client *c, struct http_feed f)
{
	struct http_feed old = c->feed;
	c->feed = f;
	return old;
}

/* Reads the feed if it is readable now (or at its end: POLLHUP, which curl does not report). */
static void feed_if_ready(struct http_client *c)
{
	struct pollfd p = {.fd = c->feed.fd, .events = POLLIN};
	int n;
	do
		n = poll(&p, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		c->feed.feed(c->feed.ctx);
}

void http_cleanup(struct http_client *c)
{
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->share)
		curl_share_cleanup(c->share);
	free(c->cafile);
	free(c->capath);
	*c = (struct http_client){0};
}

const char *http_header(const struct http_xfer *x, const char *name)
{
	for (size_t i = x->nhdrs; i-- > 0;)
		if (strcasecmp(x->hdrs[i].name, name) == 0)
			return x->hdrs[i].value;
	return NULL;
}

static void clear_headers(struct http_xfer *x)
{
	for (size_t i = 0; i < x->nhdrs; i++) {
		free(x->hdrs[i].name);
		free(x->hdrs[i].value);
	}
	free(x->hdrs);
	x->hdrs = NULL;
	x->nhdrs = 0;
}

void http_xfer_clear_response(struct http_xfer *x)
{
	clear_headers(x);
	buf_free(&x->resp);
	free(x->reached);
	x->reached = NULL;
	x->status = 0;
	x->result = CURLE_OK;
	x->too_big = x->write_failed = x->too_slow = false;
	x->errbuf[0] = '\0';
	x->sent = 0;
}

void http_xfer_free(struct http_xfer *x)
{
	http_xfer_clear_response(x);
	free(x->url);
	curl_slist_free_all(x->headers);
	x->url = NULL;
	x->headers = NULL;
}

void http_xfer_set_url(struct http_xfer *x, const char *url)
{
	char *u = xstrdup(url);
	free(x->url);
	x->url = u;
}

void http_xfer_add_header(struct http_xfer *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	/* A line break would end this header and start another (a value that came from a
	 * server: checked where it came in, and here once more). */
	if (strpbrk(s, "\r\n"))
		errx(EXIT_FAIL, "refusing a request header that holds a line break");
	struct curl_slist *l = curl_slist_append(x->headers, s);
	free_secret(s);
	if (l == NULL)
		errx(EXIT_FAIL, "out of memory");
	x->headers = l;
}

void http_xfer_del_header(struct http_xfer *x, const char *name)
{
	size_t n = strlen(name);
	struct curl_slist *keep = NULL;
	for (struct curl_slist *l = x->headers; l; l = l->next) {
		if (strncasecmp(l->data, name, n) == 0 && l->data[n] == ':') {
			explicit_bzero(l->data, strlen(l->data));
			continue;
		}
		keep = curl_slist_append(keep, l->data);
	}
	curl_slist_free_all(x->headers);
	x->headers = keep;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct http_xfer *x = ctx;
	size_t len = size * n;
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue): forget the previous one's headers */
		clear_headers(x);
		return len;
	}
	const char *colon = memchr(p, ':', len);
	if (colon == NULL)
		return len;
	const char *v = colon + 1, *e = p + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	x->hdrs = xreallocarray(x->hdrs, x->nhdrs + 1, sizeof *x->hdrs);
	x->hdrs[x->nhdrs].name = xstrndup(p, (size_t)(colon - p));
	x->hdrs[x->nhdrs].value = xstrndup(v, (size_t)(e - v));
	x->nhdrs++;
	return len;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The deadline (http_run): floor + bytes / rate seconds since the transfer began, the time our
 * own callbacks took not counted. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct http_xfer *x = ctx;
	(void)dltotal;
	(void)ultotal;
	double t = now();
	if (x->started == 0)
		x->started = t;
	double took = t - x->started - x->waited_on_us;
	double bytes = (double)dlnow + (double)ulnow;
	if (took <= (double)x->floor + bytes / (double)x->rate)
		return 0;
	x->too_slow = true;
	return 1;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct http_xfer *x = ctx;
	size_t len = size * n;
	long st = 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
	if (x->write_cb && st >= 200 && st < 300) {
		double t = now();
		size_t w = x->write_cb(p, len, x->write_ctx);
		x->waited_on_us += now() - t;
		if (w != len)
			x->write_failed = true;
		return w;
	}
	/* Error documents are small; a size cap keeps a misbehaving server from filling memory. */
	size_t max = x->write_cb || x->resp_max == 0 ? 1u << 16 : x->resp_max;
	if (x->resp.len + len > max) {
		x->too_big = true;
		return 0;
	}
	buf_append(&x->resp, p, len);
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ctx)
{
	struct http_xfer *x = ctx;
	size_t want = size * n;
	if (x->read_cb) {
		double t = now();
		size_t r = x->read_cb(p, want, x->read_ctx);
		x->waited_on_us += now() - t;
		if (r != CURL_READFUNC_ABORT && r != CURL_READFUNC_PAUSE) {
			x->sent += r;
			progress_count(r);
		}
		return r;
	}
	uint64_t left = (uint64_t)x->body_size - x->sent;
	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (x->body) {
		memcpy(p, x->body + x->sent, want);
	} else {
		ssize_t r = pread_retry(x->body_fd, p, want, (off_t)(x->body_off + x->sent));
		if (r <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)r;
	}
	x->sent += want;
	progress_count(want);
	return want;
}

/* Rewinding is how curl resends a body (on a reused connection that turned out dead). */
static int on_seek(void *ctx, curl_off_t off, int origin)
{
	struct http_xfer *x = ctx;
	if (x->read_cb || origin != SEEK_SET || off < 0 || off > x->body_size)
		return CURL_SEEKFUNC_CANTSEEK;
	x->sent = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static const char *const trace_headers[] = {
        "Location",
        "Docker-Content-Digest",
        "Content-Type",
        "Content-Length",
        "Content-Range",
        "Range",
        "WWW-Authenticate",
        "Retry-After",
        "OCI-Chunk-Min-Length",
        "Docker-Upload-UUID",
        "Docker-Distribution-API-Version",
};

static void trace_exchange(struct http_client *c, struct http_xfer *x)
{
	char *u = redact_url(x->url);
	http_trace("> %s %s", x->method, u);
	free(u);
	for (struct curl_slist *l = x->headers; l; l = l->next) {
		char *h = redact_header(l->data);
		http_trace(">   %s", h);
		free(h);
	}
	if (x->result != CURLE_OK) {
		http_trace("< (no response: %s; curl error %d)",
		           x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result),
		           (int)x->result);
		return;
	}
	http_trace("< %ld", x->status);
	for (size_t i = 0; i < x->nhdrs; i++)
		for (size_t k = 0; k < sizeof trace_headers / sizeof *trace_headers; k++)
			if (strcasecmp(x->hdrs[i].name, trace_headers[k]) == 0) {
				char *line = xasprintf("%s: %s", x->hdrs[i].name, x->hdrs[i].value);
				char *h = strcasecmp(trace_headers[k], "Location") == 0
				                  ? NULL
				                  : redact_header(line);
				if (h == NULL) {
					char *ru = redact_url(x->hdrs[i].value);
					h = xasprintf("%s: %s", x->hdrs[i].name, ru);
					free(ru);
				}
				http_trace("<   %s", h);
				free(h);
				free(line);
			}
	(void)c;
}

/* What every transfer of the run shares: the URL, the connection cache, keep-alive, the
 * protocols allowed, no redirects (the registry layer decides), timeouts. */
static void set_transport(CURL *e, struct http_client *c, struct http_xfer *x)
{
	curl_easy_setopt(e, CURLOPT_URL, x->url);
	curl_easy_setopt(e, CURLOPT_SHARE, c->share);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, OCINOCO_USER_AGENT);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	if (c->opts.http1)
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, c->opts.timeout);
	x->started = x->waited_on_us = 0;
	x->floor = c->opts.timeout;
	x->rate = c->opts.min_rate ? c->opts.min_rate : 1;
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
}

/* Trust (http_ca_locations), or none with --insecure. */
static void set_tls(CURL *e, const struct http_client *c, const struct http_xfer *x)
{
	if (c->capath) {
		curl_easy_setopt(e, CURLOPT_CAPATH, c->capath);
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cafile); /* NULL: no bundle file */
	} else if (c->cafile) {
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cafile);
	}
	if (x->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

/* The request headers as sent (x->wire, freed after the transfer). */
static void set_headers(CURL *e, struct http_xfer *x)
{
	/* No "Expect: 100-continue": it costs a round trip per upload, and auth is settled
	 * before any large body is sent. */
	x->wire = curl_slist_append(NULL, "Expect:");
	for (struct curl_slist *h = x->headers; h; h = h->next)
		x->wire = curl_slist_append(x->wire, h->data);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->wire);
}

/* A body read through on_read (rewound by on_seek). */
static void set_upload(CURL *e, struct http_xfer *x)
{
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(e, CURLOPT_READDATA, x);
}

/* The method, and the body it carries: x's, or an empty one for a POST, PUT or PATCH without. */
static void set_method(CURL *e, struct http_xfer *x)
{
	const char *m = x->method;
	if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (x->has_body) {
		x->sent = 0;
		set_upload(e, x);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
		if (x->body_size >= 0)
			curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->body_size);
		if (strcmp(m, "PUT") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	} else if (strcmp(m, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
		set_upload(e, x);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)0);
		x->body_size = 0;
		x->body = "";
		if (strcmp(m, "PUT") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	} else if (strcmp(m, "GET") != 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	}
}

/* A new easy handle for x, its response cleared. */
static void prepare_transfer(struct http_client *c, struct http_xfer *x)
{
	CURL *e = curl_easy_init();
	if (e == NULL)
		errx(EXIT_FAIL, "libcurl: cannot create a transfer");
	x->easy = e;
	http_xfer_clear_response(x);
	set_transport(e, c, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	set_tls(e, c, x);
	set_headers(e, x);
	set_method(e, x);
}

/* Its status, the URL reached, the counters; the easy handle gone. */
static void finish_transfer(struct http_client *c, struct http_xfer *x)
{
	char *eff = NULL;
	long conns = 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff);
	curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &conns);
	x->reached = xstrdup(eff ? eff : x->url);
	c->requests++;
	c->connections += (unsigned long)conns;
	if (x->too_slow) {
		curl_off_t up = 0, down = 0;
		curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &up);
		curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
		x->result = CURLE_OPERATION_TIMEDOUT;
		snprintf(x->errbuf, sizeof x->errbuf,
		         "cut after %.0f s for %" PRIu64
		         " bytes: a request may take %ld s plus 1 s "
		         "per %" PRIu64 " bytes (OCINOCO_TIMEOUT, OCINOCO_MIN_RATE)",
		         now() - x->started - x->waited_on_us, (uint64_t)(up + down), x->floor,
		         x->rate);
	}
	if (x->result != CURLE_OK && x->errbuf[0] == '\0')
		snprintf(x->errbuf, sizeof x->errbuf, "%s", curl_easy_strerror(x->result));
	if (x->result != CURLE_OK)
		x->status = 0;
	curl_multi_remove_handle(c->multi, x->easy);
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	curl_slist_free_all(x->wire);
	x->wire = NULL;
	if (c->opts.verbose)
		trace_exchange(c, x);
}

void http_run(struct http_client *c, struct http_xfer **xs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		prepare_transfer(c, xs[i]);
		curl_multi_add_handle(c->multi, xs[i]->easy);
	}
	int running = 1;
	while (running) {
		CURLMcode mc = curl_multi_perform(c->multi, &running);
		bool feed = c->feed.fd >= 0 && c->feed.wants(c->feed.ctx);
		struct curl_waitfd w = {.fd = c->feed.fd, .events = CURL_WAIT_POLLIN};
		int ready = 0;
		if (mc == CURLM_OK && running)
			mc = curl_multi_poll(c->multi, feed ? &w : NULL, feed ? 1 : 0, 1000,
			                     &ready);
		if (feed && ready > 0)
			feed_if_ready(c);
		progress_count(0); /* redraws while a transfer waits */
		if (mc != CURLM_OK)
			errx(EXIT_FAIL, "libcurl: %s", curl_multi_strerror(mc));
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(c->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct http_xfer *x;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			x->result = msg->data.result;
		}
	}
	for (size_t i = 0; i < n; i++)
		finish_transfer(c, xs[i]);
}

/* Whether libcurl, parsing URL on its own, gives URL back: a URL resolved from an escaped host
 * may not be (a host with an escaped control character does not parse again; "%39", decoded
 * to "9", then reads as the IPv4 address 0.0.0.9). */
static bool url_is_stable(const char *url)
{
	CURLU *u = curl_url();
	char *again = NULL;
	bool same = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	            curl_url_get(u, CURLUPART_URL, &again, 0) == CURLUE_OK &&
	            strcmp(again, url) == 0;
	curl_free(again);
	curl_url_cleanup(u);
	return same;
}

char *url_resolve(const char *base, const char *location)
{
	CURLU *u = curl_url();
	char *out = NULL, *scheme = NULL, *res = NULL;
	/* (only http and https are followed: another scheme's URL is none of ours, and libcurl
	 * does not parse one it does not know the same way twice) */
	if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, location, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
	    curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK && url_is_stable(out))
		res = xstrdup(out);
	curl_free(scheme);
	curl_free(out);
	curl_url_cleanup(u);
	return res;
}

char *url_origin(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *res = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		/* The host as libcurl gives it is decoded ("%258f" is "%8f"): a byte that is not
		 * a name's, an address's or a bracket's is escaped again, so that an origin's own
		 * origin is itself. */
		struct buf b = {0};
		buf_appendf(&b, "%s://", scheme);
		for (const char *p = host; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (isalnum(c) || strchr("-._~:[]", c))
				buf_appendf(&b, "%c", tolower(c));
			else
				buf_appendf(&b, "%%%02x", c);
		}
		buf_appendf(&b, ":%s", port);
		res = b.data;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return res;
}

bool url_same_origin(const char *a, const char *b)
{
	char *x = url_origin(a), *y = url_origin(b);
	bool same = x && y && strcmp(x, y) == 0;
	free(x);
	free(y);
	return same;
}

/* Query parameters that carry a credential (presigned S3/Azure/GCS URLs, tokens). */
static bool secret_param(const char *name, size_t n)
{
	static const char *const words[] = {"sig",    "token", "cred", "pass",
	                                    "secret", "key",   "auth"};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
		size_t w = strlen(words[i]);
		for (size_t at = 0; at + w <= n; at++)
			if (strncasecmp(name + at, words[i], w) == 0)
				return true;
	}
	return false;
}

char *redact_url(const char *url)
{
	struct buf b = {0};
	const char *p = url;
	const char *scheme = strstr(p, "://");
	if (scheme) {
		const char *auth = scheme + 3;
		const char *end = auth + strcspn(auth, "/?#");
		const char *at = memrchr(auth, '@', (size_t)(end - auth));
		if (at) {
			const char *colon = memchr(auth, ':', (size_t)(at - auth));
			buf_append(&b, p, (size_t)((colon ? colon : at) - p));
			buf_appendf(&b, "%s", colon ? ":<redacted>" : "");
			p = at;
		}
	}
	const char *q = strchr(p, '?');
	if (q == NULL) {
		buf_appendf(&b, "%s", p);
		return b.data;
	}
	buf_append(&b, p, (size_t)(q - p) + 1);
	p = q + 1;
	while (*p) {
		size_t n = strcspn(p, "&#");
		const char *eq = memchr(p, '=', n);
		if (eq && secret_param(p, (size_t)(eq - p))) {
			buf_append(&b, p, (size_t)(eq - p) + 1);
			buf_appendf(&b, "<redacted>");
		} else {
			buf_append(&b, p, n);
		}
		p += n;
		if (*p == '#') {
			buf_appendf(&b, "%s", p);
			break;
		}
		if (*p == '&')
			buf_append(&b, p++, 1);
	}
	return b.data;
}

char *redact_header(const char *line)
{
	static const char *const secret[] = {"Authorization", "Proxy-Authorization", "Cookie",
	                                     "Set-Cookie", "X-Registry-Auth"};
	const char *colon = strchr(line, ':');
	if (colon == NULL)
		return xstrdup(line);
	size_t n = (size_t)(colon - line);
	for (size_t i = 0; i < sizeof secret / sizeof *secret; i++) {
		if (strlen(secret[i]) != n || strncasecmp(line, secret[i], n) != 0)
			continue;
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		/* keep the scheme ("Bearer", "Basic"): it says which flow ran */
		size_t s = strcspn(v, " ");
		if (v[s] == ' ' && i < 2)
			return xasprintf("%.*s: %.*s <redacted>", (int)n, line, (int)s, v);
		return xasprintf("%.*s: <redacted>", (int)n, line);
	}
	return xstrdup(line);
}
