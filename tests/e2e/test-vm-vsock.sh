#!/bin/bash
# End to end, transport=vsock: a VM named vs, defined with
#
#   transport=vsock network=off
#
# and used through `vmapp-proxy --vm vs -- ...` under TCG on headless
# sway.  Where /dev/vhost-vsock does not open (these machines) the device
# is vmapp-vsockd's; where it does, the kernel's.  Checked:
#   (1) the start names the vsock device it chose (and why, for
#       vmapp-vsockd); QEMU's argv has that vsock device and no
#       virtio-serial one; with vmapp-vsockd, one runs for this VM;
#   (2) foot's window appears through the VM's proxy, labelled "[vs]",
#       and draws; keys typed on the host reach the shell in the guest
#       (42, with lo its only interface);
#   (3) in the guest there is no virtio-serial port and no network
#       device, the vsock device is there and the kernel command line
#       names the agent's port: vsock is the only way the windows and
#       the 42 could have come;
#   (3b) a guest user connecting to the agent's port 1000 times in a loop
#       costs the host's log lines at a bounded rate, not one each, and
#       the agent goes on;
#   (4) the agent's stream ends (the guest's user kills the agent) and
#       comes back on its own: the next command runs, in the same QEMU;
#   (5) vmapp-vm stop leaves no QEMU, no vmapp-vsockd, no socket and no
#       runtime folder;
#   (6) with vmapp-vsockd, started again: when vmapp-vsockd dies (SIGKILL)
#       the VM's proxy says so and stops the VM, leaving nothing.
#
# Environment: VMAPP_PROXY, VMAPP_AGENT, VMAPP_VM (meson sets them);
# VMAPP_E2E_CACHE (lib-e2e.sh); VMAPP_E2E_BOOT_WAIT, seconds for the
# first window (default 300).
HERE=$(cd "$(dirname "$0")" && pwd)
if [[ ! -r $HERE/../integration/lib.sh ]]; then
	echo "test-vm-vsock: $HERE/../integration/lib.sh is missing" >&2
	exit 99
fi
# shellcheck source=../integration/lib.sh
. "$HERE/../integration/lib.sh"
# shellcheck source=lib-e2e.sh
. "$HERE/lib-e2e.sh"

need qemu-system-x86_64 qemu-img mmdebstrap wtype
find_agent
BOOT_WAIT=${VMAPP_E2E_BOOT_WAIT:-300}
VM=vs
APP_ID=vmapp.$VM.foot

use_vm "$VM"
if vhost_vsock_usable; then
	DEVICE=kernel
	QEMU_DEVICE=vhost-vsock-pci
else
	DEVICE=vsockd
	QEMU_DEVICE=vhost-user-vsock-pci
fi
log "the vsock device here: $DEVICE"

# guest NAME SECONDS COMMAND...: vmapp-proxy --vm vs -- COMMAND; its status.
guest() {
	local name=$1 secs=$2
	shift 2
	run "$name" "$secs" "$PROXY" --vm "$VM" -- "$@"
}

vsockd_pids() { pgrep -f -- "vmapp-vsockd --socket $RUNTIME/" || true; }

# --- the image, the VM, the host ---------------------------------------------

build_test_image
run vm-create 10 "$VM_CLI" create "$VM" "image=$IMAGE" accel=tcg memory=1G cpus=2 \
	network=off transport=vsock ||
	fail "vmapp-vm create failed: $(cat "$T/vm-create.err")"
start_sway
add_seat_keyboard

# --- (1), (2) the first app starts the VM on vsock -------------------------------

started=$SECONDS
spawn app-1 "$PROXY" --vm "$VM" -- foot --log-level=warning -f monospace:size=16 sh -c "$GO_SCRIPT"
wait_vm_window app-1 "$BOOT_WAIT"
window=$WINDOW
WINDOW_SECONDS=$((SECONDS - started))
log "vmapp-proxy --vm to window on vsock: $WINDOW_SECONDS s: $window"

if [[ $DEVICE == vsockd ]]; then
	grep -q "vmapp-proxy: $VM: vsock on vmapp-vsockd (/dev/vhost-vsock: " "$T/app-1.err" ||
		e2e_fail "the start did not say it uses vmapp-vsockd, and why: $(cat "$T/app-1.err")"
	pids=$(vsockd_pids)
	[[ $(wc -w <<<"$pids") == 1 ]] || e2e_fail "not one vmapp-vsockd for the VM: '$pids'"
	VSOCKD=$pids
