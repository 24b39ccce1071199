/* auth_config_parse on any config file text. The input is "DOMAIN\nJSON"; every '$' in the
 * JSON is replaced by SECRET, standing for a password or token written there. Any part of a
 * config file may be a credential, so no piece of SECRET may appear in the error, whatever is
 * wrong with the file; and the result is one of the documented three, with creds only when
 * found. */
#include "auth.h"
#include "fuzz.h"
#include "util.h"

static const char SECRET[] = "Zq9xK7wQv3";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {(const char *)data, size};
	char *domain = fuzz_field(&in, '\n');
	if (domain[0] == '\0') {
		free(domain);
		domain = xstrdup("127.0.0.1:5000");
	}
	struct buf json = {0};
	buf_append(&json, "", 0);
	for (size_t i = 0; i < in.n; i++) {
		if (in.p[i] == '$')
			buf_append(&json, SECRET, sizeof SECRET - 1);
		else
			buf_append(&json, in.p + i, 1);
	}
	/* The input writing a piece of the secret itself would not be a leak. */
	bool own = false;
	for (size_t w = 0; w + 4 <= strlen(SECRET); w++)
		own |= memmem(in.p, in.n, SECRET + w, 4) != NULL ||
		       memmem(domain, strlen(domain), SECRET + w, 4) != NULL;
	if (own)
		goto out;

	struct creds c = {0};
	char *helper = NULL;
	char err[512] = "";
	int r = auth_config_parse(json.data, json.len, "/config.json", domain, &c, &helper, err,
	                          sizeof err);
	FUZZ_ASSERT(!fuzz_leaks(err, SECRET, 4), "a piece of the secret is in the error: %s", err);
	FUZZ_ASSERT(r >= -1 && r <= 1, "returned %d", r);
	FUZZ_ASSERT(helper == NULL || r == 0, "a helper (%s) and %d", helper, r);
	if (r == -1) {
		FUZZ_ASSERT(err[0] != '\0', "an error without a reason");
		FUZZ_ASSERT(strncmp(err, "/config.json: ", 14) == 0,
		            "error not naming the file: %s", err);
	}
	if (r == 1) {
		FUZZ_ASSERT(c.username || c.identitytoken, "found, but no credentials");
		FUZZ_ASSERT(c.username == NULL || c.password, "a username without a password");
		FUZZ_ASSERT(c.source && strcmp(c.source, "/config.json") == 0, "source %s",
		            c.source ? c.source : "(none)");
		creds_free(&c);
	} else {
		FUZZ_ASSERT(r == -1 || (c.username == NULL && c.password == NULL &&
		                        c.identitytoken == NULL && c.source == NULL),
		            "%d, but credentials set", r);
		if (r == 0)
			FUZZ_ASSERT(helper == NULL || helper[0], "an empty helper name");
	}
	free(helper);
out:
	buf_free(&json);
	free(domain);
	return 0;
}
