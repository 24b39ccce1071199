# shellcheck shell=bash
# A minimal Debian 12 root (debootstrap --variant=minbase bookworm, plus DEBROOT_PACKAGES from
# Debian) for the install tests: built once per machine and cached under DEBROOT_CACHE, keyed by
# what it contains; each test gets a fresh, disposable copy of it.
#
#   debroot_skip_reason          why a root cannot be made here (empty: it can)
#   debroot_cached               ensures the cached root exists; its path in DEBROOT_CACHED
#   debroot_fresh DIR            a fresh copy at DIR (overlayfs on the cache, else a copy),
#                                /proc and /dev bind-mounted; undo with debroot_release DIR
#   debroot_release DIR          unmounts what debroot_fresh mounted (by path) and removes DIR
#   debroot_run DIR CMD...       CMD in the root, with a clean environment, as root
#
# The first build downloads ~60 MB from the Debian mirror of /etc/apt/sources.list* and takes
# a few minutes; later ones find it in the cache. Standalone: bash tests/lib/debroot.bash build
DEBROOT_CACHE=${OCINOCO_TEST_CACHE:-/var/cache/ocinoco-tests}
DEBROOT_SUITE=bookworm
DEBROOT_PACKAGES=(nodejs npm)
# Downloaded into apt's cache, not installed: what the .deb's Depends pull (so that installing
# it needs no network once the root is cached).
# (jq: in the list of the cached roots made so far; nothing installs it: ocinoco needs none.)
DEBROOT_DOWNLOADS=(libcurl4 libjansson4 libbsd0 libssl3 libzstd1 zlib1g bash-completion man-db jq)
# Bump when the recipe below changes what the root holds.
DEBROOT_RECIPE=1

# The first Debian mirror the system's apt sources name (deb822 or one-line format).
debroot_mirror() {
	local url
	url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -oE '(^deb |^URIs:) *\S*[a-z]+://\S+/debian/?( |$)' | grep -oE '[a-z]+://\S+' |
		head -n 1)
	printf '%s\n' "${url:-http://deb.debian.org/debian}"
}

debroot_arch() {
	dpkg --print-architecture
}

# The cache key: everything the root is made from.
debroot_key() {
	printf '%s\n' "recipe=$DEBROOT_RECIPE" "suite=$DEBROOT_SUITE" "variant=minbase" \
		"arch=$(debroot_arch)" "mirror=$(debroot_mirror)" "packages=${DEBROOT_PACKAGES[*]}" \
		"downloads=${DEBROOT_DOWNLOADS[*]}" |
		sha256sum | cut -c1-16
}

debroot_skip_reason() {
	[ "$(id -u)" -eq 0 ] || { echo "not root: debootstrap and chroot need root"; return; }
	command -v debootstrap >/dev/null || { echo "no debootstrap (apt-get install debootstrap)"; return; }
	command -v chroot >/dev/null || { echo "no chroot"; return; }
	local key
	key=$(debroot_key)
	[ -d "$DEBROOT_CACHE/debroot-$key" ] && return
	if ! mkdir -p "$DEBROOT_CACHE" 2>/dev/null || [ ! -w "$DEBROOT_CACHE" ]; then
		echo "cannot write the cache $DEBROOT_CACHE"
		return
	fi
	# A root not cached yet needs the mirror.
	local mirror
	mirror=$(debroot_mirror)
	curl -sSfI --max-time 20 "$mirror/dists/$DEBROOT_SUITE/Release" >/dev/null 2>&1 ||
		echo "the Debian mirror $mirror cannot be reached and no root is cached in $DEBROOT_CACHE"
}

# Mounts /proc and /dev (bind) in root DIR; debroot_umount_all undoes it.
debroot_mount() {
	mkdir -p "$1/proc" "$1/dev"
	mount -t proc proc "$1/proc"
	mount --rbind /dev "$1/dev"
	mount --make-rslave "$1/dev"
}

