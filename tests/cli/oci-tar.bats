#!/usr/bin/env bats
# oci-tar: what GNU tar, bsdtar and a raw header reader (Python's tarfile rules, by hand) see in
# its output, for every file type and name of the fixture tree, its options and its failures.
load ../lib/common
load ../lib/tree

setup_file() {
	export SRC="$BATS_FILE_TMPDIR/src" VARIANT="$BATS_FILE_TMPDIR/variant"
	make_fixture_tree "$SRC"
	make_fixture_tree "$VARIANT" --variant
	echo "$FIXTURE_DEVICES" >"$BATS_FILE_TMPDIR/devices"
	echo "${FIXTURE_DEVICES_SKIP-}" >"$BATS_FILE_TMPDIR/devices-skip"
	oci-tar "$SRC" >"$BATS_FILE_TMPDIR/src.tar" 2>"$BATS_FILE_TMPDIR/src.err"
	export TAR="$BATS_FILE_TMPDIR/src.tar"
}

# Every header of a tar, one line each: typeflag, name (from pax if there), mode, uid, gid,
# mtime, size; for a pax header its name and records (a path by its length); "BAD ..." for a wrong checksum, magic or non-empty uname/gname. Seeks over file data,
# so an 8 GiB member costs nothing.
tar_headers() {
	local py
	py=$(command -v /usr/bin/python3 python3 | head -n 1)
	"$py" - "$1" <<'PY'
import sys
def num(f):
    if f[0] & 0x80:
        v = int.from_bytes(f[1:], 'big')
        return v - (1 << (8 * len(f) - 8)) if f[0] == 0xff else v
    return int(f.split(b'\0')[0].strip() or b'0', 8)
f = open(sys.argv[1], 'rb')
pax = {}
while True:
    h = f.read(512)
    if len(h) < 512:
        print('TRUNCATED'); break
    if h == bytes(512):
        print('END'); break
    if num(h[148:156]) != sum(h[:148]) + 32 * 8 + sum(h[156:]):
        print('BAD checksum')
    if h[257:265] != b'ustar\x0000' or h[265:329].strip(b'\0'):
        print('BAD magic or uname/gname')
    name = h[:100].split(b'\0')[0]
    if h[345:500].strip(b'\0'):
        name = h[345:500].split(b'\0')[0] + b'/' + name
    size = num(h[124:136])
    t = chr(h[156])
    if t == 'x':
        recs = f.read((size + 511) // 512 * 512)[:size]
        pax, keys, at = {}, [], 0
        while at < size:
            n = int(recs[at:recs.index(b' ', at)])
            k, v = recs[recs.index(b' ', at) + 1:at + n - 1].split(b'=', 1)
            pax[k.decode()] = v
            keys.append(k.decode() + '=' + (v.decode('utf-8', 'replace') if k != b'path' else str(len(v))))
            at += n
        print('x', name.decode('utf-8', 'replace'), ' '.join(keys))
        continue
    if 'size' in pax:
        size = int(pax['size'])
    path = repr(pax.get('path', name).decode('utf-8', 'surrogateescape'))[1:-1]
    print(t, path, '%o' % num(h[100:108]), num(h[108:116]), num(h[116:124]), num(h[136:148]), size)
    pax = {}
    if t in '07':
        f.seek((size + 511) // 512 * 512, 1)
PY
}

# The output of a failed run is not a complete archive: no end-of-archive blocks.
assert_no_eoa() {
	local size
	size=$(stat -c %s "$1")
	if [ "$size" -ge 1024 ] && ! tail -c 1024 "$1" | tr -d '\0' | grep -q .; then
		echo "$1 ends with an end-of-archive marker" >&2
		return 1
	fi
}

# A FUSE mount made by a test (fuse_overlay_mount) is unmounted by its path, whatever happened.
teardown() {
	if [ -n "${FUSE_MNT-}" ] && mountpoint -q "$FUSE_MNT"; then
		fusermount3 -u "$FUSE_MNT" 2>/dev/null || fusermount -u "$FUSE_MNT" 2>/dev/null ||
			umount -l "$FUSE_MNT"
	fi
}

# Mounts fuse-overlayfs with lower dir $1 on a new mount point FUSE_MNT (an empty upper dir);
# skips the test with the reason where FUSE is missing or the mount is refused.
fuse_overlay_mount() {
	[ -c /dev/fuse ] || skip "FUSE is missing: no /dev/fuse"
	command -v fuse-overlayfs >/dev/null || skip "FUSE test: fuse-overlayfs is not installed"
	local d=$BATS_TEST_TMPDIR/fuse
	mkdir -p "$d/upper" "$d/work" "$d/mnt"
	if ! fuse-overlayfs -o "lowerdir=$1,upperdir=$d/upper,workdir=$d/work" "$d/mnt" \
		2>"$d/mount.err"; then
		skip "FUSE mount refused: $(head -n 1 "$d/mount.err")"
	fi
	FUSE_MNT=$d/mnt
}

fuse_unmount() {
	fusermount3 -u "$FUSE_MNT" || fusermount -u "$FUSE_MNT"
}

# Runs oci-tar without the capabilities that let root read anything.
as_unprivileged() {
	setpriv --bounding-set=-dac_override,-dac_read_search \
		--inh-caps=-dac_override,-dac_read_search -- "$@"
}

@test "--help prints the usage on stdout and exits 0" {
	run_status 0 oci-tar --help
	[[ $output == "usage: oci-tar [--root-dir PATH]"* ]]
	run_status 0 oci-tar -h
	[[ $output == "usage: oci-tar"* ]]
}

@test "GNU tar extracts every entry of the fixture tree as it was" {
	local out="$BATS_TEST_TMPDIR/gnu"
	mkdir "$out"
	tar -xpf "$TAR" --numeric-owner -C "$out"
	diff <(tree_manifest "$SRC" --mtime 0 --uid 0 --gid 0) <(tree_manifest "$out")
	if [ "$(cat "$BATS_FILE_TMPDIR/devices")" = yes ]; then
		tree_manifest "$out" | grep -qxF 'special/chardev c 600 0 0 0 1,3'
		tree_manifest "$out" | grep -qxF 'special/blockdev b 640 0 0 0 7,0'
	fi
}

@test "bsdtar extracts every entry of the fixture tree as it was" {
	local out="$BATS_TEST_TMPDIR/bsd"
	mkdir "$out"
	bsdtar -xpf "$TAR" --numeric-owner -C "$out"
	diff <(tree_manifest "$SRC" --mtime 0 --uid 0 --gid 0) <(tree_manifest "$out")
}

@test "character and block devices keep their numbers (skipped when mknod is not allowed)" {
	if [ "$(cat "$BATS_FILE_TMPDIR/devices")" = no ]; then
		skip "no devices in the fixture: $(cat "$BATS_FILE_TMPDIR/devices-skip")"
	fi
	tar tvf "$TAR" | grep -E '^crw------- 0/0 +1,3 .* special/chardev$'
	tar tvf "$TAR" | grep -E '^brw-r----- 0/0 +7,0 .* special/blockdev$'
	bsdtar tvf "$TAR" | grep -E '^crw------- .* 1,3 .* special/chardev$'
	bsdtar tvf "$TAR" | grep -E '^brw-r----- .* 7,0 .* special/blockdev$'
}

@test "entries come in GNU tar --sort=name order, no ./ prefix, directories with /" {
	diff <(tar --sort=name --format=posix -C "$SRC" -cf - . 2>/dev/null | tar tf - | sed -n 's|^\./\(.\)|\1|p') \
		<(tar tf "$TAR")
	tar tf "$TAR" | grep -qx 'order/a-dir/'
	run grep -c '^\./\|^/' <(tar tf "$TAR")
	[ "$output" = 0 ]
}

@test "a socket is skipped with a warning naming it, and the run succeeds" {
	grep -qx "oci-tar: $SRC/special/socket: socket skipped" "$BATS_FILE_TMPDIR/src.err"
	[ "$(wc -l <"$BATS_FILE_TMPDIR/src.err")" -eq 1 ]
	run grep -c socket <(tar tf "$TAR")
	[ "$output" = 0 ]
	tail -c 1024 "$TAR" | cmp -s - <(head -c 1024 /dev/zero)
}

@test "headers are ustar, with a pax header only for what ustar cannot hold" {
	run tar_headers "$TAR"
	[[ $output != *BAD* ]]
	[ "${lines[${#lines[@]} - 1]}" = END ]
	local pax
	pax=$(grep '^x ' <<<"$output")
	# A 150-byte name, a path over 255 bytes, a directory of 251 bytes that cannot be split
	# (its last 100 bytes hold no '/' after a 155-byte prefix), a target over 100 bytes.
	[ "$(wc -l <<<"$pax")" -eq 4 ]
	grep -qx 'x long/PaxHeaders/n\{84\} path=155' <<<"$pax"
	grep -qx 'x long/d\{40\}/d\{40\}/d\{13\} path=274' <<<"$pax"
	grep -qx 'x long/d\{40\}/d\{40\}/d\{13\} path=251' <<<"$pax"
	grep -qx 'x links/PaxHeaders/long-target linkpath=n\{150\}/beyond/100/bytes' <<<"$pax"
	# The 101-byte path goes in ustar's prefix and name fields.
	grep -qx "0 long/0\{96\} 644 0 0 0 10" <<<"$output"
	[[ $output != *atime* && $output != *ctime* && $output != *PaxHeaders.* ]]
}

@test "the same tree made in another order with other mtimes and atimes gives the same bytes" {
	diff <(tree_manifest "$SRC" --mtime 0) <(tree_manifest "$VARIANT" --mtime 0)
	[ "$(stat -c %Y "$SRC/regular.txt")" != "$(stat -c %Y "$VARIANT/regular.txt")" ]
	[ "$(stat -c %i "$SRC/hard/a")" != "$(stat -c %i "$VARIANT/hard/a")" ]
	oci-tar "$VARIANT" 2>/dev/null | cmp - "$TAR"
	cmp <(SOURCE_DATE_EPOCH=1700000000 oci-tar "$SRC" 2>/dev/null) \
		<(SOURCE_DATE_EPOCH=1700000000 oci-tar "$VARIANT" 2>/dev/null)
	cmp <(oci-tar --mtime 5 --uid 7 --root-dir /x "$SRC" 2>/dev/null) \
		<(oci-tar --mtime 5 --uid 7 --root-dir /x "$VARIANT" 2>/dev/null)
	# and the same bytes again on a second run
	oci-tar "$SRC" 2>/dev/null | cmp - "$TAR"
}

@test "a pipe and a regular file get the same bytes (holes are seeked over in a file)" {
	oci-tar "$SRC" 2>/dev/null | cat >"$BATS_TEST_TMPDIR/piped.tar"
	cmp "$BATS_TEST_TMPDIR/piped.tar" "$TAR"
	tar xOf "$TAR" sparse | cmp - "$SRC/sparse"
}

@test "--mtime keep stores each entry's own mtime" {
	local out="$BATS_TEST_TMPDIR/keep"
	mkdir "$out"
	oci-tar --mtime keep "$SRC" 2>/dev/null | tar -xpf - --numeric-owner -C "$out"
	diff <(tree_manifest "$SRC" --uid 0 --gid 0) <(tree_manifest "$out")
	tar tvf <(oci-tar --mtime keep "$SRC" 2>/dev/null) --full-time --utc | grep -q ' 2009-02-13 23:31:30 regular.txt$'
}

@test "mtime: 0 by default, SOURCE_DATE_EPOCH, --mtime over both, negative in pax" {
	local d="$BATS_TEST_TMPDIR/m"
	mkdir "$d" && touch "$d/f"
	run tar_headers <(env -u SOURCE_DATE_EPOCH oci-tar "$d")
	[ "${lines[0]}" = "0 f 644 0 0 0 0" ]
	run tar_headers <(SOURCE_DATE_EPOCH=1700000000 oci-tar "$d")
	[ "${lines[0]}" = "0 f 644 0 0 1700000000 0" ]
	run tar_headers <(SOURCE_DATE_EPOCH=1700000000 oci-tar --mtime 42 "$d")
	[ "${lines[0]}" = "0 f 644 0 0 42 0" ]
	run tar_headers <(oci-tar --mtime=-1 "$d")
	[ "${lines[0]}" = "x ./PaxHeaders/f mtime=-1" ]
	[ "${lines[1]}" = "0 f 644 0 0 -1 0" ]
	tar tvf <(oci-tar --mtime -1 "$d") --full-time --utc | grep -q ' 1969-12-31 23:59:59 f$'
	run tar_headers <(oci-tar --mtime 8589934592 "$d")
	[ "${lines[0]}" = "x ./PaxHeaders/f mtime=8589934592" ]
}

@test "--uid and --gid own every entry; ids past ustar's octal go in pax" {
	tar tvf <(oci-tar --uid 1000 --gid 2000 "$SRC" 2>/dev/null) | awk '{print $2}' | sort -u | grep -qx 1000/2000
	[ "$(tar tvf <(oci-tar --uid 1000 --gid 2000 "$SRC" 2>/dev/null) | awk '{print $2}' | sort -u | wc -l)" -eq 1 ]
	local d="$BATS_TEST_TMPDIR/ids"
	mkdir "$d" && touch "$d/f"
	run tar_headers <(oci-tar --uid 3000000 --gid 4294967295 "$d")
	[ "${lines[0]}" = "x ./PaxHeaders/f gid=4294967295 uid=3000000" ]
	tar tvf <(oci-tar --uid 3000000 --gid 4294967295 "$d") | grep -q ' 3000000/4294967295 '
	bsdtar tvf <(oci-tar --uid 3000000 --gid 4294967295 "$d") | grep -Eq ' 3000000 +4294967295 '
}

@test "--root-dir /app: app/ first with DIR's mode and the owner, no parents, links inside" {
	chmod 0750 "$SRC"
	oci-tar --root-dir /app --uid 5 --gid 6 "$SRC" >"$BATS_TEST_TMPDIR/app.tar" 2>/dev/null
	chmod 0755 "$SRC"
	run tar_headers "$BATS_TEST_TMPDIR/app.tar"
	[ "${lines[0]}" = "5 app/ 750 5 6 0 0" ]
	[ "${lines[1]}" = "0 app/back\\\\slash 644 5 6 0 10" ]
	local list
	list=$(tar tvf "$BATS_TEST_TMPDIR/app.tar")
	grep -q '^drwxr-x--- 5/6 .* app/$' <<<"$list"
	grep -q 'app/zz-hard-elsewhere link to app/hard/a$' <<<"$list"
	run grep -vc ' app/' <<<"$list"
	[ "$output" = 0 ]
	run tar_headers <(oci-tar --root-dir /opt//app/ "$SRC" 2>/dev/null)
	[[ ${lines[0]} == "5 opt/app/ 755 "* ]]
	[[ $output != *"5 opt/ "* ]]
	cmp <(oci-tar --root-dir / "$SRC" 2>/dev/null) "$TAR"
	cmp <(oci-tar --root-dir ./ "$SRC" 2>/dev/null) "$TAR"
}

@test "--root-dir with .. is a usage error" {
	run_status 2 oci-tar --root-dir /app/../etc "$SRC"
	[[ $output == *"--root-dir must not contain '..'"* ]]
}

@test "an 8 GiB sparse file: the size in a pax record, listed right by GNU tar and bsdtar" {
	local d="$BATS_TEST_TMPDIR/big"
	mkdir "$d"
	truncate -s 8G "$d/huge"
	printf 'tail' >>"$d/huge"
	# A regular file as stdout: the holes are seeked over, so this writes a few blocks.
	oci-tar "$d" >"$BATS_TEST_TMPDIR/big.tar"
	run tar_headers "$BATS_TEST_TMPDIR/big.tar"
	[ "${lines[0]}" = "x ./PaxHeaders/huge size=8589934596" ]
	[ "${lines[1]}" = "0 huge 644 0 0 0 8589934596" ]
	[ "${lines[2]}" = END ]
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/big.tar")" -eq $((1536 + 8589934596 + 508 + 1024)) ]
	tar tvf "$BATS_TEST_TMPDIR/big.tar" | grep -q ' 8589934596 .* huge$'
	bsdtar tvf "$BATS_TEST_TMPDIR/big.tar" | grep -q ' 8589934596 .* huge$'
	[ "$(tail -c 1536 "$BATS_TEST_TMPDIR/big.tar" | head -c 4)" = tail ]
	# Through a pipe the header comes first: the size record is in the first two blocks.
	oci-tar "$d" | head -c 1024 | grep -aq '19 size=8589934596'
}

@test "a big file is streamed: memory does not grow with the file" {
	local d="$BATS_TEST_TMPDIR/stream" small big
	mkdir -p "$d/small" "$d/big"
	head -c 1M /dev/zero >"$d/small/f"
	head -c 64M /dev/zero >"$d/big/f"
	small=$( { /usr/bin/time -f %M oci-tar "$d/small" | tail -c 1024 >/dev/null; } 2>&1)
	big=$( { /usr/bin/time -f %M oci-tar "$d/big" | tail -c 1024 >/dev/null; } 2>&1)
	echo "max RSS: ${small} KB for 1 MiB, ${big} KB for 64 MiB" >&2
	[ "$big" -lt $((small + 2048)) ]
}

@test "DIR missing or not a directory: message naming it, exit 1, no output" {
	run_status 1 oci-tar "$BATS_TEST_TMPDIR/nope"
	[ "$output" = "oci-tar: $BATS_TEST_TMPDIR/nope: No such file or directory" ]
	run_status 1 oci-tar "$SRC/regular.txt"
	[ "$output" = "oci-tar: $SRC/regular.txt: Not a directory" ]
	oci-tar "$BATS_TEST_TMPDIR/nope" >"$BATS_TEST_TMPDIR/out" 2>/dev/null || true
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
}

@test "an unreadable file or directory: message naming it, exit 1, no end of archive" {
	local d="$BATS_TEST_TMPDIR/unreadable"
	mkdir -p "$d/a" "$d/c"
	head -c 3M /dev/urandom >"$d/a/big"
	echo secret >"$d/b-file"
	chmod 000 "$d/b-file"
	local rc=0
	as_unprivileged oci-tar "$d" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || rc=$?
	[ "$rc" -eq 1 ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "oci-tar: $d/b-file: Permission denied" ]
	[ -s "$BATS_TEST_TMPDIR/out" ] # what came before was written...
	assert_no_eoa "$BATS_TEST_TMPDIR/out" # ...but not the end
	run tar tf "$BATS_TEST_TMPDIR/out"
	[ "$status" -ne 0 ]
	chmod 644 "$d/b-file"
	chmod 000 "$d/c"
	rc=0
	as_unprivileged oci-tar "$d" >/dev/null 2>"$BATS_TEST_TMPDIR/err" || rc=$?
	[ "$rc" -eq 1 ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "oci-tar: $d/c: Permission denied" ]
	chmod 755 "$d/c"
}

# oci-tar blocks writing into a pipe the reader does not drain; the reader changes the file only
# after the file's header arrived (its size is fixed by then), and only then drains the rest.
change_while_read() {
	local dir=$1
	shift
	set -o pipefail
	oci-tar "$dir" | {
		head -c 1024 >"$BATS_TEST_TMPDIR/out"
		"$@"
		cat >>"$BATS_TEST_TMPDIR/out"
	}
}

@test "a file that shrinks while it is read: error naming it, exit 1, archive cut short" {
	local d="$BATS_TEST_TMPDIR/shrink"
	mkdir "$d"
	head -c 8M /dev/urandom >"$d/f"
	run change_while_read "$d" truncate -s 1M "$d/f"
	[ "$status" -eq 1 ]
	[ "$output" = "oci-tar: $d/f: file changed size while being read (shrank below 8388608 bytes)" ]
	assert_no_eoa "$BATS_TEST_TMPDIR/out"
	run tar tf "$BATS_TEST_TMPDIR/out"
	[ "$status" -ne 0 ]
}

@test "a file that grows while it is read: error naming it, exit 1" {
	local d="$BATS_TEST_TMPDIR/grow"
	mkdir "$d"
	head -c 8M /dev/urandom >"$d/f"
	run change_while_read "$d" truncate -s +4 "$d/f"
	[ "$status" -eq 1 ]
	[ "$output" = "oci-tar: $d/f: file changed size while being read (grew beyond 8388608 bytes)" ]
	assert_no_eoa "$BATS_TEST_TMPDIR/out"
}

@test "a sparse file that shrinks or grows while it is read: error, exit 1" {
	local d="$BATS_TEST_TMPDIR/sparse"
	mkdir "$d"
	truncate -s 64M "$d/f"
	run change_while_read "$d" truncate -s 0 "$d/f"
	[ "$status" -eq 1 ]
	[ "$output" = "oci-tar: $d/f: file changed size while being read (shrank below 67108864 bytes)" ]
	run tar tf "$BATS_TEST_TMPDIR/out"
	[ "$status" -ne 0 ]
	truncate -s 64M "$d/f"
	run change_while_read "$d" truncate -s 65M "$d/f"
	[ "$status" -eq 1 ]
	[ "$output" = "oci-tar: $d/f: file changed size while being read (grew beyond 67108864 bytes)" ]
}

@test "usage errors exit 2 with the usage" {
	run_status 2 oci-tar
	[[ $output == *"missing DIR"*"usage: oci-tar"* ]]
	run_status 2 oci-tar "$SRC" "$SRC"
	run_status 2 oci-tar --bogus "$SRC"
	[[ $output == *"unknown option: --bogus"* ]]
	run_status 2 oci-tar --uid abc "$SRC"
	run_status 2 oci-tar --uid -1 "$SRC"
	run_status 2 oci-tar --gid 4294967296 "$SRC"
	run_status 2 oci-tar --mtime yesterday "$SRC"
	run_status 2 oci-tar --mtime
	[[ $output == *"needs a value"* ]]
	SOURCE_DATE_EPOCH=soon run_status 2 oci-tar "$SRC"
	[[ $output == *"SOURCE_DATE_EPOCH"* ]]
	run_status 2 oci-tar --exclude '[' "$SRC"
	[[ $output == *"syntax error in pattern: ["* ]]
	run_status 2 oci-tar --exclude '!' "$SRC"
	[[ $output == *'illegal exclusion pattern: "!"'* ]]
	run_status 1 oci-tar --exclude-from "$BATS_TEST_TMPDIR/none" "$SRC"
	[ "$output" = "oci-tar: $BATS_TEST_TMPDIR/none: No such file or directory" ]
	printf 'ok\n[z\n' >"$BATS_TEST_TMPDIR/bad-ignore"
	run_status 2 oci-tar --exclude-from "$BATS_TEST_TMPDIR/bad-ignore" "$SRC"
	[[ $output == *"bad-ignore: line 2: syntax error in pattern: [z"* ]]
}

@test "stdout a terminal: refused, exit 2" {
	run script -qec "oci-tar '$SRC'" /dev/null
	[ "$status" -eq 2 ]
	[[ $output == *"refusing to write a tar stream to a terminal"* ]]
}

# A small tree for the exclude tests.
make_exclude_tree() {
	local d=$1
	mkdir -p "$d/sub" "$d/node_modules/pkg" "$d/node_modules/other"
	for f in README.md README-secret.md CHANGES.md a.txt keep.txt sub/b.txt sub/c.log \
		node_modules/pkg/index.js node_modules/pkg/keep.js node_modules/other/x.js; do
		echo "$f" >"$d/$f"
	done
	chmod 0750 "$d/node_modules"
}

listing() {
	tar tf <(oci-tar "$@") | tr '\n' ' '
}

@test "--exclude: '*' stays in its directory, '**' crosses them, a directory takes its tree" {
	local d="$BATS_TEST_TMPDIR/ex"
	make_exclude_tree "$d"
	[ "$(listing --exclude '*.txt' --exclude node_modules "$d")" = \
		"CHANGES.md README-secret.md README.md sub/ sub/b.txt sub/c.log " ]
	[ "$(listing --exclude '**/*.txt' --exclude '**/*.js' "$d")" = \
		"CHANGES.md README-secret.md README.md node_modules/ node_modules/other/ node_modules/pkg/ sub/ sub/c.log " ]
	[ "$(listing --exclude 'sub/*' --exclude node_modules --exclude '*.md' "$d")" = "a.txt keep.txt sub/ " ]
	# Patterns are relative to DIR, also under --root-dir.
	[ "$(listing --root-dir /app --exclude sub --exclude node_modules --exclude '*.md' "$d")" = \
		"app/ app/a.txt app/keep.txt " ]
}

@test "--exclude '!': a later exception re-includes, even inside an excluded directory" {
	local d="$BATS_TEST_TMPDIR/ex"
	make_exclude_tree "$d"
	[ "$(listing --exclude '*.md' --exclude '!README*.md' --exclude README-secret.md --exclude sub \
		--exclude '*.txt' --exclude node_modules "$d")" = "README.md " ]
	# The excluded node_modules/ is written (with its own mode) only because keep.js is kept.
	run tar tvf <(oci-tar --exclude node_modules --exclude '!node_modules/pkg/keep.js' \
		--exclude '*.md' --exclude '*.txt' --exclude sub "$d")
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[0]} == "drwxr-x--- 0/0 "*" node_modules/" ]]
	[[ ${lines[1]} == *" node_modules/pkg/" ]]
	[[ ${lines[2]} == *" node_modules/pkg/keep.js" ]]
	# An exception with a wildcard walks every excluded directory.
	[ "$(listing --exclude node_modules --exclude sub --exclude '*.*' --exclude '!**/keep.*' "$d")" = \
		"keep.txt node_modules/ node_modules/pkg/ node_modules/pkg/keep.js " ]
	# So does one whose wildcard is a component before its trailing "/**": what is under any
	# node_modules/X (found by fuzz_exclude: node_modules/pkg was not walked).
	[ "$(listing --exclude node_modules --exclude '*.*' --exclude sub --exclude '!node_modules/*/**' "$d")" = \
		"node_modules/ node_modules/other/ node_modules/other/x.js node_modules/pkg/ node_modules/pkg/index.js node_modules/pkg/keep.js " ]
}

