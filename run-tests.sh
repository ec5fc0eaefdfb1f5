#!/bin/bash
# Runs the whole test suite: the normal build (unit, golden, fuzz corpus
# replay, integration against headless sway and weston), the sanitizer
# build (address,undefined), and the fuzzers for a bounded time.
#
#   ./run-tests.sh             everything
#   VMAPP_FUZZ_SECONDS=0 ./run-tests.sh    no fuzzing run
#
# With CI=true a skipped test counts as a failure.  Ends with the line
# "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"

build=${VMAPP_BUILD_DIR:-build}
asan=${VMAPP_ASAN_BUILD_DIR:-build-asan}
if [[ ${CI:-} == true ]]; then
	fuzz_seconds=${VMAPP_FUZZ_SECONDS:-120}
else
	fuzz_seconds=${VMAPP_FUZZ_SECONDS:-30}
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

passed=0 failed=0 skipped=0
failures=()

# count BUILD_DIR LABEL: adds up the results of the last meson test run.
count() {
	local line
	while read -r line; do
		case $line in
		"OK "*) passed=$((passed + 1)) ;;
		"SKIP "*) skipped=$((skipped + 1)); failures+=("skipped: $2 ${line#SKIP }") ;;
		*) failed=$((failed + 1)); failures+=("$2 ${line#* }") ;;
		esac
	done < <(python3 - "$1/meson-logs/testlog.json" <<'PY'
import json, sys
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    print("ERROR no-test-log"); sys.exit()
for line in lines:
    t = json.loads(line)
    r = t["result"]
    r = {"EXPECTEDFAIL": "OK"}.get(r, r)
    print(r, t["name"])
PY
)
}

setup() { # DIR [meson options...]
	local dir=$1
	shift
	if [[ -f $dir/build.ninja ]]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@"
	fi
}

step() {
	printf '\n=== %s\n' "$*"
}

step "build"
if ! { setup "$build" && meson compile -C "$build"; }; then
	echo "run-tests: the build failed"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

step "tests: unit, golden, fuzz corpus replay, integration"
meson test -C "$build" --no-rebuild --print-errorlogs
count "$build" ""

step "sanitizer build (address,undefined): unit, golden, fuzz replay, hostile clients, real apps"
if setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug &&
	meson compile -C "$asan"; then
	meson test -C "$asan" --no-rebuild --print-errorlogs \
		--suite unit --suite golden --suite fuzz --suite sanitize
	count "$asan" "asan:"
else
	failed=$((failed + 1))
	failures+=("the sanitizer build failed")
fi

if [[ $fuzz_seconds != 0 ]]; then
	step "fuzzing, $fuzz_seconds s per target"
	if ! command -v clang >/dev/null; then
		if [[ ${CI:-} == true ]]; then
			failed=$((failed + 1)); failures+=("fuzzing: no clang")
		else
			skipped=$((skipped + 1)); failures+=("skipped: fuzzing (no clang)")
		fi
	elif fuzz/run-fuzzers.sh "$fuzz_seconds"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1)); failures+=("fuzzing found a crash")
	fi
fi

step "summary"
for f in "${failures[@]}"; do
	echo "  $f"
done
if [[ ${CI:-} == true && $skipped -gt 0 ]]; then
	echo "run-tests: CI=true and $skipped test(s) skipped: that is a failure"
	failed=$((failed + skipped))
	skipped=0
fi
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed == 0 ]]
