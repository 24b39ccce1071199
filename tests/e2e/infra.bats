#!/usr/bin/env bats
# The registry test infrastructure itself (tests/lib/registry.bash, images.bash, the proxies
# and the token server), checked with independent clients only: skopeo, curl, tar, umoci.
load ../lib/common
load ../lib/registry
load ../lib/images

setup_file() {
	registry_start PLAIN plain
	registry_start BASIC tls-basic
	registry_start TOKEN tls-token
	make_busybox_layout "$BATS_FILE_TMPDIR/bb-docker" docker
	make_busybox_layout "$BATS_FILE_TMPDIR/bb-oci" oci
	make_multiarch_layout "$BATS_FILE_TMPDIR/multi"
	echo '{}' >"$BATS_FILE_TMPDIR/no-auth.json"
}

teardown_file() {
	registry_stop_all
}

new_upload() { # prints the Location of a new upload session in repository "up", via FAULT
	curl -sf -X POST -D - -o /dev/null "$FAULT_URL/v2/up/blobs/uploads/" | tr -d '\r' |
		awk -F': ' 'tolower($1) == "location" { print $2 }'
}

# skopeo with no credentials or certificates from the environment of whoever runs the tests.
sk() {
	REGISTRY_AUTH_FILE=$BATS_FILE_TMPDIR/no-auth.json skopeo "$@"
}

@test "busybox layouts: deterministic, the layer holds busybox and its applets, config runs /bin/sh" {
	local d=$BATS_TEST_TMPDIR cfg layer
	make_busybox_layout "$d/again" oci
	[ "$(layout_digest "$d/again")" = "$(layout_digest "$BATS_FILE_TMPDIR/bb-oci")" ]
	[ "$(layout_digest "$BATS_FILE_TMPDIR/bb-oci")" != "$(layout_digest "$BATS_FILE_TMPDIR/bb-docker")" ]
	m=$BATS_FILE_TMPDIR/bb-docker/blobs/sha256/$(layout_digest "$BATS_FILE_TMPDIR/bb-docker" | cut -d: -f2)
	[ "$(jq -r .mediaType "$m")" = application/vnd.docker.distribution.manifest.v2+json ]
	[ "$(jq -r '.layers[0].mediaType' "$m")" = application/vnd.docker.image.rootfs.diff.tar.gzip ]
	layer=$BATS_FILE_TMPDIR/bb-docker/blobs/sha256/$(jq -r '.layers[0].digest' "$m" | cut -d: -f2)
	cfg=$BATS_FILE_TMPDIR/bb-docker/blobs/sha256/$(jq -r '.config.digest' "$m" | cut -d: -f2)
	run tar -tvzf "$layer"
	[[ $output == *"bin/busybox"* ]]
	[[ $output == *"bin/sh -> busybox"* ]]
	[[ $output == *"bin/stat -> busybox"* ]]
	[ "$(jq -c .config.Cmd "$cfg")" = '["/bin/sh"]' ]
	[ "$(jq -r .architecture "$cfg")" = amd64 ]
	[ "$(jq -r '.rootfs.diff_ids[0]' "$cfg")" = "sha256:$(gzip -dc "$layer" | sha256sum | cut -d' ' -f1)" ]
}

