#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-vm-transport-benchmarks.sh [BUILD_DIR]
#
# The VM transport through a real VM: virtio-serial against vsock, side by
# side, on one private headless sway 1.7 (pixman).  Two VMs are defined in
# a private XDG tree (nothing of the user's is touched), the same but for
# the transport:
#   vmbench-serial  transport=serial (a virtio-serial port);
#   vmbench-vsock   transport=vsock (the kernel's vhost-vsock where
#                   /dev/vhost-vsock opens, else vmapp-vsockd);
# both with the e2e test image (VMAPP_E2E_CACHE, else
# ~/.cache/vmapp-test, image-foot: built by vmspawn/image/build-image.sh
# when missing or out of date, as tests/e2e/lib-e2e.sh does), accel=tcg,
# memory=1G, cpus=CPUS (1: see below), network=off, and share= a private
# folder holding a copy of BUILD/bench/bench-client (it links only
# libwayland-client, libffi and libc, which the Debian 12 guest has).
# The paths:
#   direct  bench-client on the host, talking to sway: the floor;
#   serial  `vmapp-proxy --vm vmbench-serial -- sh -c 'exec
#   vsock   /home/app/share/bench-client ARGS >OUT 2>&1'` (and -vsock):
#           bench-client in the guest as the user app, through the agent,
#           the transport and the VM's proxy to the same sway.  The guest
#           command's output is not taken from vmapp-proxy, so
#           the client writes it into the shared folder (sh only opens
#           the file and execs it).
# Benchmarks, each in ROUNDS rounds that interleave the paths (the order
# rotates from round to round), one run at a time:
#   sync    bench-client sync SYNC_N: wl_display.sync round trips, one at a
#           time (median and p90, in the client's clock: the guest's);
#   frames  bench-client frames FRAMES_N SIZE PATTERN with the output at
#           HZ (1000, so frame callbacks do not cap the rate): a
#           full-damage shm animation, every pixel changing every frame;
#           frames/s is what the path carries;
#   run     `vmapp-proxy --vm NAME -- true`, timed on the host: what
#           starting a command in a running VM costs.
# Around each sync and frames run the script also reads utime+stime
# (/proc/PID/stat) of the host's processes of the path, grouped by name:
# the VM's proxy and what it started (QEMU, which runs the guest's CPU and
# devices, and vmapp-vsockd or virtiofsd), and sway; over the whole
# command, so the client's connection and set-up are in it too.
# Both VMs boot once, one after the other, before the rounds (each timed
# from `vmapp-proxy --vm NAME -- true` to its exit: boot to first command,
# one sample each) and run until the end, idle while the other one is
# measured; they are stopped, and sway killed, whatever happens (^C too).
#
# CPUS=1 by default: the host has 2 cores, and the host side of a path
# (QEMU's own threads, the VM's proxy, vmapp-vsockd, sway) needs one of
# them while the guest runs; a second TCG vCPU (MTTCG, a host thread each)
# would compete with those for the same 2 cores.  SIZE=1280x720 by
# default: 3.5 MiB a frame is a real window's worth of pixels, and under
# TCG it still gives some 7 frames/s, so FRAMES_N=100 takes about 15 s.
# SYNC_N=1000: some 3 to 5 s under TCG.
#
# BUILD_DIR (default ./build) holds bench/bench-client, proxy/vmapp-proxy,
# vmspawn/vmapp-vm, vsockd/vmapp-vsockd and agent/vmapp-agent (for the
# image); they are copied at the start and only the copies run.  Environment:
# ROUNDS (5), SYNC_N (1000), FRAMES_N (100), SIZE (1280x720), PATTERN
# (gradient or noise), HZ (1000, at most 1000), CPUS (1), RUN_TIMEOUT (300
# s for one run), BOOT_TIMEOUT (600 s for a boot).  Needs sway, qemu,
# mmdebstrap (for the image, the first time); not part of CI.  About 8
# minutes with the defaults under TCG, plus the image when it is built.
set -uo pipefail

CMDLINE="$0${*:+ $*}"
BUILD=${1:-./build}
ROUNDS=${ROUNDS:-5}
SYNC_N=${SYNC_N:-1000}
FRAMES_N=${FRAMES_N:-100}
SIZE=${SIZE:-1280x720}
PATTERN=${PATTERN:-gradient}
HZ=${HZ:-1000}
SYNC_HZ=60
CPUS=${CPUS:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}

