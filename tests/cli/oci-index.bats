#!/usr/bin/env bats
# oci-index: an image index of manifests, offline. The base indexes are images.bash's (buildx's
# shape with an attestation entry, a Docker manifest list); the children are oci-graft's.
load ../lib/common
load ../lib/registry
load ../lib/images

OCI_I=application/vnd.oci.image.index.v1+json
OCI_M=application/vnd.oci.image.manifest.v1+json
DOCKER_L=application/vnd.docker.distribution.manifest.list.v2+json
DOCKER_M=application/vnd.docker.distribution.manifest.v2+json

sha() { sha256sum "$1" | cut -d' ' -f1; }
# blob LAYOUT DIGEST: the path of a blob of a layout
blob() { printf '%s/blobs/sha256/%s\n' "$1" "${2#sha256:}"; }

# graft_all LAYOUT OUT LAYER_JSON [oci-graft options]: for each entry N of the layout's index,
# OUT/N.digest (the base entry's digest), OUT/N.json and OUT/N.cfg (grafted with the layer).
graft_all() {
	local layout=$1 out=$2 layer=$3 idx n d
	shift 3
	mkdir -p "$out"
	idx=$(blob "$layout" "$(layout_digest "$layout")")
	n=0
	for d in $(jq -r '.manifests[].digest' "$idx"); do
		echo "$d" >"$out/$n.digest"
		m=$(blob "$layout" "$d")
		oci-graft --manifest "$m" --config "$(blob "$layout" "$(jq -r .config.digest "$m")")" \
			--layer "$layer" --config-out "$out/$n.cfg" -o "$out/$n.json" "$@" || return 1
		n=$((n + 1))
	done
}

setup_file() {
	F=$BATS_FILE_TMPDIR
	export F
	make_buildx_layout "$F/bx"
	make_docker_list_layout "$F/dl"
	printf '{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha256:%064x","size":10,"diffID":"sha256:%064x"}\n' 1 2 >"$F/zstd.json"
	printf '{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%064x","size":10,"diffID":"sha256:%064x"}\n' 3 4 >"$F/gzip.json"
	# the attestation (entry 2) is not an image: oci-graft refuses its config, so graft 0 and 1
	mkdir -p "$F/bxg" "$F/dlg"
	local d m
	for d in 0 1; do
		m=$(blob "$F/bx" "$(jq -r ".manifests[$d].digest" "$(blob "$F/bx" "$(layout_digest "$F/bx")")")")
		jq -r ".manifests[$d].digest" "$(blob "$F/bx" "$(layout_digest "$F/bx")")" >"$F/bxg/$d.digest"
		oci-graft --manifest "$m" --config "$(blob "$F/bx" "$(jq -r .config.digest "$m")")" \
			--layer "$F/zstd.json" --base-name docker.io/library/base:1 \
			--config-out "$F/bxg/$d.cfg" -o "$F/bxg/$d.json"
	done
	graft_all "$F/dl" "$F/dlg" "$F/gzip.json"
	graft_all "$F/dl" "$F/dlz" "$F/zstd.json"
}

base_index() { blob "$1" "$(layout_digest "$1")"; }

