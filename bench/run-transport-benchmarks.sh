#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-transport-benchmarks.sh [BUILD_DIR]
#
# The VM split against waypipe, side by side, on one private headless
# sway 1.7 (pixman) with a 1920x1080 output:
#   direct    bench-client talks to sway;
#   vmapp     `vmapp-proxy --accept unix:SOCK --label bench` (the host half,
#             connected to sway) and `vmapp-agent --connect unix:SOCK
#             --socket wl-bench -- bench-client ...` (the guest half, which
#             serves wl-bench and runs the client on it), joined by a unix
#             stream socket;
#   waypipe   `waypipe -n -s WSOCK client` (connected to sway) and
#             `waypipe -n -s WSOCK server -- bench-client ...`, with
#             --compress none (0.8.4's default, too);
#   wp-lz4    the same with --compress lz4 (WAYPIPE_LZ4=0 leaves it out).
# Benchmarks: bench-client sync SYNC_N (wl_display.sync round trips) and
# bench-client frames FRAMES_N SIZE PATTERN (a full-damage shm animation,
# two buffers, paced by frame callbacks, every pixel changing every frame:
# a moving gradient, which lz4 shrinks a lot, or PATTERN=noise, which no
# compressor shrinks).
# The frames benchmark runs twice: with the output at HZ (60, what a
# desktop does) and at FAST_HZ (1000, so frame callbacks no longer cap the
# rate and frames/s shows what each path can carry).  Rounds interleave the
# paths (the order rotates from round to round).
#
# CPU: bench-client's --marks FIFOs stop it just before and just after its
# measured part; at each stop the script reads utime+stime
# (/proc/PID/stat) and the threads' schedstat of every process of the path
# (the two halves and any process they forked, not the client) and of sway.
# The client's own CPU per frame is its getrusage figure.
#
# BUILD_DIR (default ./build) holds bench/bench-client, proxy/vmapp-proxy
# and agent/vmapp-agent (the vmapp path is skipped, and says why, if the
# agent is missing or its check fails).  Environment: ROUNDS (5), SYNC_N
# (2000), FRAMES_N (300), SIZE (1920x1080), PATTERN (gradient or noise),
# HZ (60) and FAST_HZ (1000; 0
# leaves that set out; at most 1000), PATHS ("direct vmapp waypipe wp-lz4"),
# WAYPIPE_LZ4 (1).  Needs sway and waypipe.  About 6 minutes with the
# defaults.
set -uo pipefail

CMDLINE="$0${*:+ $*}"
BUILD=${1:-./build}
ROUNDS=${ROUNDS:-5}
SYNC_N=${SYNC_N:-2000}
FRAMES_N=${FRAMES_N:-300}
SIZE=${SIZE:-1920x1080}
PATTERN=${PATTERN:-gradient}
HZ=${HZ:-60}
FAST_HZ=${FAST_HZ:-1000}
WAYPIPE_LZ4=${WAYPIPE_LZ4:-1}
PATHS=${PATHS:-"direct vmapp waypipe wp-lz4"}
RUN_TIMEOUT=${RUN_TIMEOUT:-180} # seconds, for one client run

CLIENT=$BUILD/bench/bench-client
PROXY=$BUILD/proxy/vmapp-proxy
AGENT=$BUILD/agent/vmapp-agent

BENCH_NAME=run-transport-benchmarks
# shellcheck source-path=SCRIPTDIR source=lib-bench.sh
. "$(dirname "$0")/lib-bench.sh"
fail() { bench_fail "$@"; }

[ -x "$CLIENT" ] || fail "$CLIENT is missing: build first (meson compile -C $BUILD)"
command -v sway >/dev/null || fail "needs sway"
check_hz "$HZ" "$FAST_HZ"
case $PATTERN in gradient | noise) ;; *) fail "PATTERN is gradient or noise" ;; esac
if [ "$WAYPIPE_LZ4" = 0 ]; then PATHS=${PATHS/wp-lz4/}; fi
# shellcheck disable=SC2206
PATHS=($PATHS)

