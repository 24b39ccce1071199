#!/usr/bin/env bats
# shellcheck disable=SC2016 # the commands in single quotes run in the root
# The packages install and run on a Debian 12 machine that has none of our libraries or -dev
# packages: a minimal root (debootstrap --variant=minbase bookworm, plus nodejs and npm; cached by
# tests/lib/debroot.bash), a fresh copy of it per test. What the installed ocinoco writes is
# read back by tools outside the root (zstd, tar, skopeo).
load ../lib/common
load ../lib/debroot

setup_file() {
	# The packages are built from the sources by make (the build under test is not in them):
	# once per run, with the normal build.
	if [[ $OCINOCO_BIN == *-san/bin ]]; then
		export INSTALL_SKIP="the packages are built without sanitizers: tested with the normal build"
		return 0
	fi
	local reason
	reason=$(debroot_skip_reason)
	if [ -n "$reason" ]; then
		export INSTALL_SKIP="no Debian root: $reason"
		return 0
	fi
	export INSTALL_SKIP=
	local repo
	repo=$(cd "$TESTS_DIR/.." && pwd)
	# make's build-dist/ (remade only when a source changed: a second run takes a second).
	export DIST=$repo/build-dist
	read -r VERSION <"$repo/VERSION"
	export VERSION
	make -s -C "$repo" npm deb DIST="$DIST" >"$BATS_FILE_TMPDIR/make.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/make.log" >&2
		return 1
	}
	debroot_cached
}

setup() {
	[ -z "$INSTALL_SKIP" ] || skip "$INSTALL_SKIP"
	ROOTDIR=$BATS_TEST_TMPDIR/debroot
	debroot_fresh "$ROOTDIR"
	R=$DEBROOT_ROOT
	# A small app to pack: a file, a nested one, an executable.
	mkdir -p "$R/app/lib"
	echo 'console.log("hi")' >"$R/app/server.js"
	echo 'module.exports = 1' >"$R/app/lib/m.js"
	printf '#!/bin/sh\necho run\n' >"$R/app/run.sh"
	chmod 755 "$R/app/run.sh"
}

teardown() {
	[ -z "${ROOTDIR:-}" ] || debroot_release "$ROOTDIR"
}

# in_root CMD...: CMD in the root (clean environment, /app the working directory).
in_root() {
	debroot_run "$R" sh -c 'cd /app && exec "$@"' sh "$@"
}

# The root has no jq: ocinoco needs none (what it needs of JSON, a program prints).
assert_no_jq() {
	run ! in_root sh -c 'command -v jq'
}

# The root has none of libcurl, jansson and libbsd, nor the -dev packages of our libraries but
# the one Debian's npm itself brings (libssl-dev, through node-gyp). zlib and zstd are in every
# Debian, OpenSSL and nghttp2 come with Debian's nodejs: that the programs of the npm package
# load the package's copies anyway is checked with ldd.
assert_root_lacks_our_libraries() {
	local lib pkg
	for lib in libjansson.so.4 libcurl.so.4 libbsd.so.0 libssh2.so.1 librtmp.so.1 libpsl.so.5; do
		if debroot_run "$R" sh -c "ldconfig -p | grep -q '$lib'"; then
			echo "the root has $lib"
			return 1
		fi
	done
	for pkg in libcurl4 libjansson4 libbsd0 libzstd-dev zlib1g-dev libcurl4-openssl-dev \
		libjansson-dev libbsd-dev; do
		if debroot_run "$R" dpkg -s "$pkg" >/dev/null 2>&1; then
			echo "the root has $pkg"
			return 1
		fi
	done
}

# check_pack_and_build OCINOCO: the installed ocinoco packs /app and builds an OCI archive of it;
# read back outside the root.
check_pack_and_build() {
	local ocinoco=$1 desc
	run_status 0 in_root "$ocinoco" pack /app /layer.tzst --root-dir /srv --uid 1000
	desc=$output
	zstd -tq "$R/layer.tzst"
	[ "$(jq -r .digest <<<"$desc")" = "sha256:$(sha256sum <"$R/layer.tzst" | cut -d' ' -f1)" ]
	[ "$(zstd -dc "$R/layer.tzst" | tar tf - | sort | tr '\n' ' ')" = \
		"srv/ srv/lib/ srv/lib/m.js srv/run.sh srv/server.js " ]
	[ "$(zstd -dc "$R/layer.tzst" | tar xOf - srv/server.js)" = 'console.log("hi")' ]

	run_status 0 in_root "$ocinoco" build -q /app --from scratch --tag localhost/x:1 \
		--cmd '["node", "/srv/server.js"]' --root-dir /srv --output /x.tar
	local digest=$output
	[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]]
	run_status 0 skopeo inspect --raw "oci-archive:$R/x.tar"
	[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$digest" ]
	run_status 0 skopeo inspect --config "oci-archive:$R/x.tar"
	[ "$(jq -c .config.Cmd <<<"$output")" = '["node","/srv/server.js"]' ]
	# The same layer as pack made (same tree, same options but --uid).
	[ "$(tar xOf "$R/x.tar" index.json | jq -r '.manifests[0].annotations["io.containerd.image.name"]')" = \
		localhost/x:1 ]
}

