#!/usr/bin/env bats
# oci-digest: what zstd, gzip and sha256sum read back from its output and its descriptor.
bats_require_minimum_version 1.5.0
load ../lib/common

setup_file() {
	# A ~12 MB tar stream, partly compressible text, partly random: more than one 8 MiB zstd
	# job at level 3 (and six 2 MiB jobs at level 1), so several workers really run at once.
	local d=$BATS_FILE_TMPDIR/src
	mkdir -p "$d"
	seq 1 700000 >"$d/numbers"
	head -c 3000000 /dev/urandom | base64 >"$d/random.b64"
	printf 'hello\n' >"$d/small"
	tar --sort=name --format=posix -C "$d" -cf "$BATS_FILE_TMPDIR/input.tar" .
	export INPUT=$BATS_FILE_TMPDIR/input.tar
	INPUT_SHA=$(sha256sum <"$INPUT" | cut -d' ' -f1)
	export INPUT_SHA
	# gzip is ~10x slower than zstd: its tests use a 1.5 MB stream
	export SMALL=$BATS_FILE_TMPDIR/small.tar
	mkdir -p "$d.small"
	seq 1 200000 >"$d.small/numbers"
	tar --sort=name --format=posix -C "$d.small" -cf "$SMALL" .
}

sha() { sha256sum "$@" | cut -d' ' -f1; }

# The descriptor oci-digest must print for a layer file $1 of media type $2.
expected_descriptor() {
	printf '{"mediaType":"%s","digest":"sha256:%s","size":%s,"diffID":"sha256:%s"}\n' \
		"$2" "$(sha "$1")" "$(stat -c %s "$1")" "$INPUT_SHA"
}

@test "zstd layer on stdout, descriptor on stderr: digests match sha256sum of both sides" {
	oci-digest <"$INPUT" >"$BATS_TEST_TMPDIR/l.tzst" 2>"$BATS_TEST_TMPDIR/desc"
	zstd -q -t "$BATS_TEST_TMPDIR/l.tzst"
	[ "$(zstd -q -dc "$BATS_TEST_TMPDIR/l.tzst" | sha)" = "$INPUT_SHA" ]
	expected_descriptor "$BATS_TEST_TMPDIR/l.tzst" application/vnd.oci.image.layer.v1.tar+zstd \
		>"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/desc"
}

@test "-o FILE writes the layer there and the descriptor on stdout" {
	cd "$BATS_TEST_TMPDIR"
	oci-digest -o l.tzst <"$INPUT" >desc 2>err
	[ ! -s err ]
	expected_descriptor l.tzst application/vnd.oci.image.layer.v1.tar+zstd | diff - desc
	[ "$(ls)" = "$(printf 'desc\nerr\nl.tzst')" ] # no temporary left next to it
}

@test "-d FILE writes the descriptor there, with or without -o" {
	cd "$BATS_TEST_TMPDIR"
	oci-digest -d d1.json <"$INPUT" >l1.tzst 2>err
	[ ! -s err ]
	expected_descriptor l1.tzst application/vnd.oci.image.layer.v1.tar+zstd | diff - d1.json
	oci-digest -o l2.tzst -d d2.json <"$INPUT" >out
	[ ! -s out ]
	cmp l1.tzst l2.tzst
	cmp d1.json d2.json
	jq -e '.size > 0 and (keys_unsorted == ["mediaType","digest","size","diffID"])' d1.json
}

@test "--digest-out FILE: the layer's sha256 on a line, with the layer on stdout or in -o FILE" {
	cd "$BATS_TEST_TMPDIR"
	oci-digest --digest-out dg1 <"$INPUT" >l1.tzst 2>/dev/null
	[ "$(cat dg1)" = "sha256:$(sha l1.tzst)" ]
	oci-digest -c gzip -o l2.tgz -d d2.json --digest-out dg2 <"$SMALL"
	[ "$(cat dg2)" = "sha256:$(sha l2.tgz)" ]
	[ "$(cat dg2)" = "$(jq -r .digest d2.json)" ]
	[ "$(wc -l <dg2)" = 1 ]
	run -1 oci-digest --digest-out missing/dg -o l3.tzst <"$INPUT"
	[ ! -e l3.tzst ]
}