BENCH_NAME=run-vm-transport-benchmarks
# shellcheck source-path=SCRIPTDIR source=lib-bench.sh
. "$(dirname "$0")/lib-bench.sh"

CLIENT=$BUILD/bench/bench-client
PROXY=$BUILD/proxy/vmapp-proxy
VM_CLI=$BUILD/vmspawn/vmapp-vm
AGENT=$BUILD/agent/vmapp-agent
VSOCKD=$BUILD/vsockd/vmapp-vsockd
BUILD_IMAGE=$(dirname "$0")/../vmspawn/image/build-image.sh
CACHE=${VMAPP_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmapp-test}
IMAGE=$CACHE/image-foot
IMAGE_PACKAGES="foot fonts-dejavu-core firefox-esr"
GUEST_SHARE=/home/app/share

for f in "$CLIENT" "$PROXY" "$VM_CLI" "$AGENT" "$VSOCKD"; do
	[ -x "$f" ] || bench_fail "$f is missing: build first (meson compile -C $BUILD)"
done
for c in sway swaymsg qemu-system-x86_64; do
	command -v "$c" >/dev/null || bench_fail "needs $c"
done
check_hz "$HZ" "$SYNC_HZ"
case $PATTERN in gradient | noise) ;; *) bench_fail "PATTERN is gradient or noise" ;; esac

PATHS=(direct serial vsock)
declare -A VM=([serial]=vmbench-serial [vsock]=vmbench-vsock)

