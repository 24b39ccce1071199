#!/usr/bin/env bats
# gzip layers made of several members (one per 2 MiB block, made on every core): what skopeo
# (Go's compress/gzip, digests verified) and umoci read back from a pushed image, and that the
# pushed layer is the same bytes for any -T.
# shellcheck disable=SC2154 # status, output are set by bats' run
bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra
load ../lib/build

setup_file() {
	unset SOURCE_DATE_EPOCH
	registry_start REG plain
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_app "$FIX/app"
	# ~7 MB of text and random bytes: four members
	seq 1 600000 >"$FIX/app/data/numbers"
	head -c 1500000 /dev/urandom | base64 >"$FIX/app/data/random.b64"
	make_busybox_layout "$FIX/bb" oci
	push_layout "$FIX/bb" "$REG_HOST/base/bb:latest"
	APP_OPTS=(--root-dir /app --uid 1000 --gid 1000 --cmd '["/app/hello.sh"]' --env GREETING=world
		--workdir /app)
	ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/gz/app:latest" \
		"${APP_OPTS[@]}" --compression gzip --push -q >"$FIX/gz.out"
}

teardown_file() {
	registry_stop_all
}

setup() {
	unset SOURCE_DATE_EPOCH
	T=$BATS_TEST_TMPDIR
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
}

sha() { echo "sha256:$(sha256sum | cut -d' ' -f1)"; }
sk_plain() { skopeo_p "$@" --tls-verify=false; }

@test "a multi-member gzip layer: skopeo copies it (digests verified), gzip and umoci read it, the app runs" {
	local ref=$REG_HOST/gz/app:latest m layer
	m=$(skopeo inspect --tls-verify=false --raw "docker://$ref")
	[ "$(jq -r '.layers[1].mediaType' <<<"$m")" = application/vnd.oci.image.layer.v1.tar+gzip ]
	sk_plain copy -q "docker://$ref" "oci:$T/lay:x"
	layer=$T/lay/blobs/sha256/$(jq -r '.layers[1].digest' <<<"$m" | cut -d: -f2)
	[ "$(sha <"$layer")" = "$(jq -r '.layers[1].digest' <<<"$m")" ]
	gzip -t "$layer"
	# more than one member: the layer is not what one gzip stream of it would be
	[ "$(python3 -c 'import sys, zlib
d, n = open(sys.argv[1], "rb").read(), 0
while d:
    z = zlib.decompressobj(31); z.decompress(d); d = z.unused_data; n += 1
print(n)' "$layer")" -ge 3 ]
	# the uncompressed layer is what oci-tar makes of the tree, and its digest the diffID
	oci-tar --root-dir /app --uid 1000 --gid 1000 "$FIX/app" | cmp - <(gzip -dc "$layer")
	cfg=$(layout_blob "$T/lay" "$(jq -r .config.digest <<<"$m")")
	[ "$(gzip -dc "$layer" | sha)" = "$(jq -r '.rootfs.diff_ids[1]' "$cfg")" ]
	umoci unpack --image "$T/lay:x" "$T/bundle" >/dev/null
	cmp "$FIX/app/data/numbers" "$T/bundle/rootfs/app/data/numbers"
	cmp "$FIX/app/data/random.b64" "$T/bundle/rootfs/app/data/random.b64"
	run_status 0 run_bundle "$T/bundle"
	[ "$output" = "$APP_OUTPUT" ]
}

@test "the pushed gzip layer is the same bytes for -T1, -T2 and the default" {
	local l1 l2 l0
	ocinoco pack --compression gzip -T 1 --root-dir /app --uid 1000 --gid 1000 \
		"$FIX/app" "$T/t1.tgz" >"$T/t1.json"
	ocinoco pack --compression gzip -T 2 --root-dir /app --uid 1000 --gid 1000 \
		"$FIX/app" "$T/t2.tgz" >"$T/t2.json"
	cmp "$T/t1.tgz" "$T/t2.tgz"
	l1=$(jq -r .digest "$T/t1.json")
	l0=$(skopeo inspect --tls-verify=false --raw "docker://$REG_HOST/gz/app:latest" |
		jq -r '.layers[1].digest')
	[ "$l1" = "$l0" ]
	l2=$(jq -r .digest "$T/t2.json")
	[ "$l2" = "$l0" ]
}
