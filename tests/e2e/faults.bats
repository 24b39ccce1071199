#!/usr/bin/env bats
# Transient faults are retried and recover; permanent ones fail clearly with nothing tagged.
# A fault-injecting proxy sits between the tools and a plain registry.
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra

setup_file() {
	registry_start REG plain
	fault_proxy_start FP "$REG_HOST"
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_busybox_layout "$FIX/bb" oci
	push_layout "$FIX/bb" "$REG_HOST/base/bb:v1" REG
	oci-fetch "$REG_HOST/base/bb:v1" >"$FIX/m.json"
	head -c 24000000 /dev/urandom >"$FIX/stream"
	head -c 300000 /dev/urandom >"$FIX/small"
	export OCINOCO_TIMEOUT=2
}

teardown_file() {
	registry_stop_all
}

sha() { echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"; }

@test "500s are retried until the registry answers" {
	fault_proxy_rules FP 'GET /manifests/ status=500 times=2'
	run_status 0 oci-fetch --digest "$FP_HOST/base/bb:v1"
	[ "$output" = "$(sha "$FIX/m.json")" ]
	[ "$(fault_proxy_requests FP GET '/v2/base/bb/manifests/v1' 500)" = 2 ]
	[ "$(fault_proxy_requests FP GET '/v2/base/bb/manifests/v1' 200)" = 1 ]
}

@test "a 429 with Retry-After is waited for" {
	fault_proxy_rules FP 'HEAD /blobs/ status=429 retry-after=1'
	start=$(date +%s%N)
	run_status 0 oci-put blob "$FP_HOST/r429/a" "$FIX/small"
	end=$(date +%s%N)
	[ "$output" = "$(sha "$FIX/small")" ]
	[ "$(fault_proxy_requests FP HEAD '/v2/r429/a/blobs/' 429)" = 1 ]
	[ $(((end - start) / 1000000)) -ge 1000 ]
}

@test "a connection dropped in the middle of the PATCH: the stream upload starts again" {
	fault_proxy_rules FP 'PATCH /blobs/uploads/ drop=3000000'
	run_status 0 oci-put -v blob "$FP_HOST/drop/a" - <"$FIX/stream"
	grep -qx "$(sha "$FIX/stream")" <<<"$output"
	[[ $output == *"restarting the upload from byte 0"* ]]
	[ "$(fault_proxy_requests FP PATCH '/v2/drop/a/blobs/uploads/' dropped)" = 1 ]
	[ "$(fault_proxy_requests FP PATCH '/v2/drop/a/blobs/uploads/' 202)" = 1 ]
	oci-fetch --blob "$(sha "$FIX/stream")" "$REG_HOST/drop/a" | cmp - "$FIX/stream"
}

@test "a dropped PATCH of a file resumes or restarts; past the stream buffer a stream fails clearly" {
	fault_proxy_rules FP 'PATCH /blobs/uploads/ drop=2000000'
	run_status 0 oci-put blob "$FP_HOST/drop/file" "$FIX/stream"
	[ "$output" = "$(sha "$FIX/stream")" ]
	reg_has_blob REG drop/file "$(sha "$FIX/stream")"
	# distribution cancels an upload whose PATCH broke off after writing, so a stream that
	# broke beyond its first 16 MiB cannot be finished
	fault_proxy_rules FP 'PATCH /blobs/uploads/ drop=20000000'
	run_status 1 oci-put blob "$FP_HOST/drop/late" - <"$FIX/stream"
	[[ $output == *"$FP_HOST/drop/late: uploading stdin:"*"no longer held"* ]]
	if reg_has_blob REG drop/late "$(sha "$FIX/stream")"; then false; fi
}

@test "a slow response times out and the retry recovers" {
	fault_proxy_rules FP 'GET /manifests/ delay=5'
	start=$(date +%s)
	OCINOCO_TIMEOUT=1 run_status 0 oci-fetch --digest "$FP_HOST/base/bb:v1"
	[ "$output" = "$(sha "$FIX/m.json")" ]
	[ $(($(date +%s) - start)) -lt 5 ]
}

@test "a permanent fault: a clear error, exit 1, and no tag in the registry" {
	layer=$(jq -r '.layers[0].digest' "$FIX/m.json")
	fault_proxy_rules FP 'PUT /manifests/ status=500 times=always'
	run_status 1 oci-put manifest --from "$REG_HOST/base/bb:v1" "$FP_HOST/perm/bb:v1" "$FIX/m.json"
	[ "${lines[-1]}" = "oci-put: $FP_HOST/perm/bb:v1: PUT manifest: HTTP 500 UNKNOWN: injected fault" ] ||
		[[ ${lines[-1]} == "oci-put: $FP_HOST/perm/bb:v1: PUT manifest: HTTP 500"* ]]
	[ "$(fault_proxy_requests FP PUT '/v2/perm/bb/manifests/v1' 500)" = 6 ]
	[ -z "$(reg_tags REG perm/bb)" ]
	reg_has_blob REG perm/bb "$layer"
}

@test "a registry that refuses the one big PATCH (413) gets the blob in chunks" {
	fault_proxy_rules FP 'PATCH /blobs/uploads/ status=413'
	run_status 0 oci-put -v blob "$FP_HOST/chunks/a" "$FIX/stream"
	grep -qx "$(sha "$FIX/stream")" <<<"$output"
	[[ $output == *"uploading in chunks of 8388608 bytes"* ]]
	[[ $output == *"Content-Range: 0-8388607"* ]]
	[ "$(fault_proxy_requests FP PATCH '/v2/chunks/a/blobs/uploads/' 202)" = 3 ]
	oci-fetch --blob "$(sha "$FIX/stream")" "$REG_HOST/chunks/a" | cmp - "$FIX/stream"
}

@test "a stream the registry refuses in one PATCH (413) goes in chunks from its buffer" {
	# 12 MB, the second half after a pause: the PATCH starts before the stream ends (the proxy
	# reads all of it before it answers 413, so it must fit the 16 MiB kept for a restart)
	head -c 12000000 "$FIX/stream" >"$BATS_TEST_TMPDIR/s"
	fault_proxy_rules FP 'PATCH /blobs/uploads/ status=413'
	OCINOCO_TIMEOUT=30 run_status 0 oci-put -v blob "$FP_HOST/chunks/s" - < <(head -c 6000000 "$BATS_TEST_TMPDIR/s"
		sleep 2
		tail -c +6000001 "$BATS_TEST_TMPDIR/s")
	grep -qx "$(sha "$BATS_TEST_TMPDIR/s")" <<<"$output"
	[[ $output == *"uploading in chunks of 8388608 bytes"* ]]
	[ "$(fault_proxy_requests FP PATCH '/v2/chunks/s/blobs/uploads/' 413)" = 1 ]
	[ "$(fault_proxy_requests FP PATCH '/v2/chunks/s/blobs/uploads/' 202)" = 2 ]
	oci-fetch --blob "$(sha "$BATS_TEST_TMPDIR/s")" "$REG_HOST/chunks/s" | cmp - "$BATS_TEST_TMPDIR/s"
}
