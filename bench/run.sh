#!/usr/bin/env bash
# `make bench`: every benchmark against the peer tools, then a summary of the ratios against the
# issues' targets. Never part of `make check`.
#
#   bench/run.sh [BINDIR]          (default: build/bin)
#
# Makes the npm tree once (bench/make-tree.sh: needs npm and the network the first time), then
# runs bench/pack.sh (issue 2), bench/build.sh (issue 4), bench/roundtrip.sh (DESIGN.md's
# round-trip target), bench/multiplatform.sh (issue 8) and bench/rebuild.sh (issue 7: incremental
# builds), each on its own. Exit 0 when every benchmark ran (whether or not the
# targets were met: the summary says), 1 when one failed to run.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/bin}
case $bin in -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ -d "$bin" ] || { echo "bench/run.sh: $bin: no such directory (make first)" >&2; exit 1; }
bin=$(cd "$bin" && pwd)

log=$(mktemp "${TMPDIR:-/tmp}/ocinoco-bench.XXXXXX")
# On ^C every benchmark removes its registries and temp dirs itself (its own traps).
trap 'rm -f "$log" "$log".*' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$here/make-tree.sh" || { echo "bench/run.sh: could not make the benchmark tree" >&2; exit 1; }

started=$(date +%s)
failed=()
for b in pack build roundtrip multiplatform rebuild; do
	echo
	echo "=== bench/$b.sh ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
	"$here/$b.sh" --bin "$bin" 2>&1 | tee "$log.$b"
	[ "${PIPESTATUS[0]}" = 0 ] || failed+=("$b")
done

echo
echo "=== summary ($(($(date +%s) - started)) s; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg))"
met=0 missed=0
for b in pack build roundtrip multiplatform rebuild; do
	[ -f "$log.$b" ] || continue
	# pack.sh's two GNU comparisons: the issue's pipeline (sha256sum) is the target, the same
	# pipeline with openssl's faster SHA-256 is the stricter comparison.
	grep -E '^(ocinoco pack / |=> )' "$log.$b" | sed "s/^=> //; s/^/[$b] /" |
		sed 's/gnu-sha256sum: /GNU with sha256sum (issue 2'"'"'s pipeline, the target): /;
			s/gnu-openssl: /GNU with openssl dgst (faster hash, for comparison): /'
	while IFS= read -r line; do
		case $line in
		*': yes' | *' meets '* | *' is flat '*) met=$((met + 1)) ;;
		*': NO' | *'does NOT meet'* | *' GROWS '*) missed=$((missed + 1)) ;;
		esac
	done < <(grep '^=> ' "$log.$b")
done
echo "targets met: $met, not met: $missed"
if [ ${#failed[@]} -gt 0 ]; then
	echo "benchmarks that failed to run: ${failed[*]}"
	exit 1
fi
