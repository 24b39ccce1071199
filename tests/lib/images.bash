# shellcheck shell=bash
# Small deterministic images as OCI image layouts, and pushing them with skopeo.
#   load ../lib/registry; load ../lib/images
#   make_busybox_layout DIR [docker|oci]   runnable linux/amd64 busybox image (default: oci)
#   make_multiarch_layout DIR              OCI index: linux/amd64 busybox + linux/arm64/v8 fake
#   make_buildx_layout DIR                 the same as buildx pushes it: + an attestation entry
#   make_docker_list_layout DIR            Docker manifest list of the same (gzip, Docker types)
#   push_layout DIR REF [NAME]             skopeo copy --all oci:DIR docker://REF
#   layout_digest DIR                      digest of the layout's top manifest or index
# Layouts are built once per test run (REGISTRY_SHARED_DIR, see registry.bash) and copied;
# the same inputs always give the same bytes, so digests are stable within a machine.

# Everything an image needs to look like a small distribution base.
BUSYBOX_APPLETS="sh ash echo cat ls id stat env true false sleep test [ printf pwd mkdir rm cp mv
ln chmod chown touch wc head tail grep sed tr sort uniq cut find xargs expr basename dirname
readlink sha256sum md5sum tar gzip uname date whoami hostname"
IMAGE_CREATED=2024-01-01T00:00:00Z

# _img_blob LAYOUT FILE: moves FILE into LAYOUT's blobs; prints "sha256:HEX SIZE".
_img_blob() {
	local hex size
	hex=$(sha256sum "$2" | cut -d' ' -f1) && size=$(stat -c %s "$2") || return 1
	mkdir -p "$1/blobs/sha256" && mv "$2" "$1/blobs/sha256/$hex" && echo "sha256:$hex $size"
}

# _img_tar ROOT OUT: a reproducible uncompressed layer of ROOT's contents.
_img_tar() {
	(cd "$1" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | LC_ALL=C sort |
		tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=ustar \
			-cf "$2" -T -)
}

# _img_image LAYOUT ROOT ARCH VARIANT MANIFEST_TYPE CONFIG_TYPE LAYER_TYPE:
# a single-layer image of ROOT; prints "MANIFEST_DIGEST SIZE".
_img_image() {
	local layout=$1 root=$2 arch=$3 variant=$4 mt=$5 ct=$6 lt=$7 tmp diffid layer cfg
	tmp=$(mktemp -d "$layout/.tmp.XXXXXX") || return 1
	_img_tar "$root" "$tmp/layer.tar" || return 1
	diffid=sha256:$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
	gzip -n -9 <"$tmp/layer.tar" >"$tmp/layer.tar.gz" || return 1
	layer=$(_img_blob "$layout" "$tmp/layer.tar.gz") || return 1
	jq -cn --arg arch "$arch" --arg variant "$variant" --arg diffid "$diffid" \
		--arg created "$IMAGE_CREATED" '{
			created: $created, architecture: $arch, os: "linux",
			config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
				Cmd: ["/bin/sh"]},
			rootfs: {type: "layers", diff_ids: [$diffid]},
			history: [{created: $created, created_by: "ocinoco tests: images.bash"}]
		} | if $variant != "" then .variant = $variant else . end' | tr -d '\n' >"$tmp/config" ||
		return 1
	cfg=$(_img_blob "$layout" "$tmp/config") || return 1
	jq -cn --arg mt "$mt" --arg ct "$ct" --arg lt "$lt" --arg cfg "$cfg" --arg layer "$layer" '
		def desc($t; $s): ($s | split(" ")) as $f | {mediaType: $t, digest: $f[0], size: ($f[1] | tonumber)};
		{schemaVersion: 2, mediaType: $mt, config: desc($ct; $cfg), layers: [desc($lt; $layer)]}' |
		tr -d '\n' >"$tmp/manifest" || return 1
	_img_blob "$layout" "$tmp/manifest" || return 1
	rm -rf "$tmp"
}

# _img_attestation LAYOUT "DIGEST SIZE": a buildx-style attestation manifest (an in-toto
# layer) for the image DIGEST; prints "MANIFEST_DIGEST SIZE".
_img_attestation() {
	local layout=$1 tmp layer cfg ref
	read -r ref _ <<<"$2"
	tmp=$(mktemp -d "$layout/.tmp.XXXXXX") || return 1
	printf '{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"%s"}}]}' \
		"${ref#sha256:}" >"$tmp/statement" || return 1
	layer=$(_img_blob "$layout" "$tmp/statement") || return 1
	printf '{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
		"${layer%% *}" >"$tmp/config" || return 1
	cfg=$(_img_blob "$layout" "$tmp/config") || return 1
	jq -cn --arg cfg "$cfg" --arg layer "$layer" '
		def desc($t; $s): ($s | split(" ")) as $f | {mediaType: $t, digest: $f[0], size: ($f[1] | tonumber)};
		{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
			config: desc("application/vnd.oci.image.config.v1+json"; $cfg),
			layers: [desc("application/vnd.in-toto+json"; $layer) +
				{annotations: {"in-toto.io/predicate-type": "https://spdx.dev/Document"}}]}' |
		tr -d '\n' >"$tmp/manifest" || return 1
	_img_blob "$layout" "$tmp/manifest" || return 1
	rm -rf "$tmp"
}

