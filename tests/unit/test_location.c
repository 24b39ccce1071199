/* Location resolution (upload URLs, redirects) and the redaction of -v traces. */
#include "http.h"
#include "tap.h"

#include <stdlib.h>

static void resolve(const char *base, const char *loc, const char *want)
{
	char *got = url_resolve(base, loc);
	is_str(got, want, "%s + %s", base, loc);
	free(got);
}

static void redacts(const char *in, const char *want)
{
	char *got = redact_url(in);
	is_str(got, want, "redact_url %s", in);
	free(got);
}

static void redacts_header(const char *in, const char *want)
{
	char *got = redact_header(in);
	is_str(got, want, "redact_header %s", in);
	free(got);
}

int main(void)
{
	const char *b = "https://reg.example:5000/v2/app/blobs/uploads/";
	resolve(b, "/v2/app/blobs/uploads/u1?_state=x",
	        "https://reg.example:5000/v2/app/blobs/uploads/u1?_state=x");
	resolve(b, "u2?_state=y", "https://reg.example:5000/v2/app/blobs/uploads/u2?_state=y");
	resolve(b, "https://uploads.example/session/9?sig=abc",
	        "https://uploads.example/session/9?sig=abc");
	resolve(b, "/upload/other/path", "https://reg.example:5000/upload/other/path");
	resolve(b, "//cdn.example/blob", "https://cdn.example/blob");
	resolve("http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=1", "?_state=2",
	        "http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=2");
	resolve("https://[::1]:5000/v2/a/blobs/sha256:00", "../x", "https://[::1]:5000/v2/a/x");
	ok(url_resolve("not a url", "/x") == NULL, "a base that is not a URL gives NULL");

	char *o = url_origin("HTTPS://Reg.Example/v2/");
	is_str(o, "https://reg.example:443", "origin: scheme, lowercased host, default port");
	free(o);

	redacts("https://user:secret@reg.example/v2/", "https://user:<redacted>@reg.example/v2/");
	redacts("https://bucket.s3.amazonaws.com/blob?X-Amz-Algorithm=AWS4&X-Amz-Credential=AK"
	        "&X-Amz-Signature=deadbeef&X-Amz-Security-Token=tok",
	        "https://bucket.s3.amazonaws.com/"
	        "blob?X-Amz-Algorithm=AWS4&X-Amz-Credential=<redacted>"
	        "&X-Amz-Signature=<redacted>&X-Amz-Security-Token=<redacted>");
	redacts("https://acct.blob.core.windows.net/c/b?sv=2020&sig=abc%3D&se=x",
	        "https://acct.blob.core.windows.net/c/b?sv=2020&sig=<redacted>&se=x");
	redacts("https://auth.example/token?service=reg&scope=repository:a:pull&access_token=zz",
	        "https://auth.example/"
	        "token?service=reg&scope=repository:a:pull&access_token=<redacted>");
	/* the word anywhere in the name, however long (it was looked for in 63 bytes) */
	redacts("https://127.0.0.1/b?X-Vendor-Extended-Parameter-Name-Padding-To-Sixty-Four-Bytes-"
	        "Signature=abc&x=1",
	        "https://127.0.0.1/b?X-Vendor-Extended-Parameter-Name-Padding-To-Sixty-Four-Bytes-"
	        "Signature=<redacted>&x=1");
	redacts("http://127.0.0.1:5000/v2/a/manifests/v1",
	        "http://127.0.0.1:5000/v2/a/manifests/v1");

	redacts_header("Authorization: Bearer eyJhbGciOi.payload.sig",
	               "Authorization: Bearer <redacted>");
	redacts_header("authorization: Basic dXNlcjpwYXNz", "authorization: Basic <redacted>");
	redacts_header("Authorization: opaque", "Authorization: <redacted>");
	redacts_header("Cookie: session=1", "Cookie: <redacted>");
	redacts_header("Accept: application/json", "Accept: application/json");
	return done_testing();
}
