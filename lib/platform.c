#include "platform.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

static void copy_lower(char *dst, size_t n, const char *s, size_t len)
{
	if (len >= n)
		len = n - 1;
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[len] = '\0';
}

/* containerd's platforms.Normalize */
static void normalise(struct platform *p)
{
	static const struct {
		const char *from, *arch, *variant;
	} alias[] = {
	        {"x86_64", "amd64", NULL}, {"x86-64", "amd64", NULL},  {"i386", "386", NULL},
	        {"i686", "386", NULL},     {"aarch64", "arm64", NULL}, {"armhf", "arm", "v7"},
	        {"armel", "arm", "v6"},    {"armv7l", "arm", "v7"},    {"armv6l", "arm", "v6"},
	};
	for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
		if (strcmp(p->arch, alias[i].from) == 0) {
			snprintf(p->arch, sizeof p->arch, "%s", alias[i].arch);
			if (alias[i].variant && p->variant[0] == '\0')
				snprintf(p->variant, sizeof p->variant, "%s", alias[i].variant);
		}
	if (strcmp(p->arch, "arm64") == 0) {
		if (p->variant[0] == '\0' || strcmp(p->variant, "8") == 0)
			snprintf(p->variant, sizeof p->variant, "v8");
	} else if (strcmp(p->arch, "arm") == 0) {
		if (p->variant[0] == '\0' || strcmp(p->variant, "7") == 0)
			snprintf(p->variant, sizeof p->variant, "v7");
		else if (strcmp(p->variant, "6") == 0 || strcmp(p->variant, "5") == 0) {
			char v = p->variant[0];
			snprintf(p->variant, sizeof p->variant, "v%c", v);
		}
	} else if (strcmp(p->arch, "amd64") == 0 && strcmp(p->variant, "v1") == 0) {
		p->variant[0] = '\0';
	}
}

/* A part of "OS/ARCH/VARIANT": letters, digits, '.', '_', '-'. */
static bool part_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return false;
	return true;
}

bool platform_parse(const char *s, struct platform *p)
{
	*p = (struct platform){0};
	const char *a = strchr(s, '/');
	if (a == NULL || a == s || a[1] == '\0' || a[1] == '/')
		return false;
	const char *v = strchr(a + 1, '/');
	if (v && (v[1] == '\0' || strchr(v + 1, '/')))
		return false;
	size_t al = v ? (size_t)(v - a - 1) : strlen(a + 1);
	if ((size_t)(a - s) >= sizeof p->os || al >= sizeof p->arch ||
	    (v && strlen(v + 1) >= sizeof p->variant))
		return false;
	if (!part_ok(s, (size_t)(a - s)) || !part_ok(a + 1, al) ||
	    (v && !part_ok(v + 1, strlen(v + 1))))
		return false;
	copy_lower(p->os, sizeof p->os, s, (size_t)(a - s));
	copy_lower(p->arch, sizeof p->arch, a + 1, al);
	if (v)
		copy_lower(p->variant, sizeof p->variant, v + 1, strlen(v + 1));
	normalise(p);
	return true;
}

void platform_host(struct platform *p)
{
	struct utsname u;
	*p = (struct platform){0};
	snprintf(p->os, sizeof p->os, "linux");
	if (uname(&u) == 0)
		copy_lower(p->arch, sizeof p->arch, u.machine, strlen(u.machine));
	else
		snprintf(p->arch, sizeof p->arch, "amd64");
	if (strncmp(p->arch, "armv8", 5) == 0)
		snprintf(p->arch, sizeof p->arch, "arm64");
	normalise(p);
}

void platform_format(const struct platform *p, char *out, size_t n)
{
	snprintf(out, n, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

bool platform_from_json(const json_t *j, struct platform *p)
{
	*p = (struct platform){0};
	const char *os = json_string_value(json_object_get(j, "os"));
	const char *arch = json_string_value(json_object_get(j, "architecture"));
	const char *var = json_string_value(json_object_get(j, "variant"));
	if (os == NULL || arch == NULL)
		return false;
	copy_lower(p->os, sizeof p->os, os, strlen(os));
	copy_lower(p->arch, sizeof p->arch, arch, strlen(arch));
	if (var)
		copy_lower(p->variant, sizeof p->variant, var, strlen(var));
	normalise(p);
	return true;
}

bool platform_match(const struct platform *want, const struct platform *have)
{
	return strcmp(want->os, have->os) == 0 && strcmp(want->arch, have->arch) == 0 &&
	       strcmp(want->variant, have->variant) == 0;
}

void platform_to_json(const struct platform *p, json_t *obj)
{
	json_object_set_new(obj, "architecture", json_string(p->arch));
	if (p->variant[0])
		json_object_set_new(obj, "variant", json_string(p->variant));
	json_object_set_new(obj, "os", json_string(p->os));
}