@test "zstd output is byte-identical for -T1, -T2 and the default, at two levels" {
	cd "$BATS_TEST_TMPDIR"
	oci-digest -T1 <"$INPUT" >t1 2>d1
	oci-digest -T2 <"$INPUT" >t2 2>d2
	oci-digest <"$INPUT" >t0 2>d0
	cmp t1 t2 && cmp t1 t0 && cmp d1 d2 && cmp d1 d0
	oci-digest -l 1 -T1 <"$INPUT" >f1 2>/dev/null
	oci-digest -l 1 -T2 <"$INPUT" >f2 2>/dev/null
	cmp f1 f2
	run ! cmp -s t1 f1 # the level is applied
	[ "$(zstd -q -dc f1 | sha)" = "$INPUT_SHA" ]
}

@test "zstd output is what zstd -3 -T2 itself writes for the same stream" {
	cd "$BATS_TEST_TMPDIR"
	oci-digest <"$INPUT" >ours 2>/dev/null
	zstd -q -3 -T2 <"$INPUT" >theirs
	cmp ours theirs
}

@test "gzip: gzip -t accepts it, header has mtime 0, no name, OS 255, same bytes on rerun" {
	cd "$BATS_TEST_TMPDIR"
	oci-digest -c gzip <"$SMALL" >a.gz 2>desc
	oci-digest -c gzip <"$SMALL" >b.gz 2>/dev/null
	cmp a.gz b.gz
	gzip -t a.gz
	[ "$(gzip -dc a.gz | sha)" = "$(sha "$SMALL")" ]
	# ID1 ID2 CM=8 FLG=0 (no name, comment, extra) MTIME=0 XFL=0 (level 6) OS=255
	[ "$(head -c 10 a.gz | od -An -tx1 | tr -d ' \n')" = 1f8b08000000000000ff ]
	INPUT_SHA=$(sha "$SMALL") expected_descriptor a.gz application/vnd.oci.image.layer.v1.tar+gzip |
		diff - desc
}

@test "gzip levels apply and each level's output is stable" {
	cd "$BATS_TEST_TMPDIR"
	for l in 1 9; do
		oci-digest -c gzip -l "$l" <"$SMALL" >"a$l" 2>/dev/null
		oci-digest -c gzip -l "$l" -T1 <"$SMALL" >"b$l" 2>/dev/null
		cmp "a$l" "b$l"
		gzip -t "a$l"
	done
	run ! cmp -s a1 a9
	# XFL says which: 4 = fastest, 2 = best
	[ "$(od -An -tx1 -j8 -N1 a1 | tr -d ' ')" = 04 ]
	[ "$(od -An -tx1 -j8 -N1 a9 | tr -d ' ')" = 02 ]
}

@test "none: the layer is the input unchanged and digest = diffID" {
	cd "$BATS_TEST_TMPDIR"
	oci-digest -c none -o l.tar <"$INPUT" >desc
	cmp "$INPUT" l.tar
	expected_descriptor l.tar application/vnd.oci.image.layer.v1.tar | diff - desc
	[ "$(jq -r .digest desc)" = "$(jq -r .diffID desc)" ]
}

@test "empty input gives a valid empty layer with the empty diffID (with --raw)" {
	cd "$BATS_TEST_TMPDIR"
	oci-digest --raw </dev/null >e.tzst 2>desc
	zstd -q -t e.tzst
	[ "$(zstd -q -dc e.tzst | wc -c)" -eq 0 ]
	[ "$(jq -r .diffID desc)" = sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ]
	[ "$(jq -r .digest desc)" = "sha256:$(sha e.tzst)" ]
	oci-digest --raw -c gzip </dev/null >e.gz 2>/dev/null
	gzip -t e.gz
	[ "$(gzip -dc e.gz | wc -c)" -eq 0 ]
}

@test "a 100 MB stream through a pipe: digests match, memory stays below the stream's size" {
	# eight archives one after the other: one stream of bytes, but not one tar stream
	cd "$BATS_TEST_TMPDIR"
	{ for _ in $(seq 8); do cat "$INPUT"; done; } | tee >(sha >in.sha) |
		/usr/bin/time -f '%M' -o rss oci-digest --raw -l 1 >big.tzst 2>desc
	[ "$(jq -r .diffID desc)" = "sha256:$(cat in.sha)" ]
	[ "$(jq -r .digest desc)" = "sha256:$(sha big.tzst)" ]
	echo "# peak RSS $(cat rss) KiB" >&3
	[ "$(cat rss)" -lt 80000 ]
}