WORK=$(mktemp -d /tmp/vmapp-vmbench.XXXXXX)
export XDG_CONFIG_HOME=$WORK/config XDG_STATE_HOME=$WORK/state XDG_DATA_HOME=$WORK/data
unset WAYLAND_DISPLAY SWAYSOCK
SWAY_PID=
JOB=
cleanup() {
	local p pid
	trap - EXIT INT TERM HUP
	if [ -n "$JOB" ]; then kill "$JOB" 2>/dev/null || true; fi
	for p in serial vsock; do
		[ -e "$XDG_CONFIG_HOME/vmapp/${VM[$p]}.vm" ] || continue
		timeout 60 "$VM_CLI" stop "${VM[$p]}" >/dev/null 2>&1 || true
		# A QEMU that outlived the stop (it should not) goes by its pid.
		if pid=$(cat "$WORK/run/vmapp/${VM[$p]}/qemu.pid" 2>/dev/null); then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	if [ -n "$SWAY_PID" ]; then kill "$SWAY_PID" 2>/dev/null || true; fi
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "$BENCH_NAME: interrupted" >&2; exit 130' INT TERM HUP

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

declare -A R BOOT AGENT_AT
add() { R[$1]="${R[$1]:-} $2"; }

# cpu_snap OUT PID...: "name pid ticks" for every process of the trees
# rooted at the PIDs (utime + stime of /proc/PID/stat).
cpu_snap() {
	local out=$1 pid s
	shift
	for pid in $(tree_pids "$@"); do
		s=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		awk -v p="$pid" -v c="$(cat "/proc/$pid/comm" 2>/dev/null)" \
			'{ print c, p, $12 + $13 }' <<<"${s##*) }"
	done >"$out"
}

# cpu_delta START END UNITS: "name us" per unit, each name's processes
# summed (one that started during the run counts from zero).
CLK_TCK=$(getconf CLK_TCK)
cpu_delta() {
	awk -v n="$3" -v tck="$CLK_TCK" '
		NR == FNR { t0[$2] = $3; next }
		{ d[$1] += $3 - t0[$2] }
		END { for (c in d) printf "%s %.1f\n", c, d[c] / tck / n * 1e6 }' "$1" "$2"
}

# The host processes of a path: sway, and for a VM its proxy (QEMU's
# parent) with everything it started.
vm_root() {
	local qemu
	qemu=$(cat "$WORK/run/vmapp/${VM[$1]}/qemu.pid" 2>/dev/null) || return 1
	ps -o ppid= -p "$qemu" | tr -d ' '
}
path_roots() {
	if [ "$1" = direct ]; then echo "$SWAY_PID"; else echo "$SWAY_PID $(vm_root "$1")"; fi
}

# vm_log PATH: the end of the VM's log, for a failure.
vm_log() { tail -n 5 "$XDG_STATE_HOME/vmapp/${VM[$1]}/vm.log" 2>/dev/null | sed 's/^/    vm.log: /'; }

# A VM path that failed once is measured no more: its VM may be gone, and
# the next vmapp-proxy --vm would boot it again.
FAILED=()
failed() { # failed PATH WHAT
	FAILED+=("$1 $2")
	[ "$1" = direct ] && return 0
	local keep=() p
	for p in "${PATHS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PATHS=("${keep[@]}")
	echo "    ($1 is not measured any more)"
}

# run_one PATH KIND ROUND: one run of KIND (sync, frames or run) on PATH.
run_one() {
	local path=$1 kind=$2 round=$3 name out err args=() units rc t0 t1 roots
	name=$path.$kind.$round
	out=$WORK/share/out/$name err=$WORK/$name.err
	case $kind in
	sync) args=(sync "$SYNC_N") units=$SYNC_N ;;
	frames) args=(frames "$FRAMES_N" "$SIZE" "$PATTERN") units=$FRAMES_N ;;
	run) args=() units=1 ;;
	esac
	rm -f "$out"
	roots=$(path_roots "$path")
	# shellcheck disable=SC2086
	cpu_snap "$WORK/s0" $roots
	t0=$(now)
	if [ "$path" = direct ]; then
		WAYLAND_DISPLAY=$SWAY_DISPLAY timeout -k 10 "$RUN_TIMEOUT" \
			"$CLIENT" "${args[@]}" >"$out" 2>"$err" &
	elif [ "$kind" = run ]; then
		WAYLAND_DISPLAY=$SWAY_DISPLAY timeout -k 10 "$RUN_TIMEOUT" \
			"$PROXY" --vm "${VM[$path]}" -- true >/dev/null 2>"$err" &
	else
		# shellcheck disable=SC2016 # for the guest's shell
		WAYLAND_DISPLAY=$SWAY_DISPLAY timeout -k 10 "$RUN_TIMEOUT" \
			"$PROXY" --vm "${VM[$path]}" -- sh -c 'o=$1; shift; exec "$@" >"$o" 2>&1' sh \
			"$GUEST_SHARE/out/$name" "$GUEST_SHARE/bench-client" "${args[@]}" \
			>/dev/null 2>"$err" &
	fi
	JOB=$!
	wait "$JOB"
	rc=$?
	JOB=
	t1=$(now)
	# shellcheck disable=SC2086
	cpu_snap "$WORK/s1" $roots
	local wall
	wall=$(elapsed "$t0" "$t1")
	if [ "$kind" = run ]; then
		if [ $rc != 0 ]; then
			echo "  $path run: FAILED (exit status $rc): $(tail -n 3 "$err" | tr '\n' ' ')"
			vm_log "$path"
			failed "$path" "$kind round $round"
			return 1
		fi
		add "run_ms_$path" "$(awk -v w="$wall" 'BEGIN { printf "%.1f", w * 1000 }')"
		echo "  $path run: vmapp-proxy --vm ${VM[$path]} -- true in $wall s"
		return 0
	fi
	if [ $rc != 0 ] || ! grep -q '_per_s \|_us ' "$out" 2>/dev/null; then
		echo "  $path $kind: FAILED (exit status $rc; its output: $(tail -n 2 "$out" 2>/dev/null | tr '\n' ' '))"
		tail -n 3 "$err" | sed 's/^/    /'
		[ "$path" = direct ] || vm_log "$path"
		failed "$path" "$kind round $round"
		return 1
	fi
	echo "  $path $kind: $(head -1 "$out") (whole command $wall s)"
	local k v c line=""
	for k in sync_median_us sync_p90_us frames_per_s cpu_us_per_frame; do
		v=$(value "$k" "$out")
		if [ -n "$v" ]; then add "${kind}_${k}_$path" "$v"; fi
	done
	while read -r c v; do
		add "${kind}_cpu_${c}_$path" "$v"
		line+=" $c $v,"
	done < <(cpu_delta "$WORK/s0" "$WORK/s1" "$units" | sort)
	local per="round trip"
	[ "$kind" = frames ] && per=frame
	echo "    host CPU per $per (us, whole command):${line%,}"
	return 0
}