@test "a build's index lists the new manifests in the base's order, with the base's platforms, no attestation" {
	local base
	base=$(base_index "$F/bx")
	# the options in the other order: the base's order wins
	run_status 0 oci-index --base "$base" --base-name docker.io/library/base:1 \
		--child "$(cat "$F/bxg/1.digest")=$F/bxg/1.json" \
		--child "$(cat "$F/bxg/0.digest")=$F/bxg/0.json" \
		-o "$BATS_TEST_TMPDIR/index.json" --digest-out "$BATS_TEST_TMPDIR/digest"
	local i=$BATS_TEST_TMPDIR/index.json
	[ "$(jq -r .mediaType "$i")" = "$OCI_I" ]
	[ "$(jq -c '[.manifests[].platform]' "$i")" = \
		'[{"architecture":"amd64","os":"linux"},{"architecture":"arm64","os":"linux","variant":"v8"}]' ]
	[ "$(jq -r '.manifests[0].digest' "$i")" = "sha256:$(sha "$F/bxg/0.json")" ]
	[ "$(jq -r '.manifests[1].digest' "$i")" = "sha256:$(sha "$F/bxg/1.json")" ]
	[ "$(jq -r '.manifests[1].size' "$i")" = "$(stat -c %s "$F/bxg/1.json")" ]
	[ "$(jq -r '[.manifests[].mediaType] | unique[]' "$i")" = "$OCI_M" ]
	[ "$(jq -r '.annotations["org.opencontainers.image.base.name"]' "$i")" = docker.io/library/base:1 ]
	[ "$(jq -r '.annotations["org.opencontainers.image.base.digest"]' "$i")" = "sha256:$(sha "$base")" ]
	[ "$(cat "$BATS_TEST_TMPDIR/digest")" = "sha256:$(sha "$i")" ]
	# compact, no trailing newline: the bytes to push
	[ "$(tail -c1 "$i" | od -An -c | tr -d ' ')" = '}' ]
	# the same inputs give the same bytes
	oci-index --base "$base" --base-name docker.io/library/base:1 \
		--child "$(cat "$F/bxg/0.digest")=$F/bxg/0.json" \
		--child "$(cat "$F/bxg/1.digest")=$F/bxg/1.json" | cmp - "$i"
}

@test "--annotations-of: the index annotated as a child is, but for the child's own base" {
	local b=$BATS_TEST_TMPDIR m
	m=$(jq -c '.annotations += {"org.opencontainers.image.source": "https://example.com/app", "x": "1"}' "$F/bxg/0.json")
	printf '%s' "$m" >"$b/0.json"
	run_status 0 oci-index --base "$(base_index "$F/bx")" --base-name docker.io/library/base:1 \
		--child "$(cat "$F/bxg/0.digest")=$b/0.json" --annotations-of "$b/0.json" --annotation x=2
	[ "$(jq -c .annotations <<<"$output")" = \
		"{\"org.opencontainers.image.base.name\":\"docker.io/library/base:1\",\"org.opencontainers.image.base.digest\":\"sha256:$(sha "$(base_index "$F/bx")")\",\"org.opencontainers.image.source\":\"https://example.com/app\",\"x\":\"2\"}" ]
	run_status 2 oci-index --add "$b/0.json" --config "$F/bxg/0.cfg" --annotations-of "$b/0.json"
}

@test "a base entry's platform is copied as it is: os.version, os.features, features" {
	local b=$BATS_TEST_TMPDIR
	jq -c --arg d "$(cat "$F/bxg/0.digest")" '.manifests = [.manifests[0] | .platform =
		{"architecture":"amd64","os":"linux","os.version":"10.0.1","os.features":["win32k"],"features":["sse4"]}]' \
		"$(base_index "$F/bx")" >"$b/base.json"
	run_status 0 oci-index --base "$b/base.json" --child "$(cat "$F/bxg/0.digest")=$F/bxg/0.json"
	[ "$(jq -c '.manifests[0].platform' <<<"$output")" = \
		'{"architecture":"amd64","os":"linux","os.version":"10.0.1","os.features":["win32k"],"features":["sse4"]}' ]
	[ "$(jq -r '.annotations | keys[]' <<<"$output")" = org.opencontainers.image.base.digest ]
}

@test "a Docker manifest list base with gzip children stays a Docker manifest list; zstd children make an OCI index" {
	local base
	base=$(base_index "$F/dl")
	run_status 0 oci-index --base "$base" --child "$(cat "$F/dlg/0.digest")=$F/dlg/0.json" \
		--child "$(cat "$F/dlg/1.digest")=$F/dlg/1.json"
	[ "$(jq -r .mediaType <<<"$output")" = "$DOCKER_L" ]
	[ "$(jq -r '[.manifests[].mediaType] | unique[]' <<<"$output")" = "$DOCKER_M" ]
	run_status 0 oci-index --base "$base" --child "$(cat "$F/dlz/0.digest")=$F/dlz/0.json" \
		--child "$(cat "$F/dlz/1.digest")=$F/dlz/1.json"
	[ "$(jq -r .mediaType <<<"$output")" = "$OCI_I" ]
	[ "$(jq -r '[.manifests[].mediaType] | unique[]' <<<"$output")" = "$OCI_M" ]
	# an OCI index of Docker manifests is refused, and so is a Docker list of OCI manifests
	run_status 1 oci-index --base "$base" --child "$(cat "$F/dlg/0.digest")=$F/dlg/0.json" \
		--child "$(cat "$F/dlz/1.digest")=$F/dlz/1.json"
	[[ $output == *"1 of the 2 manifests are Docker schema 2 and the others OCI"* ]]
}