@test "--exclude-from reads .dockerignore syntax: comments, blanks, !, ./ and / cleaned" {
	local d="$BATS_TEST_TMPDIR/ex"
	make_exclude_tree "$d"
	printf '\xef\xbb\xbf# a comment\r\n\r\n/node_modules/\n./sub//\n  *.txt  \n! keep.txt\n#*.md\n' \
		>"$BATS_TEST_TMPDIR/.dockerignore"
	[ "$(listing --exclude-from "$BATS_TEST_TMPDIR/.dockerignore" "$d")" = \
		"CHANGES.md README-secret.md README.md keep.txt " ]
	# the same as the patterns given one by one
	[ "$(listing --exclude node_modules --exclude sub --exclude '*.txt' --exclude '!keep.txt' "$d")" = \
		"CHANGES.md README-secret.md README.md keep.txt " ]
}

@test "a hard link whose first path is excluded: the next path carries the data" {
	run tar tvf <(oci-tar --exclude hard/a "$SRC" 2>/dev/null)
	[[ $output == *"-rw-r--r-- 0/0              12 1970-01-01 00:00 hard/b"* ]]
	[[ $output == *"zz-hard-elsewhere link to hard/b"* ]]
	[[ $output != *"hard/a"* ]]
}

@test "an excluded directory is not opened unless an exception could reach inside it" {
	local d="$BATS_TEST_TMPDIR/ex"
	make_exclude_tree "$d"
	mkdir "$d/locked" && echo x >"$d/locked/x" && chmod 000 "$d/locked"
	run as_unprivileged oci-tar "$d"
	[ "$status" -eq 1 ]
	[[ $output == *"$d/locked: Permission denied"* ]]
	run as_unprivileged oci-tar --exclude locked "$d"
	[ "$status" -eq 0 ]
	# An exception under it makes it walked; unreadable and excluded, it is skipped (as fsutil).
	run as_unprivileged oci-tar --exclude locked --exclude '!locked/x' "$d"
	[ "$status" -eq 0 ]
	chmod 755 "$d/locked"
	[[ "$(listing --exclude '*' --exclude '!locked/x' "$d")" == "locked/ locked/x " ]]
}

