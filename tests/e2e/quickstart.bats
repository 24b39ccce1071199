#!/usr/bin/env bats
# shellcheck disable=SC2016 # the quick start's commands are expanded by the shell that runs them
# README's quick start, run: its commands (the fenced block after "<!-- quickstart -->"), with
# the names of the world replaced by local ones (node:22-slim: a Node base made here,
# ghcr.io/you: the test registry), in a copy of its app. The base is the cached Debian root of
# tests/lib/debroot.bash (Debian's nodejs) made into an image by ocinoco itself; `express` is a
# small stand-in package of the app (vendor/express, a file: dependency, installed by the real
# `npm ci`, offline). The built image's command is started in a chroot of its layers and must
# answer HTTP on 127.0.0.1; it is stopped by its pid.
load ../lib/common
load ../lib/registry
load ../lib/images
load ../lib/registry_extra
load ../lib/build
load ../lib/debroot
bats_require_minimum_version 1.5.0

setup_file() {
	if [[ $OCINOCO_BIN == *-san/bin ]]; then
		export QS_SKIP="a 200 MB base image: tested with the normal build"
		return 0
	fi
	local reason
	reason=$(debroot_skip_reason)
	if [ -n "$reason" ]; then
		export QS_SKIP="no Debian root: $reason"
		return 0
	fi
	export QS_SKIP=
	registry_start REG plain
	debroot_cached
	# Debian's nodejs with what it needs to run, like node:22-slim (no docs, no apt cache)
	export BASE=$REG_HOST/library/node:22-slim
	ocinoco build "$DEBROOT_CACHED" --from scratch --tag "$BASE" --push -q \
		--exclude usr/share/doc --exclude usr/share/man --exclude usr/share/locale \
		--exclude 'usr/share/perl*' --exclude var/cache --exclude var/lib/apt --exclude usr/include \
		--exclude 'usr/lib/python3*' --exclude usr/lib/gcc --exclude 'usr/lib/x86_64-linux-gnu/perl*' \
		--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd '["node"]' >/dev/null
}

teardown_file() {
	[ -n "${QS_SKIP:-}" ] || registry_stop_all
}

setup() {
	[ -z "$QS_SKIP" ] || skip "$QS_SKIP"
	# npm offline and quiet; a file: dependency installed as a copy, as a registry one is
	export HOME=$BATS_TEST_TMPDIR/home npm_config_offline=true npm_config_audit=false \
		npm_config_fund=false npm_config_update_notifier=false npm_config_install_links=true
	mkdir -p "$HOME"
}

teardown() {
	[ -z "${APP_PID:-}" ] || { kill "$APP_PID" 2>/dev/null; wait "$APP_PID" 2>/dev/null || true; }
	[ -z "${ROOTFS:-}" ] || debroot_umount_all "$ROOTFS"
}

