#!/usr/bin/env bats
# ocinoco build when a stage fails: a missing DIR, a base that is not there, bad credentials,
# a registry that goes down after the layer upload, oci-tar failing in the middle of the layer,
# ^C and SIGTERM. Every time: the stage's message, exit 1 (130/143 for the signals), no tag in
# the registry (asked with curl), no temporary file, no process left.
# shellcheck disable=SC2154 # status and output are set by bats' run
bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra
load ../lib/build

setup_file() {
	unset SOURCE_DATE_EPOCH
	registry_start REG plain
	registry_start SEC tls-token
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_app "$FIX/app"
	make_busybox_layout "$FIX/bb" oci
	push_layout "$FIX/bb" "$REG_HOST/base/bb:latest"
	# credentials for SEC that its token server refuses
	mkdir -p "$FIX/badcreds"
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$SEC_HOST" \
		"$(printf '%s:wrong-password' "$TEST_USER" | base64 -w0)" >"$FIX/badcreds/config.json"
	# a tree whose layer is ~48 MB whatever the compression: far past the 16 MiB oci-put holds
	mkdir -p "$FIX/big"
	head -c 48000000 /dev/urandom >"$FIX/big/b-big"
}

teardown_file() {
	registry_stop_all
}

setup() {
	unset SOURCE_DATE_EPOCH
	T=$BATS_TEST_TMPDIR
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
}

# Fails unless repository $2 of registry $1 has no tag and got no manifest PUT.
no_tag() {
	[ -z "$(reg_tags "$1" "$2")" ] || { echo "tags in $2: $(reg_tags "$1" "$2")" >&2; return 1; }
	[ "$(registry_requests "$1" PUT "^/v2/$2/manifests/")" = 0 ]
}

# Fails if a process of this build (its command line names $1) is still running.
no_process() {
	local left
	if left=$(pgrep -af -- "$1"); then
		echo "still running: $left" >&2
		return 1
	fi
}

@test "a missing DIR: the message, exit 1, not a request to the registry, no temporary" {
	run_status 1 ocinoco build "$T/nope" --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/f/nodir:latest" --push
	[ "$output" = "ocinoco: build: $T/nope: No such file or directory" ]
	[ "$(registry_requests REG '[A-Z]+' '^/v2/f/nodir/')" = 0 ]
	only_names "$TMPDIR"
	echo x >"$T/file"
	run_status 1 ocinoco build "$T/file" --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/f/nodir:latest" --push
	[ "$output" = "ocinoco: build: $T/file: Not a directory" ]
}

@test "a base that is not there: oci-fetch's message, exit 1, no tag, no temporary" {
	run_status 1 ocinoco build "$FIX/app" --from "$REG_HOST/base/nope:latest" --tag "$REG_HOST/f/nobase:latest" \
		--push --digest-file "$T/digest"
	[[ $output == *"oci-fetch: $REG_HOST/base/nope:latest: HTTP 404 MANIFEST_UNKNOWN"* ]]
	[[ $output == *"ocinoco: build: cannot read the base image $REG_HOST/base/nope:latest: nothing pushed"* ]]
	no_tag REG f/nobase
	only_names "$TMPDIR"
	only_names "$T" tmp
}

@test "bad credentials for the target: the 401, exit 1, no tag" {
	DOCKER_CONFIG=$FIX/badcreds run_status 1 ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" \
		--tag "$SEC_HOST/f/creds:latest" --cacert "$TEST_CA" --push
	[[ $output == *"oci-put: "*"401"* ]]
	[[ $output == *"ocinoco: build: the layer of $FIX/app failed ("*"oci-put exit 1): nothing pushed"* ]]
	no_tag SEC f/creds
	only_names "$TMPDIR"
}

@test "bad credentials for a second --tag's registry: no tag is pushed, not even the first" {
	mkdir -p "$T/docker"
	cp "$FIX/badcreds/config.json" "$T/docker/config.json"
	DOCKER_CONFIG=$T/docker run_status 1 ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" \
		--tag "$REG_HOST/f/first:latest" --tag "$SEC_HOST/f/second:latest" --cacert "$TEST_CA" --push
	[[ $output == *"oci-put: "*"401"* ]]
	[[ $output == *"ocinoco: build: oci-put manifest failed: nothing pushed"* ]]
	no_tag REG f/first
	no_tag SEC f/second
	only_names "$TMPDIR"
}

@test "the registry goes down after the layer upload: oci-put's message, exit 1, no tag, no temporary" {
	# the build's first request after the layer upload is held a moment; meanwhile every
	# request starts failing with 503 (answered at once, so the retries are quick)
	fault_proxy_start FP "$REG_HOST" 'POST mount= delay=2 times=1'
	ocinoco build "$FIX/app" --from "$FP_HOST/base/bb:latest" --tag "$FP_HOST/f/down:latest" --push \
		>"$T/out" 2>&1 3>&- &
	pid=$!
	wait_for at_least_one fault_proxy_requests FP PUT '^/v2/f/down/blobs/uploads/.*digest=' 201
	fault_proxy_rules FP '* . status=503 retry-after=0 times=always'
	rc=0
	wait "$pid" || rc=$?
	cat "$T/out"
	[ "$rc" = 1 ]
	[[ $(cat "$T/out") == *"oci-put: $FP_HOST/f/down:latest: "*"HTTP 503"* ]]
	[[ $(cat "$T/out") == *"ocinoco: build: oci-put manifest failed: nothing pushed"* ]]
	[ "$(fault_proxy_requests FP '[A-Z]+' '^/v2/f/down/' 503)" -ge 1 ]
	fault_proxy_stop FP
	no_tag REG f/down
	only_names "$TMPDIR"
}

