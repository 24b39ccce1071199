#!/usr/bin/env bats
# oci-graft: base manifest + config + layer descriptors (+ changes) -> new config and manifest.
# Fixtures are small JSON documents made here with jq; skopeo and umoci check the results.
# $VARS in single quotes are meant for oci-graft to expand, not the shell.
# shellcheck disable=SC2016,SC1003,SC2030,SC2031
load ../lib/common

GZ=application/vnd.docker.image.rootfs.diff.tar.gzip
FOREIGN=application/vnd.docker.image.rootfs.foreign.diff.tar.gzip
DOCKER_M=application/vnd.docker.distribution.manifest.v2+json
DOCKER_C=application/vnd.docker.container.image.v1+json
OCI_M=application/vnd.oci.image.manifest.v1+json
OCI_C=application/vnd.oci.image.config.v1+json
OCI_GZ=application/vnd.oci.image.layer.v1.tar+gzip
OCI_ZST=application/vnd.oci.image.layer.v1.tar+zstd
OCI_TAR=application/vnd.oci.image.layer.v1.tar

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# A fake digest from a small number, e.g. d 7 = sha256:000...07.
d() { printf 'sha256:%064x' "$1"; }

# make_image DIR MANIFEST_MEDIATYPE CONFIG_MEDIATYPE LAYERS_JSON CONFIG_JSON
# writes DIR/config.json and DIR/manifest.json (compact, no newline, the config's real digest)
make_image() {
	local dir=$1 mt=$2 cmt=$3 layers=$4 config=$5
	mkdir -p "$dir"
	jq -cjn "$config" >"$dir/config.json"
	jq -cjn --arg mt "$mt" --arg cmt "$cmt" --arg cd "sha256:$(sha "$dir/config.json")" \
		--argjson cs "$(size "$dir/config.json")" --argjson layers "$layers" \
		'{schemaVersion: 2} + (if $mt == "" then {} else {mediaType: $mt} end)
		 + {config: {mediaType: $cmt, size: $cs, digest: $cd}, layers: $layers}' \
		>"$dir/manifest.json"
}

