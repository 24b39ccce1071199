#!/usr/bin/env bats
# TLS, Basic auth and the Bearer token flow against real registries; credentials from Docker's
# and Podman's files and from credential helpers; what -v shows.
# shellcheck disable=SC2030,SC2031 # each test is a subshell: its exports are its own
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra

setup_file() {
	registry_start BASIC tls-basic
	registry_start TOK tls-token
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_busybox_layout "$FIX/bb" oci
	push_layout "$FIX/bb" "$TOK_HOST/public/bb:v1" TOK
	push_layout "$FIX/bb" "$TOK_HOST/private/bb:v1" TOK
	push_layout "$FIX/bb" "$BASIC_HOST/private/bb:v1" BASIC
	tcp_proxy_start P "$TOK_HOST"
	docker_config_for BASIC "$FIX/dc"
	docker_config_for TOK "$FIX/dc"
	head -c 200000 /dev/urandom >"$FIX/rand"
	# no credentials unless a test gives them
	export HOME=$BATS_FILE_TMPDIR/home
	mkdir -p "$HOME"
	unset DOCKER_CONFIG REGISTRY_AUTH_FILE XDG_RUNTIME_DIR SSL_CERT_FILE
}

teardown_file() {
	registry_stop_all
}

@test "HTTPS with Basic auth: push and fetch with the credentials from DOCKER_CONFIG" {
	export DOCKER_CONFIG=$FIX/dc
	run_status 0 oci-put blob --cacert "$TEST_CA" "$BASIC_HOST/basic/a" "$FIX/rand"
	run_status 0 oci-fetch --cacert "$TEST_CA" --blob "$output" "$BASIC_HOST/basic/a"
	run_status 0 oci-fetch --cacert "$TEST_CA" --digest "$BASIC_HOST/private/bb:v1"
}

@test "Basic credentials go with the first request (no 401 first); a token registry still answers it with its challenge" {
	export DOCKER_CONFIG=$FIX/dc
	local before
	before=$(registry_requests BASIC '[A-Z]+' '.' 401)
	run_status 0 oci-fetch --cacert "$TEST_CA" --digest "$BASIC_HOST/private/bb:v1"
	run_status 0 oci-put blob --cacert "$TEST_CA" "$BASIC_HOST/first/a" "$FIX/rand"
	[ "$(registry_requests BASIC GET '^/v2/private/bb/manifests/v1$' 200)" -ge 1 ]
	[ "$(registry_requests BASIC '[A-Z]+' '.' 401)" = "$before" ]
	# a registry that wants a token: the Basic header it ignores, its 401, the token, the answer
	before=$(registry_requests TOK '[A-Z]+' '.' 401)
	run_status 0 oci-fetch --cacert "$TEST_CA" --digest "$TOK_HOST/private/bb:v1"
	[ "$(registry_requests TOK '[A-Z]+' '.' 401)" = $((before + 1)) ]
	# no credentials for a registry: nothing sent, the 401 says what it wants
	unset DOCKER_CONFIG
	before=$(registry_requests BASIC '[A-Z]+' '.' 401)
	run_status 1 oci-fetch --cacert "$TEST_CA" --digest "$BASIC_HOST/private/bb:v1"
	[ "$(registry_requests BASIC '[A-Z]+' '.' 401)" = $((before + 1)) ]
}

@test "wrong password: exit 1, UNAUTHORIZED, and the password is not printed" {
	mkdir -p "$BATS_TEST_TMPDIR/dc"
	printf '{"auths":{"%s":{"username":"%s","password":"wrong-Secret-77"}}}' "$BASIC_HOST" \
		"$TEST_USER" >"$BATS_TEST_TMPDIR/dc/config.json"
	DOCKER_CONFIG=$BATS_TEST_TMPDIR/dc run_status 1 oci-fetch -v --cacert "$TEST_CA" "$BASIC_HOST/private/bb:v1"
	[[ $output == *"$BASIC_HOST/private/bb:v1: HTTP 401 UNAUTHORIZED"*"refused"* ]]
	[[ $output != *wrong-Secret-77* ]]
	[[ $output != *"$(printf '%s:wrong-Secret-77' "$TEST_USER" | base64 -w0)"* ]]
	printf '{"auths":{"%s":{"username":"%s","password":"wrong-Secret-77"}}}' "$TOK_HOST" \
		"$TEST_USER" >"$BATS_TEST_TMPDIR/dc/config.json"
	DOCKER_CONFIG=$BATS_TEST_TMPDIR/dc run_status 1 oci-fetch -v --cacert "$TEST_CA" "$TOK_HOST/private/bb:v1"
	[[ $output == *"HTTP 401"*"token server"*"wrong username or password"* ]]
	[[ $output != *wrong-Secret-77* ]]
}

