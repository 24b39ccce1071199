#!/usr/bin/env bats
# ocinoco build offline: its command line, and builds from OCI layouts to OCI layouts and
# archives (no registry): the image is what the programs composed by hand give, the outputs
# appear whole or not at all.
# shellcheck disable=SC2154 # status, output, stderr are set by bats' run
bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra
load ../lib/build

setup_file() {
	unset SOURCE_DATE_EPOCH
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_app "$FIX/app"
	make_busybox_layout "$FIX/bb" oci
}

setup() {
	unset SOURCE_DATE_EPOCH
	cd "$BATS_TEST_TMPDIR" || return 1
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
}

sha() { echo "sha256:$(sha256sum | cut -d' ' -f1)"; }

@test "--help prints the usage on stdout, as the man page's synopsis" {
	run_status 0 ocinoco build --help
	[[ ${lines[0]} == "usage: ocinoco build DIR --from BASE|scratch --tag TAG"* ]]
	man_synopsis=$(MANWIDTH=200 man -l "$TESTS_DIR/../man/ocinoco.1" 2>/dev/null | col -b |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p')
	for opt in --from --tag --push --output --platform --compression --root-dir --uid --gid \
		--mtime --exclude --exclude-from --entrypoint --cmd --env --workdir --user --label \
		--expose --healthcheck --healthcheck-interval --healthcheck-timeout \
		--healthcheck-start-period --healthcheck-retries --stop-signal --volume --shell \
		--annotation --annotate-source --created -q --digest-file -v --insecure --cacert; do
		[[ $output == *" [$opt"* || $output == *" $opt "* || $output == *"| $opt"* ]] &&
			[[ $man_synopsis == *"$opt"* ]] || {
			echo "$opt"
			return 1
		}
	done
	run_status 0 ocinoco --help
	[[ $output == *"usage: ocinoco build DIR --from BASE --tag TAG"* ]]
}

@test "usage errors: exit 2 with the reason, before any work (no temporary, no output)" {
	local b=(ocinoco build "$FIX/app" --from "oci:$FIX/bb")
	run_status 2 "${b[@]}" --tag a/b:1 --push --output oci:out
	[[ ${lines[0]} == "ocinoco: build: --push and --output exclude each other" ]]
	[[ ${lines[1]} == "usage: ocinoco build DIR"* ]]
	run_status 2 "${b[@]}" --push
	[ "${lines[0]}" = "ocinoco: build: missing --tag TAG" ]
	run_status 2 ocinoco build "$FIX/app" --tag a/b:1
	[ "${lines[0]}" = "ocinoco: build: missing --from BASE (an image, oci:DIR or scratch)" ]
	run_status 2 ocinoco build --from scratch --tag a/b:1
	[ "${lines[0]}" = "ocinoco: build: missing DIR" ]
	run_status 2 "${b[@]}" --tag a/b:1 extra
	[ "${lines[0]}" = "ocinoco: build: unexpected argument: extra" ]
	# The reason comes from the reference parser the programs share (oci-fetch --name).
	for bad in 'upper/Case:1' 'a/b:c:d' 'a/b@sha256:0123' 'a//b' 'a/b:-x' ''; do
		run_status 2 "${b[@]}" --tag a/b:1 --tag "$bad"
		[[ ${lines[0]} == "oci-fetch: $bad: invalid reference: "* ]]
		[ "${lines[1]}" = "ocinoco: build: --tag or --from: not an image reference (REGISTRY/REPOSITORY[:TAG])" ]
	done
	for bad in 'a/b@sha256:0123456789012345678901234567890123456789012345678901234567890123' oci:dir; do
		run_status 2 "${b[@]}" --tag "$bad"
		[ "${lines[0]}" = "ocinoco: build: --tag $bad: not an image reference with a tag (REGISTRY/REPOSITORY[:TAG])" ]
	done
	run_status 2 ocinoco build "$FIX/app" --tag a/b:1 --from Upper/Case
	[ "${lines[0]}" = "oci-fetch: Upper/Case: invalid reference: repository name must be lowercase" ]
	[ "${lines[1]}" = "ocinoco: build: --tag or --from: not an image reference (REGISTRY/REPOSITORY[:TAG])" ]
	run_status 2 "${b[@]}" --tag a/b:1 --output oci:
	run_status 2 "${b[@]}" --tag a/b:1 --output oci:out:v1
	[[ ${lines[0]} == *"oci:DIR takes no tag (--tag names the image)" ]]
	run_status 2 "${b[@]}" --tag a/b:1 --output x.tar --output y.tar
	run_status 2 "${b[@]}" --tag a/b:1 --output -
	run_status 2 "${b[@]}" --tag a/b:1 --frobnicate
	[ "${lines[0]}" = "ocinoco: build: unknown option: --frobnicate" ]
	run_status 2 "${b[@]}" --tag a/b:1 --cmd
	[ "${lines[0]}" = "ocinoco: build: --cmd needs a value" ]
	# the changes and the platform are checked by oci-graft before anything is done
	run_status 2 "${b[@]}" --tag a/b:1 --output oci:out --expose eighty
	[[ $output == *'oci-graft: --expose: "eighty" is not PORT[/PROTO]'* ]]
	run_status 2 "${b[@]}" --tag a/b:1 --output oci:out --platform linux
	[[ $output == *'oci-graft: --platform linux: not OS/ARCH[/VARIANT]'* ]]
	only_names . tmp
	only_names tmp
}

@test "the image is the programs composed by hand: oci-tar | oci-digest, oci-fetch, oci-graft" {
	local opts=(--root-dir /app --uid 1000 --gid 1000 --env GREETING=world --workdir /app)
	run_status 0 ocinoco build "$FIX/app" --from "oci:$FIX/bb" --tag ex.org/app:v1 "${opts[@]}" \
		--cmd '["/app/hello.sh"]' --output oci:lay -q
	d=$output
	oci-tar --root-dir /app --uid 1000 --gid 1000 "$FIX/app" | oci-digest -d layer.json -o layer
	oci-fetch -o base.json --config-out base-config.json "oci:$FIX/bb"
	oci-graft --manifest base.json --config base-config.json --layer layer.json \
		--created-by "ocinoco build $FIX/app" --env GREETING=world --workdir /app \
		--cmd '["/app/hello.sh"]' --config-out config.json -o manifest.json
	[ "$d" = "$(sha <manifest.json)" ]
	cmp manifest.json "$(layout_blob lay "$d")"
	cmp config.json "$(layout_blob lay "$(jq -r .config.digest manifest.json)")"
	cmp layer "$(layout_blob lay "$(jq -r .digest layer.json)")"
	# the base layers were copied in: the layout stands alone, and runs
	[ "$(skopeo inspect oci:lay:v1 | jq -r .Digest)" = "$d" ]
	layout_rootfs lay v1 rootfs
	run_status 0 run_config config.json rootfs
	[ "$output" = "$APP_OUTPUT" ]
	# a dry run gives the same digest and writes nothing
	run_status 0 ocinoco build "$FIX/app" --from "oci:$FIX/bb" --tag ex.org/app:v1 "${opts[@]}" \
		--cmd '["/app/hello.sh"]' -q
	[ "$output" = "$d" ]
	only_names tmp
}

@test "--output FILE.tar: written whole or not at all; an existing FILE stays when the build fails" {
	run_status 0 ocinoco build "$FIX/app" --from "oci:$FIX/bb" --tag ex.org/app:v1 --output img.tar -q
	d=$output
	[ "$(skopeo inspect oci-archive:img.tar | jq -r .Digest)" = "$d" ]
	cp img.tar before.tar
	run_status 1 ocinoco build "$FIX/app" --from "oci:$BATS_TEST_TMPDIR/nope" --tag ex.org/app:v2 --output img.tar
	[[ $output == *"ocinoco: build: cannot read the base image oci:$BATS_TEST_TMPDIR/nope: nothing written to img.tar"* ]]
	cmp before.tar img.tar
	only_names . tmp img.tar before.tar
	only_names tmp
	# killed while its layer is being made (oci-tar waits for its excludes on a fifo, which only
	# it reads: no signature walk reads it first)
	mkfifo excludes
	ocinoco build "$FIX/app" --from "oci:$FIX/bb" --tag ex.org/app:v3 --output img.tar \
		--exclude-from excludes --digest-file digest >/dev/null 2>&1 3>&- &
	pid=$!
	for _ in $(seq 400); do
		compgen -G '.img.tar.ocinoco-*' >/dev/null && compgen -G 'tmp/ocinoco.*' >/dev/null &&
			pgrep -f -- "oci-tar .*--exclude-from excludes -- $FIX/app" >/dev/null && break
		sleep 0.05
	done
	pgrep -f -- "oci-tar .*--exclude-from excludes -- $FIX/app" >/dev/null
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 143 ]
	run ! pgrep -f -- "--exclude-from excludes -- $FIX/app"
	cmp before.tar img.tar
	only_names . tmp img.tar before.tar excludes
	only_names tmp
}