@test "npm install -g ocinoco-VERSION.tgz: ocinoco and the five programs run with none of their libraries installed" {
	assert_root_lacks_our_libraries
	cp "$DIST/ocinoco-$VERSION.tgz" "$R/tmp/"
	run_status 0 in_root npm install -g --offline --no-audit --no-fund "/tmp/ocinoco-$VERSION.tgz"
	local p
	for p in ocinoco oci-tar oci-digest oci-fetch oci-put oci-graft oci-index oci-cache; do
		# npm's link: /usr/local/bin/P -> ../lib/node_modules/ocinoco/bin/P
		[ -L "$R/usr/local/bin/$p" ]
		run_status 0 in_root "$p" --version
		[ "$output" = "$p $VERSION" ]
		[ -f "$R/usr/local/share/man/man1/$p.1" ]
	done
	# Every library the programs load comes from the package or is glibc's.
	run_status 0 in_root sh -c 'for p in /usr/local/lib/node_modules/ocinoco/bin/oci-*; do ldd "$p"; done'
	[[ $output != *"not found"* ]]
	[ -z "$(grep '=>' <<<"$output" | grep -v -e '/node_modules/ocinoco/bin/../lib/' \
		-e '/lib/x86_64-linux-gnu/libc.so' -e 'lib/[^ ]*/ld-linux' -e '/libm.so' \
		-e '/libresolv.so' -e '/libpthread.so' -e '/libdl.so' || true)" ]
	assert_no_jq
	check_pack_and_build ocinoco
	# npx finds the installed one.
	run_status 0 in_root npx --offline ocinoco --version
	[ "$output" = "ocinoco $VERSION" ]
}

@test "npx --package ocinoco-VERSION.tgz ocinoco build: runs from npx's cache, its siblings found through the link" {
	cp "$DIST/ocinoco-$VERSION.tgz" "$R/tmp/"
	assert_no_jq
	run_status 0 in_root npx --yes --offline --package "/tmp/ocinoco-$VERSION.tgz" -- \
		ocinoco build -q /app --from scratch --tag localhost/npx:1 --output /npx.tar
	[[ $output =~ ^sha256:[0-9a-f]{64}$ ]]
	run_status 0 skopeo inspect "oci-archive:$R/npx.tar"
	[ "$(jq -r '.Layers | length' <<<"$output")" = 1 ]
	# Nothing was installed globally: it ran from npx's cache.
	[ ! -e "$R/usr/local/bin/ocinoco" ]
	compgen -G "$R/root/.npm/_npx/*/node_modules/ocinoco/bin/oci-tar" >/dev/null
}

@test "apt-get install ./ocinoco_VERSION_ARCH.deb pulls the runtime libraries from Debian; programs, man pages, completion installed" {
	assert_root_lacks_our_libraries
	local deb
	deb=$(cd "$DIST" && echo ocinoco_"$VERSION"_*.deb)
	cp "$DIST/$deb" "$R/tmp/"
	run_status 0 in_root apt-get install -y -q --no-install-recommends "/tmp/$deb"
	run_status 0 in_root dpkg-query -W -f '${Status}\n' libjansson4 libcurl4 libbsd0 libzstd1 ocinoco
	[ "$(sort -u <<<"$output")" = "install ok installed" ]
	local p
	for p in ocinoco oci-tar oci-digest oci-fetch oci-put oci-graft oci-index oci-cache; do
		run_status 0 in_root "/usr/bin/$p" --version
		[ "$output" = "$p $VERSION" ]
		[ "$(gzip -dc "$R/usr/share/man/man1/$p.1.gz" | sed -n 's/^\.Nm //p' | head -n 1)" = "$p" ]
		[ -e "$R/usr/share/bash-completion/completions/$p" ]
	done
	# The programs load Debian's libraries.
	run_status 0 in_root ldd /usr/bin/oci-put
	[[ $output == *"libcurl.so.4 => /lib/x86_64-linux-gnu/libcurl.so.4"* ||
		$output == *"libcurl.so.4 => /usr/lib/x86_64-linux-gnu/libcurl.so.4"* ]]
	check_pack_and_build /usr/bin/ocinoco
	# The installed completion, as bash-completion loads it.
	run_status 0 debroot_run "$R" bash -c 'source /usr/share/bash-completion/completions/oci-tar
		COMP_WORDS=(ocinoco pack --ro); COMP_CWORD=2; _ocinoco; echo "${COMPREPLY[*]}"'
	[ "$output" = --root-dir ]
	# apt-get remove leaves nothing of it.
	run_status 0 in_root apt-get remove -y -q ocinoco
	[ ! -e "$R/usr/bin/oci-tar" ]
}