@test "a certificate nobody trusts is an error (also on loopback); SSL_CERT_FILE and --insecure" {
	export DOCKER_CONFIG=$FIX/dc
	run_status 1 oci-fetch "$BASIC_HOST/private/bb:v1"
	[[ $output == *"$BASIC_HOST/private/bb:v1"*"certificate"*"--cacert"* ]]
	SSL_CERT_FILE=$TEST_CA run_status 0 oci-fetch --digest "$BASIC_HOST/private/bb:v1"
	run_status 0 oci-fetch --insecure --digest "$BASIC_HOST/private/bb:v1"
	run_status 1 oci-put blob "$BASIC_HOST/basic/b" "$FIX/rand"
	[[ $output == *"certificate"* ]]
}

@test "SSL_CERT_FILE and --cacert add trust: the system's CA directory (SSL_CERT_DIR) still counts" {
	export DOCKER_CONFIG=$FIX/dc
	# a "system" CA directory that trusts the test CA, one that trusts nothing, another CA
	mkdir "$BATS_TEST_TMPDIR/sys" "$BATS_TEST_TMPDIR/none"
	cp "$TEST_CA" "$BATS_TEST_TMPDIR/sys/test-ca.pem"
	openssl rehash "$BATS_TEST_TMPDIR/sys"
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 1 \
		-subj "/CN=another CA" -keyout "$BATS_TEST_TMPDIR/other.key" \
		-out "$BATS_TEST_TMPDIR/other.pem" 2>/dev/null
	export SSL_CERT_DIR=$BATS_TEST_TMPDIR/sys
	run_status 0 oci-fetch --digest "$BASIC_HOST/private/bb:v1"
	SSL_CERT_FILE=$BATS_TEST_TMPDIR/other.pem run_status 0 oci-fetch --digest "$BASIC_HOST/private/bb:v1"
	run_status 0 oci-put blob --cacert "$BATS_TEST_TMPDIR/other.pem" "$BASIC_HOST/basic/c" "$FIX/rand"
	# the directory is what trusted the test CA; the extra file alone trusts it too
	export SSL_CERT_DIR=$BATS_TEST_TMPDIR/none
	SSL_CERT_FILE=$BATS_TEST_TMPDIR/other.pem run_status 1 oci-fetch --digest "$BASIC_HOST/private/bb:v1"
	[[ $output == *"certificate"* ]]
	SSL_CERT_FILE=$TEST_CA run_status 0 oci-fetch --digest "$BASIC_HOST/private/bb:v1"
	run_status 0 oci-fetch --cacert "$TEST_CA" --digest "$BASIC_HOST/private/bb:v1"
}

@test "Bearer tokens: anonymous pull of a public repository, none for a private one" {
	run_status 0 oci-fetch --cacert "$TEST_CA" --config "$TOK_HOST/public/bb:v1"
	[ "$(jq -r .os <<<"$output")" = linux ]
	tail -n 1 "$TOK_TOKEN_LOG" | grep -q ' anonymous '
	run_status 1 oci-fetch --cacert "$TEST_CA" "$TOK_HOST/private/bb:v1"
	[[ $output == *"HTTP 401 UNAUTHORIZED"* ]]
}

@test "one token for the whole run: push scope on the target and pull on the mount source together" {
	export DOCKER_CONFIG=$FIX/dc
	m=$(oci-fetch --cacert "$TEST_CA" "$TOK_HOST/private/bb:v1")
	printf '%s' "$m" >"$BATS_TEST_TMPDIR/m.json"
	before=$(token_requests TOK)
	run_status 0 oci-put manifest --cacert "$TEST_CA" --from "$TOK_HOST/private/bb:v1" \
		--tag "$TOK_HOST/app/two:latest" "$TOK_HOST/app/one:v1" "$BATS_TEST_TMPDIR/m.json"
	[ "$(token_requests TOK)" = $((before + 1)) ]
	last=$(tail -n 1 "$TOK_TOKEN_LOG")
	[[ $last == *"repository:app/one:pull,push"* ]]
	[[ $last == *"repository:private/bb:pull"* ]]
	[[ $last == *"repository:app/two:pull,push"* ]]
	[[ $last == *" $TEST_USER "* ]]
	# every blob mounted, none uploaded
	[ "$(registry_requests TOK 'PATCH|PUT' '^/v2/app/(one|two)/blobs/')" = 0 ]
	[ "$(registry_requests TOK POST '^/v2/app/one/blobs/uploads/\?mount=' 201)" -ge 2 ]
}

