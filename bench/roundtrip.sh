#!/usr/bin/env bash
# Benchmark: round trips. `ocinoco build TREE --from R/base:latest --tag R/NEW/app:latest --push
# --root-dir /app` against a "remote" registry R: docker-registry with TLS and token auth, the
# registry and its token server each behind tests/lib/tcp_proxy.py --delay-ms N (every
# client->server burst arrives N ms late: a request/response exchange costs N ms more, a TLS
# handshake one or two exchanges). The same against a "local" R (the same set-up, no delay).
# Compared with the daemonless peer pipeline through the same proxies: skopeo copy (base to an
# OCI layout), umoci insert TREE /app, skopeo copy (push). Reported per build: wall time,
# registry connections (= TLS handshakes), token requests, token server connections, registry
# requests, and the sequential round trips the delay reveals: (remote - local) / N. Then when
# each program of the remote build starts and ends.
#
#   bench/roundtrip.sh [--bin DIR] [--runs N] [--delay-ms N] [TREE]
#
# Defaults: 3 runs, 50 ms, TREE = bench/work/tree (bench/make-tree.sh) for the token-server pair, a ~30 KB app for the Basic pair (issue 13). Every build pushes to
# a new repository and every round uses new registries (skopeo would otherwise mount the
# layer an earlier round pushed). TLS is verified against the system CAs plus the test CA.
# DESIGN.md's target: an ocinoco build --push makes at most 3 token requests and 3 TLS
# handshakes per registry.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${OCINOCO_BIN:-$here/../build/bin}
runs=3
delay=50
tree=
while [ $# -gt 0 ]; do
	case $1 in
	--bin) bin=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--delay-ms) delay=$2; shift 2 ;;
	-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "bench/roundtrip.sh: unknown option: $1" >&2; exit 2 ;;
	*) tree=$1; shift ;;
	esac
done
# shellcheck source=/dev/null # bench/common.bash
. "$here/common.bash"
[[ $runs =~ ^[1-9][0-9]*$ ]] || bench_die "--runs: not a positive number: $runs"
[[ $delay =~ ^[1-9][0-9]*$ ]] || bench_die "--delay-ms: not a positive number: $delay"
bin=$(cd "$bin" && pwd)
bench_require "$bin" ocinoco oci-tar oci-digest oci-fetch oci-put oci-graft -- \
	docker-registry skopeo umoci curl jq openssl htpasswd /usr/bin/python3
work=${BENCH_WORK:-$here/work}
tree=$(bench_npm_tree "$tree" "$work")
mkdir -p "$work"
tmp=$(mktemp -d "$work/roundtrip-bench.XXXXXX")
bench_registries "$tmp"

mkdir -p "$tmp/cmd" "$tmp/log" "$tmp/run" "$tmp/docker"
# The Basic-auth pair builds issue 13's small app (package.json + src/, ~30 KB): its round trips
# are then the build's exchanges, not the time 17 MB take through the delay line.
small=$tmp/small-app
mkdir -p "$small/src"
echo '{"name":"app","version":"1.0.0","main":"src/index.js"}' >"$small/package.json"
for i in $(seq 1 30); do
	head -c 768 /dev/urandom | base64 -w 76 >"$small/src/m$i.js"
done
echo 'console.log("hello")' >"$small/src/index.js"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$tmp/policy.json"
make_busybox_layout "$tmp/busybox"

# ocinoco trusts the system CAs plus the test CA, as a client of a real remote registry would
# (SSL_CERT_FILE=the test CA adds it to the system's CA directory).
export DOCKER_CONFIG=$tmp/docker

# NAME.sh TREE REGISTRY_HOST REPOSITORY RUN_DIR; the base is REGISTRY_HOST/base:latest.
cat >"$tmp/cmd/ocinoco.sh" <<SH
set -euo pipefail
"$bin/ocinoco" build "\$1" --from "\$2/base:latest" --tag "\$2/\$3:latest" --push --root-dir /app \
	--cache "\$4/cache"
SH
# the same build again onto the same tag as the round's ocinoco build, with its cache: a no-op
# rebuild (a cold build's cache is its own: another build's would make it warm)
cat >"$tmp/cmd/ocinoco-noop.sh" <<SH
set -euo pipefail
"$bin/ocinoco" build "\$1" --from "\$2/base:latest" --tag "\$2/\${3/ocinoco-noop/ocinoco}:latest" --push --root-dir /app \
	--cache "\${4/\/ocinoco-noop./\/ocinoco.}/cache"
