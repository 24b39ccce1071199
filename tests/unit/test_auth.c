/* Credentials lookup: the files Docker and Podman read, their key forms, credential helpers. */
#include "auth.h"
#include "tap.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void put(const char *rel, const char *text, int mode)
{
	char *p = xasprintf("%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	if (f == NULL)
		exit(printf("Bail out! %s\n", p) ? 1 : 1);
	fputs(text, f);
	fclose(f);
	chmod(p, (mode_t)mode);
	free(p);
}

static int lookup(const char *domain, struct creds *c, char *err, size_t n)
{
	*c = (struct creds){0};
	err[0] = '\0';
	return auth_lookup(domain, c, err, n);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_auth.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return printf("Bail out! mkdtemp\n"), 1;
	char *sub[] = {"home", "home/.docker", "dc", "xdg", "xdg/containers", "bin"};
	for (size_t i = 0; i < sizeof sub / sizeof *sub; i++) {
		char *p = xasprintf("%s/%s", dir, sub[i]);
		mkdir(p, 0700);
		free(p);
	}
	char *home = xasprintf("%s/home", dir), *dc = xasprintf("%s/dc", dir);
	char *xdg = xasprintf("%s/xdg", dir), *raf = xasprintf("%s/raf.json", dir);
	char *path = xasprintf("%s/bin:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("HOME", home, 1);
	setenv("PATH", path, 1);
	unsetenv("DOCKER_CONFIG");
	unsetenv("REGISTRY_AUTH_FILE");
	unsetenv("XDG_RUNTIME_DIR");

	struct creds c;
	char err[512];
	struct buf b = {0};
	ok(base64_decode("dXNlcjpwYXNz", &b) == 0 && strcmp(b.data, "user:pass") == 0,
	   "base64 decodes user:pass");
	ok(base64_decode("YQ==", &b) == 0 && b.len == 1 && b.data[0] == 'a', "padding is handled");
	ok(base64_decode("!!!!", &b) < 0, "invalid base64 is refused");
	buf_free(&b);
	char *e = base64_encode("user:pass", 9);
	is_str(e, "dXNlcjpwYXNz", "base64 encodes");
	free(e);

	char *kh = auth_key_host("https://index.docker.io/v1/");
	is_str(kh, "index.docker.io", "key host of Docker Hub's URL");
	ok(auth_host_matches(kh, "docker.io"), "it matches docker.io");
	free(kh);
	kh = auth_key_host("http://127.0.0.1:5000");
	is_str(kh, "127.0.0.1:5000", "key host keeps the port");
	ok(!auth_host_matches(kh, "127.0.0.1:5001"), "another port does not match");
	free(kh);

	is_int(lookup("ghcr.io", &c, err, sizeof err), 0, "no files: no credentials");

	put("home/.docker/config.json",
	    "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1YnBhc3M=\"},"
	    "\"ghcr.io\":{\"username\":\"gh\",\"password\":\"ghpass\"},"
	    "\"quay.io\":{\"identitytoken\":\"refresh-123\"},"
	    "\"http://127.0.0.1:5000/v2/\":{\"auth\":\"bG9jYWw6bG9jYWxwYXNz\"}}}",
	    0600);
	is_int(lookup("docker.io", &c, err, sizeof err), 1,
	       "Docker Hub via https://index.docker.io/v1/");
	is_str(c.username, "hub", "  user from base64 auth");
	is_str(c.password, "hubpass", "  password from base64 auth");
	creds_free(&c);
	is_int(lookup("ghcr.io", &c, err, sizeof err), 1, "ghcr.io by host name");
	is_str(c.username, "gh", "  username member");
	is_str(c.password, "ghpass", "  password member");
	creds_free(&c);
	is_int(lookup("quay.io", &c, err, sizeof err), 1, "an identity token");
	is_str(c.identitytoken, "refresh-123", "  identitytoken member");
	ok(c.username == NULL, "  no username");
	creds_free(&c);
	is_int(lookup("127.0.0.1:5000", &c, err, sizeof err), 1,
	       "a key written as a URL with a path");
	is_str(c.username, "local", "  its user");
	creds_free(&c);

	/* DOCKER_CONFIG comes first */
	put("dc/config.json", "{\"auths\":{\"ghcr.io\":{\"auth\":\"ZGM6ZGNwYXNz\"}}}", 0600);
	setenv("DOCKER_CONFIG", dc, 1);
	is_int(lookup("ghcr.io", &c, err, sizeof err), 1, "DOCKER_CONFIG/config.json");
	is_str(c.username, "dc", "  wins over ~/.docker");
	creds_free(&c);
	is_int(lookup("docker.io", &c, err, sizeof err), 1,
	       "an entry only in ~/.docker is still found");
	creds_free(&c);

	/* REGISTRY_AUTH_FILE and XDG_RUNTIME_DIR/containers/auth.json after Docker's */
	put("raf.json", "{\"auths\":{\"reg.example\":{\"auth\":\"cmFmOnJhZnBhc3M=\"}}}", 0600);
	put("xdg/containers/auth.json",
	    "{\"auths\":{\"reg.example\":{\"auth\":\"eGRnOng=\"},\"other.example\":"
	    "{\"auth\":\"eGRnOng=\"}}}",
	    0600);
	setenv("REGISTRY_AUTH_FILE", raf, 1);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	is_int(lookup("reg.example", &c, err, sizeof err), 1, "REGISTRY_AUTH_FILE");
	is_str(c.username, "raf", "  before XDG_RUNTIME_DIR's auth.json");
	creds_free(&c);
	is_int(lookup("other.example", &c, err, sizeof err), 1,
	       "XDG_RUNTIME_DIR/containers/auth.json");
	is_str(c.username, "xdg", "  its user");
	creds_free(&c);

	/* credential helpers */
	put("bin/docker-credential-test",
	    "#!/bin/sh\n"
	    "read -r server\n"
	    "echo \"$server\" >> \"$(dirname \"$0\")/calls\"\n"
	    "case $server in\n"
	    "helped.example) echo "
	    "'{\"ServerURL\":\"helped.example\",\"Username\":\"hu\",\"Secret\":\"hs\"}';;\n"
	    "tok.example) echo '{\"Username\":\"<token>\",\"Secret\":\"idtok\"}';;\n"
	    "https://index.docker.io/v1/) echo '{\"Username\":\"hubh\",\"Secret\":\"x\"}';;\n"
	    "broken.example) echo 'helper says no'; exit 3;;\n"
	    "*) echo 'credentials not found in native keychain'; exit 1;;\n"
	    "esac\n",
	    0755);
	put("dc/config.json",
	    "{\"credHelpers\":{\"helped.example\":\"test\",\"tok.example\":\"test\","
	    "\"broken.example\":\"test\",\"missing.example\":\"nosuchhelper\"},"
	    "\"credsStore\":\"test\"}",
	    0600);
	is_int(lookup("helped.example", &c, err, sizeof err), 1, "credHelpers runs the helper");
	is_str(c.username, "hu", "  its Username");
	is_str(c.password, "hs", "  its Secret");
	is_str(c.source, "docker-credential-test", "  the source names the helper");
	creds_free(&c);
	is_int(lookup("tok.example", &c, err, sizeof err), 1, "Username <token>");
	is_str(c.identitytoken, "idtok", "  is an identity token");
	creds_free(&c);
	is_int(lookup("docker.io", &c, err, sizeof err), 1, "credsStore for Docker Hub");
	is_str(c.username, "hubh", "  asked with https://index.docker.io/v1/");
	creds_free(&c);
	is_int(lookup("unknown.example", &c, err, sizeof err), 0,
	       "helper's \"credentials not found\": none");
	is_int(lookup("broken.example", &c, err, sizeof err), -1, "a failing helper is an error");
	is_str(err, "credential helper docker-credential-test failed (exit 3): helper says no",
	       "  naming the helper and its message");
	is_int(lookup("missing.example", &c, err, sizeof err), -1, "a missing helper is an error");
	ok(strstr(err, "docker-credential-nosuchhelper") != NULL, "  naming it: %s", err);
	char *calls = xasprintf("%s/bin/calls", dir);
	struct buf cb = {0};
	ok(buf_read_file(&cb, calls, 4096) == 0 && strstr(cb.data, "helped.example\n"),
	   "the helper got the server on stdin");
	buf_free(&cb);

	put("dc/config.json", "{not json", 0600);
	is_int(lookup("ghcr.io", &c, err, sizeof err), -1, "a config that is not JSON is an error");
	ok(strstr(err, "dc/config.json: not a JSON object") != NULL, "  naming the file: %s", err);
	/* jansson's message quotes the text near the error: here the password. */
	put("dc/config.json",
	    "{\"auths\":{\"ghcr.io\":{\"username\":\"u\",\"password\":\"hunter2\x01\"}}}", 0600);
	is_int(lookup("ghcr.io", &c, err, sizeof err), -1,
	       "a config broken inside a password is an error");
	ok(strstr(err, "hunter") == NULL && strstr(err, "line 1 column") != NULL,
	   "  saying where, not what is there: %s", err);

	/* A credential that could end a header line and start another is refused. */
	ok(auth_text_clean("ocinoco-pass") && auth_text_clean(NULL) && auth_text_clean(""),
	   "printable text is clean");
	ok(!auth_text_clean("T\r\nX-Injected: yes") && !auth_text_clean("a\tb") &&
	           !auth_text_clean("a\x7f"),
	   "CR, LF, TAB and DEL are not");
	const char *dirty[][2] = {
	        {"{\"auths\":{\"c.example\":{\"username\":\"u\",\"password\":\"p\\r\\nX: y\"}}}",
	         "password"},
	        {"{\"auths\":{\"c.example\":{\"username\":\"u\\n\",\"password\":\"p\"}}}",
	         "username"},
	        {"{\"auths\":{\"c.example\":{\"identitytoken\":\"t\\r\"}}}", "identity token"},
	        {"{\"auths\":{\"c.example\":{\"auth\":\"dTpwDQpYOiB5\"}}}", "password"},
	};
	for (size_t i = 0; i < sizeof dirty / sizeof *dirty; i++) {
		put("dc/config.json", dirty[i][0], 0600);
		is_int(lookup("c.example", &c, err, sizeof err), -1,
		       "a %s with a control character is refused", dirty[i][1]);
		char *want = xasprintf("%s/config.json: the %s for c.example holds a control "
		                       "character (refused)",
		                       dc, dirty[i][1]);
		is_str(err, want, "  naming the file and the field, not the value");
		ok(c.username == NULL && c.password == NULL && c.identitytoken == NULL,
		   "  and nothing is kept");
		free(want);
	}

	char *rm = xasprintf("rm -rf '%s'", dir);
	if (system(rm) != 0)
		printf("# could not remove %s\n", dir);
	free(rm);
	free(calls);
	free(home);
	free(dc);
	free(xdg);
	free(raf);
	free(path);
	return done_testing();
}
