# shellcheck shell=bash
# Throwaway registries for the tests: Debian's docker-registry (CNCF distribution 2.8) on
# 127.0.0.1, plus the fault-injecting and TCP proxies that go in front of them.
# Usage in a bats file:
#   load ../lib/registry
#   setup_file() { registry_start REG tls-token; }
#   teardown_file() { registry_stop_all; }
# See tests/README.md and /work/notes/registry-contract.md ("Test infrastructure").
#
# Where things live: REGISTRY_STATE_DIR (default $BATS_FILE_TMPDIR) holds one directory per
# registry or proxy, named ocinoco-tests-*-NAME (the marker guards against killing a recycled pid);
# REGISTRY_SHARED_DIR (default $BATS_RUN_TMPDIR, else REGISTRY_STATE_DIR) holds what is made
# once per test run: the CA, certificates, htpasswd file, cached image layouts. Outside bats,
# set REGISTRY_STATE_DIR yourself (a fresh directory, removed by you afterwards).

REGISTRY_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's python3 has python3-jwt and python3-cryptography; a python3 earlier on PATH
# (pyenv, venv) may not.
OCINOCO_PYTHON=${OCINOCO_PYTHON:-/usr/bin/python3}
TEST_USER=ocinoco
TEST_PASS=ocinoco-test-pass-Kq83Zt
TEST_RO_USER=reader
TEST_RO_PASS=ocinoco-reader-pass-Vw21Lp
export REGISTRY_LIB OCINOCO_PYTHON TEST_USER TEST_PASS TEST_RO_USER TEST_RO_PASS

_reg_die() {
	echo "registry.bash: $*" >&2
	return 1
}

_reg_state_dir() {
	local d=${REGISTRY_STATE_DIR:-${BATS_FILE_TMPDIR:-}}
	[ -n "$d" ] || _reg_die "set REGISTRY_STATE_DIR (outside bats)" || return 1
	mkdir -p "$d" && printf '%s\n' "$d"
}

_reg_shared_dir() {
	local d=${REGISTRY_SHARED_DIR:-${BATS_RUN_TMPDIR:-}}
	[ -n "$d" ] || d=$(_reg_state_dir) || return 1
	mkdir -p "$d" && printf '%s\n' "$d"
}

