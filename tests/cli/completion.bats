#!/usr/bin/env bats
# Bash completion (completion/ocinoco.bash): commands, options and option values read from each
# program's --help, as bash calls the completion function (COMP_WORDS, COMP_CWORD).
load ../lib/common

setup() {
	# shellcheck disable=SC1091
	source "$TESTS_DIR/../completion/ocinoco.bash"
}

# complete WORD...: the completions of the last WORD (the one under the cursor), one per line.
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_ocinoco
	printf '%s\n' "${COMPREPLY[@]}"
}

@test "every program and ocinoco is completed by _ocinoco" {
	local p
	for p in ocinoco oci-tar oci-digest oci-fetch oci-put oci-graft oci-index oci-cache; do
		[[ $(complete -p "$p") == *"-F _ocinoco $p" ]]
	done
}

@test "ocinoco completes its commands, then each command's own options" {
	[ "$(complete_words ocinoco '')" = "$(printf 'build\nindex\npack')" ]
	[ "$(complete_words ocinoco p)" = pack ]
	[ "$(complete_words ocinoco --)" = "$(printf -- '--help\n--version')" ]
	run complete_words ocinoco build --
	for opt in --from --tag --push --output --platform --compression --root-dir --exclude-from \
		--entrypoint --cmd --env --label --expose --annotation --created --digest-file \
		--insecure --cacert; do
		grep -qxF -- "$opt" <<<"$output" || { echo "build: no $opt"; return 1; }
	done
	run complete_words ocinoco index --
	for opt in --tag --annotation --digest-file --insecure --cacert; do
		grep -qxF -- "$opt" <<<"$output" || { echo "index: no $opt"; return 1; }
	done
	[[ $'\n'$output$'\n' != *$'\n--push\n'* ]]
	[ "$(complete_words ocinoco pack --ex)" = "$(printf -- '--exclude\n--exclude-from')" ]
	# pack has no --push: the options are the command's, not the union.
	run complete_words ocinoco pack --
	[[ $'\n'$output$'\n' != *$'\n--push\n'* ]]
	[[ $'\n'$output$'\n' == *$'\n--root-dir\n'* ]]
}

@test "option values: alternatives from the usage, files for FILE/DIR, nothing for a number" {
	[ "$(complete_words ocinoco build --compression '')" = "$(printf 'zstd\ngzip\nnone')" ]
	[ "$(complete_words ocinoco pack --compression g)" = gzip ]
	[ "$(complete_words ocinoco pack --mtime '')" = keep ]
	[ "$(complete_words oci-digest -c z)" = zstd ]
	[ -z "$(complete_words ocinoco build --uid '')" ]
	cd "$BATS_TEST_TMPDIR"
	touch ignore-me.txt
	mkdir app
	[ "$(complete_words ocinoco build --exclude-from ig)" = ignore-me.txt ]
	[ "$(complete_words ocinoco pack a)" = app ]
}

@test "each program's options come from its --help: a new option is completed with no edit here" {
	local p opt
	for p in oci-tar oci-digest oci-fetch oci-graft oci-index; do
		for opt in $("$p" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
			grep -qxF -- "$opt" <<<"$(complete_words "$p" --)" || { echo "$p: no $opt"; return 1; }
		done
	done
	[ "$(complete_words oci-put '')" = "$(printf 'blob\nmanifest')" ]
	[ "$(complete_words oci-put manifest --t)" = --tag ]
	[ "$(complete_words oci-fetch --pl)" = "$(printf -- '--platform\n--platforms')" ]
	# A fake program: its usage is all the completion knows.
	mkdir "$BATS_TEST_TMPDIR/bin"
	printf '#!/bin/sh\necho "usage: oci-fake [--shiny-new zstd|gzip] [--other FILE]"\n' \
		>"$BATS_TEST_TMPDIR/bin/oci-fake"
	chmod +x "$BATS_TEST_TMPDIR/bin/oci-fake"
	[ "$(complete_words "$BATS_TEST_TMPDIR/bin/oci-fake" --sh)" = --shiny-new ]
	[ "$(complete_words "$BATS_TEST_TMPDIR/bin/oci-fake" --shiny-new '')" = "$(printf 'zstd\ngzip')" ]
}
