# shellcheck shell=bash
# The hostile registry (tests/lib/hostile_registry.py, behaviours documented there), after
# registry.bash.

# hostile_start NAME: starts it. Exports NAME_HOST (127.0.0.1:MAIN, the registry), NAME_OTHER
# (the other listener's port), NAME_LOG (a line per request: LISTENER SCHEME METHOD PATH
# auth=... headers=...), NAME_DIR (its blobs, files named by their hex digest), TEST_CA.
hostile_start() {
	local name=$1 state dir pki ports
	_reg_check_name "$name" || return 1
	state=$(_reg_state_dir) || return 1
	pki=$(_reg_pki) || return 1
	_reg_export TEST_CA "$pki/ca.crt"
	dir=$state/ocinoco-tests-hostile-$name
	rm -rf "$dir" && mkdir -p "$dir/blobs" || return 1
	: >"$dir/requests.log"
	_reg_spawn "$dir/server.pid" "$dir/stderr.log" "$OCINOCO_PYTHON" "$REGISTRY_LIB/hostile_registry.py" \
		--cert "$pki/server.crt" --key "$pki/server.key" --dir "$dir/blobs" \
		--log "$dir/requests.log" --port-file "$dir/port"
	ports=$(_reg_wait_port_file "$dir/port" "$dir/server.pid" "$dir/stderr.log") || return 1
	_reg_export "${name}_HOST" "127.0.0.1:${ports%% *}"
	_reg_export "${name}_OTHER" "${ports##* }"
	_reg_export "${name}_LOG" "$dir/requests.log"
	_reg_export "${name}_DIR" "$dir/blobs"
}

# hostile_requests NAME LISTENER METHOD PATH_REGEX [AUTH]: how many requests that listener
# (main, other) logged after its first MARK lines (0 unless set); AUTH "Basic", "Bearer" or
# "-" (none).
hostile_requests() {
	local log=${1}_LOG
	awk -v l="$2" -v m="$3" -v p="^($4)\$" -v a="${5:-}" -v from="${MARK:-0}" '
		NR > from && $1 == l && $3 == m && $4 ~ p && (a == "" || $5 == "auth=" a) { n++ }
		END { print n + 0 }' "${!log}"
}
