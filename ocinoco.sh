#!/usr/bin/env bash
# ocinoco: build OCI images with no container, by composing oci-tar, oci-digest, oci-fetch,
# oci-graft and oci-put. See ocinoco(1).
set -euo pipefail

prog=ocinoco
# The sibling programs of this script win over PATH, so a build tree runs its own programs.
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
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

usage_die() {
	echo "$prog: $*" >&2
	usage >&2
	exit 2
}

cmd_pack() {
	die "pack: not implemented yet"
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