SH
cat >"$tmp/cmd/umoci.sh" <<SH
set -euo pipefail
tls=(--cert-dir "\$REG_CERTDIR" --creds "\$TEST_USER:\$TEST_PASS")
skopeo --policy "$tmp/policy.json" copy -q "\${tls[@]/#--/--src-}" "docker://\$2/base:latest" "oci:\$4/layout:base"
umoci insert --image "\$4/layout:base" --tag new "\$1" /app
skopeo --policy "$tmp/policy.json" copy -q "\${tls[@]/#--/--dest-}" "oci:\$4/layout:new" "docker://\$2/\$3:latest"
SH
names=(ocinoco ocinoco-noop umoci)
declare -A labels=([ocinoco]="ocinoco build --push" [ocinoco-noop]="the same build again (a no-op rebuild)"
	[umoci]="skopeo copy + umoci insert + skopeo copy")
# LOCAL and REMOTE: TLS with a token server; LOCALB and REMOTEB: TLS with Basic auth (ocinoco only)
regs=(LOCAL REMOTE LOCALB REMOTEB)

# Two registries a round, each behind a tcp_proxy: LOCAL (no delay), REMOTE (the registry and
# its token server $delay ms away). Clients talk to NAME_PROXY_HOST.
round_registries() {
	registry_stop_all
	registry_start LOCAL tls-token
	REGISTRY_TOKEN_DELAY_MS=$delay registry_start REMOTE tls-token
	registry_start LOCALB tls-basic
	registry_start REMOTEB tls-basic
	for reg in "${regs[@]}"; do
		push_layout "$tmp/busybox" "$(host_of "$reg" direct)/base:latest" "$reg"
	done
	tcp_proxy_start LOCAL_PROXY "$LOCAL_HOST"
	tcp_proxy_start REMOTE_PROXY "$REMOTE_HOST" --delay-ms "$delay"
	tcp_proxy_start LOCALB_PROXY "$LOCALB_HOST"
	tcp_proxy_start REMOTEB_PROXY "$REMOTEB_HOST" --delay-ms "$delay"
	rm -f "$DOCKER_CONFIG/config.json"
	for reg in "${regs[@]}"; do docker_config_for "${reg}_PROXY" "$DOCKER_CONFIG"; done
}
host_of() { # REG direct|proxy
	local v=$1_HOST
	[ "$2" = direct ] || v=$1_PROXY_HOST
	printf '%s\n' "${!v}"
}

# Counters of registry REG: "registry-connections token-requests token-connections requests".
counters() {
	local tok=0 tokc=0
	if [ "${1%B}" = "$1" ]; then tok=$(token_requests "$1") tokc=$(token_connections "$1"); fi
	printf '%s %s %s %s\n' "$(tcp_proxy_connections "$1_PROXY")" "$tok" "$tokc" \
		"$(registry_requests "$1" '[A-Z]+' '.')"
}

# run NAME ROUND REG: one build through REG's proxy, timed and counted; its results go to
# results[NAME.REG] as "seconds conns tokens tokenconns requests;" entries.
declare -A results
run() {
	local n=$1 r=$2 reg=$3 d=$tmp/run/$1.$2.$3 host before after t0 t1
	mkdir -p "$d"
	host=$(host_of "$reg" proxy)
	before=$(counters "$reg")
	t0=$EPOCHREALTIME
	local t=$tree
	[ "${reg%B}" = "$reg" ] || t=$small
	if ! SSL_CERT_FILE=$TEST_CA REG_CERTDIR=$REMOTE_CERTDIR bash "$tmp/cmd/$n.sh" "$t" \
		"$host" "bench-$n-$r/app" "$d" >"$tmp/log/$n.$r.$reg" 2>&1; then
		cat "$tmp/log/$n.$r.$reg" >&2
		bench_die "$n (round $r, $reg) failed"
	fi
	t1=$EPOCHREALTIME
	after=$(counters "$reg")
	results[$n.$reg]+="$(awk -v a="$t0" -v b="$t1" -v x="$before" -v y="$after" 'BEGIN {
		split(x, p, " "); split(y, q, " ")
		printf "%.3f %d %d %d %d", b - a, q[1] - p[1], q[2] - p[2], q[3] - p[3], q[4] - p[4] }');"
}

