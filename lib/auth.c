#include "auth.h"
#include "time_limits.h"
#include "oci.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void creds_free(struct creds *c)
{
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	if (c->identitytoken)
		explicit_bzero(c->identitytoken, strlen(c->identitytoken));
	free(c->username);
	free(c->password);
	free(c->identitytoken);
	free(c->source);
	*c = (struct creds){0};
}

int base64_decode(const char *in, struct buf *out)
{
	size_t n = strlen(in);
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	if (ctx == NULL)
		return -1;
	buf_reset(out);
	buf_append(out, "", 0);
	out->data = xreallocarray(out->data, n / 4 * 3 + 80, 1);
	out->cap = n / 4 * 3 + 80;
	int len = 0, fin = 0;
	EVP_DecodeInit(ctx);
	int r = EVP_DecodeUpdate(ctx, (unsigned char *)out->data, &len, (const unsigned char *)in,
	                         (int)n);
	if (r >= 0)
		r = EVP_DecodeFinal(ctx, (unsigned char *)out->data + len, &fin);
	EVP_ENCODE_CTX_free(ctx);
	if (r < 0)
		return -1;
	out->len = (size_t)(len + fin);
	out->data[out->len] = '\0';
	return 0;
}

char *base64_encode(const void *p, size_t n)
{
	char *s = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

char *auth_key_host(const char *key)
{
	const char *p = key;
	if (strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	return xstrndup(p, strcspn(p, "/"));
}

static bool is_docker_hub(const char *h)
{
	return strcmp(h, "docker.io") == 0 || strcmp(h, "index.docker.io") == 0 ||
	       strcmp(h, "registry-1.docker.io") == 0;
}

bool auth_host_matches(const char *key_host, const char *domain)
{
	if (is_docker_hub(domain))
		return is_docker_hub(key_host);
	return strcasecmp(key_host, domain) == 0;
}

/* Docker hands helpers Docker Hub's historic server URL, other registries by host name. */
static const char *helper_server(const char *domain)
{
	return is_docker_hub(domain) ? "https://index.docker.io/v1/" : domain;
}

static json_t *object_member_for(json_t *obj, const char *domain)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		char *h = auth_key_host(key);
		bool m = auth_host_matches(h, domain);
		free(h);
		if (m)
			return v;
	}
	return NULL;
}

static long monotonic_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

enum helper_end { HELPER_DONE, HELPER_READ_ERROR, HELPER_HUNG, HELPER_HELD_OPEN };

/* Kills the helper's process group (and the helper, if it left it) and reaps the helper unless
 * it has exited already; returns exited. */
static bool helper_kill(pid_t pid, bool exited)
{
	kill(-pid, SIGKILL);
	if (!exited) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	return exited;
}

/* A helper's process group while it runs: a signal that ends us ends it too (it is not in our
 * process group, where ocinoco's SIGTERM or a terminal's ^C would reach it). */
static volatile sig_atomic_t helper_group;

static void stop_helper(int sig)
{
	if (helper_group > 0)
		kill(-(pid_t)helper_group, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig); /* delivered once this handler returns */
}

static const int ending_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* Installs stop_helper for the ending signals not ignored (on), or restores them (off). */
static void guard_helper(pid_t pgid, struct sigaction *old)
{
	struct sigaction sa = {.sa_handler = stop_helper};
	sigemptyset(&sa.sa_mask);
	helper_group = pgid;
	for (size_t i = 0; i < sizeof ending_signals / sizeof *ending_signals; i++) {
		if (pgid > 0) {
			sigaction(ending_signals[i], NULL, &old[i]);
			if (old[i].sa_handler == SIG_DFL)
				sigaction(ending_signals[i], &sa, NULL);
		} else if (old[i].sa_handler == SIG_DFL) {
			sigaction(ending_signals[i], &old[i], NULL);
		}
	}
}

/* Reads the helper's output until its end and its exit, for at most timeout seconds; past
 * them, kills its process group (itself and what it started) and reaps it. */
