# shellcheck shell=bash
# An instrumented `ocinoco build`, for bench/build.sh and bench/roundtrip.sh: where its wall
# time goes and how much memory each of its programs takes.
#   inst_setup BIN DIR          DIR gets a copy of BIN/ocinoco and wrappers of its programs (it
#                               runs the programs next to it before PATH)
#   inst_build DIR LOG ARGS...  runs DIR/ocinoco ARGS (stdout and stderr kept in LOG.out);
#                               LOG gets one line a program run, "PROGRAM ROLE START END
#                               MAXRSS_KiB" (ROLE: blob/manifest for oci-put, check/graft for
#                               oci-graft, name for oci-fetch --name, else -), and "ocinoco build START END MAXRSS_KiB"
#                               (the largest process of the whole build)
#   inst_timeline LOG...        prints each program's median start and end, in ms after the
#                               build started, over the LOGs

inst_setup() {
	local bin=$1 dir=$2 p
	mkdir -p "$dir" && cp "$bin/ocinoco" "$dir/ocinoco" || return 1
	for p in oci-tar oci-digest oci-fetch oci-put oci-graft oci-cache oci-index; do
		cat >"$dir/$p" <<SH || return 1
#!/bin/bash
start=\$EPOCHREALTIME
/usr/bin/time -f %M -o "\$INST_LOG.\$\$" "$bin/$p" "\$@"
rc=\$?
end=\$EPOCHREALTIME
case " \$* " in
*" blob "*) role=blob ;; *" manifest "*) role=manifest ;; *" --name "*) role=name ;;
*" --scratch "*" /dev/null "*) role=check ;; *) role=- ;;
esac
[ $p != oci-graft ] || [ \$role = check ] || role=graft
echo "$p \$role \$start \$end \$(tail -n 1 "\$INST_LOG.\$\$")" >>"\$INST_LOG"
rm -f "\$INST_LOG.\$\$"
exit \$rc
SH
		chmod 755 "$dir/$p" || return 1
	done
}

inst_build() {
	local dir=$1 log=$2 start end
	shift 2
	start=$EPOCHREALTIME
	INST_LOG=$log /usr/bin/time -f %M -o "$log.build" "$dir/ocinoco" "$@" >"$log.out" 2>&1 || {
		cat "$log.out" >&2
		return 1
	}
	end=$EPOCHREALTIME
	echo "ocinoco build $start $end $(tail -n 1 "$log.build")" >>"$log"
}

_inst_median() { # numbers, one a line, on stdin
	sort -n | awk '{ v[NR] = $1 } END { printf "%.0f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

inst_timeline() {
	local log all prog role rest
	all=$(for log in "$@"; do
		# The n-th run of a program in its role is one row: "ROLE#n" from the second on.
		awk '$1 == "ocinoco" { t0 = $3 } { l[NR] = $0 } END { for (i = 1; i <= NR; i++) {
			split(l[i], f, " "); k = f[1] " " f[2]; n[k]++; r = n[k] > 1 ? f[2] "#" n[k] : f[2]
			printf "%s %s %.1f %.1f\n", f[1], r, (f[3] - t0) * 1000, (f[4] - t0) * 1000 } }' "$log"
	done)
	awk '{ k = $1 " " $2; s[k] = s[k] " " $3; e[k] = e[k] " " $4 } END { for (k in s) print k, s[k], "|", e[k] }' \
		<<<"$all" | while read -r prog role rest; do
		printf '%s %s %s %s\n' "$(tr ' ' '\n' <<<"${rest%%|*}" | grep . | _inst_median)" \
			"$(tr ' ' '\n' <<<"${rest#*|}" | grep . | _inst_median)" "$prog" "$role"
	done | sort -n -k1,1 -k2,2 | awk '{ r = $4 == "-" ? "" : $4 ~ /^-#/ ? " " substr($4, 2) : " " $4; if ($3 == "ocinoco") r = " build (whole)"
		printf "  %-22s %5d -> %5d ms  (%d ms)\n", $3 r, $1, $2, $2 - $1 }'
}
