# shellcheck shell=bash
# shellcheck disable=SC2154 # status and output are set by bats' run
# Helpers the registry client's tests need on top of registry.bash and images.bash.

# The TLS flags oci-fetch/oci-put need for registry NAME, one per line
# (mapfile -t tls < <(reg_tls_flags REG)).
reg_tls_flags() {
	local mode=${1}_MODE
	case ${!mode} in
	plain) ;;
	*) printf '%s\n' --cacert "$TEST_CA" ;;
	esac
}

# curl options (TLS, TEST_USER's credentials) to talk to registry NAME directly, one per line.
# In token mode they carry a token for SCOPE (default: push and pull on every repository the
# tests use is not possible, so give the scope).
reg_curl_flags() {
	local name=$1 scope=${2:-} mode=${1}_MODE tok
	case ${!mode} in
	plain) ;;
	tls) printf '%s\n' --cacert "$TEST_CA" ;;
	tls-basic) printf '%s\n' --cacert "$TEST_CA" -u "$TEST_USER:$TEST_PASS" ;;
	tls-token)
		tok=$(registry_token "$name" "$scope") || return 1
		printf '%s\n' --cacert "$TEST_CA" -H "Authorization: Bearer $tok"
		;;
	esac
}

# reg_tags NAME REPO: the repository's tags, one per line (nothing if it has none).
reg_tags() {
	local url=${1}_URL flags
	mapfile -t flags < <(reg_curl_flags "$1" "repository:$2:pull")
	curl -s "${flags[@]}" "${!url}/v2/$2/tags/list" | jq -r '.tags // [] | .[]'
}

# reg_has_blob NAME REPO DIGEST: exit 0 if the registry has the blob in that repository.
reg_has_blob() {
	local url=${1}_URL flags code
	mapfile -t flags < <(reg_curl_flags "$1" "repository:$2:pull")
	code=$(curl -s -o /dev/null -w '%{http_code}' -I "${flags[@]}" "${!url}/v2/$2/blobs/$3")
	[ "$code" = 200 ]
}

# reg_put_raw_manifest NAME REPO TAG FILE MEDIATYPE: PUT bytes as a manifest with curl, bypassing
# oci-put (to serve what oci-put would refuse). Prints the HTTP status.
reg_put_raw_manifest() {
	local url=${1}_URL flags
	mapfile -t flags < <(reg_curl_flags "$1" "repository:$2:pull,push")
	curl -s -o /dev/null -w '%{http_code}' "${flags[@]}" -X PUT -H "Content-Type: $5" \
		--data-binary "@$4" "${!url}/v2/$2/manifests/$3"
}

# reg_blob_data NAME DIGEST: the file where registry NAME (filesystem storage) keeps a blob.
reg_blob_data() {
	local dir=${1}_DIR hex=${2#sha256:}
	printf '%s\n' "${!dir}/data/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# layout_blob DIR DIGEST: the file of a blob in an OCI layout.
layout_blob() {
	printf '%s\n' "$1/blobs/sha256/${2#sha256:}"
}

# make_cred_helper DIR NAME USER SECRET: writes DIR/docker-credential-NAME, a credential helper
# answering USER/SECRET for any server and logging each server it is asked for to DIR/calls.
make_cred_helper() {
	local dir=$1 name=$2
	mkdir -p "$dir"
	cat >"$dir/docker-credential-$name" <<-HELPER
		#!/bin/sh
		[ "\$1" = get ] || exit 1
		read -r server
		echo "\$server" >>"$dir/calls"
		printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$server" '$3' '$4'
	HELPER
	chmod 755 "$dir/docker-credential-$name"
}

# peak_rss_kb CMD...: runs CMD (stdin passed on) under GNU time; its output goes to
# $BATS_TEST_TMPDIR/rss.out, the peak resident set size in KiB to stdout; fails if CMD fails.
peak_rss_kb() {
	/usr/bin/time -f '%M' -o "$BATS_TEST_TMPDIR/rss" "$@" >"$BATS_TEST_TMPDIR/rss.out" || return 1
	tail -n 1 "$BATS_TEST_TMPDIR/rss"
}

# skopeo with a policy that accepts anything (the machine may have no /etc/containers/policy.json).
skopeo_p() {
	local policy
	policy=$(_reg_shared_dir)/ocinoco-tests-policy.json || return 1
	if [ ! -s "$policy" ]; then
		echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy.$$" && mv "$policy.$$" "$policy"
	fi
	skopeo --policy "$policy" "$@"
}

# static_server_start NAME: a plain HTTP server on 127.0.0.1 serving the files under
# NAME_ROOT (exported, empty at first) as they are: a "registry" that serves what a real one
# would refuse to store (a manifest over 4 MiB, bytes that are not JSON). Exports NAME_HOST.
static_server_start() {
	local name=$1 state dir port
	state=$(_reg_state_dir) || return 1
	dir=$state/ocinoco-tests-static-$name
	rm -rf "$dir" && mkdir -p "$dir/root" || return 1
	port=$("$OCINOCO_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	_reg_spawn "$dir/server.pid" "$dir/server.log" "$OCINOCO_PYTHON" -m http.server \
		--bind 127.0.0.1 --directory "$dir/root" "$port"
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break
		sleep 0.05
	done
	_reg_export "${name}_HOST" "127.0.0.1:$port"
	_reg_export "${name}_ROOT" "$dir/root"
}

# blob_server_start NAME DIR [--cut-once BYTES]: tests/lib/blob_server.py serving the blobs in
# DIR (files named by their hex digest) behind Basic auth (password "pw") and a redirect to
# another host name. Exports NAME_HOST (127.0.0.1:PORT) and NAME_LOG.
blob_server_start() {
	local name=$1 blobs=$2 state dir port
	shift 2
	state=$(_reg_state_dir) || return 1
	dir=$state/ocinoco-tests-blobsrv-$name
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	: >"$dir/requests.log"
	_reg_spawn "$dir/server.pid" "$dir/stderr.log" "$OCINOCO_PYTHON" "$REGISTRY_LIB/blob_server.py" \
		--dir "$blobs" --log "$dir/requests.log" --port-file "$dir/port" "$@"
	port=$(_reg_wait_port_file "$dir/port" "$dir/server.pid" "$dir/stderr.log") || return 1
	_reg_export "${name}_HOST" "127.0.0.1:$port"
	_reg_export "${name}_LOG" "$dir/requests.log"
}
