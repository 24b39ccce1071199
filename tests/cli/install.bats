#!/usr/bin/env bats
# make install: the programs (ocinoco.sh as ocinoco) and the man pages, under DESTDIR/PREFIX.
load ../lib/common

@test "make install PREFIX DESTDIR installs every program and man page; the installed ocinoco runs them" {
	local repo stage=$BATS_TEST_TMPDIR/stage
	repo=$(cd "$TESTS_DIR/.." && pwd)
	# The build under test: O is the directory above its bin/ (SAN=1 for the sanitized one).
	local san=0
	[[ $OCINOCO_BIN != *-san/bin ]] || san=1
	run_status 0 make -s -C "$repo" install O="${OCINOCO_BIN%/bin}" SAN=$san PREFIX=/opt/oci \
		DESTDIR="$stage"
	for p in oci-tar oci-digest oci-fetch oci-put oci-graft oci-index oci-cache ocinoco; do
		[ -x "$stage/opt/oci/bin/$p" ]
		[ -f "$stage/opt/oci/share/man/man1/$p.1" ]
		[ -e "$stage/opt/oci/share/bash-completion/completions/$p" ]
	done
	cmp "$OCINOCO_BIN/ocinoco" "$stage/opt/oci/bin/ocinoco"
	[ "$("$stage/opt/oci/bin/ocinoco" --version)" = "ocinoco $(cat "$repo/VERSION")" ]
	mkdir "$BATS_TEST_TMPDIR/d"
	echo hi >"$BATS_TEST_TMPDIR/d/f"
	PATH=/usr/bin:/bin run_status 0 "$stage/opt/oci/bin/ocinoco" pack "$BATS_TEST_TMPDIR/d" "$BATS_TEST_TMPDIR/l.tzst"
	[ "$(jq -r .digest <<<"$output")" = "sha256:$(sha256sum <"$BATS_TEST_TMPDIR/l.tzst" | cut -d' ' -f1)" ]
	[ "$(zstd -dc "$BATS_TEST_TMPDIR/l.tzst" | tar tf -)" = f ]
}