@test "--from scratch: the new layer alone, with this machine's platform or --platform's" {
	run_status 0 ocinoco build "$FIX/app" --from scratch --tag ex.org/app:v1 --output oci:lay -q
	cfg=$(oci-fetch --config oci:lay:v1)
	[ "$(jq -r '.rootfs.diff_ids | length' <<<"$cfg")" = 1 ]
	[ "$(oci-fetch oci:lay:v1 | jq -r '.layers | length')" = 1 ]
	[ "$(uname -m)" != x86_64 ] || [ "$(jq -r '.os + "/" + .architecture' <<<"$cfg")" = linux/amd64 ]
	run_status 0 ocinoco build "$FIX/app" --from scratch --platform linux/arm/v7 --tag ex.org/app:v2 \
		--output oci:lay -q
	[ "$(oci-fetch --config oci:lay:v2 | jq -r '.os + "/" + .architecture + "/" + .variant')" = linux/arm/v7 ]
	# both tags in the one layout
	[ "$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | join(" ")' lay/index.json)" = "v1 v2" ]
}

@test "--annotate-source: source, revision and created from the git checkout, version from package.json" {
	local app=$BATS_TEST_TMPDIR/repo/app rev when a
	mkdir -p "$app"
	cp -r "$FIX/app/." "$app/"
	printf '{"name":"hello","version":"2.4.1"}\n' >"$app/package.json"
	git -C "$app/.." init -q
	git -C "$app/.." -c user.name=t -c user.email=t@example.invalid add -A
	GIT_COMMITTER_DATE=@1700000000 git -C "$app/.." -c user.name=t -c user.email=t@example.invalid \
		commit -qm one
	git -C "$app/.." remote add origin https://someone:s3cret-token@git.example.invalid/team/hello.git
	rev=$(git -C "$app" rev-parse HEAD)
	ocinoco build "$app" --from "oci:$FIX/bb" --tag x/hello:1 --output oci:out --annotate-source -q
	a=$(oci-fetch oci:out:1 | jq -c .annotations)
	[ "$(jq -r '."org.opencontainers.image.source"' <<<"$a")" = https://git.example.invalid/team/hello ]
	[ "$(jq -r '."org.opencontainers.image.revision"' <<<"$a")" = "$rev" ]
	[ "$(jq -r '."org.opencontainers.image.version"' <<<"$a")" = 2.4.1 ]
	when=2023-11-14T22:13:20Z # the commit's time, also the config's created
	[ "$(jq -r '."org.opencontainers.image.created"' <<<"$a")" = "$when" ]
	[ "$(oci-fetch --config oci:out:1 | jq -r .created)" = "$when" ]
	[[ $a != *s3cret* ]]
	# SOURCE_DATE_EPOCH wins over the commit's time; without --annotate-source, none of these
	SOURCE_DATE_EPOCH=86400 ocinoco build "$app" --from "oci:$FIX/bb" --tag x/hello:2 --output oci:out \
		--annotate-source -q
	[ "$(oci-fetch oci:out:2 | jq -r '.annotations."org.opencontainers.image.created"')" = 1970-01-02T00:00:00Z ]
	ocinoco build "$app" --from "oci:$FIX/bb" --tag x/hello:3 --output oci:out -q
	[ "$(oci-fetch oci:out:3 | jq -c '.annotations | keys')" = '["org.opencontainers.image.base.digest"]' ]
	# outside a checkout: what is at hand (package.json), and a note
	run_status 0 ocinoco build "$FIX/app" --from "oci:$FIX/bb" --tag x/hello:4 --output oci:out --annotate-source
	[[ $output == *"is not in a git checkout with a commit: no source or revision"* ]]
	[ "$(oci-fetch oci:out:4 | jq -c '.annotations | keys')" = '["org.opencontainers.image.base.digest","org.opencontainers.image.created"]' ]
}

@test "--output oci:NEWDIR: made next to its place and renamed; a build that fails after its layer leaves nothing" {
	# a base whose config names a layer its manifest does not have: oci-graft refuses it, after
	# the layer is in the layout
	mkdir -p bad/blobs/sha256 parts
	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%064d"]}}' 0 >parts/config
	cfg=$(_img_blob bad parts/config)
	jq -cjn --arg d "${cfg% *}" --argjson s "${cfg#* }" '{schemaVersion: 2,
		mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $d, size: $s},
		layers: []}' >parts/manifest
	_img_layout_files bad application/vnd.oci.image.manifest.v1+json "$(_img_blob bad parts/manifest)"
	run_status 1 ocinoco build "$FIX/app" --from oci:bad --tag ex.org/app:v1 --output oci:lay
	[[ $output == *"oci-graft: "*"diff_ids"* ]]
	[[ $output == *"ocinoco: build: oci-graft failed: nothing tagged in lay"* ]]
	only_names . tmp bad parts
	only_names tmp
	# a good build: the layout appears whole, with a new directory's mode
	run_status 0 ocinoco build "$FIX/app" --from "oci:$FIX/bb" --tag ex.org/app:v1 --output oci:lay -q
	only_names . tmp bad parts lay
	[ "$(stat -c %a lay)" = "$(printf '%o' $((0777 & ~$(umask))))" ]
	[ "$(skopeo inspect oci:lay:v1 | jq -r .Digest)" = "$output" ]
	# a failing build into an existing layout adds nothing to its index
	cp lay/index.json index.before
	run_status 1 ocinoco build "$FIX/app" --from oci:bad --tag ex.org/app:v2 --output oci:lay
	cmp index.before lay/index.json
}

@test "--exclude-from a pipe (<(...)): read once, by the layer's oci-tar (no cache walk reads it first)" {
	run_status 0 timeout 60 ocinoco build "$FIX/app" --from scratch --tag x/app:1 --output oci:out -q \
		--exclude-from <(printf 'hello.sh\n')
	d=$(oci-fetch oci:out:1 | jq -r '.layers[-1].digest')
	oci-fetch --blob "$d" oci:out:1 | zstd -dc | tar -t >list
	! grep -qx hello.sh list
	[ -s list ]
}