@test "images are combined with their configs' platforms; an index brings its platform images, not its attestation" {
	run_status 0 oci-index --add "$F/bxg/1.json" --config "$F/bxg/1.cfg" \
		--add "$F/bxg/0.json" --config "$F/bxg/0.cfg" --annotation a=b
	[ "$(jq -c '[.manifests[] | [.digest, .platform]]' <<<"$output")" = \
		"[[\"sha256:$(sha "$F/bxg/1.json")\",{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}],[\"sha256:$(sha "$F/bxg/0.json")\",{\"architecture\":\"amd64\",\"os\":\"linux\"}]]" ]
	[ "$(jq -c .annotations <<<"$output")" = '{"a":"b"}' ]
	# the base index: its two images, not the attestation
	run_status 0 oci-index --add "$(base_index "$F/bx")"
	[ "$(jq -c '[.manifests[].digest]' <<<"$output")" = \
		"$(jq -c '[.manifests[0,1].digest]' "$(base_index "$F/bx")")" ]
	[ "$(jq -r '.manifests | length' <<<"$output")" = 2 ]
}

@test "two images of one platform, a config that is not the manifest's, a nested index: exit 1 naming them" {
	run_status 1 oci-index --add "$F/bxg/0.json" --config "$F/bxg/0.cfg" --add "$(base_index "$F/bx")"
	[[ $output == *"are both for linux/amd64: an index holds one image per platform"* ]]
	run_status 1 oci-index --add "$F/bxg/0.json" --config "$F/bxg/1.cfg"
	[[ $output == *"$F/bxg/1.cfg: is not the config $F/bxg/0.json names"* ]]
	local b=$BATS_TEST_TMPDIR
	jq -c --arg d "sha256:$(sha "$(base_index "$F/bx")")" \
		'.manifests += [{"mediaType":"application/vnd.oci.image.index.v1+json","digest":$d,"size":1}]' \
		"$(base_index "$F/bx")" >"$b/nested.json"
	run_status 1 oci-index --add "$b/nested.json"
	[[ $output == *"manifests[3] (sha256:"*") is an index inside the index, which is not supported"* ]]
	run_status 1 oci-index --base "$(base_index "$F/bx")" --child "sha256:$(printf '%064d' 0)=$F/bxg/0.json"
	[[ $output == *"not an entry of"* ]]
}

@test "usage errors exit 2 before anything is read" {
	run_status 2 oci-index
	run_status 2 oci-index --child "$(cat "$F/bxg/0.digest")=$F/bxg/0.json"
	[[ $output == *"--child goes with --base"* ]]
	run_status 2 oci-index --base x --child nodigest=y
	run_status 2 oci-index --base x --child "$(cat "$F/bxg/0.digest")="
	run_status 2 oci-index --add x --base-name y
	run_status 2 oci-index --config x --add y
	run_status 2 oci-index --add "$F/bxg/0.json"
	[[ $output == *"give its --config"* ]]
	run_status 2 oci-index --add "$(base_index "$F/bx")" --config "$F/bxg/0.cfg"
	run_status 2 oci-index --add "$F/bxg/0.json" --config "$F/bxg/0.cfg" --annotation novalue
	run_status 2 oci-index --base x --child "$(cat "$F/bxg/0.digest")=y" --add z
	run_status 0 oci-index --help
	[[ $output == usage:* ]]
}
