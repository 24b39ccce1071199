#include "ref.h"
#include "tap.h"

#include <stdlib.h>

#define D64 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void norm(const char *in, const char *domain, const char *host, const char *path,
                 const char *full)
{
	struct ref r;
	char err[256] = "";
	int rc = ref_parse(in, &r, err, sizeof err);
	ok(rc == 0, "%s parses%s%s", in, rc ? ": " : "", rc ? err : "");
	if (rc != 0)
		return;
	is_str(r.domain, domain, "%s: domain", in);
	is_str(r.host, host, "%s: API host", in);
	is_str(r.path, path, "%s: repository", in);
	char *s = ref_string(&r);
	is_str(s, full, "%s: normalised", in);
	free(s);
	ref_free(&r);
}

static void bad(const char *in, const char *why)
{
	struct ref r;
	char err[256] = "";
	ok(ref_parse(in, &r, err, sizeof err) < 0, "\"%s\" is refused", in);
	is_str(err, why, "  with: %s", why);
}

int main(void)
{
	norm("alpine", "docker.io", "registry-1.docker.io", "library/alpine",
	     "docker.io/library/alpine:latest");
	norm("library/alpine:3", "docker.io", "registry-1.docker.io", "library/alpine",
	     "docker.io/library/alpine:3");
	norm("docker.io/alpine", "docker.io", "registry-1.docker.io", "library/alpine",
	     "docker.io/library/alpine:latest");
	norm("index.docker.io/library/alpine:edge", "docker.io", "registry-1.docker.io",
	     "library/alpine", "docker.io/library/alpine:edge");
	norm("user/app", "docker.io", "registry-1.docker.io", "user/app",
	     "docker.io/user/app:latest");
	norm("ghcr.io/o/r:tag", "ghcr.io", "ghcr.io", "o/r", "ghcr.io/o/r:tag");
	norm("host:5000/r@" D64, "host:5000", "host:5000", "r", "host:5000/r@" D64);
	norm("r:tag@" D64, "docker.io", "registry-1.docker.io", "library/r",
	     "docker.io/library/r:tag@" D64);
	norm("localhost/app", "localhost", "localhost", "app", "localhost/app:latest");
	norm("localhost:5000/a/b/c:1.0-rc_1", "localhost:5000", "localhost:5000", "a/b/c",
	     "localhost:5000/a/b/c:1.0-rc_1");
	norm("[::1]:5000/app:v1", "[::1]:5000", "[::1]:5000", "app", "[::1]:5000/app:v1");
	norm("127.0.0.1:5000/a__b/c-d.e", "127.0.0.1:5000", "127.0.0.1:5000", "a__b/c-d.e",
	     "127.0.0.1:5000/a__b/c-d.e:latest");
	norm("localhost:5000", "docker.io", "registry-1.docker.io", "library/localhost",
	     "docker.io/library/localhost:5000");

	bad("", "empty reference");
	bad("Alpine", "repository name must be lowercase");
	bad("ghcr.io/Owner/repo", "repository name must be lowercase");
	bad("alpine:bad/tag", "invalid registry host \"alpine:bad\"");
	bad("alpine:-x", "invalid tag \"-x\"");
	bad("alpine@sha256:abc", "invalid sha256 digest \"sha256:abc\" (64 lowercase hex digits)");
	bad("alpine@md5:0123456789abcdef0123456789abcdef",
	    "unsupported digest algorithm in \"md5:0123456789abcdef0123456789abcdef\" (only "
	    "sha256)");
	bad("alpine@", "invalid digest \"\"");
	bad("a//b", "invalid repository name \"a//b\"");
	bad("ghcr.io/", "invalid reference: no repository name");
	bad("-bad.io/x", "invalid registry host \"-bad.io\"");
	bad("[::g]:5000/x", "invalid registry host \"[::g]:5000\"");
	bad("https://ghcr.io/o/r", "invalid reference: a URL; give host/repository[:tag]");
	bad("a b", "invalid reference: contains whitespace");
	bad("a_/b", "invalid repository name \"a_/b\"");
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	bad(longname, "repository name longer than 255 characters");
	char longtag[200] = "alpine:";
	memset(longtag + 7, 't', 129);
	longtag[136] = '\0';
	bad(longtag,
	    "invalid tag \"tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt"
	    "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\"");

	struct ref r;
	char err[256];
	ok(ref_parse("oci:/tmp/x:v1", &r, err, sizeof err) == 0 && r.kind == REF_LAYOUT,
	   "oci:DIR:TAG is a layout");
	is_str(r.dir, "/tmp/x", "  its directory");
	is_str(r.tag, "v1", "  its tag");
	ref_free(&r);
	ok(ref_parse("oci:rel/dir@" D64, &r, err, sizeof err) == 0, "oci:DIR@DIGEST parses");
	is_str(r.dir, "rel/dir", "  its directory");
	is_str(r.digest, D64, "  its digest");
	ok(r.tag == NULL, "  no tag");
	ref_free(&r);
	ok(ref_parse("oci:/a:b/c", &r, err, sizeof err) == 0 && r.tag == NULL,
	   "a colon before the last slash is part of the directory");
	is_str(r.dir, "/a:b/c", "  the directory keeps it");
	ref_free(&r);
	bad("oci:", "no directory after \"oci:\"");

	ok(host_is_loopback("127.0.0.1:5000"), "127.0.0.1 is loopback");
	ok(host_is_loopback("127.3.2.1"), "127.0.0.0/8 is loopback");
	ok(host_is_loopback("localhost:80"), "localhost is loopback");
	ok(host_is_loopback("[::1]:5000"), "[::1] is loopback");
	ok(!host_is_loopback("128.0.0.1"), "128.0.0.1 is not");
	ok(!host_is_loopback("localhost.example.com"), "a name is not resolved");
	ok(!host_is_loopback("[::2]"), "::2 is not");

	struct ref a, b;
	ref_parse("ghcr.io/a/b", &a, err, sizeof err);
	ref_parse("ghcr.io/c:1", &b, err, sizeof err);
	ok(ref_same_registry(&a, &b), "two repositories of ghcr.io: same registry");
	ref_free(&b);
	ref_parse("docker.io/c", &b, err, sizeof err);
	ok(!ref_same_registry(&a, &b), "ghcr.io and docker.io are not");
	ref_free(&a);
	ref_free(&b);
	return done_testing();
}
