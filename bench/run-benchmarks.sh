#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-benchmarks.sh [BUILD_DIR]
#
# Runs every vmapp benchmark in one go and prints a markdown table of
# medians, direct against through vmapp-proxy:
#   - bench-validate: messages/s through vmapp_conn_handle (timed), and
#     instructions per message under callgrind (two iteration counts,
#     difference over difference, so setup cancels out);
#   - on a private headless sway 1.7 (pixman): bench-client sync and
#     bench-client frames at the default 60 Hz output and at 1000 Hz (the
#     fastest the headless backend accepts), each directly and through a
#     fresh `vmapp-proxy --local --listen`, interleaved for ROUNDS rounds;
#     the proxy's and sway's CPU time from /proc before and after each run;
#     sync once more with sway, proxy and client pinned to CPU 0.
#
# BUILD_DIR (default ./build) holds bench/bench-validate, bench/bench-client
# and proxy/vmapp-proxy.  Environment: ROUNDS (5), SYNC_N (2000), FRAMES_N
# (300), SIZE (800x600), FAST_HZ (1000), CG_ITER ("10 110").
# Needs sway; valgrind for the instruction count (skipped without it).
set -euo pipefail

CMDLINE="$0${*:+ $*}"
BUILD=${1:-./build}
ROUNDS=${ROUNDS:-5}
SYNC_N=${SYNC_N:-2000}
FRAMES_N=${FRAMES_N:-300}
SIZE=${SIZE:-800x600}
FAST_HZ=${FAST_HZ:-1000}
CG_ITER=${CG_ITER:-"10 110"}

VALIDATE=$BUILD/bench/bench-validate
CLIENT=$BUILD/bench/bench-client
PROXY=$BUILD/proxy/vmapp-proxy
for f in "$VALIDATE" "$CLIENT" "$PROXY"; do
	if [ ! -x "$f" ]; then
		echo "run-benchmarks: $f is missing: build first (meson compile -C $BUILD)" >&2
		exit 1
	fi
done
if [ "$FAST_HZ" -gt 1000 ]; then
	# wlroots 0.15 keeps the headless frame delay in whole ms: above
	# 1000 Hz it is 0, the frame timer stops and the output never recovers.
	echo "run-benchmarks: FAST_HZ above 1000 stops the headless output" >&2
	exit 1
fi