else
	grep -q "vmapp-proxy: $VM: vsock on /dev/vhost-vsock: guest CID [0-9]*" "$T/app-1.err" ||
		e2e_fail "the start did not name the guest CID on /dev/vhost-vsock: $(cat "$T/app-1.err")"
	VSOCKD=
fi
argv=$(grep -m1 '^.*qemu: ' "$STATE/vm.log")
[[ $argv == *"-device $QEMU_DEVICE"* ]] || e2e_fail "QEMU has no $QEMU_DEVICE: $argv"
[[ $argv != *virtserialport* && $argv != *virtio-serial* ]] ||
	e2e_fail "QEMU has a virtio-serial device on transport=vsock: $argv"
[[ $argv == *"vmapp.vsock_port="* ]] || e2e_fail "no vmapp.vsock_port on the kernel command line: $argv"
title=$(jq -r .name <<<"$window")
[[ $title == "[$VM] "* ]] || e2e_fail "the window's title is '$title', not '[$VM] ...'"
VM_PROXY=$(vm_proxy_pid)
[[ $(jq -r .pid <<<"$window") == "$VM_PROXY" ]] ||
	e2e_fail "the window is not a client of the VM's proxy ($VM_PROXY): $window"
QEMU=$(qemu_pid)
alive "$QEMU" || e2e_fail "no QEMU at the pid in $RUNTIME/qemu.pid"
wait_until 60 drawn ||
	e2e_fail "foot's window never showed its text: foot background $FOOT_BG_FRACTION, text colour $FOOT_FG_FRACTION of the screen"
log "foot drawn over vsock: background $FOOT_BG_FRACTION, text $FOOT_FG_FRACTION of the screen"
type_go app-1
if grep -Eq "$VIOLATION_RE" "$STATE/vm.log"; then
	e2e_fail "the VM's proxy cut a client off: $(grep -Em1 "$VIOLATION_RE" "$STATE/vm.log")"
fi

# --- (3) vsock is the guest's only way out ----------------------------------------

# 10: a virtio-serial port; 11: no vsock device; 12: no port on the
# command line; 13: a network device besides lo.
# shellcheck disable=SC2016 # for the guest's shell
guest inside 60 sh -c '[ ! -e /dev/virtio-ports/vmapp ] && ! ls /dev/virtio-ports 2>/dev/null | grep -q . || exit 10
	[ -c /dev/vsock ] || exit 11
	grep -q "vmapp.vsock_port=[0-9]" /proc/cmdline || exit 12
	[ "$(ls /sys/class/net)" = lo ] || exit 13
	exit 0'
rc=$?
[[ $rc == 0 ]] || e2e_fail "the guest's devices are not vsock only (status $rc): $(cat "$T/inside.err")"
log "in the guest: no virtio-serial port, no network device, /dev/vsock, the port on the command line"

# A hostile guest user connects to the agent's port in a loop while the
# agent is served: the host's log (vm.log: the VM's proxy and
# vmapp-vsockd) gains lines at a bounded rate, not one a connection
# (vmapp-vsockd(8): a burst of 50, then 5 a second, and the summaries),
# and the agent goes on.
lines_before=$(wc -l <"$STATE/vm.log")
flood_started=$SECONDS
# shellcheck disable=SC2016 # for the guest's perl
guest flood 120 perl -e 'use Socket; my $port = shift;
	for (1 .. 1000) {
		socket(my $s, 40, SOCK_STREAM, 0) or die "socket: $!";
		connect($s, pack("S S L L C x3", 40, 0, $port, 2, 0));
		close($s);
	}
	print "1000 connections\n";' "$(grep -o 'vmapp.vsock_port=[0-9]*' <<<"$argv" | cut -d= -f2)"
rc=$?
[[ $rc == 0 ]] && grep -q "1000 connections" "$T/flood.out" ||
	e2e_fail "the guest's connection loop did not run (status $rc): $(cat "$T/flood.err")"
