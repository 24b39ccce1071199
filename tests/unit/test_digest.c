#include "digest.h"
#include "oci.h"
#include "tap.h"

#include <stdlib.h>

int main(void)
{
	char d[DIGEST_STR_LEN];
	sha256_of("", 0, d);
	is_str(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "sha256 of the empty string");

	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, "a", 1);
	sha256_update(&h, "bc", 2);
	sha256_final(&h, d);
	is_str(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "sha256 of \"abc\" fed in two pieces");

	ok(digest_is_sha256(d), "a computed digest is sha256");
	ok(!digest_is_sha256(
	           "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
	   "uppercase hex is refused");
	ok(!digest_is_sha256("sha256:abc"), "a short digest is refused");
	ok(!digest_is_sha256(
	           "sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	   "another algorithm is not sha256");
	ok(digest_is_wellformed("sha512:abcDEF09=_-"), "the image-spec grammar allows sha512:...");
	ok(digest_is_wellformed("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"),
	   "a compound algorithm is well-formed");
	ok(!digest_is_wellformed(":abc"), "an empty algorithm is refused");
	ok(!digest_is_wellformed("sha256:"), "an empty encoding is refused");
	ok(!digest_is_wellformed("sha256+:abc"), "a trailing separator is refused");

	char err[200];
	const char *text =
	        "{\"mediaType\":\"" MT_OCI_LAYER_ZSTD "\",\"digest\":"
	        "\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
	        "\"size\":0}";
	json_t *desc = json_parse(text, strlen(text), err, sizeof err);
	if (desc == NULL)
		return printf("Bail out! %s\n", err), 1;
	ok(desc != NULL, "a descriptor parses");
	ok(desc && descriptor_check(desc, err, sizeof err), "a valid descriptor passes its check");
	json_object_set_new(desc, "size", json_integer(-1));
	ok(!descriptor_check(desc, err, sizeof err), "a negative size fails the check");
	is_str(err, "descriptor size is missing or negative", "and says why");
	size_t n;
	json_object_set_new(desc, "size", json_integer(5));
	char *s = json_serialise(desc, &n);
	is_str(s,
	       "{\"mediaType\":\"" MT_OCI_LAYER_ZSTD "\",\"digest\":"
	       "\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
	       "\"size\":5}",
	       "serialisation is compact and keeps the parsed key order");
	free(s);
	json_decref(desc);
	ok(json_parse("{\"a\":1,\"a\":2}", 13, err, sizeof err) == NULL,
	   "duplicate keys are refused");
	return done_testing();
}
