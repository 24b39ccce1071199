/* Platforms as an image index names them (os/architecture/variant), normalised and matched the
 * way containerd does: arm64 means arm64/v8, arm means arm/v7, aliases (x86_64, aarch64...)
 * fold to the OCI names. */
#ifndef OCI_FETCH_PLATFORM_H
#define OCI_FETCH_PLATFORM_H

#include <jansson.h>
#include <stdbool.h>

struct platform {
	char os[32], arch[32], variant[16];
};

/* "OS/ARCH[/VARIANT]"; false if malformed. */
bool fetch_platform_parse(const char *s, struct platform *p);
/* This machine's platform (uname). */
void fetch_platform_host(struct platform *p);
/* "linux/arm64/v8" */
void fetch_platform_format(const struct platform *p, char *out, size_t n);
/* From an index entry's "platform" object; false if it has none. */
bool fetch_platform_from_json(const json_t *platform, struct platform *p);
bool fetch_platform_match(const struct platform *want, const struct platform *have);

#endif