WORK=$(mktemp -d /tmp/vmapp-tbench.XXXXXX)
SWAY_PID=
BG_PIDS=() # the current run's long-lived halves (proxy, waypipe client)
JOB=       # the current run's command (client, agent or waypipe server)
cleanup() {
	local p
	for p in "${BG_PIDS[@]}" $JOB $SWAY_PID; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

CLK_TCK=$(getconf CLK_TCK)

# --- helpers ---------------------------------------------------------------

# snap OUT LABEL=PID...: one line "label pid ticks ns" for each process of
# the trees rooted at the PIDs (children found through ppid), except the
# bench-client ($CLIENT_PID); ticks = utime + stime of /proc/PID/stat, ns =
# the sum of /proc/PID/task/*/schedstat.
snap() {
	local out=$1
	shift
	ps -e -o pid=,ppid= | awk -v roots="$*" -v skip="$CLIENT_PID" '
		{ parent[$1] = $2; pids[NR] = $1 }
		END {
			n = split(roots, r, " ")
			for (i = 1; i <= n; i++) {
				split(r[i], kv, "=")
				label[kv[2]] = kv[1]
			}
			# a process belongs to the first labelled ancestor (or itself)
			for (j in pids) {
				p = pids[j]
				for (a = p; a != "" && a != 0 && a != 1; a = parent[a])
					if (a in label) {
						if (p != skip) print label[a], p
						break
					}
			}
		}' | while read -r label pid; do
		local s ns
		s=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		s=${s##*) }
		ns=$(cat /proc/"$pid"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }')
		awk -v l="$label" -v p="$pid" -v n="$ns" '{ print l, p, $12 + $13, n }' <<<"$s"
	done >"$out"
}

# delta START END LABEL UNITS: "stat_us sched_us" per unit for the processes
# labelled LABEL (a process missing at the start counts from zero; one that
# exited before the end is lost, which the marks make unlikely).
delta() {
	awk -v want="$3" -v n="$4" -v tck="$CLK_TCK" '
		NR == FNR { if ($1 == want) { t0[$2] = $3; s0[$2] = $4 } next }
		$1 == want { dt += $3 - t0[$2]; ds += $4 - s0[$2] }
		END { printf "%.2f %.2f\n", dt / tck / n * 1e6, ds / n / 1e3 }' "$1" "$2"
}

declare -A R
add() { R[$1]="${R[$1]:-} $2"; }

# read_mark FD: the next "start PID" or "end PID" line from the client,
# giving up when the run's command has exited or after RUN_TIMEOUT.
read_mark() {
	local line deadline=$((SECONDS + RUN_TIMEOUT))
	while [ $SECONDS -lt $deadline ]; do
		if read -r -t 1 -u "$1" line; then
			echo "$line"
			return 0
		fi
		kill -0 "$JOB" 2>/dev/null || return 1
	done
	return 1
}

# A vmapp-agent (at 2fc4f4f) can stall after its handshake with the proxy
# and never run its command: when the first vmapp_bridge_dispatch() before
# its main loop already completes the handshake, the loop waits in
# epoll_wait() for an event that does not come before it checks that it may
# start serving.  Any signal wakes it; SIGCHLD does nothing else there.
# This waits up to 1 s for the agent to start the client, then sends it
# SIGCHLD, and counts how often (before the measured part: no effect on
# the figures).
KICKS=0
UNCLEAN=0 # runs measured whole whose path then did not end cleanly
kick_agent() {
	for _ in $(seq 20); do
		kill -0 "$JOB" 2>/dev/null || return 0
		pgrep -P "$JOB" >/dev/null && return 0
		sleep 0.05
	done
	KICKS=$((KICKS + 1))
	echo "    (the agent had not started the client after 1 s: sent it SIGCHLD)"
	kill -CHLD "$JOB" 2>/dev/null || true
}

stop_bg() {
	local p
	for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	BG_PIDS=()
}

# run_one PATH KIND ARGS...: one client run on PATH (direct, vmapp,
# waypipe, wp-lz4); KIND names the rows.
run_one() {
	local path=$1 kind=$2
	shift 2
	local units=$FRAMES_N log="$WORK/$path.log" out="$WORK/out"
	if [ "$1" = sync ]; then units=$SYNC_N; fi
	rm -f "$WORK/mark" "$WORK/go" "$out"
	mkfifo "$WORK/mark" "$WORK/go"
	local mfd gfd
	exec {mfd}<>"$WORK/mark" {gfd}<>"$WORK/go"
	local cmd=("$CLIENT" "$@" --marks "$WORK/mark" "$WORK/go")
	local roots=() guest=0 host=0

	# A display name that does not exist: a half that forgot to point the
	# client at itself makes the run fail instead of measuring sway alone.
	local nodisp=bench-no-such-display
	case $path in
	direct)
		WAYLAND_DISPLAY=$SWAY_DISPLAY "${cmd[@]}" >"$out" 2>>"$log" {mfd}>&- {gfd}>&- &
		JOB=$!
		;;
	vmapp)
		rm -f "$WORK/vm.sock"
		WAYLAND_DISPLAY=$SWAY_DISPLAY "$PROXY" --accept "unix:$WORK/vm.sock" --label bench \
			>>"$log" 2>&1 {mfd}>&- {gfd}>&- &
		host=$!
		BG_PIDS=("$host")
		wait_for "$WORK/vm.sock" || { stop_bg; exec {mfd}>&- {gfd}>&-; return 1; }
		WAYLAND_DISPLAY=$nodisp "$AGENT" --connect "unix:$WORK/vm.sock" --socket wl-bench \
			-- "${cmd[@]}" >"$out" 2>>"$log" {mfd}>&- {gfd}>&- &
		JOB=$!
		guest=$JOB
		kick_agent
		;;
	waypipe | wp-lz4)
		local comp=none
		if [ "$path" = wp-lz4 ]; then comp=lz4; fi
		rm -f "$WORK/wp.sock"
		WAYLAND_DISPLAY=$SWAY_DISPLAY waypipe -n --compress "$comp" -s "$WORK/wp.sock" client \
			>>"$log" 2>&1 {mfd}>&- {gfd}>&- &
		host=$!
		BG_PIDS=("$host")
		wait_for "$WORK/wp.sock" || { stop_bg; exec {mfd}>&- {gfd}>&-; return 1; }
		WAYLAND_DISPLAY=$nodisp waypipe -n --compress "$comp" -s "$WORK/wp.sock" server \
			-- "${cmd[@]}" >"$out" 2>>"$log" {mfd}>&- {gfd}>&- &
		JOB=$!
		guest=$JOB
		;;
	esac
	roots=("sway=$SWAY_PID" "guest=$guest" "host=$host")

	local ok=1 m
	rm -f "$WORK/s0" "$WORK/s1"
	CLIENT_PID=
	if m=$(read_mark "$mfd") && [ "${m%% *}" = start ]; then
		CLIENT_PID=${m#* }
		snap "$WORK/s0" "${roots[@]}"
		echo go >&"$gfd"
		if m=$(read_mark "$mfd") && [ "${m%% *}" = end ]; then
			snap "$WORK/s1" "${roots[@]}"
			echo go >&"$gfd"
		else
			ok=0
		fi
	else
		ok=0
	fi
	local deadline=$((SECONDS + 30))
	while kill -0 "$JOB" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
	# What the run left behind goes too: the trees as they are now, and as
	# they were at the start mark (a process whose parent went away is no
	# longer in its tree).
	local left p
	left=$(tree_pids "$JOB" "${BG_PIDS[@]}")
	if [ -n "$CLIENT_PID" ]; then left+=" $(awk '$1 != "sway" { print $2 }' "$WORK/s0")"; fi
	kill "$JOB" 2>/dev/null || true
	local status=0
	wait "$JOB" 2>/dev/null || status=$?
	JOB=
	stop_bg
	exec {mfd}>&- {gfd}>&-
	for p in $left $CLIENT_PID; do kill "$p" 2>/dev/null || true; done
	# Both marks came and the client printed its figures: the measured
	# part is whole, even if the path then failed to end cleanly.
	if [ $ok = 0 ] || ! grep -q '_per_\|_us ' "$out"; then
		echo "  $path $kind: FAILED (exit status $status); last lines of $path's log:"
		tail -5 "$log" | sed 's/^/    /'
		return 1
	fi
	head -1 "$out" | sed "s/^/  $path $kind: /"
	if [ $status != 0 ]; then
		UNCLEAN=$((UNCLEAN + 1))
		echo "    (measured, but the path then ended with status $status; last lines of its log:)"
		tail -3 "$log" | sed 's/^/    /'
	fi

	local k v
	for k in sync_median_us sync_p90_us frames_per_s cpu_us_per_frame; do
		v=$(value "$k" "$out")
		if [ -n "$v" ]; then add "${kind}_${k}_$path" "$v"; fi
	done
	local st sc gst gsc hst hsc
	read -r st sc < <(delta "$WORK/s0" "$WORK/s1" sway "$units")
	add "${kind}_sway_stat_$path" "$st"
	add "${kind}_sway_sched_$path" "$sc"
	if [ "$path" != direct ]; then
		read -r gst gsc < <(delta "$WORK/s0" "$WORK/s1" guest "$units")
		read -r hst hsc < <(delta "$WORK/s0" "$WORK/s1" host "$units")
		add "${kind}_guest_stat_$path" "$gst"
		add "${kind}_host_stat_$path" "$hst"
		add "${kind}_path_stat_$path" "$(awk -v a="$gst" -v b="$hst" 'BEGIN { printf "%.2f", a + b }')"
		add "${kind}_path_sched_$path" "$(awk -v a="$gsc" -v b="$hsc" 'BEGIN { printf "%.2f", a + b }')"
		echo "    CPU per unit (us, stat): guest half $gst, host half $hst, sway $st;" \
			"schedstat: guest $gsc, host $hsc, sway $sc"
	else
		echo "    CPU per unit (us, stat): sway $st; schedstat: sway $sc"
	fi
}

