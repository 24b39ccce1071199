#!/usr/bin/env bats
# oci-put against a real registry (plain HTTP) and OCI layouts; skopeo reads back what it put.
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra

setup_file() {
	registry_start REG plain
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_busybox_layout "$FIX/bb" oci
	make_multiarch_layout "$FIX/multi"
	head -c 300000 /dev/urandom >"$FIX/rand"
	head -c 20000000 /dev/urandom >"$FIX/big"
}

teardown_file() {
	registry_stop_all
}

# The manifest of an OCI layout with one image, and the files of its config and layers.
layout_parts() {
	local dir=$1
	m=$(oci-fetch "oci:$dir")
	mfile=$BATS_TEST_TMPDIR/manifest.json
	printf '%s' "$m" >"$mfile"
	blobs=()
	for d in $(jq -r '.config.digest, .layers[].digest' <<<"$m"); do
		blobs+=("$(layout_blob "$dir" "$d")")
	done
}

sha() { echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"; }

@test "a file blob: uploaded once, then skipped after a HEAD" {
	run_status 0 oci-put blob "$REG_HOST/files/a" "$FIX/rand"
	[ "$output" = "$(sha "$FIX/rand")" ]
	[ "$(registry_requests REG PUT '^/v2/files/a/blobs/uploads/' 201)" = 1 ]
	run_status 0 oci-put blob "$REG_HOST/files/a" "$FIX/rand"
	[ "$output" = "$(sha "$FIX/rand")" ]
	[ "$(registry_requests REG PUT '^/v2/files/a/blobs/uploads/')" = 1 ]
	[ "$(registry_requests REG POST '^/v2/files/a/blobs/uploads/')" = 1 ]
	[ "$(registry_requests REG HEAD "^/v2/files/a/blobs/$(sha "$FIX/rand")" 200)" = 1 ]
	oci-fetch --blob "$(sha "$FIX/rand")" "$REG_HOST/files/a" | cmp - "$FIX/rand"
}

@test "several blobs in one run print their digests in order; a big file goes in one PATCH" {
	printf 'small' >"$BATS_TEST_TMPDIR/s"
	run_status 0 oci-put blob "$REG_HOST/files/b" "$BATS_TEST_TMPDIR/s" "$FIX/big" "$FIX/rand"
	[ "$output" = "$(printf '%s\n' "$(sha "$BATS_TEST_TMPDIR/s")" "$(sha "$FIX/big")" "$(sha "$FIX/rand")")" ]
	[ "$(registry_requests REG PATCH '^/v2/files/b/blobs/uploads/')" = 1 ]
	oci-fetch --blob "$(sha "$FIX/big")" "$REG_HOST/files/b" | cmp - "$FIX/big"
}

@test "--mount-from: the blob is mounted, not uploaded again" {
	oci-put blob "$REG_HOST/mnt/src" "$FIX/rand"
	before=$(registry_requests REG 'PUT|PATCH' '^/v2/mnt/dst/')
	run_status 0 oci-put blob --mount-from mnt/src "$REG_HOST/mnt/dst" "$FIX/rand"
	[ "$output" = "$(sha "$FIX/rand")" ]
	[ "$(registry_requests REG POST "^/v2/mnt/dst/blobs/uploads/\\?mount=$(sha "$FIX/rand")&from=mnt%2Fsrc" 201)" = 1 ]
	[ "$(registry_requests REG 'PUT|PATCH' '^/v2/mnt/dst/')" = "$before" ]
	reg_has_blob REG mnt/dst "$(sha "$FIX/rand")"
}

@test "a DIGEST: mounted from --from in the same registry, copied from elsewhere, else an error" {
	d=$(sha "$FIX/rand")
	oci-put blob "$REG_HOST/dig/src" "$FIX/rand"
	run_status 0 oci-put blob --from "$REG_HOST/dig/src:whatever" "$REG_HOST/dig/dst" "$d"
	[ "$output" = "$d" ]
	[ "$(registry_requests REG POST '^/v2/dig/dst/blobs/uploads/\?mount=' 201)" = 1 ]
	# from an OCI layout: a streamed copy
	layer=$(oci-fetch "oci:$FIX/bb" | jq -r '.layers[0].digest')
	run_status 0 oci-put blob --from "oci:$FIX/bb" "$REG_HOST/dig/dst" "$layer"
	[ "$output" = "$layer" ]
	oci-fetch --blob "$layer" "$REG_HOST/dig/dst" | cmp - "$(layout_blob "$FIX/bb" "$layer")"
	# nowhere to get it from
	run_status 1 oci-put blob "$REG_HOST/dig/other" "$layer"
	[[ $output == *"blob $layer is missing"* ]]
	[ -z "$(reg_tags REG dig/other)" ]
}

@test "a 50 MB stream from stdin: one PATCH, constant memory, the right digest" {
	cd "$BATS_TEST_TMPDIR"
	head -c 50000000 /dev/urandom >stream
	kb=$(peak_rss_kb oci-put blob "$REG_HOST/stream/big" - <stream)
	[ "$(cat rss.out)" = "$(sha stream)" ]
	[ "$(registry_requests REG PATCH '^/v2/stream/big/blobs/uploads/')" = 1 ]
	[ "$(registry_requests REG HEAD '^/v2/stream/big/')" = 0 ]
	oci-fetch --blob "$(sha stream)" "$REG_HOST/stream/big" | cmp - stream
	# 16 MiB of buffer plus libraries; the sanitizer build carries its own overhead
	limit=45000
	[[ $OCINOCO_BIN == *san* ]] && limit=100000
	echo "peak RSS ${kb} KiB (limit $limit)" >&3
	[ "$kb" -lt "$limit" ]
}

@test "a small stream is hashed first: HEAD, and skipped when present" {
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/small"
	oci-put blob "$REG_HOST/stream/small" - <"$BATS_TEST_TMPDIR/small" >/dev/null
	puts=$(registry_requests REG PUT '^/v2/stream/small/')
	run_status 0 oci-put blob "$REG_HOST/stream/small" - < <(cat "$BATS_TEST_TMPDIR/small")
	[ "$output" = "sha256:$(sha256sum <"$BATS_TEST_TMPDIR/small" | cut -d' ' -f1)" ]
	[ "$(registry_requests REG PUT '^/v2/stream/small/')" = "$puts" ]
	[ "$(registry_requests REG HEAD '^/v2/stream/small/blobs/' 200)" = 1 ]
	# the upload session opened while the stream was read is cancelled
	[ "$(registry_requests REG POST '^/v2/stream/small/blobs/uploads/$' 202)" = 2 ]
	[ "$(registry_requests REG DELETE '^/v2/stream/small/blobs/uploads/' 204)" = 1 ]
}

@test "a tiny stream (at most 256 KiB) is sent in one PUT with no HEAD first (the same round trip)" {
	printf 'tiny stream' | oci-put blob "$REG_HOST/stream/tiny" - >/dev/null
	run_status 0 oci-put blob "$REG_HOST/stream/tiny" - < <(printf 'tiny stream')
	[ "$output" = "sha256:$(printf 'tiny stream' | sha256sum | cut -d' ' -f1)" ]
	[ "$(registry_requests REG HEAD '^/v2/stream/tiny/')" = 0 ]
	[ "$(registry_requests REG PUT '^/v2/stream/tiny/blobs/uploads/.*digest=' 201)" = 2 ]
	[ "$(registry_requests REG PATCH '^/v2/stream/tiny/')" = 0 ]
	[ "$(oci-fetch --blob "$output" "$REG_HOST/stream/tiny")" = 'tiny stream' ]
}

@test "--if-not-empty: an empty stream sends nothing (its session cancelled, nothing printed); a stream with bytes goes as without it" {
	run_status 0 oci-put blob --if-not-empty "$REG_HOST/maybe/none" - </dev/null
	[ -z "$output" ]
	[ "$(registry_requests REG POST '^/v2/maybe/none/blobs/uploads/$' 202)" = 1 ]
	[ "$(registry_requests REG DELETE '^/v2/maybe/none/blobs/uploads/' 204)" = 1 ]
	[ "$(registry_requests REG PUT '^/v2/maybe/none/')" = 0 ]
	[ "$(registry_requests REG PATCH '^/v2/maybe/none/')" = 0 ]
	# no empty blob there: the same run without the option uploads one
	empty=sha256:$(sha256sum </dev/null | cut -d' ' -f1)
	run_status 1 oci-fetch --blob "$empty" "$REG_HOST/maybe/none"
	run_status 0 oci-put blob "$REG_HOST/maybe/none" - </dev/null
	[ "$output" = "$empty" ]
	[ "$(registry_requests REG PUT '^/v2/maybe/none/blobs/uploads/.*digest=' 201)" = 1 ]
	# a stream with bytes: uploaded and printed, as without the option
	run_status 0 oci-put blob --if-not-empty "$REG_HOST/maybe/some" - <"$FIX/rand"
	[ "$output" = "$(sha "$FIX/rand")" ]
	oci-fetch --blob "$output" "$REG_HOST/maybe/some" | cmp - "$FIX/rand"
	# into a layout: nothing written for an empty stream
	run_status 0 oci-put blob --if-not-empty "oci:$BATS_TEST_TMPDIR/lay" - </dev/null
	[ -z "$output" ]
	[ -z "$(find "$BATS_TEST_TMPDIR/lay" -type f -path '*/blobs/*' 2>/dev/null)" ]
	run_status 2 oci-put blob --if-not-empty "$REG_HOST/maybe/none" "$FIX/rand"
}

@test "--hold FILE: the stream is read ahead but nothing is sent until FILE says send; drop (or its end) cancels the session, nothing printed" {
	cd "$BATS_TEST_TMPDIR"
	head -c 3000000 /dev/urandom >big
	mkfifo hold
	exec {h}<>hold
	oci-put blob --hold hold "$REG_HOST/held/a" - <big >out 2>err {h}>&- &
	local pid=$!
	# the whole stream is read while nothing is sent: its producer is not held back
	wait_for at_least_one registry_requests REG POST '^/v2/held/a/blobs/uploads/$' 202
	sleep 0.3
	[ "$(registry_requests REG 'PATCH|PUT' '^/v2/held/a/')" = 0 ]
	[ "$(awk '{ print $2 }' "/proc/$pid/fdinfo/0" | head -n 1)" = 3000000 ]
	echo send >&"$h"
	wait "$pid"
	exec {h}>&-
	[ "$(cat out)" = "$(sha big)" ]
	oci-fetch --blob "$(cat out)" "$REG_HOST/held/a" | cmp - big
	# drop: the session opened is cancelled, nothing sent or printed, exit 0
	run_status 0 oci-put blob --hold <(echo drop) "$REG_HOST/held/b" - <big
	[ -z "$output" ]
	[ "$(registry_requests REG POST '^/v2/held/b/blobs/uploads/$' 202)" = 1 ]
	[ "$(registry_requests REG DELETE '^/v2/held/b/blobs/uploads/' 204)" = 1 ]
	[ "$(registry_requests REG 'PATCH|PUT' '^/v2/held/b/')" = 0 ]
	# FILE's end with no answer is drop; into a layout, nothing written
	run_status 0 oci-put blob --hold <(:) "oci:$BATS_TEST_TMPDIR/lay" - <big
	[ -z "$output" ] && [ -z "$(find lay -type f -path '*/blobs/*' 2>/dev/null)" ]
	run_status 0 oci-put blob --hold <(echo send) "oci:$BATS_TEST_TMPDIR/lay" - <big
	[ "$output" = "$(sha big)" ] && cmp "lay/blobs/sha256/${output#sha256:}" big
	# an answer that is neither, a FILE that cannot be read: errors naming it, nothing sent
	run_status 1 oci-put blob --hold <(echo sned) "$REG_HOST/held/c" - <big
	[[ $output == *"--hold /dev/fd/"*": neither send nor drop"* ]]
	run_status 1 oci-put blob --hold "$BATS_TEST_TMPDIR/none" "$REG_HOST/held/c" - <big
	[[ $output == *"--hold $BATS_TEST_TMPDIR/none: No such file or directory"* ]]
	[ "$(registry_requests REG 'PATCH|PUT' '^/v2/held/c/')" = 0 ]
	run_status 2 oci-put blob --hold hold "$REG_HOST/held/c" big
	[[ $output == *"--hold is for a stream (-)"* ]]
	run_status 2 oci-put manifest --hold hold "$REG_HOST/held/c" big
	[[ $output == *"--hold is for blob"* ]]
}

@test "a stream: the upload session is opened and bytes are sent before the stream ends" {
	cd "$BATS_TEST_TMPDIR"
	head -c 6000000 /dev/urandom >first
	head -c 1000000 /dev/urandom >rest
	mkfifo in
	oci-put blob "$REG_HOST/early/a" - <in >out 2>err &
	pid=$!
	exec 7>in
	cat first >&7
	# with the stream still open: the POST answered, and the registry holds bytes of the upload
	uploads=$REG_DIR/data/docker/registry/v2/repositories/early/a/_uploads
	size=0
	for ((i = 0; i < 300 && size == 0; i++)); do
		sleep 0.05
		size=$(cat "$uploads"/*/data 2>/dev/null | wc -c)
	done
	posts=$(registry_requests REG POST '^/v2/early/a/blobs/uploads/$' 202)
	cat rest >&7
	exec 7>&-
	wait "$pid"
	echo "bytes at the registry before the end: $size" >&3
	[ "$posts" = 1 ]
	[ "$size" -gt 0 ]
	cat first rest >all
	[ "$(cat out)" = "$(sha all)" ]
	[ "$(registry_requests REG PATCH '^/v2/early/a/blobs/uploads/')" = 1 ]
	[ "$(registry_requests REG HEAD '^/v2/early/a/')" = 0 ]
	oci-fetch --blob "$(sha all)" "$REG_HOST/early/a" | cmp - all
}

@test "a pushed image reads back through skopeo, digests verified" {
	layout_parts "$FIX/bb"
	run_status 0 oci-put manifest "${blobs[@]/#/--blob=}" "$REG_HOST/img/bb:v1" "$mfile"
	digest=$(sha "$mfile")
	[ "$output" = "$REG_HOST/img/bb@$digest" ]
	[ "$(skopeo inspect --tls-verify=false "docker://$REG_HOST/img/bb:v1" | jq -r .Digest)" = "$digest" ]
	skopeo_p copy -q --src-tls-verify=false "docker://$REG_HOST/img/bb:v1" "oci:$BATS_TEST_TMPDIR/back:v1"
	cmp "$mfile" "$(layout_blob "$BATS_TEST_TMPDIR/back" "$digest")"
}

@test "--cache DIR: the config given as a --blob file kept (its bytes, 0600), and the manifest by its digest, no layer; the next fetch asks only for the manifest" {
	layout_parts "$FIX/bb"
	cache=$BATS_TEST_TMPDIR/cache
	run_status 0 oci-put manifest --cache "$cache" "${blobs[@]/#/--blob=}" "$REG_HOST/img/kept:v1" "$mfile"
	config=$(jq -r .config.digest "$mfile")
	kept=$cache/blobs/sha256/${config#sha256:}
	cmp "$kept" "${blobs[0]}"
	[ "$(stat -c %a "$kept")" = 600 ]
	[ "$(stat -c %a "$cache/blobs/sha256")" = 700 ]
	# the config and the manifest (by its digest): no layer
	cmp "$cache/blobs/sha256/$(sha256sum <"$mfile" | cut -d' ' -f1)" "$mfile"
	[ "$(find "$cache" -type f | wc -l)" = 2 ]
	run_status 0 oci-fetch --cache "$cache" --config "$REG_HOST/img/kept:v1"
	cmp <(printf '%s' "$output") "${blobs[0]}"
	[ "$(registry_requests REG GET "^/v2/img/kept/blobs/$config")" = 0 ]
	# a push found in place (the tag names it already) keeps it too; without --cache, nothing
	rm -r "$cache"
	run_status 0 oci-put manifest --cache "$cache" "${blobs[@]/#/--blob=}" "$REG_HOST/img/kept:v1" "$mfile"
	cmp "$kept" "${blobs[0]}"
	HOME=$BATS_TEST_TMPDIR/home XDG_CACHE_HOME='' run_status 0 oci-put manifest \
		"${blobs[@]/#/--blob=}" "$REG_HOST/img/kept:v2" "$mfile"
	[ ! -e "$BATS_TEST_TMPDIR/home" ]
	run_status 2 oci-put blob --cache "$cache" "$REG_HOST/img/kept" "${blobs[0]}"
	[[ $output == *"--cache and --default-cache are for manifest"* ]]
}

@test "--previous-out FILE --previous-config-out FILE: what DEST's tag named before the run, said on stdout's first line before the manifest is read; none for a new tag" {
	layout_parts "$FIX/bb"
	local d=$BATS_TEST_TMPDIR config
	config=$(jq -r .config.digest "$mfile")
	run_status 0 oci-put manifest "${blobs[@]/#/--blob=}" "$REG_HOST/prev/app:v1" "$mfile"
	# the line comes while the manifest is still awaited on stdin
	mkfifo "$d/in"
	exec {w}<>"$d/in"
	oci-put manifest --previous-out "$d/pm" --previous-config-out "$d/pc" "${blobs[@]/#/--blob=}" \
		"$REG_HOST/prev/app:v1" - <"$d/in" >"$d/out" 2>"$d/err" {w}>&- &
	local pid=$!
	wait_for grep -q . "$d/out"
	[ "$(head -n 1 "$d/out")" = "previous $(sha "$mfile")" ]
	cmp "$d/pm" "$mfile" && cmp "$d/pc" "${blobs[0]}"
	cat "$mfile" >&"$w"
	exec {w}>&-
	wait "$pid"
	[ "$(sed -n 2p "$d/out")" = "$REG_HOST/prev/app@$(sha "$mfile")" ]
	# a new tag: none, no file
	run_status 0 oci-put manifest --previous-out "$d/pm2" --previous-config-out "$d/pc2" \
		"${blobs[@]/#/--blob=}" "$REG_HOST/prev/app:v2" - <"$mfile"
	[ "${lines[0]}" = "previous none" ] && [ ! -e "$d/pm2" ] && [ ! -e "$d/pc2" ]
	# an index at the tag: unknown (the reader asks otherwise)
	push_layout "$FIX/multi" "$REG_HOST/prev/idx:v1"
	run_status 0 oci-put manifest --previous-out "$d/pm3" --previous-config-out "$d/pc3" \
		"${blobs[@]/#/--blob=}" "$REG_HOST/prev/idx:v1" - <"$mfile"
	[ "${lines[0]}" = "previous unknown" ] && [ ! -e "$d/pm3" ]
	# with the cache the push kept, the tag's manifest and config come from there: no GET
	local cache=$d/cache n
	run_status 0 oci-put manifest --cache "$cache" "${blobs[@]/#/--blob=}" "$REG_HOST/prev/c:v1" "$mfile"
	n=$(registry_requests REG GET '^/v2/prev/c/')
	run_status 0 oci-put manifest --cache "$cache" --previous-out "$d/pm4" --previous-config-out "$d/pc4" \
		"${blobs[@]/#/--blob=}" "$REG_HOST/prev/c:v1" - <"$mfile"
	[ "${lines[0]}" = "previous $(sha "$mfile")" ] && cmp "$d/pc4" "${blobs[0]}"
	[ "$(registry_requests REG GET '^/v2/prev/c/')" = "$n" ]
	run_status 2 oci-put manifest --previous-out "$d/x" --previous-config-out "$d/y" "$REG_HOST/prev/app:v1" "$mfile"
	[[ $output == *"--previous-out: DEST a registry's tag, the manifest read from stdin (-)"* ]]
	run_status 2 oci-put manifest --previous-out "$d/x" "$REG_HOST/prev/app:v1" -
	[[ $output == *"--previous-out and --previous-config-out go together"* ]]
}

@test "--cache DIR, an index: each child's config given as a --blob file kept, not the children" {
	idx=$BATS_TEST_TMPDIR/index.json cache=$BATS_TEST_TMPDIR/cache
	oci-fetch --index "oci:$FIX/multi" >"$idx"
	files=() configs=()
	for m in $(jq -r '.manifests[].digest' "$idx"); do
		c=$(jq -r .config.digest "$(layout_blob "$FIX/multi" "$m")")
		configs+=("$c")
		files+=(--blob "$(layout_blob "$FIX/multi" "$m")" --blob "$(layout_blob "$FIX/multi" "$c")")
	done
	run_status 0 oci-put manifest --cache "$cache" --from "oci:$FIX/multi" "${files[@]}" \
		"$REG_HOST/img/kidx:v1" "$idx"
	for c in "${configs[@]}"; do
		cmp "$cache/blobs/sha256/${c#sha256:}" "$(layout_blob "$FIX/multi" "$c")"
	done
	[ "$(find "$cache" -type f | wc -l)" = "$(printf '%s\n' "${configs[@]}" | sort -u | wc -l)" ]
}

@test "a manifest whose blob is missing is refused (exit 66), and nothing is tagged" {
	layout_parts "$FIX/bb"
	run_status 66 oci-put manifest --blob "${blobs[0]}" "$REG_HOST/img/missing:v1" "$mfile"
	missing=$(jq -r '.layers[0].digest' "$mfile")
	[[ $output == *"blob $missing is missing"* ]]
	[ -z "$(reg_tags REG img/missing)" ]
	[ "$(registry_requests REG PUT '^/v2/img/missing/manifests/')" = 0 ]
}

@test "a --tag whose registry refuses the blobs: nothing is tagged anywhere, DEST included" {
	layout_parts "$FIX/bb"
	static_server_start WEB # answers POST (a blob upload) with 501
	run_status 1 oci-put manifest "${blobs[@]/#/--blob=}" --tag "$WEB_HOST/other:v1" \
		"$REG_HOST/img/first:v1" "$mfile"
	[[ $output == *"$WEB_HOST/other:v1: POST blob upload: HTTP 501"* ]]
	# DEST's blobs are there, but its manifest was not PUT: every target's blobs come first
	reg_has_blob REG img/first "$(jq -r .config.digest "$mfile")"
	[ "$(registry_requests REG PUT '^/v2/img/first/manifests/')" = 0 ]
	[ -z "$(reg_tags REG img/first)" ]
}

@test "--from supplies the missing blobs (mounted), --tag adds tags, repositories and layouts" {
	layout_parts "$FIX/bb"
	oci-put manifest "${blobs[@]/#/--blob=}" "$REG_HOST/base/bb:v1" "$mfile" >/dev/null
	run_status 0 oci-put manifest --from "$REG_HOST/base/bb:v1" --tag "$REG_HOST/app/bb:latest" \
		--tag "$REG_HOST/other/bb:x" --tag "oci:$BATS_TEST_TMPDIR/out:y" "$REG_HOST/app/bb:v2" "$mfile"
	digest=$(sha "$mfile")
	[ "${lines[0]}" = "$REG_HOST/app/bb@$digest" ]
	[ "${lines[1]}" = "$REG_HOST/app/bb@$digest" ]
	[ "${lines[2]}" = "$REG_HOST/other/bb@$digest" ]
	[ "${lines[3]}" = "oci:$BATS_TEST_TMPDIR/out@$digest" ]
	# no blob was uploaded into app/bb or other/bb: all mounted
	[ "$(registry_requests REG 'PUT|PATCH' '^/v2/(app|other)/bb/blobs/')" = 0 ]
	[ "$(registry_requests REG POST '^/v2/(app|other)/bb/blobs/uploads/\?mount=' 201)" = $((2 * ${#blobs[@]})) ]
	[ "$(reg_tags REG app/bb | sort | tr '\n' ' ')" = "latest v2 " ]
	[ "$(skopeo inspect "oci:$BATS_TEST_TMPDIR/out:y" | jq -r .Digest)" = "$digest" ]
}

@test "a build's manifest: the new layer HEADed (not mounted), base layers mounted, the config PUT on a session opened with the HEADs, the tag HEADed; TLS tried once" {
	layout_parts "$FIX/bb"
	oci-put manifest "${blobs[@]/#/--blob=}" "$REG_HOST/base/mf:v1" "$mfile" >/dev/null
	# what a build has: a new layer already in the target, a new config, a manifest naming both
	head -c 100000 /dev/urandom >"$BATS_TEST_TMPDIR/layer"
	layer=$(oci-put blob "$REG_HOST/app/mf" "$BATS_TEST_TMPDIR/layer")
	jq -c '.architecture = "amd64" | .history = []' "${blobs[0]}" | tr -d '\n' >"$BATS_TEST_TMPDIR/config"
	jq -c --arg c "$(sha "$BATS_TEST_TMPDIR/config")" --argjson cs "$(stat -c %s "$BATS_TEST_TMPDIR/config")" \
		--arg l "$layer" '.config.digest = $c | .config.size = $cs |
		.layers += [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: 100000}]' \
		"$mfile" | tr -d '\n' >"$BATS_TEST_TMPDIR/m.json"
	posts=$(registry_requests REG POST '^/v2/app/mf/blobs/uploads/$')
	run_status 0 oci-put -v manifest --from "$REG_HOST/base/mf:v1" --blob "$BATS_TEST_TMPDIR/config" \
		"$REG_HOST/app/mf:v1" "$BATS_TEST_TMPDIR/m.json"
	[[ $output == *"$REG_HOST/app/mf@$(sha "$BATS_TEST_TMPDIR/m.json")"* ]]
	[ "$(grep -c 'does not speak TLS' <<<"$output")" = 1 ]
	[ "$(grep -c '(no response: ' <<<"$output")" = 1 ]
	[ "$(registry_requests REG HEAD "^/v2/app/mf/blobs/$layer" 200)" = 1 ]
	[ "$(registry_requests REG POST "^/v2/app/mf/blobs/uploads/\\?mount=$layer")" = 0 ]
	base_layers=$(jq '.layers | length' "$mfile")
	[ "$(registry_requests REG POST '^/v2/app/mf/blobs/uploads/\?mount=' 201)" = "$base_layers" ]
	[ "$(registry_requests REG POST '^/v2/app/mf/blobs/uploads/$' 202)" = $((posts + 1)) ]
	[ "$(registry_requests REG PUT "^/v2/app/mf/blobs/uploads/.*digest=$(sha "$BATS_TEST_TMPDIR/config")" 201)" = 1 ]
	[ "$(registry_requests REG HEAD '^/v2/app/mf/manifests/v1$' 404)" = 1 ]
	[ "$(registry_requests REG PATCH '^/v2/app/mf/')" = 0 ]
	skopeo_p inspect --tls-verify=false "docker://$REG_HOST/app/mf:v1" >/dev/null
}

@test "a manifest on stdin to a new repository: its tag HEADed, the base's layers mounted and the config's session opened before it comes; none HEADed after; a tag naming it already: nothing more sent" {
	layout_parts "$FIX/bb"
	oci-put manifest "${blobs[@]/#/--blob=}" "$REG_HOST/base/st:v1" "$mfile" >/dev/null
	jq -c '.config.Labels.early = "yes"' "${blobs[0]}" | tr -d '\n' >"$BATS_TEST_TMPDIR/c"
	jq -c --arg c "$(sha "$BATS_TEST_TMPDIR/c")" --argjson cs "$(stat -c %s "$BATS_TEST_TMPDIR/c")" \
		'.config.digest = $c | .config.size = $cs' "$mfile" | tr -d '\n' >"$BATS_TEST_TMPDIR/m.json"
	d=$(sha "$BATS_TEST_TMPDIR/m.json")
	mapfile -t layers < <(jq -r '.layers[].digest' "$mfile")
	tag_heads() { registry_requests REG HEAD '^/v2/early/st/manifests/v1$'; }
	mounts() { registry_requests REG POST '^/v2/early/st/blobs/uploads/\?mount=.*&from=base%2Fst$' 201; }
	# the writer waits for the tag's HEAD (and, when the tag is absent, for the base's layers'
	# mounts), then makes the config (absent when oci-put started) and writes the manifest
	late() {
		local i
		for ((i = 0; i < 100; i++)); do
			[ "$(tag_heads)" -lt "$1" ] || [ "$(mounts)" -lt "$2" ] || break
			sleep 0.05
		done
		tag_heads >"$BATS_TEST_TMPDIR/heads-before"
		mounts >"$BATS_TEST_TMPDIR/mounts-before"
		registry_requests REG '.*' '^/v2/early/st/(blobs|manifests/[^v])' >"$BATS_TEST_TMPDIR/others-before"
		cp "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/config"
		cat "$BATS_TEST_TMPDIR/m.json"
	}
	late 1 ${#layers[@]} | oci-put manifest --from "$REG_HOST/base/st:v1" --blob "$BATS_TEST_TMPDIR/config" \
		"$REG_HOST/early/st:v1" - >"$BATS_TEST_TMPDIR/out"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$REG_HOST/early/st@$d" ]
	[ "$(cat "$BATS_TEST_TMPDIR/heads-before")" = 1 ]
	# before the manifest: the base's layers mounted, the config's session opened (nothing else)
	[ "$(cat "$BATS_TEST_TMPDIR/mounts-before")" = ${#layers[@]} ]
	[ "$(cat "$BATS_TEST_TMPDIR/others-before")" = $((${#layers[@]} + 1)) ]
	[ "$(registry_requests REG GET '^/v2/base/st/manifests/v1$' 200)" = 1 ]
	# after it: no HEAD of the mounted layers (nor of the config, PUT at once on its session)
	for l in "${layers[@]}"; do
		[ "$(registry_requests REG HEAD "^/v2/early/st/blobs/$l$")" = 0 ]
	done
	[ "$(registry_requests REG HEAD '^/v2/early/st/blobs/')" = 0 ]
	[ "$(registry_requests REG POST '^/v2/early/st/blobs/uploads/$' 202)" = 1 ]
	[ "$(registry_requests REG PUT "^/v2/early/st/blobs/uploads/.*digest=$(sha "$BATS_TEST_TMPDIR/c")" 201)" = 1 ]
	[ "$(registry_requests REG DELETE '^/v2/early/st/')" = 0 ]
	[ "$(tag_heads)" = 1 ] # not HEADed again with the blobs
	[ "$(registry_requests REG PUT '^/v2/early/st/manifests/v1$' 201)" = 1 ]
	# the image, fetched back: the manifest's bytes, and every blob (digests verified)
	[ "$(oci-fetch --digest "$REG_HOST/early/st:v1")" = "$d" ]
	[ "$(oci-fetch "$REG_HOST/early/st:v1")" = "$(cat "$BATS_TEST_TMPDIR/m.json")" ]
	skopeo_p copy -q --src-tls-verify=false "docker://$REG_HOST/early/st:v1" "oci:$BATS_TEST_TMPDIR/back:x"
	[ "$(jq -r '.config.digest' "$BATS_TEST_TMPDIR/m.json")" = "$(sha "$BATS_TEST_TMPDIR/c")" ]
	for l in "${layers[@]}" "$(sha "$BATS_TEST_TMPDIR/c")"; do
		[ "$(sha "$BATS_TEST_TMPDIR/back/blobs/sha256/${l#sha256:}")" = "$l" ]
	done
	# again, the tag naming the manifest: its HEAD alone (no blob HEAD, no session, no DELETE)
	before=$(registry_requests REG '.*' '^/v2/early/st/')
	sent=$(registry_requests REG 'POST|DELETE|PUT|PATCH' '^/v2/early/st/')
	rm "$BATS_TEST_TMPDIR/config"
	late 2 0 | oci-put manifest --from "$REG_HOST/base/st:v1" --blob "$BATS_TEST_TMPDIR/config" \
		"$REG_HOST/early/st:v1" - >"$BATS_TEST_TMPDIR/out"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$REG_HOST/early/st@$d" ]
	[ "$(registry_requests REG '.*' '^/v2/early/st/')" = $((before + 1)) ]
	[ "$(tag_heads)" = 2 ]
	[ "$(registry_requests REG 'POST|DELETE|PUT|PATCH' '^/v2/early/st/')" = "$sent" ]
	[ "$(registry_requests REG DELETE '^/v2/early/st/')" = 0 ]
	[ "$(registry_requests REG GET '^/v2/base/st/manifests/')" = 1 ] # the base not fetched
	# the same manifest as a FILE: the tag HEADed with the blobs, the speculative session
	# cancelled (today's order, no round before the manifest is read)
	run_status 0 oci-put manifest --from "$REG_HOST/base/st:v1" --blob "$BATS_TEST_TMPDIR/config" \
		"$REG_HOST/early/st:v1" "$BATS_TEST_TMPDIR/m.json"
	[ "$(tag_heads)" = 3 ]
	[ "$(registry_requests REG DELETE '^/v2/early/st/blobs/uploads/')" = 1 ]
}

@test "a manifest on stdin to a new repository whose first --from is another image: that image's layers mounted early, the manifest's found in the next --from, the image complete" {
	layout_parts "$FIX/bb"
	oci-put manifest "${blobs[@]/#/--blob=}" "$REG_HOST/mis/real:v1" "$mfile" >/dev/null
	# another image: a config and one layer of its own
	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$BATS_TEST_TMPDIR/oc"
	jq -nc --arg c "$(sha "$BATS_TEST_TMPDIR/oc")" --argjson cs "$(stat -c %s "$BATS_TEST_TMPDIR/oc")" \
		--arg l "$(sha "$FIX/rand")" --argjson ls "$(stat -c %s "$FIX/rand")" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' \
		>"$BATS_TEST_TMPDIR/om.json"
	oci-put manifest --blob "$BATS_TEST_TMPDIR/oc" --blob "$FIX/rand" "$REG_HOST/mis/other:v1" \
		"$BATS_TEST_TMPDIR/om.json" >/dev/null
	{ sleep 0.5; cat "$mfile"; } | oci-put manifest --from "$REG_HOST/mis/other:v1" --from "$REG_HOST/mis/real:v1" \
		--blob "${blobs[0]}" "$REG_HOST/mis/dst:v1" - >"$BATS_TEST_TMPDIR/out"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$REG_HOST/mis/dst@$(sha "$mfile")" ]
	[ "$(registry_requests REG POST "^/v2/mis/dst/blobs/uploads/\\?mount=$(sha "$FIX/rand")&from=mis%2Fother$" 201)" = 1 ]
	for l in $(jq -r '.layers[].digest' "$mfile"); do
		[ "$(registry_requests REG POST "^/v2/mis/dst/blobs/uploads/\\?mount=$l&from=mis%2Freal$" 201)" = 1 ]
	done
	skopeo_p copy -q --src-tls-verify=false "docker://$REG_HOST/mis/dst:v1" "oci:$BATS_TEST_TMPDIR/back:x"
	for l in $(jq -r '.config.digest, .layers[].digest' "$mfile"); do
		[ "$(sha "$BATS_TEST_TMPDIR/back/blobs/sha256/${l#sha256:}")" = "$l" ]
	done
}

@test "a manifest on stdin that never comes (empty stdin): exit 1, nothing put" {
	run_status 1 oci-put manifest --tag "$REG_HOST/empty/st:v2" "$REG_HOST/empty/st:v1" - </dev/null
	[[ $output == *"stdin: empty: no manifest to put"* ]]
	[ "$(registry_requests REG HEAD '^/v2/empty/st/manifests/v[12]$' 404)" = 2 ]
	[ "$(registry_requests REG '.*' '^/v2/empty/st/')" = 2 ]
}

@test "an index into an OCI layout: its children and their blobs stored, index.json naming the index, rewritten once" {
	idx=$BATS_TEST_TMPDIR/index.json out=$BATS_TEST_TMPDIR/lay
	oci-fetch --index "oci:$FIX/multi" >"$idx"
	# (LeakSanitizer cannot run under ptrace: off for this run of a sanitized build)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=rename,renameat,renameat2 -o "$BATS_TEST_TMPDIR/trace" \
		oci-put manifest --from "oci:$FIX/multi" "oci:$out:v1" "$idx"
	# the new layout's empty index.json, then the run's one rewrite (not one per child)
	[ "$(grep -c "\"$out/index.json\"" "$BATS_TEST_TMPDIR/trace")" = 2 ]
	# the tagged index alone: its children are blobs it reaches, not index.json entries (as
	# docker save writes a multi-platform image)
	[ "$(jq -c '[.manifests[] | [.digest, .annotations["org.opencontainers.image.ref.name"]]]' "$out/index.json")" = \
		"[[\"$(sha "$idx")\",\"v1\"]]" ]
	for d in $(jq -r '.manifests[].digest' "$idx"); do
		[ -f "$out/blobs/sha256/${d#sha256:}" ]
	done
	run_status 0 oci-fetch --platform linux/arm64 --config "oci:$out:v1"
	[ "$(jq -r .architecture <<<"$output")" = arm64 ]
	skopeo_p copy -q --all "oci:$out:v1" "oci:$BATS_TEST_TMPDIR/copy:v1"
}

@test "--name REF: a layout DEST names the image by each reference's tag, once per tag" {
	layout_parts "$FIX/bb"
	out=$BATS_TEST_TMPDIR/lay
	run_status 0 oci-put manifest --from "oci:$FIX/bb" --name ex.org/a:v1 --name busybox \
		--name ex.org/b:v1 "oci:$out" "$mfile"
	[ "$output" = "oci:$out@$(sha "$mfile")" ]
	[ "$(jq -c '[.manifests[] | [.digest, .annotations]]' "$out/index.json")" = \
		"[[\"$(sha "$mfile")\",{\"org.opencontainers.image.ref.name\":\"v1\"}],[\"$(sha "$mfile")\",{\"org.opencontainers.image.ref.name\":\"latest\"}]]" ]
	[ "$(skopeo inspect "oci:$out:latest" | jq -r .Digest)" = "$(sha "$mfile")" ]
	[ ! -e "$out/manifest.json" ]
	run_status 2 oci-put manifest --name ex.org/a:v1 "oci:$out:v2" "$mfile"
	[[ $output == *"names are for a layout DEST without a tag"* ]]
	run_status 2 oci-put manifest --name ex.org/a:v1 "$REG_HOST/x/y" "$mfile"
	run_status 2 oci-put manifest --name "ex.org/a@$(sha "$mfile")" "oci:$out" "$mfile"
	[[ $output == *"not an image reference with a tag"* ]]
	run_status 2 oci-put manifest --docker-save "oci:$out" "$mfile"
}

@test "--name REF --docker-save: docker save's index.json and manifest.json, which skopeo's docker-archive reads" {
	layout_parts "$FIX/bb"
	out=$BATS_TEST_TMPDIR/lay
	run_status 0 oci-put manifest --from "oci:$FIX/bb" --docker-save --name ex.org/a:v1 --name busybox \
		"oci:$out" "$mfile"
	d=$(sha "$mfile")
	[ "$(jq -c '[.manifests[] | [.digest, .annotations]]' "$out/index.json")" = \
		"[[\"$d\",{\"io.containerd.image.name\":\"ex.org/a:v1\",\"org.opencontainers.image.ref.name\":\"v1\"}],[\"$d\",{\"io.containerd.image.name\":\"docker.io/library/busybox:latest\",\"org.opencontainers.image.ref.name\":\"latest\"}]]" ]
	jq -c '[{Config: ("blobs/sha256/" + .config.digest[7:]), RepoTags: ["ex.org/a:v1", "docker.io/library/busybox:latest"],
		Layers: [.layers[].digest | "blobs/sha256/" + .[7:]]}]' "$mfile" | cmp - "$out/manifest.json"
	tail -c1 "$out/index.json" | od -c | grep -q '\\n'
	(cd "$out" && tar -cf "$BATS_TEST_TMPDIR/img.tar" oci-layout index.json manifest.json blobs)
	skopeo_p copy -q "docker-archive:$BATS_TEST_TMPDIR/img.tar" "oci:$BATS_TEST_TMPDIR/da:x"
	[ "$(oci-fetch "oci:$BATS_TEST_TMPDIR/da:x" | jq -r .config.digest)" = "$(jq -r .config.digest "$mfile")" ]
	# an index: docker save's index.json naming it; no manifest.json (it holds one image)
	out=$BATS_TEST_TMPDIR/lay2
	oci-fetch --index "oci:$FIX/multi" >"$BATS_TEST_TMPDIR/idx"
	run_status 0 oci-put manifest --from "oci:$FIX/multi" --docker-save --name ex.org/a:v1 "oci:$out" \
		"$BATS_TEST_TMPDIR/idx"
	[ "$(jq -c '[.manifests[] | [.digest, .annotations]]' "$out/index.json")" = \
		"[[\"$(sha "$BATS_TEST_TMPDIR/idx")\",{\"io.containerd.image.name\":\"ex.org/a:v1\",\"org.opencontainers.image.ref.name\":\"v1\"}]]" ]
	[ ! -e "$out/manifest.json" ]
}

@test "an OCI layout as destination: skopeo and umoci read it" {
	layout_parts "$FIX/bb"
	out=$BATS_TEST_TMPDIR/lay
	run_status 0 oci-put blob "oci:$out" "${blobs[@]}"
	run_status 0 oci-put manifest "oci:$out:v1" "$mfile"
	[ "$output" = "oci:$out@$(sha "$mfile")" ]
	[ "$(skopeo inspect "oci:$out:v1" | jq -r .Digest)" = "$(sha "$mfile")" ]
	umoci unpack --rootless --image "$out:v1" "$BATS_TEST_TMPDIR/bundle" >/dev/null
	[ -x "$BATS_TEST_TMPDIR/bundle/rootfs/bin/busybox" ]
	# and pushed on from there into a registry
	run_status 0 oci-put manifest --from "oci:$out" "$REG_HOST/fromlayout/bb:v1" "$mfile"
	[ "$(skopeo inspect --tls-verify=false "docker://$REG_HOST/fromlayout/bb:v1" | jq -r .Digest)" = "$(sha "$mfile")" ]
}

@test "a multi-platform index: children and their blobs copied from a layout, skopeo copies --all" {
	idx=$BATS_TEST_TMPDIR/index.json
	oci-fetch --index "oci:$FIX/multi" >"$idx"
	run_status 0 oci-put manifest --from "oci:$FIX/multi" "$REG_HOST/multi/pushed:v1" "$idx"
	[ "$output" = "$REG_HOST/multi/pushed@$(sha "$idx")" ]
	skopeo_p copy -q --all --src-tls-verify=false "docker://$REG_HOST/multi/pushed:v1" \
		"oci:$BATS_TEST_TMPDIR/all:v1"
	run_status 0 oci-fetch --platform linux/arm64 --config "oci:$BATS_TEST_TMPDIR/all:v1"
	[ "$(jq -r .architecture <<<"$output")" = arm64 ]
	run_status 0 oci-fetch --platform linux/arm64 --digest "$REG_HOST/multi/pushed:v1"
	[ "$output" = "$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' "$idx")" ]
}

@test "manifests that are not JSON, too large, or not manifests are refused before any request (but the tag's HEAD of one on stdin)" {
	cd "$BATS_TEST_TMPDIR"
	printf 'nope' >bad.json
	run_status 1 oci-put manifest "$REG_HOST/bad/m:v1" bad.json
	[[ $output == *"bad.json: manifest is not a JSON object"* ]]
	head -c 5000000 /dev/zero | tr '\0' ' ' >huge.json
	run_status 1 oci-put manifest "$REG_HOST/bad/m:v1" - <huge.json
	[[ $output == *"manifest larger than 4194304 bytes"* ]]
	echo '{"hello":1}' >other.json
	run_status 1 oci-put manifest "$REG_HOST/bad/m:v1" other.json
	[[ $output == *"not an image manifest or index"* ]]
	[ "$(registry_requests REG HEAD '^/v2/bad/m/manifests/v1$')" = 1 ]
	[ "$(registry_requests REG '.*' '^/v2/bad/')" = 1 ]
	run_status 2 oci-put manifest "$REG_HOST/bad/m@sha256:$(printf %064d 0)" other.json
	run_status 2 oci-put blob
	run_status 2 oci-put frob "$REG_HOST/x" bad.json
	run_status 2 oci-put blob "$REG_HOST/x" - -
}
