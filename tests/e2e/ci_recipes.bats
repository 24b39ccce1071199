#!/usr/bin/env bats
# docs/ci.md's recipes, run: every `run:` step (GitHub Actions) and `script:` line (GitLab CI),
# extracted by tests/lib/ci_steps.py, in order, in a checkout of a small Node app, against a
# local registry with credentials (TLS + htpasswd), with the CI variables the steps read set to
# local values. Stand-ins, on PATH, only for what cannot run here:
#   - the install of ocinoco (`npm install -g ocinoco`; GitLab's before_script): the build
#     under test is on PATH instead (the packages themselves are tested by install.bats); every
#     other npm command is the real npm, offline;
#   - cosign: checks it was asked to sign REF@sha256:<64 hex> and records it; the test then
#     checks that digest is what the registry serves under the tags.
# The `uses:` steps: checkout is the test's directory, setup-node the machine's node,
# upload/download-artifact copies through $CI_ARTIFACTS (ci_steps.py writes those).
load ../lib/common
load ../lib/registry
load ../lib/images

setup_file() {
	registry_start REG tls-basic
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	make_multiarch_layout "$FIX/multi"
	export BASE=$REG_HOST/library/node:22
	push_layout "$FIX/multi" "$BASE"
	local npm
	npm=$(command -v npm)
	mkdir -p "$FIX/standins"
	cat >"$FIX/standins/npm" <<-EOF
		#!/bin/sh
		# stand-in: the install of ocinoco is the build under test, already on PATH
		if [ "\$*" = "install -g ocinoco" ]; then
			echo "npm install -g ocinoco" >>"\$CI_LOG"
			exit 0
		fi
		exec $npm "\$@"
	EOF
	cat >"$FIX/standins/cosign" <<-'EOF'
		#!/bin/sh
		# stand-in: cosign sign [--yes] [--recursive] REF@DIGEST, the digest recorded
		[ "$1" = sign ] || { echo "cosign stand-in: only sign" >&2; exit 64; }
		for ref; do :; done
		echo "$ref" | grep -Eq '^[^@ ]+@sha256:[0-9a-f]{64}$' || {
			echo "cosign stand-in: not REF@sha256:DIGEST: $ref" >&2
			exit 1
		}
		echo "$ref" >>"$COSIGN_LOG"
	EOF
	chmod 755 "$FIX/standins/npm" "$FIX/standins/cosign"
}

teardown_file() {
	registry_stop_all
}

setup() {
	export PATH=$FIX/standins:$PATH
	export HOME=$BATS_TEST_TMPDIR/home CI_LOG=$BATS_TEST_TMPDIR/ci.log
	export COSIGN_LOG=$BATS_TEST_TMPDIR/cosign.log CI_ARTIFACTS=$BATS_TEST_TMPDIR/artifacts
	mkdir -p "$HOME"
	: >"$COSIGN_LOG"
	# the test registry's CA, trusted besides the system's; npm offline and quiet
	export SSL_CERT_FILE=$TEST_CA npm_config_offline=true npm_config_audit=false \
		npm_config_fund=false npm_config_update_notifier=false
	export REGISTRY=$REG_HOST IMAGE=$REG_HOST/owner/repo REGISTRY_USER=$TEST_USER \
		REGISTRY_PASSWORD=$TEST_PASS GITHUB_SHA=0123456789abcdef0123456789abcdef01234567
	export CI_REGISTRY=$REG_HOST CI_REGISTRY_IMAGE=$REG_HOST/group/project \
		CI_REGISTRY_USER=$TEST_USER CI_REGISTRY_PASSWORD=$TEST_PASS CI_COMMIT_SHA=$GITHUB_SHA
}

# checkout DIR: the app a recipe builds (no dependencies, so npm ci runs offline).
checkout() {
	mkdir -p "$1"
	echo '{"name":"app","version":"1.0.0","private":true,"scripts":{"start":"node server.js"}}' >"$1/package.json"
	cat >"$1/package-lock.json" <<-'EOF'
		{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,
		 "packages":{"":{"name":"app","version":"1.0.0"}}}
	EOF
	printf '%s\n' 'require("http").createServer((q, s) => s.end("hi")).listen(process.env.PORT || 3000)' >"$1/server.js"
}

# run_recipe_job STEPS JOB DIR: each step of JOB, in order, in DIR; the first failing one fails.
run_recipe_job() {
	local step out
	for step in "$1/$2"/*.sh; do
		out=$(cd "$3" && bash "$step" 2>&1) || {
			printf 'step %s of %s failed:\n%s\n--- its script:\n' "${step##*/}" "$2" "$out"
			cat "$step"
			return 1
		}
	done
}