# The quick start's commands, the world's names replaced by the test's.
quickstart_commands() {
	awk '/^<!-- quickstart -->$/ { on = 1; next } on && /^```sh$/ { inb = 1; next }
		inb && /^```$/ { exit } inb' "$TESTS_DIR/../README.md" |
		sed -e "s|node:22-slim|$BASE|g" -e "s|ghcr\.io/you|$REG_HOST/you|g"
}

# The app of the quick start (the README shows its server.js), express a stand-in.
make_quickstart_app() {
	mkdir -p "$1/vendor/express"
	awk '/^<!-- quickstart-server -->$/ { on = 1; next } on && /^```js$/ { inb = 1; next }
		inb && /^```$/ { exit } inb' "$TESTS_DIR/../README.md" >"$1/server.js"
	[ -s "$1/server.js" ]
	cat >"$1/package.json" <<-'EOF'
		{"name": "my-app", "version": "1.0.0", "private": true,
		 "dependencies": {"express": "file:vendor/express"}}
	EOF
	echo '{"name": "express", "version": "4.99.0", "main": "index.js"}' >"$1/vendor/express/package.json"
	cat >"$1/vendor/express/index.js" <<-'EOF'
		// a stand-in for express: app.get(path, handler), res.send, app.listen(port, cb)
		const http = require("http");
		module.exports = function express() {
		  const routes = {};
		  const app = (req, res) => {
		    res.send = (body) => res.end(String(body));
		    const h = routes[req.method + " " + req.url];
		    if (h) return h(req, res);
		    res.statusCode = 404;
		    res.end("not found\n");
		  };
		  app.get = (path, h) => { routes["GET " + path] = h; return app; };
		  app.listen = (port, cb) => http.createServer(app).listen(port, cb);
		  return app;
		};
	EOF
	(cd "$1" && npm install --package-lock-only >/dev/null)
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

@test "the README quick start builds a Node app that answers HTTP from its image" {
	make_quickstart_app "$BATS_TEST_TMPDIR/my-app"
	quickstart_commands >"$BATS_TEST_TMPDIR/commands.sh"
	grep -q '^npm ci' "$BATS_TEST_TMPDIR/commands.sh"
	grep -q '^ocinoco build \. --from ' "$BATS_TEST_TMPDIR/commands.sh"
	# cd my-app: the test's copy
	(cd "$BATS_TEST_TMPDIR" && bash -eo pipefail "$BATS_TEST_TMPDIR/commands.sh") \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	# what the README says it prints (digests and times aside)
	grep -Eq '^added 1 package in [0-9.]+m?s$' "$BATS_TEST_TMPDIR/out"
	[[ $(tail -n1 "$BATS_TEST_TMPDIR/out") =~ ^$REG_HOST/you/my-app:1@sha256:[0-9a-f]{64}$ ]]
	grep -Eq "^ocinoco: build: base $BASE@sha256:[0-9a-f]{64}$" "$BATS_TEST_TMPDIR/err"
	grep -Eq "^ocinoco: build: layer sha256:[0-9a-f]{64} of \. --layer node_modules: made$" "$BATS_TEST_TMPDIR/err"
	grep -Eq "^ocinoco: build: layer sha256:[0-9a-f]{64} of \.: made$" "$BATS_TEST_TMPDIR/err"
	grep -Eq "^ocinoco: build: pushed in [0-9.]+ s$" "$BATS_TEST_TMPDIR/err"
	# the image, pulled by skopeo, its layers applied in order
	skopeo copy -q --src-tls-verify=false "docker://$REG_HOST/you/my-app:1" "oci:$BATS_TEST_TMPDIR/pulled:app"
	ROOTFS=$BATS_TEST_TMPDIR/rootfs
	layout_rootfs "$BATS_TEST_TMPDIR/pulled" app "$ROOTFS"
	[ -f "$ROOTFS/app/node_modules/express/index.js" ]
	# --layer node_modules: the last but one layer holds node_modules, the last the rest
	local -a layers
	mapfile -t layers < <(oci-fetch "oci:$BATS_TEST_TMPDIR/pulled:app" | jq -r '.layers[-2:][].digest')
	tar -tf "$(layout_blob "$BATS_TEST_TMPDIR/pulled" "${layers[0]}")" >"$BATS_TEST_TMPDIR/deps.list"
	tar -tf "$(layout_blob "$BATS_TEST_TMPDIR/pulled" "${layers[1]}")" >"$BATS_TEST_TMPDIR/app.list"
	grep -qx 'app/node_modules/express/index.js' "$BATS_TEST_TMPDIR/deps.list"
	run ! grep -v '^app/$\|^app/node_modules/\|^app/node_modules$' "$BATS_TEST_TMPDIR/deps.list"
	grep -qx 'app/server.js' "$BATS_TEST_TMPDIR/app.list"
	run ! grep 'node_modules/' "$BATS_TEST_TMPDIR/app.list"
	[ -x "$ROOTFS/usr/bin/node" ]
	oci-fetch --config "oci:$BATS_TEST_TMPDIR/pulled:app" >"$BATS_TEST_TMPDIR/config.json"
	debroot_mount "$ROOTFS"
	# its command, its environment, in its working directory, on a free port
	port=$(free_port)
	local -a env args
	mapfile -t env < <(jq -r '.config.Env[]' "$BATS_TEST_TMPDIR/config.json")
	mapfile -t args < <(jq -r '(.config.Entrypoint // []) + .config.Cmd | .[]' "$BATS_TEST_TMPDIR/config.json")
	wd=$(jq -r .config.WorkingDir "$BATS_TEST_TMPDIR/config.json")
	(exec env -i "${env[@]}" "PORT=$port" "$(command -v chroot)" "$ROOTFS" /bin/sh -c 'cd "$1" && shift && exec "$@"' \
		sh "$wd" "${args[@]}" >"$BATS_TEST_TMPDIR/app.log" 2>&1) &
	APP_PID=$!
	for _ in $(seq 50); do
		answer=$(curl -sf "http://127.0.0.1:$port/") && break
		sleep 0.2
	done
	[ "$answer" = "Hello from ocinoco" ]
	grep -q "listening on $port" "$BATS_TEST_TMPDIR/app.log"
	# a code change, the build again: node_modules' layer is not made again, the image has it
	echo '// changed' >>"$BATS_TEST_TMPDIR/my-app/server.js"
	(cd "$BATS_TEST_TMPDIR/my-app" && bash -eo pipefail <(sed -n '/^ocinoco build/,/[^\\]$/p' "$BATS_TEST_TMPDIR/commands.sh")) \
		>"$BATS_TEST_TMPDIR/out2" 2>"$BATS_TEST_TMPDIR/err2"
	# (from the local cache; from the image pushed before when npm ci wrote node_modules within
	# oci-tar's racy window of the first build)
	grep -Eq "^ocinoco: build: layer ${layers[0]} of \. --layer node_modules: reused from (the cache|$REG_HOST/you/my-app:1)$" "$BATS_TEST_TMPDIR/err2"
	grep -Eq "^ocinoco: build: layer sha256:[0-9a-f]{64} of \.: made$" "$BATS_TEST_TMPDIR/err2"
	run ! grep -q "${layers[1]}" "$BATS_TEST_TMPDIR/err2"
}