@test "round trips of a fetch: one TLS connection to the registry, one token request" {
	before=$(tcp_proxy_connections P)
	conns=$(token_connections TOK)
	toks=$(token_requests TOK)
	run_status 0 oci-fetch -v --cacert "$TEST_CA" --platform linux/amd64 \
		--manifest-out "$BATS_TEST_TMPDIR/m" --config-out "$BATS_TEST_TMPDIR/c" \
		--digest-out "$BATS_TEST_TMPDIR/d" "localhost:${P_HOST##*:}/public/bb:v1"
	echo "# $(grep -o '[0-9]* requests, .*' <<<"$output")" >&3
	[ "$(tcp_proxy_connections P)" = $((before + 1)) ]
	[ "$(token_requests TOK)" = $((toks + 1)) ]
	[ "$(token_connections TOK)" = $((conns + 1)) ]
}

@test "a credential helper on PATH is asked, its secret used, and -v shows no secret" {
	helpers=$BATS_TEST_TMPDIR/bin
	make_cred_helper "$helpers" test "$TEST_USER" "$TEST_PASS"
	mkdir -p "$BATS_TEST_TMPDIR/dc"
	printf '{"credHelpers":{"%s":"test","%s":"test"}}' "$TOK_HOST" "$BASIC_HOST" \
		>"$BATS_TEST_TMPDIR/dc/config.json"
	export DOCKER_CONFIG=$BATS_TEST_TMPDIR/dc PATH=$helpers:$PATH
	run_status 0 oci-put -v blob --cacert "$TEST_CA" "$TOK_HOST/helped/a" "$FIX/rand"
	grep -qx "$TOK_HOST" "$helpers/calls"
	[[ $output == *"credentials for $TOK_HOST from docker-credential-test"* ]]
	[[ $output == *"Authorization: Bearer <redacted>"* ]]
	[[ $output != *"$TEST_PASS"* ]]
	# the token the run got is not in the trace: ask the server for one like it and compare
	# its first part (the JWT header, the same for every token)
	tok=$(registry_token TOK repository:helped/a:pull)
	[[ $output != *"${tok%%.*}"* ]]
	[[ $output != *"$(printf '%s:%s' "$TEST_USER" "$TEST_PASS" | base64 -w0)"* ]]
	run_status 0 oci-fetch -v --cacert "$TEST_CA" --blob "$(sha256sum <"$FIX/rand" | sed 's/^/sha256:/;s/ .*//')" \
		-o /dev/null "$BASIC_HOST/private/bb:v1" || true
	grep -qx "$BASIC_HOST" "$helpers/calls"
	[[ $output == *"Authorization: Basic <redacted>"* ]]
	[[ $output != *"$TEST_PASS"* ]]
}

@test "a credential helper that hangs, or whose child keeps its stdout open, is killed after OCINOCO_TIMEOUT and named" {
	helpers=$BATS_TEST_TMPDIR/bin
	mark=ocinoco-helper-$BATS_ROOT_PID-$BATS_TEST_NUMBER
	mkdir -p "$helpers" "$BATS_TEST_TMPDIR/dc"
	# never answers
	printf '#!/bin/bash\nexec -a %s-hang sleep 1000\n' "$mark" >"$helpers/docker-credential-hang"
	# answers and exits, but what it started in the background holds its stdout
	printf '#!/bin/bash\nread -r server\necho "{\\"Username\\":\\"u\\",\\"Secret\\":\\"s\\"}"\n(exec -a %s-child sleep 1000) &\n' \
		"$mark" >"$helpers/docker-credential-fork"
	chmod 755 "$helpers"/docker-credential-*
	export DOCKER_CONFIG=$BATS_TEST_TMPDIR/dc PATH=$helpers:$PATH
	for helper in hang fork; do
		printf '{"credHelpers":{"%s":"%s"}}' "$TOK_HOST" "$helper" >"$DOCKER_CONFIG/config.json"
		start=$EPOCHREALTIME
		OCINOCO_TIMEOUT=1 run_status 1 oci-fetch --cacert "$TEST_CA" --digest "$TOK_HOST/private/bb:v1"
		took=$(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
		[ "$took" -lt 4000 ]
		if [ $helper = hang ]; then
			[[ $output == *"oci-fetch: $TOK_HOST: credentials: credential helper docker-credential-hang: no answer within 1 s: killed (OCINOCO_TIMEOUT)"* ]]
		else
			[[ $output == *"oci-fetch: $TOK_HOST: credentials: credential helper docker-credential-fork: exited, but what it started kept its output open for 1 s: killed (OCINOCO_TIMEOUT)"* ]]
		fi
		[[ $output == *"HTTP 401"* ]] # then without credentials: refused
		# nothing of the helper is left running
		if pgrep -f -- "$mark" >&2; then false; fi
	done
	# a signal that ends the program ends its helper too (not in the program's process group)
	printf '{"credHelpers":{"%s":"hang"}}' "$TOK_HOST" >"$DOCKER_CONFIG/config.json"
	oci-fetch --cacert "$TEST_CA" --digest "$TOK_HOST/private/bb:v1" >/dev/null 2>&1 3>&- &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		pgrep -f -- "$mark-hang" >/dev/null && break
		sleep 0.05
	done
	pgrep -f -- "$mark-hang" >/dev/null
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 143 ]
	for ((i = 0; i < 40; i++)); do
		pgrep -f -- "$mark-hang" >/dev/null || break
		sleep 0.05
	done
	if pgrep -f -- "$mark-hang" >&2; then false; fi
}