static enum helper_end helper_wait(pid_t pid, int fd, struct buf *o, long timeout, int *status)
{
	long deadline = monotonic_ms() + timeout * 1000;
	bool eof = false, exited = false;
	while (!eof || !exited) {
		if (!exited) {
			pid_t w = waitpid(pid, status, WNOHANG);
			exited = w == pid || (w < 0 && errno != EINTR);
		}
		long left = deadline - monotonic_ms();
		if ((!eof || !exited) && left <= 0)
			return helper_kill(pid, exited) ? HELPER_HELD_OPEN : HELPER_HUNG;
		if (eof) {
			poll(NULL, 0, left < 10 ? (int)left : 10); /* its exit, soon */
			continue;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, left < 100 ? (int)left : 100) <= 0)
			continue;
		char piece[4096];
		ssize_t n = read(fd, piece, sizeof piece);
		if (n < 0 && errno != EINTR && errno != EAGAIN) {
			int e = errno;
			helper_kill(pid, exited);
			errno = e;
			return HELPER_READ_ERROR;
		}
		if (n == 0)
			eof = true;
		if (n > 0) {
			buf_append(o, piece, (size_t)n);
			explicit_bzero(piece, sizeof piece);
			if (o->len > (1u << 20)) {
				helper_kill(pid, exited);
				errno = EFBIG;
				return HELPER_READ_ERROR;
			}
		}
	}
	return HELPER_DONE;
}

/* Starts PROG get with its stdin (*to) and stdout (*from) on pipes; -1 with the reason. */
static pid_t spawn_helper(const char *prog, int *to, int *from, char *err, size_t errlen)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	char *argv[] = {(char *)prog, "get", NULL};
	pid_t pid;
	/* its own process group: what it starts can be killed with it (helper_wait) */
	posix_spawnattr_t sa;
	posix_spawnattr_init(&sa);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&sa, 0);
	int r = posix_spawnp(&pid, prog, &fa, &sa, argv, environ);
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	if (r != 0) {
		snprintf(err, errlen, "credential helper %s: %s", prog, strerror(r));
		close(in[1]);
		close(out[0]);
		return -1;
	}
	*to = in[1];
	*from = out[0];
	return pid;
}

/* A helper that failed: "credentials not found" is none (0); else -1 with its message. */
static int helper_failed(const char *prog, int st, const struct buf *o, char *err, size_t errlen)
{
	/* docker-credential-helpers' ErrCredentialsNotFound message */
	if (o->data && strstr(o->data, "credentials not found"))
		return 0;
	/* Its message, not its stdout's JSON (that could hold a secret). */
	const char *m = o->data && o->data[0] != '{' ? o->data : "";
	snprintf(err, errlen, "credential helper %s failed (exit %d)%s%.*s", prog,
	         WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), *m ? ": " : "",
	         (int)strcspn(m, "\n"), m);
	return -1;
}

/* A helper's answer {"Username","Secret"} ("<token>": an identity token): 1, else -1. */
static int helper_creds(const char *prog, const struct buf *o, struct creds *c, char *err,
                        size_t errlen)
{
	char jerr[160];
	json_t *doc = json_parse(o->data ? o->data : "", o->len, jerr, sizeof jerr);
	const char *user = json_string_value(json_object_get(doc, "Username"));
	const char *secret = json_string_value(json_object_get(doc, "Secret"));
	int ret = -1;
	if (doc == NULL || user == NULL || secret == NULL) {
		snprintf(err, errlen,
		         "credential helper %s: output is not {\"Username\",\"Secret\"}", prog);
	} else {
		*c = (struct creds){0};
		if (strcmp(user, "<token>") == 0) {
			c->identitytoken = xstrdup(secret);
		} else {
			c->username = xstrdup(user);
			c->password = xstrdup(secret);
		}
		c->source = xstrdup(prog);
		ret = 1;
	}
	json_decref(doc);
	return ret;
}

int auth_helper_get(const char *name, const char *server, struct creds *c, char *err, size_t errlen)
{
	char *prog = xasprintf("docker-credential-%s", name);
	int to, from;
	pid_t pid = spawn_helper(prog, &to, &from, err, errlen);
	if (pid < 0) {
		free(prog);
		return -1;
	}
	/* A helper that exits without reading stdin must not kill us with SIGPIPE. */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	write_all(to, server, strlen(server));
	sigaction(SIGPIPE, &old, NULL);
	close(to);
	struct buf o = {0};
	int st = 0;
	long timeout = time_limits()->timeout;
	struct sigaction old_handlers[sizeof ending_signals / sizeof *ending_signals];
	guard_helper(pid, old_handlers);
	enum helper_end end = helper_wait(pid, from, &o, timeout, &st);
	int rerr = errno;
	guard_helper(0, old_handlers);
	close(from);
	int ret = -1;
	if (end == HELPER_HUNG) {
		snprintf(err, errlen,
		         "credential helper %s: no answer within %ld s: killed (OCINOCO_TIMEOUT)",
		         prog, timeout);
	} else if (end == HELPER_HELD_OPEN) {
		snprintf(err, errlen,
		         "credential helper %s: exited, but what it started kept its output open "
		         "for %ld s: killed (OCINOCO_TIMEOUT)",
		         prog, timeout);
	} else if (end == HELPER_READ_ERROR) {
		snprintf(err, errlen, "credential helper %s: reading its output: %s", prog,
		         strerror(rerr));
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		ret = helper_failed(prog, st, &o, err, errlen);
	} else {
		ret = helper_creds(prog, &o, c, err, errlen);
	}
	if (o.data)
		explicit_bzero(o.data, o.len);
	buf_free(&o);
	free(prog);
	return ret;
}

