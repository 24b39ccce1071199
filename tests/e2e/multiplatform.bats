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
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_app "$FIX/app"
	make_buildx_layout "$FIX/bx"
	make_docker_list_layout "$FIX/dl"
	push_layout "$FIX/bx" "$REG_HOST/base/bx:1"
	push_layout "$FIX/dl" "$REG_HOST/base/dl:1"
}

teardown_file() {
	registry_stop_all
}

setup() {
	T=$BATS_TEST_TMPDIR
}

sha() { echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"; }

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