@test "DIR given as a symlink to a directory is followed; nothing under it is" {
	ln -s "$SRC" "$BATS_TEST_TMPDIR/link"
	oci-tar "$BATS_TEST_TMPDIR/link" 2>/dev/null | cmp - "$TAR"
}

@test "a fresh FUSE mount gives the bytes of the plain directory: hard links, holes, every run" {
	# The first path of the linked file is in DIR itself, the others in subdirectories not
	# looked up yet: a fresh fuse-overlayfs mount says st_nlink 1 for it.
	local d="$BATS_TEST_TMPDIR/linked"
	mkdir -p "$d/x" "$d/y"
	echo shared >"$d/first"
	ln "$d/first" "$d/x/second"
	ln "$d/first" "$d/y/third"
	echo own >"$d/x/single"
	truncate -s 1M "$d/y/sparse"
	printf end >>"$d/y/sparse"
	oci-tar "$d" >"$BATS_TEST_TMPDIR/plain.tar"
	tar tvf "$BATS_TEST_TMPDIR/plain.tar" | grep -q ' x/second link to first$'
	tar tvf "$BATS_TEST_TMPDIR/plain.tar" | grep -q ' y/third link to first$'
	fuse_overlay_mount "$d"
	[ "$(stat -f -c %T "$FUSE_MNT")" = fuseblk ] || [ "$(stat -f -c %t "$FUSE_MNT")" = 65735546 ]
	oci-tar "$FUSE_MNT" >"$BATS_TEST_TMPDIR/first.tar"
	oci-tar "$FUSE_MNT" >"$BATS_TEST_TMPDIR/second.tar"
	fuse_unmount
	cmp "$BATS_TEST_TMPDIR/plain.tar" "$BATS_TEST_TMPDIR/first.tar"
	cmp "$BATS_TEST_TMPDIR/plain.tar" "$BATS_TEST_TMPDIR/second.tar"
	# and again on another fresh mount, through a pipe
	fuse_overlay_mount "$d"
	oci-tar "$FUSE_MNT" | cmp - "$BATS_TEST_TMPDIR/plain.tar"
}