row() { # row LABEL KEY: one cell a path, then vmapp/waypipe and vmapp/direct
	local p line="| $1 |"
	for p in direct vmapp waypipe wp-lz4; do
		line+=" $(fmt "${R[${2}_$p]:-}") |"
	done
	line+=" $(ratio "${R[${2}_vmapp]:-}" "${R[${2}_waypipe]:-}") |"
	line+=" $(ratio "${R[${2}_vmapp]:-}" "${R[${2}_direct]:-}") |"
	echo "$line"
}

# --- the machine -------------------------------------------------------------

echo "# vmapp transport benchmarks"
echo
echo "command: $CMDLINE"
SETTINGS="ROUNDS=$ROUNDS SYNC_N=$SYNC_N FRAMES_N=$FRAMES_N SIZE=$SIZE PATTERN=$PATTERN HZ=$HZ FAST_HZ=$FAST_HZ"
echo "settings: $SETTINGS PATHS=\"${PATHS[*]}\""
bench_header "$BUILD"
echo "waypipe: $(waypipe --version 2>/dev/null | head -1 || echo missing)"
echo

# --- headless sway -----------------------------------------------------------

start_sway "$SIZE" || exit 1
set_hz "$SIZE" "$HZ"
FRAME_SETS=("f:$HZ")
if [ "$FAST_HZ" != 0 ]; then FRAME_SETS+=("ffast:$FAST_HZ"); fi

