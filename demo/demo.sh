#!/usr/bin/env bash
# make demo: ocinoco's main job, end to end, against a throwaway registry on 127.0.0.1.
#   1. start a docker-registry (Debian's CNCF distribution) on a free port of 127.0.0.1
#   2. push a small runnable base image (Debian's busybox-static) to it with skopeo
#   3. ocinoco build ./demo/app onto that base, and push it
#   4. check it with other tools: skopeo inspect; skopeo copy into an OCI layout, its layers
#      unpacked with GNU tar, the app run from them with chroot, its files' owners shown
#   5. stop the registry and remove everything it made
# Exit 0 only if every step worked.
#   demo/demo.sh BINDIR     (make demo runs: demo/demo.sh build/bin)
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/ocinoco" ]; then
	echo "usage: demo/demo.sh BINDIR (a directory holding ocinoco and the oci-* programs)" >&2
	exit 2
fi
BIN=$(cd "$1" && pwd)
PATH=$BIN:$PATH
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."

# The tests' helpers start the registry and make the base image; outside bats they keep their
# state in REGISTRY_STATE_DIR.
work=$(mktemp -d "${TMPDIR:-/tmp}/ocinoco-demo.XXXXXX")
export REGISTRY_STATE_DIR=$work/state
# shellcheck source=/dev/null # tests/lib/registry.bash
. tests/lib/registry.bash
# shellcheck source=/dev/null # tests/lib/images.bash
. tests/lib/images.bash

step() { printf '\n==> %s\n' "$*"; }
# Shows a command (on stderr, so that its output can be kept), then runs it.
run() {
	local a line='$'
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:@=,+%-]+$ ]]; then
			line+=" $a"
		else
			line+=" '${a//\'/\'\\\'\'}'"
		fi
	done
	echo "$line" >&2
	"$@"
}
die() {
	echo "demo: $*" >&2
	exit 1
}
elapsed() { # seconds since $1, an $EPOCHREALTIME
	local us=$((${EPOCHREALTIME/[.,]/} - ${1/[.,]/}))
	printf '%d.%02d' $((us / 1000000)) $((us % 1000000 / 10000))
}
demo_started=$EPOCHREALTIME

finish() {
	local rc=$?
	step "Stop the registry, remove $work"
	registry_stop_all
	rm -rf "$work"
	if [ "$rc" -eq 0 ]; then
		echo "demo: OK, in $(elapsed "$demo_started") s"
	else
		echo "demo: FAILED (exit $rc)" >&2
	fi
}
trap finish EXIT


step "Start a throwaway registry on 127.0.0.1 (docker-registry, plain HTTP)"
registry_start DEMO plain
REG=$DEMO_HOST
echo "registry at http://$REG"

step "Push a small runnable base image (busybox-static) to $REG/base:latest with skopeo"
make_busybox_layout "$work/base" oci
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$work/policy.json"
run skopeo --policy "$work/policy.json" copy -q --dest-tls-verify=false "oci:$work/base:latest" "docker://$REG/base:latest"

step "Build demo/app onto it with ocinoco, and push it"
echo "demo/app holds:"
find demo/app -printf '  %M %p\n' | LC_ALL=C sort -k2
build_started=$EPOCHREALTIME
run ocinoco build ./demo/app --from "$REG/base:latest" --tag "$REG/demo/app:latest" \
	--root-dir /app --uid 1000 --gid 1000 --user 1000:1000 --workdir /app \
	--env GREETING='hello, world' --cmd '["/app/hello.sh"]' --push | tee "$work/pushed"
build_time=$(elapsed "$build_started")
echo "ocinoco build took $build_time s (the base's layers never left the registry)"
digest=$(cut -d@ -f2 "$work/pushed")
[ "$(cat "$work/pushed")" = "$REG/demo/app:latest@$digest" ] || die "unexpected output of ocinoco build"

step "Check it with skopeo: the manifest the registry serves, and the image's config"
run skopeo inspect --tls-verify=false --raw "docker://$REG/demo/app:latest" >"$work/manifest.json"
served=sha256:$(sha256sum <"$work/manifest.json" | cut -d' ' -f1)
echo "manifest digest: $served"
[ "$served" = "$digest" ] || die "the registry serves $served, ocinoco printed $digest"
jq -r '.layers[] | "layer \(.digest) \(.size) bytes \(.mediaType)"' "$work/manifest.json"
run skopeo inspect --tls-verify=false --config "docker://$REG/demo/app:latest" >"$work/config.json"
jq -c '.config | {User, WorkingDir, Env, Cmd}' "$work/config.json"
jq -r '.history[] | "history: \(.created_by)"' "$work/config.json"

step "Pull it back into an OCI layout with skopeo (every blob checked against its digest)"
run skopeo --policy "$work/policy.json" copy -q --src-tls-verify=false "docker://$REG/demo/app:latest" "oci:$work/pulled:latest"

step "Unpack its layers, in order, into a root file system (GNU tar reads gzip and zstd)"
mkdir "$work/rootfs"
for layer in $(jq -r '.layers[].digest' "$work/manifest.json"); do
	run tar --numeric-owner -xpf "$work/pulled/blobs/sha256/${layer#sha256:}" -C "$work/rootfs"
done
echo "the app's files, with their owners:"
run ls -lnR "$work/rootfs/app"

step "Run the image's command with chroot, as its config says (User, WorkingDir, Env, Cmd)"
user=$(jq -r '.config.User' "$work/config.json")
workdir=$(jq -r '.config.WorkingDir' "$work/config.json")
mapfile -t env < <(jq -r '.config.Env[]' "$work/config.json")
mapfile -t cmd < <(jq -r '.config.Cmd[]' "$work/config.json")
# shellcheck disable=SC2016 # the image's shell expands them
run env -i "${env[@]}" chroot --userspec="$user" "$work/rootfs" \
	/bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$workdir" "${cmd[@]}" | tee "$work/ran"
grep -qx "I run as uid 1000, gid 1000, in /app." "$work/ran" || die "the app did not run as it should"
grep -qx "GREETING is: hello, world" "$work/ran" || die "the app did not get its environment"
owners=$(find "$work/rootfs/app" -printf '%U:%G\n' | sort -u)
[ "$owners" = 1000:1000 ] || die "the app's files are owned by $owners, not 1000:1000"
echo "the app ran from the image, and its files are owned by 1000:1000"