# tar -tv lines without size and link target, a hard link's 'h' read as '-': type, mode,
# owner, date, path. A hard link and the regular file a part stores in its place read the same.
tv_normal() {
	tar tvf "$1" | sed -E 's/ link to .*$//; s/^h/-/' | awk '{ $3 = ""; print }' | LC_ALL=C sort -u
}

# Extracts every tar given into a new directory $1.
extract_all() {
	local dir=$1 t
	shift
	mkdir "$dir"
	for t in "$@"; do
		tar -xpf "$t" --numeric-owner -C "$dir"
	done
}

@test "--only P and --skip P split the archive: each entry in one part, the union is the whole" {
	local t=$BATS_TEST_TMPDIR
	oci-tar --mtime keep --uid 5 --gid 6 --only hard --only 'long/d*' "$SRC" >"$t/only.tar" 2>/dev/null
	oci-tar --mtime keep --uid 5 --gid 6 --skip hard --skip 'long/d*' "$SRC" >"$t/skip.tar" 2>/dev/null
	oci-tar --mtime keep --uid 5 --gid 6 "$SRC" >"$t/full.tar" 2>/dev/null
	run tar tf "$t/only.tar"
	[ "${lines[0]}" = hard/ ] && [ "${lines[1]}" = hard/a ] && [ "${lines[2]}" = hard/b ]
	[ "${lines[3]}" = long/ ] # a parent, not matched itself
	[[ ${lines[4]} == long/d*/ ]]
	[ "$(grep -vc '^hard/\|^long/d' <<<"$output")" -eq 1 ]
	# The parent has the header it has in the whole archive.
	diff <(tar_headers "$t/only.tar" | grep -F ' long/ ') <(tar_headers "$t/full.tar" | grep -F ' long/ ')
	# Every file in exactly one part; a directory in both only as a parent.
	run comm -12 <(tar tf "$t/only.tar" | LC_ALL=C sort) <(tar tf "$t/skip.tar" | LC_ALL=C sort)
	[ "$output" = long/ ]
	# A link whose first path is in the other part carries the data.
	tar tvf "$t/skip.tar" | grep -q '^-rw-r--r-- 5/6 .* 12 .* zz-hard-elsewhere$'
	extract_all "$t/whole" "$t/full.tar"
	extract_all "$t/union" "$t/only.tar" "$t/skip.tar"
	# diff compares no fifos or devices: their type and mode are in the listings
	diff -r --no-dereference -x fifo -x chardev -x blockdev "$t/whole" "$t/union"
	diff <(tv_normal "$t/full.tar") <(cat <(tv_normal "$t/only.tar") <(tv_normal "$t/skip.tar") | LC_ALL=C sort -u)
}

