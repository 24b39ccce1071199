#!/usr/bin/env bash
# Builds the Debian package DIST/ocinoco_VERSION_ARCH.deb from the programs in O/bin (make deb
# builds them with dpkg-buildflags' hardening flags), with dpkg-deb: the programs in /usr/bin,
# the man pages (gzipped), bash completion, /usr/share/doc/ocinoco/{copyright,
# changelog.Debian.gz}; Depends from dpkg-shlibdeps (the libraries' Debian packages and the
# versions the programs need).
#   packaging/deb.sh O VERSION DIST
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: packaging/deb.sh O VERSION DIST" >&2; exit 2; }
o=$1 version=$2 dist=$3
cd "$(dirname "$0")/.."
programs=(oci-tar oci-digest oci-fetch oci-put oci-graft oci-index oci-cache)
maintainer=${DEB_MAINTAINER:-ocinoco maintainers <maintainers@users.noreply.r-seed-a907ee2a.example>}
arch=$(dpkg --print-architecture)
# The date of the changelog entry: SOURCE_DATE_EPOCH, else the last commit's, else now.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

umask 022
stage=$(mktemp -d "${TMPDIR:-/tmp}/ocinoco-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
doc=$root/usr/share/doc/ocinoco
completions=$root/usr/share/bash-completion/completions
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" "$doc" "$completions"

for p in "${programs[@]}"; do
	install -m 755 "$o/bin/$p" "$root/usr/bin/$p"
	strip --remove-section=.comment --remove-section=.note "$root/usr/bin/$p"
done
install -m 755 "$o/bin/ocinoco" "$root/usr/bin/ocinoco"
for m in man/*.1; do
	gzip -9n <"$m" >"$root/usr/share/man/man1/${m##*/}.gz"
done
install -m 644 completion/ocinoco.bash "$completions/ocinoco"
for p in "${programs[@]}"; do
	ln -s ocinoco "$completions/$p"
done
gzip -9n <README.md >"$doc/README.md.gz"
install -m 644 packaging/copyright "$doc/copyright"
{
	echo "ocinoco ($version) unstable; urgency=medium"
	echo
	echo "  * ocinoco $version."
	echo
	echo " -- $maintainer  $(LC_ALL=C date -u -R -d "@$epoch")"
} | gzip -9n >"$doc/changelog.Debian.gz"
chmod 644 "$doc"/*

# dpkg-shlibdeps reads debian/control (the package's name) in the directory it runs in.
mkdir -p "$stage/src/debian"
printf 'Source: ocinoco\n\nPackage: ocinoco\nArchitecture: any\n' >"$stage/src/debian/control"
shlibs=$(cd "$stage/src" && dpkg-shlibdeps -O "${programs[@]/#/-e$root/usr/bin/}")
shlibs=${shlibs#shlibs:Depends=}
[ -n "$shlibs" ] || { echo "deb.sh: dpkg-shlibdeps found no libraries" >&2; exit 1; }

(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: ocinoco
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $shlibs
Recommends: ca-certificates, bash-builtins
Section: utils
Priority: optional
Description: build OCI (Docker) images with no container
 ocinoco turns a directory (dist/, node_modules/) into one new image layer,
 grafts it on top of a base image that stays in the registry, and pushes only
 the new layer, config and manifest: no container runtime, no daemon, no base
 layers downloaded. It is a shell script composing small programs, each
 usable alone in a pipeline: oci-tar (a reproducible tar of a directory),
 oci-digest (compress and describe a layer), oci-fetch (read manifests,
 configs and blobs), oci-graft (a new manifest and config), oci-index (an
 index of manifests, for multi-platform images), oci-put (upload blobs
 and manifests, mount or copy base layers) and oci-cache (the layer cache
 of incremental builds).
CONTROL

# The same sources give the same package: every mtime is the changelog's date.
find "$root" -newermt "@$epoch" -exec touch -h -d "@$epoch" {} +
mkdir -p "$dist"
deb=$dist/ocinoco_${version}_$arch.deb
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb ($(du -k "$deb" | cut -f1) KiB)"