median() { # numbers on stdin
	sort -n | awk '{ v[NR] = $1 } END { printf "%g\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
field() { # NAME.REG FIELD: the median of that field over the runs
	tr ';' '\n' <<<"${results[$1]}" | grep . | cut -d' ' -f"$2" | median
}

echo "tree: $tree ($(du -s --apparent-size --block-size=1M "$tree" | cut -f1) MB); $(nproc) cores;" \
	"load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$runs rounds; REMOTE = registry and token server ${delay} ms away (tcp_proxy.py), LOCAL = no delay"
tar -C "$tree" -cf - . | cat >/dev/null # the page cache, for the first build
for ((r = 1; r <= runs; r++)); do
	round_registries >"$tmp/log/round.$r" 2>&1 || { cat "$tmp/log/round.$r" >&2; bench_die "round $r: set-up failed"; }
	for n in "${names[@]}"; do
		for reg in "${regs[@]}"; do
			[ "$n" != umoci ] || [ "${reg%B}" = "$reg" ] || continue
			run "$n" "$r" "$reg"
		done
	done
done

echo
printf '%-10s %-7s %9s %12s %7s %11s %9s %s\n' command where "wall ms" "connections" tokens \
	"token conns" requests "round trips"
# round_trips NAME B: (REMOTE - LOCAL) / delay of NAME's builds (B: "B" for the Basic-auth pair)
round_trips() {
	awk -v a="$(field "$1.LOCAL$2" 1)" -v b="$(field "$1.REMOTE$2" 1)" -v d="$delay" \
		'BEGIN { printf "%.1f", (b - a) * 1000 / d }'
}
for n in "${names[@]}"; do
	for reg in "${regs[@]}"; do
		[ -n "${results[$n.$reg]:-}" ] || continue
		rt=
		case $reg in REMOTE*) rt=$(round_trips "$n" "${reg#REMOTE}") ;; esac
		printf '%-10s %-7s %9.0f %12s %7s %11s %9s %s\n' "$n" "$reg" "$(awk -v t="$(field "$n.$reg" 1)" 'BEGIN { print t * 1000 }')" \
			"$(field "$n.$reg" 2)" "$(field "$n.$reg" 3)" "$(field "$n.$reg" 4)" "$(field "$n.$reg" 5)" "$rt"
	done
done
echo "(medians of $runs; round trips = (REMOTE - LOCAL) / ${delay} ms, the exchanges made one after another;"
echo " LOCAL/REMOTE: TLS + token server, the npm tree; LOCALB/REMOTEB: TLS + Basic auth, a small app"
echo " ($(du -s --apparent-size --block-size=1K "$small" | cut -f1) KB: package.json + src/))"
for n in "${names[@]}"; do echo "  $n: ${labels[$n]}"; done

# Where the remote build's time goes: instrumented builds on the last round's registries.
inst_setup "$bin" "$tmp/inst"
echo
echo "where ocinoco build's time goes against the REMOTE registry (each program's start and end,"
echo "ms after the build started; medians of $runs instrumented builds):"
logs=()
for ((r = 1; r <= runs; r++)); do
	logs+=("$tmp/log/timeline.$r")
	SSL_CERT_FILE=$TEST_CA inst_build "$tmp/inst" "${logs[-1]}" build "$tree" \
		--from "$REMOTE_PROXY_HOST/base:latest" --tag "$REMOTE_PROXY_HOST/bench-timeline-$r/app:latest" \
		--push --root-dir /app --cache "$tmp/log/timeline.$r.cache" || bench_die "instrumented build $r failed"
done
inst_timeline "${logs[@]}"
echo
# target CASE VALUE MAX: one line of the targets of issue 13
target() {
	printf '=> %-42s %5s round trips; target <= %-4s %s\n' "$1:" "$2" "$3" \
		"$(awk -v a="$2" -v b="$3" 'BEGIN { print (a <= b ? "yes" : "NO") }')"
}
target "cold build, Basic auth over TLS" "$(round_trips ocinoco B)" 6
target "no-op rebuild, Basic auth over TLS" "$(round_trips ocinoco-noop B)" 4
target "cold build, Bearer token server" "$(round_trips ocinoco '')" 6.5
target "no-op rebuild, Bearer token server" "$(round_trips ocinoco-noop '')" 5
for n in ocinoco ocinoco-noop; do
	for reg in REMOTE REMOTEB; do
		c=$(field "$n.$reg" 2) k=$(field "$n.$reg" 3)
		ok=yes
		[ "${c%.*}" -le 3 ] && [ "${k%.*}" -le 3 ] || ok=NO
		printf '=> %s, %s: %s TLS handshakes, %s token requests; target <= 3 and <= 3: %s\n' \
			"$n" "$reg" "$c" "$k" "$ok"
	done
done
ours=$(field ocinoco.REMOTE 1)
theirs=$(field umoci.REMOTE 1)
conns=$(field ocinoco.REMOTE 2)
tokens=$(field ocinoco.REMOTE 3)
ok=yes
[ "${conns%.*}" -le 3 ] && [ "${tokens%.*}" -le 3 ] || ok=NO
printf '=> ocinoco build, remote registry: %s TLS handshakes, %s token requests; target <= 3 and <= 3: %s\n' \
	"$conns" "$tokens" "$ok"
printf '=> ocinoco build / umoci+skopeo, remote registry (%s ms): %sx (medians: %.0f ms vs %.0f ms); no target\n' \
	"$delay" "$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.3f", a / b }')" \
	"$(awk -v t="$ours" 'BEGIN { print t * 1000 }')" "$(awk -v t="$theirs" 'BEGIN { print t * 1000 }')"