steps_of() { # RECIPE: its steps in $BATS_TEST_TMPDIR/steps
	python3 "$TESTS_DIR/lib/ci_steps.py" "$TESTS_DIR/../docs/ci.md" "$1" "$BATS_TEST_TMPDIR/steps"
	S=$BATS_TEST_TMPDIR/steps
}

# raw_manifest REF: what the registry serves under REF, read by skopeo (its inspect flags are
# copy's --src-* ones without the prefix)
raw_manifest() {
	local -a flags
	mapfile -t flags < <(registry_skopeo_flags REG src | sed 's/^--src-/--/')
	skopeo inspect --raw "${flags[@]}" "docker://$1"
}

manifest_digest() { # REF: the digest of what the registry serves under REF
	echo "sha256:$(raw_manifest "$1" | sha256sum | cut -d' ' -f1)"
}

@test "the GitHub Actions recipe pushes the commit and latest, and signs that digest" {
	steps_of .github/workflows/image.yml
	[ "$(cat "$S/jobs")" = image ]
	checkout "$BATS_TEST_TMPDIR/repo"
	run_recipe_job "$S" image "$BATS_TEST_TMPDIR/repo"
	[ "$(cat "$CI_LOG")" = "npm install -g ocinoco" ]
	d=$(cat "$BATS_TEST_TMPDIR/repo/image.digest")
	[ "$(cat "$COSIGN_LOG")" = "$IMAGE@$d" ]
	[ "$(manifest_digest "$IMAGE:latest")" = "$d" ]
	[ "$(manifest_digest "$IMAGE:$GITHUB_SHA")" = "$d" ]
	# the login step's file is what let it push (the registry wants credentials)
	grep -q "$REG_HOST" "$HOME/.docker/config.json"
	[ "$(oci-fetch --config "$IMAGE:latest" | jq -c '[.config.Cmd, .config.WorkingDir]')" = '[["node","server.js"],"/app"]' ]
}

@test "the GitLab CI recipe pushes the commit and latest, and signs that digest" {
	steps_of .gitlab-ci.yml
	[ "$(cat "$S/jobs")" = build-image ]
	checkout "$BATS_TEST_TMPDIR/repo"
	run_recipe_job "$S" build-image "$BATS_TEST_TMPDIR/repo"
	d=$(cat "$BATS_TEST_TMPDIR/repo/image.digest")
	[ "$(cat "$COSIGN_LOG")" = "$CI_REGISTRY_IMAGE@$d" ]
	[ "$(manifest_digest "$CI_REGISTRY_IMAGE:latest")" = "$d" ]
	[ "$(manifest_digest "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA")" = "$d" ]
	[ "$(oci-fetch --config "$CI_REGISTRY_IMAGE:latest" | jq -c .config.Cmd)" = '["node","server.js"]' ]
}

@test "the multi-platform matrix recipe: one image per platform, then one signed index of both" {
	ocinoco index --help >/dev/null 2>&1 || skip "ocinoco index is not in this build"
	steps_of .github/workflows/image-multi.yml
	[ "$(cat "$S/jobs")" = "$(printf 'build\nindex')" ]
	for PLATFORM in linux/amd64 linux/arm64; do
		export PLATFORM
		rm -rf "$BATS_TEST_TMPDIR/repo"
		checkout "$BATS_TEST_TMPDIR/repo"
		run_recipe_job "$S" build "$BATS_TEST_TMPDIR/repo"
	done
	unset PLATFORM
	mkdir -p "$BATS_TEST_TMPDIR/index"
	run_recipe_job "$S" index "$BATS_TEST_TMPDIR/index"
	d=$(cat "$BATS_TEST_TMPDIR/index/index.digest")
	[ "$(cat "$COSIGN_LOG")" = "$IMAGE@$d" ]
	[ "$(manifest_digest "$IMAGE:latest")" = "$d" ]
	[ "$(manifest_digest "$IMAGE:$GITHUB_SHA")" = "$d" ]
	raw_manifest "$IMAGE:latest" >"$BATS_TEST_TMPDIR/index.json"
	[ "$(jq -r '[.manifests[].platform.architecture] | sort | join(",")' "$BATS_TEST_TMPDIR/index.json")" = amd64,arm64 ]
	for a in amd64 arm64; do
		jq -e --arg d "$(cat "$CI_ARTIFACTS/linux-$a")" --arg a "$a" \
			'.manifests[] | select(.platform.architecture == $a) | .digest == $d' "$BATS_TEST_TMPDIR/index.json"
	done
}