@test "--only and --skip with a '!' pattern and --exclude: the parts still add up to the whole" {
	local d="$BATS_TEST_TMPDIR/ex" t=$BATS_TEST_TMPDIR
	make_exclude_tree "$d"
	local ex=(--exclude '*.md' --exclude '!README.md')
	oci-tar "${ex[@]}" --only node_modules --only '!node_modules/pkg/keep.js' "$d" >"$t/only.tar"
	oci-tar "${ex[@]}" --skip node_modules --skip '!node_modules/pkg/keep.js' "$d" >"$t/skip.tar"
	oci-tar "${ex[@]}" "$d" >"$t/full.tar"
	[ "$(listing "${ex[@]}" --only node_modules --only '!node_modules/pkg/keep.js' "$d")" = \
		"node_modules/ node_modules/other/ node_modules/other/x.js node_modules/pkg/ node_modules/pkg/index.js " ]
	# keep.js goes with the rest, under node_modules/ and pkg/ as parents (mode 0750 kept).
	[ "$(listing "${ex[@]}" --skip node_modules --skip '!node_modules/pkg/keep.js' "$d")" = \
		"README.md a.txt keep.txt node_modules/ node_modules/pkg/ node_modules/pkg/keep.js sub/ sub/b.txt sub/c.log " ]
	tar tvf "$t/skip.tar" | grep -q '^drwxr-x--- 0/0 .* node_modules/$'
	extract_all "$t/whole" "$t/full.tar"
	extract_all "$t/union" "$t/only.tar" "$t/skip.tar"
	diff -r --no-dereference "$t/whole" "$t/union"
	diff <(tv_normal "$t/full.tar") <(cat <(tv_normal "$t/only.tar") <(tv_normal "$t/skip.tar") | LC_ALL=C sort -u)
	# --only and --skip together: what the first selects and the second does not.
	[ "$(listing --only node_modules --skip node_modules/other "$d")" = \
		"node_modules/ node_modules/pkg/ node_modules/pkg/index.js node_modules/pkg/keep.js " ]
}

