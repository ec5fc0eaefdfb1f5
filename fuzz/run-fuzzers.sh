#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Builds the libFuzzer targets with clang (address and undefined behaviour
# sanitizers) in a temporary build directory and runs each one for SECONDS
# on a copy of its committed corpus (the committed corpus does not grow).
#
#   fuzz/run-fuzzers.sh SECONDS [TARGET...]     TARGET: wire, session, transport, desktop, bridge, vsockd (default: all)
#
# Exit status: 0 when no target crashed, leaked or timed out; 1 when one
# did (the reproducer's path is printed: put it in fuzz/crashes/TARGET/);
# 2 on a usage or build error.  On failure the work directory is kept.
#
# Environment: CC (default clang); VMAPP_FUZZ_BUILDDIR reuses a build
# directory instead of a temporary one; VMAPP_FUZZ_KEEP=1 keeps the work
# directory (logs, grown corpus) even on success.

set -eu

usage() {
	echo "usage: $0 SECONDS [wire|session|transport|desktop|bridge|vsockd]..." >&2
	exit 2
}

[ $# -ge 1 ] || usage
seconds=$1
shift
case $seconds in
	''|*[!0-9]*) usage ;;
esac
targets=${*:-wire session transport desktop bridge vsockd}
for t in $targets; do
	case $t in
		wire|session|transport|desktop|bridge|vsockd) ;;
		*) usage ;;
	esac
done

src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vmapp-fuzz.XXXXXX")
build=${VMAPP_FUZZ_BUILDDIR:-$work/build}

echo "run-fuzzers: work directory $work"
if [ ! -f "$build/build.ninja" ]; then
	# -fno-sanitize-recover: undefined behaviour is a crash, not a log line.
	if ! CC=${CC:-clang} meson setup "$build" "$src" \
		-Dfuzz=true \
		-Db_sanitize=address,undefined \
		-Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all \
		>"$work/setup.log" 2>&1; then
		cat "$work/setup.log" >&2
		echo "run-fuzzers: meson setup failed (log in $work)" >&2
		exit 2
	fi
fi
ninja_targets=
for t in $targets; do
	ninja_targets="$ninja_targets fuzz/fuzz-$t"
done
# shellcheck disable=SC2086 # one word per target
if ! ninja -C "$build" $ninja_targets >"$work/build.log" 2>&1; then
	cat "$work/build.log" >&2
	echo "run-fuzzers: build failed (log in $work)" >&2
	exit 2
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=0
for t in $targets; do
	corpus=$work/corpus/$t
	artifacts=$work/artifacts/$t
	mkdir -p "$corpus" "$artifacts"
	cp "$src/fuzz/corpus/$t/"* "$corpus/"

	echo "run-fuzzers: fuzz-$t for ${seconds}s"
	status=0
	"$build/fuzz/fuzz-$t" \
		-max_total_time="$seconds" \
		-rss_limit_mb=2048 \
		-timeout=10 \
		-print_final_stats=1 \
		-artifact_prefix="$artifacts/" \
		"$corpus" >"$work/$t.log" 2>&1 || status=$?

	# The last coverage line and the speed, for the CI log.
	grep -E '^#[0-9]+.*(DONE|cov:)' "$work/$t.log" | tail -n 1 || true
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
		"$work/$t.log" || true

	found=$(find "$artifacts" -type f | sort)
	if [ "$status" -ne 0 ] || [ -n "$found" ]; then
		failed=1
		echo "run-fuzzers: fuzz-$t FAILED (exit $status); log: $work/$t.log" >&2
		grep -E -A 30 '^(==[0-9]+==ERROR|.*runtime error|.*invariant failed|fd [0-9]+ leaked|fd leaked|SIGPIPE)' \
			"$work/$t.log" | head -n 60 >&2 || true
		for f in $found; do
			echo "run-fuzzers: crash file: $f" >&2
		done
	fi
done

if [ "$failed" -ne 0 ]; then
	echo "run-fuzzers: kept $work" >&2
	exit 1
fi
if [ "${VMAPP_FUZZ_KEEP:-0}" = 1 ]; then
	echo "run-fuzzers: kept $work"
else
	rm -rf "$work"
fi
exit 0
