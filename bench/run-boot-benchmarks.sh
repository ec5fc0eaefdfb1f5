#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-boot-benchmarks.sh [BUILD_DIR]
#
# Time from `vmapp-proxy --vm bench weston-terminal` to its window mapped
# on a private headless sway, side by side in one run:
#   cold   the VM not running: the proxy starts it (disk, accelerator,
#          QEMU, the guest's boot, the agent), then the app;
#   warm   the VM running: only the app;
#   floor  a plain `qemu-system-x86_64` of the same kernel, initrd and
#          image (a fresh qcow2 overlay, the same memory, CPUs and
#          accelerator, its console on a file) until the guest's serial
#          getty prints "login:": the guest's own boot, with nothing of
#          vmapp around it.
# Rounds interleave cold, warm and floor (the VM stopped for the floor).  For cold, the share of each
# step: the client's progress lines are timestamped as they arrive
# (image and disk, accelerator, QEMU started, the guest's boot to the
# agent, the app to its first window).
#
# The image (Debian 12 with weston, foot and the agent, from
# vmspawn/image/build-image.sh) is built once into CACHE
# (~/.cache/vmapp-bench).  Environment: ROUNDS (5), ACCEL (auto: TCG on
# machines where KVM does not run guests), MEMORY (1G), CPUS (2), APP
# (weston-terminal), CACHE.  Prints a table; the exact command and the
# figures go to BENCHMARKS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
ROUNDS=${ROUNDS:-5}
ACCEL=${ACCEL:-auto}
MEMORY=${MEMORY:-1G}
CPUS=${CPUS:-2}
APP=${APP:-weston-terminal}
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmapp-bench}
IMAGE=$CACHE/image-weston
proxy=$build/proxy/vmapp-proxy
vmapp_vm=$build/vmspawn/vmapp-vm
agent=$build/agent/vmapp-agent
for tool in sway swaymsg jq qemu-system-x86_64 qemu-img "$proxy" "$vmapp_vm" "$agent"; do
	command -v "$tool" >/dev/null || { echo "run-boot-benchmarks: $tool is missing" >&2; exit 1; }
done

