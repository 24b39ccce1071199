#!/usr/bin/env bats
# ocinoco pack: oci-tar | oci-digest as one command; what tar, bsdtar, zstd and sha256sum read
# back from its layer, and that OUT appears only when the whole pipeline succeeded.
bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/tree

setup_file() {
	unset SOURCE_DATE_EPOCH
	export SRC=$BATS_FILE_TMPDIR/src VARIANT=$BATS_FILE_TMPDIR/variant
	make_fixture_tree "$SRC"
	make_fixture_tree "$VARIANT" --variant
	export LAYER=$BATS_FILE_TMPDIR/layer.tzst DESC=$BATS_FILE_TMPDIR/layer.json
	ocinoco pack "$SRC" "$LAYER" >"$DESC" 2>/dev/null
}

setup() {
	unset SOURCE_DATE_EPOCH
	cd "$BATS_TEST_TMPDIR" || return 1
}

sha() { sha256sum "$@" | cut -d' ' -f1; }

# tree_manifest in a shell of its own: bats' debug traps make its loops several times slower.
manifest() {
	bash -c 'source "$TESTS_DIR/lib/tree.bash" && tree_manifest "$@"' manifest "$@"
}

# Runs a command without the capabilities that let root read any file.
as_unprivileged() {
	setpriv --bounding-set=-dac_override,-dac_read_search \
		--inh-caps=-dac_override,-dac_read_search -- "$@"
}

# Fails unless directory $1 holds exactly the names $2... (temporaries would show up here).
only_files() {
	local dir=$1
	shift
	local want got
	want=$(printf '%s\n' "$@" | LC_ALL=C sort)
	got=$(find "$dir" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort)
	[ "$want" = "$got" ] || { echo "in $dir: want [$want], got [$got]"; return 1; }
}

@test "pack prints the descriptor on stdout: digests are sha256sum of the layer and of zstd -d" {
	zstd -q -t "$LAYER"
	zstd -q -dc "$LAYER" >layer.tar
	printf '{"mediaType":"%s","digest":"sha256:%s","size":%s,"diffID":"sha256:%s"}\n' \
		application/vnd.oci.image.layer.v1.tar+zstd "$(sha "$LAYER")" \
		"$(stat -c %s "$LAYER")" "$(sha layer.tar)" | diff - "$DESC"
	# and the uncompressed layer is oci-tar's stream
	oci-tar "$SRC" 2>/dev/null | cmp - layer.tar
}

@test "pack_is_reproducible_across_inode_order_mtimes_and_atimes" {
	ocinoco pack "$VARIANT" variant.tzst >variant.json 2>/dev/null
	cmp "$LAYER" variant.tzst
	cmp "$DESC" variant.json
	ocinoco pack --compression gzip "$SRC" a.tgz >a.json 2>/dev/null
	ocinoco pack --compression gzip "$VARIANT" b.tgz >b.json 2>/dev/null
	cmp a.tgz b.tgz
	cmp a.json b.json
}

@test "GNU tar and bsdtar list the layer and extract the source tree from it" {
	zstd -q -dc "$LAYER" | tar -tvf - >gnu.list
	bsdtar -tvf "$LAYER" >bsd.list
	grep -q 'hard/b link to hard/a' gnu.list
	grep -q 'links/dangling -> does/not/exist' bsd.list
	[ "$(wc -l <gnu.list)" -eq "$(wc -l <bsd.list)" ]
	manifest "$SRC" --mtime 0 --uid 0 --gid 0 >want
	mkdir gnu bsd
	zstd -q -dc "$LAYER" | tar -xpf - --numeric-owner -C gnu
	manifest gnu | diff want -
	bsdtar -xpf "$LAYER" --numeric-owner -C bsd
	manifest bsd | diff want -
}

@test "OUT - streams the layer to stdout and the descriptor to stderr" {
	ocinoco pack "$SRC" - >stdout.tzst 2>stderr
	cmp "$LAYER" stdout.tzst
	grep -vF 'oci-tar: ' stderr | diff "$DESC" - # oci-tar warns about the socket
	ocinoco pack "$SRC" - 2>/dev/null | zstd -q -dc | tar -tf - >/dev/null
}

