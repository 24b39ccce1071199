#include "digest.h"
#include "index.h"
#include "oci.h"
#include "tap.h"

#include <stdlib.h>

#define D(c)                                                                                       \
	"sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
	        c c c c c c c c c c c c c c c c c c c c c c c c

/* A buildx-style base: amd64, arm64/v8, an attestation for each, a Windows image with its
 * os.version, an artifact. */
static const char base_index[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":["
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(
                "a") "\",\"size\":10,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
                     "{\"mediaType\":\"application/"
                     "vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(
                             "b") "\",\"size\":11,\"platform\":{\"architecture\":\"arm64\",\"os\":"
                                  "\"linux\","
                                  "\"variant\":\"v8\"}},"
                                  "{\"mediaType\":\"application/"
                                  "vnd.oci.image.manifest.v1+json\",\"digest\":\"" D(
                                          "c") "\",\"size\":12,\"platform\":{\"architecture\":"
                                               "\"unknown\",\"os\":\"unknown\"},"
                                               "\"annotations\":{\"vnd.docker.reference.digest\":"
                                               "\"" D("a") "\",\"vnd.docker.reference.type\":"
                                                           "\"attestation-manifest\"}},"
                                                           "{\"mediaType\":\"application/"
                                                           "vnd.oci.image.manifest.v1+json\","
                                                           "\"digest\":\"" D(
                                                                   "d") "\",\"size\":13,"
                                                                        "\"platform\":{"
                                                                        "\"architecture\":"
                                                                        "\"arm64\",\"os\":"
                                                                        "\"linux\"},"
                                                                        "\"annotations\":{\"vnd."
                                                                        "docker.reference.type\":"
                                                                        "\"attestation-manifest\"}}"
                                                                        ","
                                                                        "{\"mediaType\":"
                                                                        "\"application/"
                                                                        "vnd.oci.image.manifest.v1+"
                                                                        "json\",\"digest\":\"" D(
                                                                                "e") "\",\"size\":"
                                                                                     "14,"
                                                                                     "\"platform\":"
                                                                                     "{\"architectu"
                                                                                     "re\":"
                                                                                     "\"amd64\","
                                                                                     "\"os\":"
                                                                                     "\"windows\","
                                                                                     "\"os."
                                                                                     "version\":"
                                                                                     "\"10.0.17763."
                                                                                     "5458\"}},"
                                                                                     "{\"mediaType"
                                                                                     "\":"
                                                                                     "\"application"
                                                                                     "/vnd.oci."
                                                                                     "image."
                                                                                     "manifest.v1+"
                                                                                     "json\","
                                                                                     "\"digest\":"
                                                                                     "\"" D("f") "\",\"size\":15,\"artifactType\":\"application/spdx+json\","
                                                                                                 "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}"
                                                                                                 "]"
                                                                                                 "}";

static json_t *parse(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);
	if (j == NULL)
		abort();
	return j;
}

static void kinds(void)
{
	json_t *idx = parse(base_index);
	json_t *ms = json_object_get(idx, "manifests");
	struct platform p;
	is_int(index_entry_kind(json_array_get(ms, 0), &p), INDEX_ENTRY_IMAGE, "amd64 is an image");
	is_int(index_entry_kind(json_array_get(ms, 1), &p), INDEX_ENTRY_IMAGE, "arm64 is an image");
	is_str(p.variant, "v8", "  its variant");
	is_int(index_entry_kind(json_array_get(ms, 2), &p), INDEX_ENTRY_SKIPPED,
	       "unknown/unknown attestation is skipped");
	is_int(index_entry_kind(json_array_get(ms, 3), &p), INDEX_ENTRY_SKIPPED,
	       "an attestation with a real platform is skipped (its annotation)");
	is_int(index_entry_kind(json_array_get(ms, 5), &p), INDEX_ENTRY_SKIPPED,
	       "an entry with an artifactType is skipped");
	json_t *nested = json_pack("{s:s, s:s, s:i}", "mediaType", MT_DOCKER_LIST, "digest", D("1"),
	                           "size", 3);
	is_int(index_entry_kind(nested, &p), INDEX_ENTRY_INDEX, "a nested list is an index");
	json_t *bare = json_pack("{s:s, s:s, s:i}", "mediaType", MT_OCI_MANIFEST, "digest", D("1"),
	                         "size", 3);
	is_int(index_entry_kind(bare, &p), INDEX_ENTRY_SKIPPED, "no platform is skipped");
	json_decref(bare);
	json_decref(nested);

	struct buf b = {0};
	index_platforms(idx, "\n", &b);
	is_str(b.data, "linux/amd64\nlinux/arm64/v8\nwindows/amd64", "platforms listed in order");
	buf_free(&b);
	json_decref(idx);
}

