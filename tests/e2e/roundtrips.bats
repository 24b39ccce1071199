#!/usr/bin/env bats
# Round trips against a far registry: the single-request upload (POST ?digest= with the body)
# and its fallback on a registry that refuses it, a tag that points at the manifest already not
# PUT again, and the connections and sequential exchanges of whole builds through a TCP delay
# line (tests/lib/tcp_proxy.py --delay-ms: each sequential exchange costs DELAY more).
# shellcheck disable=SC2154 # status, output are set by bats' run
bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra
load ../lib/build

DELAY_MS=200

setup_file() {
	unset SOURCE_DATE_EPOCH
	registry_start REG plain
	fault_proxy_start FP "$REG_HOST"
	registry_start FAR tls-basic
	tcp_proxy_start NEAR "$FAR_HOST"
	tcp_proxy_start FARP "$FAR_HOST" --delay-ms "$DELAY_MS"
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_app "$FIX/app"
	make_busybox_layout "$FIX/bb" oci
	push_layout "$FIX/bb" "$REG_HOST/base/bb:latest"
	push_layout "$FIX/bb" "$FAR_HOST/base/bb:latest" FAR
	export DOCKER_CONFIG=$FIX/docker
	docker_config_for FAR "$DOCKER_CONFIG"
	docker_config_for NEAR "$DOCKER_CONFIG"
	docker_config_for FARP "$DOCKER_CONFIG"
	export SSL_CERT_FILE=$TEST_CA
}

teardown_file() {
	registry_stop_all
}

