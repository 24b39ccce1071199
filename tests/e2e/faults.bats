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

@test "a dropped PATCH of a file resumes or restarts; past the stream buffer a stream exits 75 with its digest" {
	d=$(sha "$FIX/stream")
	fault_proxy_rules FP 'PATCH /blobs/uploads/ drop=2000000'
	run_status 0 oci-put blob "$FP_HOST/drop/file" "$FIX/stream"
	[ "$output" = "$d" ]
	reg_has_blob REG drop/file "$d"
	# distribution cancels an upload whose PATCH broke off after writing, so a stream that
	# broke beyond its first 16 MiB cannot be finished: it is read to its end for its digest,
	# printed on stdout, and exit 75 asks for the same bytes again
	fault_proxy_rules FP 'PATCH /blobs/uploads/ drop=20000000'
	oci-put blob "$FP_HOST/drop/late" - <"$FIX/stream" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || rc=$?
	cat "$BATS_TEST_TMPDIR/err"
	[ "${rc:-0}" = 75 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$d" ]
	grep -q "$FP_HOST/drop/late: uploading stdin:.*no longer held" "$BATS_TEST_TMPDIR/err"
	grep -qx "oci-put: $FP_HOST/drop/late: stdin cannot be sent on from where its upload broke off; send the same 24000000 bytes again with --expect $d" "$BATS_TEST_TMPDIR/err"
	if reg_has_blob REG drop/late "$d"; then false; fi
	# other bytes with --expect: exit 65, nothing stored
	run_status 65 oci-put blob --expect "$d" "$FP_HOST/drop/late" - < <(head -c 23999999 "$FIX/stream"; echo)
	[[ ${lines[-1]} == "oci-put: $FP_HOST/drop/late: uploading stdin: digest mismatch: the bytes hash to sha256:"*", not $d" ]]
	run_status 65 oci-put blob --expect "$d" "$FP_HOST/drop/late" - <"$FIX/small"
	[ "$output" = "oci-put: $FP_HOST/drop/late: stdin: digest mismatch: the bytes hash to $(sha "$FIX/small"), not the expected $d" ]
	if reg_has_blob REG drop/late "$d"; then false; fi
	# the same bytes again with --expect: sent (HEAD first: it is not there)
	before=$(fault_proxy_requests FP HEAD "/v2/drop/late/blobs/$d" 404)
	run_status 0 oci-put blob --expect "$d" "$FP_HOST/drop/late" - <"$FIX/stream"
	[ "$output" = "$d" ]
	[ "$(fault_proxy_requests FP HEAD "/v2/drop/late/blobs/$d" 404)" = $((before + 1)) ]
	oci-fetch --blob "$d" "$REG_HOST/drop/late" | cmp - "$FIX/stream"
	# and once it is there, the stream is read and checked, not sent
	patches=$(fault_proxy_requests FP PATCH /v2/drop/late/)
	run_status 0 oci-put blob --expect "$d" "$FP_HOST/drop/late" - <"$FIX/stream"
	[ "$output" = "$d" ]
	[ "$(fault_proxy_requests FP PATCH /v2/drop/late/)" = "$patches" ]
	run_status 65 oci-put blob --expect "$d" "$FP_HOST/drop/late" - <"$FIX/small"
	# --expect is for a stream, and takes a digest
	run_status 2 oci-put blob --expect sha256:12 "$FP_HOST/drop/late" - </dev/null
	[[ ${lines[0]} == "oci-put: --expect sha256:12: not a sha256 digest (sha256:<64 hex>)" ]]
	run_status 2 oci-put blob --expect "$(sha "$FIX/small")" "$FP_HOST/drop/late" "$FIX/small"
	[[ ${lines[0]} == "oci-put: --expect $(sha "$FIX/small"): is for a stream (-)" ]]
	run_status 2 oci-put manifest --expect "$(sha "$FIX/small")" "$FP_HOST/drop/late" "$FIX/m.json"
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

# Milliseconds since $1 (an $EPOCHREALTIME).
ms_since() { echo $(((${EPOCHREALTIME/./} - ${1/./}) / 1000)); }

@test "a response trickling a byte a second is cut by its deadline, and the run ends within its bound" {
	# today's no-progress timeout would never fire: each byte is progress
	fault_proxy_rules FP 'GET /manifests/ trickle=1 times=always'
	before=$(registry_requests REG GET '^/v2/base/bb/manifests/v1$')
	start=$EPOCHREALTIME
	OCINOCO_TIMEOUT=1 OCINOCO_MAX_WAIT=1 run_status 1 oci-fetch --digest "$FP_HOST/base/bb:v1"
	took=$(ms_since "$start")
	echo "# ended in $took ms" >&3
	[ "$took" -lt 12000 ]
	[[ ${lines[-1]} == "oci-fetch: $FP_HOST/base/bb:v1: GET http://$FP_HOST/v2/base/bb/manifests/v1: cut after "[12]" s for "[0-9]*" bytes: a request may take 1 s plus 1 s per 10240 bytes (OCINOCO_TIMEOUT, OCINOCO_MIN_RATE) (not retried: waiting 1 s more would pass the 1 s a run may wait for retries, OCINOCO_MAX_WAIT)" ]]
	# tried, then again after 0.25 s and 0.5 s of back-off; the next 1 s would pass the bound
	[ "$(registry_requests REG GET '^/v2/base/bb/manifests/v1$')" = $((before + 3)) ]
}

@test "Retry-After: 999999 on every try: the run stops at its bound on waiting, with the reason" {
	fault_proxy_rules FP 'HEAD /blobs/ status=429 retry-after=999999 times=always'
	start=$EPOCHREALTIME
	OCINOCO_MAX_WAIT=3 run_status 1 oci-put blob "$FP_HOST/ra/a" "$FIX/small"
	took=$(ms_since "$start")
	[ "$took" -lt 3000 ] # one Retry-After (capped at 60 s) would pass the 3 s: not waited for
	[ "${lines[-1]}" = "oci-put: $FP_HOST/ra/a: HEAD $(sha "$FIX/small"): HTTP 429 (not retried: waiting 60 s more would pass the 3 s a run may wait for retries, OCINOCO_MAX_WAIT)" ]
	[ "$(fault_proxy_requests FP HEAD '/v2/ra/a/blobs/' 429)" = 1 ]
	# the waits of every retry of the run add up: 1 s + 1 s, and a third would pass 2.5 s
	fault_proxy_rules FP 'HEAD /blobs/ status=503 retry-after=1 times=always'
	start=$EPOCHREALTIME
	OCINOCO_MAX_WAIT=2.5 run_status 2 oci-put blob "$FP_HOST/ra/b" "$FIX/small"
	[ "$output" = "oci-put: OCINOCO_MAX_WAIT=2.5: not a number of seconds (at most 86400)" ]
	OCINOCO_MAX_WAIT=2 run_status 1 oci-put blob "$FP_HOST/ra/b" "$FIX/small"
	took=$(ms_since "$start")
	[ "$took" -ge 2000 ] && [ "$took" -lt 5000 ]
	[ "$(fault_proxy_requests FP HEAD '/v2/ra/b/blobs/' 503)" = 3 ]
	[[ ${lines[-1]} == *"HTTP 503 (not retried: waiting 1 s more would pass the 2 s a run may wait for retries, OCINOCO_MAX_WAIT)" ]]
}