static int from_entry(json_t *e, const char *file, struct creds *c, char *err, size_t errlen)
{
	const char *auth = json_string_value(json_object_get(e, "auth"));
	const char *user = json_string_value(json_object_get(e, "username"));
	const char *pass = json_string_value(json_object_get(e, "password"));
	const char *tok = json_string_value(json_object_get(e, "identitytoken"));
	*c = (struct creds){0};
	if (auth && *auth) {
		struct buf b = {0};
		char *colon;
		if (base64_decode(auth, &b) < 0 || (colon = memchr(b.data, ':', b.len)) == NULL) {
			snprintf(err, errlen, "%s: \"auth\" is not base64 of user:password", file);
			buf_free(&b);
			return -1;
		}
		c->username = xstrndup(b.data, (size_t)(colon - b.data));
		c->password = xstrdup(colon + 1);
		explicit_bzero(b.data, b.len);
		buf_free(&b);
	} else if (user && *user && pass) {
		c->username = xstrdup(user);
		c->password = xstrdup(pass);
	}
	if (tok && *tok)
		c->identitytoken = xstrdup(tok);
	if (c->username == NULL && c->identitytoken == NULL)
		return 0;
	c->source = xstrdup(file);
	return 1;
}

int auth_config_parse(const char *json, size_t len, const char *file, const char *domain,
                      struct creds *c, char **helper, char *err, size_t errlen)
{
	*helper = NULL;
	/* Where the syntax breaks, not jansson's text: that quotes the file near the error,
	 * which may be a password. */
	json_error_t je;
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL || !json_is_object(doc)) {
		if (doc == NULL)
			snprintf(err, errlen,
			         "%s: not a JSON object: invalid JSON at line %d column %d", file,
			         je.line, je.column);
		else
			snprintf(err, errlen, "%s: not a JSON object", file);
		json_decref(doc);
		return -1;
	}
	int r = 0;
	json_t *helpers = json_object_get(doc, "credHelpers");
	json_t *h = json_is_object(helpers) ? object_member_for(helpers, domain) : NULL;
	if (json_string_value(h) && *json_string_value(h)) {
		*helper = xstrdup(json_string_value(h));
		goto out;
	}
	json_t *auths = json_object_get(doc, "auths");
	json_t *e = json_is_object(auths) ? object_member_for(auths, domain) : NULL;
	if (json_is_object(e) && (r = from_entry(e, file, c, err, errlen)) != 0)
		goto out;
	const char *store = json_string_value(json_object_get(doc, "credsStore"));
	if (store && *store)
		*helper = xstrdup(store);
out:
	json_decref(doc);
	return r;
}

/* 1 found, 0 nothing for this domain in the file (or no file), -1 error. */
static int lookup_file(const char *file, const char *domain, struct creds *c, char *err,
                       size_t errlen)
{
	struct buf b = {0};
	if (buf_read_file(&b, file, 4u << 20) < 0) {
		int e = errno;
		buf_free(&b);
		if (e == ENOENT || e == ENOTDIR)
			return 0;
		snprintf(err, errlen, "%s: %s", file, strerror(e));
		return -1;
	}
	char *helper;
	int r = auth_config_parse(b.data ? b.data : "", b.len, file, domain, c, &helper, err,
	                          errlen);
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	if (helper) {
		r = auth_helper_get(helper, helper_server(domain), c, err, errlen);
		free(helper);
	}
	return r;
}