_reg_check_name() {
	[[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || _reg_die "bad NAME '$1' (a shell variable prefix)"
}

# The CA, the registries' server certificate (SAN IP:127.0.0.1, IP:::1, DNS:localhost), the
# token signing certificate and the htpasswd file: made once per test run, under a lock so
# parallel bats jobs share them. Prints the directory.
_reg_pki() {
	local shared dir
	shared=$(_reg_shared_dir) || return 1
	dir=$shared/ocinoco-tests-pki
	(
		flock 9
		[ -s "$dir/ready" ] && exit 0
		rm -rf "$dir" && mkdir -p "$dir/certdir" || exit 1
		cd "$dir" || exit 1
		{
			openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
				-keyout ca.key -out ca.crt -days 3650 -subj "/CN=ocinoco test CA" \
				-addext basicConstraints=critical,CA:TRUE \
				-addext keyUsage=critical,keyCertSign,cRLSign &&
				openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
					-keyout server.key -out server.csr -subj "/CN=localhost" &&
				printf '%s\n' 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost' \
					'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
					'extendedKeyUsage=serverAuth' >server.ext &&
				openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 \
					-days 3650 -extfile server.ext -out server.crt &&
				openssl req -new -nodes -newkey rsa:2048 -keyout token.key -out token.csr \
					-subj "/CN=ocinoco test token signer" &&
				printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
					'keyUsage=critical,digitalSignature' >token.ext &&
				openssl x509 -req -in token.csr -CA ca.crt -CAkey ca.key -set_serial 3 \
					-days 3650 -extfile token.ext -out token.crt &&
				cp ca.crt certdir/ca.crt &&
				htpasswd -nbB -C 4 "$TEST_USER" "$TEST_PASS" >htpasswd.txt &&
				htpasswd -nbB -C 4 "$TEST_RO_USER" "$TEST_RO_PASS" >>htpasswd.txt &&
				printf '%s %s push\n%s %s pull\n' "$TEST_USER" "$TEST_PASS" \
					"$TEST_RO_USER" "$TEST_RO_PASS" >users
		} >pki.log 2>&1 || {
			cat pki.log >&2
			exit 1
		}
		echo ok >ready
	) 9>"$shared/ocinoco-tests-pki.lock" || _reg_die "could not make the test CA" || return 1
	printf '%s\n' "$dir"
}

_reg_alive() { # PID: running and not a zombie
	[ -e "/proc/$1" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# Starts a background process (stdin closed, fd 3 closed so bats does not wait for it) and
# records its pid in PIDFILE. Usage: _reg_spawn PIDFILE LOG CMD...
_reg_spawn() {
	local pidfile=$1 log=$2
	shift 2
	"$@" </dev/null >>"$log" 2>&1 3>&- &
	echo $! >"$pidfile"
}

# Stops the process recorded in PIDFILE (only if its command line carries our marker, so a
# recycled pid is never killed), waits for it to exit, removes PIDFILE.
_reg_kill() {
	local pidfile=$1 pid i
	pid=$(cat "$pidfile" 2>/dev/null) || return 0
	if _reg_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q ocinoco-tests; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || true # reaps it when it is this shell's child
		for ((i = 0; i < 100; i++)); do
			_reg_alive "$pid" || break
			sleep 0.05
		done
		if _reg_alive "$pid"; then
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
	return 0
}

# _reg_watchdog DIR PID: kills PID once DIR is gone, so a registry that a test run never
# stopped dies with the run's temp dirs (bats removes them at the end). The python helpers
# do the same by themselves.
_reg_watchdog() {
	(
		while [ -d "$1" ] && _reg_alive "$2"; do sleep 1; done
		if _reg_alive "$2" && tr '\0' ' ' <"/proc/$2/cmdline" | grep -q ocinoco-tests; then
			kill "$2"
		fi
	) </dev/null >/dev/null 2>&1 3>&- &
}

# Waits until a helper written in python has written its port file; prints the port.
_reg_wait_port_file() { # PORTFILE PIDFILE LOG
	local i
	for ((i = 0; i < 400; i++)); do
		[ -s "$1" ] && {
			cat "$1"
			return 0
		}
		_reg_alive "$(cat "$2")" || break
		sleep 0.05
	done
	cat "$3" >&2
	_reg_die "$1: the helper did not start"
}

_reg_export() { # VAR VALUE
	printf -v "$1" '%s' "$2"
	export "${1?}"
}

# registry_start NAME MODE: MODE is plain (HTTP), tls (HTTPS, no auth), tls-basic (HTTPS,
# htpasswd) or tls-token (HTTPS, Bearer tokens from token_server.py). Exports NAME_HOST,
# NAME_URL, NAME_MODE, NAME_LOG, NAME_DIR, and for TLS TEST_CA and NAME_CERTDIR, for token
# mode NAME_TOKEN_LOG, NAME_TOKEN_CONN_LOG, NAME_REALM, NAME_SERVICE.
registry_start() {
	local name=$1 mode=$2 state dir pki cfg log port i code realm="" service="ocinoco-test-$1"
	_reg_check_name "$name" || return 1
	case $mode in plain | tls | tls-basic | tls-token) ;; *) _reg_die "bad MODE '$mode'" || return 1 ;; esac
	state=$(_reg_state_dir) || return 1
	dir=$state/ocinoco-tests-reg-$name
	[ ! -e "$dir/registry.pid" ] || _reg_die "registry $name is already running" || return 1
	rm -rf "$dir" && mkdir -p "$dir/data" || return 1
	cfg=$dir/ocinoco-tests-registry.yml
	log=$dir/registry.log
	: >"$log"
	if [ "$mode" != plain ]; then
		pki=$(_reg_pki) || return 1
		_reg_export TEST_CA "$pki/ca.crt"
		_reg_export "${name}_CERTDIR" "$pki/certdir"
	fi
	if [ "$mode" = tls-token ]; then
		: >"$dir/token.log"
		: >"$dir/token-connections.log"
		_reg_spawn "$dir/token.pid" "$dir/token-server.log" "$OCINOCO_PYTHON" \
			"$REGISTRY_LIB/token_server.py" --cert "$pki/server.crt" --key "$pki/server.key" \
			--sign-cert "$pki/token.crt" --sign-key "$pki/token.key" --issuer ocinoco-test-token \
			--service "$service" --users "$pki/users" --log "$dir/token.log" \
			--conn-log "$dir/token-connections.log" --port-file "$dir/token.port"
		port=$(_reg_wait_port_file "$dir/token.port" "$dir/token.pid" "$dir/token-server.log") || return 1
		realm=https://127.0.0.1:$port/token
		# A remote token server (the round-trip benchmark): REGISTRY_TOKEN_DELAY_MS=N puts a
		# tcp_proxy.py --delay-ms N in front of it, exported as NAME_TOKENPROXY_{HOST,LOG}.
		if [ -n "${REGISTRY_TOKEN_DELAY_MS:-}" ]; then
			tcp_proxy_start "${name}_TOKENPROXY" "127.0.0.1:$port" --delay-ms "$REGISTRY_TOKEN_DELAY_MS" ||
				return 1
			realm=${name}_TOKENPROXY_HOST
			realm=https://${!realm}/token
		fi
		_reg_export "${name}_TOKEN_LOG" "$dir/token.log"
		_reg_export "${name}_TOKEN_CONN_LOG" "$dir/token-connections.log"
		_reg_export "${name}_REALM" "$realm"
		_reg_export "${name}_SERVICE" "$service"
	fi
	{
		cat <<-EOF
			version: 0.1
			log:
			  level: info
			  formatter: text
			  accesslog:
			    disabled: false
			storage:
			  filesystem:
			    rootdirectory: $dir/data
			  delete:
			    enabled: true
			  maintenance:
			    uploadpurging:
			      enabled: false
			http:
			  addr: 127.0.0.1:0
			  secret: ocinoco-tests-$RANDOM$RANDOM
		EOF
		if [ "$mode" != plain ]; then
			cat <<-EOF
				  tls:
				    certificate: $pki/server.crt
				    key: $pki/server.key
			EOF
		fi
		if [ "$mode" = tls-basic ]; then
			cat <<-EOF
				auth:
				  htpasswd:
				    realm: ocinoco-test
				    path: $pki/htpasswd.txt
			EOF
		elif [ "$mode" = tls-token ]; then
			cat <<-EOF
				auth:
				  token:
				    realm: $realm
				    service: $service
				    issuer: ocinoco-test-token
				    rootcertbundle: $pki/ca.crt
			EOF
		fi
	} >"$cfg"
	_reg_spawn "$dir/registry.pid" "$log" docker-registry serve "$cfg"
	# Port 0 in the config: the kernel picks a free port, so there is no race with other
	# tests; read it back from the listening socket of that pid.
	local pid proto=http curlopts=()
	pid=$(cat "$dir/registry.pid")
	_reg_watchdog "$dir" "$pid"
	port=
	for ((i = 0; i < 400; i++)); do
		port=$(ss -Htlnp 2>/dev/null | awk -v p="pid=$pid," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
		[ -n "$port" ] && break
		_reg_alive "$pid" || break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		cat "$log" >&2
		registry_stop "$name"
		_reg_die "registry $name did not start" || return 1
	fi
	if [ "$mode" != plain ]; then
		proto=https
		curlopts=(--cacert "$TEST_CA")
	fi
	for ((i = 0; i < 400; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "${curlopts[@]}" "$proto://127.0.0.1:$port/v2/") || code=000
		case $code in 200 | 401) break ;; esac
		sleep 0.05
	done
	if [ "$code" != 200 ] && [ "$code" != 401 ]; then
		cat "$log" >&2
		registry_stop "$name"
		_reg_die "registry $name does not answer on port $port (last status $code)" || return 1
	fi
	_reg_export "${name}_HOST" "127.0.0.1:$port"
	_reg_export "${name}_URL" "$proto://127.0.0.1:$port"
	_reg_export "${name}_MODE" "$mode"
	_reg_export "${name}_LOG" "$log"
	_reg_export "${name}_DIR" "$dir"
}

# registry_stop NAME: stops the registry and its token server (and the token server's proxy),
# waits for them to exit.
registry_stop() {
	local dir
	dir=$(_reg_state_dir)/ocinoco-tests-reg-$1 || return 1
	_reg_kill "$dir/registry.pid"
	_reg_kill "$dir/token.pid"
	_reg_kill "${dir%/*}/ocinoco-tests-tcp-${1}_TOKENPROXY/proxy.pid"
}

# registry_restart NAME: stops registry NAME and starts it again on the same port, with the
# same storage and secret (uploads in progress stay on disk, their Location URLs valid); waits
# until it answers. Its token server, if any, keeps running.
registry_restart() {
	local dir host url cfg port pid i code curlopts=()
	dir=$(_reg_state_dir)/ocinoco-tests-reg-$1 || return 1
	host=${1}_HOST url=${1}_URL cfg=$dir/ocinoco-tests-registry.yml
	port=${!host##*:}
	_reg_kill "$dir/registry.pid"
	sed -i "s/^  addr: 127\.0\.0\.1:[0-9]*\$/  addr: 127.0.0.1:$port/" "$cfg"
	_reg_spawn "$dir/registry.pid" "$dir/registry.log" docker-registry serve "$cfg"
	pid=$(cat "$dir/registry.pid")
	_reg_watchdog "$dir" "$pid"
	[[ ${!url} != https:* ]] || curlopts=(--cacert "$TEST_CA")
	for ((i = 0; i < 400; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "${curlopts[@]}" "${!url}/v2/") || code=000
		case $code in 200 | 401) return 0 ;; esac
		_reg_alive "$pid" || break
		sleep 0.05
	done
	cat "$dir/registry.log" >&2
	_reg_die "registry $1 did not start again on port $port"
}

# registry_stop_all: stops every registry and proxy started under REGISTRY_STATE_DIR
# (for teardown_file).
registry_stop_all() {
	local state f
	state=$(_reg_state_dir) || return 1
	for f in "$state"/ocinoco-tests-*/*.pid; do
		[ -e "$f" ] && _reg_kill "$f"
	done
	return 0
}

# registry_requests NAME METHOD URI_REGEX [STATUS]: prints how many requests registry NAME
# logged (its access log: every request, also 401s) whose method matches ^(METHOD)$ and whose
# URI (path and query) matches URI_REGEX (awk ERE), and, if given, whose status is STATUS.
#   registry_requests REG PATCH '/v2/app/blobs/uploads/'
#   registry_requests REG POST 'mount=' 201
registry_requests() {
	local dir
	dir=$(_reg_state_dir)/ocinoco-tests-reg-$1 || return 1
	[ -f "$dir/registry.log" ] || _reg_die "no registry $1" || return 1
	awk -F'"' -v m="^($2)\$" -v u="$3" -v s="${4:-}" '
		/^time=/ || NF < 3 { next }
		{
			split($2, r, " ")
			split($3, t, " ")
			if (r[1] ~ m && r[2] ~ u && (s == "" || t[1] == s)) n++
		}
		END { print n + 0 }' "$dir/registry.log"
}

# token_requests NAME [SCOPE_REGEX]: how many token requests NAME's token server answered
# (all, or those with a scope matching the ERE).
token_requests() {
	local log=${1}_TOKEN_LOG
	[ -n "${!log:-}" ] || _reg_die "no token server for $1" || return 1
	if [ -n "${2:-}" ]; then
		awk -v re="$2" '{ for (i = 6; i <= NF; i++) if ($i ~ re) { n++; break } } END { print n + 0 }' "${!log}"
	else
		awk 'END { print NR }' "${!log}"
	fi
}

# token_connections NAME: TCP connections (TLS handshakes) the token server accepted.
token_connections() {
	local log=${1}_TOKEN_CONN_LOG
	[ -n "${!log:-}" ] || _reg_die "no token server for $1" || return 1
	awk 'END { print NR }' "${!log}"
}

# registry_token NAME SCOPE...: prints a token for TEST_USER with these scopes (for raw curl).
registry_token() {
	local name=$1 realm service args=()
	realm=${name}_REALM service=${name}_SERVICE
	[ -n "${!realm:-}" ] || _reg_die "$name is not in tls-token mode" || return 1
	shift
	args=(--data-urlencode "service=${!service}")
	for s in "$@"; do args+=(--data-urlencode "scope=$s"); done
	curl -sf --cacert "$TEST_CA" -u "$TEST_USER:$TEST_PASS" -G "${args[@]}" "${!realm}" | jq -r .token
}

# docker_config_for NAME DIR: adds TEST_USER's credentials for registry NAME to DIR/config.json
# (created if missing; other registries' entries kept). Use with DOCKER_CONFIG=DIR.
docker_config_for() {
	local host=${1}_HOST dir=$2 auth json
	[ -n "${!host:-}" ] || _reg_die "no registry $1" || return 1
	mkdir -p "$dir" || return 1
	auth=$(printf '%s:%s' "$TEST_USER" "$TEST_PASS" | base64 -w0)
	json='{}'
	[ -s "$dir/config.json" ] && json=$(cat "$dir/config.json")
	jq --arg h "${!host}" --arg a "$auth" '.auths[$h] = {auth: $a}' <<<"$json" >"$dir/config.json.tmp" &&
		mv "$dir/config.json.tmp" "$dir/config.json"
}

# registry_skopeo_flags NAME src|dest: prints skopeo's flags to reach registry NAME as TEST_USER,
# one per line (mapfile -t flags < <(registry_skopeo_flags REG dest)).
registry_skopeo_flags() {
	local mode=${1}_MODE certdir=${1}_CERTDIR side=$2
	[ -n "${!mode:-}" ] || _reg_die "no registry $1" || return 1
	case ${!mode} in
	plain) printf '%s\n' "--$side-tls-verify=false" ;;
	*) printf '%s\n' "--$side-cert-dir" "${!certdir}" ;;
	esac
	case ${!mode} in
	tls-basic | tls-token) printf '%s\n' "--$side-creds" "$TEST_USER:$TEST_PASS" ;;
	*) printf '%s\n' "--$side-no-creds" ;;
	esac
}

# _reg_name_for_host HOST:PORT: prints the NAME of the registry (registry_start) serving it.
_reg_name_for_host() {
	local v mode
	for v in $(compgen -v | grep '_HOST$'); do
		mode=${v%_HOST}_MODE
		if [ "${!v}" = "$1" ] && [ -n "${!mode:-}" ]; then
			printf '%s\n' "${v%_HOST}"
			return 0
		fi
	done
	return 1
}

# fault_proxy_start [--tls] NAME TARGET_HOST RULE...: an HTTP/1.1 proxy (tests/lib/fault_proxy.py,
# rules documented there) in front of the registry at TARGET_HOST. It speaks HTTPS (test CA)
# to a TLS registry and then serves HTTPS itself, else plain HTTP (--tls: HTTPS even in front
# of a plain registry, e.g. as a redirect target). Exports NAME_HOST, NAME_URL, NAME_LOG (one
# line per connection and per request), NAME_MODE (the target registry's), NAME_CERTDIR.
fault_proxy_start() {
	local front_tls=0 name target state dir port target_name mode=plain pki tls=()
	if [ "${1:-}" = --tls ]; then
		front_tls=1
		shift
	fi
	name=$1 target=$2
	shift 2
	_reg_check_name "$name" || return 1
	state=$(_reg_state_dir) || return 1
	dir=$state/ocinoco-tests-fault-$name
	[ ! -e "$dir/proxy.pid" ] || _reg_die "proxy $name is already running" || return 1
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	if target_name=$(_reg_name_for_host "$target"); then
		mode=${target_name}_MODE
		mode=${!mode}
	fi
	if [ "$mode" != plain ] || [ $front_tls = 1 ]; then
		pki=$(_reg_pki) || return 1
		_reg_export TEST_CA "$pki/ca.crt"
		_reg_export "${name}_CERTDIR" "$pki/certdir"
		tls=(--tls-cert "$pki/server.crt" --tls-key "$pki/server.key")
		[ "$mode" = plain ] || tls+=(--upstream-ca "$pki/ca.crt")
		[ "$mode" != plain ] || mode=tls
	fi
	: >"$dir/proxy.log"
	if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi >"$dir/rules"
	_reg_spawn "$dir/proxy.pid" "$dir/stderr.log" "$OCINOCO_PYTHON" "$REGISTRY_LIB/fault_proxy.py" \
		--target "$target" --rules "$dir/rules" --log "$dir/proxy.log" --port-file "$dir/port" "${tls[@]}"
	port=$(_reg_wait_port_file "$dir/port" "$dir/proxy.pid" "$dir/stderr.log") || return 1
	_reg_export "${name}_HOST" "127.0.0.1:$port"
	if [ ${#tls[@]} -gt 0 ]; then
		_reg_export "${name}_URL" "https://127.0.0.1:$port"
	else
		_reg_export "${name}_URL" "http://127.0.0.1:$port"
	fi
	_reg_export "${name}_LOG" "$dir/proxy.log"
	_reg_export "${name}_MODE" "$mode"
}

# fault_proxy_rules NAME RULE...: replaces the proxy's rules (their counts start afresh).
fault_proxy_rules() {
	local dir
	dir=$(_reg_state_dir)/ocinoco-tests-fault-$1 || return 1
	[ -e "$dir/proxy.pid" ] || _reg_die "no fault proxy $1" || return 1
	shift
	if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi >"$dir/rules.tmp" && mv "$dir/rules.tmp" "$dir/rules"
}

fault_proxy_stop() {
	_reg_kill "$(_reg_state_dir)/ocinoco-tests-fault-$1/proxy.pid"
}

# fault_proxy_requests NAME METHOD PATH_REGEX [STATUS [AUTH]]: requests the proxy saw
# (faulted ones too); STATUS "" for any; AUTH the Authorization scheme ("Bearer", "Basic") or
# "-" for none.
fault_proxy_requests() {
	local log=${1}_LOG
	awk -v m="^($2)\$" -v u="$3" -v s="${4:-}" -v a="${5:-}" '
		$2 == "request" && $4 ~ m && $5 ~ u && (s == "" || $6 == s) && (a == "" || $9 == a) { n++ }
		END { print n + 0 }' "${!log}"
}

# fault_proxy_connections NAME: client connections the proxy accepted.
fault_proxy_connections() {
	local log=${1}_LOG
	awk '$2 == "connect" { n++ } END { print n + 0 }' "${!log}"
}

# tcp_proxy_start NAME TARGET_HOST [--delay-ms N]: a TCP pass-through (TLS goes through
# untouched). Exports NAME_HOST, NAME_LOG.
tcp_proxy_start() {
	local name=$1 target=$2 state dir port
	shift 2
	_reg_check_name "$name" || return 1
	state=$(_reg_state_dir) || return 1
	dir=$state/ocinoco-tests-tcp-$name
	[ ! -e "$dir/proxy.pid" ] || _reg_die "proxy $name is already running" || return 1
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	: >"$dir/proxy.log"
	_reg_spawn "$dir/proxy.pid" "$dir/stderr.log" "$OCINOCO_PYTHON" "$REGISTRY_LIB/tcp_proxy.py" \
		--target "$target" --log "$dir/proxy.log" --port-file "$dir/port" "$@"
	port=$(_reg_wait_port_file "$dir/port" "$dir/proxy.pid" "$dir/stderr.log") || return 1
	_reg_export "${name}_HOST" "127.0.0.1:$port"
	_reg_export "${name}_LOG" "$dir/proxy.log"
}

tcp_proxy_stop() {
	_reg_kill "$(_reg_state_dir)/ocinoco-tests-tcp-$1/proxy.pid"
}

# tcp_proxy_connections NAME: connections accepted so far.
tcp_proxy_connections() {
	local log=${1}_LOG
	awk '$2 == "connect" { n++ } END { print n + 0 }' "${!log}"
}