# _img_two_platforms OUT WORK MANIFEST_TYPE CONFIG_TYPE LAYER_TYPE: the amd64 busybox and the
# arm64/v8 fake image into OUT; prints their "DIGEST SIZE" on two lines.
_img_two_platforms() {
	local out=$1 work=$2
	_img_busybox_root "$work/root" &&
		_img_image "$out" "$work/root" amd64 "" "$3" "$4" "$5" &&
		mkdir -p "$work/arm/etc" && printf 'linux/arm64/v8\n' >"$work/arm/etc/ocinoco-fake-arch" &&
		chmod 755 "$work/arm/etc" && chmod 644 "$work/arm/etc/ocinoco-fake-arch" &&
		_img_image "$out" "$work/arm" arm64 v8 "$3" "$4" "$5"
}

# _img_busybox_root DIR: the busybox file tree.
_img_busybox_root() {
	local a
	mkdir -p "$1/bin" "$1/etc" "$1/tmp" "$1/root" || return 1
	cp /bin/busybox "$1/bin/busybox" || return 1
	for a in $BUSYBOX_APPLETS; do ln -s busybox "$1/bin/$a" || return 1; done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$1/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$1/etc/group"
	chmod 755 "$1/bin" "$1/etc" "$1/bin/busybox" && chmod 700 "$1/root" && chmod 1777 "$1/tmp" &&
		chmod 644 "$1/etc/passwd" "$1/etc/group"
}

_img_layout_files() { # LAYOUT MEDIATYPE "DIGEST SIZE"
	local f
	read -ra f <<<"$3"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
	jq -cn --arg mt "$2" --arg d "${f[0]}" --argjson s "${f[1]}" \
		'{schemaVersion: 2, manifests: [{mediaType: $mt, digest: $d, size: $s,
			annotations: {"org.opencontainers.image.ref.name": "latest"}}]}' >"$1/index.json"
}

_img_build() { # KIND OUT
	local kind=$1 out=$2 work m amd arm att
	work=$(mktemp -d "$out.work.XXXXXX") || return 1
	mkdir -p "$out" || return 1
	case $kind in
	busybox-docker)
		_img_busybox_root "$work/root" &&
			m=$(_img_image "$out" "$work/root" amd64 "" \
				application/vnd.docker.distribution.manifest.v2+json \
				application/vnd.docker.container.image.v1+json \
				application/vnd.docker.image.rootfs.diff.tar.gzip) &&
			_img_layout_files "$out" application/vnd.docker.distribution.manifest.v2+json "$m"
		;;
	busybox-oci)
		_img_busybox_root "$work/root" &&
			m=$(_img_image "$out" "$work/root" amd64 "" application/vnd.oci.image.manifest.v1+json \
				application/vnd.oci.image.config.v1+json application/vnd.oci.image.layer.v1.tar+gzip) &&
			_img_layout_files "$out" application/vnd.oci.image.manifest.v1+json "$m"
		;;
	multiarch)
		_img_busybox_root "$work/root" &&
			amd=$(_img_image "$out" "$work/root" amd64 "" application/vnd.oci.image.manifest.v1+json \
				application/vnd.oci.image.config.v1+json application/vnd.oci.image.layer.v1.tar+gzip) &&
			mkdir -p "$work/arm/etc" && printf 'linux/arm64/v8\n' >"$work/arm/etc/ocinoco-fake-arch" &&
			chmod 755 "$work/arm/etc" && chmod 644 "$work/arm/etc/ocinoco-fake-arch" &&
			arm=$(_img_image "$out" "$work/arm" arm64 v8 application/vnd.oci.image.manifest.v1+json \
				application/vnd.oci.image.config.v1+json application/vnd.oci.image.layer.v1.tar+gzip) &&
			jq -cn --arg amd "$amd" --arg arm "$arm" '
				def desc($s; $p): ($s | split(" ")) as $f | {mediaType: "application/vnd.oci.image.manifest.v1+json",
					digest: $f[0], size: ($f[1] | tonumber), platform: $p};
				{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
					desc($amd; {architecture: "amd64", os: "linux"}),
					desc($arm; {architecture: "arm64", os: "linux", variant: "v8"})]}' |
			tr -d '\n' >"$work/index" &&
			m=$(_img_blob "$out" "$work/index") &&
			_img_layout_files "$out" application/vnd.oci.image.index.v1+json "$m"
		;;
	buildx)
		{ read -r amd && read -r arm; } < <(_img_two_platforms "$out" "$work" \
			application/vnd.oci.image.manifest.v1+json application/vnd.oci.image.config.v1+json \
			application/vnd.oci.image.layer.v1.tar+gzip) && [ -n "$arm" ] &&
			att=$(_img_attestation "$out" "$amd") &&
			jq -cn --arg amd "$amd" --arg arm "$arm" --arg att "$att" '
				def desc($s; $p): ($s | split(" ")) as $f | {mediaType: "application/vnd.oci.image.manifest.v1+json",
					digest: $f[0], size: ($f[1] | tonumber), platform: $p};
				{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
					desc($amd; {architecture: "amd64", os: "linux"}),
					desc($arm; {architecture: "arm64", os: "linux", variant: "v8"}),
					desc($att; {architecture: "unknown", os: "unknown"}) + {annotations: {
						"vnd.docker.reference.digest": ($amd | split(" ")[0]),
						"vnd.docker.reference.type": "attestation-manifest"}}]}' |
			tr -d '\n' >"$work/index" &&
			m=$(_img_blob "$out" "$work/index") &&
			_img_layout_files "$out" application/vnd.oci.image.index.v1+json "$m"
		;;
	docker-list)
		{ read -r amd && read -r arm; } < <(_img_two_platforms "$out" "$work" \
			application/vnd.docker.distribution.manifest.v2+json \
			application/vnd.docker.container.image.v1+json \
			application/vnd.docker.image.rootfs.diff.tar.gzip) && [ -n "$arm" ] &&
			jq -cn --arg amd "$amd" --arg arm "$arm" '
				def desc($s; $p): ($s | split(" ")) as $f | {mediaType: "application/vnd.docker.distribution.manifest.v2+json",
					digest: $f[0], size: ($f[1] | tonumber), platform: $p};
				{schemaVersion: 2, mediaType: "application/vnd.docker.distribution.manifest.list.v2+json", manifests: [
					desc($amd; {architecture: "amd64", os: "linux"}),
					desc($arm; {architecture: "arm64", os: "linux", variant: "v8"})]}' |
			tr -d '\n' >"$work/index" &&
			m=$(_img_blob "$out" "$work/index") &&
			_img_layout_files "$out" application/vnd.docker.distribution.manifest.list.v2+json "$m"
		;;
	esac || return 1
	rm -rf "$work"
}