@test "an --only or --skip pattern that matches nothing: exit 1 naming it, no end of archive" {
	local d="$BATS_TEST_TMPDIR/ex"
	make_exclude_tree "$d"
	run_status 1 oci-tar --only sub --only nothing-here "$d"
	[ "$output" = "oci-tar: --only nothing-here: matches nothing in $d" ]
	run_status 1 oci-tar --skip 'sub/*.txt' --skip '*.nope' "$d"
	[ "$output" = "oci-tar: --skip *.nope: matches nothing in $d" ]
	# what --exclude leaves out is not there to match
	run_status 1 oci-tar --exclude sub --only sub/b.txt "$d"
	[ "$output" = "oci-tar: --only sub/b.txt: matches nothing in $d" ]
	oci-tar --only nothing-here "$d" >"$BATS_TEST_TMPDIR/out" 2>/dev/null || true
	assert_no_eoa "$BATS_TEST_TMPDIR/out"
	run_status 2 oci-tar --only '[' "$d"
	[[ $output == *"--only: syntax error in pattern: ["* ]]
}

# ---- --signature ----

# A small tree whose timestamps are older than the racy window (ctime cannot be set back: wait).
make_sig_tree() {
	mkdir -p "$1/node_modules/dep" "$1/src"
	echo 'module.exports = 1' >"$1/node_modules/dep/index.js"
	echo 'console.log(1)' >"$1/src/app.js"
	ln -s app.js "$1/src/link.js"
	sleep 0.3
}