@test "usage errors exit 2 and name the problem" {
	run_status 2 oci-digest -c brotli </dev/null
	[[ $output == *"-c brotli: expected zstd, gzip or none"* ]]
	[[ $output == *"usage: oci-digest"* ]]
	run_status 2 oci-digest -l 0 </dev/null
	[[ $output == *"-l 0: expected a number from 1 to 19"* ]]
	run_status 2 oci-digest -l 20 </dev/null
	run_status 2 oci-digest -l fast </dev/null
	run_status 2 oci-digest -c gzip -l 10 </dev/null
	[[ $output == *"-l 10: expected a number from 1 to 9"* ]]
	run_status 2 oci-digest -c none -l 3 </dev/null
	[[ $output == *"-c none has no levels"* ]]
	run_status 2 oci-digest -T two </dev/null
	[[ $output == *"-T two"* ]]
	run_status 2 oci-digest -T -1 </dev/null
	run_status 2 oci-digest extra </dev/null
	[[ $output == *"unexpected argument: extra"* ]]
	run_status 2 oci-digest --bogus </dev/null
	run_status 2 oci-digest -o </dev/null
}

@test "refuses to write a layer to a terminal" {
	cd "$BATS_TEST_TMPDIR"
	# script(1) gives the command a terminal as stdout; stdin stays the file.
	run script -qec "oci-digest <'$INPUT'; echo status=\$?" /dev/null
	[[ $output == *"refusing to write a layer to a terminal"* ]]
	[[ $output == *"status=2"* ]]
	run script -qec "oci-digest -o l.tzst <'$INPUT' >/dev/null; echo status=\$?" /dev/null
	[[ $output == *"status=0"* ]]
	zstd -q -t l.tzst
}

@test "-h and --help print the usage on stdout" {
	run_status 0 oci-digest -h
	[[ ${lines[0]} == "usage: oci-digest [-c zstd|gzip|none] [-l LEVEL] [-T THREADS] [-o FILE]" ]]
	run_status 0 oci-digest --help
	[[ $output == *"[-d DESCRIPTOR_FILE] [--digest-out FILE] [--raw]"* ]]
}

@test "an unwritable -o directory: message naming it, exit 1, nothing created" {
	cd "$BATS_TEST_TMPDIR"
	run_status 1 oci-digest -o nodir/l.tzst <"$INPUT"
	[[ $output == "oci-digest: nodir/l.tzst"*": No such file or directory" ]]
	[ ! -e nodir ]
}

@test "a write that fails half-way leaves no file behind (-o) and names stdout (no -o)" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	# A 1 MB file size limit with SIGXFSZ ignored makes write(2) fail with EFBIG mid-stream.
	run bash -c "trap '' XFSZ; ulimit -f 1024; oci-digest -c none -o out/l.tar <'$INPUT'"
	[ "$status" -eq 1 ]
	[[ $output == "oci-digest: out/l.tar: File too large" ]]
	[ -z "$(ls -A out)" ]
	run_status 1 oci-digest -o out/l.tzst -d /nonexistent/d.json <"$INPUT"
	[[ $output == *"/nonexistent/d.json"* ]]
	[ -z "$(ls -A out)" ]
	run_status 1 bash -c "oci-digest <'$INPUT' >/dev/full"
	[[ $output == "oci-digest: stdout: No space left on device" ]]
}

@test "killed mid-stream, it leaves no temporary file behind" {
	cd "$BATS_TEST_TMPDIR"
	mkdir out
	mkfifo feed
	oci-digest -o out/l.tzst <feed 2>/dev/null &
	local pid=$!
	local fd
	exec {fd}>feed
	head -c 1000000 "$INPUT" >&"$fd" # and the stream stays open: oci-digest waits for more
	for _ in $(seq 100); do
		compgen -G 'out/l.tzst.tmp-*' >/dev/null && break
		sleep 0.1
	done
	compgen -G 'out/l.tzst.tmp-*' >/dev/null
	kill -TERM "$pid"
	local status=0
	wait "$pid" || status=$?
	exec {fd}>&-
	[ "$status" -eq 143 ] # killed by SIGTERM, not a normal exit
	[ -z "$(ls -A out)" ]
}

@test "a read error names stdin and exits 1" {
	run_status 1 oci-digest -o "$BATS_TEST_TMPDIR/l.tzst" </
	[[ $output == "oci-digest: stdin: Is a directory" ]]
	[ ! -e "$BATS_TEST_TMPDIR/l.tzst" ]
}

