/* ref_parse on any string: it either fails with a reason or gives a reference whose fields
 * keep the grammar, and whose ref_string parses again to the same reference and string. */
#include "fuzz.h"
#include "ref.h"

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void check_fields(const struct ref *r, const char *s)
{
	if (r->kind == REF_REGISTRY) {
		FUZZ_ASSERT(r->domain && r->host && r->path && r->dir == NULL, "\"%s\"", s);
		FUZZ_ASSERT(strlen(r->domain) + 1 + strlen(r->path) <= REF_NAME_MAX, "\"%s\"", s);
	} else {
		FUZZ_ASSERT(r->kind == REF_LAYOUT && r->dir && r->dir[0], "\"%s\"", s);
		FUZZ_ASSERT(r->domain == NULL && r->host == NULL && r->path == NULL, "\"%s\"", s);
	}
	FUZZ_ASSERT(r->tag == NULL || ref_tag_valid(r->tag), "\"%s\": tag \"%s\"", s, r->tag);
	FUZZ_ASSERT(r->digest == NULL ||
	                    (strncmp(r->digest, "sha256:", 7) == 0 && strlen(r->digest) == 71),
	            "\"%s\": digest \"%s\"", s, r->digest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {(const char *)data, size};
	char *s = fuzz_field(&in, '\0');
	struct ref r, r2;
	char err[512] = "";
	if (ref_parse(s, &r, err, sizeof err) < 0) {
		FUZZ_ASSERT(err[0] != '\0', "\"%s\" refused without a reason", s);
		FUZZ_ASSERT(r.domain == NULL && r.path == NULL && r.tag == NULL &&
		                    r.digest == NULL && r.dir == NULL,
		            "\"%s\": a refused reference keeps fields", s);
		free(s);
		return 0;
	}
	check_fields(&r, s);
	char *printed = ref_string(&r);
	FUZZ_ASSERT(ref_parse(printed, &r2, err, sizeof err) == 0,
	            "\"%s\" printed as \"%s\", which does not parse: %s", s, printed, err);
	check_fields(&r2, printed);
	char *again = ref_string(&r2);
	FUZZ_ASSERT(strcmp(printed, again) == 0, "\"%s\" -> \"%s\" -> \"%s\"", s, printed, again);
	FUZZ_ASSERT(r.kind == r2.kind && same(r.domain, r2.domain) && same(r.host, r2.host) &&
	                    same(r.path, r2.path) && same(r.dir, r2.dir) &&
	                    same(r.digest, r2.digest) &&
	                    strcmp(ref_reference(&r), ref_reference(&r2)) == 0,
	            "\"%s\" and its printed form \"%s\" differ", s, printed);
	FUZZ_ASSERT(r.kind == REF_LAYOUT || ref_same_registry(&r, &r2), "\"%s\"", s);
	/* ref_string names "latest" for a registry reference with neither tag nor digest */
	const char *tag = r.tag ? r.tag : r.kind == REF_REGISTRY && !r.digest ? "latest" : NULL;
	FUZZ_ASSERT(same(tag, r2.tag), "\"%s\": tag %s, printed as \"%s\": tag %s", s,
	            r.tag ? r.tag : "none", printed, r2.tag ? r2.tag : "none");
	free(again);
	free(printed);
	ref_free(&r2);
	ref_free(&r);
	free(s);
	return 0;
}