static void selects(const char *sel, const char *want)
{
	json_t *idx = parse(base_index);
	struct index_pick *picks;
	size_t n;
	char err[512] = "";
	struct buf got = {0};
	if (index_select(idx, sel, &picks, &n, err, sizeof err)) {
		for (size_t i = 0; i < n; i++) {
			char s[96];
			platform_format(&picks[i].platform, s, sizeof s);
			buf_appendf(&got, "%s%zu:%s", i ? " " : "", picks[i].pos, s);
		}
		free(picks);
	} else {
		buf_appendf(&got, "error: %s", err);
	}
	is_str(got.data, want, "select %s", sel);
	buf_free(&got);
	json_decref(idx);
}

static void selection(void)
{
	selects("all", "0:linux/amd64 1:linux/arm64/v8 4:windows/amd64");
	selects("linux/arm64,linux/amd64", "0:linux/amd64 1:linux/arm64/v8");
	selects("linux/aarch64", "1:linux/arm64/v8");
	selects("LINUX/X86_64,linux/amd64", "0:linux/amd64");
	selects("linux/arm64,linux/s390x",
	        "error: no manifest for platform linux/s390x in the index; it has: linux/amd64, "
	        "linux/arm64/v8, windows/amd64");
	selects("linux/amd64,", "error: \"\" is not OS/ARCH[/VARIANT]");

	char err[256];
	ok(index_selection_check("all", err, sizeof err), "all is a selection");
	ok(index_selection_check("linux/amd64,linux/arm/v7", err, sizeof err), "a list is one");
	ok(!index_selection_check("linux/amd64,linux", err, sizeof err), "a malformed item is not");
	is_str(err, "\"linux\" is not OS/ARCH[/VARIANT]", "  and says which");

	json_t *idx = parse(base_index);
	json_array_append_new(json_object_get(idx, "manifests"),
	                      json_pack("{s:s, s:s, s:i}", "mediaType", MT_OCI_INDEX, "digest",
	                                D("9"), "size", 3));
	struct index_pick *picks;
	size_t n;
	ok(!index_select(idx, "linux/amd64", &picks, &n, err, sizeof err),
	   "a nested index is refused");
	ok(strstr(err, "manifests[6] (" D("9") ") is an index inside the index") != NULL,
	   "  naming it: %s", err);
	json_decref(idx);

	idx = parse("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_OCI_MANIFEST
	            "\",\"digest\":\"" D("c") "\",\"size\":1,\"platform\":{\"architecture\":"
	                                      "\"unknown\",\"os\":\"unknown\"}}]}");
	ok(!index_select(idx, "all", &picks, &n, err, sizeof err), "only attestations: refused");
	json_decref(idx);
	idx = parse("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"config\":{}}");
	ok(!index_select(idx, "all", &picks, &n, err, sizeof err), "a manifest is not an index");
	json_decref(idx);
}