# _img_cached KIND DIR: builds KIND once per run (under a lock), copies it to DIR.
_img_cached() {
	local shared cache
	shared=$(_reg_shared_dir) || return 1
	cache=$shared/ocinoco-tests-images/$1
	mkdir -p "$shared/ocinoco-tests-images" || return 1
	(
		flock 9
		[ -s "$cache/index.json" ] && exit 0
		rm -rf "$cache"
		_img_build "$1" "$cache.new" && mv "$cache.new" "$cache"
	) 9>"$cache.lock" || _reg_die "could not build the $1 image" || return 1
	mkdir -p "$2" && cp -R "$cache/." "$2/"
}

# make_busybox_layout DIR [docker|oci]: a runnable linux/amd64 image, Cmd ["/bin/sh"], one
# gzip layer (bin/busybox, applet symlinks in bin/, etc/passwd, etc/group, tmp/, root/),
# Docker schema 2 or OCI media types; index.json tags it "latest".
make_busybox_layout() {
	case ${2:-oci} in
	docker | oci) _img_cached "busybox-${2:-oci}" "$1" ;;
	*) _reg_die "make_busybox_layout: type must be docker or oci" ;;
	esac
}

# make_multiarch_layout DIR: index.json tags an OCI image index ("latest") listing linux/amd64
# (busybox, OCI types) and linux/arm64/v8 (one layer holding etc/ocinoco-fake-arch).
make_multiarch_layout() {
	_img_cached multiarch "$1"
}

# make_buildx_layout DIR: the multiarch index as buildx pushes it: linux/amd64, linux/arm64/v8,
# then an attestation manifest for the amd64 image (platform unknown/unknown, annotations
# vnd.docker.reference.digest and vnd.docker.reference.type=attestation-manifest, an in-toto
# layer), OCI types.
make_buildx_layout() {
	_img_cached buildx "$1"
}

# make_docker_list_layout DIR: a Docker manifest list of linux/amd64 (busybox) and
# linux/arm64/v8 (the fake), Docker schema 2 manifests with gzip layers.
make_docker_list_layout() {
	_img_cached docker-list "$1"
}

# layout_digest DIR: the digest index.json points at (the image's manifest or index).
layout_digest() {
	jq -r '.manifests[0].digest' "$1/index.json"
}

# push_layout DIR REF [NAME]: copies every image of the layout (all platforms, bytes unchanged)
# to docker://REF with the TLS/credential flags registry NAME needs (default: the registry
# started by registry_start whose NAME_HOST is REF's host).
push_layout() {
	local dir=$1 ref=$2 name=${3:-} flags=() policy
	if [ -z "$name" ]; then
		name=$(_reg_name_for_host "${ref%%/*}") || _reg_die "push_layout: no registry serves ${ref%%/*}" || return 1
	fi
	mapfile -t flags < <(registry_skopeo_flags "$name" dest) || return 1
	policy=$(_reg_shared_dir)/ocinoco-tests-policy.json || return 1
	if [ ! -s "$policy" ]; then
		echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy.$$" && mv "$policy.$$" "$policy"
	fi
	skopeo --policy "$policy" copy -q --all "${flags[@]}" "oci:$dir" "docker://$ref"
}