@test "oci-tar options pass through: --root-dir, --uid, --gid, --mtime, --exclude, --exclude-from" {
	printf '# comment\nlinks\n' >ignore
	ocinoco pack "$SRC" out.tzst --root-dir /app --uid 1000 --gid 2000 --mtime 1700000000 \
		--exclude 'order/*' --exclude '!order/a' --exclude-from ignore >desc 2>/dev/null
	zstd -q -dc out.tzst | tar -tvf - --numeric-owner --full-time >list
	[ "$(awk 'NR == 1 { print $1, $2, $4, $5, $6 }' list)" = \
		"drwxr-xr-x 1000/2000 2023-11-14 22:13:20 app/" ]
	grep -q ' app/regular.txt$' list
	grep -q ' app/order/a$' list
	run ! grep -q ' app/order/B$' list
	run ! grep -q 'links' list
	run ! grep -qv ' 1000/2000 ' list
	[ "$(jq -r .diffID desc)" = "sha256:$(zstd -q -dc out.tzst | sha)" ]
}

@test "gzip pack: every reader gets oci-tar's stream back; -T1 = -T2 = default, byte for byte" {
	# a tree of several 2 MiB blocks, so several members
	mkdir -p big
	seq 1 900000 >big/numbers
	head -c 2000000 /dev/urandom | base64 >big/random.b64
	cp -a "$SRC" big/src
	ocinoco pack --compression gzip big t0.tgz >t0.json 2>/dev/null
	ocinoco pack --compression gzip -T 1 big t1.tgz >t1.json 2>/dev/null
	ocinoco pack --compression gzip -T 2 big t2.tgz >t2.json 2>/dev/null
	cmp t0.tgz t1.tgz && cmp t0.tgz t2.tgz && cmp t0.json t1.json && cmp t0.json t2.json
	gzip -t t0.tgz
	oci-tar big 2>/dev/null >big.tar
	gzip -dc t0.tgz | cmp - big.tar
	python3 -c 'import gzip, sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())' t0.tgz |
		cmp - big.tar
	[ "$(bsdtar -tvf t0.tgz)" = "$(bsdtar -tvf big.tar)" ]
	bsdtar -xOf t0.tgz numbers | cmp - big/numbers
	[ "$(jq -r .diffID t0.json)" = "sha256:$(sha big.tar)" ]
	[ "$(jq -r .digest t0.json)" = "sha256:$(sha t0.tgz)" ]
	[ "$(jq -r .size t0.json)" = "$(stat -c %s t0.tgz)" ]
	# as small as gzip -6 within 1%
	[ "$(stat -c %s t0.tgz)" -le $(($(gzip -6 -n <big.tar | wc -c) * 101 / 100)) ]
}

@test "oci-digest options pass through: --compression, -l, -T" {
	ocinoco pack "$SRC" l.tgz --compression gzip >gz.json 2>/dev/null
	gzip -t l.tgz
	[ "$(jq -r .mediaType gz.json)" = application/vnd.oci.image.layer.v1.tar+gzip ]
	[ "$(jq -r .diffID gz.json)" = "$(jq -r .diffID "$DESC")" ]
	ocinoco pack "$SRC" l.tar --compression none >none.json 2>/dev/null
	zstd -q -dc "$LAYER" | cmp - l.tar
	[ "$(jq -r .mediaType none.json)" = application/vnd.oci.image.layer.v1.tar ]
	ocinoco pack -T 1 "$SRC" t1.tzst >/dev/null 2>&1
	cmp "$LAYER" t1.tzst
	ocinoco pack -l 19 "$SRC" l19.tzst >/dev/null 2>&1
	run ! cmp -s "$LAYER" l19.tzst
	zstd -q -t l19.tzst
}

@test "a missing DIR: oci-tar's message, exit 1, OUT not created, no temporary left" {
	mkdir out
	run_status 1 ocinoco pack "$BATS_TEST_TMPDIR/nope" out/l.tzst
	[[ $output == *"oci-tar: $BATS_TEST_TMPDIR/nope: No such file or directory"* ]]
	[[ $output == *"ocinoco: pack: failed"*"no layer written"* ]]
	only_files out
}