T=$(mktemp -d /tmp/vmapp-bootbench.XXXXXX)
mkdir -m 700 "$T/run"
export XDG_RUNTIME_DIR=$T/run XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state XDG_DATA_HOME=$T/data
unset WAYLAND_DISPLAY SWAYSOCK
pids=()
cleanup() {
	"$vmapp_vm" stop bench >/dev/null 2>&1 || true
	local p
	for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || true; done
	pkill -f -- "$T/" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

echo "== the image ($IMAGE)" >&2
"$top/vmspawn/image/build-image.sh" "$IMAGE" --agent "$agent" \
	--packages "weston foot fonts-dejavu-core"

cat >"$T/sway.conf" <<EOF
xwayland disable
output HEADLESS-1 resolution 1280x800 background #203040 solid_color
exec sh -c 'echo "\$WAYLAND_DISPLAY \$SWAYSOCK" >$T/sway.env'
EOF
unshare=()
((EUID == 0)) && unshare=(unshare --user)
WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 \
	setsid "${unshare[@]}" sway -c "$T/sway.conf" >"$T/sway.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $T/sway.env ]] && break; sleep 0.1; done
read -r WAYLAND_DISPLAY SWAYSOCK <"$T/sway.env"
export WAYLAND_DISPLAY SWAYSOCK

"$vmapp_vm" create bench "image=$IMAGE" "accel=$ACCEL" "memory=$MEMORY" "cpus=$CPUS" \
	network=off >/dev/null

now() { printf '%s\n' "${EPOCHREALTIME/,/.}"; }
# window_count: windows on sway now.
window_count() {
	swaymsg -t get_tree | jq '[.. | objects | select(.type? == "con" and .pid? != null)] | length'
}

# launch NAME: runs APP in the VM, each stderr line timestamped into
# $T/NAME.steps; waits for its window; prints seconds to the window.
launch() {
	local name=$1 start before
	before=$(window_count)
	start=$(now)
	# shellcheck disable=SC2016 # for the inner shell
	setsid bash -c '
		"$@" 2>&1 >/dev/null | while IFS= read -r line; do
			printf "%s %s\n" "${EPOCHREALTIME/,/.}" "$line"
		done' launch "$proxy" --vm bench -- "$APP" >"$T/$name.steps" &
	pids+=($!)
	while (($(window_count) <= before)); do sleep 0.05; done
	awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f\n", b - a }'
	echo "$start" >"$T/$name.start"
}

close_apps() {
	local p
	swaymsg '[app_id=".*"] kill' >/dev/null 2>&1 || true
	for _ in $(seq 100); do (($(window_count) == 0)) && break; sleep 0.1; done
}

# floor: plain QEMU of the same kernel, initrd and image to "login:".
floor() {
	local accel=tcg start
	grep -q "booting (QEMU, KVM)" "$T/cold-1.steps" 2>/dev/null && accel=kvm
	rm -f "$T/floor.qcow2" "$T/floor-console.log"
	qemu-img create -q -f qcow2 -b "$IMAGE/root.img" -F raw "$T/floor.qcow2"
	start=$(now)
	qemu-system-x86_64 -nodefaults -no-user-config -machine q35 -accel "$accel" \
		-cpu max -m "$MEMORY" -smp "$CPUS" -display none -vga none \
		-kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img" \
		-append "console=ttyS0 root=/dev/vda rw quiet panic=-1" \
		-drive "file=$T/floor.qcow2,if=virtio,format=qcow2" \
		-chardev "file,id=console,path=$T/floor-console.log" -serial chardev:console \
		-no-reboot >/dev/null 2>&1 &
	local qemu=$!
	while ! grep -q "login:" "$T/floor-console.log" 2>/dev/null; do
		kill -0 "$qemu" 2>/dev/null || { echo "floor: QEMU exited" >&2; return 1; }
		sleep 0.05
	done
	awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f\n", b - a }'
	kill "$qemu"
	wait "$qemu" 2>/dev/null || true
}

# step_at FILE PATTERN: the time of the first line matching.
step_at() { awk -v p="$2" '$0 ~ p { print $1; exit }' "$1"; }
share() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { printf "%.2f (%.0f%%)", b - a, 100 * (b - a) / t }'; }

: >"$T/results"
for round in $(seq "$ROUNDS"); do
	for kind in cold warm floor; do
		case $kind in
		floor)
			# Nothing of the VM runs beside it.
			"$vmapp_vm" stop bench >/dev/null 2>&1 || true
			echo "floor $(floor)" >>"$T/results" ;;
		cold)
			"$vmapp_vm" stop bench >/dev/null 2>&1 || true
			rm -f "$XDG_STATE_HOME/vmapp/bench/root.qcow2"
			t=$(launch "cold-$round")
			echo "cold $t" >>"$T/results"
			f=$T/cold-$round.steps s=$(cat "$T/cold-$round.start")
			acc=$(step_at "$f" "accelerator")
			boot=$(step_at "$f" "booting")
			wait_agent=$(step_at "$f" "waiting for the agent")
			there=$(step_at "$f" "the agent is there")
			end=$(awk -v a="$s" -v t="$t" 'BEGIN { printf "%.6f", a + t }')
			printf 'steps %s | %s | %s | %s | %s\n' \
				"$(share "$s" "$acc" "$t")" "$(share "$acc" "$boot" "$t")" \
				"$(share "$boot" "$wait_agent" "$t")" "$(share "$wait_agent" "$there" "$t")" \
				"$(share "$there" "$end" "$t")" >>"$T/results"
			close_apps ;;
		warm)
			t=$(launch "warm-$round")
			echo "warm $t" >>"$T/results"
			close_apps ;;
		esac
	done
	echo "round $round: $(grep -v '^steps' "$T/results" | tail -n 3 | tr '\n' ' ')" >&2
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "accelerator: $(grep -h "booting (QEMU" "$T"/cold-1.steps | tail -n 1 | cut -d' ' -f2-)"
echo "app: $APP; image packages: weston foot fonts-dejavu-core; memory $MEMORY, $CPUS CPUs; $ROUNDS rounds"
fl=$(awk '$1 == "floor" { print $2 }' "$T/results" | median)
co=$(awk '$1 == "cold" { print $2 }' "$T/results" | median)
wa=$(awk '$1 == "warm" { print $2 }' "$T/results" | median)
printf '| %-42s | %8s | %s |\n' "path" "median s" "all rounds"
printf '| %-42s | %8s | %s |\n' "plain qemu boot to login: (floor)" "$fl" "$(awk '$1 == "floor" { printf "%s ", $2 }' "$T/results")"
printf '| %-42s | %8s | %s |\n' "vmapp-proxy --vm, cold, to window" "$co" "$(awk '$1 == "cold" { printf "%s ", $2 }' "$T/results")"
printf '| %-42s | %8s | %s |\n' "vmapp-proxy --vm, warm, to window" "$wa" "$(awk '$1 == "warm" { printf "%s ", $2 }' "$T/results")"
awk -v c="$co" -v f="$fl" 'BEGIN { printf "cold / floor = %.2f\n", c / f }'
echo
echo "cold, per round: start to accelerator (image check, disk) | accelerator probe | QEMU start to its socket | the guest's boot to the agent | the app to its window:"
grep '^steps' "$T/results" | cut -d' ' -f2-
