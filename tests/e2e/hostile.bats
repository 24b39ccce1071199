#!/usr/bin/env bats
# A registry that tries to get more out of its clients than it should (tests/lib/
# hostile_registry.py): what leaves the process is what each test asserts: the headers another
# port or scheme receives, the exit status and the message.
# shellcheck disable=SC2030,SC2031 # each test is a subshell: its exports are its own
load ../lib/common
load ../lib/registry
load ../lib/registry_extra
load ../lib/hostile

setup_file() {
	hostile_start H
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX/dc"
	head -c 100000 /dev/urandom >"$FIX/blob"
	BLOB=sha256:$(sha256sum "$FIX/blob" | cut -d' ' -f1)
	export BLOB
	cp "$FIX/blob" "$H_DIR/${BLOB#sha256:}"
	# Basic credentials for the registry (and for its token servers)
	printf '{"auths":{"%s":{"username":"u","password":"Pw-s3cret"}}}' "$H_HOST" >"$FIX/dc/config.json"
	export DOCKER_CONFIG=$FIX/dc
	export HOME=$BATS_FILE_TMPDIR/home
	mkdir -p "$HOME"
	unset REGISTRY_AUTH_FILE XDG_RUNTIME_DIR SSL_CERT_FILE
}

teardown_file() {
	registry_stop_all
}

# The log's length before the test ran: what came later is the test's.
log_mark() { MARK=$(wc -l <"$H_LOG"); }

# Since log_mark the other side got the request, without any Authorization.
no_credentials_elsewhere() { # LISTENER SCHEME METHOD PATH_REGEX
	local got
	got=$(awk -v l="$1" -v s="$2" -v m="$3" -v p="^($4)\$" -v from="$MARK" \
		'NR > from && $1 == l && $2 == s && $3 == m && $4 ~ p' "$H_LOG")
	[ -n "$got" ] || {
		echo "no $3 $4 reached $1 over $2" >&2
		cat "$H_LOG" >&2
		return 1
	}
	if grep -v ' auth=- ' <<<"$got" | grep -q .; then
		echo "credentials reached $1 over $2:" >&2
		echo "$got" >&2
		return 1
	fi
	if grep -i 'authorization' <<<"$got"; then return 1; fi
}

fetch_redirected() { # KIND MODE LISTENER SCHEME
	cd "$BATS_TEST_TMPDIR" || return
	log_mark
	run_status 0 oci-fetch --cacert "$TEST_CA" --blob "$BLOB" -o out "$H_HOST/$1-$2/r"
	cmp out "$FIX/blob"
	[ "$(hostile_requests H main GET "/v2/$1-$2/r/blobs/$BLOB" "${1^}")" -ge 1 ]
	no_credentials_elsewhere "$3" "$4" GET "/storage/${BLOB#sha256:}"
}

upload_elsewhere() { # KIND MODE LISTENER SCHEME
	cd "$BATS_TEST_TMPDIR" || return
	head -c 5000 /dev/urandom >small
	want=sha256:$(sha256sum small | cut -d' ' -f1)
	log_mark
	run_status 0 oci-put blob --cacert "$TEST_CA" "$H_HOST/$1-$2/r" small
	[ "$output" = "$want" ]
	cmp small "$H_DIR/${want#sha256:}"
	[ "$(hostile_requests H main POST "/v2/$1-$2/r/blobs/uploads/" "${1^}")" -ge 1 ]
	no_credentials_elsewhere "$3" "$4" PUT "/upload/[0-9a-f]+"
}

@test "a blob GET redirected to another port of the registry's host gets no Basic credentials" {
	fetch_redirected basic port other https
}

@test "a blob GET redirected to another port of the registry's host gets no Bearer token" {
	fetch_redirected bearer port other https
}

@test "a blob GET redirected from https to http on the same host and port gets no Basic credentials" {
	fetch_redirected basic scheme main http
}

@test "a blob GET redirected from https to http on the same host and port gets no Bearer token" {
	fetch_redirected bearer scheme main http
}

@test "an upload Location on another port of the registry's host gets no Basic credentials" {
	upload_elsewhere basic port other https
}

@test "an upload Location on another port of the registry's host gets no Bearer token" {
	upload_elsewhere bearer port other https
}

@test "an upload Location from https to http on the same host and port gets no Basic credentials" {
	upload_elsewhere basic scheme main http
}

@test "an upload Location from https to http on the same host and port gets no Bearer token" {
	upload_elsewhere bearer scheme main http
}

@test "a token holding CR LF is refused: no injected header reaches the registry" {
	log_mark
	run_status 1 oci-fetch --cacert "$TEST_CA" --blob "$BLOB" -o "$BATS_TEST_TMPDIR/out" "$H_HOST/crlf/r"
	[[ $output == *"$H_HOST/crlf/r: "*"HTTP 401"*"token server https://$H_HOST/token?crlf=1: the token holds a control character (refused)"* ]]
	[[ $output != *X-Injected* ]]
	[ "$(awk -v from="$MARK" 'NR > from && /X-Injected/' "$H_LOG")" = "" ]
	[ "$(awk -v from="$MARK" 'NR > from && $3 == "GET" && $4 == "/token"' "$H_LOG" | wc -l)" -ge 1 ]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
}

