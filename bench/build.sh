#!/usr/bin/env bash
# Benchmark: `ocinoco build TREE --from REG/base:latest --tag REG/NEW/app:latest --push
# --root-dir /app` against the peers that build an image with no daemon, side by side in one run,
# against a local docker-registry (plain HTTP on 127.0.0.1), onto the busybox base:
#   umoci+skopeo  skopeo copy (base to an OCI layout), umoci insert TREE /app, skopeo copy (push)
#   buildah       buildah from, copy TREE /app, commit, push (vfs storage, a fresh --root a run)
#   tar|zstd|curl GNU tar | tee >(sha256) | zstd -3 -T0 | tee >(sha256) | curl (one streamed
#                 PATCH); base layer mounted, config and manifest made with jq, put with curl
# Every build pushes to a new repository, and every round of builds to a new registry: skopeo
# and buildah remember where they saw a blob and would mount the layer an earlier round pushed.
# Then where ocinoco build's wall time goes (when each of its programs starts and ends) and its
# peak memory for TREE and for 4 copies of it.
#
#   bench/build.sh [--bin DIR] [--runs N] [--buildah-runs N] [--no-buildah] [--no-stream] [TREE]
#
# TREE defaults to bench/work/tree (bench/make-tree.sh makes it, and bench/work/tree4, the 4x
# tree); for another TREE the 4x tree is TREE.x4, made once. Temporary files go under
# BENCH_WORK (default bench/work) and are removed on exit, also on ^C.
# Issue 4's targets: ocinoco build <= 0.3x the wall time of umoci+skopeo and <= 0.05x of
# buildah (medians); peak memory flat in the tree size. Issue 11's: the same build with
# --compression gzip <= 1.4x the zstd build's wall time.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${OCINOCO_BIN:-$here/../build/bin}
runs=5
buildah_runs=3
stream=1
tree=
while [ $# -gt 0 ]; do
	case $1 in
	--bin) bin=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--buildah-runs) buildah_runs=$2; shift 2 ;;
	--no-buildah) buildah_runs=0; shift ;;
	--no-stream) stream=0; shift ;;
	-h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "bench/build.sh: unknown option: $1" >&2; exit 2 ;;
	*) tree=$1; shift ;;
	esac
done
# shellcheck source=/dev/null # bench/common.bash
. "$here/common.bash"
[[ $runs =~ ^[1-9][0-9]*$ ]] || bench_die "--runs: not a positive number: $runs"
[[ $buildah_runs =~ ^[0-9]+$ ]] || bench_die "--buildah-runs: not a number: $buildah_runs"
[ "$buildah_runs" -le "$runs" ] || buildah_runs=$runs
bin=$(cd "$bin" && pwd)
bench_require "$bin" ocinoco oci-tar oci-digest oci-fetch oci-put oci-graft -- \
	docker-registry skopeo umoci buildah tar zstd curl jq openssl /usr/bin/time

work=${BENCH_WORK:-$here/work}
tree=$(bench_npm_tree "$tree" "$work")
tree4=$(bench_tree4 "$tree" "$work")

# Registries, proxies and images: the tests' helpers, outside bats.
mkdir -p "$work"
tmp=$(mktemp -d "$work/build-bench.XXXXXX")
bench_registries "$tmp"

mkdir -p "$tmp/cmd" "$tmp/log" "$tmp/run"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$tmp/policy.json"
make_busybox_layout "$tmp/busybox"

# Each builder is a script (so that a timing covers exactly one build, and a failing step fails
# it): NAME.sh TREE REGISTRY_HOST REPOSITORY RUN_DIR. The base is REGISTRY_HOST/base:latest.
cat >"$tmp/cmd/ocinoco.sh" <<SH
set -euo pipefail
"$bin/ocinoco" build "\$1" --from "\$2/base:latest" --tag "\$2/\$3:latest" --push --root-dir /app \
	--cache "\$4/cache"
SH
cat >"$tmp/cmd/ocinoco-gzip.sh" <<SH
set -euo pipefail
"$bin/ocinoco" build "\$1" --from "\$2/base:latest" --tag "\$2/\$3:latest" --push --root-dir /app \
	--compression gzip --cache "\$4/cache"
