#!/usr/bin/env bats
# Incremental builds: --layer (a layer plan), the local layer cache, the registry as the cache
# (--cache-from). What is sent is counted by a logging proxy in front of a real registry (each
# request's body bytes), what is read by strace, what is made by comparing with a build that
# uses no cache.
# shellcheck disable=SC2154 # status, output are set by bats' run
bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra
load ../lib/build

setup_file() {
	unset SOURCE_DATE_EPOCH
	registry_start REG plain
	fault_proxy_start PX "$REG_HOST"
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_busybox_layout "$FIX/bb" oci
	push_layout "$FIX/bb" "$PX_HOST/base/bb:latest"
	make_multiarch_layout "$FIX/multi"
	push_layout "$FIX/multi" "$PX_HOST/base/multi:latest"
}

teardown_file() {
	registry_stop_all
}

setup() {
	unset SOURCE_DATE_EPOCH
	T=$BATS_TEST_TMPDIR
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	OPTS=(--root-dir /app --uid 1000 --gid 1000 --cmd '["/bin/sh","-c","cat /app/src/index.js"]')
	make_node_tree "$T/app"
}

# A small Node-like tree: node_modules with two packages (a symlink, a nested directory, an
# executable), the code under src/, a package.json at the top. Older than oci-tar's racy window.
make_node_tree() {
	local d=$1
	mkdir -p "$d/node_modules/left-pad/lib" "$d/node_modules/.bin" "$d/node_modules/tiny/dist" "$d/src"
	echo 'module.exports = (s) => " " + s' >"$d/node_modules/left-pad/lib/index.js"
	echo '{"name":"left-pad"}' >"$d/node_modules/left-pad/package.json"
	printf '#!/bin/sh\necho tiny\n' >"$d/node_modules/tiny/dist/cli.js"
	chmod 755 "$d/node_modules/tiny/dist/cli.js"
	ln -s ../tiny/dist/cli.js "$d/node_modules/.bin/tiny"
	head -c 200000 /dev/urandom | base64 >"$d/node_modules/tiny/dist/big.js"
	echo 'console.log("v1")' >"$d/src/index.js"
	echo 'export const x = 1' >"$d/src/util.js"
	echo '{"name":"app","main":"src/index.js"}' >"$d/package.json"
	sleep 0.3
}

# The log line count now: requests after it are the next build's.
mark() { wc -l <"$PX_LOG"; }

# Body bytes of blob uploads (PATCH, PUT, POST to /blobs/uploads/) after log line $1.
upload_bytes() {
	tail -n +"$(($1 + 1))" "$PX_LOG" |
		awk '$2 == "request" && $4 ~ /^(PATCH|PUT|POST)$/ && $5 ~ /\/blobs\/uploads\// { n += $7 } END { print n + 0 }'
}

# proxy_requests MARK METHOD PATH_ERE: the requests after log line MARK.
proxy_requests() {
	tail -n +"$(($1 + 1))" "$PX_LOG" |
		awk -v m="$2" -v p="$3" '$2 == "request" && $4 == m && $5 ~ p { n++ } END { print n + 0 }'
}