@test "Podman's auth file and REGISTRY_AUTH_FILE are read too" {
	mkdir -p "$BATS_TEST_TMPDIR/xdg/containers"
	cp "$FIX/dc/config.json" "$BATS_TEST_TMPDIR/xdg/containers/auth.json"
	XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg run_status 0 oci-fetch --cacert "$TEST_CA" --digest "$TOK_HOST/private/bb:v1"
	REGISTRY_AUTH_FILE=$FIX/dc/config.json run_status 0 oci-fetch --cacert "$TEST_CA" --digest "$BASIC_HOST/private/bb:v1"
}

@test "an identity token is exchanged with grant_type=refresh_token" {
	refresh=$(curl -sf --cacert "$TEST_CA" -u "$TEST_USER:$TEST_PASS" \
		"$TOK_REALM?service=$TOK_SERVICE&offline_token=true&client_id=t" | jq -r .refresh_token)
	[ -n "$refresh" ] && [ "$refresh" != null ]
	mkdir -p "$BATS_TEST_TMPDIR/dc"
	printf '{"auths":{"%s":{"identitytoken":"%s"}}}' "$TOK_HOST" "$refresh" >"$BATS_TEST_TMPDIR/dc/config.json"
	DOCKER_CONFIG=$BATS_TEST_TMPDIR/dc run_status 0 oci-fetch -v --cacert "$TEST_CA" --digest "$TOK_HOST/private/bb:v1"
	[[ $output == *"> POST https://127.0.0.1:"*"/token"* ]]
	[[ $output != *"$refresh"* ]]
	tail -n 1 "$TOK_TOKEN_LOG" | grep -q "POST 200 $TEST_USER"
}

@test "concurrent HEADs and uploads of several blobs share one TLS connection (HTTP/2)" {
	printf 'one' >"$BATS_TEST_TMPDIR/1"
	printf 'two' >"$BATS_TEST_TMPDIR/2"
	host=localhost:${P_HOST##*:}
	mkdir -p "$BATS_TEST_TMPDIR/dc"
	auth=$(printf '%s:%s' "$TEST_USER" "$TEST_PASS" | base64 -w0)
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$host" "$auth" >"$BATS_TEST_TMPDIR/dc/config.json"
	before=$(tcp_proxy_connections P)
	DOCKER_CONFIG=$BATS_TEST_TMPDIR/dc run_status 0 oci-put -v blob --cacert "$TEST_CA" \
		"$host/conc/a" "$BATS_TEST_TMPDIR/1" "$BATS_TEST_TMPDIR/2" "$FIX/rand"
	[ "$(grep -c '> HEAD ' <<<"$output")" -ge 3 ]
	[ "$(tcp_proxy_connections P)" = $((before + 1)) ]
	grep -q '"HEAD /v2/conc/a/blobs/[^ ]* HTTP/2.0"' "$TOK_LOG"
}

@test "a stream alone goes over HTTP/1.1 (Go's HTTP/2 lets 1 MiB through per round trip), one connection" {
	head -c 6000000 /dev/urandom >"$BATS_TEST_TMPDIR/s"
	host=localhost:${P_HOST##*:}
	mkdir -p "$BATS_TEST_TMPDIR/dc"
	auth=$(printf '%s:%s' "$TEST_USER" "$TEST_PASS" | base64 -w0)
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$host" "$auth" >"$BATS_TEST_TMPDIR/dc/config.json"
	before=$(tcp_proxy_connections P)
	DOCKER_CONFIG=$BATS_TEST_TMPDIR/dc run_status 0 oci-put blob --cacert "$TEST_CA" \
		"$host/h1/a" - <"$BATS_TEST_TMPDIR/s"
	[ "$output" = "sha256:$(sha256sum <"$BATS_TEST_TMPDIR/s" | cut -d' ' -f1)" ]
	[ "$(tcp_proxy_connections P)" = $((before + 1)) ]
	grep -q '"POST /v2/h1/a/blobs/uploads/ HTTP/1.1"' "$TOK_LOG"
	grep -q '"PUT /v2/h1/a/blobs/uploads/[^ ]* HTTP/1.1" 201' "$TOK_LOG"
	if grep -q '"[A-Z]* /v2/h1/a/[^ ]* HTTP/2.0"' "$TOK_LOG"; then false; fi
}
