# shellcheck shell=bash
# shellcheck disable=SC2154 # status and output are set by bats' run
# Loaded by every bats file: the programs under test come first on PATH.
: "${OCINOCO_BIN:?set OCINOCO_BIN to the directory of the programs under test (tests/run does)}"
PATH="$OCINOCO_BIN:$PATH"
export PATH
# The layer cache of ocinoco build: one per test (setup_file's builds: one per file), so that no
# test sees another's entries unless it says so with --cache.
# (Next to the test's directory, not in it: tests list what a build leaves there.)
XDG_CACHE_HOME=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}/ocinoco-tests}}.cache
export XDG_CACHE_HOME
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TESTS_DIR

# Fails the test with the command's output unless its exit status is $1.
# Usage: run_status 2 oci-tar --bogus
run_status() {
	local want=$1
	shift
	run "$@"
	if [ "$status" -ne "$want" ]; then
		echo "expected exit $want, got $status from: $*" >&2
		echo "$output" >&2
		return 1
	fi
}

# Waits (at most 20 s) until the command succeeds.
wait_for() {
	local i
	for ((i = 0; i < 400; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# at_least_one CMD...: CMD prints a number of at least 1.
at_least_one() { [ "$("$@")" -ge 1 ]; }
