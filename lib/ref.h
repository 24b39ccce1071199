/* Image references, normalised like Docker/distribution's "reference" package:
 *   alpine                  -> docker.io/library/alpine:latest (API host registry-1.docker.io)
 *   ghcr.io/o/r:tag, host:5000/r@sha256:..., r:tag@sha256:..., [::1]:5000/r
 * and "oci:DIR[:TAG|@DIGEST]" for an OCI image layout on disk. */
#ifndef OCINOCO_REF_H
#define OCINOCO_REF_H

#include <stdbool.h>
#include <stddef.h>

/* distribution: the name (domain + "/" + path) is at most 255 characters. */
#define REF_NAME_MAX 255
#define REF_TAG_MAX  128

enum ref_kind { REF_REGISTRY, REF_LAYOUT };

struct ref {
	enum ref_kind kind;
	char *domain; /* as normalised: "docker.io", "ghcr.io", "127.0.0.1:5000", "[::1]:5000" */
	char *host;   /* where the API lives: "registry-1.docker.io" for docker.io, else domain */
	char *path;   /* repository: "library/alpine" */
	char *dir;    /* REF_LAYOUT: the layout directory */
	char *tag;    /* NULL when none was given */
	char *digest; /* NULL when none was given */
};

/* 0 on success; -1 with a reason in err ("repository name must be lowercase"...). */
int ref_parse(const char *s, struct ref *r, char *err, size_t errlen);
void ref_free(struct ref *r);

/* What to ask the registry for: the digest if given, else the tag, else "latest". */
const char *ref_reference(const struct ref *r);
/* "docker.io/library/alpine" or "oci:DIR" (caller frees). */
char *ref_repository(const struct ref *r);
/* Fully normalised form with tag and/or digest (caller frees). */
char *ref_string(const struct ref *r);
/* Both in the same registry (so a cross-repository mount can work). */
bool ref_same_registry(const struct ref *a, const struct ref *b);

/* The DIR:TAG / DIR@DIGEST part after "oci:". */
bool ref_is_layout(const char *s);

/* Tag grammar [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool ref_tag_valid(const char *t);

/* Loopback by name only (no DNS): localhost, 127.0.0.0/8, ::1, with or without a port. */
bool host_is_loopback(const char *host);

#endif