# --- which paths can run -----------------------------------------------------

has_path() { [[ " ${PATHS[*]} " == *" $1 "* ]]; }
drop_path() {
	local keep=() p
	for p in "${PATHS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PATHS=("${keep[@]}")
}
SKIPPED=()
if has_path vmapp; then
	why=
	if [ ! -x "$PROXY" ] || [ ! -x "$AGENT" ]; then
		why="$PROXY or $AGENT is missing"
	elif ! run_one vmapp check sync 100 >"$WORK/check" 2>&1; then
		why="the check run (bench-client sync 100 through it) failed: $(tail -3 "$WORK/check" | tr '\n' ' ')"
	fi
	R=()
	if [ -n "$why" ]; then
		drop_path vmapp
		SKIPPED+=("vmapp: not measured: $why")
	fi
fi
if has_path waypipe || has_path wp-lz4; then
	if ! command -v waypipe >/dev/null; then
		drop_path waypipe
		drop_path wp-lz4
		SKIPPED+=("waypipe: not measured: waypipe is not installed")
	fi
fi
for s in "${SKIPPED[@]}"; do echo "$s"; done
[ ${#PATHS[@]} -gt 0 ] || fail "no path to measure"

# --- rounds ------------------------------------------------------------------

echo "## rounds (${PATHS[*]}, interleaved; the order rotates each round)"
FAILED=0
for round in $(seq "$ROUNDS"); do
	echo "round $round"
	order=()
	n=${#PATHS[@]}
	for i in $(seq 0 $((n - 1))); do order+=("${PATHS[$(((i + round - 1) % n))]}"); done
	for p in "${order[@]}"; do
		run_one "$p" sync sync "$SYNC_N" || FAILED=$((FAILED + 1))
	done
	for set in "${FRAME_SETS[@]}"; do
		set_hz "$SIZE" "${set#*:}"
		for p in "${order[@]}"; do
			run_one "$p" "${set%:*}" frames "$FRAMES_N" "$SIZE" "$PATTERN" ||
				FAILED=$((FAILED + 1))
		done
	done
	set_hz "$SIZE" "$HZ"
done
echo

# --- the table ---------------------------------------------------------------

echo "## results"
echo
echo "\`$CMDLINE\` with $SETTINGS;"
echo "cells are median (min-max) over the rounds; $FAILED failed runs ($UNCLEAN more measured" \
	"whole but not ended cleanly); the agent needed $KICKS start-up kicks (see kick_agent in the script)."
for s in "${SKIPPED[@]}"; do echo "$s"; done
echo
echo "| benchmark | direct | vmapp | waypipe (none) | waypipe lz4 | vmapp/waypipe | vmapp/direct |"
echo "|---|---|---|---|---|---|---|"
row "sync: round trip, median of $SYNC_N (us)" sync_sync_median_us
row "sync: round trip, p90 of $SYNC_N (us)" sync_sync_p90_us
row "sync: CPU per round trip, both halves, schedstat (us)" sync_path_sched
row "sync: sway CPU per round trip, schedstat (us)" sync_sway_sched
for set in "${FRAME_SETS[@]}"; do
	k=${set%:*} F="frames $FRAMES_N $SIZE $PATTERN @${set#*:} Hz"
	row "$F: frames/s" "${k}_frames_per_s"
	row "$F: CPU per frame, both halves, stat (us)" "${k}_path_stat"
	row "$F: CPU per frame, both halves, schedstat (us)" "${k}_path_sched"
	row "$F: CPU per frame, guest half (agent / waypipe server), stat (us)" "${k}_guest_stat"
	row "$F: CPU per frame, host half (proxy / waypipe client), stat (us)" "${k}_host_stat"
	row "$F: client CPU per frame, getrusage (us)" "${k}_cpu_us_per_frame"
	row "$F: sway CPU per frame, stat (us)" "${k}_sway_stat"
	row "$F: sway CPU per frame, schedstat (us)" "${k}_sway_sched"
done
echo

# --- the goal ----------------------------------------------------------------

echo "## the goal: waypipe's frame rate or better at half its CPU per frame or less"
echo "(against waypipe --compress none, medians)"
for set in "${FRAME_SETS[@]}"; do
	k=${set%:*}
	fv=${R[${k}_frames_per_s_vmapp]:-} fw=${R[${k}_frames_per_s_waypipe]:-}
	cv=${R[${k}_path_stat_vmapp]:-} cw=${R[${k}_path_stat_waypipe]:-}
	if [ -z "${fv// /}" ] || [ -z "${fw// /}" ] || [ -z "${cv// /}" ] || [ -z "${cw// /}" ]; then
		echo "@${set#*:} Hz: not measured (vmapp or waypipe has no figures)"
		continue
	fi
	# shellcheck disable=SC2086
	awk -v hz="${set#*:}" -v fv="$(median $fv)" -v fw="$(median $fw)" \
		-v cv="$(median $cv)" -v cw="$(median $cw)" 'BEGIN {
		printf "@%s Hz: frames/s vmapp %.1f, waypipe %.1f (%.2fx): %s; ", hz, fv, fw, fv / fw,
			(fv >= fw ? "met" : "NOT met")
		printf "CPU per frame of both halves vmapp %.0f us, waypipe %.0f us (%.2fx, goal <= 0.50): %s\n",
			cv, cw, cv / cw, (cv <= cw / 2 ? "met" : "NOT met")
	}'
done
echo
echo "CPU: read at the client's start and end marks, over its measured part only."
echo "stat = utime+stime of /proc/PID/stat (ticks of 1/$CLK_TCK s; one tick over $FRAMES_N frames is" \
	"$((1000000 / CLK_TCK / FRAMES_N)) us/frame); schedstat = the sum over threads of /proc/PID/task/*/schedstat."
echo "A half's figure counts the process and everything it forked, except bench-client."
