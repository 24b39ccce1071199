/* oci-graft's pure part: a base manifest and config, layer descriptors and Dockerfile-like
 * changes in; a new config and manifest out. No I/O here, so the unit tests can drive it. */
#ifndef OCINOCO_GRAFT_H
#define OCINOCO_GRAFT_H

#include "platform.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" + NUL */
#define GRAFT_TIME_MAX 32
/* 9999-12-31T23:59:59Z: the last second RFC 3339 can write. */
#define GRAFT_EPOCH_MAX 253402300799ULL

/* One new layer: oci-digest's descriptor (diffID included) and its history entry's text. */
struct graft_layer {
	json_t *desc;
	const char *created_by;
};

/* A change to the config's "config" object, applied in command-line order like the
 * instructions of a Dockerfile. */
enum graft_change_kind {
	GRAFT_ENTRYPOINT,
	GRAFT_CMD,
	GRAFT_ENV,
	GRAFT_WORKDIR,
	GRAFT_USER,
	GRAFT_LABEL,
	GRAFT_EXPOSE,
	/* runtime.c: the settings Dockerfile's HEALTHCHECK, STOPSIGNAL, VOLUME and SHELL make */
	GRAFT_HEALTHCHECK,
	GRAFT_HEALTH_INTERVAL,
	GRAFT_HEALTH_TIMEOUT,
	GRAFT_HEALTH_START_PERIOD,
	GRAFT_HEALTH_RETRIES,
	GRAFT_STOP_SIGNAL,
	GRAFT_VOLUME,
	GRAFT_SHELL,
};

struct graft_change {
	enum graft_change_kind kind;
	const char *arg;
};

struct graft_request {
	const char *created;     /* RFC 3339 UTC, for the config and every history entry */
	const char *base_name;   /* org.opencontainers.image.base.name, or NULL */
	const char *base_digest; /* sha256 of the base manifest's bytes; NULL for scratch */
	bool force_oci;
	struct graft_layer *layers;
	size_t nlayers;
	struct graft_change *changes;
	size_t nchanges;
	const char **annotations; /* "K=V" */
	size_t nannotations;
	/* The standard annotations of where the image comes from (image-spec annotations.md),
	 * written before the --annotation ones (which may replace them): */
	bool annotate_created; /* org.opencontainers.image.created = created */
	const char *source;    /* org.opencontainers.image.source (graft_source_url's form) */
	const char *revision;  /* org.opencontainers.image.revision */
	const char *version;   /* org.opencontainers.image.version */
};

/* Checks of the inputs: false with the reason in err (the caller names the file). */
bool graft_check_manifest(const json_t *manifest, char *err, size_t errlen);
bool graft_check_config(const json_t *config, size_t nlayers, char *err, size_t errlen);
bool graft_check_layer(const json_t *desc, char *err, size_t errlen);
/* Whether a raw option value is well-formed where it can be told before the image's
 * environment is known (a value with '$' is checked again when applied). */
bool graft_check_change(const struct graft_change *c, char *err, size_t errlen);
/* The runtime settings' part of graft_check_change and of applying a change (runtime.c):
 * kinds from GRAFT_HEALTHCHECK on. A --healthcheck-* timing applies to the Healthcheck that
 * --healthcheck sets, whatever their order (graft_config applies them after the others). */
bool graft_check_runtime_change(const struct graft_change *c, char *err, size_t errlen);
bool graft_apply_runtime_change(json_t *cc, const struct graft_change *c, const json_t *env,
                                char *err, size_t errlen);
bool graft_change_is_health_timing(enum graft_change_kind k);
/* Shared by graft.c and runtime.c: whether a is an array of strings; the exec form of a
 * --cmd-like value (a JSON array of strings, *is_exec) or NULL (the shell form, or with err
 * when it starts like an array but is not one of strings). */
bool graft_is_string_array(const json_t *a);
json_t *graft_exec_form(const char *arg, bool *is_exec, char *err, size_t errlen);
/* Go's time.ParseDuration for what Docker's --interval takes ("30s", "1m30s", "500ms"), in
 * nanoseconds; false when malformed, negative or out of range. */
bool graft_parse_duration(const char *s, int64_t *ns);

/* "K=V" with a non-empty K. */
bool graft_check_kv(const char *arg, char *err, size_t errlen);

/* The empty base of --scratch (its manifest is NULL: no layers, OCI): a config naming only
 * the platform. */
json_t *graft_scratch_config(const struct platform *p);

/* True when the result must use OCI media types: the base is OCI or scratch (NULL), a new
 * layer has no Docker schema 2 type (zstd, uncompressed), or the caller asks. */
bool graft_result_is_oci(const json_t *base_manifest, const struct graft_request *req);

/* Appends the layers' diffIDs and history, sets created, applies the changes. false with err
 * when a change's value is bad once expanded (a usage error). */
bool graft_config(json_t *config, const struct graft_request *req, char *err, size_t errlen);

/* The new manifest: the base's layers (media types mapped when the family changes), the new
 * ones without diffID, the config descriptor for config_digest/config_size, annotations. */
json_t *graft_manifest(const json_t *base_manifest, const struct graft_request *req,
                       const char *config_digest, int64_t config_size);

/* A repository URL as org.opencontainers.image.source names it: credentials dropped
 * (https://user:token@host/x -> https://host/x), scp-like git addresses made https
 * (git@host:org/repo.git -> https://host/org/repo), a trailing ".git" dropped. Caller frees. */
char *graft_source_url(const char *url);

/* Helpers, exposed for the unit tests. */

/* RFC 3339 ("2024-05-01T12:00:00.5+02:00") to UTC with the fraction's trailing zeros dropped
 * ("2024-05-01T10:00:00.5Z"). */
bool graft_parse_time(const char *s, char out[GRAFT_TIME_MAX], char *err, size_t errlen);
void graft_format_epoch(uint64_t epoch, char out[GRAFT_TIME_MAX]);
/* Dockerfile variable expansion against an Env array ("K=V" strings): $NAME, ${NAME},
 * ${NAME:-word}, ${NAME:+word}; \$ is a literal $. NULL with err on bad syntax. */
char *graft_expand(const char *s, const json_t *env, char *err, size_t errlen);

#endif