@test "an unreadable file inside DIR: message naming it, exit 1, OUT not created" {
	mkdir -p src/a out
	head -c 3000000 /dev/urandom >src/a/big # streamed before the failure is met
	echo secret >src/b-locked
	chmod 000 src/b-locked
	run_status 1 as_unprivileged ocinoco pack src out/l.tzst
	[[ $output == *"oci-tar: src/b-locked: Permission denied"* ]]
	only_files out
}

@test "a failed pack leaves an existing OUT as it was" {
	echo old >l.tzst
	run_status 1 ocinoco pack "$BATS_TEST_TMPDIR/nope" l.tzst
	[ "$(cat l.tzst)" = old ]
	only_files . l.tzst
}

@test "an unwritable OUT location: message naming OUT, exit 1, nothing created" {
	run_status 1 ocinoco pack "$SRC" nodir/l.tzst
	[[ $output == "ocinoco: pack: nodir/l.tzst: No such file or directory" ]]
	touch file
	run_status 1 ocinoco pack "$SRC" file/l.tzst
	[[ $output == "ocinoco: pack: file/l.tzst: Not a directory" ]]
	mkdir dir
	run_status 1 ocinoco pack "$SRC" dir
	[[ $output == "ocinoco: pack: dir: is a directory" ]]
	only_files . file dir
	only_files dir
}

@test "usage errors exit 2 and name the problem; OUT is not created" {
	run_status 2 ocinoco pack
	[[ $output == *"ocinoco: pack: missing DIR"* ]]
	[[ $output == *"usage: ocinoco pack DIR OUT"* ]]
	run_status 2 ocinoco pack "$SRC"
	[[ $output == *"missing OUT"* ]]
	run_status 2 ocinoco pack "$SRC" l.tzst extra
	[[ $output == *"unexpected argument: extra"* ]]
	run_status 2 ocinoco pack "$SRC" l.tzst --bogus
	[[ $output == *"unknown option: --bogus"* ]]
	run_status 2 ocinoco pack "$SRC" l.tzst --uid
	[[ $output == *"--uid needs a value"* ]]
	run_status 2 ocinoco pack "$SRC" l.tzst --uid nobody
	[[ $output == *"oci-tar: --uid: not a user id: nobody"* ]]
	run_status 2 ocinoco pack "$SRC" l.tzst --compression brotli
	[[ $output == *"oci-digest: -c brotli: expected zstd, gzip or none"* ]]
	run_status 2 ocinoco pack "$SRC" l.tzst -l 0
	mkdir -p src/sub
	run_status 2 ocinoco pack src src/sub/l.tzst
	[[ $output == *"pack: src/sub/l.tzst is inside src: write the layer elsewhere"* ]]
	run_status 2 ocinoco pack . l.tzst
	only_files src/sub
	rm -r src
	run_status 2 ocinoco frobnicate
	[[ $output == *"unknown command: frobnicate"* ]]
	only_files .
}

@test "--help prints the usage on stdout and exits 0" {
	run_status 0 ocinoco pack --help
	[[ ${lines[0]} == "usage: ocinoco pack DIR OUT [--root-dir PATH]"* ]]
	run_status 0 ocinoco --help
	[[ $output == *"ocinoco pack DIR OUT"* ]]
}

@test "killed, it leaves no temporary behind (OUT's directory and TMPDIR)" {
	mkdir out tmp
	mkfifo excludes # oci-tar waits on it, mid-pipeline, with every temporary in place
	# Its own session, so the whole pipeline can be signalled like a terminal's ^C does. (A
	# background job ignores SIGINT itself, so SIGTERM stands in for it here.)
	TMPDIR=$BATS_TEST_TMPDIR/tmp setsid ocinoco pack "$SRC" out/l.tzst --exclude-from excludes \
		>/dev/null 2>&1 &
	local pid=$!
	for _ in $(seq 100); do
		compgen -G 'out/.l.tzst.pack-*.tmp-*' >/dev/null && break
		sleep 0.1
	done
	compgen -G 'out/.l.tzst.pack-*' >/dev/null
	[ -n "$(ls -A tmp)" ]
	kill -TERM -- "-$pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL -- "-$pid"
		echo "still running 10 s after SIGTERM"
		return 1
	fi
	local status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	only_files out
	only_files tmp
}