SH
cat >"$tmp/cmd/umoci.sh" <<SH
set -euo pipefail
skopeo --policy "$tmp/policy.json" copy -q --src-tls-verify=false "docker://\$2/base:latest" "oci:\$4/layout:base"
umoci insert --image "\$4/layout:base" --tag new "\$1" /app
skopeo --policy "$tmp/policy.json" copy -q --dest-tls-verify=false "oci:\$4/layout:new" "docker://\$2/\$3:latest"
SH
cat >"$tmp/cmd/buildah.sh" <<SH
set -euo pipefail
b() { buildah --root "\$4/root" --runroot "\$4/runroot" --storage-driver vfs "\${@:5}"; }
c=\$(b "\$@" from --quiet --tls-verify=false --signature-policy "$tmp/policy.json" "docker://\$2/base:latest")
b "\$@" copy --quiet "\$c" "\$1" /app
b "\$@" commit --quiet "\$c" bench-image >/dev/null
b "\$@" push --quiet --tls-verify=false --signature-policy "$tmp/policy.json" bench-image "docker://\$2/\$3:latest"
SH
cat >"$tmp/cmd/stream.sh" <<'SH'
set -euo pipefail
tree=$1 reg=http://$2 repo=$3 w=$4 base=base
mt=application/vnd.oci.image.manifest.v1+json
upload_url() { # the Location of the response headers in $1, absolute
	local loc
	loc=$(awk 'tolower($1) == "location:" { print $2 }' "$1" | tr -d '\r')
	case $loc in /*) loc=$reg$loc ;; esac
	printf '%s\n' "$loc"
}
curl -sf -H "Accept: $mt" -o "$w/base.json" "$reg/v2/$base/manifests/latest"
curl -sf -o "$w/config.json" "$reg/v2/$base/blobs/$(jq -r .config.digest "$w/base.json")"
for d in $(jq -r '.layers[].digest' "$w/base.json"); do
	curl -sf -X POST -o /dev/null "$reg/v2/$repo/blobs/uploads/?mount=$d&from=$base"
done
curl -sf -X POST -D "$w/post.h" -o /dev/null "$reg/v2/$repo/blobs/uploads/"
tar --sort=name --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	--mtime=@0 --owner=0 --group=0 --numeric-owner --transform 's,^\.,app,' -C "$tree" -cf - . |
	tee >(openssl dgst -sha256 -r >"$w/diffid") | zstd -q -3 -T0 |
	tee >(openssl dgst -sha256 -r >"$w/digest") |
	curl -sf -X PATCH -H 'Content-Type: application/octet-stream' -T - -D "$w/patch.h" \
		-o /dev/null "$(upload_url "$w/post.h")"
wait
diffid=sha256:$(cut -d' ' -f1 "$w/diffid")
digest=sha256:$(cut -d' ' -f1 "$w/digest")
size=$(awk 'tolower($1) == "range:" { sub(/.*-/, "", $2); print $2 + 1 }' "$w/patch.h")
curl -sf -X PUT -o /dev/null "$(upload_url "$w/patch.h")&digest=$digest"
jq -c --arg d "$diffid" '.rootfs.diff_ids += [$d] | .history += [{created_by: "tar | zstd | curl"}]' \
	"$w/config.json" | tr -d '\n' >"$w/new-config.json"
cdigest=sha256:$(openssl dgst -sha256 -r "$w/new-config.json" | cut -d' ' -f1)
curl -sf -X POST -D "$w/cpost.h" -o /dev/null "$reg/v2/$repo/blobs/uploads/"
curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$w/new-config.json" \
	-o /dev/null "$(upload_url "$w/cpost.h")&digest=$cdigest"
jq -c --arg cd "$cdigest" --argjson cs "$(stat -c %s "$w/new-config.json")" --arg d "$digest" \
	--argjson s "$size" '.config.digest = $cd | .config.size = $cs |
	.layers += [{mediaType: "application/vnd.oci.image.layer.v1.tar+zstd", digest: $d, size: $s}]' \
	"$w/base.json" | tr -d '\n' |
	curl -sf -X PUT -H "Content-Type: $mt" --data-binary @- -o /dev/null "$reg/v2/$repo/manifests/latest"
SH

names=(ocinoco ocinoco-gzip umoci)
labels=("ocinoco build --push" "ocinoco build --push --compression gzip"
	"skopeo copy + umoci insert + skopeo copy")
if [ "$buildah_runs" -gt 0 ]; then
	names+=(buildah)
	labels+=("buildah from + copy + commit + push (vfs)")
fi
if [ "$stream" = 1 ]; then
	names+=(stream)
	labels+=("tar | tee >(openssl sha256) | zstd -3 -T0 | tee >(openssl sha256) | curl; jq; curl")
fi

# A fresh registry with the base in it.
round_registry() {
	registry_stop REG
	registry_start REG plain
	push_layout "$tmp/busybox" "$REG_HOST/base:latest"
}

# run NAME ROUND: one build, timed; adds the seconds to times[NAME]. The image it pushed must
# be there, with the base's layer and one more.
declare -A times
run() {
	local n=$1 r=$2 d=$tmp/run/$1.$2 t0 t1 layers
	mkdir -p "$d"
	t0=$EPOCHREALTIME
	if ! bash "$tmp/cmd/$n.sh" "$tree" "$REG_HOST" "bench-$n-$r/app" "$d" >"$tmp/log/$n.$r" 2>&1; then
		cat "$tmp/log/$n.$r" >&2
		bench_die "$n (round $r) failed"
	fi
	t1=$EPOCHREALTIME
	sync # buildah leaves hundreds of MB to write back: not on the next build's clock
	layers=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"$REG_URL/v2/bench-$n-$r/app/manifests/latest" | jq '.layers | length') || layers=none
	[ "$layers" = 2 ] || bench_die "$n (round $r): the pushed image has $layers layers, not 2"
	[ "$r" = 0 ] || times[$n]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') "
}

stat_of() { # median and min of the times of $1, in ms
	tr ' ' '\n' <<<"${times[$1]}" | grep . | sort -n |
		awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
			printf "%.0f %.0f\n", m * 1000, v[1] * 1000 }'
}

echo "tree: $tree ($(du -s --apparent-size --block-size=1M "$tree" | cut -f1) MB," \
	"$(find "$tree" | wc -l) entries); $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$runs rounds (buildah in $buildah_runs of them), interleaved, each round on a fresh local registry"
# Round 0 warms the page cache and checks every builder; it is not counted (buildah skips it).
for ((r = 0; r <= runs; r++)); do
	round_registry
	for n in "${names[@]}"; do
		if [ "$n" = buildah ] && { [ "$r" = 0 ] || [ "$r" -gt "$buildah_runs" ]; }; then continue; fi
		run "$n" "$r"
	done
done

printf '\n%-8s %-8s %s\n' median min command
for i in "${!names[@]}"; do
	read -r med min < <(stat_of "${names[$i]}")
	printf '%-8s %-8s %s\n' "${med}ms" "${min}ms" "${labels[$i]}"
done
echo
read -r ours ours_min < <(stat_of ocinoco)
verdict() { # PEER TARGET LABEL
	local theirs theirs_min ratio ratio_min ok=yes
	read -r theirs theirs_min < <(stat_of "$1")
	ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.3f", a / b }')
	ratio_min=$(awk -v a="$ours_min" -v b="$theirs_min" 'BEGIN { printf "%.3f", a / b }')
	if [ -n "$2" ]; then
		awk -v r="$ratio" -v t="$2" 'BEGIN { exit !(r <= t) }' || ok=NO
		printf '=> ocinoco build / %-14s %sx (medians), %sx (minimums); target <= %sx: %s\n' \
			"$3:" "$ratio" "$ratio_min" "$2" "$ok"
	else
		printf '=> ocinoco build / %-14s %sx (medians), %sx (minimums); no target\n' \
			"$3:" "$ratio" "$ratio_min"
	fi
}
verdict umoci 0.3 umoci+skopeo
[ "$buildah_runs" = 0 ] || verdict buildah 0.05 buildah
[ "$stream" = 0 ] || verdict stream "" "tar|zstd|curl"
read -r gz gz_min < <(stat_of ocinoco-gzip)
ratio=$(awk -v a="$gz" -v b="$ours" 'BEGIN { printf "%.3f", a / b }')
ratio_min=$(awk -v a="$gz_min" -v b="$ours_min" 'BEGIN { printf "%.3f", a / b }')
ok=yes
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.4) }' || ok=NO
printf '=> ocinoco build --compression gzip / zstd: %sx (medians), %sx (minimums); target <= 1.4x: %s\n' \
	"$ratio" "$ratio_min" "$ok"

# Where ocinoco build's time goes, and its memory (bench/instrument.bash).
inst_setup "$bin" "$tmp/inst"
inst() { # TREE REPO LOG
	inst_build "$tmp/inst" "$3" build "$1" --from "$REG_HOST/base:latest" --tag "$REG_HOST/$2:latest" \
		--push --root-dir /app --cache "$3.cache" || bench_die "ocinoco build of $1 failed"
}
echo
echo "where ocinoco build's time goes (each program's start and end, ms after the build started;"
echo "medians of $runs instrumented builds, each program run under /usr/bin/time):"
logs=()
for ((r = 1; r <= runs; r++)); do
	logs+=("$tmp/log/profile.$r")
	inst "$tree" "bench-profile-$r/app" "${logs[-1]}"
done
inst_timeline "${logs[@]}"

# Peak memory, 1x and 4x.
peak() { # TREE LABEL; sets stream_rss
	local log=$tmp/log/rss.$2
	inst "$1" "bench-rss-$2/app" "$log"
	# oci-tar, oci-digest and oci-put blob run at the same time: their sum is the build's peak.
	stream_rss=$(awk '$1 == "oci-tar" || $1 == "oci-digest" || $2 == "blob" { s += $5 } END { print s + 0 }' "$log")
	printf '%-3s %4s MB: %s; streaming stage (tar+digest+put blob) %s, largest process %s\n' \
		"$2" "$(du -s --apparent-size --block-size=1M "$1" | cut -f1)" \
		"$(awk '$1 != "ocinoco" { k = $1 ($2 == "-" ? "" : " " $2); if ($5 > m[k]) m[k] = $5 }
			END { for (k in m) print k, m[k] }' "$log" | sort |
			awk '{ v = $NF; $NF = ""; printf "%s%s%s", (NR > 1 ? ", " : ""), $0, v }')" \
		"$stream_rss" "$(awk '$1 == "ocinoco" { print $5 }' "$log")"
}
echo
echo "peak RSS (KiB):"
peak "$tree" 1x
one=$stream_rss
peak "$tree4" 4x
four=$stream_rss
if bench_flat "$one" "$four"; then
	echo "=> ocinoco build: peak memory is flat (streaming stage: 4x tree $four KiB, 1x $one KiB)"
else
	echo "=> ocinoco build: peak memory GROWS with the tree (streaming stage: 4x tree $four KiB, 1x $one KiB)"
fi