setup_file() {
	F=$BATS_FILE_TMPDIR
	export F
	# Docker schema 2 base: keys sorted like Docker writes them, two gzip layers.
	make_image "$F/docker" "$DOCKER_M" "$DOCKER_C" \
		"[{\"mediaType\":\"$GZ\",\"size\":100,\"digest\":\"$(d 1)\"},
		  {\"mediaType\":\"$GZ\",\"size\":200,\"digest\":\"$(d 2)\"}]" \
		"{architecture: \"amd64\",
		  config: {Env: [\"PATH=/usr/bin:/bin\", \"LANG=C\"], Cmd: [\"/bin/sh\"],
			   WorkingDir: \"/srv\", Labels: {base: \"yes\"},
			   ExposedPorts: {\"22/tcp\": {}}},
		  container: \"abc\", created: \"2020-02-02T02:02:02Z\", docker_version: \"20.10\",
		  history: [{created: \"2020-02-02T02:02:02Z\", created_by: \"ADD rootfs\"},
			    {created: \"2020-02-02T02:02:02Z\", created_by: \"CMD sh\", empty_layer: true},
			    {created: \"2020-02-02T02:02:02Z\", created_by: \"RUN x\"}],
		  os: \"linux\",
		  rootfs: {type: \"layers\", diff_ids: [\"$(d 11)\", \"$(d 12)\"]}}"
	# Docker base with a foreign (Windows-style) layer carrying urls.
	make_image "$F/foreign" "$DOCKER_M" "$DOCKER_C" \
		"[{\"mediaType\":\"$FOREIGN\",\"size\":300,\"digest\":\"$(d 3)\",
		   \"urls\":[\"https://example.com/layer\"]},
		  {\"mediaType\":\"$GZ\",\"size\":400,\"digest\":\"$(d 4)\"}]" \
		"{architecture: \"amd64\", os: \"windows\", config: {Cmd: [\"cmd\"]},
		  rootfs: {type: \"layers\", diff_ids: [\"$(d 13)\", \"$(d 14)\"]}}"
	# OCI base, with a layer annotation that must survive, and no "config" object at all.
	make_image "$F/oci" "$OCI_M" "$OCI_C" \
		"[{\"mediaType\":\"$OCI_GZ\",\"digest\":\"$(d 5)\",\"size\":500,
		   \"annotations\":{\"a\":\"b\"}}]" \
		"{created: \"2021-01-01T00:00:00Z\", architecture: \"arm64\", variant: \"v8\",
		  os: \"linux\", rootfs: {type: \"layers\", diff_ids: [\"$(d 15)\"]}}"
	# OCI base that omits the manifest's optional mediaType.
	make_image "$F/ocinomt" "" "$OCI_C" "[{\"mediaType\":\"$OCI_ZST\",\"digest\":\"$(d 6)\",\"size\":600}]" \
		"{architecture: \"amd64\", os: \"linux\", rootfs: {type: \"layers\", diff_ids: [\"$(d 16)\"]}}"

	# Layer descriptors as oci-digest writes them (one object, no trailing newline needed).
	desc() { jq -cjn --arg mt "$1" --arg dg "$(d "$2")" --argjson sz "$3" --arg di "$(d "$4")" \
		'{mediaType: $mt, digest: $dg, size: $sz, diffID: $di}'; }
	desc "$OCI_GZ" 101 1001 111 >"$F/gz.json"
	desc "$OCI_ZST" 102 1002 112 >"$F/zst.json"
	desc "$OCI_TAR" 103 1003 113 >"$F/tar.json"
	desc "$GZ" 104 1004 114 >"$F/dgz.json"
	jq -c '. + {annotations: {"org.example": "kept"}}' "$F/gz.json" >"$F/gz-annotated.json"
	{ desc "$OCI_GZ" 105 1005 115; echo; desc "$OCI_GZ" 106 1006 116; echo; } >"$F/two.json"
}

# graft DIR [args...]: grafts onto the fixture in $F/DIR, writes $out/config.json and prints
# the manifest into $out/manifest.json; the config digest is checked every time.
graft() {
	local base=$1
	shift
	out=$BATS_TEST_TMPDIR/out
	mkdir -p "$out"
	oci-graft --manifest "$F/$base/manifest.json" --config "$F/$base/config.json" \
		--config-out "$out/config.json" "$@" >"$out/manifest.json"
	check_config_digest
}

check_config_digest() {
	[ "$(jq -r .config.digest "$out/manifest.json")" = "sha256:$(sha "$out/config.json")" ]
	[ "$(jq -r .config.size "$out/manifest.json")" = "$(size "$out/config.json")" ]
}

m() { jq -c "$@" "$out/manifest.json"; }
c() { jq -c "$@" "$out/config.json"; }

@test "a gzip layer onto a Docker schema 2 base gives a Docker schema 2 manifest" {
	graft docker --layer "$F/gz.json" --created-by "COPY dist /app"
	[ "$(m -r .mediaType)" = "$DOCKER_M" ]
	[ "$(m -r .config.mediaType)" = "$DOCKER_C" ]
	[ "$(m .schemaVersion)" = 2 ]
	# base layer descriptors byte for byte, then the new one without diffID, Docker-typed
	[ "$(m '.layers[0:2]')" = "$(jq -c '.layers' "$F/docker/manifest.json")" ]
	[ "$(m '.layers[2]')" = "{\"mediaType\":\"$GZ\",\"digest\":\"$(d 101)\",\"size\":1001}" ]
	[ "$(m '.layers | length')" = 3 ]
	[ "$(c .rootfs.diff_ids)" = "[\"$(d 11)\",\"$(d 12)\",\"$(d 111)\"]" ]
	[ "$(c '.history | length')" = 4 ]
	[ "$(c '.history[3]')" = '{"created":"1970-01-01T00:00:00Z","created_by":"COPY dist /app"}' ]
	[ "$(c -r .created)" = 1970-01-01T00:00:00Z ]
	[ "$(m -r '.annotations["org.opencontainers.image.base.digest"]')" = \
		"sha256:$(sha "$F/docker/manifest.json")" ]
	[ "$(m '.annotations | has("org.opencontainers.image.base.name")')" = false ]
	# manifest and config are compact, with no trailing newline: the bytes are the blob
	[ "$(tail -c 1 "$out/manifest.json" | od -An -c | tr -d ' ')" = "}" ]
	[ "$(tail -c 1 "$out/config.json" | od -An -c | tr -d ' ')" = "}" ]
}

@test "a Docker-typed gzip descriptor onto a Docker base stays Docker" {
	graft docker --layer "$F/dgz.json"
	[ "$(m -r .mediaType)" = "$DOCKER_M" ]
	[ "$(m -r '.layers[2].mediaType')" = "$GZ" ]
}

@test "the base config keeps its other members, values and key order" {
	graft docker --layer "$F/gz.json"
	[ "$(c keys_unsorted)" = "$(jq -c keys_unsorted "$F/docker/config.json")" ]
	[ "$(c 'del(.created, .history, .rootfs)')" = \
		"$(jq -c 'del(.created, .history, .rootfs)' "$F/docker/config.json")" ]
	[ "$(c '.history[0:3]')" = "$(jq -c '.history' "$F/docker/config.json")" ]
}

@test "a zstd layer turns a Docker base into OCI: base layers mapped, same digests" {
	graft docker --layer "$F/zst.json"
	[ "$(m -r .mediaType)" = "$OCI_M" ]
	[ "$(m -r .config.mediaType)" = "$OCI_C" ]
	[ "$(m '[.layers[].mediaType]')" = "[\"$OCI_GZ\",\"$OCI_GZ\",\"$OCI_ZST\"]" ]
	[ "$(m '[.layers[] | del(.mediaType)]')" = \
		"$(jq -c '[.layers[] | del(.mediaType)] + [{digest: "'"$(d 102)"'", size: 1002}]' \
			"$F/docker/manifest.json")" ]
	[ "$(c .rootfs.diff_ids[2])" = "\"$(d 112)\"" ]
}

@test "an uncompressed layer needs OCI types too" {
	graft docker --layer "$F/tar.json"
	[ "$(m -r .mediaType)" = "$OCI_M" ]
	[ "$(m -r '.layers[2].mediaType')" = "$OCI_TAR" ]
}

@test "one zstd layer among gzip ones makes the whole result OCI" {
	graft docker --layer "$F/gz.json" --layer "$F/zst.json"
	[ "$(m '[.layers[].mediaType]')" = "[\"$OCI_GZ\",\"$OCI_GZ\",\"$OCI_GZ\",\"$OCI_ZST\"]" ]
}

@test "--oci asks for OCI types even where Docker ones would do" {
	graft docker --layer "$F/dgz.json" --oci
	[ "$(m -r .mediaType)" = "$OCI_M" ]
	[ "$(m '[.layers[].mediaType]')" = "[\"$OCI_GZ\",\"$OCI_GZ\",\"$OCI_GZ\"]" ]
}

@test "foreign layers are kept exactly as they are, also when the result becomes OCI" {
	graft foreign --layer "$F/gz.json"
	[ "$(m -r .mediaType)" = "$DOCKER_M" ]
	[ "$(m '.layers[0]')" = "$(jq -c '.layers[0]' "$F/foreign/manifest.json")" ]
	graft foreign --layer "$F/zst.json"
	[ "$(m -r .mediaType)" = "$OCI_M" ]
	[ "$(m '.layers[0]')" = "$(jq -c '.layers[0]' "$F/foreign/manifest.json")" ]
	[ "$(m -r '.layers[1].mediaType')" = "$OCI_GZ" ]
}

@test "an OCI base stays OCI and a gzip layer on it is typed OCI tar+gzip" {
	graft oci --layer "$F/dgz.json"
	[ "$(m -r .mediaType)" = "$OCI_M" ]
	[ "$(m -r .config.mediaType)" = "$OCI_C" ]
	[ "$(m '.layers[0]')" = "$(jq -c '.layers[0]' "$F/oci/manifest.json")" ]
	[ "$(m -r '.layers[1].mediaType')" = "$OCI_GZ" ]
	graft ocinomt --layer "$F/gz.json"
	[ "$(m -r .mediaType)" = "$OCI_M" ]
}

@test "other members of a new layer's descriptor are kept" {
	graft oci --layer "$F/gz-annotated.json"
	[ "$(m '.layers[1]')" = \
		"{\"mediaType\":\"$OCI_GZ\",\"digest\":\"$(d 101)\",\"size\":1001,\"annotations\":{\"org.example\":\"kept\"}}" ]
}

@test "several layers: each gets its diffID and history entry, in order" {
	graft oci --layer "$F/gz.json" --created-by "deps" --layer "$F/zst.json" \
		--layer "$F/two.json" --created-by "two in one file"
	[ "$(m '[.layers[].digest]')" = "[\"$(d 5)\",\"$(d 101)\",\"$(d 102)\",\"$(d 105)\",\"$(d 106)\"]" ]
	[ "$(c .rootfs.diff_ids)" = "[\"$(d 15)\",\"$(d 111)\",\"$(d 112)\",\"$(d 115)\",\"$(d 116)\"]" ]
	[ "$(c '[.history[].created_by]')" = '["deps","oci-graft","two in one file","two in one file"]' ]
}

@test "zero layers: only the changes, the layers unchanged" {
	graft oci --cmd '["/x"]'
	[ "$(m .layers)" = "$(jq -c .layers "$F/oci/manifest.json")" ]
	[ "$(c .rootfs)" = "$(jq -c .rootfs "$F/oci/config.json")" ]
	[ "$(c .config.Cmd)" = '["/x"]' ]
}

@test "annotations: base.name from --base-name, base.digest, then --annotation ones" {
	graft docker --layer "$F/gz.json" --base-name docker.io/library/busybox:1.36 \
		--annotation org.opencontainers.image.source=https://example.com/app \
		--annotation empty= --annotation 'eq=a=b'
	[ "$(m .annotations)" = "{\"org.opencontainers.image.base.name\":\"docker.io/library/busybox:1.36\",\"org.opencontainers.image.base.digest\":\"sha256:$(sha "$F/docker/manifest.json")\",\"org.opencontainers.image.source\":\"https://example.com/app\",\"empty\":\"\",\"eq\":\"a=b\"}" ]
}

@test "created: default 1970, SOURCE_DATE_EPOCH, --created (normalised to UTC), now" {
	graft docker --layer "$F/gz.json"
	[ "$(c -r '.created, .history[3].created')" = "$(printf '1970-01-01T00:00:00Z\n%.0s' 1 2)" ]
	SOURCE_DATE_EPOCH=1700000000 graft docker --layer "$F/gz.json"
	[ "$(c -r '.created, .history[3].created')" = "$(printf '2023-11-14T22:13:20Z\n%.0s' 1 2)" ]
	SOURCE_DATE_EPOCH=1700000000 graft docker --layer "$F/gz.json" --created 2024-05-01T12:00:00.250+02:00
	[ "$(c -r .created)" = 2024-05-01T10:00:00.25Z ]
	graft docker --layer "$F/gz.json" --created now
	year=$(c -r .created | cut -c1-4)
	[ "$year" = "$(date -u +%Y)" ] || [ "$year" = "$(date -u -d '-1 min' +%Y)" ]
}

@test "same inputs give the same bytes; SOURCE_DATE_EPOCH changes them" {
	for i in 1 2; do
		oci-graft --manifest "$F/docker/manifest.json" --config "$F/docker/config.json" \
			--layer "$F/gz.json" --layer "$F/zst.json" --env A=1 --cmd 'node x' \
			--config-out "$BATS_TEST_TMPDIR/c$i" -o "$BATS_TEST_TMPDIR/m$i"
	done
	cmp "$BATS_TEST_TMPDIR/c1" "$BATS_TEST_TMPDIR/c2"
	cmp "$BATS_TEST_TMPDIR/m1" "$BATS_TEST_TMPDIR/m2"
	SOURCE_DATE_EPOCH=1 oci-graft --manifest "$F/docker/manifest.json" \
		--config "$F/docker/config.json" --layer "$F/gz.json" --layer "$F/zst.json" \
		--env A=1 --cmd 'node x' --config-out "$BATS_TEST_TMPDIR/c3" -o "$BATS_TEST_TMPDIR/m3"
	run_status 1 cmp -s "$BATS_TEST_TMPDIR/c1" "$BATS_TEST_TMPDIR/c3"
	run_status 1 cmp -s "$BATS_TEST_TMPDIR/m1" "$BATS_TEST_TMPDIR/m3"
	[ "$(jq -r .created "$BATS_TEST_TMPDIR/c3")" = 1970-01-01T00:00:01Z ]
}

@test "-o writes the manifest to a file and nothing to stdout" {
	run_status 0 oci-graft --manifest "$F/oci/manifest.json" --config "$F/oci/config.json" \
		--layer "$F/gz.json" --config-out "$BATS_TEST_TMPDIR/c" -o "$BATS_TEST_TMPDIR/m"
	[ -z "$output" ]
	[ "$(jq -r .config.digest "$BATS_TEST_TMPDIR/m")" = "sha256:$(sha "$BATS_TEST_TMPDIR/c")" ]
	[ "$(find "$BATS_TEST_TMPDIR" -name '*.tmp-*' | wc -l)" = 0 ]
}

@test "--digest-out: the sha256 of the manifest's bytes, written with the other outputs" {
	t=$BATS_TEST_TMPDIR
	run_status 0 oci-graft --manifest "$F/oci/manifest.json" --config "$F/oci/config.json" \
		--layer "$F/gz.json" --config-out "$t/c" -o "$t/m" --digest-out "$t/d"
	[ "$(cat "$t/d")" = "sha256:$(sha "$t/m")" ]
	[ "$(wc -l <"$t/d")" = 1 ]
	# the manifest on stdout: the same digest
	oci-graft --scratch --platform linux/amd64 --config-out "$t/c" --digest-out "$t/d2" >"$t/m2"
	[ "$(cat "$t/d2")" = "sha256:$(sha "$t/m2")" ]
	# an output that cannot be written: none of them is
	run_status 1 oci-graft --scratch --config-out "$t/c3" --digest-out "$t/missing/d"
	[ ! -e "$t/c3" ]
	[ "$(find "$t" -name '*.tmp-*' | wc -l)" = 0 ]
}

@test "--check: the changes and the platform checked as a graft would, nothing read or written" {
	cd "$BATS_TEST_TMPDIR"
	run_status 0 oci-graft --check --platform linux/arm64 --env A=1 --cmd '["/x"]' --expose 80 \
		--created 2024-01-01T00:00:00Z --annotation a=b
	[ -z "$output" ]
	usage_fails '--expose: "eighty" is not PORT' --check --expose eighty
	usage_fails '--platform linux: not OS/ARCH[/VARIANT]' --check --platform linux
	usage_fails '--env: unterminated ${' --check --env 'A=${B'
	usage_fails '--created: "yesterday"' --check --created yesterday
	usage_fails '--check writes nothing' --check --config-out c
	usage_fails '--check takes no --manifest' --check --manifest "$F/oci/manifest.json"
	SOURCE_DATE_EPOCH=yesterday run_status 2 oci-graft --check
	[ -z "$(ls)" ]
}

@test "an output that cannot be written fails the run and leaves no file behind" {
	t=$BATS_TEST_TMPDIR
	run_status 1 oci-graft --manifest "$F/oci/manifest.json" --config "$F/oci/config.json" \
		--layer "$F/gz.json" --config-out "$t/c" -o "$t/missing/m"
	[[ $output == "oci-graft: $t/missing/m: No such file or directory" ]]
	[ ! -e "$t/c" ]
	[ "$(find "$t" -name '*.tmp-*' | wc -l)" = 0 ]
	run_status 1 oci-graft --manifest "$F/oci/manifest.json" --config "$F/oci/config.json" \
		--config-out "$t/missing/c"
	[[ $output == "oci-graft: $t/missing/c: No such file or directory" ]]
}

@test "any one input may come from stdin" {
	out=$BATS_TEST_TMPDIR
	oci-graft --manifest - --config "$F/docker/config.json" --layer "$F/gz.json" \
		--config-out "$out/config.json" <"$F/docker/manifest.json" >"$out/manifest.json"
	check_config_digest
	[ "$(m -r '.annotations["org.opencontainers.image.base.digest"]')" = \
		"sha256:$(sha "$F/docker/manifest.json")" ]
	cat "$F/gz.json" "$F/zst.json" | oci-graft --manifest "$F/docker/manifest.json" \
		--config "$F/docker/config.json" --layer - --config-out "$out/config.json" \
		>"$out/manifest.json"
	[ "$(m '[.layers[2:][].digest]')" = "[\"$(d 101)\",\"$(d 102)\"]" ]
}

@test "env: replaces a key in place, appends new ones, expands \$VARS like docker build" {
	graft docker --env LANG=C.UTF-8 --env NEW=1 --env 'PATH=/app/bin:$PATH' \
		--env 'HOMEDIR=${HOME:-/root}' --env 'LIT=\$PATH' --env EMPTY=
	[ "$(c .config.Env)" = '["PATH=/app/bin:/usr/bin:/bin","LANG=C.UTF-8","NEW=1","HOMEDIR=/root","LIT=$PATH","EMPTY="]' ]
}

@test "cmd and entrypoint: JSON array is the exec form, a string the shell form" {
	graft docker --cmd '["node","server.js"]'
	[ "$(c .config.Cmd)" = '["node","server.js"]' ]
	[ "$(c .config.Entrypoint)" = null ]
	graft docker --cmd 'node server.js "$PORT"'
	[ "$(c .config.Cmd)" = '["/bin/sh","-c","node server.js \"$PORT\""]' ]
	graft docker --entrypoint ' [ ] '
	[ "$(c .config.Entrypoint)" = '[]' ]
}

@test "--entrypoint without --cmd clears the base's Cmd, as docker build does" {
	graft docker --entrypoint '["/app/run"]'
	[ "$(c .config.Entrypoint)" = '["/app/run"]' ]
	[ "$(c '.config | has("Cmd")')" = false ]
	graft docker --entrypoint /app/run --cmd '["--port","80"]'
	[ "$(c .config.Entrypoint)" = '["/bin/sh","-c","/app/run"]' ]
	[ "$(c .config.Cmd)" = '["--port","80"]' ]
	graft docker --cmd '["--port","80"]' --entrypoint '["/app/run"]'
	[ "$(c .config.Cmd)" = '["--port","80"]' ]
}

@test "the shell form uses the image's Shell, and cmd /S /C on Windows" {
	graft foreign --cmd 'dir C:\'
	[ "$(c .config.Cmd)" = '["cmd","/S","/C","dir C:\\"]' ]
	make_image "$BATS_TEST_TMPDIR/sh" "$OCI_M" "$OCI_C" "[]" \
		'{architecture: "amd64", os: "linux", config: {Shell: ["/bin/bash", "-ec"]},
		  rootfs: {type: "layers", diff_ids: []}}'
	out=$BATS_TEST_TMPDIR
	oci-graft --manifest "$out/sh/manifest.json" --config "$out/sh/config.json" \
		--config-out "$out/config.json" --cmd 'echo hi' >"$out/manifest.json"
	[ "$(c .config.Cmd)" = '["/bin/bash","-ec","echo hi"]' ]
}

@test "workdir: absolute replaces, relative follows the previous one, paths cleaned" {
	graft docker --workdir /app/
	[ "$(c -r .config.WorkingDir)" = /app ]
	graft docker --workdir sub/./x
	[ "$(c -r .config.WorkingDir)" = /srv/sub/x ]
	graft docker --workdir a --workdir ../b
	[ "$(c -r .config.WorkingDir)" = /srv/b ]
	graft oci --workdir app
	[ "$(c -r .config.WorkingDir)" = /app ]
}

@test "user, labels and exposed ports" {
	graft docker --user 1000:1000 --label org.example.team=web --label base=overridden \
		--expose 8080 --expose 53/UDP --expose 9000-9002/tcp --expose 22
	[ "$(c -r .config.User)" = 1000:1000 ]
	[ "$(c .config.Labels)" = '{"base":"overridden","org.example.team":"web"}' ]
	[ "$(c .config.ExposedPorts)" = '{"22/tcp":{},"8080/tcp":{},"53/udp":{},"9000/tcp":{},"9001/tcp":{},"9002/tcp":{}}' ]
}

@test "healthcheck, stop signal, volumes and shell as a Dockerfile's HEALTHCHECK, STOPSIGNAL, VOLUME, SHELL write them" {
	graft oci --healthcheck-retries 3 --healthcheck 'curl -f http://localhost/ || exit 1' \
		--healthcheck-interval 30s --healthcheck-timeout 1m30s --healthcheck-start-period 500ms \
		--stop-signal SIGQUIT --env D=/data --volume '$D' --volume /cache \
		--shell '["/bin/bash", "-c"]' --cmd 'node server.js'
	[ "$(c -c .config.Healthcheck)" = '{"Test":["CMD-SHELL","curl -f http://localhost/ || exit 1"],"Retries":3,"Interval":30000000000,"Timeout":90000000000,"StartPeriod":500000000}' ]
	[ "$(c -r .config.StopSignal)" = SIGQUIT ]
	[ "$(c -c .config.Volumes)" = '{"/data":{},"/cache":{}}' ]
	[ "$(c -c .config.Shell)" = '["/bin/bash","-c"]' ]
	# the shell form of --cmd after --shell runs through that shell
	[ "$(c -c .config.Cmd)" = '["/bin/bash","-c","node server.js"]' ]
	graft oci --healthcheck '["/bin/check", "--quick"]'
	[ "$(c -c .config.Healthcheck)" = '{"Test":["CMD","/bin/check","--quick"]}' ]
	graft oci --healthcheck NONE --stop-signal 9
	[ "$(c -c '[.config.Healthcheck, .config.StopSignal]')" = '[{"Test":["NONE"]},"9"]' ]
}

@test "bad runtime settings are usage errors naming the option" {
	out=$BATS_TEST_TMPDIR
	local m=(--manifest "$F/oci/manifest.json" --config "$F/oci/config.json" --config-out "$out/c.json")
	run_status 2 oci-graft "${m[@]}" --healthcheck x --healthcheck-interval 30
	[[ $output == *'--healthcheck-interval: "30" is not a duration'* ]]
	run_status 2 oci-graft "${m[@]}" --healthcheck x --healthcheck-timeout 10us
	[[ $output == *'--healthcheck-timeout: "10us" is shorter than 1ms'* ]]
	run_status 2 oci-graft "${m[@]}" --healthcheck-retries 3
	[[ $output == *'--healthcheck-retries: needs --healthcheck'* ]]
	run_status 2 oci-graft "${m[@]}" --healthcheck-retries -1
	[[ $output == *'--healthcheck-retries: "-1" is not a number of retries'* ]]
	run_status 2 oci-graft "${m[@]}" --stop-signal term
	[[ $output == *'--stop-signal: "term" is not a signal'* ]]
	run_status 2 oci-graft "${m[@]}" --shell /bin/bash
	[[ $output == *'--shell: "/bin/bash" is not a JSON array of strings'* ]]
	run_status 2 oci-graft "${m[@]}" --volume ''
	[[ $output == *'--volume: empty path'* ]]
	[ ! -e "$out/c.json" ]
}

@test "changes create the config object when the base has none" {
	graft oci --env A=1 --label l=v --expose 80 --user app --workdir /w
	[ "$(c .config)" = '{"Env":["A=1"],"Labels":{"l":"v"},"ExposedPorts":{"80/tcp":{}},"User":"app","WorkingDir":"/w"}' ]
	[ "$(c keys_unsorted)" = '["created","architecture","variant","os","rootfs","history","config"]' ]
}

@test "--scratch: an empty OCI base for a platform" {
	out=$BATS_TEST_TMPDIR
	SOURCE_DATE_EPOCH=86400 oci-graft --scratch --platform linux/arm/v7 --layer "$F/dgz.json" \
		--created-by app --config-out "$out/config.json" --cmd '["/app"]' >"$out/manifest.json"
	check_config_digest
	[ "$(m -r .mediaType)" = "$OCI_M" ]
	[ "$(m .layers)" = "[{\"mediaType\":\"$OCI_GZ\",\"digest\":\"$(d 104)\",\"size\":1004}]" ]
	[ "$(m 'has("annotations")')" = false ]
	[ "$(c .)" = "{\"created\":\"1970-01-02T00:00:00Z\",\"architecture\":\"arm\",\"variant\":\"v7\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/app\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"$(d 114)\"]},\"history\":[{\"created\":\"1970-01-02T00:00:00Z\",\"created_by\":\"app\"}]}" ]
	oci-graft --scratch --platform linux/amd64 --annotation a=b --config-out "$out/config.json" \
		>"$out/manifest.json"
	[ "$(c -c '[.architecture, .os, has("variant")]')" = '["amd64","linux",false]' ]
	[ "$(m -c '[.annotations, .layers]')" = '[{"a":"b"},[]]' ]
}

@test "--scratch: the platform normalised as oci-fetch normalises it; this machine's by default" {
	out=$BATS_TEST_TMPDIR
	oci-graft --scratch --platform LINUX/X86_64 --config-out "$out/config.json" >/dev/null
	[ "$(c -c '[.architecture, .os, has("variant")]')" = '["amd64","linux",false]' ]
	oci-graft --scratch --platform linux/aarch64 --config-out "$out/config.json" >/dev/null
	[ "$(c -c '[.architecture, .variant, .os]')" = '["arm64","v8","linux"]' ]
	oci-graft --scratch --config-out "$out/config.json" >/dev/null
	case $(uname -m) in
	x86_64) want='["amd64",null]' ;;
	aarch64) want='["arm64","v8"]' ;;
	*) skip "no expectation written for $(uname -m)" ;;
	esac
	[ "$(c -c '[.architecture, .variant]')" = "$want" ]
}

# --- bad input: exit 1, a message naming the file, no output written ---

# fails_with PATTERN args...: exit 1, stderr matches, no config written
fails_with() {
	local pattern=$1
	shift
	run_status 1 oci-graft --config-out "$BATS_TEST_TMPDIR/never.json" "$@"
	[[ $output == "oci-graft: "* ]] || { echo "$output"; return 1; }
	[[ $output == *"$pattern"* ]] || { echo "want *$pattern* in: $output"; return 1; }
	[ ! -e "$BATS_TEST_TMPDIR/never.json" ]
	[ "$(find "$BATS_TEST_TMPDIR" -name '*.tmp-*' | wc -l)" = 0 ]
}

@test "refuses a manifest that is not JSON, an index, schema 1, an artifact, garbage" {
	t=$BATS_TEST_TMPDIR
	echo 'not json' >"$t/bad.json"
	fails_with "$t/bad.json: not JSON: line 1" --manifest "$t/bad.json" --config "$F/oci/config.json"
	jq -n '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
		manifests: []}' >"$t/index.json"
	fails_with "$t/index.json: is an index; pick a platform with oci-fetch --platform" \
		--manifest "$t/index.json" --config "$F/oci/config.json"
	jq -n '{schemaVersion: 2, manifests: [], mediaType: "application/vnd.docker.distribution.manifest.list.v2+json"}' >"$t/list.json"
	fails_with "$t/list.json: is an index" --manifest "$t/list.json" --config "$F/oci/config.json"
	jq -n '{schemaVersion: 1, name: "x", tag: "y", fsLayers: []}' >"$t/s1.json"
	fails_with "$t/s1.json: is a Docker schema 1 manifest" --manifest "$t/s1.json" \
		--config "$F/oci/config.json"
	jq --arg cmt application/vnd.cncf.helm.config.v1+json '.config.mediaType = $cmt' \
		"$F/oci/manifest.json" >"$t/helm.json"
	fails_with "$t/helm.json: is not a container image: its config's mediaType is application/vnd.cncf.helm.config.v1+json" \
		--manifest "$t/helm.json" --config "$F/oci/config.json"
	jq '.layers[0].digest = "sha256:nothex"' "$F/oci/manifest.json" >"$t/baddg.json"
	fails_with "$t/baddg.json: layers[0]: descriptor digest" --manifest "$t/baddg.json" \
		--config "$F/oci/config.json"
	echo '[1]' >"$t/arr.json"
	fails_with "$t/arr.json: is not a JSON object" --manifest "$t/arr.json" \
		--config "$F/oci/config.json"
	fails_with "$t/missing.json: No such file or directory" --manifest "$t/missing.json" \
		--config "$F/oci/config.json"
}

@test "refuses a config that is not the one the manifest names" {
	t=$BATS_TEST_TMPDIR
	fails_with "$F/docker/config.json: is not the config $F/oci/manifest.json names (its sha256 is sha256:$(sha "$F/docker/config.json"), not $(jq -r .config.digest "$F/oci/manifest.json"))" \
		--manifest "$F/oci/manifest.json" --config "$F/docker/config.json"
	# a pretty-printed copy has the same content but other bytes, hence another digest
	jq . "$F/oci/config.json" >"$t/pretty.json"
	fails_with "$t/pretty.json: is not the config" --manifest "$F/oci/manifest.json" \
		--config "$t/pretty.json"
	jq -c --argjson s 1 '.config.size = $s' "$F/oci/manifest.json" >"$t/size.json"
	fails_with "$F/oci/config.json: is $(size "$F/oci/config.json") bytes but $t/size.json says 1" \
		--manifest "$t/size.json" --config "$F/oci/config.json"
}

@test "refuses a config whose diff_ids do not match the manifest's layers" {
	make_image "$BATS_TEST_TMPDIR/n" "$OCI_M" "$OCI_C" "[{\"mediaType\":\"$OCI_GZ\",\"digest\":\"$(d 1)\",\"size\":1}]" \
		"{architecture: \"amd64\", os: \"linux\", rootfs: {type: \"layers\", diff_ids: [\"$(d 1)\", \"$(d 2)\"]}}"
	fails_with "$BATS_TEST_TMPDIR/n/config.json: has 2 diff_ids but the manifest has 1 layers" \
		--manifest "$BATS_TEST_TMPDIR/n/manifest.json" --config "$BATS_TEST_TMPDIR/n/config.json"
	make_image "$BATS_TEST_TMPDIR/r" "$OCI_M" "$OCI_C" "[]" '{architecture: "amd64", os: "linux"}'
	fails_with "config.json: has no rootfs object" --manifest "$BATS_TEST_TMPDIR/r/manifest.json" \
		--config "$BATS_TEST_TMPDIR/r/config.json"
	make_image "$BATS_TEST_TMPDIR/e" "$OCI_M" "$OCI_C" "[]" \
		'{os: "linux", config: {Env: "A=1"}, rootfs: {type: "layers", diff_ids: []}}'
	fails_with "config.json: config.Env is not an array of strings" \
		--manifest "$BATS_TEST_TMPDIR/e/manifest.json" --config "$BATS_TEST_TMPDIR/e/config.json"
}

@test "refuses bad layer descriptors, naming the file" {
	t=$BATS_TEST_TMPDIR
	base=(--manifest "$F/oci/manifest.json" --config "$F/oci/config.json")
	jq -c 'del(.diffID)' "$F/gz.json" >"$t/nodiff.json"
	fails_with "$t/nodiff.json: descriptor has no diffID" "${base[@]}" --layer "$t/nodiff.json"
	jq -c '.digest = "sha256:abc"' "$F/gz.json" >"$t/dg.json"
	fails_with "$t/dg.json: descriptor digest \"sha256:abc\" is not sha256:<64 hex>" "${base[@]}" \
		--layer "$t/dg.json"
	jq -c '.diffID = "md5:abc"' "$F/gz.json" >"$t/di.json"
	fails_with "$t/di.json: diffID is not sha256:<64 hex>" "${base[@]}" --layer "$t/di.json"
	jq -c '.mediaType = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"' \
		"$F/gz.json" >"$t/mt.json"
	fails_with "$t/mt.json: mediaType application/vnd.oci.image.layer.nondistributable.v1.tar+gzip is not a layer type" \
		"${base[@]}" --layer "$t/mt.json"
	: >"$t/empty.json"
	fails_with "$t/empty.json: holds no layer descriptor" "${base[@]}" --layer "$t/empty.json"
	{ cat "$F/gz.json"; echo ' {"mediaType": '; } >"$t/trunc.json"
	fails_with "$t/trunc.json: not JSON (descriptor 2)" "${base[@]}" --layer "$t/trunc.json"
	fails_with "stdin: not JSON" "${base[@]}" --layer - <<<'nope'
	# what was read is freed on the way out too (the sanitized build reports a leak as exit 86)
	echo '{"mediaType":"x"}' >"$t/x.json"
	fails_with "$t/x.json: descriptor has no digest" "${base[@]}" --layer "$t/x.json"
	echo '[1]' >"$t/array.json"
	fails_with "$t/array.json: descriptor is not a JSON object" "${base[@]}" --layer "$F/gz.json" \
		--layer "$t/array.json"
}

# --- usage errors: exit 2 with the usage ---

usage_fails() {
	local pattern=$1
	shift
	run_status 2 oci-graft "$@"
	[[ $output == *"oci-graft: "*"$pattern"* ]] || { echo "want *$pattern* in: $output"; return 1; }
	[[ $output == *"usage: oci-graft"* ]]
}

@test "usage errors exit 2 and name the problem" {
	m=(--manifest "$F/oci/manifest.json" --config "$F/oci/config.json")
	o=(--config-out "$BATS_TEST_TMPDIR/c")
	usage_fails "missing --manifest" --config "$F/oci/config.json" "${o[@]}"
	usage_fails "missing --config-out" "${m[@]}"
	usage_fails "unknown option --bogus" "${m[@]}" "${o[@]}" --bogus
	usage_fails "option --layer needs a value" "${m[@]}" "${o[@]}" --layer
	usage_fails 'unexpected argument "extra"' "${m[@]}" "${o[@]}" extra
	usage_fails '--env: "NOEQUALS" is not KEY=VALUE' "${m[@]}" "${o[@]}" --env NOEQUALS
	usage_fails '--env: "=v" has an empty KEY' "${m[@]}" "${o[@]}" --env =v
	usage_fails '--label: "x" is not KEY=VALUE' "${m[@]}" "${o[@]}" --label x
	usage_fails '--annotation: "x" is not KEY=VALUE' "${m[@]}" "${o[@]}" --annotation x
	for bad in 0 65536 http abc/tcp 80/icmp 90-80 80- -80 '' 80/; do
		usage_fails "--expose: " "${m[@]}" "${o[@]}" --expose "$bad"
	done
	usage_fails '--user: "1000:" is not USER[:GROUP]' "${m[@]}" "${o[@]}" --user 1000:
	usage_fails '--workdir: empty directory' "${m[@]}" "${o[@]}" --workdir ''
	usage_fails '--cmd: "[node, x]" starts like a JSON array but is not an array of strings' \
		"${m[@]}" "${o[@]}" --cmd '[node, x]'
	usage_fails '--entrypoint: "[1]" starts like' "${m[@]}" "${o[@]}" --entrypoint '[1]'
	usage_fails '--created: "yesterday" is not an RFC 3339 time' "${m[@]}" "${o[@]}" --created yesterday
	usage_fails '--created-by must follow the --layer' "${m[@]}" "${o[@]}" --created-by x --layer "$F/gz.json"
	usage_fails 'has two --created-by' "${m[@]}" "${o[@]}" --layer "$F/gz.json" --created-by a --created-by b
	usage_fails 'only one input can be - (stdin)' --manifest - --config - "${o[@]}"
	usage_fails '--scratch takes no --manifest' --scratch --platform linux/amd64 "${m[@]}" "${o[@]}"
	usage_fails '--platform linux: not OS/ARCH[/VARIANT]' --scratch --platform linux "${o[@]}"
	usage_fails '--platform linux/amd 64: not OS/ARCH[/VARIANT]' --scratch --platform 'linux/amd 64' "${o[@]}"
	usage_fails '--platform goes with --scratch' "${m[@]}" "${o[@]}" --platform linux/amd64
	usage_fails '--base-name names a base' --scratch --platform linux/amd64 --base-name x "${o[@]}"
	usage_fails '-o and --config-out are the same file' "${m[@]}" "${o[@]}" -o "$BATS_TEST_TMPDIR/c"
	usage_fails '--digest-out and -o are the same file' "${m[@]}" "${o[@]}" -o "$BATS_TEST_TMPDIR/m" \
		--digest-out "$BATS_TEST_TMPDIR/m"
	usage_fails '--digest-out must be a file' "${m[@]}" "${o[@]}" --digest-out -
	usage_fails '--config-out must be a file' "${m[@]}" --config-out -
	usage_fails 'is not valid UTF-8' "${m[@]}" "${o[@]}" --label "a=$(printf '\xff')"
	[ ! -e "$BATS_TEST_TMPDIR/c" ]
}

@test "a value that is bad only once expanded is a usage error too" {
	usage_fails '--expose: "" is not PORT' --manifest "$F/oci/manifest.json" \
		--config "$F/oci/config.json" --config-out "$BATS_TEST_TMPDIR/c" --expose '$NOPORT'
	usage_fails '--env: unterminated ${' --manifest "$F/oci/manifest.json" \
		--config "$F/oci/config.json" --config-out "$BATS_TEST_TMPDIR/c" --env 'A=${B'
	[ ! -e "$BATS_TEST_TMPDIR/c" ]
}

@test "a malformed SOURCE_DATE_EPOCH is refused with exit 2" {
	SOURCE_DATE_EPOCH=yesterday run_status 2 oci-graft --scratch --platform linux/amd64 \
		--config-out "$BATS_TEST_TMPDIR/c"
	[[ $output == *'oci-graft: SOURCE_DATE_EPOCH: "yesterday" is not a number'* ]]
	SOURCE_DATE_EPOCH=253402300800 run_status 2 oci-graft --scratch --platform linux/amd64 \
		--config-out "$BATS_TEST_TMPDIR/c"
}

@test "--help prints the usage on stdout, as the man page's synopsis" {
	run_status 0 oci-graft --help
	[[ ${lines[0]} == "usage: oci-graft --manifest FILE --config FILE --config-out FILE"* ]]
	man_synopsis=$(MANWIDTH=200 man -l "$TESTS_DIR/../man/oci-graft.1" 2>/dev/null | col -b |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p')
	for opt in --manifest --config-out --digest-out --created-by --base-name --scratch --check \
		--platform --oci --entrypoint --cmd --env --workdir --user --label --expose --annotation --created; do
		[[ $output == *"$opt"* ]] && [[ $man_synopsis == *"$opt"* ]] || { echo "$opt"; return 1; }
	done
}

# --- independent checks: skopeo and umoci read what oci-graft wrote ---

# layout DIR MANIFEST CONFIG BLOB...: an OCI image layout with the image tagged "t"
layout() {
	local dir=$1 manifest=$2 config=$3 b
	shift 3
	mkdir -p "$dir/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	for b in "$manifest" "$config" "$@"; do
		cp "$b" "$dir/blobs/sha256/$(sha "$b")"
	done
	jq -cn --arg mt "$(jq -r .mediaType "$manifest")" --arg dg "sha256:$(sha "$manifest")" \
		--argjson sz "$(size "$manifest")" \
		'{schemaVersion: 2, manifests: [{mediaType: $mt, digest: $dg, size: $sz,
		  annotations: {"org.opencontainers.image.ref.name": "t"}}]}' >"$dir/index.json"
}

# dirlayout DIR MANIFEST CONFIG BLOB...: containers/image's dir: transport
dirlayout() {
	local dir=$1 manifest=$2 b
	shift 2
	mkdir -p "$dir"
	echo 'Directory Transport Version: 1.1' >"$dir/version"
	cp "$manifest" "$dir/manifest.json"
	for b in "$@"; do
		cp "$b" "$dir/$(sha "$b")"
	done
}

# layer_desc TARBALL MEDIATYPE UNCOMPRESSED: the descriptor oci-digest would write
layer_desc() {
	jq -cn --arg mt "$2" --arg dg "sha256:$(sha "$1")" --argjson sz "$(size "$1")" \
		--arg di "sha256:$(sha "$3")" '{mediaType: $mt, digest: $dg, size: $sz, diffID: $di}'
}

# two layer tarballs made with plain tar/gzip/zstd, their descriptors, and a Docker schema 2
# base image made of the first
make_layers() {
	t=$BATS_TEST_TMPDIR
	mkdir -p "$t/root1/etc" "$t/root2/app"
	echo base >"$t/root1/etc/base.txt"
	echo hello >"$t/root2/app/hello.txt"
	tar -C "$t/root1" -cf "$t/l1.tar" etc
	tar -C "$t/root2" -cf "$t/l2.tar" app
	gzip -n -c "$t/l1.tar" >"$t/l1.tgz"
	zstd -q -c "$t/l2.tar" >"$t/l2.tzst"
	layer_desc "$t/l1.tgz" "$GZ" "$t/l1.tar" >"$t/l1.json"
	layer_desc "$t/l2.tar" "$OCI_TAR" "$t/l2.tar" >"$t/l2-tar.json"
	layer_desc "$t/l2.tzst" "$OCI_ZST" "$t/l2.tar" >"$t/l2-zst.json"
	make_image "$t/d" "$DOCKER_M" "$DOCKER_C" \
		"$(jq -c '[del(.diffID)]' "$t/l1.json")" \
		"$(jq -c '{architecture: "amd64", os: "linux", config: {Cmd: ["/bin/sh"]},
			  rootfs: {type: "layers", diff_ids: [.diffID]}}' "$t/l1.json")"
}

@test "skopeo and umoci accept a scratch graft" {
	make_layers
	oci-graft --scratch --platform linux/amd64 --layer "$t/l1.json" --env A=1 \
		--config-out "$t/c1" -o "$t/m1"
	layout "$t/oci1" "$t/m1" "$t/c1" "$t/l1.tgz"
	run_status 0 skopeo inspect --raw oci:"$t/oci1":t
	[ "$output" = "$(cat "$t/m1")" ]
	run_status 0 skopeo copy -q oci:"$t/oci1":t oci:"$t/copy1":t
	run_status 0 umoci unpack --image "$t/oci1":t "$t/bundle1"
	[ "$(cat "$t/bundle1/rootfs/etc/base.txt")" = base ]
	[ "$(jq -c '.process.env | index("A=1") != null' "$t/bundle1/config.json")" = true ]
}

@test "skopeo and umoci accept a Docker base grafted into OCI (base layer type mapped)" {
	make_layers
	oci-graft --manifest "$t/d/manifest.json" --config "$t/d/config.json" \
		--layer "$t/l2-tar.json" --workdir /app --config-out "$t/c2" -o "$t/m2"
	[ "$(jq -r .mediaType "$t/m2")" = "$OCI_M" ]
	layout "$t/oci2" "$t/m2" "$t/c2" "$t/l1.tgz" "$t/l2.tar"
	run_status 0 skopeo copy -q oci:"$t/oci2":t oci:"$t/copy2":t
	run_status 0 skopeo inspect --config oci:"$t/copy2":t
	[ "$(jq -c '[.config.WorkingDir, .rootfs.diff_ids[1]]' <<<"$output")" = \
		"[\"/app\",$(jq .diffID "$t/l2-tar.json")]" ]
	# umoci 0.4 cannot read zstd layers, hence the uncompressed one here
	run_status 0 umoci unpack --image "$t/oci2":t "$t/bundle2"
	[ "$(cat "$t/bundle2/rootfs/etc/base.txt" "$t/bundle2/rootfs/app/hello.txt")" = \
		"$(printf 'base\nhello')" ]
	[ "$(jq -r .process.cwd "$t/bundle2/config.json")" = /app ]
}

@test "skopeo copies a zstd graft and a Docker schema 2 graft, verifying every digest" {
	make_layers
	oci-graft --manifest "$t/d/manifest.json" --config "$t/d/config.json" \
		--layer "$t/l2-zst.json" --config-out "$t/c3" -o "$t/m3"
	layout "$t/oci3" "$t/m3" "$t/c3" "$t/l1.tgz" "$t/l2.tzst"
	run_status 0 skopeo copy -q oci:"$t/oci3":t oci:"$t/copy3":t
	[ "$(jq -r '.layers[1].mediaType' "$t/m3")" = "$OCI_ZST" ]
	zstd -dc "$t/copy3/blobs/sha256/$(jq -r '.layers[1].digest | ltrimstr("sha256:")' "$t/m3")" |
		tar -xOf - app/hello.txt | grep -qx hello

	gzip -n -c "$t/l2.tar" >"$t/l2.tgz"
	layer_desc "$t/l2.tgz" "$OCI_GZ" "$t/l2.tar" >"$t/l2-gz.json"
	oci-graft --manifest "$t/d/manifest.json" --config "$t/d/config.json" \
		--layer "$t/l2-gz.json" --config-out "$t/c4" -o "$t/m4"
	[ "$(jq -r .mediaType "$t/m4")" = "$DOCKER_M" ]
	# skopeo 1.9 reads only OCI manifests from an OCI layout; its dir: transport takes any
	dirlayout "$t/dir4" "$t/m4" "$t/c4" "$t/l1.tgz" "$t/l2.tgz"
	run_status 0 skopeo inspect --raw dir:"$t/dir4"
	[ "$output" = "$(cat "$t/m4")" ]
	run_status 0 skopeo copy -q dir:"$t/dir4" dir:"$t/copy4"
	cmp "$t/m4" "$t/copy4/manifest.json"
	run_status 0 skopeo inspect --config dir:"$t/copy4"
	[ "$(jq -c .rootfs.diff_ids <<<"$output")" = "$(jq -c .rootfs.diff_ids "$t/c4")" ]
	# skopeo does verify: the same image with a layer blob's bytes swapped fails to copy
	cp -r "$t/dir4" "$t/bad4"
	cp "$t/l2.tar" "$t/bad4/$(sha "$t/l2.tgz")"
	run skopeo copy -q dir:"$t/bad4" dir:"$t/copy5"
	[ "$status" -ne 0 ]
	[[ $output == *"$(sha "$t/l2.tgz")"* ]]
}
