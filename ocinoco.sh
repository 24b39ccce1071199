#!/usr/bin/env bash
# ocinoco: build OCI images with no container, by composing oci-tar, oci-digest, oci-fetch,
# oci-graft and oci-put. See ocinoco(1).
set -euo pipefail

prog=ocinoco
# The sibling programs of this script win over PATH, so a build tree runs its own programs.
# (Builtins only where they do: every fork here is paid on every run.)
self=${BASH_SOURCE[0]}
[ ! -L "$self" ] || self=$(readlink -f -- "$self")
case $self in
*/*) here=${self%/*} ;;
*) here=. ;;
esac
[ "${here#/}" != "$here" ] || here=$PWD/$here
if [ -x "$here/oci-tar" ]; then
	PATH="$here:$PATH"
fi

usage() {
	cat <<USAGE
usage: ocinoco build DIR --from BASE --tag TAG [--push] [options]
       ocinoco pack DIR OUT [options]
       ocinoco --help | COMMAND --help
USAGE
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

# The usage that usage_die shows: a subcommand sets its own.
usage_fn=usage

usage_die() {
	echo "$prog: $*" >&2
	"$usage_fn" >&2
	exit 2
}

# Shared by the subcommands' option loops: $1 is the subcommand, $2 the option, $3 its value
# (absent when the option ended the command line).
need_value() {
	[ $# -ge 3 ] || usage_die "$1: $2 needs a value"
}

# The temporary directory of this run, removed on every exit (success, failure, ^C).
tmp=
partial=
cleanup() {
	[ -z "$partial" ] || rm -f -- "$partial"
	[ -z "$tmp" ] || rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

pack_usage() {
	cat <<USAGE
usage: ocinoco pack DIR OUT [--root-dir PATH] [--uid N] [--gid N] [--mtime EPOCH|keep]
                   [--exclude PATTERN]... [--exclude-from FILE]
                   [--compression zstd|gzip|none] [-l LEVEL] [-T N]
USAGE
}

# pack: oci-tar DIR | oci-digest > OUT, and OUT appears only if both succeeded.
cmd_pack() {
	usage_fn=pack_usage
	local -a tar_opts=() digest_opts=() args=()
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help)
			pack_usage
			return 0
			;;
		--root-dir | --uid | --gid | --mtime | --exclude | --exclude-from)
			need_value pack "$@"
			tar_opts+=("$1" "$2")
			shift 2
			;;
		--compression | -l | -T)
			need_value pack "$@"
			case $1 in --compression) digest_opts+=(-c "$2") ;; *) digest_opts+=("$1" "$2") ;; esac
			shift 2
			;;
		--)
			shift
			args+=("$@")
			break
			;;
		-?*) usage_die "pack: unknown option: $1" ;;
		*)
			args+=("$1")
			shift
			;;
		esac
	done
	[ ${#args[@]} -ge 1 ] || usage_die "pack: missing DIR"
	[ ${#args[@]} -ge 2 ] || usage_die "pack: missing OUT (a file, or - for stdout)"
	[ ${#args[@]} -eq 2 ] || usage_die "pack: unexpected argument: ${args[2]}"
	local dir=${args[0]} out=${args[1]}

	tmp=$(mktemp -d "${TMPDIR:-/tmp}/ocinoco.XXXXXX")
	local layer=-
	if [ "$out" != - ]; then
		[ ! -d "$out" ] || die "pack: $out: is a directory"
		# The layer is written next to OUT and renamed onto it: same file system, and OUT is
		# either the old file or the whole new layer, never a part.
		local out_dir=. out_base=$out why
		if [[ $out == */* ]]; then
			out_dir=${out%/*} out_base=${out##*/}
		fi
		if ! why=$(mktemp "${out_dir:-/}/.$out_base.pack-XXXXXX" 2>&1); then
			die "pack: $out: ${why##*: }"
		fi
		partial=$why layer=$why
		# oci-tar would meet the layer being written, and fail on it or store it.
		local dir_abs out_abs
		if [ -d "$dir" ] && dir_abs=$(cd -- "$dir" && pwd -P) &&
			out_abs=$(cd -- "${out_dir:-/}" && pwd -P) &&
			[[ $out_abs/ == "${dir_abs%/}"/* ]]; then
			usage_die "pack: $out is inside $dir: write the layer elsewhere"
		fi
	fi

	local -a status
	if oci-tar "${tar_opts[@]}" -- "$dir" |
		oci-digest "${digest_opts[@]}" -o "$layer" -d "$tmp/descriptor"; then
		status=(0 0)
	else
		status=("${PIPESTATUS[@]}")
	fi
	# oci-digest's failure is the cause when both failed (oci-tar then lost its reader).
	local rc=${status[1]}
	[ "$rc" -ne 0 ] || rc=${status[0]}
	case $rc in
	0) ;;
	2) exit 2 ;;
	*) die "pack: failed (oci-tar exit ${status[0]}, oci-digest exit ${status[1]}): no layer written" ;;
	esac

	local descriptor
	read -r descriptor <"$tmp/descriptor"
	if [ "$out" = - ]; then
		printf '%s\n' "$descriptor" >&2
	else
		mv -f -- "$partial" "$out"
		partial=
		printf '%s\n' "$descriptor"
	fi
}

cmd_build() {
	die "build: not implemented yet"
}

main() {
	[ $# -gt 0 ] || usage_die "missing command"
	case $1 in
	-h | --help) usage ;;
	pack) shift; cmd_pack "$@" ;;
	build) shift; cmd_build "$@" ;;
	*) usage_die "unknown command: $1" ;;
	esac
}

main "$@"