@test "-o onto a FIFO or device writes into it and leaves the node in place" {
	cd "$BATS_TEST_TMPDIR"
	mkfifo f
	cat f >got &
	oci-digest -c none -o f <"$INPUT" >desc
	wait $!
	[ -p f ]
	cmp "$INPUT" got
	[ "$(jq -r .digest desc)" = "sha256:$(sha got)" ]
	ls ./*.tmp-* 2>/dev/null && return 1
	true
}

# --- gzip: independent members made on every core ---

@test "gzip: -T1, -T2 and the default give the same bytes, made of several members" {
	cd "$BATS_TEST_TMPDIR"
	oci-digest -c gzip -T1 <"$INPUT" >t1 2>d1
	oci-digest -c gzip -T2 <"$INPUT" >t2 2>d2
	oci-digest -c gzip <"$INPUT" >t0 2>d0
	oci-digest -c gzip -T7 <"$INPUT" >t7 2>/dev/null
	cmp t1 t2 && cmp t1 t0 && cmp t1 t7 && cmp d1 d2 && cmp d1 d0
	expected_descriptor t1 application/vnd.oci.image.layer.v1.tar+gzip | diff - d1
	# one member per 2 MiB of input: the member header appears at least once per block
	local members
	members=$(python3 -c 'import sys, zlib
d, n = open(sys.argv[1], "rb").read(), 0
while d:
    z = zlib.decompressobj(31); z.decompress(d); d = z.unused_data; n += 1
print(n)' t1)
	[ "$members" -eq $((($(stat -c %s "$INPUT") + 2097151) / 2097152)) ]
	oci-digest -c gzip -l 1 -T1 <"$INPUT" >f1 2>/dev/null
	oci-digest -c gzip -l 1 -T2 <"$INPUT" >f2 2>/dev/null
	cmp f1 f2
}

@test "gzip: GNU gzip, python3's gzip and bsdtar read it back to the tar, byte for byte" {
	cd "$BATS_TEST_TMPDIR"
	oci-digest -c gzip <"$INPUT" >l.tgz 2>/dev/null
	gzip -t l.tgz
	gzip -dc l.tgz | cmp - "$INPUT"
	python3 -c 'import gzip, sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())' l.tgz |
		cmp - "$INPUT"
	bsdtar -xOf l.tgz ./numbers | cmp - "$BATS_FILE_TMPDIR/src/numbers"
	[ "$(bsdtar -tf l.tgz | sort)" = "$(tar -tf "$INPUT" | sort)" ]
}

@test "gzip: within 1% of gzip -6, and each level within 1% of gzip at that level or smaller" {
	cd "$BATS_TEST_TMPDIR"
	local l ours theirs
	for l in 1 6 9; do
		oci-digest -c gzip -l "$l" <"$INPUT" >"o$l" 2>/dev/null
		ours=$(stat -c %s "o$l")
		theirs=$(gzip "-$l" -n <"$INPUT" | wc -c)
		echo "# level $l: ours $ours, gzip $theirs" >&3
		[ "$ours" -le $((theirs * 101 / 100)) ]
	done
	[ "$(stat -c %s o1)" -gt "$(stat -c %s o6)" ]
	[ "$(stat -c %s o6)" -ge "$(stat -c %s o9)" ]
}

@test "gzip: memory stays flat in the stream's length" {
	cd "$BATS_TEST_TMPDIR"
	{ for _ in $(seq 8); do cat "$INPUT"; done; } |
		/usr/bin/time -f '%M' -o rss8 oci-digest --raw -c gzip -T2 >big.gz 2>/dev/null
	/usr/bin/time -f '%M' -o rss1 oci-digest -c gzip -T2 <"$INPUT" >small.gz 2>/dev/null
	echo "# peak RSS $(cat rss1) KiB for 12 MB, $(cat rss8) KiB for 100 MB" >&3
	[ "$(cat rss8)" -lt 40000 ]
	[ "$(cat rss8)" -lt $(($(cat rss1) + 8000)) ]
	gzip -t big.gz
}

# --- the input must be a whole tar stream (--raw: any bytes) ---

# A pipeline as a user writes it, in a shell without pipefail.
no_pipefail() { bash -c "set +o pipefail; $1"; }

@test "oci-tar failing half-way into oci-digest, without pipefail: exit 1, no descriptor, no layer" {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p d
	head -c 3000000 /dev/urandom >d/a-big
	echo secret >d/b-locked
	chmod 000 d/b-locked
	local c
	for c in zstd gzip none; do
		# without the capabilities that let root read any file
		run no_pipefail "setpriv --bounding-set=-dac_override,-dac_read_search \
			--inh-caps=-dac_override,-dac_read_search -- oci-tar d |
			oci-digest -c $c -d layer.json >layer.out"
		[ "$status" -eq 1 ]
		[[ $output == *"oci-tar: d/b-locked: Permission denied"* ]]
		[[ $output == *"oci-digest: stdin: not a whole tar stream: "*"(--raw takes any data)"* ]]
		[ ! -e layer.json ]
		run no_pipefail "setpriv --bounding-set=-dac_override,-dac_read_search \
			--inh-caps=-dac_override,-dac_read_search -- oci-tar d |
			oci-digest -c $c -o layer.file >desc.out"
		[ "$status" -eq 1 ]
		[ ! -e layer.file ]
		[ ! -s desc.out ]
	done
	[ "$(ls -A)" = "$(printf 'd\ndesc.out\nlayer.out')" ] # no temporary left behind
}

@test "random bytes, a truncated tar and data after the end are refused; --raw takes them" {
	cd "$BATS_TEST_TMPDIR"
	head -c 100000 /dev/urandom >random
	head -c 1000000 "$INPUT" >truncated
	# oci-tar ends its stream with exactly the two zero blocks
	oci-tar "$BATS_FILE_TMPDIR/src.small" >whole.tar
	head -c $(($(stat -c %s whole.tar) - 1024)) whole.tar >no-end
	{ cat "$SMALL"; echo more; } >trailing
	: >empty
	run_status 1 oci-digest -d d.json -o l <random
	[[ $output == "oci-digest: stdin: not a whole tar stream: no tar header at byte 0 (its checksum does not match) (--raw takes any data)" ]]
	run_status 1 oci-digest -d d.json -o l <truncated
	[[ $output == *"cut off at byte 1000000, inside the entry whose header is at byte "* ]]
	run_status 1 oci-digest -d d.json -o l <no-end
	[[ $output == *"no end-of-archive (two zero blocks) where it stops"* ]]
	run_status 1 oci-digest -d d.json -o l <trailing
	[[ $output == *"data after the end-of-archive, at byte $(stat -c %s "$SMALL")"* ]]
	run_status 1 oci-digest -d d.json -o l <empty
	run_status 1 oci-digest -c none -d d.json -o l <random
	[ ! -e d.json ] && [ ! -e l ]
	local f
	for f in random truncated no-end trailing empty; do
		oci-digest --raw -c none -o l <"$f" >d.json
		cmp "$f" l
		[ "$(jq -r .diffID d.json)" = "sha256:$(sha "$f")" ]
	done
}

@test "the end-of-archive may be followed by zeros only, of any length" {
	cd "$BATS_TEST_TMPDIR"
	{ cat "$SMALL"; head -c 777 /dev/zero; } | oci-digest -c none -o l >/dev/null
	# one zero block alone is no end
	oci-tar "$BATS_FILE_TMPDIR/src.small" >whole.tar
	head -c $(($(stat -c %s whole.tar) - 512)) whole.tar >one-zero
	run_status 1 oci-digest -o l <one-zero
	[[ $output == *"after one zero block of the two that end an archive"* ]]
	# a zero block between entries is refused too
	{ head -c 512 /dev/zero; cat "$SMALL"; } >lone
	run_status 1 oci-digest -o l <lone
	[[ $output == *"a lone zero block at byte 0, then more entries"* ]]
}

@test "GNU tar (gnu, pax, with long names and an old GNU sparse map), bsdtar and oci-tar streams are taken" {
	cd "$BATS_TEST_TMPDIR"
	local long
	long=d/$(printf 'n%.0s' $(seq 150))/$(printf 'm%.0s' $(seq 120))
	mkdir -p "${long%/*}"
	echo x >"$long"
	ln -s "$long" d/link-with-a-long-target-"$(printf 'l%.0s' $(seq 90))"
	# > 4 holes: the old GNU sparse header needs extension blocks
	truncate -s 20M d/sparse
	local i
	for i in 1 3 5 7 9 11 13 15 17; do
		printf 'data' | dd of=d/sparse bs=1M seek="$i" conv=notrunc status=none
	done
	head -c 100000 /dev/urandom >d/random
	tar --format=gnu --sparse -cf gnu.tar d
	[ "$(tar -tvf gnu.tar | grep -c '^-')" -ge 3 ]
	tar --format=posix --sparse -cf pax.tar d
	tar --format=ustar -cf ustar.tar d/random d/sparse
	bsdtar -cf bsd.tar d
	oci-tar d >oci.tar
	for f in gnu pax ustar bsd oci; do
		oci-digest -c none -o l <"$f.tar" >/dev/null
		# and cut anywhere inside, refused
		head -c $(($(stat -c %s "$f.tar") / 2 + 100)) "$f.tar" >cut.tar
		run_status 1 oci-digest -o l <cut.tar
	done
}