bool auth_text_clean(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* 1 if c is clean, else -1 with the reason (naming the field, never its value) in err. */
static int creds_check(struct creds *c, const char *domain, char *err, size_t errlen)
{
	const char *bad = !auth_text_clean(c->username)        ? "username"
	                  : !auth_text_clean(c->password)      ? "password"
	                  : !auth_text_clean(c->identitytoken) ? "identity token"
	                                                       : NULL;
	if (bad == NULL)
		return 1;
	snprintf(err, errlen, "%s: the %s for %s holds a control character (refused)", c->source,
	         bad, domain);
	creds_free(c);
	return -1;
}

int auth_lookup(const char *domain, struct creds *c, char *err, size_t errlen)
{
	char *files[4] = {0};
	const char *v;
	int n = 0;
	if ((v = getenv("DOCKER_CONFIG")) && *v)
		files[n++] = xasprintf("%s/config.json", v);
	if ((v = getenv("HOME")) && *v)
		files[n++] = xasprintf("%s/.docker/config.json", v);
	if ((v = getenv("REGISTRY_AUTH_FILE")) && *v)
		files[n++] = xstrdup(v);
	if ((v = getenv("XDG_RUNTIME_DIR")) && *v)
		files[n++] = xasprintf("%s/containers/auth.json", v);
	int r = 0;
	for (int i = 0; i < n && r == 0; i++)
		r = lookup_file(files[i], domain, c, err, errlen);
	for (int i = 0; i < n; i++)
		free(files[i]);
	return r > 0 ? creds_check(c, domain, err, errlen) : r;
}

/* RFC 7230 token characters */
static bool tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* token or quoted-string (with \-escapes) into a new string; NULL on a syntax error. */
static char *param_value(const char **pp)
{
	const char *p = *pp;
	struct buf b = {0};
	buf_append(&b, "", 0);
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			buf_append(&b, p, 1);
		}
		if (*p != '"') {
			buf_free(&b);
			return NULL;
		}
		p++;
	} else {
		/* token68 allows '/' and '=' (base64) as well */
		while (tchar(*p) || *p == '/' || *p == '=' || *p == ':')
			buf_append(&b, p++, 1);
	}
	*pp = p;
	return b.data;
}

void challenge_free(struct challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	*c = (struct challenge){0};
}

/* The slot of a parameter this client reads (realm, service, scope, error), or NULL. */
static char **param_slot(struct challenge *c, const char *name, size_t n)
{
	if (n == 5 && strncasecmp(name, "realm", 5) == 0)
		return &c->realm;
	if (n == 7 && strncasecmp(name, "service", 7) == 0)
		return &c->service;
	if (n == 5 && strncasecmp(name, "scope", 5) == 0)
		return &c->scope;
	if (n == 5 && strncasecmp(name, "error", 5) == 0)
		return &c->error;
	return NULL;
}

/* A challenge's parameters: name=value, comma separated, until a name without '=' (the next
 * scheme); false on a syntax error. */
static bool parse_params(const char **pp, struct challenge *cur)
{
	const char *p = *pp;
	for (;;) {
		const char *ns = p;
		while (tchar(*p))
			p++;
		size_t nn = (size_t)(p - ns);
		const char *q = skip_ws(p);
		if (nn == 0 || *q != '=') {
			p = ns;
			break;
		}
		q = skip_ws(q + 1);
		char *v = param_value(&q);
		if (v == NULL)
			return false;
		char **slot = param_slot(cur, ns, nn);
		if (slot) {
			free(*slot);
			*slot = v;
		} else {
			free(v);
		}
		p = skip_ws(q);
		while (*p == ',')
			p = skip_ws(p + 1);
	}
	*pp = p;
	return true;
}

static enum auth_scheme scheme_named(const char *s, size_t n)
{
	if (n == 6 && strncasecmp(s, "Bearer", 6) == 0)
		return SCHEME_BEARER;
	if (n == 5 && strncasecmp(s, "Basic", 5) == 0)
		return SCHEME_BASIC;
	return SCHEME_NONE;
}

bool challenge_parse(const char *header, struct challenge *out)
{
	*out = (struct challenge){0};
	const char *p = skip_ws(header);
	bool any = false;
	while (*p) {
		/* a scheme */
		const char *s = p;
		while (tchar(*p))
			p++;
		if (p == s)
			break;
		struct challenge cur = {.scheme = scheme_named(s, (size_t)(p - s))};
		p = skip_ws(p);
		if (!parse_params(&p, &cur)) {
			challenge_free(&cur);
			challenge_free(out);
			return false;
		}
		while (*p == ',')
			p = skip_ws(p + 1);
		bool better =
		        cur.scheme != SCHEME_NONE &&
		        (!any || (out->scheme == SCHEME_BASIC && cur.scheme == SCHEME_BEARER));
		if (better) {
			challenge_free(out);
			*out = cur;
			any = true;
		} else {
			challenge_free(&cur);
		}
	}
	return any;
}
