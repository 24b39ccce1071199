#!/usr/bin/env bats
# The progress line of oci-put (and ocinoco build): on a terminal (a pseudo-terminal made by
# script(1)) when an upload or a cross-registry copy takes more than a second, never in a pipe
# nor with -q. The fault proxy delays every upload request so that it takes > 1 s.
load ../lib/common
load ../lib/registry
bats_require_minimum_version 1.5.0

setup_file() {
	registry_start REG plain
	fault_proxy_start SLOW "$REG_HOST" '* /blobs/uploads/ delay=1.2 times=always'
	export FIX=$BATS_FILE_TMPDIR/fix
	mkdir -p "$FIX"
	head -c 4194304 /dev/urandom >"$FIX/4m"
}

teardown_file() {
	fault_proxy_stop SLOW
	registry_stop_all
}

sha() { echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"; }

# on_tty CMD...: runs CMD with stdin, stdout and stderr on a pseudo-terminal; what the
# terminal got in $BATS_TEST_TMPDIR/tty, its status in $tty_status.
on_tty() {
	local cmd
	printf -v cmd '%q ' "$@"
	tty_status=0
	script -qec "$cmd" /dev/null >"$BATS_TEST_TMPDIR/tty" </dev/null || tty_status=$?
}

# The progress lines: what follows each carriage return.
progress_lines() {
	tr '\r' '\n' <"$BATS_TEST_TMPDIR/tty" | grep -a 'oci-put: .* sent' || true
}

@test "a slow upload on a terminal: a progress line redrawn in place, ending with every byte" {
	on_tty oci-put blob "$SLOW_HOST/prog/tty" "$FIX/4m"
	[ "$tty_status" = 0 ]
	grep -aq "$(sha "$FIX/4m")" "$BATS_TEST_TMPDIR/tty"
	# redrawn in place: a carriage return, the line, an erase to its end
	grep -aq $'\roci-put: [0-9.]* [KMG]*i*B sent, [0-9.]* [KMG]*i*B/s\e\[K' "$BATS_TEST_TMPDIR/tty"
	progress_lines | tail -n1 | grep -aq '^oci-put: 4\.0 MiB sent, [0-9.]* [KM]iB/s'
	oci-fetch --blob "$(sha "$FIX/4m")" "$REG_HOST/prog/tty" | cmp - "$FIX/4m"
}

@test "a slow upload into a pipe: not one byte of progress" {
	oci-put blob "$SLOW_HOST/prog/pipe" "$FIX/4m" 2>"$BATS_TEST_TMPDIR/err" | cat >"$BATS_TEST_TMPDIR/out"
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "$(sha "$FIX/4m")" ]
	# the upload did take more than a second through the proxy
	[ "$(fault_proxy_requests SLOW 'PUT|PATCH|POST' '/v2/prog/pipe/blobs/uploads/')" -ge 1 ]
}

@test "-q on a terminal: no progress line" {
	on_tty oci-put -q blob "$SLOW_HOST/prog/quiet" "$FIX/4m"
	[ "$tty_status" = 0 ]
	grep -aq "$(sha "$FIX/4m")" "$BATS_TEST_TMPDIR/tty"
	[ -z "$(progress_lines)" ]
	run ! grep -aq $'\r\e\[K\|sent' "$BATS_TEST_TMPDIR/tty"
}

@test "a quick upload on a terminal: no progress line" {
	on_tty oci-put blob "$REG_HOST/prog/quick" "$FIX/4m"
	[ "$tty_status" = 0 ]
	grep -aq "$(sha "$FIX/4m")" "$BATS_TEST_TMPDIR/tty"
	[ -z "$(progress_lines)" ]
}

@test "a cross-registry copy (--from another registry) on a terminal shows the progress" {
	oci-put blob "$REG_HOST/prog/src" "$FIX/4m" >/dev/null
	on_tty oci-put blob --from "$REG_HOST/prog/src" "$SLOW_HOST/prog/copy" "$(sha "$FIX/4m")"
	[ "$tty_status" = 0 ]
	progress_lines | tail -n1 | grep -aq '^oci-put: 4\.0 MiB sent, '
	oci-fetch --blob "$(sha "$FIX/4m")" "$REG_HOST/prog/copy" | cmp - "$FIX/4m"
}

@test "ocinoco build --push: progress on a terminal, none with -q, none in a pipe" {
	mkdir -p "$BATS_TEST_TMPDIR/app"
	head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/app/data"
	on_tty ocinoco build "$BATS_TEST_TMPDIR/app" --from scratch --tag "$SLOW_HOST/prog/app:1" \
		--compression none --push
	[ "$tty_status" = 0 ]
	[ -n "$(progress_lines)" ]
	on_tty ocinoco build "$BATS_TEST_TMPDIR/app" --from scratch --tag "$SLOW_HOST/prog/app:2" \
		--compression none --mtime 1 --push -q
	[ "$tty_status" = 0 ]
	[ -z "$(progress_lines)" ]
	# all the terminal got: the reference pushed
	[[ $(tr -d '\r' <"$BATS_TEST_TMPDIR/tty") =~ ^$SLOW_HOST/prog/app:2@sha256:[0-9a-f]{64}$ ]]
	ocinoco build "$BATS_TEST_TMPDIR/app" --from scratch --tag "$SLOW_HOST/prog/app:3" \
		--compression none --mtime 2 --push 2>"$BATS_TEST_TMPDIR/err" | cat >/dev/null
	grep -q 'ocinoco: build: ' "$BATS_TEST_TMPDIR/err"
	run ! grep -aq 'sent\|'$'\r' "$BATS_TEST_TMPDIR/err"
}

@test "ocinoco index copying an image across registries: progress on a terminal, none with -q" {
	mkdir -p "$BATS_TEST_TMPDIR/app"
	head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/app/data"
	ocinoco build "$BATS_TEST_TMPDIR/app" --from scratch --platform linux/amd64 \
		--tag "$REG_HOST/prog/src-app:1" --compression none --push -q >/dev/null
	on_tty ocinoco index --tag "$SLOW_HOST/prog/idx:1" "$REG_HOST/prog/src-app:1"
	[ "$tty_status" = 0 ]
	progress_lines | tail -n1 | grep -aq '^oci-put: 2\.[0-9] MiB sent, '
	on_tty ocinoco index -q --tag "$SLOW_HOST/prog/idx-quiet:1" "$REG_HOST/prog/src-app:1"
	[ "$tty_status" = 0 ]
	[ -z "$(progress_lines)" ]
	[[ $(tr -d '\r' <"$BATS_TEST_TMPDIR/tty") =~ ^$SLOW_HOST/prog/idx-quiet:1@sha256:[0-9a-f]{64}$ ]]
}
