#!/usr/bin/env bats
# oci-fetch against a real registry (plain HTTP) and OCI layouts; images pushed by skopeo.
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra

setup_file() {
	registry_start REG plain
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_busybox_layout "$FIX/bb" oci
	make_busybox_layout "$FIX/bbd" docker
	make_multiarch_layout "$FIX/multi"
	push_layout "$FIX/bb" "$REG_HOST/single/busybox:v1" REG
	push_layout "$FIX/bbd" "$REG_HOST/docker/busybox:v1" REG
	push_layout "$FIX/multi" "$REG_HOST/multi/app:v1" REG
}

teardown_file() {
	registry_stop_all
}

@test "the manifest is the bytes the registry serves, and --digest their digest" {
	run_status 0 oci-fetch "$REG_HOST/single/busybox:v1"
	want=$(skopeo inspect --raw --tls-verify=false "docker://$REG_HOST/single/busybox:v1")
	[ "$output" = "$want" ]
	run_status 0 oci-fetch --digest "$REG_HOST/single/busybox:v1"
	[ "$output" = "$(skopeo inspect --tls-verify=false "docker://$REG_HOST/single/busybox:v1" | jq -r .Digest)" ]
	[ "$output" = "sha256:$(printf '%s' "$want" | sha256sum | cut -d' ' -f1)" ]
}

@test "an index resolves to the platform asked for, and to this machine's by default" {
	run_status 0 oci-fetch --platform linux/arm64 --config "$REG_HOST/multi/app:v1"
	[ "$(jq -r .architecture <<<"$output")" = arm64 ]
	run_status 0 oci-fetch --platform linux/arm64/v8 --digest "$REG_HOST/multi/app:v1"
	arm=$output
	run_status 0 oci-fetch --platform linux/amd64 --digest "$REG_HOST/multi/app:v1"
	amd=$output
	[ "$arm" != "$amd" ]
	# the digests are the index's entries for those platforms
	index=$(skopeo inspect --raw --tls-verify=false "docker://$REG_HOST/multi/app:v1")
	[ "$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' <<<"$index")" = "$arm" ]
	[ "$(jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest' <<<"$index")" = "$amd" ]
	if [ "$(uname -m)" = x86_64 ]; then
		run_status 0 oci-fetch --digest "$REG_HOST/multi/app:v1"
		[ "$output" = "$amd" ]
	fi
	# and the manifest itself verifies against that digest
	run_status 0 oci-fetch --platform linux/arm64 "$REG_HOST/multi/app:v1"
	[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$arm" ]
}

@test "no matching platform: exit 1, listing the platforms the index has" {
	run_status 1 oci-fetch --platform linux/s390x "$REG_HOST/multi/app:v1"
	[[ $output == *"no manifest for platform linux/s390x"*"linux/amd64"*"linux/arm64/v8"* ]]
}

@test "--index prints the index unresolved" {
	run_status 0 oci-fetch --index "$REG_HOST/multi/app:v1"
	[ "$(jq -r .mediaType <<<"$output")" = application/vnd.oci.image.index.v1+json ]
	[ "$output" = "$(skopeo inspect --raw --tls-verify=false "docker://$REG_HOST/multi/app:v1")" ]
}

@test "manifest, config and digest in one run, each file written" {
	cd "$BATS_TEST_TMPDIR"
	run_status 0 oci-fetch -v --platform linux/amd64 --manifest-out m.json --config-out c.json \
		--digest-out d "$REG_HOST/multi/app:v1"
	[ "$(cat d)" = "sha256:$(sha256sum <m.json | cut -d' ' -f1)" ]
	[ "$(jq -r .config.digest m.json)" = "sha256:$(sha256sum <c.json | cut -d' ' -f1)" ]
	[ "$(jq -r .architecture c.json)" = amd64 ]
	# index, manifest, config: three GETs in that one run
	[[ $output == *"3 requests"* ]] || [[ $output == *"4 requests"* ]]
}

@test "a Docker schema 2 image: its manifest and config" {
	run_status 0 oci-fetch "$REG_HOST/docker/busybox:v1"
	[ "$(jq -r .mediaType <<<"$output")" = application/vnd.docker.distribution.manifest.v2+json ]
	run_status 0 oci-fetch --config "$REG_HOST/docker/busybox:v1"
	[ "$(jq -r .os <<<"$output")" = linux ]
}

@test "--blob streams a layer, verified, to stdout or -o" {
	cd "$BATS_TEST_TMPDIR"
	layer=$(oci-fetch "$REG_HOST/single/busybox:v1" | jq -r '.layers[0].digest')
	oci-fetch --blob "$layer" "$REG_HOST/single/busybox:v1" | tar -tzf - >list
	grep -qx 'bin/busybox' list
	run_status 0 oci-fetch --blob "$layer" -o layer "$REG_HOST/single/busybox"
	[ "sha256:$(sha256sum <layer | cut -d' ' -f1)" = "$layer" ]
}

@test "an OCI layout reads like a registry: manifest, config, blob" {
	run_status 0 oci-fetch --digest "oci:$FIX/bb"
	digest=$output
	[ "$digest" = "$(oci-fetch --digest "$REG_HOST/single/busybox:v1")" ]
	run_status 0 oci-fetch --config "oci:$FIX/bb@$digest"
	[ "$(jq -r .os <<<"$output")" = linux ]
	run_status 0 oci-fetch --platform linux/arm64 --config "oci:$FIX/multi"
	[ "$(jq -r .architecture <<<"$output")" = arm64 ]
	# what skopeo copies into a layout with a tag
	skopeo_p copy -q --src-tls-verify=false "docker://$REG_HOST/single/busybox:v1" \
		"oci:$BATS_TEST_TMPDIR/sk:v1"
	run_status 0 oci-fetch --digest "oci:$BATS_TEST_TMPDIR/sk:v1"
	[ "$output" = "$digest" ]
	run_status 1 oci-fetch "oci:$BATS_TEST_TMPDIR/sk:nope"
	[[ $output == *'no tag "nope"'*"it has: v1"* ]]
}

@test "unknown tag: exit 1 with the registry's error code" {
	run_status 1 oci-fetch "$REG_HOST/single/busybox:nope"
	[ "$output" = "oci-fetch: $REG_HOST/single/busybox:nope: HTTP 404 MANIFEST_UNKNOWN: manifest unknown" ]
	run_status 1 oci-fetch --blob "sha256:$(printf %064d 1)" "$REG_HOST/no/such/repo"
	[[ $output == *"HTTP 404 BLOB_UNKNOWN: blob unknown to registry"* ]]
}

@test "malformed references: exit 2 saying why" {
	run_status 2 oci-fetch 'Busybox:v1'
	[[ $output == *"Busybox:v1: invalid reference: repository name must be lowercase"* ]]
	run_status 2 oci-fetch "$REG_HOST/a:b:c"
	[[ $output == *"invalid"* ]]
	run_status 2 oci-fetch "$REG_HOST/a@sha256:1234"
	[[ $output == *'invalid sha256 digest "sha256:1234"'* ]]
	run_status 2 oci-fetch --blob nope "$REG_HOST/a"
	run_status 2 oci-fetch --platform linux "$REG_HOST/a"
	run_status 2 oci-fetch --index --config "$REG_HOST/a"
}

@test "unknown host: exit 1 naming it" {
	run_status 1 oci-fetch nosuchhost.invalid/a/b:1
	[[ $output == *"nosuchhost.invalid/a/b:1"*"Could not resolve host: nosuchhost.invalid"* ]]
}

@test "a manifest that is not JSON or larger than 4 MiB is refused" {
	cd "$BATS_TEST_TMPDIR"
	cp -r "$FIX/bb" bad
	m=$(jq -r '.manifests[0].digest' bad/index.json)
	printf 'this is not json' >junk
	j=sha256:$(sha256sum <junk | cut -d' ' -f1)
	cp junk "$(layout_blob bad "$j")"
	jq --arg d "$j" '.manifests[0].digest = $d | .manifests[0].size = 16' bad/index.json >i && mv i bad/index.json
	run_status 1 oci-fetch oci:bad
	[[ $output == *"manifest is not a JSON object"* ]]
	# the same from a server (a registry refuses to store either)
	static_server_start WEB
	mkdir -p "$WEB_ROOT/v2/x/manifests"
	cp junk "$WEB_ROOT/v2/x/manifests/junk"
	run_status 1 oci-fetch "$WEB_HOST/x:junk"
	[[ $output == *"$WEB_HOST/x:junk: manifest is not a JSON object"* ]]
	# > 4 MiB: a valid manifest padded with an annotation
	head -c 3300000 /dev/zero | base64 -w0 >pad
	oci-fetch "$REG_HOST/single/busybox:v1" | jq -c --rawfile pad pad '.annotations.pad = $pad' >big.json
	[ "$(stat -c %s big.json)" -gt 4194304 ]
	cp big.json "$WEB_ROOT/v2/x/manifests/big"
	run_status 1 oci-fetch "$WEB_HOST/x:big"
	[ "$output" = "oci-fetch: $WEB_HOST/x:big: manifest larger than 4194304 bytes (4 MiB, the distribution spec's limit)" ]
	cp big.json "$(layout_blob bad "$m")"
	jq --arg d "$m" '.manifests[0].digest = $d' bad/index.json >i && mv i bad/index.json
	run_status 1 oci-fetch oci:bad
	[[ $output == *"manifest larger than 4194304 bytes"* ]]
}

@test "bytes that do not match their digest: exit 1, and no -o file" {
	cd "$BATS_TEST_TMPDIR"
	# a blob altered in the registry's own storage: the registry serves other bytes
	cfg=$(oci-fetch "$REG_HOST/docker/busybox:v1" | jq -r .config.digest)
	data=$(reg_blob_data REG "$cfg")
	[ -f "$data" ]
	cp "$data" saved
	sed -i 's/linux/LINUX/' "$data"
	run_status 1 oci-fetch --config "$REG_HOST/docker/busybox:v1"
	cp saved "$data"
	[[ $output == *"blob $cfg: digest mismatch"* ]]
	# a layout blob altered on disk
	cp -r "$FIX/bb" alt
	layer=$(oci-fetch oci:alt | jq -r '.layers[0].digest')
	printf 'x' >>"$(layout_blob alt "$layer")"
	run_status 1 oci-fetch --blob "$layer" -o out oci:alt
	[[ $output == *"digest mismatch"* ]]
	[ ! -e out ]
	[ -z "$(find . -maxdepth 1 -name 'out*')" ]
}

@test "a blob redirected to a storage host: followed, no Authorization there, signature redacted" {
	cd "$BATS_TEST_TMPDIR"
	layer=$(oci-fetch "oci:$FIX/bb" | jq -r '.layers[0].digest')
	blob_server_start BS "$FIX/bb/blobs/sha256"
	mkdir dc
	printf '{"auths":{"%s":{"username":"u","password":"pw"}}}' "$BS_HOST" >dc/config.json
	DOCKER_CONFIG=$PWD/dc run_status 0 oci-fetch -v --blob "$layer" -o layer "$BS_HOST/some/repo"
	cmp layer "$(layout_blob "$FIX/bb" "$layer")"
	grep -q "^GET /v2/some/repo/blobs/$layer auth=yes" "$BS_LOG"
	grep -q "^GET /storage/$layer auth=no" "$BS_LOG"
	if grep -q "^GET /storage/.* auth=yes" "$BS_LOG"; then false; fi
	[[ $output == *"X-Amz-Signature=<redacted>"* ]]
	[[ $output != *s3cr3t-sig* ]]
}

@test "a blob download cut off midway resumes with a Range request" {
	cd "$BATS_TEST_TMPDIR"
	layer=$(oci-fetch "oci:$FIX/bb" | jq -r '.layers[0].digest')
	blob_server_start CUT "$FIX/bb/blobs/sha256" --cut-once 100000
	mkdir dc
	printf '{"auths":{"%s":{"username":"u","password":"pw"}}}' "$CUT_HOST" >dc/config.json
	DOCKER_CONFIG=$PWD/dc run_status 0 oci-fetch --blob "$layer" -o layer "$CUT_HOST/some/repo"
	cmp layer "$(layout_blob "$FIX/bb" "$layer")"
	grep -q "^GET /storage/$layer auth=no range=bytes=100000-" "$CUT_LOG"
}

@test "a manifest without Docker-Content-Digest: the digest is the body's" {
	static_server_start WEB2
	mkdir -p "$WEB2_ROOT/v2/x/manifests"
	oci-fetch "$REG_HOST/single/busybox:v1" >"$WEB2_ROOT/v2/x/manifests/v1"
	run_status 0 oci-fetch --digest "$WEB2_HOST/x:v1"
	[ "$output" = "$(oci-fetch --digest "$REG_HOST/single/busybox:v1")" ]
}

# GETs registry REG logged of a URI matching $1 (an awk ERE).
gets() { registry_requests REG GET "$1"; }

@test "--cache DIR: an index's platform manifest and config kept by digest; the next fetch asks only for the index by its tag" {
	cd "$BATS_TEST_TMPDIR"
	local c=$PWD/cache man cfg i0 m0 c0
	run_status 0 oci-fetch --cache "$c" --platform linux/arm64 --manifest-out m1 \
		--config-out c1 --digest-out d1 "$REG_HOST/multi/app:v1"
	man=$(cat d1) cfg=$(jq -r .config.digest m1)
	cmp m1 "$c/blobs/sha256/${man#sha256:}"
	cmp c1 "$c/blobs/sha256/${cfg#sha256:}"
	# the two documents asked by digest, each private to the user; the index (a tag) is not kept
	[ "$(find "$c" -type f | wc -l)" -eq 2 ]
	[ "$(stat -c %a "$c/blobs/sha256/${cfg#sha256:}")" = 600 ]
	[ "$(stat -c %a "$c/blobs")" = 700 ]
	i0=$(gets '^/v2/multi/app/manifests/v1$') m0=$(gets "/manifests/$man") c0=$(gets "/blobs/$cfg")
	run_status 0 oci-fetch --cache "$c" --platform linux/arm64 -o m2 \
		--config-out c2 --digest-out d2 "$REG_HOST/multi/app:v1"
	cmp m1 m2 && cmp c1 c2 && cmp d1 d2
	[ -z "$output" ]
	[ "$(gets '^/v2/multi/app/manifests/v1$')" -eq $((i0 + 1)) ]
	[ "$(gets "/manifests/$man")" -eq "$m0" ] && [ "$(gets "/blobs/$cfg")" -eq "$c0" ]
	# --each goes through it too; without --cache both are asked again
	mkdir each
	run_status 0 oci-fetch --cache "$c" --platform linux/arm64 --each each "$REG_HOST/multi/app:v1"
	cmp m1 each/1.json && cmp c1 each/1.config.json
	[ "$(gets "/manifests/$man")" -eq "$m0" ] && [ "$(gets "/blobs/$cfg")" -eq "$c0" ]
	run_status 0 oci-fetch --platform linux/arm64 --config "$REG_HOST/multi/app:v1"
	[ "$(gets "/manifests/$man")" -eq $((m0 + 1)) ] && [ "$(gets "/blobs/$cfg")" -eq $((c0 + 1)) ]
	# four fetches at once on an empty cache: each right, the cache whole, no temporary left
	for i in 1 2 3 4; do
		oci-fetch --cache "$PWD/shared" --platform linux/arm64 --config-out "s$i" \
			"$REG_HOST/multi/app:v1" >/dev/null 2>"e$i" &
	done
	wait
	for i in 1 2 3 4; do cmp c1 "s$i" && [ ! -s "e$i" ]; done
	cmp c1 "shared/blobs/sha256/${cfg#sha256:}"
	[ "$(find shared -type f | wc -l)" -eq 2 ]
}

@test "--cache DIR: a manifest named by digest is kept, one named by a tag never (always asked)" {
	cd "$BATS_TEST_TMPDIR"
	local c=$PWD/cache digest n
	digest=$(oci-fetch --digest "$REG_HOST/single/busybox:v1")
	run_status 0 oci-fetch --cache "$c" "$REG_HOST/single/busybox:v1"
	[ ! -e "$c/blobs/sha256/${digest#sha256:}" ]
	run_status 0 oci-fetch --cache "$c" -o m1 "$REG_HOST/single/busybox@$digest"
	cmp m1 "$c/blobs/sha256/${digest#sha256:}"
	n=$(gets "^/v2/single/busybox/manifests/$digest\$")
	run_status 0 oci-fetch --cache "$c" -o m2 "$REG_HOST/single/busybox@$digest"
	cmp m1 m2
	[ "$(gets "^/v2/single/busybox/manifests/$digest\$")" -eq "$n" ]
	# a layer (--blob) is never kept
	layer=$(jq -r '.layers[0].digest' m1)
	run_status 0 oci-fetch --cache "$c" --blob "$layer" -o layer "$REG_HOST/single/busybox:v1"
	[ ! -e "$c/blobs/sha256/${layer#sha256:}" ]
	# an OCI layout's documents are on disk already: nothing kept
	run_status 0 oci-fetch --cache "$PWD/lc" --config "oci:$FIX/bb"
	[ ! -e lc ]
}

@test "--cache DIR: a damaged cached document (bytes changed, truncated, grown, not a file) is ignored with a warning naming it, fetched again and replaced" {
	cd "$BATS_TEST_TMPDIR"
	local c=$PWD/cache man cfg f damage why
	run_status 0 oci-fetch --cache "$c" --platform linux/amd64 --manifest-out m \
		--config-out want --digest-out d "$REG_HOST/multi/app:v1"
	man=$(cat d) cfg=$(jq -r .config.digest m)
	f=$c/blobs/sha256/${cfg#sha256:}
	for damage in changed truncated grown; do
		case $damage in
		changed) sed 's/amd64/AMD64/' want >"$f" ;;
		truncated) head -c 20 want >"$f" ;;
		grown) { cat want && echo; } >"$f" ;;
		esac
		! cmp -s want "$f"
		if [ $damage = changed ]; then
			why="its bytes hash to sha256:$(sha256sum <"$f" | cut -d' ' -f1)"
		else
			why="$(stat -c %s "$f") bytes, not the $(stat -c %s want) its descriptor says"
		fi
		run_status 0 oci-fetch --cache "$c" --platform linux/amd64 --config "$REG_HOST/multi/app:v1"
		[ "$output" = "oci-fetch: $f: cached document ignored ($why): fetched again
$(cat want)" ]
		cmp want "$f" # replaced by the right bytes
	done
	# the platform's manifest likewise
	printf '{}' >"$c/blobs/sha256/${man#sha256:}"
	run_status 0 oci-fetch --cache "$c" --platform linux/amd64 --digest "$REG_HOST/multi/app:v1"
	[[ $output == "oci-fetch: $c/blobs/sha256/${man#sha256:}: cached document ignored ("*"): fetched again"$'\n'"$man" ]]
	cmp m "$c/blobs/sha256/${man#sha256:}"
	# a FIFO in its place: refused (no hang), not written through
	rm "$f" && mkfifo "$f"
	run_status 0 timeout 20 oci-fetch --cache "$c" --platform linux/amd64 --config "$REG_HOST/multi/app:v1"
	[[ $output == *"$f: cached document ignored (not a regular file): fetched again"* ]]
	[[ $output == *"$f: not cached: File exists"* ]]
	[ "$(tail -n 1 <<<"$output")" = "$(cat want)" ]
	[ -p "$f" ]
}

@test "an unwritable --cache DIR is one warning, the fetch right; --default-cache is \$XDG_CACHE_HOME/ocinoco" {
	cd "$BATS_TEST_TMPDIR"
	local cfg
	oci-fetch --platform linux/amd64 --config "$REG_HOST/multi/app:v1" >want
	cfg=sha256:$(sha256sum <want | cut -d' ' -f1)
	echo x >file
	run_status 0 oci-fetch --cache "$PWD/file/cache" --platform linux/amd64 --config -o got \
		"$REG_HOST/multi/app:v1"
	cmp want got
	[ "$output" = "oci-fetch: $PWD/file/cache/blobs/sha256/$(oci-fetch --platform linux/amd64 --digest \
		"$REG_HOST/multi/app:v1" | cut -c8-): not cached: Not a directory" ]
	run_status 0 oci-fetch --default-cache --platform linux/amd64 --config "$REG_HOST/multi/app:v1"
	[ "$output" = "$(cat want)" ]
	cmp want "$XDG_CACHE_HOME/ocinoco/blobs/sha256/${cfg#sha256:}"
	run_status 2 oci-fetch --default-cache --cache x "$REG_HOST/multi/app:v1"
	[[ $output == *"--cache and --default-cache exclude each other"* ]]
}
