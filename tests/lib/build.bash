# shellcheck shell=bash
# shellcheck disable=SC2034 # APP_* are read by the files that load this one
# Helpers of the `ocinoco build` tests (load after registry, images and registry_extra): the
# fixture app, and running an image the way a runtime would, with tools that are not ocinoco's.
#
#   make_app DIR                 the fixture app: hello.sh (prints $GREETING, the working
#                                directory and its data file), data/message.txt, data/empty/
#   APP_OUTPUT                   what hello.sh prints with GREETING=world in /app
#   layout_rootfs LAYOUT REF ROOTFS
#                                applies REF's layers (oci-fetch picks them) in order with GNU
#                                tar (gzip or zstd, owners kept) into ROOTFS
#   run_config CONFIG ROOTFS     runs the image config's Entrypoint+Cmd in ROOTFS with chroot,
#                                its Env only, in its WorkingDir
#   run_bundle BUNDLE            the same from a runtime bundle (umoci unpack): config.json's
#                                process.args, env and cwd
#   app_owners ROOTFS            uid:gid of /app and of every file under it, one line each
#   only_names DIR NAME...       fails unless DIR holds exactly these names (temporaries show)

APP_OUTPUT='hello from ocinoco: world
cwd: /app
the data file of the app'

make_app() {
	mkdir -p "$1/data/empty" || return 1
	cat >"$1/hello.sh" <<-'EOF'
		#!/bin/sh
		echo "hello from ocinoco: $GREETING"
		echo "cwd: $(pwd)"
		cat data/message.txt
	EOF
	echo 'the data file of the app' >"$1/data/message.txt"
	chmod 755 "$1" "$1/hello.sh" "$1/data" "$1/data/empty" && chmod 644 "$1/data/message.txt"
}

layout_rootfs() {
	local layout=$1 ref=$2 rootfs=$3 d
	mkdir -p "$rootfs" || return 1
	for d in $(oci-fetch "oci:$layout:$ref" | jq -r '.layers[].digest'); do
		tar --numeric-owner -xpf "$(layout_blob "$layout" "$d")" -C "$rootfs" || return 1
	done
}

# chroot ROOTFS, cd WORKDIR, exec ARGS... with exactly the environment given.
_run_in() { # ROOTFS WORKDIR ENV_JSON_ARRAY ARGS_JSON_ARRAY
	local -a env args
	mapfile -t env < <(jq -r '.[]' <<<"$3")
	mapfile -t args < <(jq -r '.[]' <<<"$4")
	# shellcheck disable=SC2016 # the inner shell expands them
	env -i "${env[@]}" chroot "$1" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "${2:-/}" "${args[@]}"
}

run_config() {
	_run_in "$2" "$(jq -r '.config.WorkingDir // "/"' "$1")" "$(jq -c '.config.Env // []' "$1")" \
		"$(jq -c '(.config.Entrypoint // []) + (.config.Cmd // [])' "$1")"
}

run_bundle() {
	local c=$1/config.json
	_run_in "$1/rootfs" "$(jq -r '.process.cwd' "$c")" "$(jq -c '.process.env' "$c")" \
		"$(jq -c '.process.args' "$c")"
}

app_owners() {
	find "$1/app" -printf '%P %U:%G\n' | LC_ALL=C sort
}

# The owners every image of the fixture app must show with --uid 1000 --gid 1000.
APP_OWNERS=' 1000:1000
data 1000:1000
data/empty 1000:1000
data/message.txt 1000:1000
hello.sh 1000:1000'

only_names() {
	local dir=$1 want got
	shift
	want=$(if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi | LC_ALL=C sort)
	got=$(find "$dir" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort)
	[ "$want" = "$got" ] || {
		echo "in $dir: want [$want], got [$got]" >&2
		return 1
	}
}
