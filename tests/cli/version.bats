#!/usr/bin/env bats
# --version: every program prints "PROGRAM VERSION", the one version of the tree (the file
# VERSION), and says so in its usage and man page.
load ../lib/common

setup() {
	read -r VERSION <"$TESTS_DIR/../VERSION"
}

@test "every program prints PROGRAM VERSION for --version and exits 0" {
	[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]]
	local p
	for p in oci-tar oci-digest oci-fetch oci-put oci-graft oci-index ocinoco; do
		run_status 0 "$p" --version </dev/null
		[ "$output" = "$p $VERSION" ] || { echo "$p: $output"; return 1; }
	done
}

@test "--version is in every usage text and man page synopsis; -V is not an option" {
	local p
	for p in oci-tar oci-digest oci-fetch oci-put oci-graft oci-index ocinoco; do
		run_status 0 "$p" --help
		[[ $output == *"--version"* ]] || { echo "$p --help: no --version"; return 1; }
		MANWIDTH=200 man -l "$TESTS_DIR/../man/$p.1" 2>/dev/null | col -b |
			sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | grep -q -- --version ||
			{ echo "$p.1: no --version in SYNOPSIS"; return 1; }
	done
	for p in oci-tar oci-digest oci-fetch oci-put oci-graft oci-index; do
		run_status 2 "$p" -V
	done
}

@test "the built ocinoco carries the version; ocinoco.sh run from the checkout reads VERSION" {
	grep -qx "version=$VERSION" "$OCINOCO_BIN/ocinoco"
	run_status 0 bash "$TESTS_DIR/../ocinoco.sh" --version
	[ "$output" = "ocinoco $VERSION" ]
}

@test "a failed write of the version is an error" {
	run_status 1 bash -c 'oci-tar --version >/dev/full'
	[ "$output" = "oci-tar: stdout: No space left on device" ]
}
