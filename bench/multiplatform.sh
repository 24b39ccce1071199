#!/usr/bin/env bash
# Benchmark: a two-platform build against a single-platform build of the same tree, side by side
# in one run, against a local docker-registry (plain HTTP on 127.0.0.1), onto a multi-platform
# base (tests/lib/images.bash's linux/amd64 + linux/arm64/v8 index):
#   one    ocinoco build TREE --platform linux/amd64 --push --root-dir /app
#   two    ocinoco build TREE --platform linux/amd64,linux/arm64 --push --root-dir /app
# The layer is made and pushed once either way; the two-platform build adds a graft, a config
# and a manifest per platform and the index. Every build pushes to a new repository (its layer
# is uploaded each time), the two interleaved, the first round not counted (page cache).
#
#   bench/multiplatform.sh [--bin DIR] [--runs N] [TREE]
#
# TREE defaults to bench/work/tree (bench/make-tree.sh makes it). Temporary files go under
# BENCH_WORK (default bench/work) and are removed on exit, also on ^C.
# Issue 8's target: the two-platform build <= 1.15x the wall time of the single-platform one
# (medians).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${OCINOCO_BIN:-$here/../build/bin}
runs=5
tree=
while [ $# -gt 0 ]; do
	case $1 in
	--bin) bin=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "bench/multiplatform.sh: unknown option: $1" >&2; exit 2 ;;
	*) tree=$1; shift ;;
	esac
done
# shellcheck source=/dev/null # bench/common.bash
. "$here/common.bash"
[[ $runs =~ ^[1-9][0-9]*$ ]] || bench_die "--runs: not a positive number: $runs"
bin=$(cd "$bin" && pwd)
bench_require "$bin" ocinoco oci-tar oci-digest oci-fetch oci-put oci-graft oci-index -- \
	docker-registry skopeo curl jq

work=${BENCH_WORK:-$here/work}
tree=$(bench_npm_tree "$tree" "$work")
mkdir -p "$work"
tmp=$(mktemp -d "$work/multiplatform-bench.XXXXXX")
bench_registries "$tmp"
registry_start REG plain
make_multiarch_layout "$tmp/multi"
push_layout "$tmp/multi" "$REG_HOST/base:latest"

declare -A platforms=([one]=linux/amd64 [two]='linux/amd64,linux/arm64') times
# run NAME ROUND: one build, timed; the pushed image must be a manifest (one) or an index of two
# (two).
run() {
	local n=$1 r=$2 t0 t1 got
	t0=$EPOCHREALTIME
	"$bin/ocinoco" build "$tree" --from "$REG_HOST/base:latest" --platform "${platforms[$n]}" \
		--tag "$REG_HOST/bench-$n-$r/app:latest" --root-dir /app --push -q \
		--cache "$tmp/cache-$n-$r" >/dev/null ||
		bench_die "$n (round $r) failed"
	t1=$EPOCHREALTIME
	got=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		"$REG_URL/v2/bench-$n-$r/app/manifests/latest" | jq -r '.manifests | length') || got=none
	case $n:$got in
	one:0 | two:2) ;;
	*) bench_die "$n (round $r): the pushed image lists $got manifests" ;;
	esac
	[ "$r" = 0 ] || times[$n]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') "
}

median() { # of the times of $1, in ms
	tr ' ' '\n' <<<"${times[$1]}" | grep . | sort -n |
		awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
			printf "%.0f\n", m * 1000 }'
}

echo "tree: $tree ($(du -s --apparent-size --block-size=1M "$tree" | cut -f1) MB," \
	"$(find "$tree" | wc -l) entries); $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$runs rounds, interleaved (the order alternating), on one local registry"
for ((r = 0; r <= runs; r++)); do
	if [ $((r % 2)) = 0 ]; then
		run one "$r" && run two "$r"
	else
		run two "$r" && run one "$r"
	fi
done
one=$(median one) two=$(median two)
printf '\n%-8s %s\n' median command
printf '%-8s %s\n' "${one}ms" "ocinoco build --platform linux/amd64 --push" \
	"${two}ms" "ocinoco build --platform linux/amd64,linux/arm64 --push"
ratio=$(awk -v a="$two" -v b="$one" 'BEGIN { printf "%.3f", a / b }')
ok=yes
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.15) }' || ok=NO
printf '\n=> two platforms / one platform: %sx (medians); target <= 1.15x: %s\n' "$ratio" "$ok"