sha() { echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"; }

# A config and a manifest naming the base's layers and it, in $BATS_TEST_TMPDIR.
new_manifest() {
	oci-fetch --config-out "$BATS_TEST_TMPDIR/base-config" "$REG_HOST/base/bb:latest" >"$BATS_TEST_TMPDIR/base.json"
	jq -c --arg n "$BATS_TEST_NAME" '.config.Labels.test = $n' "$BATS_TEST_TMPDIR/base-config" |
		tr -d '\n' >"$BATS_TEST_TMPDIR/config"
	jq -c --arg c "$(sha "$BATS_TEST_TMPDIR/config")" --argjson cs "$(stat -c %s "$BATS_TEST_TMPDIR/config")" \
		'.config.digest = $c | .config.size = $cs' "$BATS_TEST_TMPDIR/base.json" | tr -d '\n' >"$BATS_TEST_TMPDIR/m.json"
}

@test "single-request upload: POST ?digest= with the body once the HEAD said missing; CNCF distribution answers 202, the PUT goes on that session" {
	new_manifest
	run_status 0 oci-put blob "$REG_HOST/one/post" "$BATS_TEST_TMPDIR/config"
	run_status 0 oci-put manifest --from "$REG_HOST/base/bb:latest" "$REG_HOST/one/post:v1" "$BATS_TEST_TMPDIR/m.json"
	c=$(sha "$BATS_TEST_TMPDIR/config")
	[ "$(registry_requests REG POST "^/v2/one/post/blobs/uploads/\\?digest=$c\$" 202)" = 1 ]
	[ "$(registry_requests REG POST '^/v2/one/post/blobs/uploads/$')" = 0 ]
	[ "$(registry_requests REG PUT "^/v2/one/post/blobs/uploads/.*digest=$c" 201)" = 1 ]
	[ "$(registry_requests REG 'PUT|PATCH' '^/v2/one/post/blobs/')" = 1 ]
	oci-fetch --blob "$c" "$REG_HOST/one/post:v1" | cmp - "$BATS_TEST_TMPDIR/config"
	[ "$(oci-fetch --digest "$REG_HOST/one/post:v1")" = "$(sha "$BATS_TEST_TMPDIR/m.json")" ]
}

@test "single-request upload refused (405, 404): POST and PUT instead, the same blob and manifest" {
	for code in 405 404; do
		new_manifest
		jq -c --arg c "$code" '.config.Labels.code = $c' "$BATS_TEST_TMPDIR/config" | tr -d '\n' >"$BATS_TEST_TMPDIR/c2"
		mv "$BATS_TEST_TMPDIR/c2" "$BATS_TEST_TMPDIR/config"
		jq -c --arg c "$(sha "$BATS_TEST_TMPDIR/config")" --argjson cs "$(stat -c %s "$BATS_TEST_TMPDIR/config")" \
			'.config.digest = $c | .config.size = $cs' "$BATS_TEST_TMPDIR/base.json" | tr -d '\n' >"$BATS_TEST_TMPDIR/m.json"
		fault_proxy_rules FP "POST /blobs/uploads/\\?digest= status=$code times=always"
		c=$(sha "$BATS_TEST_TMPDIR/config")
		run_status 0 oci-put blob "$FP_HOST/refused/p$code" "$BATS_TEST_TMPDIR/config"
		run_status 0 oci-put manifest --from "$FP_HOST/base/bb:latest" "$FP_HOST/refused/p$code:v1" "$BATS_TEST_TMPDIR/m.json"
		[ "$(fault_proxy_requests FP POST "^/v2/refused/p$code/blobs/uploads/\\?digest=$c\$" "$code")" = 1 ]
		[ "$(registry_requests REG POST "^/v2/refused/p$code/blobs/uploads/\$" 202)" = 1 ]
		[ "$(registry_requests REG PUT "^/v2/refused/p$code/blobs/uploads/.*digest=$c" 201)" = 1 ]
		oci-fetch --blob "$c" "$REG_HOST/refused/p$code:v1" | cmp - "$BATS_TEST_TMPDIR/config"
		[ "$(oci-fetch --digest "$REG_HOST/refused/p$code:v1")" = "$(sha "$BATS_TEST_TMPDIR/m.json")" ]
	done
	fault_proxy_rules FP
}

@test "a tag that points at the manifest already is not PUT again; the other tags are" {
	new_manifest
	oci-put manifest --from "$REG_HOST/base/bb:latest" --blob "$BATS_TEST_TMPDIR/config" \
		"$REG_HOST/same/tag:v1" "$BATS_TEST_TMPDIR/m.json" >/dev/null
	puts=$(registry_requests REG PUT '^/v2/same/tag/manifests/')
	d=$(sha "$BATS_TEST_TMPDIR/m.json")
	run_status 0 oci-put manifest --from "$REG_HOST/base/bb:latest" --blob "$BATS_TEST_TMPDIR/config" \
		--tag "$REG_HOST/same/tag:v2" "$REG_HOST/same/tag:v1" "$BATS_TEST_TMPDIR/m.json"
	[ "$output" = "$REG_HOST/same/tag@$d
$REG_HOST/same/tag@$d" ]
	[ "$(registry_requests REG PUT '^/v2/same/tag/manifests/v1$')" = 1 ]
	[ "$(registry_requests REG PUT '^/v2/same/tag/manifests/v2$' 201)" = 1 ]
	[ "$(registry_requests REG PUT '^/v2/same/tag/manifests/')" = $((puts + 1)) ]
	# a tag pointing at another manifest is moved
	jq -c '.config.Labels.other = "yes"' "$BATS_TEST_TMPDIR/config" | tr -d '\n' >"$BATS_TEST_TMPDIR/c2"
	jq -c --arg c "$(sha "$BATS_TEST_TMPDIR/c2")" --argjson cs "$(stat -c %s "$BATS_TEST_TMPDIR/c2")" \
		'.config.digest = $c | .config.size = $cs' "$BATS_TEST_TMPDIR/base.json" | tr -d '\n' >"$BATS_TEST_TMPDIR/m2.json"
	run_status 0 oci-put manifest --blob "$BATS_TEST_TMPDIR/c2" "$REG_HOST/same/tag:v1" "$BATS_TEST_TMPDIR/m2.json"
	[ "$(oci-fetch --digest "$REG_HOST/same/tag:v1")" = "$(sha "$BATS_TEST_TMPDIR/m2.json")" ]
	[ "$(oci-fetch --digest "$REG_HOST/same/tag:v2")" = "$d" ]
}

# The line number in FP's log (answers in the order they came) of the first METHOD TARGET_ERE
# answered STATUS, or 0.
fp_answer_line() {
	awk -v m="$1" -v u="$2" -v s="$3" '$2 == "request" && $4 == m && $5 ~ u && $6 == s { print NR; f = 1; exit }
		END { if (!f) print 0 }' "$FP_LOG"
}

@test "a cold build: the layer's upload session is opened while the previous image is fetched, not after its answer" {
	# the previous image (the tag, not there yet, asked by the early oci-put manifest) answers
	# 1.5 s late
	fault_proxy_rules FP 'HEAD ^/v2/early/app/manifests/ delay=1.5'
	run_status 0 ocinoco build -q "$FIX/app" --from "$FP_HOST/base/bb:latest" --tag "$FP_HOST/early/app:latest" \
		--push --root-dir /app --cache "$BATS_TEST_TMPDIR/cache"
	fault_proxy_rules FP
	post=$(fp_answer_line POST '^/v2/early/app/blobs/uploads/$' 202)
	get=$(fp_answer_line HEAD '^/v2/early/app/manifests/latest$' 404)
	[ "$post" -gt 0 ] && [ "$get" -gt 0 ]
	[ "$post" -lt "$get" ]
	# one session for the layer, one for the config: both PUT, none cancelled
	[ "$(fault_proxy_requests FP PUT '^/v2/early/app/blobs/uploads/' 201)" = 2 ]
	[ "$(fault_proxy_requests FP DELETE '^/v2/early/app/blobs/uploads/')" = 0 ]
	oci-fetch "$FP_HOST/early/app:latest" >/dev/null
}

@test "a cold push: the layer is made while the previous image (the tag) is asked for, its upload held: sent once, after the answer" {
	# the previous image (the tag, not there yet) answers 1.5 s late
	fault_proxy_rules FP 'HEAD ^/v2/spec/app/manifests/ delay=1.5'
	run_status 0 env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -ttt -e trace=execve -o "$BATS_TEST_TMPDIR/exec" ocinoco build -q "$FIX/app" \
		--from "$FP_HOST/base/bb:latest" --tag "$FP_HOST/spec/app:latest" --push --root-dir /app \
		--cache "$BATS_TEST_TMPDIR/cache"
	fault_proxy_rules FP
	local made answered get
	# the layer's oci-digest (zstd, the default: no -c) started a second before the answer
	made=$(awk '/execve\("[^"]*oci-digest", \["oci-digest", "-d"/ { print $2; exit }' "$BATS_TEST_TMPDIR/exec")
	answered=$(awk '$2 == "request" && $4 == "HEAD" && $5 ~ /^\/v2\/spec\/app\/manifests\/latest$/ && $6 == 404 { print $1; exit }' "$FP_LOG")
	[ -n "$made" ] && [ -n "$answered" ]
	answered=$(date -d "$answered" +%s.%N)
	awk -v m="$made" -v a="$answered" 'BEGIN { exit !(m < a - 1) }'
	# its bytes went after the answer, once
	get=$(fp_answer_line HEAD '^/v2/spec/app/manifests/latest$' 404)
	awk -v g="$get" 'NR <= g && $2 == "request" && ($4 == "PATCH" || $4 == "PUT") && $5 ~ /^\/v2\/spec\/app\// { n++ }
		END { exit n > 0 }' "$FP_LOG"
	[ "$(fault_proxy_requests FP PUT '^/v2/spec/app/blobs/uploads/' 201)" = 2 ]
	[ "$(fault_proxy_requests FP DELETE '^/v2/spec/app/blobs/uploads/')" = 0 ]
	oci-fetch "$FP_HOST/spec/app:latest" >/dev/null
}

# build_rt NAME ARGS...: `ocinoco build ARGS` through NEAR (no delay) and FARP (DELAY_MS ms
# away), twice each: every "@@" in ARGS is the registry host, every "@R" the host and a
# repository prefix of each build's own (n1/, f1/, n2/, f2/: a far build finds nothing a near
# one pushed, and the same call again rebuilds the same tags). Sets conns (FARP's connections
# per build, the most) and rt (the sequential exchanges: the fastest far build less the fastest
# near one, / DELAY_MS, one decimal: the machine's load counts once) and prints both.
build_rt() {
	local name=$1 t0 c0 a i side host near=999 far=999 took
	shift
	conns=0
	for i in 1 2; do
		for side in n f; do
			host=$NEAR_HOST
			[ "$side" = n ] || host=$FARP_HOST
			local args=()
			for a in "$@"; do
				a=${a//@@/$host}
				args+=("${a//@R/$host/$side$i}")
			done
			c0=$(tcp_proxy_connections FARP)
			t0=$EPOCHREALTIME
			ocinoco build -q "${args[@]}" >/dev/null
			took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
			if [ "$side" = n ]; then
				near=$(awk -v a="$near" -v b="$took" 'BEGIN { print (b < a ? b : a) }')
			else
				far=$(awk -v a="$far" -v b="$took" 'BEGIN { print (b < a ? b : a) }')
				c0=$(($(tcp_proxy_connections FARP) - c0))
				[ "$c0" -le "$conns" ] || conns=$c0
			fi
		done
	done
	rt=$(awk -v a="$near" -v b="$far" -v d="$DELAY_MS" 'BEGIN { printf "%.1f", (b - a) * 1000 / d }')
	echo "# $name: $conns connections, $rt sequential exchanges (${DELAY_MS} ms each)" >&3
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

@test "round trips through a ${DELAY_MS} ms delay line: cold build, no-op rebuild" {
	local cfg c0 m0
	cfg=$(oci-fetch "$REG_HOST/base/bb:latest" | jq -r .config.digest)
	c0=$(registry_requests FAR GET "^/v2/base/bb/blobs/$cfg\$")
	m0=$(registry_requests FAR GET '^/v2/base/bb/manifests/latest$' 200)
	build_rt "cold build" "$FIX/app" --from @@/base/bb:latest --tag @R/rt/cold:latest --push --root-dir /app
	[ "$conns" -le 3 ]
	cold=$rt
	build_rt "no-op rebuild" "$FIX/app" --from @@/base/bb:latest --tag @R/rt/cold:latest --push --root-dir /app
	[ "$conns" -le 3 ]
	# the no-op rebuild: no manifest PUT (the tag's HEAD found it)
	[ "$(registry_requests FAR PUT '^/v2/f[12]/rt/cold/manifests/')" = 2 ]
	# bounds with room for a loaded machine and the sanitized build (quiet: ~5.5 and ~2, from
	# 9.8 and 9.0 before the single-request upload, the tag HEAD, the hints, Basic on the first
	# request, the uploads started with the build, the local document cache and the cold
	# push's early mounts)
	le "$cold" 9
	le "$rt" 4
	# the base's manifest asked by its tag in each of the eight builds, and again by the
	# early oci-put manifest of each of the four cold ones (its tag absent: the base's layers
	# mounted before the manifest comes), its config once (then from the local cache: what a
	# digest names never changes)
	[ "$(registry_requests FAR GET '^/v2/base/bb/manifests/latest$' 200)" = $((m0 + 8 + 4)) ]
	[ "$(registry_requests FAR GET "^/v2/base/bb/blobs/$cfg\$")" = $((c0 + 1)) ]
}

@test "round trips through a ${DELAY_MS} ms delay line: two tags in two repositories, a cross-registry base" {
	build_rt "two tags in two repositories" "$FIX/app" --from @@/base/bb:latest --tag @R/rt/two-a:latest \
		--tag @R/rt/two-b:latest --push --root-dir /app
	[ "$conns" -le 3 ]
	le "$rt" 15
	build_rt "cross-registry base" "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag @R/rt/cross:latest \
		--push --root-dir /app
	[ "$conns" -le 3 ]
	le "$rt" 15
}

@test "a no-op rebuild: the tag HEADed while the build runs names the manifest: that HEAD alone, no upload session, no DELETE, the same digest" {
	local -a b=(ocinoco build -q "$FIX/app" --from "$NEAR_HOST/base/bb:latest" --tag "$NEAR_HOST/noop/app:latest"
		--push --root-dir /app --cache "$BATS_TEST_TMPDIR/cache")
	d1=$("${b[@]}")
	n=$(registry_requests FAR '.*' '^/v2/noop/app/')
	heads=$(registry_requests FAR HEAD '^/v2/noop/app/manifests/latest$' 200)
	posts=$(registry_requests FAR POST '^/v2/noop/app/blobs/uploads/')
	heads_all=$(registry_requests FAR HEAD '^/v2/noop/app/manifests/latest$')
	d2=$("${b[@]}")
	[ "$d1" = "$d2" ]
	# (its 401 first: the auth scheme is not known yet when it starts)
	[ "$(registry_requests FAR '.*' '^/v2/noop/app/')" = $((n + $(registry_requests FAR HEAD '^/v2/noop/app/manifests/latest$') - heads_all)) ]
	[ "$(registry_requests FAR HEAD '^/v2/noop/app/manifests/latest$' 200)" = $((heads + 1)) ]
	[ "$(registry_requests FAR 'POST|DELETE' '^/v2/noop/app/blobs/uploads/')" = "$posts" ]
	[ "$(registry_requests FAR DELETE '^/v2/noop/app/')" = 0 ]
}

@test "--cache-from: a layer reused from a previous image goes with the run started early (one tag HEAD); from a layout, or a --cache-from that is no reference, the build is as before" {
	local c=$BATS_TEST_TMPDIR
	local -a b=(ocinoco build "$FIX/app" --from "$NEAR_HOST/base/bb:latest" --root-dir /app)
	d=$("${b[@]}" -q --no-cache --tag "$NEAR_HOST/prev/app:latest" --push)
	d=${d#*@}
	run_status 0 "${b[@]}" --cache "$c/c1" --cache-from "$NEAR_HOST/prev/app:latest" \
		--tag "$NEAR_HOST/cf/app:latest" --push
	[[ $output == *"reused from $NEAR_HOST/prev/app:latest"* ]]
	[[ $output == *"$NEAR_HOST/cf/app:latest@$d"* ]]
	[ "$(registry_requests FAR HEAD '^/v2/cf/app/manifests/latest$' 404)" = 1 ]
	[ "$(registry_requests FAR PUT '^/v2/cf/app/manifests/latest$' 201)" = 1 ]
	# from a layout: oci-put manifest run after the graft, with that --from
	"${b[@]}" -q --no-cache --tag "$NEAR_HOST/x/app:latest" --output "oci:$c/lay" >/dev/null
	run_status 0 "${b[@]}" --cache "$c/c2" --cache-from "oci:$c/lay:latest" \
		--tag "$NEAR_HOST/cf/lay:latest" --push
	[[ $output == *"reused from oci:$c/lay:latest"* ]]
	[[ $output == *"$NEAR_HOST/cf/lay:latest@$d"* ]]
	[[ $output != *"oci-put:"* ]]
	[ "$(oci-fetch --digest "$NEAR_HOST/cf/lay:latest")" = "$d" ]
	# no reference: a warning, not used (nothing of the early run said)
	run_status 0 "${b[@]}" --cache "$c/c3" --cache-from 'no ref!' --tag "$NEAR_HOST/cf/bad:latest" --push
	[[ $output == *"--cache-from no ref!: cannot be read, not used"* ]]
	[[ $output != *"oci-put:"* && $output != *usage* ]]
	[[ $output == *"$NEAR_HOST/cf/bad:latest@$d"* ]]
}

# oci-put processes of builds marked MARK (in their environment) running now: "PID CMDLINE" lines.
marked_puts() {
	local e
	while read -r e; do
		e=${e%/environ}
		{ tr '\0' ' ' <"$e/cmdline"; } 2>/dev/null | grep -q 'oci-put.* manifest ' && echo "${e#/proc/}"
	done < <(grep -lsxzF "RT_MARK=$1" /proc/[0-9]*/environ)
	return 0
}

@test "a build that fails before the graft: its early oci-put manifest stopped and reaped (by pid), no manifest PUT, none of its text" {
	local pid pids='' p
	# the base is not there (its fetch fails after a few round trips, the tag's HEAD made)
	RT_MARK=$BATS_TEST_TMPDIR ocinoco build "$FIX/app" --from "$FARP_HOST/base/nosuch:latest" \
		--tag "$FARP_HOST/fails/app:latest" --push --root-dir /app >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		for p in $(marked_puts "$BATS_TEST_TMPDIR"); do
			[[ " $pids " == *" $p "* ]] || pids+=" $p"
		done
		sleep 0.02
	done
	run wait "$pid"
	[ "$status" = 1 ]
	[ -n "$pids" ] # it ran while the build did
	for p in $pids; do
		if kill -0 "$p" 2>/dev/null; then
			echo "# oci-put $p is still running" >&3
			false
		fi
	done
	[ -z "$(marked_puts "$BATS_TEST_TMPDIR")" ]
	grep -q 'cannot read the base image' "$BATS_TEST_TMPDIR/out"
	[ "$(grep -c -e 'oci-put:' -e 'stdin: empty' "$BATS_TEST_TMPDIR/out")" = 0 ]
	[ "$(registry_requests FAR HEAD '^/v2/fails/app/manifests/latest$')" -ge 1 ]
	[ "$(registry_requests FAR 'PUT|POST' '^/v2/fails/app/manifests/')" = 0 ]
	# a --layer pattern that matches nothing: the layer fails at once
	RT_MARK=$BATS_TEST_TMPDIR run_status 1 ocinoco build "$FIX/app" --from "$NEAR_HOST/base/bb:latest" \
		--tag "$NEAR_HOST/fails/app:latest" --push --root-dir /app --layer nosuch
	[[ $output == *"nosuch: matches nothing"* ]]
	[[ $output != *"oci-put:"* && $output != *"stdin: empty"* ]]
	[ -z "$(marked_puts "$BATS_TEST_TMPDIR")" ]
	[ "$(registry_requests FAR 'PUT|POST' '^/v2/fails/app/manifests/')" = 0 ]
}

@test "what one program learnt goes to the next privately: no secret in any file, command line or environment; gone after the build" {
	local t=$BATS_TEST_TMPDIR/t auth h procs=0 secret=0 e line
	mkdir -p "$t"
	auth=$(printf '%s:%s' "$TEST_USER" "$TEST_PASS" | base64 -w0)
	# the build's processes carry the marker (and not the test's own TEST_PASS)
	env -u TEST_PASS -u TEST_USER RT_MARK="$BATS_TEST_TMPDIR" TMPDIR="$t" ocinoco build -v "$FIX/app" \
		--from "$FARP_HOST/base/bb:latest" --tag "$FARP_HOST/priv/app:latest" --push --root-dir /app \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	local pid=$!
	: >"$BATS_TEST_TMPDIR/hints"
	while kill -0 "$pid" 2>/dev/null; do
		for h in "$t"/ocinoco.*/hints/*; do
			[ -f "$h" ] || continue
			# (the build may end and remove it meanwhile)
			if line="$(stat -c %a "$(dirname "$h")") $(stat -c %a "$h") $(cat "$h")"; then
				echo "$line" >>"$BATS_TEST_TMPDIR/hints"
			fi 2>/dev/null
		done
		while read -r e; do
			procs=$((procs + 1))
			if grep -qsF -e "$TEST_PASS" -e "$auth" "${e%/environ}/cmdline" "$e"; then
				echo "# a secret in ${e%/environ}" >&3
				secret=1
			fi
		done < <(grep -lsxzF "RT_MARK=$BATS_TEST_TMPDIR" /proc/[0-9]*/environ)
	done
	wait "$pid"
	[ "$procs" -gt 0 ] && [ "$secret" = 0 ]
	# the hints seen: the directory 0700, each file 0600, the scheme and challenge only
	[ -s "$BATS_TEST_TMPDIR/hints" ]
	[ "$(sort -u "$BATS_TEST_TMPDIR/hints")" = "700 600 https basic" ]
	[ -z "$(ls -A "$t")" ] # the build's temporary directory is gone
	# a program started once another has met the registry learns from it: the oci-put
	# manifest of a build whose platforms are chosen from the base's (not started early)
	TMPDIR="$t" ocinoco build -v "$FIX/app" --from "$FARP_HOST/base/bb:latest" --platform all \
		--tag "$FARP_HOST/priv/app:latest" --push --root-dir /app >"$BATS_TEST_TMPDIR/out" 2>&1
	grep -q 'basic auth (learnt by an earlier program of this build)' "$BATS_TEST_TMPDIR/out"
	[ -z "$(ls -A "$t")" ]
}

@test "a hint in a directory another user could write to is ignored" {
	local d=$BATS_TEST_TMPDIR/hints
	mkdir -m 755 "$d"
	printf 'https bearer https://127.0.0.1:1/evil svc\n' >"$d/${FAR_HOST//:/_}"
	run_status 0 env OCINOCO_REGISTRY_HINTS="$d" oci-fetch -v --digest "$FAR_HOST/base/bb:latest"
	[[ $output != *learnt* ]]
	chmod 700 "$d"
	run_status 0 env OCINOCO_REGISTRY_HINTS="$d" oci-fetch -v --digest "$FAR_HOST/base/bb:latest"
	[[ $output == *"bearer auth (learnt"* ]] # tried, failed, then the 401 said Basic
	grep -qx 'https basic' "$d/${FAR_HOST//:/_}"
}
