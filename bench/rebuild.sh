#!/usr/bin/env bash
# Benchmark (issue 7): incremental builds of the npm tree with --layer node_modules, side by side
# in one run against a local docker-registry behind a logging proxy (which counts every
# request's body bytes), onto the busybox base, each build --push --root-dir /app:
#   cold single   today's build: one layer, --no-cache, a new repository
#   cold layered  --layer node_modules, an empty cache, a new repository
#   code change   one file under src/ changed, the warm cache, the same tag
#   no-op         nothing changed, the warm cache, the same tag
#   fresh         a fresh copy of the tree (cp -r: new mtimes and inodes), an empty cache,
#                 --cache-from the previous tag (a CI checkout)
#   fixed cost    a one-file directory onto the base, every blob already in the target
# Prints each wall time (median of --runs), the ratio against the cold layered build and the
# layer bytes sent; and the targets: cold <= 1.05x single, code change <= 0.15x, no-op <= 0.10x
# with 0 bytes, fresh <= 0.45x with 0 bytes; and the floors of the no-op and the fresh checkout,
# their one step that cannot be skipped, timed alone. Also containerify (the npm peer) when
# bench/work/containerify holds it (npm install --prefix bench/work/containerify containerify).
#
#   bench/rebuild.sh [--bin DIR] [--runs N] [TREE]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${OCINOCO_BIN:-$here/../build/bin}
runs=3
tree=
while [ $# -gt 0 ]; do
	case $1 in
	--bin) bin=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	-h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "bench/rebuild.sh: unknown option: $1" >&2; exit 2 ;;
	*) tree=$1; shift ;;
	esac
done
# shellcheck source=/dev/null # bench/common.bash
. "$here/common.bash"
[[ $runs =~ ^[1-9][0-9]*$ ]] || bench_die "--runs: not a positive number: $runs"
bin=$(cd "$bin" && pwd)
bench_require "$bin" ocinoco oci-tar oci-digest oci-fetch oci-put oci-graft oci-cache -- \
	docker-registry skopeo python3
work=${BENCH_WORK:-$here/work}
tree=$(bench_npm_tree "$tree" "$work")

mkdir -p "$work"
tmp=$(mktemp -d "$work/rebuild-bench.XXXXXX")
bench_registries "$tmp"
make_busybox_layout "$tmp/busybox"
registry_start REG plain
fault_proxy_start PX "$REG_HOST"
push_layout "$tmp/busybox" "$PX_HOST/base:latest"

# The app: the npm tree and a src/ of a few files (the code that changes), copied once.
app=$tmp/app
cp -a "$tree" "$app"
mkdir -p "$app/src"
for i in 1 2 3 4 5 6 7 8; do
	printf 'export const v%d = %d\n' "$i" "$i" >"$app/src/m$i.js"
done
echo 'console.log("v0")' >"$app/src/index.js"
sleep 0.3 # out of the racy window