# An ocinoco in $T/bin whose oci-put writes its pid to $T/put-pids first (the others are the
# build tree's).
put_recording_ocinoco() {
	local p real
	mkdir -p "$T/bin"
	real=$(command -v oci-put)
	cp "$(command -v ocinoco)" "$T/bin/ocinoco"
	for p in oci-tar oci-digest oci-fetch oci-graft oci-cache oci-index; do
		ln -s "$(command -v "$p")" "$T/bin/$p"
	done
	printf '#!/bin/sh\necho $$ >>"%s"\nexec "%s" "$@"\n' "$T/put-pids" "$real" >"$T/bin/oci-put"
	chmod 755 "$T/bin/oci-put"
}

@test "oci-tar fails in the middle of the layer: its message, exit 1, no tag, no blob PUT, its oci-put (started with the fetch of the previous image) stopped" {
	mkdir -p "$T/src"
	head -c 3000000 /dev/urandom >"$T/src/a-big" # streamed before the failure is met
	echo secret >"$T/src/b-locked"
	chmod 000 "$T/src/b-locked"
	put_recording_ocinoco
	# without the capabilities that let root read any file
	run_status 1 setpriv --bounding-set=-dac_override,-dac_read_search \
		--inh-caps=-dac_override,-dac_read_search -- \
		"$T/bin/ocinoco" build "$T/src" --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/f/tar:latest" --push
	[[ $output == *"oci-tar: $T/src/b-locked: Permission denied"* ]]
	[[ $output == *"ocinoco: build: the layer of $T/src failed (oci-tar exit 1, oci-digest exit 1): nothing pushed"* ]]
	[[ $output != *Terminated* ]] # its stop is not said
	no_tag REG f/tar
	# the layer's upload had its session open, and sent nothing of what it held (the early
	# oci-put manifest, its tag absent, may have opened the config's too: nothing sent on it)
	local sessions
	sessions=$(registry_requests REG POST '^/v2/f/tar/blobs/uploads/$' 202)
	[ "$sessions" -ge 1 ] && [ "$sessions" -le 2 ]
	[ "$(registry_requests REG 'PUT|PATCH' '^/v2/f/tar/blobs/')" = 0 ]
	# the layer's oci-put blob and the oci-put manifest started with the build, both gone
	[ "$(wc -l <"$T/put-pids")" = 2 ]
	local p
	while read -r p; do
		run_status 1 kill -0 "$p"
	done <"$T/put-pids"
	only_names "$TMPDIR"
}

