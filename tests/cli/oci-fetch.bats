#!/usr/bin/env bats
# oci-fetch without a registry (the registry round trips are in tests/e2e/fetch.bats).
load ../lib/common

@test "--name prints references normalised like Docker, offline" {
	run_status 0 oci-fetch --name alpine library/alpine:3 ghcr.io/o/r:tag localhost/x \
		'[::1]:5000/a/b' "h:5000/r@sha256:$(printf '%064d' 0)" oci:/tmp/x oci:/tmp/x:v1
	[ "$output" = "docker.io/library/alpine:latest
docker.io/library/alpine:3
ghcr.io/o/r:tag
localhost/x:latest
[::1]:5000/a/b:latest
h:5000/r@sha256:$(printf '%064d' 0)
oci:/tmp/x
oci:/tmp/x:v1" ]
}

@test "--name: a malformed reference is named with the reason, exit 2, nothing on stdout" {
	[ -z "$(oci-fetch --name alpine Upper/Case 2>/dev/null)" ]
	run_status 2 oci-fetch --name alpine Upper/Case
	[ "$output" = "oci-fetch: Upper/Case: invalid reference: repository name must be lowercase" ]
	run_status 2 oci-fetch --name
}

@test "a malformed OCINOCO_TIMEOUT is a usage error of oci-fetch and oci-put alike" {
	OCINOCO_TIMEOUT=abc run_status 2 oci-fetch "oci:$BATS_TEST_TMPDIR/none"
	[ "$output" = "oci-fetch: OCINOCO_TIMEOUT=abc: not a number of seconds (at most 3600)" ]
	echo x >"$BATS_TEST_TMPDIR/f"
	OCINOCO_TIMEOUT=3601 run_status 2 oci-put blob "oci:$BATS_TEST_TMPDIR/lay" "$BATS_TEST_TMPDIR/f"
	[ "$output" = "oci-put: OCINOCO_TIMEOUT=3601: not a number of seconds (at most 3600)" ]
	[ ! -e "$BATS_TEST_TMPDIR/lay" ]
}