debroot_umount_all() {
	local m
	for m in "$1/dev" "$1/proc"; do
		! mountpoint -q "$m" || umount -R "$m" || umount -lR "$m"
	done
}

debroot_run() {
	local root=$1
	shift
	chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# Builds the root into a temporary directory of the cache and renames it into place when it is
# complete, under a lock (parallel test jobs build it once).
debroot_cached() {
	local key
	key=$(debroot_key)
	DEBROOT_CACHED=$DEBROOT_CACHE/debroot-$key
	[ -d "$DEBROOT_CACHED" ] && return 0
	mkdir -p "$DEBROOT_CACHE"
	(
		flock 9
		[ ! -d "$DEBROOT_CACHED" ] || exit 0
		local tmp=$DEBROOT_CACHED.tmp
		debroot_umount_all "$tmp"
		rm -rf "$tmp"
		trap 'debroot_umount_all "$tmp"' EXIT
		echo "# debroot: building $DEBROOT_SUITE minbase + ${DEBROOT_PACKAGES[*]} into $DEBROOT_CACHED" >&3
		debootstrap --variant=minbase "$DEBROOT_SUITE" "$tmp" "$(debroot_mirror)" \
			>"$DEBROOT_CACHE/debroot-$key.log" 2>&1 || {
			echo "debootstrap failed: $DEBROOT_CACHE/debroot-$key.log" >&2
			exit 1
		}
		cp /etc/resolv.conf "$tmp/etc/resolv.conf"
		debroot_mount "$tmp"
		{
			debroot_run "$tmp" apt-get update -q &&
				debroot_run "$tmp" apt-get install -y -q --no-install-recommends "${DEBROOT_PACKAGES[@]}" &&
				debroot_run "$tmp" apt-get clean &&
				debroot_run "$tmp" apt-get install -y -q --download-only --no-install-recommends \
					"${DEBROOT_DOWNLOADS[@]}"
		} >>"$DEBROOT_CACHE/debroot-$key.log" 2>&1 || {
			echo "apt-get in the root failed: $DEBROOT_CACHE/debroot-$key.log" >&2
			exit 1
		}
		debroot_umount_all "$tmp"
		trap - EXIT
		debroot_run "$tmp" dpkg-query -W >"$DEBROOT_CACHED.packages" 2>/dev/null || true
		mv "$tmp" "$DEBROOT_CACHED"
		# Roots of other keys (an older recipe) are not used any more.
		local old
		for old in "$DEBROOT_CACHE"/debroot-*; do
			[[ $old == "$DEBROOT_CACHED"* || $old == *.tmp ]] || rm -rf -- "$old"
		done
	) 9>"$DEBROOT_CACHE/debroot.lock" 3>&2
}

# A fresh root at DIR: an overlay whose lower layer is the cached root (nothing is copied, and
# the cache is never written), or, where overlayfs cannot be mounted, a copy.
debroot_fresh() {
	local dir=$1
	debroot_cached || return 1
	mkdir -p "$dir/root" "$dir/upper" "$dir/work"
	if ! mount -t overlay overlay -o "lowerdir=$DEBROOT_CACHED,upperdir=$dir/upper,workdir=$dir/work" \
		"$dir/root" 2>/dev/null; then
		cp -a "$DEBROOT_CACHED/." "$dir/root/"
	fi
	debroot_mount "$dir/root"
	# shellcheck disable=SC2034 # for the tests that load this file
	DEBROOT_ROOT=$dir/root
}

debroot_release() {
	local dir=$1
	[ -d "$dir/root" ] || return 0
	debroot_umount_all "$dir/root"
	! mountpoint -q "$dir/root" || umount "$dir/root" || umount -l "$dir/root"
	rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case ${1:-} in
	build)
		reason=$(debroot_skip_reason)
		[ -z "$reason" ] || { echo "debroot: $reason" >&2; exit 1; }
		debroot_cached
		echo "$DEBROOT_CACHED"
		;;
	*) echo "usage: bash tests/lib/debroot.bash build" >&2; exit 2 ;;
	esac
fi
