#!/usr/bin/env bats
# ocinoco build against real registries on 127.0.0.1: what it pushes (read back by skopeo),
# that the image runs (umoci, buildah, GNU tar + chroot), the platform it picks, reproducibility,
# what it sends (registry logs), the OCI layout and archive outputs, and its round trips.
# shellcheck disable=SC2154 # status, output, stderr are set by bats' run
bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra
load ../lib/build

setup_file() {
	unset SOURCE_DATE_EPOCH
	registry_start REG plain
	registry_start SEC tls-token
	tcp_proxy_start SECP "$SEC_HOST"
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_app "$FIX/app"
	make_busybox_layout "$FIX/bb" oci
	make_multiarch_layout "$FIX/multi"
	push_layout "$FIX/bb" "$REG_HOST/base/bb:latest"
	push_layout "$FIX/multi" "$REG_HOST/base/multi:latest"
	push_layout "$FIX/bb" "$SECP_HOST/base/bb:latest" SEC
	export DOCKER_CONFIG=$FIX/docker
	docker_config_for SEC "$DOCKER_CONFIG"
	docker_config_for SECP "$DOCKER_CONFIG"
	BASE_LAYER=$(oci-fetch "oci:$FIX/bb" | jq -r '.layers[0].digest')
	export BASE_LAYER
	# The build most tests look at (zstd, the default), and the same app as gzip for umoci 0.4.7,
	# which reads no zstd.
	APP_OPTS=(--root-dir /app --uid 1000 --gid 1000 --cmd '["/app/hello.sh"]' --env GREETING=world
		--workdir /app)
	ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/app/hello:latest" \
		"${APP_OPTS[@]}" --label org.example.team=build --expose 8080 \
		--annotation org.example.note=hi --push >"$FIX/main.out" 2>"$FIX/main.err"
	ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/app/hello-gz:latest" \
		"${APP_OPTS[@]}" --compression gzip --push -q >"$FIX/gz.out"
	printf '{"default":[{"type":"insecureAcceptAnything"}]}' >"$FIX/policy.json"
}

teardown_file() {
	registry_stop_all
}

setup() {
	unset SOURCE_DATE_EPOCH
	T=$BATS_TEST_TMPDIR
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	APP_OPTS=(--root-dir /app --uid 1000 --gid 1000 --cmd '["/app/hello.sh"]' --env GREETING=world
		--workdir /app)
}

sha() { echo "sha256:$(sha256sum | cut -d' ' -f1)"; }
sk_plain() { skopeo_p "$@" --tls-verify=false; }
# the digest a registry serves for REF (sha256 of the manifest bytes)
served_digest() { skopeo inspect --tls-verify=false --raw "docker://$1" | sha; }

@test "--push: TAG@digest on stdout; skopeo inspect shows the new layer, diff_id, history, env, cmd, workdir, labels, ports, annotations" {
	local ref=$REG_HOST/app/hello:latest m cfg layer
	d=$(served_digest "$ref")
	[ "$(cat "$FIX/main.out")" = "$ref@$d" ]
	# without -q, stderr says what happened
	[[ $(cat "$FIX/main.err") == *"ocinoco: build: layer sha256:"*" of $FIX/app"* ]]
	[[ $(cat "$FIX/main.err") == *"ocinoco: build: base $REG_HOST/base/bb:latest@$(layout_digest "$FIX/bb")"* ]]
	[[ $(cat "$FIX/main.err") == *"ocinoco: build: pushed in "*" s"* ]]
	m=$(skopeo inspect --tls-verify=false --raw "docker://$ref")
	cfg=$(skopeo inspect --tls-verify=false --config "docker://$ref")
	# the base layer stays as it is; the new one is appended, zstd
	[ "$(jq -r '.layers | length' <<<"$m")" = 2 ]
	[ "$(jq -r '.layers[0].digest' <<<"$m")" = "$BASE_LAYER" ]
	[ "$(jq -r '.layers[1].mediaType' <<<"$m")" = application/vnd.oci.image.layer.v1.tar+zstd ]
	layer=$(jq -r '.layers[1].digest' <<<"$m")
	# diff_ids: the base's, then the uncompressed digest of the new layer (zstd -d reads it)
	[ "$(jq -c '.rootfs.diff_ids[:1]' <<<"$cfg")" = "$(oci-fetch --config "oci:$FIX/bb" | jq -c '.rootfs.diff_ids')" ]
	[ "$(jq -r '.rootfs.diff_ids[1]' <<<"$cfg")" = "$(oci-fetch --blob "$layer" "$ref" | zstd -dc | sha)" ]
	[ "$(jq -r '.history | length' <<<"$cfg")" = 2 ]
	[ "$(jq -r '.history[1].created_by' <<<"$cfg")" = "ocinoco build $FIX/app" ]
	[ "$(jq -r '.created' <<<"$cfg")" = 1970-01-01T00:00:00Z ]
	[ "$(jq -c '.config.Env' <<<"$cfg")" = '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","GREETING=world"]' ]
	[ "$(jq -c '.config.Cmd' <<<"$cfg")" = '["/app/hello.sh"]' ]
	[ "$(jq -r '.config.WorkingDir' <<<"$cfg")" = /app ]
	[ "$(jq -c '.config.Labels' <<<"$cfg")" = '{"org.example.team":"build"}' ]
	[ "$(jq -c '.config.ExposedPorts' <<<"$cfg")" = '{"8080/tcp":{}}' ]
	[ "$(jq -r '.annotations["org.opencontainers.image.base.name"]' <<<"$m")" = "$REG_HOST/base/bb:latest" ]
	[ "$(jq -r '.annotations["org.opencontainers.image.base.digest"]' <<<"$m")" = "$(layout_digest "$FIX/bb")" ]
	[ "$(jq -r '.annotations["org.example.note"]' <<<"$m")" = hi ]
}