sleep 2
flood_seconds=$((SECONDS - flood_started))
lines=$(($(wc -l <"$STATE/vm.log") - lines_before))
((lines <= 60 + 12 * flood_seconds)) ||
	e2e_fail "1000 connections from the guest in $flood_seconds s wrote $lines lines to the host's log: $(tail -n 5 "$STATE/vm.log")"
guest after-flood 30 sh -c 'exit 5'
[[ $? == 5 ]] || e2e_fail "the agent did not serve a command after the flood: $(cat "$T/after-flood.err")"
log "1000 connections from the guest in $flood_seconds s: $lines lines in the host's log, the agent went on"

# --- (4) the agent's stream ends, and comes back ------------------------------------

# The user app kills its own agent (the command goes with it); systemd
# starts the agent again a second later, and it connects to the VM's
# proxy once more.
guest kill-agent 60 sh -c 'pkill -x vmapp-agent; sleep 5'
rc=$?
[[ $rc == 125 ]] || e2e_fail "a command whose agent was killed exited $rc, not 125: $(cat "$T/kill-agent.err")"
grep -q "the agent's stream ended" "$T/kill-agent.err" ||
	e2e_fail "vmapp-proxy --vm did not say the agent's stream ended: $(cat "$T/kill-agent.err")"
started=$SECONDS
until guest again 30 sh -c 'exit 7'; [[ $? == 7 ]]; do
	((SECONDS - started < 60)) ||
		e2e_fail "no command ran in the 60 s after the agent was killed: $(cat "$T/again.err")"
	sleep 2
done
log "the agent came back over vsock after $((SECONDS - started)) s"
[[ $(qemu_pid) == "$QEMU" ]] && alive "$QEMU" || e2e_fail "the VM was started again"
grep -c "the agent connected" "$STATE/vm.log" | grep -qx '[2-9]' ||
	e2e_fail "the VM's proxy did not see the agent connect twice: $(grep agent "$STATE/vm.log")"

# --- (5) stop leaves nothing ---------------------------------------------------------

run stop 60 "$VM_CLI" stop "$VM" || e2e_fail "vmapp-vm stop failed: $(cat "$T/stop.err")"
! alive "$QEMU" || e2e_fail "QEMU ($QEMU) still runs after vmapp-vm stop"
[[ -z $VSOCKD ]] || ! alive "$VSOCKD" || e2e_fail "vmapp-vsockd ($VSOCKD) still runs after stop"
[[ ! -e $RUNTIME ]] || e2e_fail "left after stop: $(find "$RUNTIME" | tr '\n' ' ')"
left=$(pgrep -af -- "$STATE/|$RUNTIME/|--vm-serve $VM\$" || true)
[[ -z $left ]] || e2e_fail "still running after stop: $left"
keep_console "$STATE/console.log"

# --- (6) vmapp-vsockd killed: the VM stops ----------------------------------------

if [[ $DEVICE == vsockd ]]; then
	guest again-2 300 true || e2e_fail "the VM did not start again: $(cat "$T/again-2.err")"
	VSOCKD=$(vsockd_pids)
	QEMU=$(qemu_pid)
	[[ -n $VSOCKD ]] && alive "$QEMU" || e2e_fail "no vmapp-vsockd or QEMU after the restart"
	kill -KILL "$VSOCKD"
	wait_until 60 test ! -e "$RUNTIME" ||
		e2e_fail "the VM still runs 60 s after its vmapp-vsockd was killed"
	! alive "$QEMU" || e2e_fail "QEMU ($QEMU) runs on without its vmapp-vsockd"
	grep -q "vmapp-vsockd ended (signal 9)" "$STATE/vm.log" ||
		e2e_fail "the VM's log does not say vmapp-vsockd ended: $(tail -n 5 "$STATE/vm.log")"
	left=$(pgrep -af -- "$STATE/|$RUNTIME/|--vm-serve $VM\$" || true)
	[[ -z $left ]] || e2e_fail "still running after vmapp-vsockd died: $left"
	log "vmapp-vsockd killed: the VM's proxy stopped the VM, nothing left"
fi

pass "transport=vsock on $DEVICE: --vm to window $WINDOW_SECONDS s, labelled, drawn, typed into, 42 back; no serial port or NIC in the guest; the agent came back after its stream ended; stop left nothing; a dead vmapp-vsockd stops the VM"