@test "SIGTERM in the middle of the layer upload: exit 143 at once, the programs stopped, no tag, no temporary" {
	fault_proxy_start FP "$REG_HOST" 'PUT /v2/f/term/blobs/uploads/ delay=5 times=1'
	ocinoco build "$FIX/app" --from "$FP_HOST/base/bb:latest" --tag "$FP_HOST/f/term:latest" --push \
		--digest-file "$T/digest" >"$T/out" 2>&1 3>&- &
	pid=$!
	wait_for at_least_one fault_proxy_requests FP POST '^/v2/f/term/blobs/uploads/$' 202
	sleep 0.2 # the PUT with the layer is on its way, held by the proxy
	pgrep -f -- "oci-put blob --if-not-empty (--hold [^ ]* )?$FP_HOST/f/term:latest -" >/dev/null # the upload is running
	start=$EPOCHREALTIME
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	took_ms=$(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
	cat "$T/out"
	[ "$rc" = 143 ]
	echo "# stopped in $took_ms ms" >&3
	[ "$took_ms" -lt 3000 ] # long before the proxy lets the upload go on
	no_process "$FP_HOST/f/term"
	fault_proxy_stop FP
	no_tag REG f/term
	only_names "$TMPDIR"
	only_names "$T" tmp out
}

@test "^C while --output FILE.tar is being made: exit 130, no FILE, nothing left next to it" {
	fault_proxy_start FP "$REG_HOST" 'GET /v2/base/bb/manifests/ delay=5 times=1'
	mkdir "$T/out"
	# a shell started in the background ignores SIGINT; env gives the build the default back
	env --default-signal=INT ocinoco build "$FIX/app" --from "$FP_HOST/base/bb:latest" \
		--tag "$REG_HOST/f/int:latest" --output "$T/out/img.tar" >"$T/log" 2>&1 3>&- &
	pid=$!
	# the layer is in the partial layout next to FILE while the base's manifest is held
	wait_for compgen -G "$T/out/.img.tar.ocinoco-*/blobs/sha256/*" >/dev/null
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	cat "$T/log"
	[ "$rc" = 130 ]
	no_process "$T/out/"
	no_process "$FP_HOST/base/bb"
	fault_proxy_stop FP
	only_names "$T/out"
	only_names "$TMPDIR"
}

# The digest of DIR's layer, as a build with the default options makes it.
layer_of() { oci-tar "$1" | oci-digest 2>/dev/null | sha256sum | sed 's/^/sha256:/; s/ .*//'; }

@test "a cut deep into a big streamed layer: the layer is made again from the tree and sent again" {
	# the registry sees the partial body (and, being distribution, cancels the upload)
	fault_proxy_start FPD "$REG_HOST" 'PATCH /v2/f/deep/blobs/uploads/ drop=30000000'
	start=$EPOCHREALTIME
	run_status 0 ocinoco build "$FIX/big" --from "$FPD_HOST/base/bb:latest" --tag "$FPD_HOST/f/deep:latest" --push
	echo "# built in $(((${EPOCHREALTIME/./} - ${start/./}) / 1000)) ms" >&3
	layer=$(layer_of "$FIX/big")
	[[ $output == *"oci-put: $FPD_HOST/f/deep:latest: stdin cannot be sent on from where its upload broke off; send the same "*" bytes again with --expect $layer"* ]]
	[[ $output == *"ocinoco: build: the upload of the layer of $FIX/big broke off past what oci-put holds: making it again ($layer)"* ]]
	grep -qx "$FPD_HOST/f/deep:latest@$(oci-fetch --digest "$REG_HOST/f/deep:latest")" <<<"$output"
	[ "$(fault_proxy_requests FPD PATCH '^/v2/f/deep/blobs/uploads/' dropped)" = 1 ]
	[ "$(fault_proxy_requests FPD PATCH '^/v2/f/deep/blobs/uploads/' 202)" = 1 ]
	[ "$(oci-fetch "$REG_HOST/f/deep:latest" | jq -r '.layers[-1].digest')" = "$layer" ]
	reg_has_blob REG f/deep "$layer"
	fault_proxy_stop FPD
	only_names "$TMPDIR"
}

@test "the tree changes while its layer is uploaded: the replay's other bytes are an error, exit 1, no tag" {
	mkdir "$T/tree"
	echo one >"$T/tree/a-first"
	ln "$FIX/big/b-big" "$T/tree/b-big"
	before=$(layer_of "$T/tree")
	# the cut, then a moment (the upload's status asked for) to change what is already packed
	fault_proxy_start FPC "$REG_HOST" 'PATCH /v2/f/changed/blobs/uploads/ drop=30000000' \
		'GET /v2/f/changed/blobs/uploads/ delay=3'
	ocinoco build "$T/tree" --from "$FPC_HOST/base/bb:latest" --tag "$FPC_HOST/f/changed:latest" --push \
		>"$T/out" 2>&1 3>&- &
	pid=$!
	wait_for at_least_one fault_proxy_requests FPC PATCH '^/v2/f/changed/blobs/uploads/' dropped
	echo two >"$T/tree/a-first"
	rc=0
	wait "$pid" || rc=$?
	cat "$T/out"
	[ "$rc" = 1 ]
	out=$(cat "$T/out")
	[[ $out == *"oci-put: $FPC_HOST/f/changed:latest: uploading stdin: digest mismatch: the bytes hash to $(layer_of "$T/tree"), not $before"* ]]
	[[ $out == *"ocinoco: build: $T/tree changed while its layer was uploaded (the layer made again is not $before)"* ]]
	[[ $out == *"ocinoco: build: the layer of $T/tree failed (oci-tar exit 0, oci-digest exit 0, oci-put exit 65): nothing pushed"* ]]
	fault_proxy_stop FPC
	no_tag REG f/changed
	only_names "$TMPDIR"
}

@test "the registry restarts in the middle of a big layer's upload: the build goes on and succeeds" {
	# the upload slowed to ~16 MB/s so that it is surely in the middle when the registry goes
	fault_proxy_start FPR "$REG_HOST" 'PATCH /v2/f/restart/blobs/uploads/ rate=16000000'
	ocinoco build "$FIX/big" --from "$FPR_HOST/base/bb:latest" --tag "$FPR_HOST/f/restart:latest" --push \
		>"$T/out" 2>&1 3>&- &
	pid=$!
	wait_for compgen -G "$REG_DIR/data/docker/registry/v2/repositories/f/restart/_uploads/*/data" >/dev/null
	big_upload() {
		[ -n "$(find "$REG_DIR/data/docker/registry/v2/repositories/f/restart/_uploads" -name data -size +20M)" ]
	}
	wait_for big_upload
	registry_restart REG
	rc=0
	wait "$pid" || rc=$?
	cat "$T/out"
	[ "$rc" = 0 ]
	layer=$(layer_of "$FIX/big")
	[ "$(oci-fetch "$REG_HOST/f/restart:latest" | jq -r '.layers[-1].digest')" = "$layer" ]
	oci-fetch --blob "$layer" "$REG_HOST/f/restart" | sha256sum | grep -q "^${layer#sha256:} "
	fault_proxy_stop FPR
	only_names "$TMPDIR"
}
