/* Platforms as an image index and a config name them (os/architecture/variant), parsed,
 * normalised and matched the way containerd does: arm64 means arm64/v8, arm means arm/v7,
 * aliases (x86_64, aarch64...) and upper case fold to the OCI names. The one home of platform
 * knowledge: every program parses, matches and writes platforms through here. */
#ifndef OCINOCO_PLATFORM_H
#define OCINOCO_PLATFORM_H

#include <jansson.h>
#include <stdbool.h>

struct platform {
	char os[32], arch[32], variant[16];
};

/* "OS/ARCH[/VARIANT]"; false if malformed. */
bool platform_parse(const char *s, struct platform *p);
/* This machine's platform (uname). */
void platform_host(struct platform *p);
/* "linux/arm64/v8" */
void platform_format(const struct platform *p, char *out, size_t n);
/* From an index entry's "platform" object; false if it has none. */
bool platform_from_json(const json_t *platform, struct platform *p);
bool platform_match(const struct platform *want, const struct platform *have);
/* Sets "architecture", "variant" (only when there is one) and "os" on an object, in that order
 * (the image-spec's order for a config). */
void platform_to_json(const struct platform *p, json_t *obj);

#endif
