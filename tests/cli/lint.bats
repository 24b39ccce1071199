#!/usr/bin/env bats
# The repository's own standards: shell scripts pass shellcheck, C code is formatted by the
# repository's .clang-format, and the C code builds warning-free with clang as well as gcc.
load ../lib/common

setup() {
	cd "$TESTS_DIR/.." || return 1
}

@test "every shell script and bats file passes shellcheck" {
	local files=(ocinoco.sh tests/run tests/deps .ci/run tests/lib/*.bash tests/cli/*.bats
		tests/e2e/*.bats)
	compgen -G 'bench/*.sh' >/dev/null && files+=(bench/*.sh bench/*.bash)
	compgen -G 'demo/*.sh' >/dev/null && files+=(demo/*.sh)
	shellcheck "${files[@]}"
}

@test "every C file is formatted by the repository's .clang-format" {
	clang-format --dry-run --Werror lib/*.[ch] cmd/*/*.[ch] tests/unit/*.[ch]
}
