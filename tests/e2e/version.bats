#!/usr/bin/env bats
# The registry sees ocinoco/VERSION as the User-Agent of every request of the programs.
load ../lib/common
load ../lib/registry
load ../lib/images

setup_file() { registry_start REG tls; }
teardown_file() { registry_stop_all; }

@test "oci-put and oci-fetch send User-Agent ocinoco/VERSION" {
	local version d=$BATS_TEST_TMPDIR
	read -r version <"$TESTS_DIR/../VERSION"
	mkdir "$d/app"
	echo hi >"$d/app/f"
	run_status 0 ocinoco build "$d/app" --from scratch --tag "$REG_HOST/ua/app:1" --push \
		--cacert "$TEST_CA"
	run_status 0 oci-fetch --cacert "$TEST_CA" -o /dev/null "$REG_HOST/ua/app:1"
	# Access log lines: ... "METHOD URI PROTO" STATUS SIZE "REFERER" "USER-AGENT"
	local total ours
	total=$(grep -c '"[A-Z]* /v2/ua/' "$REG_LOG")
	ours=$(grep '"[A-Z]* /v2/ua/' "$REG_LOG" | grep -c "\"ocinoco/$version\"\$")
	[ "$total" -ge 5 ] && [ "$ours" = "$total" ] || {
		grep '/v2/ua/' "$REG_LOG"
		return 1
	}
}