# --- the machine -------------------------------------------------------------

echo "# vmapp VM transport benchmarks: virtio-serial against vsock through a real VM"
echo
echo "command: $CMDLINE"
SETTINGS="ROUNDS=$ROUNDS SYNC_N=$SYNC_N FRAMES_N=$FRAMES_N SIZE=$SIZE PATTERN=$PATTERN HZ=$HZ CPUS=$CPUS"
echo "settings: $SETTINGS"
bench_header "$BUILD"
echo "qemu: $(qemu-system-x86_64 --version | head -1)"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo

# --- the image, the VMs, sway ------------------------------------------------

echo "## the VMs"
# The binaries are copied first, and only the copies run: a build folder
# others rebuild during the run would otherwise change the code measured
# halfway (or leave a half-linked vmapp-proxy that can not run).  The VM's
# proxy, vmapp-vm and the image use the copies too.
mkdir "$WORK/bin"
for f in "$CLIENT" "$PROXY" "$VM_CLI" "$AGENT" "$VSOCKD"; do
	install -m 0755 "$f" "$WORK/bin/" || bench_fail "can not copy $f"
done
CLIENT=$WORK/bin/bench-client PROXY=$WORK/bin/vmapp-proxy VM_CLI=$WORK/bin/vmapp-vm
AGENT=$WORK/bin/vmapp-agent
export VMAPP_PROXY=$PROXY VMAPP_AGENT=$AGENT VMAPP_VSOCKD=$WORK/bin/vmapp-vsockd
"$PROXY" --version >/dev/null 2>&1 || bench_fail "the copy of $BUILD/proxy/vmapp-proxy does not run"
echo "  binaries: copied from $BUILD at $(date -u +%H:%M:%S) UTC (sha256 of vmapp-proxy" \
	"$(sha256sum "$PROXY" | cut -c1-12), vmapp-vsockd $(sha256sum "$VMAPP_VSOCKD" | cut -c1-12))"

mkdir -m 0777 "$WORK/share" "$WORK/share/out" || bench_fail "mkdir $WORK/share"
# The guest's user app is uid 1000 and sees the host's numeric owners and
# modes: as root (QEMU's 9p and virtiofsd too) the folders must let
# others write, or app could not write its output.
install -m 0755 "$CLIENT" "$WORK/share/bench-client" ||
	bench_fail "can not copy $CLIENT into the shared folder"
[ -x "$BUILD_IMAGE" ] || bench_fail "no $BUILD_IMAGE"
# In the background, like every long step, so that a signal is handled at
# once and not after it.
"$BUILD_IMAGE" "$IMAGE" --agent "$AGENT" --packages "$IMAGE_PACKAGES" 2>"$WORK/build-image.log" &
JOB=$!
wait "$JOB" || {
	tail -n 20 "$WORK/build-image.log" >&2
	bench_fail "build-image.sh failed for $IMAGE"
}
JOB=
sed 's/^/  /' "$WORK/build-image.log"
for p in serial vsock; do
	"$VM_CLI" create "${VM[$p]}" "image=$IMAGE" accel=tcg memory=1G "cpus=$CPUS" \
		network=off "share=$WORK/share" "transport=$p" >"$WORK/create.log" 2>&1 ||
		bench_fail "vmapp-vm create ${VM[$p]} failed: $(cat "$WORK/create.log")"
done

start_sway "$SIZE" || exit 1
set_hz "$SIZE" "$SYNC_HZ"

# Boot to first command, one VM after the other: one sample each.
for p in serial vsock; do
	t0=$(now)
	WAYLAND_DISPLAY=$SWAY_DISPLAY timeout -k 10 "$BOOT_TIMEOUT" \
		"$PROXY" --vm "${VM[$p]}" -- true >/dev/null 2>"$WORK/boot.$p.err" &
	JOB=$!
	wait "$JOB"
	rc=$?
	JOB=
	t1=$(now)
	if [ $rc != 0 ]; then
		sed 's/^/  /' "$WORK/boot.$p.err" >&2
		vm_log "$p" >&2
		bench_fail "${VM[$p]} did not boot and run true (exit status $rc)"
	fi
	BOOT[$p]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	agent=$(sed -n 's/.*the agent is there after \([0-9.]*\) s.*/\1/p' "$WORK/boot.$p.err")
	AGENT_AT[$p]=${agent:-?}
	echo "  ${VM[$p]}: boot to first command (vmapp-proxy --vm ${VM[$p]} -- true) ${BOOT[$p]} s;" \
		"the agent answered after ${AGENT_AT[$p]} s"
	grep -E 'vsock on|share|accelerator' "$WORK/boot.$p.err" | sed 's/^/    /'