mark() { wc -l <"$PX_LOG"; }
sent_since() {
	tail -n +"$(($1 + 1))" "$PX_LOG" |
		awk '$2 == "request" && $4 ~ /^(PATCH|PUT|POST)$/ && $5 ~ /\/blobs\/uploads\// { n += $7 } END { print n + 0 }'
}
# one DIR REPO OPTS...: a build; its wall seconds in $secs, the blob bytes sent in $sent.
one() {
	local dir=$1 repo=$2 m t0
	shift 2
	m=$(mark)
	t0=$EPOCHREALTIME
	"$bin/ocinoco" build "$dir" --from "$PX_HOST/base:latest" --tag "$PX_HOST/$repo:latest" --push \
		--root-dir /app -q "$@" >/dev/null
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
	sent=$(sent_since "$m")
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The steps that a rebuild cannot skip, each timed alone (floor NAME STEP: the wall seconds in
# t[NAME]): the node_modules layer's signature walk (a no-op's proof that nothing changed), and
# its diffID pass (what a fresh checkout reads to know the layer is the previous one's).
walk_step() { "$bin/oci-tar" --signature --root-dir /app --only node_modules -- "$app" >/dev/null; }
diffid_step() {
	"$bin/oci-tar" --root-dir /app --only node_modules -- "$app" | "$bin/oci-digest" -c none --raw -d "$tmp/floor.json" >/dev/null
}
floor() {
	local t0=$EPOCHREALTIME
	"$2"
	t[$1]+=" $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')"
}

declare -A t b m
for kind in single layered change noop fresh fixed walk diffid; do t[$kind]='' b[$kind]=0; done
mkdir -p "$tmp/one" && echo hi >"$tmp/one/f" && sleep 0.3
for ((r = 1; r <= runs; r++)); do
	one "$app" "single-$r/app" --no-cache
	t[single]+=" $secs" b[single]=$sent
	one "$app" "layered-$r/app" --layer node_modules --cache "$tmp/cache-$r"
	t[layered]+=" $secs" b[layered]=$sent
	echo "console.log(\"v$r\")" >"$app/src/index.js"
	one "$app" "layered-$r/app" --layer node_modules --cache "$tmp/cache-$r"
	t[change]+=" $secs" b[change]=$sent
	sleep 0.3
	one "$app" "layered-$r/app" --layer node_modules --cache "$tmp/cache-$r"
	t[noop]+=" $secs" b[noop]=$sent
	# The same path (the history names DIR), new mtimes and inodes.
	rm -rf "$tmp/fresh" && cp -r "$app" "$tmp/fresh" && rm -rf "$app" && mv "$tmp/fresh" "$app"
	sleep 0.3
	one "$app" "layered-$r/app" --layer node_modules --cache "$tmp/empty-$r" \
		--cache-from "$PX_HOST/layered-$r/app:latest"
	t[fresh]+=" $secs" b[fresh]=$sent
	one "$tmp/one" "fixed/app"
	one "$tmp/one" "fixed/app"
	t[fixed]+=" $secs" b[fixed]=$sent
	floor walk walk_step
	floor diffid diffid_step
done

# shellcheck disable=SC2086 # the lists are words
for kind in single layered change noop fresh fixed walk diffid; do
	m[$kind]=$(median ${t[$kind]})
done
cold=${m[layered]}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-14s %8s %8s %12s\n' build "wall s" "x cold" "blob bytes"
for kind in single layered change noop fresh fixed; do
	printf '%-14s %8s %8s %12s\n' "$kind" "${m[$kind]}" "$(ratio "${m[$kind]}" "$cold")" "${b[$kind]}"
done
verdict() { # NAME VALUE LIMIT [BYTES]
	local ok
	ok=$(awk -v v="$2" -v l="$3" 'BEGIN { print (v <= l) ? "yes" : "NO" }')
	[ -z "${4:-}" ] || [ "$4" -eq 0 ] || ok=NO
	echo "=> $1 <= $3${4:+ with 0 layer bytes}: $ok ($2${4:+, $4 bytes})"
}
verdict "cold layered / cold single" "$(ratio "$cold" "${m[single]}")" 1.05
verdict "code change / cold" "$(ratio "${m[change]}" "$cold")" 0.15
verdict "no-op / cold" "$(ratio "${m[noop]}" "$cold")" 0.10 "${b[noop]}"
verdict "fresh checkout with --cache-from / cold" "$(ratio "${m[fresh]}" "$cold")" 0.45 "${b[fresh]}"
echo "fixed cost (one-file directory, every blob in the target): ${m[fixed]} s"
echo "floors: the node_modules layer's signature walk alone ${m[walk]} s ($(ratio "${m[walk]}" "$cold")x cold), its diffID pass (oci-tar | oci-digest -c none --raw, as the build runs it) alone ${m[diffid]} s ($(ratio "${m[diffid]}" "$cold")x cold)"
cz=$work/containerify/node_modules/.bin/containerify
if [ -x "$cz" ]; then
	# Its own layers (node_modules apart from the app), onto the same base in the same
	# registry; a build, then the rebuild of the unchanged tree.
	for what in cold rebuild; do
		m0=$(mark)
		t0=$EPOCHREALTIME
		if (cd "$tmp" && "$cz" --fromImage base:latest --toImage containerify/app:latest \
			--folder "$app" --registry "http://$PX_HOST/v2/" --allowNoPushAuth --doCrossMount \
			--buildFolder "$tmp/cz-build-$what" >"$tmp/cz-$what.log" 2>&1); then
			echo "containerify $what: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }') s, $(sent_since "$m0") blob bytes"
		else
			echo "containerify $what: failed to run ($(tail -n 1 "$tmp/cz-$what.log"))"
		fi
	done
else
	echo "containerify: not installed in $work/containerify (npm install --prefix $work/containerify containerify)"
fi
