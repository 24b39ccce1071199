#!/usr/bin/env bash
# Builds the npm package DIST/ocinoco-VERSION.tgz (what npm pack makes) from the programs in
# O/bin, linked with RPATH_ORIGIN=1 (make npm does both):
#   bin/       ocinoco and the six programs (package.json's "bin": npm links all seven)
#   lib/       every shared library the programs load that is not glibc's, found with ldd
#              (transitively: ldd lists the whole closure), as this machine's Debian has them;
#              the programs' DT_RPATH $ORIGIN/../lib makes the dynamic loader look here first,
#              for the libraries' own dependencies too
#   licenses/  the Debian copyright file of each package a bundled library comes from
#   man/, completion/, README.md, package.json (version and cpu filled in here)
# The package runs with the glibc it prints (or a newer one), on this architecture only.
#   packaging/npm.sh O VERSION DIST
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: packaging/npm.sh O VERSION DIST" >&2; exit 2; }
o=$1 version=$2 dist=$3
cd "$(dirname "$0")/.."
programs=(oci-tar oci-digest oci-fetch oci-put oci-graft oci-index oci-cache)
command -v npm >/dev/null || { echo "npm.sh: npm is needed (apt-get install npm)" >&2; exit 1; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/ocinoco-npm.XXXXXX")
trap 'rm -rf "$stage"' EXIT
pkg=$stage/package
mkdir -p "$pkg/bin" "$pkg/lib" "$pkg/licenses" "$pkg/man" "$pkg/completion"

for p in "${programs[@]}"; do
	readelf -d "$o/bin/$p" | grep -q "(RPATH).*\[\$ORIGIN/../lib\]" ||
		{ echo "npm.sh: $o/bin/$p: not linked with RPATH_ORIGIN=1" >&2; exit 1; }
	install -m 755 "$o/bin/$p" "$pkg/bin/$p"
	strip --strip-unneeded --remove-section=.comment "$pkg/bin/$p"
done
install -m 755 "$o/bin/ocinoco" "$pkg/bin/ocinoco"

# The libraries: ldd's "NAME => PATH" lines, less those of glibc (the package libc6).
mapfile -t libs < <(for p in "${programs[@]}"; do ldd "$o/bin/$p"; done |
	awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u)
# The Debian package of each: with /usr merged, dpkg knows a library by either of its names, or
# by its link's target (one dpkg-query for all: each reads the whole database).
declare -A owner_of=()
variants() { # PATH: the names dpkg may know it by
	local real
	real=$(readlink -f "$1")
	printf '%s\n' "$1" "/usr$1" "${1#/usr}" "$real" "${real#/usr}"
}
while IFS= read -r line; do
	owner_of[${line#*: }]=${line%%:*}
done < <(for l in "${libs[@]}"; do variants "${l#* }"; done | sort -u | xargs dpkg-query -S 2>/dev/null || true)
declare -A from=()
for l in "${libs[@]}"; do
	name=${l%% *} path=${l#* } owner=
	for v in $(variants "$path"); do
		owner=${owner_of[$v]:-}
		[ -z "$owner" ] || break
	done
	[ -n "$owner" ] || { echo "npm.sh: $path: no Debian package has it" >&2; exit 1; }
	[ "$owner" != libc6 ] || continue
	cp -L "$path" "$pkg/lib/$name"
	chmod 644 "$pkg/lib/$name"
	from[$owner]+=" $name"
done
{
	echo "The shared libraries in lib/, from these Debian $(cut -d. -f1 /etc/debian_version) packages:"
	for owner in $(printf '%s\n' "${!from[@]}" | sort); do
		echo "$owner $(dpkg-query -W -f='${Version}' "$owner"):${from[$owner]}"
		cp "/usr/share/doc/$owner/copyright" "$pkg/licenses/$owner"
	done
} >"$pkg/licenses/README"

install -m 644 man/*.1 "$pkg/man/"
install -m 644 completion/ocinoco.bash "$pkg/completion/ocinoco.bash"
install -m 644 README.md "$pkg/README.md"

# npm's names of the architectures (process.arch).
case $(dpkg --print-architecture) in
amd64) cpu=x64 ;;
arm64) cpu=arm64 ;;
armhf | armel) cpu=arm ;;
i386) cpu=ia32 ;;
ppc64el) cpu=ppc64 ;;
*) cpu=$(dpkg --print-architecture) ;;
esac
jq --arg v "$version" --arg cpu "$cpu" '.version = $v | .cpu = [$cpu] | .libc = ["glibc"] | del(.private)' \
	package.json >"$pkg/package.json"

mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
(cd "$pkg" && npm pack --silent --pack-destination "$dist" >/dev/null)
tgz=$dist/ocinoco-$version.tgz
[ -f "$tgz" ] || { echo "npm.sh: npm pack made no $tgz" >&2; exit 1; }
# The oldest glibc it runs with: the newest GLIBC_ symbol version the programs and the bundled
# libraries ask for.
glibc=$(for f in "$pkg"/bin/oci-* "$pkg"/lib/*; do objdump -T "$f"; done |
	grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)
echo "$tgz ($(du -k "$tgz" | cut -f1) KiB, $(du -sk "$pkg" | cut -f1) KiB installed; needs ${glibc/_/ >= }, $cpu)"
