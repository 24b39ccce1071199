#!/usr/bin/env bats
# Multi-platform images against a real registry: one layer grafted onto every platform of a
# buildx-style base (amd64, arm64/v8 and an attestation), the children PUT by digest before the
# index, images combined into an index. skopeo copies and inspects what was pushed.
# shellcheck disable=SC2154 # status and output are set by bats' run
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra
load ../lib/build

OCI_I=application/vnd.oci.image.index.v1+json
DOCKER_L=application/vnd.docker.distribution.manifest.list.v2+json

setup_file() {
	export SOURCE_DATE_EPOCH=1700000000
	registry_start REG plain
	registry_start SEC tls-token
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_app "$FIX/app"
	make_buildx_layout "$FIX/bx"
	make_docker_list_layout "$FIX/dl"
	push_layout "$FIX/bx" "$REG_HOST/base/bx:1"
	push_layout "$FIX/dl" "$REG_HOST/base/dl:1"
	export DOCKER_CONFIG=$FIX/docker
	docker_config_for SEC "$DOCKER_CONFIG"
	# the build most tests look at: every platform of the buildx base, two tags
	APP_OPTS=(--root-dir /app --cmd '["/app/hello.sh"]' --env GREETING=world --workdir /app)
	main_build --tag "$REG_HOST/app/multi:1" --tag "$REG_HOST/app/multi:latest" --push \
		--digest-file "$FIX/main.digest" >"$FIX/main.out" 2>"$FIX/main.err"
}

teardown_file() {
	registry_stop_all
}

setup() {
	T=$BATS_TEST_TMPDIR
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	APP_OPTS=(--root-dir /app --cmd '["/app/hello.sh"]' --env GREETING=world --workdir /app)
}

# main_build OPTION...: the build of setup_file's main image, with more options
main_build() {
	ocinoco build "$FIX/app" --from "$REG_HOST/base/bx:1" --platform all "${APP_OPTS[@]}" \
		--annotation org.opencontainers.image.source=https://example.com/app "$@"
}

raw() { skopeo_p inspect --raw --tls-verify=false "docker://$1"; }
# config REF: the config of an image manifest
config_of() { skopeo_p inspect --config --raw --tls-verify=false "docker://$1"; }