sig() {
	local line
	line=$(oci-tar --signature "$@") || return 1
	[[ $line =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "not a signature: $line" >&2; return 1; }
	echo "$line"
}

@test "--signature reads no file's contents: no open of a regular file, the same line twice" {
	local d=$BATS_TEST_TMPDIR/s
	make_sig_tree "$d"
	local a b
	a=$(sig "$d")
	b=$(sig "$d")
	[ "$a" = "$b" ]
	run_status 0 env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -e trace=open,openat -o "$BATS_TEST_TMPDIR/trace" oci-tar --signature "$d"
	[ "$(grep -cE 'index\.js|app\.js' "$BATS_TEST_TMPDIR/trace")" -eq 0 ]
	grep -q 'node_modules' "$BATS_TEST_TMPDIR/trace" # the directories are opened
	# The archive's own walk opens the files (the check above can fail).
	oci-tar "$d" >/dev/null 2>&1 &&
		env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -e trace=open,openat -o "$BATS_TEST_TMPDIR/trace2" oci-tar "$d" >/dev/null
	grep -q 'app\.js' "$BATS_TEST_TMPDIR/trace2"
}

@test "--signature changes with every change that changes the archive, and only its part's" {
	local d=$BATS_TEST_TMPDIR/s
	make_sig_tree "$d"
	local full nm top
	full=$(sig "$d")
	nm=$(sig --only node_modules "$d")
	top=$(sig --skip node_modules "$d")
	[ "$nm" != "$top" ] && [ "$nm" != "$full" ]
	# Options that change the bytes.
	[ "$(sig --uid 1 "$d")" != "$full" ]
	[ "$(sig --gid 1 "$d")" != "$full" ]
	[ "$(sig --mtime keep "$d")" != "$full" ]
	[ "$(sig --root-dir /app "$d")" != "$full" ]
	[ "$(sig --exclude 'src/*.js' "$d")" != "$full" ]
	# An edit keeping size and mtime: the ctime tells.
	echo 'console.log(2)' >"$d/src/app.js.new"
	touch -r "$d/src/app.js" "$d/src/app.js.new"
	cp -p "$d/src/app.js.new" "$d/src/app.js" && rm "$d/src/app.js.new"
	touch -r "$d/src/link.js" -h "$d/src/app.js"
	sleep 0.3
	local top2
	top2=$(sig --skip node_modules "$d")
	[ "$top2" != "$top" ]
	[ "$(sig --only node_modules "$d")" = "$nm" ] # the other part did not change
	chmod 600 "$d/src/app.js" && sleep 0.3
	local top3
	top3=$(sig --skip node_modules "$d")
	[ "$top3" != "$top2" ]
	mv "$d/src/app.js" "$d/src/main.js" && sleep 0.3
	local top4
	top4=$(sig --skip node_modules "$d")
	[ "$top4" != "$top3" ]
	mkdir "$d/src/empty" && sleep 0.3
	[ "$(sig --skip node_modules "$d")" != "$top4" ]
	[ "$(sig --only node_modules "$d")" = "$nm" ]
}

@test "--signature marks a file changed within the racy window, and an unmatched part fails" {
	local d=$BATS_TEST_TMPDIR/s
	make_sig_tree "$d"
	# changed now, its mtime a little ahead (a slow start of oci-tar, as under the sanitizers,
	# must not take it out of the 20 ms window)
	echo new >"$d/src/app.js"
	touch -d '+0.5 seconds' "$d/src/app.js"
	run_status 0 oci-tar --signature "$d"
	[[ $output =~ ^sha256:[0-9a-f]{64}\ racy$ ]]
	run_status 0 oci-tar --signature --only node_modules "$d"
	[[ $output =~ ^sha256:[0-9a-f]{64}$ ]] # the racy file is not in this part
	# A part with no entry says so.
	run_status 0 oci-tar --signature --skip node_modules --skip src "$d"
	[[ $output =~ ^sha256:[0-9a-f]{64}\ empty$ ]]
	run_status 1 oci-tar --signature --only nothing "$d"
	[[ $output == *'--only nothing: matches nothing in'* ]]
}

# ---- --signature-out ----

# `oci-tar --signature OPTS DIR` and `oci-tar --signature-out F OPTS DIR`: the line printed is
# F's, and the archive is the one written without the option.
same_signature_out() {
	local t=$BATS_TEST_TMPDIR line
	line=$(oci-tar --signature "$@" 2>/dev/null) || return 1
	rm -f "$t/sig"
	oci-tar --signature-out "$t/sig" "$@" >"$t/with.tar" 2>/dev/null || return 1
	oci-tar "$@" >"$t/without.tar" 2>/dev/null || return 1
	[ "$(cat "$t/sig")" = "$line" ] || { echo "--signature-out $*: $(cat "$t/sig"), --signature: $line" >&2; return 1; }
	[ "$(wc -l <"$t/sig")" -eq 1 ] || { echo "--signature-out $*: not one line" >&2; return 1; }
	cmp "$t/with.tar" "$t/without.tar" || { echo "--signature-out $*: other archive bytes" >&2; return 1; }
}

@test "--signature-out FILE: the archive unchanged, FILE the line --signature prints, for every option" {
	sleep 0.3 # the fixture out of the racy window
	local opts o
	# The fixture has hard links, symlinks, an empty directory, long paths, a fifo, devices, a
	# socket (skipped) and a sparse file.
	for opts in '' '--root-dir /app --uid 7 --gid 8' '--mtime keep' '--mtime 1234' \
		'--uid 4294967295 --gid 2097152' '--exclude hard/a' "--exclude long --exclude !long/d*" \
		'--only hard --only links' '--skip hard --skip long/d*' '--only hard --skip hard/b' \
		'--root-dir /app --only links --exclude links/relative' '--skip *'; do
		read -r -a o <<<"$opts" # split on spaces, no globbing
		same_signature_out "${o[@]}" "$SRC"
	done
	# '--skip *' leaves nothing: both say empty.
	[[ $(cat "$BATS_TEST_TMPDIR/sig") =~ ^sha256:[0-9a-f]{64}\ empty$ ]]
	local d="$BATS_TEST_TMPDIR/ex"
	make_exclude_tree "$d"
	sleep 0.3
	same_signature_out --exclude '*.md' --exclude '!README.md' --only node_modules --only '!node_modules/pkg/keep.js' "$d"
	printf 'sub\n*.md\n' >"$BATS_TEST_TMPDIR/ignore"
	same_signature_out --exclude-from "$BATS_TEST_TMPDIR/ignore" --skip node_modules "$d"
	# A file newer than the walk: both racy.
	touch -d '+1 hour' "$d/a.txt"
	same_signature_out "$d"
	[[ $(cat "$BATS_TEST_TMPDIR/sig") =~ ^sha256:[0-9a-f]{64}\ racy$ ]]
	same_signature_out --exclude a.txt "$d"
	[[ $(cat "$BATS_TEST_TMPDIR/sig") =~ ^sha256:[0-9a-f]{64}$ ]]
}

@test "--signature-out walks the tree once: as many getdents as the archive alone" {
	local t=$BATS_TEST_TMPDIR n1 n2
	env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -e trace=getdents64 -o "$t/plain" oci-tar "$SRC" >/dev/null 2>&1
	env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -e trace=getdents64 -o "$t/both" oci-tar --signature-out "$t/sig" "$SRC" >/dev/null 2>&1
	n1=$(grep -c getdents64 "$t/plain")
	n2=$(grep -c getdents64 "$t/both")
	[ "$n1" -gt 10 ] && [ "$n2" -eq "$n1" ]
}

@test "--signature-out: FILE only after the whole archive; a failed run leaves none and no temporary" {
	local t=$BATS_TEST_TMPDIR
	mkdir "$t/out"
	# The archive cannot be written: no FILE.
	# shellcheck disable=SC2016 # expanded by that bash
	run_status 1 bash -c 'oci-tar --signature-out "$1" "$2" >/dev/full' - "$t/out/sig" "$SRC"
	[[ $output == *"oci-tar: write to stdout: No space left on device"* ]]
	[ -z "$(ls -A "$t/out")" ]
	# An earlier FILE is left as it was.
	echo old >"$t/out/sig"
	# shellcheck disable=SC2016 # expanded by that bash
	run_status 1 bash -c 'oci-tar --signature-out "$1" "$2" >/dev/full' - "$t/out/sig" "$SRC"
	[ "$(cat "$t/out/sig")" = old ] && [ "$(ls -A "$t/out")" = sig ]
	# A walk that fails (an unmatched part): exit 1, no end of archive, no FILE.
	rm "$t/out/sig"
	oci-tar --signature-out "$t/out/sig" --only nothing-here "$SRC" >"$t/tar" 2>"$t/err" && return 1
	[[ $(cat "$t/err") == *"--only nothing-here: matches nothing in"* ]]
	[ -z "$(ls -A "$t/out")" ]
	# A FILE that cannot be made: before any archive byte.
	oci-tar --signature-out "$t/none/sig" "$SRC" >"$t/tar" 2>"$t/err" && return 1
	[ "$(cat "$t/err")" = "oci-tar: $t/none/sig: No such file or directory" ]
	[ ! -s "$t/tar" ]
	# Success replaces an earlier FILE.
	echo old >"$t/out/sig"
	oci-tar --signature-out "$t/out/sig" "$SRC" >/dev/null 2>&1
	[[ $(cat "$t/out/sig") =~ ^sha256:[0-9a-f]{64} ]] && [ "$(ls -A "$t/out")" = sig ]
}

@test "--signature-out: usage errors" {
	run_status 2 oci-tar --signature --signature-out "$BATS_TEST_TMPDIR/sig" "$SRC"
	[[ $output == *"--signature and --signature-out: one or the other"*"usage: oci-tar"* ]]
	run_status 2 oci-tar --signature-out '' "$SRC"
	run_status 2 oci-tar --signature-out
	[[ $output == *"needs a value"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/sig" ]
}

@test "--signature, its lstats shared with a second thread, is --signature-out's: many directories, and deeper than the thread goes" {
	local d="$BATS_TEST_TMPDIR/many" i j
	for i in $(seq 40); do
		mkdir -p "$d/p$i/lib/sub" "$d/p$i/empty"
		for j in a b c; do echo "$i$j" >"$d/p$i/$j.js" && echo "$j" >"$d/p$i/lib/$j"; done
		ln -s a.js "$d/p$i/link"
		ln "$d/p$i/a.js" "$d/p$i/lib/sub/hard"
	done
	# 1,100 levels: deeper than the thread's 1,024 (the walk lstats those itself).
	mkdir -p "$d/deep/$(printf 'd/%.0s' {1..1100})"
	echo bottom >"$d/deep/$(printf 'd/%.0s' {1..1100})f"
	sleep 0.3
	for i in 1 2 3; do
		same_signature_out "$d"
		same_signature_out --exclude 'p1*' --exclude '!p1/lib' "$d"
		same_signature_out --only 'p2*' --skip '**/sub' "$d"
	done
	[ "$(tar tf "$BATS_TEST_TMPDIR/with.tar" | grep -c /sub/)" -eq 0 ]
}