@test "credentials holding a control character (a file's, a helper's) are refused, never sent" {
	cd "$BATS_TEST_TMPDIR" || return
	mkdir dc
	printf '{"auths":{"%s":{"username":"u","password":"Pw\\r\\nX-Injected: yes"}}}' "$H_HOST" >dc/config.json
	log_mark
	DOCKER_CONFIG=$PWD/dc run_status 1 oci-fetch --cacert "$TEST_CA" --blob "$BLOB" -o out "$H_HOST/basic-port/r"
	[[ $output == *"$H_HOST: credentials: $PWD/dc/config.json: the password for $H_HOST holds a control character (refused)"* ]]
	[[ $output == *"HTTP 401"* ]]
	[[ $output != *X-Injected* ]]
	[ "$(hostile_requests H main GET "/v2/basic-port/r/blobs/$BLOB" Basic)" = 0 ]
	# a credential helper's answer
	make_cred_helper "$PWD/bin" evil u 'Pw\r\nX-Injected: yes'
	printf '{"credHelpers":{"%s":"evil"}}' "$H_HOST" >dc/config.json
	PATH=$PWD/bin:$PATH DOCKER_CONFIG=$PWD/dc run_status 1 oci-fetch --cacert "$TEST_CA" --blob "$BLOB" -o out "$H_HOST/basic-port/r"
	[[ $output == *"docker-credential-evil: the password for $H_HOST holds a control character (refused)"* ]]
	[[ $output != *X-Injected* ]]
	[ "$(hostile_requests H main GET "/v2/basic-port/r/blobs/$BLOB" Basic)" = 0 ]
	[ ! -e out ]
}

@test "an HTTPS registry naming a plain-HTTP token realm elsewhere is refused: no credentials in clear text" {
	run_status 1 oci-put blob --cacert "$TEST_CA" "$H_HOST/realm-far/r" "$BLOB"
	[[ $output == *"$H_HOST/realm-far/r: HEAD $BLOB: HTTP 401"*"token server http://registry.invalid/token: not HTTPS: it would get the credentials in clear text (refused; --insecure allows it)"* ]]
	[[ $output != *Pw-s3cret* ]]
}

@test "a plain-HTTP token realm on loopback is used, as Docker does" {
	log_mark
	run_status 0 oci-put blob --cacert "$TEST_CA" "$H_HOST/realm-loop/r" "$BLOB"
	[ "$output" = "$BLOB" ]
	[ "$(awk -v from="$MARK" 'NR > from && $1 == "main" && $2 == "http" && $4 == "/token"' "$H_LOG" | wc -l)" = 1 ]
	[ "$(hostile_requests H main HEAD "/v2/realm-loop/r/blobs/$BLOB" Bearer)" = 1 ]
}

# The top of one of the registry's index chains (len-N) or wide indexes (wide-N) into FILE.
hostile_top() { # TAG FILE
	curl -sf --cacert "$TEST_CA" -o "$2" "https://$H_HOST/v2/chain/r/manifests/$1"
}

@test "an index chain 4 levels deep is copied; every index is in the layout" {
	cd "$BATS_TEST_TMPDIR" || return
	hostile_top len-4 top.json
	run_status 0 oci-put manifest --cacert "$TEST_CA" --from "$H_HOST/chain/r" oci:out:t top.json
	[ "$(find out/blobs/sha256 -type f | wc -l)" = 4 ]
	# each one's own digest
	for f in out/blobs/sha256/*; do
		[ "sha256:$(sha256sum "$f" | cut -d' ' -f1)" = "sha256:${f##*/}" ]
	done
}

@test "an index chain deeper than 4 levels is refused with the index named, also 20000 deep (no crash)" {
	cd "$BATS_TEST_TMPDIR" || return
	for n in 5 20000; do
		hostile_top "len-$n" top.json
		run_status 1 oci-put manifest --cacert "$TEST_CA" --from "$H_HOST/chain/r" oci:out:t top.json
		[[ $output == *"oci:out:t: index sha256:"*": documents nested more than 4 levels deep (refused)"* ]]
		[ "$(jq -r '.manifests | length' out/index.json)" = 0 ]
	done
}

@test "an index of more than 10000 documents is refused before any is fetched" {
	cd "$BATS_TEST_TMPDIR" || return
	hostile_top wide-10001 top.json
	log_mark
	run_status 1 oci-put manifest --cacert "$TEST_CA" --from "$H_HOST/chain/r" oci:out:t top.json
	[[ $output == *"oci:out:t: index sha256:$(sha256sum top.json | cut -d' ' -f1): more than 10000 documents in all (refused)"* ]]
	[ "$(hostile_requests H main GET '/v2/chain/r/manifests/sha256:[0-9a-f]+')" = 0 ]
}