# The manifest digest a build prints (TAG@digest for --push).
build() {
	run_status 0 ocinoco build "$T/app" --from "$PX_HOST/base/bb:latest" "${OPTS[@]}" "$@"
	DIGEST=${output##*@}
	DIGEST=${DIGEST%%$'\n'*}
}

layer_digests() { # REF: its layers' digests, one a line
	oci-fetch "$1" | jq -r '.layers[].digest'
}

@test "--layer node_modules: base + 2 layers, each holding its part; the image is the single-layer one, file for file, owner for owner" {
	run_status 0 ocinoco build "$T/app" --from "oci:$FIX/bb" "${OPTS[@]}" --layer node_modules \
		--tag ex.org/app:split --output "oci:$T/split" --no-cache
	[[ $output == *"layer sha256:"*" of $T/app --layer node_modules: made"* ]]
	run_status 0 ocinoco build "$T/app" --from "oci:$FIX/bb" "${OPTS[@]}" \
		--tag ex.org/app:one --output "oci:$T/one" --no-cache
	local -a layers
	mapfile -t layers < <(layer_digests "oci:$T/split:split")
	[ ${#layers[@]} -eq 3 ]
	# Each layer's listing: exactly its part (the parents /app/ re-emitted in the lower one).
	run_status 0 bash -c "zstd -dc '$(layout_blob "$T/split" "${layers[1]}")' | tar tf -"
	[ "$(grep -vc '^app/$\|^app/node_modules/' <<<"$output")" -eq 0 ]
	[[ $output == *app/node_modules/tiny/dist/big.js* ]]
	run_status 0 bash -c "zstd -dc '$(layout_blob "$T/split" "${layers[2]}")' | tar tf -"
	[ "$(grep -c 'node_modules' <<<"$output")" -eq 0 ]
	[[ $output == *app/src/index.js* ]] && [[ $output == *app/package.json* ]]
	# The history names the patterns.
	oci-fetch --config "oci:$T/split:split" | jq -e '[.history[-2:][].created_by] ==
		["ocinoco build '"$T/app"' --layer node_modules", "ocinoco build '"$T/app"'"]'
	# Extracted in order, the same tree as the single layer's: paths, modes, owners, links.
	layout_rootfs "$T/split" split "$T/r-split"
	layout_rootfs "$T/one" one "$T/r-one"
	diff <(cd "$T/r-split" && find . -printf '%p %M %U:%G %l\n' | LC_ALL=C sort) \
		<(cd "$T/r-one" && find . -printf '%p %M %U:%G %l\n' | LC_ALL=C sort)
	diff -r --no-dereference "$T/r-split/app" "$T/r-one/app"
	# It runs.
	oci-fetch --config "oci:$T/split:split" >"$T/config.json"
	[ "$(run_config "$T/config.json" "$T/r-split")" = 'console.log("v1")' ]
}

@test "a code-only change: only the top layer is sent, node_modules is not read again" {
	local m0 m1 sent1 top
	m0=$(mark)
	build --layer node_modules --tag "$PX_HOST/inc/app:v1" --push
	sent1=$(upload_bytes "$m0")
	[ "$sent1" -gt 150000 ] # the first build sends node_modules' bytes (the check can fail)
	echo 'console.log("v2")' >"$T/app/src/index.js"
	m1=$(mark)
	env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -e trace=open,openat -o "$T/trace" ocinoco build "$T/app" --from "$PX_HOST/base/bb:latest" \
		"${OPTS[@]}" --layer node_modules --tag "$PX_HOST/inc/app:v2" --push 2>"$T/err" >"$T/out"
	grep -q 'node_modules: reused from the cache' "$T/err"
	grep -q "of $T/app: made" "$T/err"
	# No file of node_modules opened (its directories are, by the signature's walk; oci-tar
	# opens a file by its name in its directory's fd).
	[ "$(grep -cE 'open(at)?\([^"]*"([^"]*/)?(big|cli)\.js"' "$T/trace")" -eq 0 ]
	# The top layer's files were (the check above can fail).
	[ "$(grep -cE 'open(at)?\([^"]*"([^"]*/)?util\.js"' "$T/trace")" -ge 1 ]
	# Sent: the top layer and the config, far less than node_modules.
	top=$(upload_bytes "$m1")
	[ "$top" -gt 0 ] && [ "$top" -lt 10000 ]
	mapfile -t a < <(layer_digests "$PX_HOST/inc/app:v1")
	mapfile -t b < <(layer_digests "$PX_HOST/inc/app:v2")
	[ "${a[1]}" = "${b[1]}" ] && [ "${a[2]}" != "${b[2]}" ]
}

