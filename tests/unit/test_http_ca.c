/* Where TLS trust comes from: the system's CA directory, plus --cacert or SSL_CERT_FILE adding
 * to it (never replacing it). */
#include "http.h"
#include "tap.h"
#include "util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *file, *dir;

static void locate(const char *cacert)
{
	free(file);
	free(dir);
	http_ca_locations(cacert, &file, &dir);
}

int main(void)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, "/tmp/test_http_ca.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return printf("Bail out! mkdtemp\n"), 1;
	char *extra = xasprintf("%s/extra.pem", tmp);
	FILE *fp = fopen(extra, "w");
	if (fp == NULL)
		return printf("Bail out! %s\n", extra), 1;
	fclose(fp);
	/* libcurl's idea of the system store */
	CURL *e = curl_easy_init();
	char *sys_file = NULL, *sys_dir = NULL;
	curl_easy_getinfo(e, CURLINFO_CAINFO, &sys_file);
	curl_easy_getinfo(e, CURLINFO_CAPATH, &sys_dir);
	struct stat st;
	if (sys_dir == NULL || stat(sys_dir, &st) < 0)
		return printf("1..0 # SKIP no system CA directory\n"), 0;

	unsetenv("SSL_CERT_FILE");
	unsetenv("SSL_CERT_DIR");
	locate(NULL);
	is_str(dir, sys_dir, "by default the system's CA directory");
	is_str(file, NULL, "  and no bundle file (it would be parsed whole)");

	locate(extra);
	is_str(dir, sys_dir, "--cacert keeps the system's directory");
	is_str(file, extra, "  and adds its file");

	setenv("SSL_CERT_FILE", extra, 1);
	locate(NULL);
	is_str(dir, sys_dir, "SSL_CERT_FILE keeps the system's directory");
	is_str(file, extra, "  and adds its file");
	locate(tmp);
	is_str(file, tmp, "--cacert wins over SSL_CERT_FILE");

	if (sys_file && access(sys_file, R_OK) == 0) {
		setenv("SSL_CERT_FILE", sys_file, 1);
		locate(NULL);
		is_str(file, NULL,
		       "SSL_CERT_FILE naming the system bundle adds nothing: not loaded");
		is_str(dir, sys_dir, "  the system's directory has its certificates");
	}

	setenv("SSL_CERT_DIR", tmp, 1);
	locate(NULL);
	is_str(dir, tmp, "SSL_CERT_DIR is the directory");
	if (sys_file && access(sys_file, R_OK) == 0)
		is_str(file, sys_file,
		       "  and with it the system bundle in SSL_CERT_FILE is loaded");

	setenv("SSL_CERT_DIR", "/nonexistent/certs", 1);
	setenv("SSL_CERT_FILE", extra, 1);
	locate(NULL);
	is_str(dir, NULL, "a SSL_CERT_DIR that is not a directory: none (libcurl's bundle)");
	is_str(file, extra, "  the extra file still given");

	setenv("SSL_CERT_DIR", "/a:/b", 1);
	setenv("SSL_CERT_FILE", "", 1);
	locate(NULL);
	is_str(dir, "/a:/b", "SSL_CERT_DIR with several directories is passed on");
	is_str(file, NULL, "an empty SSL_CERT_FILE is none");

	free(file);
	free(dir);
	curl_easy_cleanup(e);
	unlink(extra);
	rmdir(tmp);
	free(extra);
	return done_testing();
}
