# shellcheck shell=bash
# Bash completion for ocinoco and its programs (oci-tar, oci-digest, oci-fetch, oci-put,
# oci-graft, oci-index, oci-cache). Nothing here lists an option: the commands and options are read, when
# TAB is pressed, from the usage text the program itself prints for --help, so they cannot go
# stale.
#   commands: the words that follow the program's name at the start of a usage line
#             ("usage: ocinoco build ...", "       oci-put manifest ...")
#   options:  every -x and --long-option of the usage text (of "PROGRAM COMMAND --help" once
#             a command is on the line)
#   values:   after an option the usage shows with a value: its lowercase alternatives
#             (--compression zstd|gzip|none, --mtime EPOCH|keep), files for FILE, DIR, PATH,
#             OUT and the like, nothing to offer for the others (--uid N)
# Installed as share/bash-completion/completions/ocinoco (and a link for each program), where
# bash-completion loads it on demand; or source it from ~/.bashrc.

# _ocinoco_usage PROGRAM [COMMAND]: the usage text, or nothing.
_ocinoco_usage() {
	"$@" --help 2>/dev/null </dev/null
}

# _ocinoco_commands NAME USAGE: the commands of the usage text, one per line.
_ocinoco_commands() {
	local line word name=$1
	while IFS= read -r line; do
		line=${line#usage:}
		read -r word line <<<"$line"
		[ "$word" = "$name" ] || continue
		read -r word _ <<<"$line"
		[[ $word =~ ^[a-z][a-z0-9-]*$ ]] && printf '%s\n' "$word"
	done <<<"$2"
}

# _ocinoco_without_commands NAME USAGE COMMANDS: the usage lines that are not a command's
# (before a command, only the program's own options are offered).
_ocinoco_without_commands() {
	local line word rest
	while IFS= read -r line; do
		read -r word rest <<<"${line#usage:}"
		if [ "$word" = "$1" ]; then
			read -r word _ <<<"$rest"
			! grep -qxF -- "$word" <<<"$3" || continue
		fi
		printf '%s\n' "$line"
	done <<<"$2"
}

# _ocinoco_options USAGE: every option the usage text shows, one per line.
_ocinoco_options() {
	local text=$1 re='(^|[][ |(])(--?[a-zA-Z][a-zA-Z0-9-]*)'
	while [[ $text =~ $re ]]; do
		printf '%s\n' "${BASH_REMATCH[2]}"
		text=${text#*"${BASH_REMATCH[0]}"}
	done
}

# _ocinoco_values OPTION USAGE: fails when OPTION takes no value; else prints the words to
# offer for it one per line, "@files" for file names (nothing: nothing to offer, as for N).
_ocinoco_values() {
	local opt=$1 text=${2// | /|} re value alt
	# The value written after the option: "--opt VALUE" (the first one shown).
	re="(^|[][ |(])${opt}[ =]([^] [|]*(\|[^] [|]+)*)"
	[[ $text =~ $re ]] || return 1
	value=${BASH_REMATCH[2]}
	[[ $value =~ ^[A-Za-z] ]] || return 1
	# A command (oci-put blob) is not a value.
	[[ $value =~ [A-Z] || $value == *"|"* ]] || return 1
	case $value in
	*FILE* | *DIR* | *PATH* | OUT) echo @files ;;
	esac
	local IFS='|'
	for alt in $value; do
		[[ $alt =~ ^[a-z][a-z0-9-]*$ ]] && printf '%s\n' "$alt"
	done
	return 0
}

_ocinoco() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	[ "$COMP_CWORD" -eq 0 ] || prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=${COMP_WORDS[0]} name=${COMP_WORDS[0]##*/}
	local usage commands cmd='' i w
	usage=$(_ocinoco_usage "$prog")
	commands=$(_ocinoco_commands "$name" "$usage")
	COMPREPLY=()

	# The command already on the line, if the program has commands.
	if [ -n "$commands" ]; then
		for ((i = 1; i < COMP_CWORD; i++)); do
			w=${COMP_WORDS[i]}
			if [[ $w != -* ]] && grep -qxF -- "$w" <<<"$commands"; then
				cmd=$w
				break
			fi
		done
		if [ -n "$cmd" ]; then
			usage=$(_ocinoco_usage "$prog" "$cmd")
		else
			usage=$(_ocinoco_without_commands "$name" "$usage" "$commands")
		fi
	fi

	# A value for the option before the cursor.
	local values
	if [[ $prev == -* ]] && values=$(_ocinoco_values "$prev" "$usage"); then
		if [ -n "$values" ]; then
			if grep -qx @files <<<"$values"; then
				compopt -o filenames 2>/dev/null
				mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			fi
			local -a words
			mapfile -t words < <(grep -vx @files <<<"$values")
			[ ${#words[@]} -eq 0 ] ||
				mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W "${words[*]}" -- "$cur")
		fi
		return 0
	fi

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_ocinoco_options "$usage" | sort -u)" -- "$cur")
	elif [ -n "$commands" ] && [ -z "$cmd" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
	else
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
	return 0
}

complete -F _ocinoco ocinoco oci-tar oci-digest oci-fetch oci-put oci-graft oci-index oci-cache
