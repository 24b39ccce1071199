#include "entry.h"

#include "digest.h"
#include "dirs.h"
#include "oci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *entry_path(const char *dir, const char *key)
{
	char hex[DIGEST_STR_LEN];
	sha256_of(key, strlen(key), hex);
	return xasprintf("%s/layers/%s.json", dir, hex + 7);
}

static int write_line_whole(const char *path, const char *data, size_t n);

char *recipe_path(const char *dir, const char *recipe)
{
	char hex[DIGEST_STR_LEN];
	sha256_of(recipe, strlen(recipe), hex);
	return xasprintf("%s/recipes/%s", dir, hex + 7);
}

bool recipe_seen(const char *dir, const char *recipe)
{
	char *path = recipe_path(dir, recipe);
	struct stat st;
	bool seen = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return seen;
}

int recipe_record(const char *dir, const char *recipe)
{
	char *path = recipe_path(dir, recipe);
	int r = write_line_whole(path, recipe, strlen(recipe));
	int saved = errno;
	free(path);
	errno = saved;
	return r;
}

/* The entry's check: sha256 of key "\n" descriptor. Caller frees nothing: out is filled. */
static void entry_check_of(const char *key, const json_t *descriptor, char out[DIGEST_STR_LEN])
{
	size_t n;
	char *d = json_serialise(descriptor, &n);
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, key, strlen(key));
	sha256_update(&h, "\n", 1);
	sha256_update(&h, d, n);
	sha256_final(&h, out);
	free(d);
}

bool entry_descriptor_check(const json_t *d, char *why, size_t whylen)
{
	if (!descriptor_check(d, why, whylen))
		return false;
	const char *diff = json_string_value(json_object_get(d, "diffID"));
	if (diff == NULL || !digest_is_sha256(diff))
		return fail_reason(why, whylen, "descriptor has no sha256 diffID");
	return true;
}

static bool locations_check(const json_t *at, char *why, size_t whylen)
{
	if (!json_is_array(at))
		return fail_reason(why, whylen, "\"at\" is not an array");
	size_t i;
	json_t *v;
	json_array_foreach(at, i, v)
	{
		const char *s = json_string_value(v);
		if (s == NULL || *s == '\0' || strchr(s, '\n') != NULL)
			return fail_reason(why, whylen, "\"at\"[%zu] is not a location", i);
	}
	return true;
}

int entry_read(const char *path, const char *key, struct entry *e, char *why, size_t whylen)
{
	*e = (struct entry){0};
	struct buf b = {0};
	if (buf_read_file(&b, path, ENTRY_MAX_BYTES) < 0) {
		int saved = errno;
		buf_free(&b);
		if (saved == ENOENT)
			return 0;
		fail_reason(why, whylen, "%s",
		            saved == EFBIG ? "larger than an entry can be" : strerror(saved));
		return -1;
	}
	char jerr[256];
	json_t *j = json_parse(b.data ? b.data : "", b.len, jerr, sizeof jerr);
	buf_free(&b);
	if (j == NULL) {
		fail_reason(why, whylen, "not JSON: %s", jerr);
		return -1;
	}
	const char *k = json_string_value(json_object_get(j, "key"));
	const char *check = json_string_value(json_object_get(j, "check"));
	json_t *d = json_object_get(j, "descriptor"), *at = json_object_get(j, "at");
	char want[DIGEST_STR_LEN];
	int r = -1;
	if (k == NULL || strcmp(k, key) != 0)
		fail_reason(why, whylen, "the entry of another key");
	else if (!entry_descriptor_check(d, why, whylen))
		;
	else if (!locations_check(at, why, whylen))
		;
	else if (entry_check_of(key, d, want), check == NULL || strcmp(check, want) != 0)
		fail_reason(why, whylen, "its check does not match its descriptor");
	else
		r = 1;
	if (r == 1) {
		e->descriptor = json_incref(d);
		e->at = json_incref(at);
	}
	json_decref(j);
	return r;
}

/* data and a newline as the whole file at path (its directories made as needed), renamed into
 * place (atomic_file); 0, or -1 with errno. */
static int write_line_whole(const char *path, const char *data, size_t n)
{
	if (mkdir_parents(path, 0755) < 0)
		return -1;
	char *line = xasprintf("%.*s\n", (int)n, data);
	int r = atomic_write_file(path, line, n + 1, 0644);
	int saved = errno;
	free(line);
	errno = saved;
	return r;
}

int entry_write(const char *path, const char *key, const struct entry *e)
{
	char check[DIGEST_STR_LEN];
	entry_check_of(key, e->descriptor, check);
	json_t *j = json_object();
	json_object_set_new(j, "key", json_string(key));
	json_object_set(j, "descriptor", e->descriptor);
	json_object_set(j, "at", e->at);
	json_object_set_new(j, "check", json_string(check));
	size_t n;
	char *s = json_serialise(j, &n);
	json_decref(j);
	int r = write_line_whole(path, s, n);
	int saved = errno;
	free(s);
	errno = saved;
	return r;
}

void entry_add_location(struct entry *e, const char *location)
{
	if (e->at == NULL)
		e->at = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(e->at, i, v)
	{
		if (strcmp(json_string_value(v), location) == 0)
			return;
	}
	json_array_append_new(e->at, json_string(location));
}

void entry_free(struct entry *e)
{
	json_decref(e->descriptor);
	json_decref(e->at);
	*e = (struct entry){0};
}
