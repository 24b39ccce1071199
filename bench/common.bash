# shellcheck shell=bash
# What the benchmark scripts share:
#   bench_die MESSAGE           "bench/SCRIPT: MESSAGE" on stderr, exit 1
#   bench_require BIN PROGRAM... -- TOOL...
#                               dies unless BIN holds each PROGRAM and each TOOL is on PATH
#   bench_npm_tree TREE WORK    prints TREE as an absolute path, WORK/tree when TREE is empty
#                               (dies when that is missing: bench/make-tree.sh makes it)
#   bench_flat ONE FOUR         true when a peak for the 4x tree (KiB) is flat against the 1x
#                               one: at most 25% + 2 MiB more
#   bench_tree4 TREE WORK   prints the 4x tree: 4 copies of TREE side by side (WORK/tree4 for
#                           the npm tree WORK/tree, else TREE.x4), made once and reused
#   bench_registries DIR    DIR (a new temporary directory) holds the registries, proxies and
#                           outputs of the run; the tests' registry and image helpers and
#                           bench/instrument.bash are sourced; everything is stopped and DIR
#                           removed on exit (also on ^C)

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

bench_die() {
	echo "bench/${0##*/}: $*" >&2
	exit 1
}

bench_require() {
	local bin=$1 p
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		[ -x "$bin/$1" ] || bench_die "$bin/$1: not built (make O=... first)"
		shift
	done
	[ $# -eq 0 ] || shift
	for p in "$@"; do
		command -v "$p" >/dev/null || bench_die "$p is missing (make deps-bench)"
	done
}

bench_npm_tree() {
	local tree=${1:-$2/tree}
	[ -d "$tree" ] || bench_die "$tree: missing (run bench/make-tree.sh first)"
	(cd "$tree" && pwd)
}

bench_flat() {
	[ "$2" -le $(($1 * 5 / 4 + 2048)) ]
}

bench_tree4() {
	local tree=$1 work=$2 i
	if [ "$tree" = "$work/tree" ] && [ -d "$work/tree4" ]; then
		echo "$work/tree4"
		return
	fi
	if [ ! -d "$tree.x4" ]; then
		echo "making the 4x tree $tree.x4 (once)" >&2
		rm -rf "$tree.x4.tmp"
		mkdir "$tree.x4.tmp"
		for i in 1 2 3 4; do cp -a "$tree" "$tree.x4.tmp/$i"; done
		mv "$tree.x4.tmp" "$tree.x4"
	fi
	echo "$tree.x4"
}

bench_registries() {
	bench_tmp=$1
	export REGISTRY_STATE_DIR=$1/state
	# shellcheck source=/dev/null # tests/lib/registry.bash
	. "$bench_dir/../tests/lib/registry.bash"
	# shellcheck source=/dev/null # tests/lib/images.bash
	. "$bench_dir/../tests/lib/images.bash"
	# shellcheck source=/dev/null # bench/instrument.bash
	. "$bench_dir/instrument.bash"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

bench_cleanup() {
	trap - INT TERM
	registry_stop_all >/dev/null 2>&1 || true
	# buildah's vfs storage (build.sh) holds full copies of the tree: ~100,000 files to remove.
	rm -rf "$bench_tmp"
}