# sha [FILE]: the digest of FILE's bytes (or stdin's)
sha() {
	if [ $# -gt 0 ]; then sha256sum <"$1"; else sha256sum; fi | awk '{ print "sha256:" $1 }'
}

# manifest_puts NAME REPO: the references of the manifest PUTs to REPO, in the log's order.
manifest_puts() {
	local dir
	dir=$(_reg_state_dir)/ocinoco-tests-reg-$1
	awk -F'"' -v p="^/v2/$2/manifests/" '
		/^time=/ || NF < 3 { next }
		{ split($2, r, " "); split($3, t, " ") }
		r[1] == "PUT" && r[2] ~ p && t[1] == "201" { sub(p, "", r[2]); print r[2] }' \
		"$dir/registry.log"
}

# put_kinds NAME REPO: "blob" or "manifest" for each successful PUT to REPO, in the log's order.
put_kinds() {
	local dir
	dir=$(_reg_state_dir)/ocinoco-tests-reg-$1
	awk -F'"' -v p="^/v2/$2/" '
		/^time=/ || NF < 3 { next }
		{ split($2, r, " "); split($3, t, " ") }
		r[1] == "PUT" && r[2] ~ p && t[1] == "201" { print (r[2] ~ "/manifests/" ? "manifest" : "blob") }' \
		"$dir/registry.log"
}

# by_hand BASE DEST OUT [oci-index options]: the multi-platform build as the programs compose
# it (docs/DESIGN.md): the layer streamed to DEST, every platform's manifest and config in one
# oci-fetch run, one oci-graft per platform, oci-index, one oci-put manifest. OUT/put: what
# oci-put printed; OUT/index.json, OUT/N.json and OUT/N.cfg: what was pushed.
by_hand() {
	local base=$1 dest=$2 out=$3 n digest platform
	shift 3
	mkdir -p "$out/base"
	oci-fetch --platform all --each "$out/base" "$base" || return 1
	oci-tar --root-dir /app "$FIX/app" | oci-digest -d "$out/layer.json" |
		oci-put blob "${dest%:*}" - >/dev/null || return 1
	local -a children=() blobs=()
	while read -r n digest platform; do
		oci-graft --manifest "$out/base/$n.json" --config "$out/base/$n.config.json" \
			--layer "$out/layer.json" --created-by "by hand on $platform" --base-name "$base" \
			--config-out "$out/$n.cfg" -o "$out/$n.json" || return 1
		children+=(--child "$digest=$out/$n.json")
		blobs+=(--blob "$out/$n.cfg" --blob "$out/$n.json")
	done <"$out/base/platforms"
	oci-index --base "$out/base/index.json" --base-name "$base" "${children[@]}" "$@" \
		-o "$out/index.json" || return 1
	oci-put manifest --from "$base" "${blobs[@]}" "$dest" "$out/index.json" >"$out/put"
}

@test "oci-put manifest of an index: every blob, then the children by digest, then the index under its tags" {
	run_status 0 by_hand "$REG_HOST/base/bx:1" "$REG_HOST/app/hand:1" "$T/o" --annotation x=y
	local m1 m2
	m1=$(sha "$T/o/1.json") m2=$(sha "$T/o/2.json")
	[ "$(cat "$T/o/put")" = "$REG_HOST/app/hand@$(sha "$T/o/index.json")" ]
	# the children by digest (no tag), the index last, under its tag only
	[ "$(manifest_puts REG app/hand | sort)" = "$(printf '%s\n' 1 "$m1" "$m2" | sort)" ]
	[ "$(manifest_puts REG app/hand | tail -n1)" = 1 ]
	[ "$(reg_tags REG app/hand)" = 1 ]
	# every child's blobs in one round before the first child (the layer, then both configs)
	[ "$(put_kinds REG app/hand | uniq -c | awk '{ print $1, $2 }' | tr '\n' ' ')" = "3 blob 3 manifest " ]
	# every blob was there before its manifest: the registry accepted them; skopeo verifies
	# every digest of every platform on the way out
	run_status 0 skopeo_p copy -q --all --src-tls-verify=false "docker://$REG_HOST/app/hand:1" "oci:$T/copy:1"
	run_status 0 skopeo_p inspect --raw --tls-verify=false "docker://$REG_HOST/app/hand:1"
	[ "$(jq -r .mediaType <<<"$output")" = "$OCI_I" ]
	[ "$(jq -c '[.manifests[].platform]' <<<"$output")" = \
		'[{"architecture":"amd64","os":"linux"},{"architecture":"arm64","os":"linux","variant":"v8"}]' ]
	[ "$(jq -r '.annotations["org.opencontainers.image.base.digest"]' <<<"$output")" = \
		"$(sha "$T/o/base/index.json")" ]
	[ "$(jq -r '.annotations.x' <<<"$output")" = y ]
	run_status 0 skopeo_p inspect --raw --tls-verify=false "docker://$REG_HOST/app/hand@$m2"
	[ "$(jq -r '.annotations["org.opencontainers.image.base.digest"]' <<<"$output")" = \
		"$(awk '$1 == 2 { print $2 }' "$T/o/base/platforms")" ]
	[ "$(jq -r '.annotations["org.opencontainers.image.base.name"]' <<<"$output")" = "$REG_HOST/base/bx:1" ]
}

@test "a permanent fault on the index PUT leaves no tag" {
	fault_proxy_start FP "$REG_HOST" 'PUT /manifests/(?!sha256:) status=500 times=always'
	run_status 1 by_hand "$FP_HOST/base/bx:1" "$FP_HOST/app/fault:1" "$T/o"
	[[ $output == *"PUT manifest: HTTP 500"* ]]
	[ -z "$(reg_tags REG app/fault)" ]
	# the children went up by digest first, as they must
	[ "$(manifest_puts REG app/fault | wc -l)" = 2 ]
	fault_proxy_stop FP
}

@test "oci-fetch --platforms lists the images' platforms, not the attestation; --each a missing one names those there are" {
	run_status 0 oci-fetch --platforms "$REG_HOST/base/bx:1"
	[ "$output" = "$(printf 'linux/amd64\nlinux/arm64/v8')" ]
	run_status 0 oci-fetch --platforms "$REG_HOST/base/dl:1"
	[ "$output" = "$(printf 'linux/amd64\nlinux/arm64/v8')" ]
	mkdir "$T/each"
	run_status 1 oci-fetch --platform linux/arm64,linux/s390x --each "$T/each" "$REG_HOST/base/bx:1"
	[[ $output == *"no manifest for platform linux/s390x in the index; it has: linux/amd64, linux/arm64/v8"* ]]
	[ ! -e "$T/each/platforms" ]
}

@test "build --platform all: an index of the base's two platforms in its order, one layer for both, no attestation" {
	local index digest
	digest=$(cat "$FIX/main.digest")
	[ "$(cat "$FIX/main.out")" = "$(printf '%s\n' "$REG_HOST/app/multi:1@$digest" "$REG_HOST/app/multi:latest@$digest")" ]
	index=$(raw "$REG_HOST/app/multi:1")
	[ "$(printf '%s' "$index" | sha)" = "$digest" ]
	[ "$(jq -r .mediaType <<<"$index")" = "$OCI_I" ]
	[ "$(jq -c '[.manifests[].platform]' <<<"$index")" = \
		'[{"architecture":"amd64","os":"linux"},{"architecture":"arm64","os":"linux","variant":"v8"}]' ]
	local base_index amd arm
	base_index=$(raw "$REG_HOST/base/bx:1")
	amd=$(jq -r '.manifests[0].digest' <<<"$index") arm=$(jq -r '.manifests[1].digest' <<<"$index")
	# each child: the base's layers of its own platform, then the one new layer
	local bamd barm
	bamd=$(jq -r '.manifests[0].digest' <<<"$base_index") barm=$(jq -r '.manifests[1].digest' <<<"$base_index")
	[ "$(raw "$REG_HOST/app/multi@$amd" | jq -c '.layers[:-1] | map(.digest)')" = \
		"$(raw "$REG_HOST/base/bx@$bamd" | jq -c '.layers | map(.digest)')" ]
	[ "$(raw "$REG_HOST/app/multi@$arm" | jq -c '.layers[:-1] | map(.digest)')" = \
		"$(raw "$REG_HOST/base/bx@$barm" | jq -c '.layers | map(.digest)')" ]
	[ "$(raw "$REG_HOST/app/multi@$amd" | jq -r '.layers[-1].digest')" = \
		"$(raw "$REG_HOST/app/multi@$arm" | jq -r '.layers[-1].digest')" ]
	[ "$(raw "$REG_HOST/app/multi@$amd" | jq -r '.layers[-1].mediaType')" = application/vnd.oci.image.layer.v1.tar+zstd ]
	# each config: its platform, its base's history and diff_ids plus the new layer's
	[ "$(config_of "$REG_HOST/app/multi@$arm" | jq -c '[.os, .architecture, .variant, (.rootfs.diff_ids | length), .config.Cmd[0]]')" = \
		'["linux","arm64","v8",2,"/app/hello.sh"]' ]
	[ "$(config_of "$REG_HOST/app/multi@$amd" | jq -c '[.os, .architecture, .variant, (.rootfs.diff_ids | length)]')" = \
		'["linux","amd64",null,2]' ]
	# the layer went up once
	[ "$(registry_requests REG PUT '^/v2/app/multi/blobs/uploads/.*digest=' 201)" = 3 ] # layer + 2 configs
	# every digest of every platform verified by skopeo on the way out
	run_status 0 skopeo_p copy -q --all --src-tls-verify=false "docker://$REG_HOST/app/multi:1" "oci:$T/copy:1"
}

@test "build --platform all: each child names its own base platform manifest, the index the base index" {
	local index base_index
	index=$(raw "$REG_HOST/app/multi:1")
	base_index=$(raw "$REG_HOST/base/bx:1")
	[ "$(jq -r '.annotations["org.opencontainers.image.base.name"]' <<<"$index")" = "$REG_HOST/base/bx:1" ]
	[ "$(jq -r '.annotations["org.opencontainers.image.base.digest"]' <<<"$index")" = "$(printf '%s' "$base_index" | sha)" ]
	[ "$(jq -r '.annotations["org.opencontainers.image.source"]' <<<"$index")" = https://example.com/app ]
	local i child
	for i in 0 1; do
		child=$(raw "$REG_HOST/app/multi@$(jq -r ".manifests[$i].digest" <<<"$index")")
		[ "$(jq -r '.annotations["org.opencontainers.image.base.digest"]' <<<"$child")" = \
			"$(jq -r ".manifests[$i].digest" <<<"$base_index")" ]
		[ "$(jq -r '.annotations["org.opencontainers.image.base.name"]' <<<"$child")" = "$REG_HOST/base/bx:1" ]
	done
}

@test "build --platform all: children PUT by digest before the index; tags/list has only the index's tags" {
	local index
	index=$(raw "$REG_HOST/app/multi:1")
	[ "$(manifest_puts REG app/multi | head -n2 | sort)" = "$(jq -r '.manifests[].digest' <<<"$index" | sort)" ]
	[ "$(manifest_puts REG app/multi | tail -n2)" = "$(printf '1\nlatest')" ]
	[ "$(reg_tags REG app/multi | sort)" = "$(printf '1\nlatest')" ]
}

@test "buildah pulls the index, picks each platform's child, and runs the amd64 one" {
	local bh=(buildah --root "$T/bh/root" --runroot "$T/bh/run" --storage-driver vfs)
	local index ctr
	index=$(raw "$REG_HOST/app/multi:1")
	echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$T/policy.json"
	"${bh[@]}" pull -q --tls-verify=false --signature-policy "$T/policy.json" --arch arm64 \
		--variant v8 "docker://$REG_HOST/app/multi:1" >/dev/null
	run_status 0 "${bh[@]}" inspect --type image --format '{{.FromImageDigest}} {{.OCIv1.Architecture}}' \
		"$REG_HOST/app/multi:1"
	[ "$output" = "$(jq -r '.manifests[1].digest' <<<"$index") arm64" ]
	"${bh[@]}" rmi -f "$REG_HOST/app/multi:1" >/dev/null
	ctr=$("${bh[@]}" from -q --tls-verify=false --signature-policy "$T/policy.json" --arch amd64 \
		"docker://$REG_HOST/app/multi:1")
	run_status 0 "${bh[@]}" inspect --format '{{.FromImageDigest}}' "$ctr"
	[ "$output" = "$(jq -r '.manifests[0].digest' <<<"$index")" ]
	run_status 0 "${bh[@]}" run --isolation chroot "$ctr" -- /app/hello.sh
	[ "$output" = "$APP_OUTPUT" ]
	"${bh[@]}" rm "$ctr" >/dev/null
}

@test "build: a permanent fault on the index PUT leaves no tag" {
	fault_proxy_start FP "$REG_HOST" 'PUT /manifests/(?!sha256:) status=500 times=always'
	run_status 1 ocinoco build "$FIX/app" --from "$FP_HOST/base/bx:1" --platform all \
		--tag "$FP_HOST/app/bfault:1" --push
	[[ $output == *"PUT manifest: HTTP 500"* ]]
	[[ $output == *"nothing pushed"* ]]
	[ -z "$(reg_tags REG app/bfault)" ]
	fault_proxy_stop FP
}

@test "build: a listed platform the base lacks is exit 1 naming the base's platforms; nothing pushed" {
	run_status 1 ocinoco build "$FIX/app" --from "$REG_HOST/base/bx:1" --platform linux/amd64,linux/s390x \
		--tag "$REG_HOST/app/missing:1" --push
	[[ $output == *"no manifest for platform linux/s390x in the index; it has: linux/amd64, linux/arm64/v8"* ]]
	[ -z "$(reg_tags REG app/missing)" ]
	[ "$(registry_requests REG PUT '^/v2/app/missing/manifests/')" = 0 ]
	# a malformed platform is a usage error before any request
	local before
	before=$(registry_requests REG '[A-Z]+' '^/v2/app/missing/')
	run_status 2 ocinoco build "$FIX/app" --from "$REG_HOST/base/bx:1" --platform linux/amd64,linux \
		--tag "$REG_HOST/app/missing:1" --push
	[ "$(registry_requests REG '[A-Z]+' '^/v2/app/missing/')" = "$before" ]
	run_status 2 ocinoco build "$FIX/app" --from scratch --platform all --tag "$REG_HOST/app/missing:1"
	[[ $output == *"--from scratch has no platforms to choose from"* ]]
}

@test "build: one platform selected is a plain image, the same as that index child" {
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/bx:1" --platform linux/arm64 \
		"${APP_OPTS[@]}" --annotation org.opencontainers.image.source=https://example.com/app \
		--tag "$REG_HOST/app/one:1" --push -q
	[ "$(raw "$REG_HOST/app/one:1" | jq -r .mediaType)" = application/vnd.oci.image.manifest.v1+json ]
	[ "${output#*@}" = "$(raw "$REG_HOST/app/multi:1" | jq -r '.manifests[1].digest')" ]
	# a list of one (twice the same) too
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/bx:1" --platform linux/arm64 \
		--platform linux/aarch64 "${APP_OPTS[@]}" \
		--annotation org.opencontainers.image.source=https://example.com/app --tag "$REG_HOST/app/one:2" -q
	[ "${lines[0]}" = "$(raw "$REG_HOST/app/multi:1" | jq -r '.manifests[1].digest')" ]
}

@test "build: the same inputs give the same index digest; the dry run prints it; --output oci:DIR holds every child" {
	run_status 0 main_build --tag "$REG_HOST/app/multi:1" -q
	[ "$output" = "$(cat "$FIX/main.digest")" ]
	run_status 0 main_build --tag "$REG_HOST/app/multi:1" --output "oci:$T/lay" -q
	[ "$output" = "$(cat "$FIX/main.digest")" ]
	run_status 0 skopeo_p copy -q --all "oci:$T/lay:1" "oci:$T/copy:1"
	[ "$(skopeo_p inspect --raw "oci:$T/lay:1" | sha)" = "$(cat "$FIX/main.digest")" ]
	# the children are blobs the index reaches, not entries of index.json
	[ "$(jq -c '[.manifests[] | [.digest, .annotations["org.opencontainers.image.ref.name"]]]' "$T/lay/index.json")" = \
		"[[\"$(cat "$FIX/main.digest")\",\"1\"]]" ]
	# an archive: the index named by the tag, every child inside
	run_status 0 main_build --tag "$REG_HOST/app/multi:1" --output "$T/app.tar" -q
	[ "$output" = "$(cat "$FIX/main.digest")" ]
	run_status 0 skopeo_p copy -q --all "oci-archive:$T/app.tar" "oci:$T/fromtar:1"
	[ "$(skopeo_p inspect --raw "oci:$T/fromtar:1" | sha)" = "$(cat "$FIX/main.digest")" ]
	[ "$(tar -xOf "$T/app.tar" index.json | jq -r '.manifests[0].annotations["io.containerd.image.name"]')" = "$REG_HOST/app/multi:1" ]
}

@test "build: a Docker manifest list base stays Docker with gzip, becomes an OCI index of OCI manifests with zstd" {
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/dl:1" --platform all --compression gzip \
		--tag "$REG_HOST/app/dl-gz:1" --push -q
	[ "$(raw "$REG_HOST/app/dl-gz:1" | jq -r .mediaType)" = "$DOCKER_L" ]
	[ "$(raw "$REG_HOST/app/dl-gz:1" | jq -r '[.manifests[].mediaType] | unique[]')" = \
		application/vnd.docker.distribution.manifest.v2+json ]
	[ "$(raw "$REG_HOST/app/dl-gz:1" | jq -c '[.manifests[].platform]')" = \
		'[{"architecture":"amd64","os":"linux"},{"architecture":"arm64","os":"linux","variant":"v8"}]' ]
	run_status 0 skopeo_p copy -q --all --src-tls-verify=false "docker://$REG_HOST/app/dl-gz:1" "oci:$T/gz:1"
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/dl:1" --platform all \
		--tag "$REG_HOST/app/dl-zst:1" --push -q
	[ "$(raw "$REG_HOST/app/dl-zst:1" | jq -r .mediaType)" = "$OCI_I" ]
	[ "$(raw "$REG_HOST/app/dl-zst:1" | jq -r '[.manifests[].mediaType] | unique[]')" = \
		application/vnd.oci.image.manifest.v1+json ]
	run_status 0 skopeo_p copy -q --all --src-tls-verify=false "docker://$REG_HOST/app/dl-zst:1" "oci:$T/zst:1"
}

@test "ocinoco index: two images from two directories, into another repository and another registry; both run" {
	mkdir -p "$T/amd" "$T/arm"
	make_app "$T/amd"
	make_app "$T/arm"
	echo arm >"$T/arm/data/message.txt"
	ocinoco build "$T/amd" --from "$REG_HOST/base/bx:1" --platform linux/amd64 "${APP_OPTS[@]}" \
		--tag "$REG_HOST/ci/app:amd64" --push -q --digest-file "$T/amd.digest"
	ocinoco build "$T/arm" --from "$REG_HOST/base/bx:1" --platform linux/arm64 "${APP_OPTS[@]}" \
		--tag "$REG_HOST/ci/app:arm64" --push -q --digest-file "$T/arm.digest"
	run_status 0 ocinoco index --tag "$REG_HOST/other/app:1" --tag "$SEC_HOST/app/combined:1" \
		--cacert "$TEST_CA" --annotation org.example=ci --digest-file "$T/index.digest" \
		"$REG_HOST/ci/app@$(cat "$T/amd.digest")" "$REG_HOST/ci/app:arm64"
	local digest
	digest=$(cat "$T/index.digest")
	[ "${lines[0]}" = "$REG_HOST/other/app:1@$digest" ]
	[ "${lines[1]}" = "$SEC_HOST/app/combined:1@$digest" ]
	local index
	index=$(raw "$REG_HOST/other/app:1")
	[ "$(printf '%s' "$index" | sha)" = "$digest" ]
	[ "$(jq -c '[.manifests[] | [.digest, .platform]]' <<<"$index")" = \
		"[[\"$(cat "$T/amd.digest")\",{\"architecture\":\"amd64\",\"os\":\"linux\"}],[\"$(cat "$T/arm.digest")\",{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}]]" ]
	[ "$(jq -r .annotations.org.example <<<"$index")" = null ]
	[ "$(jq -r '.annotations["org.example"]' <<<"$index")" = ci ]
	[ "$(manifest_puts REG other/app | tail -n1)" = 1 ]
	[ "$(reg_tags REG other/app)" = 1 ]
	# the other registry: everything copied there; skopeo verifies every digest
	local -a flags
	mapfile -t flags < <(registry_skopeo_flags SEC src)
	run_status 0 skopeo_p copy -q --all "${flags[@]}" "docker://$SEC_HOST/app/combined:1" "oci:$T/sec:1"
	[ "$(skopeo_p inspect --raw "oci:$T/sec:1" | sha)" = "$digest" ]
	# both run: the amd64 one with chroot, the arm64 one's files are its own
	skopeo_p copy -q --src-tls-verify=false "docker://$REG_HOST/other/app@$(cat "$T/amd.digest")" "oci:$T/run:amd"
	layout_rootfs "$T/run" amd "$T/rootfs"
	skopeo_p inspect --config --raw "oci:$T/run:amd" >"$T/config.json"
	run_status 0 run_config "$T/config.json" "$T/rootfs"
	[ "$output" = "$APP_OUTPUT" ]
	skopeo_p copy -q --src-tls-verify=false "docker://$REG_HOST/other/app@$(cat "$T/arm.digest")" "oci:$T/run:arm"
	mkdir "$T/armfs"
	for d in $(oci-fetch "oci:$T/run:arm" | jq -r '.layers[].digest'); do
		tar -xf "$(layout_blob "$T/run" "$d")" -C "$T/armfs"
	done
	[ "$(cat "$T/armfs/app/data/message.txt")" = arm ]
	[ "$(cat "$T/armfs/etc/ocinoco-fake-arch")" = linux/arm64/v8 ]
}

@test "ocinoco index: an index's images are taken in; two images of one platform are an error" {
	run_status 0 ocinoco index --tag "$REG_HOST/re/app:1" "$REG_HOST/app/multi:1" -q
	[ "$(raw "$REG_HOST/re/app:1" | jq -c '[.manifests[].digest]')" = \
		"$(raw "$REG_HOST/app/multi:1" | jq -c '[.manifests[].digest]')" ]
	run_status 1 ocinoco index --tag "$REG_HOST/re/dup:1" "$REG_HOST/app/multi:1" "$REG_HOST/app/one:1"
	[[ $output == *"are both for linux/arm64/v8: an index holds one image per platform"* ]]
	[ -z "$(reg_tags REG re/dup)" ]
	run_status 2 ocinoco index "$REG_HOST/app/multi:1"
	run_status 2 ocinoco index --tag "$REG_HOST/re/x:1"
}