done
echo

# --- rounds ------------------------------------------------------------------

has_path() { [[ " ${PATHS[*]} " == *" $1 "* ]]; }
echo "## rounds (${PATHS[*]}, interleaved; the order rotates each round)"
for round in $(seq "$ROUNDS"); do
	echo "round $round (load $(cut -d' ' -f1-3 /proc/loadavg))"
	order=()
	n=${#PATHS[@]}
	for i in $(seq 0 $((n - 1))); do order+=("${PATHS[$(((i + round - 1) % n))]}"); done
	# A path dropped during the round is skipped for the rest of it too.
	for p in "${order[@]}"; do has_path "$p" && [ "$p" != direct ] && run_one "$p" run "$round"; done
	for p in "${order[@]}"; do has_path "$p" && run_one "$p" sync "$round"; done
	set_hz "$SIZE" "$HZ"
	for p in "${order[@]}"; do has_path "$p" && run_one "$p" frames "$round"; done
	set_hz "$SIZE" "$SYNC_HZ"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
echo

# --- the table ---------------------------------------------------------------

row() { # row LABEL KEY: direct, serial, vsock, then the ratios
	local p line="| $1 |"
	for p in direct serial vsock; do line+=" $(fmt "${R[${2}_$p]:-}") |"; done
	line+=" $(ratio "${R[${2}_vsock]:-}" "${R[${2}_serial]:-}") |"
	line+=" $(ratio "${R[${2}_serial]:-}" "${R[${2}_direct]:-}") |"
	line+=" $(ratio "${R[${2}_vsock]:-}" "${R[${2}_direct]:-}") |"
	echo "$line"
}

echo "## results"
echo
echo "\`$CMDLINE\` with $SETTINGS; load average $LOAD_START at the start, $LOAD_END at the end."
echo "Cells are median (min-max) over the rounds; ${#FAILED[@]} failed runs."
echo
echo "| benchmark | direct | serial | vsock | vsock/serial | serial/direct | vsock/direct |"
echo "|---|---|---|---|---|---|---|"
echo "| boot to first command, one sample (s) | - | ${BOOT[serial]} | ${BOOT[vsock]} |" \
	"$(awk -v a="${BOOT[vsock]}" -v b="${BOOT[serial]}" 'BEGIN { printf "%.2f", a / b }') | - | - |"
row "vmapp-proxy --vm NAME -- true, VM running (ms)" run_ms
row "sync: round trip, median of $SYNC_N (us)" sync_sync_median_us
row "sync: round trip, p90 of $SYNC_N (us)" sync_sync_p90_us
F="frames $FRAMES_N $SIZE $PATTERN @$HZ Hz"
row "$F: frames/s" frames_frames_per_s
row "$F: client CPU per frame, getrusage (us)" frames_cpu_us_per_frame
# (virtiofsd, which serves the shared folder, is left out: it idles.)
for k in sync frames; do
	for c in qemu-system-x86 vmapp-vsockd vmapp-proxy sway; do
		has=
		for p in direct serial vsock; do [ -n "${R[${k}_cpu_${c}_$p]:-}" ] && has=1; done
		[ -n "$has" ] || continue
		u="round trip"
		[ "$k" = frames ] && u=frame
		row "$k: host CPU per $u, $c, whole command (us)" "${k}_cpu_$c"
	done
done
echo
echo "The client's figures are in its own clock (the guest's, in a VM); host CPU is"
echo "utime+stime in ticks of 1/$CLK_TCK s over the whole command, QEMU's including the guest's."
if [ ${#FAILED[@]} -gt 0 ]; then
	echo
	printf 'FAILED: %s\n' "${FAILED[@]}"
	bench_fail "${#FAILED[@]} runs failed (above)"
fi
