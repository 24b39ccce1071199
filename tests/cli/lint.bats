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
	compgen -G 'packaging/*.sh' >/dev/null && files+=(packaging/*.sh)
	compgen -G 'completion/*.bash' >/dev/null && files+=(completion/*.bash)
	shellcheck "${files[@]}"
}

@test "every C file is formatted by the repository's .clang-format" {
	clang-format --dry-run --Werror lib/*.[ch] cmd/*/*.[ch] tests/unit/*.[ch]
}

@test "every program has a man page that renders without warnings, its synopsis naming each option of --help" {
	local p page opt warnings
	for p in cmd/*/ ocinoco; do
		p=${p%/}
		p=${p#cmd/}
		page=man/$p.1
		[ -f "$page" ] || { echo "$p has no $page"; return 1; }
		warnings=$(LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$page" 2>&1 >/dev/null)
		[ -z "$warnings" ] || { echo "$page: $warnings"; return 1; }
		# Each long option the usage text shows is documented in the page.
		for opt in $("$OCINOCO_BIN/$p" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
			grep -q -- "${opt#--}" "$page" || { echo "$page does not mention $opt"; return 1; }
		done
	done
}