WORK=$(mktemp -d /tmp/vmapp-bench.XXXXXX)
SWAY_PID=
PROXY_PID=
cleanup() {
	if [ -n "$PROXY_PID" ]; then kill "$PROXY_PID" 2>/dev/null || true; fi
	if [ -n "$SWAY_PID" ]; then kill "$SWAY_PID" 2>/dev/null || true; fi
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

CLK_TCK=$(getconf CLK_TCK)

# --- helpers ---------------------------------------------------------------

# median of the arguments (numbers)
median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
		END { if (NR == 0) print "nan";
		      else if (NR % 2) print a[(NR + 1) / 2];
		      else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
min_of() { printf '%s\n' "$@" | sort -g | head -1; }
max_of() { printf '%s\n' "$@" | sort -g | tail -1; }

# "key value" from a benchmark's output
value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# CPU time of a whole process in ticks: utime + stime of /proc/PID/stat.
# (The command name is in parentheses and may hold spaces: cut after it.)
stat_ticks() {
	local s
	s=$(cat "/proc/$1/stat")
	s=${s##*) }
	awk '{ print $12 + $13 }' <<<"$s"
}

# CPU time of a whole process in ns: the sum of its threads' schedstat.
sched_ns() {
	cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

wait_for() { # wait_for FILE: up to 10 s
	for _ in $(seq 200); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	echo "run-benchmarks: $1 did not appear" >&2
	exit 1
}

start_proxy() {
	rm -f "$WORK/run/proxy"
	WAYLAND_DISPLAY=$SWAY_DISPLAY "${PIN[@]}" "$PROXY" --local --label bench --listen "$WORK/run/proxy" \
		2>>"$WORK/proxy.log" &
	PROXY_PID=$!
	wait_for "$WORK/run/proxy"
}

stop_proxy() {
	kill -TERM "$PROXY_PID"
	wait "$PROXY_PID" 2>/dev/null || true
	PROXY_PID=
}

# A prefix for the client and the proxy: empty, or taskset for the pinned runs.
PIN=()

# result arrays, filled by run_client: R_<name>_<direct|proxy>
declare -A R

add() { # add KEY VALUE
	R[$1]="${R[$1]:-} $2"
}

# run_client MODE KIND ARGS...: MODE is direct or proxy, KIND names the rows
run_client() {
	local mode=$1 kind=$2
	shift 2
	local out="$WORK/out" display=$SWAY_DISPLAY units=$FRAMES_N
	if [ "$1" = sync ]; then units=$SYNC_N; fi
	if [ "$mode" = proxy ]; then
		start_proxy
		display="$WORK/run/proxy"
	fi
	local sway_n0 sway_n1 p_t0=0 p_t1=0 p_n0=0 p_n1=0
	sway_n0=$(sched_ns "$SWAY_PID")
	if [ "$mode" = proxy ]; then
		p_t0=$(stat_ticks "$PROXY_PID")
		p_n0=$(sched_ns "$PROXY_PID")
	fi
	WAYLAND_DISPLAY=$display timeout 120 "${PIN[@]}" "$CLIENT" "$@" >"$out"
	sway_n1=$(sched_ns "$SWAY_PID")
	if [ "$mode" = proxy ]; then
		p_t1=$(stat_ticks "$PROXY_PID")
		p_n1=$(sched_ns "$PROXY_PID")
		stop_proxy
	fi
	head -1 "$out" | sed "s/^/  $mode $kind: /"

	local k
	for k in sync_median_us sync_p90_us frames_per_s cpu_us_per_frame; do
		local v
		v=$(value "$k" "$out")
		if [ -n "$v" ]; then add "${kind}_${k}_$mode" "$v"; fi
	done
	add "${kind}_sway_us_$mode" \
		"$(awk -v a="$sway_n0" -v b="$sway_n1" -v n="$units" \
			'BEGIN { printf "%.2f", (b - a) / n / 1e3 }')"
	if [ "$mode" = proxy ]; then
		add "${kind}_proxy_stat_us_proxy" \
			"$(awk -v a="$p_t0" -v b="$p_t1" -v t="$CLK_TCK" -v n="$units" \
				'BEGIN { printf "%.2f", (b - a) / t / n * 1e6 }')"
		add "${kind}_proxy_sched_us_proxy" \
			"$(awk -v a="$p_n0" -v b="$p_n1" -v n="$units" \
				'BEGIN { printf "%.2f", (b - a) / n / 1e3 }')"
	fi
}

fmt() { # fmt LIST: "median (min-max)"
	# shellcheck disable=SC2086
	[ -z "${1// /}" ] && { echo "-"; return; }
	# shellcheck disable=SC2086
	printf '%.1f (%.1f-%.1f)' "$(median $1)" "$(min_of $1)" "$(max_of $1)"
}

ratio() { # ratio DIRECT_LIST PROXY_LIST
	# shellcheck disable=SC2086
	if [ -z "${1// /}" ] || [ -z "${2// /}" ]; then echo "-"; return; fi
	# shellcheck disable=SC2086
	awk -v d="$(median $1)" -v p="$(median $2)" 'BEGIN { if (d > 0) printf "%.2f", p / d; else print "-" }'
}

row() { # row LABEL KEY  (KEY_direct and KEY_proxy)
	local d=${R[${2}_direct]:-} p=${R[${2}_proxy]:-}
	printf '| %s | %s | %s | %s |\n' "$1" "$(fmt "$d")" "$(fmt "$p")" "$(ratio "$d" "$p")"
}

row_proxy_only() { # row LABEL KEY  (KEY_proxy only)
	printf '| %s | - | %s | - |\n' "$1" "$(fmt "${R[${2}_proxy]:-}")"
}

# --- the machine -------------------------------------------------------------

echo "# vmapp benchmarks"
echo
echo "command: $CMDLINE"
echo "commit: $(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null || echo unknown)"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
	"$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
echo "build: $BUILD, buildtype $(python3 -c 'import json, sys
print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == "buildtype"))' \
	"$BUILD/meson-info/intro-buildoptions.json" 2>/dev/null || echo unknown)"
echo

# --- the validator alone -----------------------------------------------------

echo "## bench-validate"
"$VALIDATE" --runs 11 --cycles 2000 | tee "$WORK/validate"
V_RATE=$(value messages_per_s "$WORK/validate")
V_NS=$(value ns_per_message "$WORK/validate")

V_IPM=
if command -v valgrind >/dev/null; then
	# shellcheck disable=SC2086
	set -- $CG_ITER
	n1=$1 n2=$2
	for n in "$n1" "$n2"; do
		valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$n" \
			"$VALIDATE" --iterations "$n" >"$WORK/cg-out.$n" 2>"$WORK/cg-err.$n"
	done
	ir1=$(awk '$1 == "summary:" { print $2 }' "$WORK/cg.$n1")
	ir2=$(awk '$1 == "summary:" { print $2 }' "$WORK/cg.$n2")
	m1=$(awk '{ print $4 }' "$WORK/cg-out.$n1")
	m2=$(awk '{ print $4 }' "$WORK/cg-out.$n2")
	V_IPM=$(awk -v a="$ir1" -v b="$ir2" -v x="$m1" -v y="$m2" \
		'BEGIN { printf "%.0f", (b - a) / (y - x) }')
	echo "callgrind: $ir1 Ir for $m1 messages, $ir2 Ir for $m2 messages:" \
		"$V_IPM instructions/message"
fi
set --
echo

# --- headless sway -----------------------------------------------------------

mkdir -m 700 "$WORK/run"
cat >"$WORK/sway.conf" <<EOF
xwayland disable
output HEADLESS-1 resolution 800x600 background #203040 solid_color
default_border none
exec sh -c 'echo "\$WAYLAND_DISPLAY \$SWAYSOCK" > $WORK/env'
EOF
UNSHARE=()
if [ "$(id -u)" = 0 ]; then UNSHARE=(unshare --user); fi # sway refuses to run as root
XDG_RUNTIME_DIR=$WORK/run WLR_BACKENDS=headless WLR_RENDERER=pixman \
	"${UNSHARE[@]}" sway -c "$WORK/sway.conf" >"$WORK/sway.log" 2>&1 &
SWAY_PID=$!
wait_for "$WORK/env"
read -r SWAY_DISPLAY SWAYSOCK <"$WORK/env"
export XDG_RUNTIME_DIR=$WORK/run SWAYSOCK
SWAY_DISPLAY=$WORK/run/$SWAY_DISPLAY

set_hz() {
	swaymsg -- output HEADLESS-1 mode --custom "$SIZE@$1Hz" >/dev/null
}

declare -a KNOB_FPS=()
# Whether the usual knobs lift the 60 Hz cap of the headless output.
echo "## no-vsync knobs (one $FRAMES_N-frame run each, direct)"
for knob in "max_render_time off" "adaptive_sync on"; do
	# shellcheck disable=SC2086
	swaymsg -- output HEADLESS-1 $knob >/dev/null || true
	fps=$(WAYLAND_DISPLAY=$SWAY_DISPLAY timeout 120 "$CLIENT" frames "$FRAMES_N" "$SIZE" |
		awk '$1 == "frames_per_s" { print $2 }')
	echo "  output HEADLESS-1 $knob: $fps frames/s"
	KNOB_FPS+=("$knob: $fps")
done
swaymsg -- output HEADLESS-1 adaptive_sync off >/dev/null || true
echo

echo "## rounds (direct, proxy, interleaved)"
for round in $(seq "$ROUNDS"); do
	echo "round $round"
	for mode in direct proxy; do
		run_client "$mode" sync sync "$SYNC_N"
	done
	# The same with sway, proxy and client all on CPU 0: no cross-CPU
	# wake-ups, whose cost (about 2x here) otherwise decides the figure.
	taskset -a -p -c 0 "$SWAY_PID" >/dev/null
	PIN=(taskset -c 0)
	for mode in direct proxy; do
		run_client "$mode" sync1 sync "$SYNC_N"
	done
	PIN=()
	taskset -a -p -c "0-$(($(nproc) - 1))" "$SWAY_PID" >/dev/null
	set_hz 60
	for mode in direct proxy; do
		run_client "$mode" f60 frames "$FRAMES_N" "$SIZE"
	done
	set_hz "$FAST_HZ"
	for mode in direct proxy; do
		run_client "$mode" ffast frames "$FRAMES_N" "$SIZE"
	done
	set_hz 60
done
echo

# --- the table ---------------------------------------------------------------

echo "## results"
echo
echo "command: \`$CMDLINE\`, $ROUNDS rounds; cells are median (min-max) over the rounds."
echo
echo "| benchmark | direct | through vmapp-proxy | proxy/direct |"
echo "|---|---|---|---|"
row "sync: round trip, median of $SYNC_N (us)" sync_sync_median_us
row "sync: round trip, p90 of $SYNC_N (us)" sync_sync_p90_us
row_proxy_only "sync: proxy CPU per round trip, schedstat (us)" sync_proxy_sched_us
row_proxy_only "sync: proxy CPU per round trip, stat ticks (us)" sync_proxy_stat_us
row "sync: sway CPU per round trip, schedstat (us)" sync_sway_us
row "sync, all on CPU 0: round trip, median of $SYNC_N (us)" sync1_sync_median_us
row "sync, all on CPU 0: round trip, p90 of $SYNC_N (us)" sync1_sync_p90_us
row_proxy_only "sync, all on CPU 0: proxy CPU per round trip, schedstat (us)" sync1_proxy_sched_us
for f in f60 ffast; do
	if [ $f = f60 ]; then hz=60; else hz=$FAST_HZ; fi
	label="frames $FRAMES_N $SIZE @${hz} Hz"
	row "$label: frames/s" "${f}_frames_per_s"
	row "$label: client CPU per frame (us)" "${f}_cpu_us_per_frame"
	row_proxy_only "$label: proxy CPU per frame, schedstat (us)" "${f}_proxy_sched_us"
	row_proxy_only "$label: proxy CPU per frame, stat ticks (us)" "${f}_proxy_stat_us"
	row "$label: sway CPU per frame, schedstat (us)" "${f}_sway_us"
done
echo "| bench-validate: messages/s (median of 11) | - | $V_RATE | - |"
echo "| bench-validate: ns/message | - | $V_NS | - |"
echo "| bench-validate: instructions/message (callgrind) | - | ${V_IPM:--} | - |"
echo
echo "no-vsync knobs at 60 Hz (direct frames/s): ${KNOB_FPS[*]}"
echo "CPU times: /proc/PID/stat utime+stime (ticks of 1/$CLK_TCK s, so coarse: one tick over"
echo "$FRAMES_N frames is $((1000000 / CLK_TCK / FRAMES_N)) us/frame) and /proc/PID/task/*/schedstat (ns), read before and after"
echo "each client run; the proxy is started fresh for each proxied run and measured from"
echo "just before the client connects to just after it exits."