@test "skopeo copies the pushed image to an OCI layout (digests verified); its layers untarred run the app with chroot, files owned 1000:1000" {
	local ref=$REG_HOST/app/hello:latest
	sk_plain copy -q "docker://$ref" "oci:$T/lay:x"
	d=$(served_digest "$ref")
	[ "$(layout_digest "$T/lay")" = "$d" ]
	# the layout's blobs are the bytes their names say
	for f in "$T"/lay/blobs/sha256/*; do
		[ "sha256:${f##*/}" = "$(sha <"$f")" ]
	done
	layout_rootfs "$T/lay" x "$T/rootfs"
	run_status 0 run_config "$(layout_blob "$T/lay" "$(oci-fetch "oci:$T/lay:x" | jq -r .config.digest)")" "$T/rootfs"
	[ "$output" = "$APP_OUTPUT" ]
	[ "$(app_owners "$T/rootfs")" = "$APP_OWNERS" ]
	# the base is there under it
	[ -x "$T/rootfs/bin/busybox" ]
}

@test "buildah pulls the zstd image and runs the app in it (chroot isolation, vfs storage)" {
	local bh=(buildah --root "$T/bh/root" --runroot "$T/bh/run" --storage-driver vfs)
	ctr=$("${bh[@]}" from -q --tls-verify=false --signature-policy "$FIX/policy.json" \
		"docker://$REG_HOST/app/hello:latest")
	run_status 0 "${bh[@]}" run --isolation chroot "$ctr" -- /app/hello.sh
	[ "$output" = "$APP_OUTPUT" ]
	run_status 0 "${bh[@]}" run --isolation chroot "$ctr" -- stat -c '%u:%g %n' /app /app/hello.sh /app/data/message.txt
	[ "$output" = "1000:1000 /app
1000:1000 /app/hello.sh
1000:1000 /app/data/message.txt" ]
	"${bh[@]}" rm "$ctr" >/dev/null
}

@test "a gzip build: umoci unpacks it, and its runtime config runs the app with chroot" {
	local ref=$REG_HOST/app/hello-gz:latest
	[ "$(cat "$FIX/gz.out")" = "$ref@$(served_digest "$ref")" ]
	[ "$(skopeo inspect --tls-verify=false --raw "docker://$ref" | jq -r '.layers[1].mediaType')" = \
		application/vnd.oci.image.layer.v1.tar+gzip ]
	sk_plain copy -q "docker://$ref" "oci:$T/lay:x"
	umoci unpack --image "$T/lay:x" "$T/bundle" >/dev/null
	run_status 0 run_bundle "$T/bundle"
	[ "$output" = "$APP_OUTPUT" ]
	[ "$(app_owners "$T/bundle/rootfs")" = "$APP_OWNERS" ]
}

@test "a multi-platform base: --platform linux/arm64 grafts onto the arm64 manifest, the default onto this machine's" {
	local arm_m arm_cfg amd_m
	arm_m=$(oci-fetch --platform linux/arm64 "oci:$FIX/multi")
	arm_cfg=$(oci-fetch --platform linux/arm64 --config "oci:$FIX/multi")
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/multi:latest" --platform linux/arm64 \
		--tag "$REG_HOST/app/arm:latest" --push -q
	m=$(skopeo inspect --tls-verify=false --raw "docker://$REG_HOST/app/arm:latest")
	cfg=$(skopeo inspect --tls-verify=false --config "docker://$REG_HOST/app/arm:latest")
	[ "$(jq -r '.architecture + "/" + .variant' <<<"$cfg")" = arm64/v8 ]
	[ "$(jq -c '[.layers[0].digest]' <<<"$m")" = "$(jq -c '[.layers[].digest]' <<<"$arm_m")" ]
	[ "$(jq -c '.rootfs.diff_ids[:1]' <<<"$cfg")" = "$(jq -c '.rootfs.diff_ids' <<<"$arm_cfg")" ]
	[ "$(jq -r '.annotations["org.opencontainers.image.base.digest"]' <<<"$m")" = \
		"$(printf '%s' "$arm_m" | sha)" ]
	# no --platform: this machine's (the tests run on linux/amd64)
	[ "$(uname -m)" = x86_64 ] || skip "the multi-platform fixture has amd64 and arm64 only"
	amd_m=$(oci-fetch --platform linux/amd64 "oci:$FIX/multi")
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/multi:latest" \
		--tag "$REG_HOST/app/amd:latest" --push -q
	m=$(skopeo inspect --tls-verify=false --raw "docker://$REG_HOST/app/amd:latest")
	[ "$(jq -r '.layers[0].digest' <<<"$m")" = "$(jq -r '.layers[0].digest' <<<"$amd_m")" ]
	[ "$(skopeo inspect --tls-verify=false --config "docker://$REG_HOST/app/amd:latest" | jq -r .architecture)" = amd64 ]
}

@test "reproducible: the same tree built twice with SOURCE_DATE_EPOCH, from other copies, gives the same digest" {
	mkdir -p "$T/a" "$T/b/app/data/empty"
	cp -R "$FIX/app" "$T/a/app"
	# the other copy is made in another order, at another time
	echo 'the data file of the app' >"$T/b/app/data/message.txt"
	cp "$FIX/app/hello.sh" "$T/b/app/hello.sh"
	chmod 755 "$T/b/app" "$T/b/app/data" "$T/b/app/data/empty"
	find "$T/b/app" -exec touch -d 2001-02-03T04:05:06 {} +
	export SOURCE_DATE_EPOCH=1700000000
	a=$(cd "$T/a" && ocinoco build app --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/repro/a:latest" \
		"${APP_OPTS[@]}" --push -q)
	b=$(cd "$T/b" && ocinoco build app --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/repro/b:latest" \
		"${APP_OPTS[@]}" --push -q)
	[ "${a#*@}" = "${b#*@}" ]
	cfg=$(skopeo inspect --tls-verify=false --config "docker://$REG_HOST/repro/a:latest")
	[ "$(jq -r '.created, .history[1].created' <<<"$cfg")" = "2023-11-14T22:13:20Z
2023-11-14T22:13:20Z" ]
	layer=$(skopeo inspect --tls-verify=false --raw "docker://$REG_HOST/repro/a:latest" | jq -r '.layers[1].digest')
	[ "$(oci-fetch --blob "$layer" "$REG_HOST/repro/a" | zstd -dc | tar -tv --full-time | awk '{ print $4 }' | sort -u)" = 2023-11-14 ]
	# another time is another image
	c=$(cd "$T/a" && SOURCE_DATE_EPOCH=1700000001 ocinoco build app --from "$REG_HOST/base/bb:latest" \
		--tag "$REG_HOST/repro/c:latest" "${APP_OPTS[@]}" --push -q)
	[ "${c#*@}" != "${a#*@}" ]
}

@test "without bash's loadable builtins (no bash-builtins package): the same image, and its temporary directory gone" {
	[ -r /usr/lib/bash/mktemp ] # make deps installs them: the other tests build with them
	mkdir "$T/bin"
	sed 's|/usr/lib/bash/|/nonexistent/|g' "$OCINOCO_BIN/ocinoco" >"$T/bin/ocinoco"
	chmod +x "$T/bin/ocinoco"
	[ "$(grep -c /usr/lib/bash/ "$T/bin/ocinoco")" -eq 0 ]
	a=$(SOURCE_DATE_EPOCH=1700000000 ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" \
		--tag "$REG_HOST/nobuiltins/a:latest" "${APP_OPTS[@]}" --push -q)
	b=$(SOURCE_DATE_EPOCH=1700000000 "$T/bin/ocinoco" build "$FIX/app" --from "$REG_HOST/base/bb:latest" \
		--tag "$REG_HOST/nobuiltins/b:latest" "${APP_OPTS[@]}" --push -q)
	[ "${a#*@}" = "${b#*@}" ]
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "same registry: the base layers are mounted, never uploaded; a rebuild of the unchanged tree to a new tag uploads no layer, only its config" {
	gets=$(registry_requests REG GET "/blobs/$BASE_LAYER")
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/same/app:v1" \
		"${APP_OPTS[@]}" --push -q
	d1=${output#*@}
	[ "$(registry_requests REG POST "^/v2/same/app/blobs/uploads/\\?mount=$BASE_LAYER&from=base%2Fbb" 201)" = 1 ]
	[ "$(registry_requests REG 'PUT|PATCH' "^/v2/same/app/blobs/uploads/.*digest=$BASE_LAYER")" = 0 ]
	[ "$(registry_requests REG GET "/blobs/$BASE_LAYER")" = "$gets" ] # not even read
	# two uploads: the new layer and the config
	[ "$(registry_requests REG 'PUT|PATCH' '^/v2/same/app/blobs/uploads/')" = 2 ]
	layer=$(skopeo inspect --tls-verify=false --raw "docker://$REG_HOST/same/app:v1" | jq -r '.layers[1].digest')
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/same/app:v2" \
		"${APP_OPTS[@]}" --push -q
	[ "${output#*@}" = "$d1" ]
	# no byte of a layer was uploaded again: the layer was found by HEAD; the config, the tag v2
	# absent, was PUT at once on the session opened before the manifest came (no HEAD first)
	cfg=$(skopeo inspect --tls-verify=false --raw "docker://$REG_HOST/same/app:v1" | jq -r '.config.digest')
	[ "$(registry_requests REG 'PUT|PATCH' '^/v2/same/app/blobs/uploads/')" = 3 ]
	[ "$(registry_requests REG 'PUT|PATCH' "^/v2/same/app/blobs/uploads/.*digest=$layer")" = 1 ]
	[ "$(registry_requests REG PUT "^/v2/same/app/blobs/uploads/.*digest=$cfg")" = 2 ]
	[ "$(registry_requests REG HEAD "^/v2/same/app/blobs/$layer" 200)" -ge 1 ]
	[ "$(reg_tags REG same/app | sort | tr '\n' ' ')" = "v1 v2 " ]
}

@test "base on a plain registry, target on a TLS registry with tokens: base layers copied, the image runs" {
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag "$SEC_HOST/cross/app:latest" \
		"${APP_OPTS[@]}" --cacert "$TEST_CA" --push -q
	[ "$output" = "$SEC_HOST/cross/app:latest@${output#*@}" ]
	# the base layer went from one registry to the other, streamed through oci-put
	[ "$(registry_requests REG GET "^/v2/base/bb/blobs/$BASE_LAYER" 200)" -ge 1 ]
	[ "$(registry_requests SEC PUT "^/v2/cross/app/blobs/uploads/.*digest=$BASE_LAYER" 201)" = 1 ]
	reg_has_blob SEC cross/app "$BASE_LAYER"
	mapfile -t flags < <(registry_skopeo_flags SEC src)
	skopeo_p copy -q "${flags[@]}" "docker://$SEC_HOST/cross/app:latest" "oci:$T/lay:x"
	[ "$(layout_digest "$T/lay")" = "${output#*@}" ]
	layout_rootfs "$T/lay" x "$T/rootfs"
	run_status 0 run_config "$(layout_blob "$T/lay" "$(oci-fetch "oci:$T/lay:x" | jq -r .config.digest)")" "$T/rootfs"
	[ "$output" = "$APP_OUTPUT" ]
}

@test "--output oci:DIR: the image in an OCI layout, named by its tags; skopeo and umoci read it; no registry written" {
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/out/app:v1" \
		--tag example.org/other/name:v2 "${APP_OPTS[@]}" --compression gzip --output "oci:$T/lay" -q
	d=$output
	only_names "$TMPDIR"
	[[ $d =~ ^sha256:[0-9a-f]{64}$ ]]
	[ "$(jq -c '[.manifests[] | [.digest, .annotations["org.opencontainers.image.ref.name"]]]' "$T/lay/index.json")" = \
		"[[\"$d\",\"v1\"],[\"$d\",\"v2\"]]" ]
	[ "$(skopeo inspect "oci:$T/lay:v1" | jq -r .Digest)" = "$d" ]
	umoci unpack --image "$T/lay:v2" "$T/bundle" >/dev/null
	run_status 0 run_bundle "$T/bundle"
	[ "$output" = "$APP_OUTPUT" ]
	[ "$(app_owners "$T/bundle/rootfs")" = "$APP_OWNERS" ]
	# the base layer was fetched into the layout; nothing went to the target repository
	[ -s "$(layout_blob "$T/lay" "$BASE_LAYER")" ]
	[ "$(registry_requests REG '[A-Z]+' '^/v2/out/')" = 0 ]
}

@test "--output FILE.tar: an OCI archive (docker save's layout) that skopeo reads as oci-archive and docker-archive, and umoci; the same bytes twice" {
	mkdir "$T/out"
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/out/tar:v1" \
		"${APP_OPTS[@]}" --compression gzip --output "$T/out/img.tar" -q
	d=$output
	only_names "$T/out" img.tar
	only_names "$TMPDIR"
	[ "$(stat -c %a "$T/out/img.tar")" = 644 ]
	[ "$(tar -tf "$T/out/img.tar" | grep -v '^blobs/sha256/.' | tr '\n' ' ')" = \
		"blobs/ blobs/sha256/ index.json manifest.json oci-layout " ]
	[ "$(tar -xOf "$T/out/img.tar" index.json | jq -c '.manifests[] | [.digest, .annotations]')" = \
		"[\"$d\",{\"io.containerd.image.name\":\"$REG_HOST/out/tar:v1\",\"org.opencontainers.image.ref.name\":\"v1\"}]" ]
	skopeo_p copy -q "oci-archive:$T/out/img.tar" "oci:$T/lay:x"
	[ "$(layout_digest "$T/lay")" = "$d" ]
	# docker load without the containerd store reads manifest.json; skopeo's docker-archive too
	skopeo_p copy -q "docker-archive:$T/out/img.tar" "oci:$T/da:x"
	[ "$(oci-fetch "oci:$T/da:x" | jq -r .config.digest)" = "$(oci-fetch "oci:$T/lay:x" | jq -r .config.digest)" ]
	mkdir "$T/untar"
	tar -xf "$T/out/img.tar" -C "$T/untar"
	umoci unpack --image "$T/untar:v1" "$T/bundle" >/dev/null
	run_status 0 run_bundle "$T/bundle"
	[ "$output" = "$APP_OUTPUT" ]
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag "$REG_HOST/out/tar:v1" \
		"${APP_OPTS[@]}" --compression gzip --output "$T/again.tar" -q
	cmp "$T/out/img.tar" "$T/again.tar"
	[ "$(registry_requests REG '[A-Z]+' '^/v2/out/')" = 0 ]
}

@test "neither --push nor --output: a dry run prints the digest the push gives, writes nothing anywhere" {
	run --separate-stderr ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" \
		--tag "$REG_HOST/dry/app:latest" "${APP_OPTS[@]}" --digest-file "$T/digest"
	[ "$status" -eq 0 ]
	d=$output
	[[ $stderr == *"dry run (no --push or --output): nothing pushed or written"* ]]
	[ "$(cat "$T/digest")" = "$d" ]
	[ "$(registry_requests REG '[A-Z]+' '^/v2/dry/')" = 0 ]
	run_status 0 ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" \
		--tag "$REG_HOST/dry2/app:latest" "${APP_OPTS[@]}" --push -q
	[ "${output#*@}" = "$d" ]
	only_names "$TMPDIR"
}

@test "--from scratch: only the new layer, a config with this machine's platform or --platform's" {
	run_status 0 ocinoco build "$FIX/app" --from scratch --tag "$REG_HOST/scratch/app:latest" --push -q
	m=$(skopeo inspect --tls-verify=false --raw "docker://$REG_HOST/scratch/app:latest")
	cfg=$(skopeo inspect --tls-verify=false --config "docker://$REG_HOST/scratch/app:latest")
	[ "$(jq -r '.layers | length' <<<"$m")" = 1 ]
	[ "$(jq -r '.rootfs.diff_ids | length' <<<"$cfg")" = 1 ]
	[ "$(jq -r '.annotations // {} | has("org.opencontainers.image.base.digest")' <<<"$m")" = false ]
	[ "$(uname -m)" != x86_64 ] || [ "$(jq -r '.os + "/" + .architecture' <<<"$cfg")" = linux/amd64 ]
	run_status 0 ocinoco build "$FIX/app" --from scratch --platform linux/arm64/v8 \
		--tag "$REG_HOST/scratch/arm:latest" --push -q
	cfg=$(skopeo inspect --tls-verify=false --config "docker://$REG_HOST/scratch/arm:latest")
	[ "$(jq -r '.os + "/" + .architecture + "/" + .variant' <<<"$cfg")" = linux/arm64/v8 ]
}

@test "several --tag values in two repositories and two registries: all pushed; -q prints exactly them; --digest-file holds the digest" {
	mkdir "$T/d"
	local a=$REG_HOST/tags/a:v1 b=$REG_HOST/tags/b:latest c=$SEC_HOST/tags/c:v2
	run --separate-stderr ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag "$a" --tag "$b" \
		--tag "$c" "${APP_OPTS[@]}" --cacert "$TEST_CA" --push -q --digest-file "$T/d/digest"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	d=$(served_digest "$a")
	[ "$output" = "$a@$d
$b@$d
$c@$d" ]
	printf '%s\n' "$d" | cmp - "$T/d/digest"
	only_names "$T/d" digest
	[ "$(served_digest "$b")" = "$d" ]
	mapfile -t flags < <(registry_skopeo_flags SEC src | sed 's/^--src-/--/')
	[ "$(skopeo inspect --raw "${flags[@]}" "docker://$c" | sha)" = "$d" ]
}

@test "round trips on a TLS registry with tokens: at most 3 TLS connections and 3 token requests per build" {
	c0=$(tcp_proxy_connections SECP) t0=$(token_requests SEC) k0=$(token_connections SEC)
	# --no-cache: no look at the tag's previous image (--cache-from's default, one fetch more).
	run_status 0 ocinoco build "$FIX/app" --from "$SECP_HOST/base/bb:latest" \
		--tag "$SECP_HOST/rt/app:latest" "${APP_OPTS[@]}" --cacert "$TEST_CA" --push -v --no-cache
	conns=$(($(tcp_proxy_connections SECP) - c0))
	tokens=$(($(token_requests SEC) - t0))
	token_conns=$(($(token_connections SEC) - k0))
	echo "# registry TLS connections $conns, token requests $tokens, token server connections $token_conns" >&3
	[ "$conns" -le 3 ]
	[ "$tokens" -le 3 ]
	[ "$token_conns" -le 3 ]
	# -v reached the three registry runs: oci-fetch, oci-put blob, oci-put manifest
	[ "$(grep -cE '^oci-(fetch|put): [0-9]+ requests, [0-9]+ new connections, 1 token requests$' <<<"$output")" = 3 ]
	[[ $output == *"$SECP_HOST/rt/app:latest@sha256:"* ]]
}

@test "healthcheck, stop signal, volumes and shell reach the pushed config, as skopeo reads it back" {
	local ref=$REG_HOST/app/health:latest cfg
	ocinoco build "$FIX/app" --from "$REG_HOST/base/bb:latest" --tag "$ref" --push -q \
		--healthcheck 'wget -q -O- http://127.0.0.1:8080/ || exit 1' --healthcheck-interval 10s \
		--healthcheck-retries 2 --stop-signal SIGINT --volume /data --shell '["/bin/sh", "-ec"]'
	cfg=$(skopeo inspect --tls-verify=false --config --raw "docker://$ref")
	[ "$(jq -c '.config.Healthcheck' <<<"$cfg")" = '{"Test":["CMD-SHELL","wget -q -O- http://127.0.0.1:8080/ || exit 1"],"Interval":10000000000,"Retries":2}' ]
	[ "$(jq -c '[.config.StopSignal, .config.Volumes, .config.Shell]' <<<"$cfg")" = '["SIGINT",{"/data":{}},["/bin/sh","-ec"]]' ]
}
