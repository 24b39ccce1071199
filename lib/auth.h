/* Registry credentials the way Docker and Podman find them, and the WWW-Authenticate challenge
 * that says how to use them. */
#ifndef OCINOCO_AUTH_H
#define OCINOCO_AUTH_H

#include "util.h"

#include <stdbool.h>
#include <stddef.h>

struct creds {
	char *username, *password;
	char *identitytoken; /* an OAuth2 refresh token (Docker's "identitytoken") */
	char *source;        /* where they came from, for -v: a file or a helper's name */
};

/* Credentials for a registry domain as a reference names it ("docker.io", "ghcr.io",
 * "127.0.0.1:5000"), from the first of these files that has an entry for it:
 *   $DOCKER_CONFIG/config.json, ~/.docker/config.json, $REGISTRY_AUTH_FILE,
 *   $XDG_RUNTIME_DIR/containers/auth.json
 * In a file: credHelpers[host] (a helper), then auths[host] ("auth" base64 user:pass, or
 * "username"/"password", "identitytoken"), then credsStore. Keys match as Docker matches them:
 * scheme and path are ignored ("https://index.docker.io/v1/" is docker.io).
 * Returns 1 found, 0 none, -1 error with the reason in err (a file that is not JSON, a helper
 * that failed). Never puts a secret into err. */
int auth_lookup(const char *domain, struct creds *c, char *err, size_t errlen);
void creds_free(struct creds *c);
/* Whether a credential is free of control characters (C0 and DEL), so that it can never end a
 * header line and start another: auth_lookup refuses credentials that are not, and the registry
 * client tokens that are not. */
bool auth_text_clean(const char *s);

/* One config file's text (FILE names it in err and c->source): 1 found in c, 0 nothing for this
 * domain, -1 error. When the file says a credential helper holds them (credHelpers[host], else
 * credsStore after no auths entry), returns 0 with *helper set to its name (caller frees) for
 * auth_helper_get. Pure: no files, no processes. */
int auth_config_parse(const char *json, size_t len, const char *file, const char *domain,
                      struct creds *c, char **helper, char *err, size_t errlen);

/* Runs "docker-credential-NAME get" with SERVER on stdin; same returns as auth_lookup. */
int auth_helper_get(const char *name, const char *server, struct creds *c, char *err,
                    size_t errlen);

/* The host part of an auths/credHelpers key: "https://index.docker.io/v1/" -> "index.docker.io". */
char *auth_key_host(const char *key);
/* Whether a key's host names this domain (docker.io, index.docker.io, registry-1.docker.io are
 * one registry). */
bool auth_host_matches(const char *key_host, const char *domain);

/* base64 through OpenSSL's EVP coder; decode returns -1 on invalid input. */
int base64_decode(const char *in, struct buf *out);
char *base64_encode(const void *p, size_t n);

/* One WWW-Authenticate header, RFC 7235 (several challenges, quoted strings with escapes,
 * case-insensitive names). Bearer is preferred over Basic when both are offered. */
enum auth_scheme { SCHEME_NONE, SCHEME_BASIC, SCHEME_BEARER };
struct challenge {
	enum auth_scheme scheme;
	char *realm, *service, *scope, *error;
};
bool challenge_parse(const char *header, struct challenge *c);
void challenge_free(struct challenge *c);

#endif