static void platform_from_config(void)
{
	json_t *c = parse("{\"created\":\"x\",\"architecture\":\"arm\",\"variant\":\"v7\","
	                  "\"os\":\"linux\",\"os.features\":[\"f\"],\"rootfs\":{}}");
	json_t *p = index_platform_of_config(c);
	char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
	is_str(s,
	       "{\"architecture\":\"arm\",\"os\":\"linux\",\"os.features\":[\"f\"],"
	       "\"variant\":\"v7\"}",
	       "a config's platform, in the image-spec's order");
	free(s);
	json_decref(p);
	json_decref(c);
	c = parse("{\"architecture\":\"amd64\",\"os\":\"linux\",\"variant\":\"\"}");
	p = index_platform_of_config(c);
	ok(json_object_get(p, "variant") == NULL, "an empty variant is left out");
	json_decref(p);
	json_decref(c);
	c = parse("{\"architecture\":\"amd64\"}");
	ok(index_platform_of_config(c) == NULL, "no os: no platform");
	json_decref(c);
}

static void builds(void)
{
	json_t *amd = json_pack("{s:s, s:s}", "architecture", "amd64", "os", "linux");
	json_t *arm = json_pack("{s:s, s:s, s:s}", "architecture", "arm64", "os", "linux",
	                        "variant", "v8");
	json_t *arm2 = json_pack("{s:s, s:s}", "architecture", "aarch64", "os", "linux");
	const char *m1 = "{\"one\":1}", *m2 = "{\"two\":2}";
	struct index_child c[] = {
	        {"", (int64_t)strlen(m1), MT_OCI_MANIFEST, amd, "one.json"},
	        {"", (int64_t)strlen(m2), MT_OCI_MANIFEST, arm, "two.json"},
	};
	sha256_of(m1, strlen(m1), c[0].digest);
	sha256_of(m2, strlen(m2), c[1].digest);
	const char *ann[] = {"a=1", "org.opencontainers.image.base.name=override"};
	char err[512] = "";
	json_t *idx =
	        index_build(c, 2, "docker.io/library/base:1", D("0"), ann, 2, err, sizeof err);
	ok(idx != NULL, "an OCI index is built: %s", err);
	char *want = xasprintf(
	        "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
	        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":9,\"platform\":"
	        "{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
	        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":9,\"platform\":"
	        "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}],"
	        "\"annotations\":{\"org.opencontainers.image.base.name\":\"override\","
	        "\"org.opencontainers.image.base.digest\":\"" D("0") "\",\"a\":\"1\"}}",
	        c[0].digest, c[1].digest);
	size_t len;
	char *got = idx ? json_serialise(idx, &len) : NULL;
	is_str(got, want, "  its bytes");
	free(got);
	free(want);
	json_decref(idx);

	c[0].media_type = c[1].media_type = MT_DOCKER_MANIFEST;
	idx = index_build(c, 2, NULL, NULL, NULL, 0, err, sizeof err);
	is_str(json_string_value(json_object_get(idx, "mediaType")), MT_DOCKER_LIST,
	       "Docker manifests give a Docker manifest list");
	ok(json_object_get(idx, "annotations") == NULL, "  with no annotations when none given");
	json_decref(idx);

	c[1].media_type = MT_OCI_MANIFEST;
	ok(index_build(c, 2, NULL, NULL, NULL, 0, err, sizeof err) == NULL, "a mix is refused");
	ok(strstr(err, "1 of the 2 manifests are Docker schema 2") != NULL, "  saying why: %s",
	   err);

	c[0].media_type = MT_OCI_MANIFEST;
	c[1].platform = arm2;
	struct index_child three[] = {c[0], c[1], c[0]};
	three[2].platform = arm;
	three[2].what = "x.json";
	ok(index_build(three, 3, NULL, NULL, NULL, 0, err, sizeof err) == NULL,
	   "two images of one platform (aarch64 = arm64/v8) are refused");
	is_str(err,
	       "two.json and x.json are both for linux/arm64/v8: an index holds one image per "
	       "platform",
	       "  naming both");
	three[2].media_type = MT_OCI_INDEX;
	ok(index_build(three, 3, NULL, NULL, NULL, 0, err, sizeof err) == NULL,
	   "an index as a child is refused");
	json_decref(amd);
	json_decref(arm);
	json_decref(arm2);
}

int main(void)
{
	kinds();
	selection();
	platform_from_config();
	builds();
	return done_testing();
}