@test "a no-op rebuild: no layer byte sent, the same manifest digest, nothing compressed" {
	build --layer node_modules --tag "$PX_HOST/noop/app:v1" --push
	local d1=$DIGEST m
	sleep 0.3 # out of the racy window of the first build's entries
	m=$(mark)
	run_status 0 env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -e trace=execve -o "$T/exec" ocinoco build "$T/app" --from "$PX_HOST/base/bb:latest" \
		"${OPTS[@]}" --layer node_modules --tag "$PX_HOST/noop/app:v1" --push
	[ "${output##*@}" = "$d1" ] || [[ $output == *"@$d1"* ]]
	[ "$(upload_bytes "$m")" -eq 0 ]
	[ "$(grep -c 'execve("[^"]*oci-digest"' "$T/exec")" -eq 0 ]
	[ "$(grep -c 'reused from the cache' <<<"$output")" -eq 2 ]
}

@test "a fresh copy (new mtimes and inodes), an empty cache, --cache-from the previous tag: no layer byte sent, nothing compressed, the same digests" {
	build --layer node_modules --tag "$PX_HOST/fresh/app:v1" --push
	local d1=$DIGEST m
	cp -r "$T/app" "$T/copy" && rm -rf "$T/app" && mv "$T/copy" "$T/app"
	m=$(mark)
	run_status 0 env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -e trace=execve -o "$T/exec" ocinoco build "$T/app" --from "$PX_HOST/base/bb:latest" \
		"${OPTS[@]}" --layer node_modules --tag "$PX_HOST/fresh/app:v2" --push \
		--cache "$T/empty-cache" --cache-from "$PX_HOST/fresh/app:v1"
	[[ $output == *"@$d1"* ]]
	[ "$(grep -c "reused from $PX_HOST/fresh/app:v1" <<<"$output")" -eq 2 ]
	# no layer byte: what was sent is the config alone (the tag v2 absent, it is PUT on the
	# session opened before the manifest came, with no HEAD first)
	local cfg cfg_size
	cfg=$(oci-fetch "$PX_HOST/fresh/app:v2" | jq -r .config.digest)
	cfg_size=$(oci-fetch "$PX_HOST/fresh/app:v2" | jq -r .config.size)
	[ "$(upload_bytes "$m")" -eq "$cfg_size" ]
	# oci-digest ran only for the diffIDs, with no compression.
	[ "$(grep -c 'execve("[^"]*oci-digest", \[[^]]*"-c", "zstd"' "$T/exec")" -eq 0 ]
	[ "$(grep -c 'execve("[^"]*oci-digest", \["oci-digest", "-c", "none"' "$T/exec")" -eq 2 ]
	# The top layer's upload (the code's: a --layer one, the dependencies', opens none), started
	# with the fetch of v1, was told there is nothing: every session opened is cancelled, no
	# layer upload is committed (the one PUT: the config's, on its session).
	[ "$(grep -c 'execve("[^"]*oci-put", \[[^]]*"--if-not-empty"' "$T/exec")" -eq 1 ]
	[ "$(proxy_requests "$m" POST '/v2/fresh/app/blobs/uploads/$')" -ge 2 ]
	[ "$(proxy_requests "$m" DELETE '/v2/fresh/app/blobs/uploads/')" = $(($(proxy_requests "$m" POST '/v2/fresh/app/blobs/uploads/$') - 1)) ]
	[ "$(proxy_requests "$m" PUT '/blobs/uploads/')" = 1 ]
	[ "$(proxy_requests "$m" PUT "/v2/fresh/app/blobs/uploads/.*digest=$cfg")" = 1 ]
}

@test "a fresh copy, an empty cache, the default previous image (the tag): the layers made meanwhile are stopped, none of their bytes sent; the same digest" {
	build --layer node_modules --tag "$PX_HOST/fresh-default/app:v1" --push
	local d1=$DIGEST m cfg_size
	cp -r "$T/app" "$T/copy" && rm -rf "$T/app" && mv "$T/copy" "$T/app"
	m=$(mark)
	run_status 0 env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -e trace=execve -o "$T/exec" ocinoco build "$T/app" --from "$PX_HOST/base/bb:latest" \
		"${OPTS[@]}" --layer node_modules --tag "$PX_HOST/fresh-default/app:v1" --push \
		--cache "$T/empty-cache"
	[[ $output == *"@$d1"* ]]
	[ "$(grep -c "reused from $PX_HOST/fresh-default/app:v1" <<<"$output")" -eq 2 ]
	# each layer was being made (its upload held) while the tag was asked for
	[ "$(grep -c 'execve("[^"]*oci-put", \[[^]]*"--hold"' "$T/exec")" -eq 2 ]
	# nothing sent: the tag names the manifest already
	[ "$(upload_bytes "$m")" -eq 0 ]
	[ "$(proxy_requests "$m" PATCH '/blobs/uploads/')" = 0 ]
	[ "$(proxy_requests "$m" PUT '/')" = 0 ]
	# the cache has the layers now: the same build again reuses them from it
	build --layer node_modules --tag "$PX_HOST/fresh-default/app:v1" --push --cache "$T/empty-cache"
	[ "$DIGEST" = "$d1" ]
	[ "$(grep -c 'reused from the cache' <<<"$output")" -eq 2 ]
}

# The digest a build prints with the cache of the test, and the one it prints with none: equal
# (the cache gave the right layers), and different from the last state (the change was seen).
check_fresh() { # OPTIONS...
	local with without
	with=$(ocinoco build "$T/app" --from "oci:$FIX/bb" --tag ex.org/app:x -q "$@")
	without=$(ocinoco build "$T/app" --from "oci:$FIX/bb" --tag ex.org/app:x -q --no-cache "$@")
	[ "$with" = "$without" ] || { echo "stale: $with, not $without ($*)" >&2; return 1; }
	[ "$with" != "${LAST:-}" ] || { echo "no change seen ($*)" >&2; return 1; }
	LAST=$with
}

@test "never stale: an edit keeping size and mtime, a chmod, a rename, a new empty directory, --uid, --compression" {
	local -a o=(--layer node_modules --root-dir /app)
	LAST=''
	check_fresh "${o[@]}"
	sleep 0.3
	# The same size and mtime, other bytes: in the top layer and in node_modules.
	cp -p "$T/app/src/util.js" "$T/old"
	echo 'export const x = 2' >"$T/app/src/util.js"
	touch -r "$T/old" "$T/app/src/util.js"
	sleep 0.3
	check_fresh "${o[@]}"
	cp -p "$T/app/node_modules/left-pad/package.json" "$T/old"
	echo '{"name":"right-pad"}' >"$T/app/node_modules/left-pad/package.json"
	touch -r "$T/old" "$T/app/node_modules/left-pad/package.json"
	sleep 0.3
	check_fresh "${o[@]}"
	chmod 600 "$T/app/node_modules/tiny/dist/big.js" && sleep 0.3
	check_fresh "${o[@]}"
	mv "$T/app/src/util.js" "$T/app/src/util2.js" && sleep 0.3
	check_fresh "${o[@]}"
	mkdir "$T/app/node_modules/empty" && sleep 0.3
	check_fresh "${o[@]}"
	check_fresh "${o[@]}" --uid 7
	check_fresh "${o[@]}" --uid 7 --compression gzip
	check_fresh "${o[@]}" --uid 7 --compression none
}

# The cache entry files of the test's cache.
entries() { find "$XDG_CACHE_HOME/ocinoco/layers" -name '*.json'; }

@test "a damaged cache entry (truncated, garbage, wrong digest) is ignored with a warning or found missing, and the image is right" {
	local want f e
	want=$(ocinoco build "$T/app" --from "oci:$FIX/bb" "${OPTS[@]}" --tag ex.org/app:x -q --no-cache --layer node_modules)
	build --layer node_modules --tag "$PX_HOST/dmg/app:v1" --push
	[ "$(entries | wc -l)" -eq 2 ]
	for f in $(entries); do head -c 50 "$f" >"$f.x" && mv "$f.x" "$f"; done
	run_status 0 ocinoco build "$T/app" --from "oci:$FIX/bb" "${OPTS[@]}" --tag ex.org/app:x --layer node_modules
	[[ $output == *"entry ignored (not JSON"* ]]
	[[ $output == *"$want"* ]]
	for f in $(entries); do head -c 3000 /dev/urandom >"$f"; done
	run_status 0 ocinoco build "$T/app" --from "oci:$FIX/bb" "${OPTS[@]}" --tag ex.org/app:x --layer node_modules
	[[ $output == *"entry ignored"* ]] && [[ $output == *"$want"* ]]
	# A well-formed entry (its check right) naming a blob that exists nowhere: made again.
	build --layer node_modules --tag "$PX_HOST/dmg/app:v2" --push
	local d2=$DIGEST
	for f in $(entries); do
		e=$(jq -c '.descriptor.digest = "sha256:" + ("0" * 64) | .at = []' "$f")
		e=$(jq -c --arg c "sha256:$( (jq -j .key <<<"$e" && printf '\n' && jq -cj .descriptor <<<"$e") | sha256sum | cut -d' ' -f1)" '.check = $c' <<<"$e")
		printf '%s\n' "$e" >"$f"
	done
	run_status 0 oci-cache get "$(jq -r .key "$f" | cut -d' ' -f1)" "$(jq -r .key "$f" | cut -d' ' -f2)"
	[[ $output == sha256:0000* ]] # the forged entry is a hit (the check above can fail)
	build --layer node_modules --tag "$PX_HOST/dmg/app:v3" --push --no-cache
	local d3=$DIGEST
	build --layer node_modules --tag "$PX_HOST/dmg/app:v4" --push --cache-from "$PX_HOST/nothing/here:v0"
	[ "$DIGEST" = "$d3" ] && [ "$d3" = "$d2" ]
	# The forged hits were found nowhere: both layers made again.
	[ "$(grep -c ': made' <<<"$output")" -eq 2 ]
	[ "$(layer_digests "$PX_HOST/dmg/app:v4" | grep -c '^sha256:0000')" -eq 0 ]
}

@test "a hit seen where the image goes but gone from it: oci-put manifest finds it nowhere, the build runs again checking each hit, and makes the layer" {
	local f e
	build --layer node_modules --tag "$PX_HOST/gone/app:v1" --push
	local d1=$DIGEST
	# Each entry well formed, seen where the image goes (.at kept), naming a blob no one has.
	for f in $(entries); do
		jq -e --arg at "$PX_HOST/gone/app:v1" '.at == [$at]' "$f"
		e=$(jq -c '.descriptor.digest = "sha256:" + ("1" * 64)' "$f")
		e=$(jq -c --arg c "sha256:$( (jq -j .key <<<"$e" && printf '\n' && jq -cj .descriptor <<<"$e") | sha256sum | cut -d' ' -f1)" '.check = $c' <<<"$e")
		printf '%s\n' "$e" >"$f"
	done
	# Trusted at first (no probe), so the one oci-put manifest run is what finds them missing
	# (no previous image to reuse them from, so the layers are made).
	build --layer node_modules --tag "$PX_HOST/gone/app:v1" --push --cache-from "$PX_HOST/nothing/here:v0"
	[ "$DIGEST" = "$d1" ]
	[[ $output == *"a reused layer's blob is gone: building again"* ]]
	[ "$(grep -c ': made' <<<"$output")" -eq 2 ]
	[ "$(layer_digests "$PX_HOST/gone/app:v1" | grep -c '^sha256:1111')" -eq 0 ]
	# oci-put manifest's own status for it: 66, naming the blob.
	run_status 66 oci-put manifest --from "$PX_HOST/base/bb:latest" "$PX_HOST/gone/app:v2" \
		<(oci-fetch "$PX_HOST/gone/app:v1" | jq -c '.layers[-1].digest = "sha256:" + ("2" * 64)')
	[[ $output == *"blob sha256:2222"*" is missing: not in the repository nor in $PX_HOST/base/bb:latest"* ]]
}

@test "a --layer pattern that matches nothing fails the build, with a cold or a warm cache, and writes nothing" {
	local c
	for c in cold warm; do
		[ "$c" = cold ] || ocinoco build "$T/app" --from "oci:$FIX/bb" --tag ex.org/app:x -q \
			--layer node_modules --layer src --cache "$T/c-$c" --output "oci:$T/o-$c"
		run_status 1 ocinoco build "$T/app" --from "oci:$FIX/bb" --tag ex.org/app:x --layer node_modules \
			--layer nosuch --layer src --cache "$T/c-$c" --output "oci:$T/o-$c"
		[[ $output == *"oci-tar: --"*" nosuch: matches nothing in $T/app"* ]]
		[[ $output == *"nothing tagged in $T/o-$c"* ]]
		# only the cause: no word of the jobs stopped for it, nor of a stream cut short by it
		[[ $output != *Terminated* && $output != *oci-digest:* ]]
	done
	[ ! -e "$T/o-cold" ]
	# the warm one's layout holds the build before, untouched: base + 3 layers
	[ "$(oci-fetch "oci:$T/o-warm:x" | jq '.layers | length')" -eq 4 ]
}

@test "an unwritable cache dir is a warning, and two builds at once on one cache give right images" {
	local want
	want=$(ocinoco build "$T/app" --from "oci:$FIX/bb" --tag ex.org/app:x -q --no-cache --layer node_modules)
	echo x >"$T/file"
	run_status 0 ocinoco build "$T/app" --from "oci:$FIX/bb" --tag ex.org/app:x --layer node_modules \
		--cache "$T/file/cache"
	[[ $output == *"the entry is not stored: Not a directory"* ]]
	[[ $output == *"$want"* ]]
	local i
	for i in 1 2 3 4; do
		ocinoco build "$T/app" --from "oci:$FIX/bb" --tag ex.org/app:x -q --layer node_modules \
			--cache "$T/shared" --output "oci:$T/out$i" >"$T/d$i" 2>"$T/e$i" &
	done
	wait
	for i in 1 2 3 4; do
		[ "$(cat "$T/d$i")" = "$want" ]
		[ "$(grep -c 'ignored' "$T/e$i")" -eq 0 ]
	done
	run_status 0 ocinoco build "$T/app" --from "oci:$FIX/bb" --tag ex.org/app:x --layer node_modules \
		--cache "$T/shared" --output "oci:$T/out1"
	[ "$(grep -c 'reused from the cache' <<<"$output")" -eq 2 ]
}

@test "--layer with --platform all: the layers made once, the same on every platform; a rebuild reuses them" {
	make_multiarch_layout "$T/multi"
	run_status 0 ocinoco build "$T/app" --from "oci:$T/multi" --platform all "${OPTS[@]}" \
		--layer node_modules --tag ex.org/app:m --output "oci:$T/out"
	[ "$(grep -c ': made' <<<"$output")" -eq 2 ]
	local a b
	a=$(oci-fetch --platform linux/amd64 "oci:$T/out:m" | jq -c '.layers[-2:] | map(.digest)')
	b=$(oci-fetch --platform linux/arm64/v8 "oci:$T/out:m" | jq -c '.layers[-2:] | map(.digest)')
	[ "$a" = "$b" ] && [ "$(jq length <<<"$a")" = 2 ]
	sleep 0.3
	run_status 0 ocinoco build "$T/app" --from "oci:$T/multi" --platform all "${OPTS[@]}" \
		--layer node_modules --tag ex.org/app:m --output "oci:$T/out"
	[ "$(grep -c 'reused from the cache' <<<"$output")" -eq 2 ]
}

# The base's documents fetched by digest, kept in the local cache: a document's file there.
cached() { echo "$XDG_CACHE_HOME/ocinoco/blobs/sha256/${1#sha256:}"; }
gets() { registry_requests REG GET "$1"; }

@test "a rebuild asks for the base's manifest by its tag only, its config from the local cache, the same image; --no-cache keeps nothing" {
	local cfg d1 m0 c0
	cfg=$(oci-fetch "$PX_HOST/base/bb:latest" | jq -r .config.digest)
	build --tag "$PX_HOST/docs/app:v1" --push
	d1=$DIGEST
	cmp <(oci-fetch --config "$PX_HOST/base/bb:latest") "$(cached "$cfg")"
	m0=$(gets '^/v2/base/bb/manifests/latest$') c0=$(gets "^/v2/base/bb/blobs/$cfg\$")
	build --tag "$PX_HOST/docs/app:v1" --push
	[ "$DIGEST" = "$d1" ]
	[ "$(gets '^/v2/base/bb/manifests/latest$')" -eq $((m0 + 1)) ]
	[ "$(gets "^/v2/base/bb/blobs/$cfg\$")" -eq "$c0" ]
	# --no-cache: the config asked again, nothing written
	rm -rf "$XDG_CACHE_HOME"
	build --tag "$PX_HOST/docs/app:v1" --push --no-cache
	[ "$DIGEST" = "$d1" ]
	[ "$(gets "^/v2/base/bb/blobs/$cfg\$")" -eq $((c0 + 1)) ]
	[ ! -e "$XDG_CACHE_HOME/ocinoco" ]
}

@test "a code change's rebuild: the previous image's config comes from the local cache (the push kept it), not the registry; the same image as --no-cache's, which keeps nothing" {
	local cfg1 cfg2 c0 m0 d2
	build --layer node_modules --tag "$PX_HOST/cfg/app:v1" --push
	cfg1=$(oci-fetch "$PX_HOST/cfg/app:v1" | jq -r .config.digest)
	cmp <(oci-fetch --config "$PX_HOST/cfg/app:v1") "$(cached "$cfg1")"
	echo 'console.log("v2")' >"$T/app/src/index.js"
	c0=$(gets "^/v2/cfg/app/blobs/$cfg1\$") m0=$(gets '^/v2/cfg/app/manifests/v1$')
	# (given: the default previous image is not asked for a layer made here that changed)
	build --layer node_modules --tag "$PX_HOST/cfg/app:v1" --push --cache-from "$PX_HOST/cfg/app:v1"
	d2=$DIGEST
	[[ $output == *"of $T/app: made"* ]]
	# the previous image was fetched (its tag asked), its config not
	[ "$(gets '^/v2/cfg/app/manifests/v1$')" -eq $((m0 + 1)) ]
	[ "$(gets "^/v2/cfg/app/blobs/$cfg1\$")" -eq "$c0" ]
	cfg2=$(oci-fetch "$PX_HOST/cfg/app:v1" | jq -r .config.digest)
	cmp <(oci-fetch --config "$PX_HOST/cfg/app:v1") "$(cached "$cfg2")"
	# --no-cache (which has no default --cache-from: given): the same image, the previous
	# image's config asked for, nothing kept
	rm -rf "$XDG_CACHE_HOME"
	c0=$(gets "^/v2/cfg/app/blobs/$cfg2\$")
	build --layer node_modules --tag "$PX_HOST/cfg/app:v1" --push --no-cache \
		--cache-from "$PX_HOST/cfg/app:v1"
	[ "$DIGEST" = "$d2" ]
	[ "$(gets "^/v2/cfg/app/blobs/$cfg2\$")" -eq $((c0 + 1)) ]
	[ ! -e "$XDG_CACHE_HOME/ocinoco" ]
}

@test "a layer made here that changed is made at once: the default previous image (the tag) is not fetched for it; given, it is" {
	local m0
	build --layer node_modules --tag "$PX_HOST/chg/app:v1" --push
	echo 'console.log("v3")' >"$T/app/src/index.js"
	m0=$(gets '^/v2/chg/app/manifests/v1$')
	build --layer node_modules --tag "$PX_HOST/chg/app:v1" --push
	[[ $output == *"of $T/app --layer node_modules: reused from the cache"* ]]
	[[ $output == *"of $T/app: made"* ]]
	# no GET of the tag's manifest: the previous image was not fetched (the one oci-put HEADs it)
	[ "$(gets '^/v2/chg/app/manifests/v1$')" -eq "$m0" ]
	echo 'console.log("v4")' >"$T/app/src/index.js"
	build --layer node_modules --tag "$PX_HOST/chg/app:v1" --push --cache-from "$PX_HOST/chg/app:v1"
	[ "$(gets '^/v2/chg/app/manifests/v1$')" -eq $((m0 + 1)) ]
}

@test "an index base: a rebuild asks only for the index by its tag, for one platform or for all" {
	local p n0 d1
	for p in linux/arm64 all; do
		build --from "$PX_HOST/base/multi:latest" --platform "$p" --tag "$PX_HOST/mb/app:${p//\//-}" --push
		d1=$DIGEST
		n0=$(gets '^/v2/base/multi/')
		[ "$(gets '^/v2/base/multi/manifests/latest$')" -ge 1 ]
		build --from "$PX_HOST/base/multi:latest" --platform "$p" --tag "$PX_HOST/mb/app:${p//\//-}" --push
		[ "$DIGEST" = "$d1" ]
		[ "$(gets '^/v2/base/multi/')" -eq $((n0 + 1)) ]
		[ "$(gets '^/v2/base/multi/manifests/latest$')" -ge 2 ]
	done
	# the arm64 image's config is the one kept
	cmp <(oci-fetch --platform linux/arm64 --config "$PX_HOST/base/multi:latest") \
		"$(cached "$(oci-fetch --platform linux/arm64 "$PX_HOST/base/multi:latest" | jq -r .config.digest)")"
}

@test "a damaged cached base config (bytes changed, truncated) is a warning naming it and the image is right; an unwritable cache a warning" {
	local cfg f d1 size
	cfg=$(oci-fetch "$PX_HOST/base/bb:latest" | jq -r .config.digest)
	build --tag "$PX_HOST/dmgc/app:v1" --push
	d1=$DIGEST f=$(cached "$cfg")
	size=$(stat -c %s "$f")
	sed -i 's/linux/LINUX/' "$f"
	build --tag "$PX_HOST/dmgc/app:v1" --push
	[[ $output == *"oci-fetch: $f: cached document ignored (its bytes hash to sha256:"*"): fetched again"* ]]
	[ "$DIGEST" = "$d1" ]
	head -c 10 "$f" >"$f.x" && mv "$f.x" "$f"
	build --tag "$PX_HOST/dmgc/app:v1" --push
	[[ $output == *"oci-fetch: $f: cached document ignored (10 bytes, not the $size its descriptor says): fetched again"* ]]
	[ "$DIGEST" = "$d1" ]
	cmp <(oci-fetch --config "$PX_HOST/base/bb:latest") "$f"
	echo x >"$T/file"
	build --tag "$PX_HOST/dmgc/app:v1" --push --cache "$T/file/cache"
	[[ $output == *"oci-fetch: $T/file/cache/blobs/sha256/${cfg#sha256:}: not cached: Not a directory"* ]]
	[ "$DIGEST" = "$d1" ]
}
