#!/usr/bin/env bats
load ../lib/common

@test "every program answers --help on stdout with its usage and exit 0" {
	for p in oci-tar oci-digest oci-fetch oci-put oci-graft oci-index ocinoco; do
		run_status 0 "$p" --help
		[[ $output == *"usage: $p"* ]] || { echo "$p --help: $output"; return 1; }
	done
}