@test "the OCI busybox image runs: umoci unpack, chroot, sh -c" {
	[ "$(id -u)" -eq 0 ] || skip "chroot needs root"
	umoci unpack --rootless --image "$BATS_FILE_TMPDIR/bb-oci:latest" "$BATS_TEST_TMPDIR/bundle" >/dev/null
	# shellcheck disable=SC2016 # expanded by the image's sh
	run chroot "$BATS_TEST_TMPDIR/bundle/rootfs" /bin/sh -c 'echo hello from $(id -u); ls /bin/cat'
	[ "$status" -eq 0 ]
	[ "$output" = "hello from 0
/bin/cat" ]
}

@test "plain: skopeo pushes, inspect reads the same digest back, registry_requests counts uploads" {
	push_layout "$BATS_FILE_TMPDIR/bb-docker" "$PLAIN_HOST/bb:1"
	run_status 0 sk inspect --tls-verify=false --raw "docker://$PLAIN_HOST/bb:1"
	[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$(layout_digest "$BATS_FILE_TMPDIR/bb-docker")" ]
	run_status 0 sk inspect --tls-verify=false --config "docker://$PLAIN_HOST/bb:1"
	[ "$(jq -c .config.Cmd <<<"$output")" = '["/bin/sh"]' ]
	[ "$(registry_requests PLAIN PUT '^/v2/bb/blobs/uploads/' 201)" -eq 2 ]
	[ "$(registry_requests PLAIN PUT '^/v2/bb/manifests/1$' 201)" -eq 1 ]
	[ "$(registry_requests PLAIN 'GET|HEAD' '^/v2/nothing/')" -eq 0 ]
	curl -sf "$PLAIN_URL/v2/bb/tags/list" | jq -e '.tags == ["1"]'
}

@test "tls-basic: needs the CA and the password; multi-platform index round trip" {
	local d
	d=$(layout_digest "$BATS_FILE_TMPDIR/multi")
	push_layout "$BATS_FILE_TMPDIR/multi" "$BASIC_HOST/multi:1"
	run_status 0 sk inspect --raw --cert-dir "$BASIC_CERTDIR" --creds "$TEST_USER:$TEST_PASS" "docker://$BASIC_HOST/multi:1"
	[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$d" ]
	[ "$(jq -r '.manifests[1].platform.variant' <<<"$output")" = v8 ]
	run_status 0 sk inspect --override-arch arm64 --override-variant v8 --config --cert-dir "$BASIC_CERTDIR" \
		--creds "$TEST_USER:$TEST_PASS" "docker://$BASIC_HOST/multi:1"
	[ "$(jq -r .architecture <<<"$output")" = arm64 ]
	run sk inspect --raw --cert-dir "$BASIC_CERTDIR" --no-creds "docker://$BASIC_HOST/multi:1"
	[ "$status" -ne 0 ]
	[[ $output == *unauthorized* ]]
	run sk inspect --raw --creds "$TEST_USER:$TEST_PASS" "docker://$BASIC_HOST/multi:1"
	[ "$status" -ne 0 ]
	[[ $output == *"certificate signed by unknown authority"* ]]
	# raw HTTP: 60 is curl's "peer certificate cannot be authenticated"
	run curl -s "$BASIC_URL/v2/"
	[ "$status" -eq 60 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TEST_CA" "$BASIC_URL/v2/")" = 401 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TEST_CA" -u "$TEST_USER:$TEST_PASS" "$BASIC_URL/v2/")" = 200 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TEST_CA" -u "$TEST_USER:wrong" "$BASIC_URL/v2/")" = 401 ]
	# the certificate names localhost too
	[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TEST_CA" "https://localhost:${BASIC_HOST#*:}/v2/")" = 401 ]
}

@test "tls-token: Bearer flow with scopes; anonymous pull of public/ only; read-only user" {
	push_layout "$BATS_FILE_TMPDIR/bb-oci" "$TOKEN_HOST/public/bb:1"
	push_layout "$BATS_FILE_TMPDIR/bb-oci" "$TOKEN_HOST/private/bb:1"
	grep -q " GET 200 $TEST_USER ocinoco-test-TOKEN repository:public/bb:pull,push" "$TOKEN_TOKEN_LOG"
	run_status 0 sk inspect --raw --cert-dir "$TOKEN_CERTDIR" --no-creds "docker://$TOKEN_HOST/public/bb:1"
	[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$(layout_digest "$BATS_FILE_TMPDIR/bb-oci")" ]
	grep -q " GET 200 anonymous ocinoco-test-TOKEN repository:public/bb:pull$" "$TOKEN_TOKEN_LOG"
	run sk inspect --raw --cert-dir "$TOKEN_CERTDIR" --no-creds "docker://$TOKEN_HOST/private/bb:1"
	[ "$status" -ne 0 ]
	run_status 0 sk inspect --raw --cert-dir "$TOKEN_CERTDIR" --creds "$TEST_RO_USER:$TEST_RO_PASS" "docker://$TOKEN_HOST/private/bb:1"
	run sk copy --dest-cert-dir "$TOKEN_CERTDIR" --dest-creds "$TEST_RO_USER:$TEST_RO_PASS" \
		"oci:$BATS_FILE_TMPDIR/bb-oci" "docker://$TOKEN_HOST/private/other:1"
	[ "$status" -ne 0 ]
	run sk inspect --raw --cert-dir "$TOKEN_CERTDIR" --creds "$TEST_USER:wrong" "docker://$TOKEN_HOST/private/bb:1"
	[ "$status" -ne 0 ]
	grep -q " GET 401 $TEST_USER ocinoco-test-TOKEN repository:private/bb:pull$" "$TOKEN_TOKEN_LOG"
	# the registry's challenge names the realm, service and scope; a token from the server works
	run curl -s -D - -o /dev/null --cacert "$TEST_CA" "$TOKEN_URL/v2/private/bb/tags/list"
	[[ $output == *"Bearer realm=\"$TOKEN_REALM\",service=\"ocinoco-test-TOKEN\",scope=\"repository:private/bb:pull\""* ]]
	tok=$(registry_token TOKEN repository:private/bb:pull)
	curl -sf --cacert "$TEST_CA" -H "Authorization: Bearer $tok" "$TOKEN_URL/v2/private/bb/tags/list" | jq -e '.tags == ["1"]'
	[ "$(token_requests TOKEN 'repository:private/bb:pull$')" -ge 2 ]
	[ "$(token_connections TOKEN)" -ge 1 ]
}

@test "docker_config_for: a docker config.json that skopeo's --authfile accepts" {
	docker_config_for BASIC "$BATS_TEST_TMPDIR/docker"
	docker_config_for TOKEN "$BATS_TEST_TMPDIR/docker"
	jq -e --arg h "$BASIC_HOST" --arg t "$TOKEN_HOST" '.auths | has($h) and has($t)' "$BATS_TEST_TMPDIR/docker/config.json"
	push_layout "$BATS_FILE_TMPDIR/bb-oci" "$BASIC_HOST/authfile:1"
	run_status 0 skopeo inspect --raw --cert-dir "$BASIC_CERTDIR" --authfile "$BATS_TEST_TMPDIR/docker/config.json" \
		"docker://$BASIC_HOST/authfile:1"
}

@test "fault proxy: 500 then 200, 429 with Retry-After, a PATCH cut mid-body, a delay; skopeo pushes through it" {
	local loc blob=$BATS_TEST_TMPDIR/blob
	fault_proxy_start FAULT "$PLAIN_HOST" 'GET ^/v2/$ status=500 times=1' \
		'HEAD /blobs/ status=429 retry-after=1' 'PATCH /blobs/uploads/ drop=100000'
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$FAULT_URL/v2/")" = 500 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$FAULT_URL/v2/")" = 200 ]
	run curl -sI "$FAULT_URL/v2/x/blobs/sha256:$(printf a | sha256sum | cut -d' ' -f1)"
	[[ $output == "HTTP/1.1 429 "*"Retry-After: 1"* ]]
	head -c 300000 /dev/urandom >"$blob"
	loc=$(new_upload)
	[[ $loc == "$FAULT_URL/v2/up/blobs/uploads/"* ]] # rewritten to point at the proxy
	run curl -s -X PATCH -H 'Transfer-Encoding: chunked' -T "$blob" "$loc"
	[ "$status" -ne 0 ] # cut after 100000 bytes
	loc=$(new_upload)
	run curl -s -X PATCH -H 'Transfer-Encoding: chunked' -T "$blob" -D - -o /dev/null "$loc"
	[ "$status" -eq 0 ]
	loc=$(printf '%s\n' "$output" | tr -d '\r' | awk -F': ' 'tolower($1) == "location" { print $2 }')
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$loc&digest=sha256:$(sha256sum <"$blob" | cut -d' ' -f1)")" = 201 ]
	cmp "$blob" <(curl -sf "$FAULT_URL/v2/up/blobs/sha256:$(sha256sum <"$blob" | cut -d' ' -f1)")
	[ "$(fault_proxy_requests FAULT PATCH /blobs/uploads/ dropped)" -eq 1 ]
	[ "$(fault_proxy_requests FAULT PATCH /blobs/uploads/ 202)" -eq 1 ]
	[ "$(fault_proxy_requests FAULT GET '^/v2/$' 500)" -eq 1 ]
	[ "$(registry_requests PLAIN GET '^/v2/$' 500)" -eq 0 ] # never reached the registry

	fault_proxy_rules FAULT 'GET /tags/list delay=1'
	run curl -sf -o /dev/null -w '%{time_total}' "$FAULT_URL/v2/up/tags/list"
	[ "${output%%.*}" -ge 1 ]
	push_layout "$BATS_FILE_TMPDIR/bb-docker" "$FAULT_HOST/via-proxy:1"
	run_status 0 sk inspect --tls-verify=false --raw "docker://$PLAIN_HOST/via-proxy:1"
	[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$(layout_digest "$BATS_FILE_TMPDIR/bb-docker")" ]
	[ "$(fault_proxy_connections FAULT)" -ge 6 ]
	fault_proxy_stop FAULT
}

@test "fault proxy over TLS: a token registry's blob GETs redirected to a storage host get no Authorization" {
	push_layout "$BATS_FILE_TMPDIR/bb-oci" "$PLAIN_HOST/public/bb:1"
	push_layout "$BATS_FILE_TMPDIR/bb-oci" "$TOKEN_HOST/public/bb:1"
	fault_proxy_start --tls STORE "$PLAIN_HOST"
	fault_proxy_start FRONT "$TOKEN_HOST" "GET /v2/public/bb/blobs/sha256: redirect=$STORE_URL times=always"
	[ "$FRONT_MODE" = tls-token ] && [[ $FRONT_URL == https://* ]] && [[ $STORE_URL == https://* ]]
	run_status 0 sk copy --src-cert-dir "$FRONT_CERTDIR" --src-creds "$TEST_USER:$TEST_PASS" \
		"docker://$FRONT_HOST/public/bb:1" "oci:$BATS_TEST_TMPDIR/copy:x"
	[ "$(fault_proxy_requests FRONT GET /blobs/sha256: 307 Bearer)" -eq 2 ] # config and layer
	[ "$(fault_proxy_requests STORE GET /blobs/sha256: 200 -)" -eq 2 ]
	[ "$(fault_proxy_requests STORE '.*' . '' Bearer)" -eq 0 ]
	fault_proxy_stop FRONT
	fault_proxy_stop STORE
}

@test "tcp proxy: TLS passes through, new connections counted, --delay-ms adds latency" {
	tcp_proxy_start TCP "$BASIC_HOST"
	tcp_proxy_start SLOW "$BASIC_HOST" --delay-ms 300
	[ "$(tcp_proxy_connections TCP)" -eq 0 ]
	# one curl, two requests on one kept-alive connection: one TLS handshake
	curl -sf --cacert "$TEST_CA" -u "$TEST_USER:$TEST_PASS" -o /dev/null -o /dev/null \
		"https://$TCP_HOST/v2/" "https://$TCP_HOST/v2/"
	[ "$(tcp_proxy_connections TCP)" -eq 1 ]
	push_layout "$BATS_FILE_TMPDIR/bb-oci" "$TCP_HOST/via-tcp:1" BASIC
	[ "$(tcp_proxy_connections TCP)" -ge 2 ]
	run curl -sf --cacert "$TEST_CA" -u "$TEST_USER:$TEST_PASS" -o /dev/null -w '%{time_total}' "https://$SLOW_HOST/v2/"
	[ "$status" -eq 0 ]
	awk -v t="$output" 'BEGIN { exit !(t >= 0.6 && t < 5) }' # TLS handshake + request: 2 x 300 ms
	tcp_proxy_stop SLOW
	tcp_proxy_stop TCP
}

@test "registry_stop: the registry and its token server are gone, nothing else is touched" {
	registry_start GONE tls-token
	local rpid tpid
	rpid=$(cat "$GONE_DIR/registry.pid")
	tpid=$(cat "$GONE_DIR/token.pid")
	kill -0 "$rpid" && kill -0 "$tpid"
	registry_stop GONE
	run kill -0 "$rpid"
	[ "$status" -ne 0 ]
	run kill -0 "$tpid"
	[ "$status" -ne 0 ]
	run curl -s --cacert "$TEST_CA" "https://$GONE_HOST/v2/"
	[ "$status" -eq 7 ] # connection refused
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$PLAIN_URL/v2/")" = 200 ]
}
