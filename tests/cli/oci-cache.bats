#!/usr/bin/env bats
# oci-cache: what get returns after put, and that no damaged entry is ever trusted.
load ../lib/common

setup() {
	export C=$BATS_TEST_TMPDIR/cache D=$BATS_TEST_TMPDIR/d.json
	mkdir -p "$BATS_TEST_TMPDIR/t/a"
	echo hello >"$BATS_TEST_TMPDIR/t/a/f"
	oci-tar "$BATS_TEST_TMPDIR/t" | oci-digest -d "$D" >/dev/null
	DIGEST=$(jq -r .digest "$D")
}

entry_file() {
	local f
	for f in "$C"/layers/*.json; do
		echo "$f"
	done
}

@test "get after put: the digest, the locations (merged, newest first) and the same descriptor" {
	run_status 1 oci-cache --dir "$C" get -d "$BATS_TEST_TMPDIR/out.json" sha256:k zstd 3
	[ -z "$output" ] && [ ! -e "$BATS_TEST_TMPDIR/out.json" ]
	run_status 0 oci-cache --dir "$C" put --at reg.example/app "$D" sha256:k zstd 3
	run_status 0 oci-cache --dir "$C" put --at oci:/x --at reg.example/app "$D" sha256:k zstd 3
	run_status 0 oci-cache --dir "$C" get -d "$BATS_TEST_TMPDIR/out.json" sha256:k zstd 3
	[ "${lines[0]}" = "$DIGEST" ] && [ "${lines[1]}" = oci:/x ] && [ "${lines[2]}" = reg.example/app ]
	[ ${#lines[@]} -eq 3 ]
	jq -e --slurpfile a "$D" '. == $a[0]' "$BATS_TEST_TMPDIR/out.json"
	# Another key (another level) is a miss.
	run_status 1 oci-cache --dir "$C" get sha256:k zstd 4
	[ "$(entry_file | wc -l)" -eq 1 ]
}

@test "seen RECIPE...: a line each, seen once put --recipe recorded it; exit 0 only when all were" {
	run_status 1 oci-cache --dir "$C" seen "/src a zstd" "/src b zstd"
	[ "$output" = $'unseen\nunseen' ]
	run_status 0 oci-cache --dir "$C" put --recipe "/src b zstd" "$D" sha256:k zstd 3
	run_status 1 oci-cache --dir "$C" seen "/src a zstd" "/src b zstd"
	[ "$output" = $'unseen\nseen' ]
	run_status 0 oci-cache --dir "$C" seen "/src b zstd"
	[ "$output" = seen ]
	run_status 2 oci-cache --dir "$C" seen
	run_status 2 oci-cache --dir "$C" seen "/src b zstd" ""
}

@test "a truncated, garbage, edited or misplaced entry is ignored with a warning, then rebuilt" {
	oci-cache --dir "$C" put "$D" sha256:k zstd
	local f
	f=$(entry_file)
	cp "$f" "$BATS_TEST_TMPDIR/good"
	head -c 40 "$BATS_TEST_TMPDIR/good" >"$f"
	run_status 1 oci-cache --dir "$C" get sha256:k zstd
	[[ $output == *"$f: entry ignored (not JSON"* ]]
	head -c 3000 /dev/urandom >"$f"
	run_status 1 oci-cache --dir "$C" get sha256:k zstd
	[[ $output == *'entry ignored'* ]]
	# A wrong digest (the check no longer matches).
	sed 's/"digest":"sha256:./"digest":"sha256:0/' "$BATS_TEST_TMPDIR/good" >"$f"
	run_status 1 cmp -s "$f" "$BATS_TEST_TMPDIR/good"
	run_status 1 oci-cache --dir "$C" get sha256:k zstd
	[[ $output == *'its check does not match its descriptor'* ]]
	# Another key's entry in this key's place.
	oci-cache --dir "$C" put "$D" sha256:other
	local g
	for g in "$C"/layers/*.json; do [ "$g" = "$f" ] || cp "$g" "$f"; done
	run_status 1 oci-cache --dir "$C" get sha256:k zstd
	[[ $output == *'the entry of another key'* ]]
	# put rebuilds it.
	run_status 0 oci-cache --dir "$C" put "$D" sha256:k zstd
	run_status 0 oci-cache --dir "$C" get sha256:k zstd
	[ "$output" = "$DIGEST" ]
}

@test "an unwritable cache is a warning and exit 0; a bad descriptor exit 1; usage exit 2" {
	# A cache under a regular file cannot be written, even by root.
	echo x >"$BATS_TEST_TMPDIR/file"
	run_status 0 oci-cache --dir "$BATS_TEST_TMPDIR/file/cache" put "$D" k
	[[ $output == *'the entry is not stored: Not a directory'* ]]
	run_status 1 oci-cache --dir "$BATS_TEST_TMPDIR/file/cache" get k
	echo '{"digest":"x"}' >"$BATS_TEST_TMPDIR/bad.json"
	run_status 1 oci-cache --dir "$BATS_TEST_TMPDIR/c2" put "$BATS_TEST_TMPDIR/bad.json" k
	run_status 2 oci-cache get
	run_status 2 oci-cache --dir "$C" get
	run_status 2 oci-cache frob k
	run_status 2 oci-cache --dir "$C" put "$D" "$(printf 'a\nb')"
	# The default directory: XDG_CACHE_HOME, then HOME.
	XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg oci-cache put "$D" k
	[ -n "$(ls "$BATS_TEST_TMPDIR/xdg/ocinoco/layers")" ]
	HOME=$BATS_TEST_TMPDIR/home XDG_CACHE_HOME='' oci-cache put "$D" k
	[ -n "$(ls "$BATS_TEST_TMPDIR/home/.cache/ocinoco/layers")" ]
}

@test "puts from many processes at once on one key: every get a hit with the right descriptor" {
	local i
	for i in $(seq 1 16); do
		oci-cache --dir "$C" put --at "reg/r$i" "$D" sha256:k &
	done
	for i in $(seq 1 16); do
		oci-cache --dir "$C" get sha256:k >"$BATS_TEST_TMPDIR/g$i" 2>&1 || true
	done
	wait
	run_status 0 oci-cache --dir "$C" get sha256:k
	[ "${lines[0]}" = "$DIGEST" ]
	# A get during the puts saw a whole entry or none, never a damaged one.
	[ "$(cat "$BATS_TEST_TMPDIR"/g* | grep -c ignored)" -eq 0 ]
	[ -z "$(find "$C" -name '*.tmp-*')" ]
}

@test "match: the previous image's layer of the same diffID and compression, else a miss" {
	local t=$BATS_TEST_TMPDIR
	oci-tar "$t/t" | oci-digest -c none -d "$t/raw.json" >/dev/null
	oci-graft --scratch --platform linux/amd64 --layer "$D" --config-out "$t/config.json" \
		-o "$t/manifest.json"
	run_status 0 oci-cache match -d "$t/got.json" -c zstd "$t/raw.json" "$t/manifest.json" "$t/config.json"
	[ "$output" = "$DIGEST" ]
	jq -e --slurpfile a "$D" '. == $a[0]' "$t/got.json"
	# Another compression, another tree: a miss.
	run_status 1 oci-cache match -c gzip "$t/raw.json" "$t/manifest.json" "$t/config.json"
	[ -z "$output" ]
	echo other >"$t/t/a/g"
	oci-tar "$t/t" | oci-digest -c none -d "$t/raw2.json" >/dev/null
	run_status 1 oci-cache match -c zstd "$t/raw2.json" "$t/manifest.json" "$t/config.json"
	run_status 2 oci-cache match -c lz4 "$t/raw.json" "$t/manifest.json" "$t/config.json"
}
