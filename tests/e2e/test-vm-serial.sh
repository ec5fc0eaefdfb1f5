#!/bin/bash
# End to end with a real VM: a Debian 12 guest built by
# vmspawn/image/build-image.sh (systemd, foot, vmapp-agent and its unit)
# boots under QEMU (TCG) with the QEMU command line of vmspawn's argv
# builder (through tests/vmspawn/print-argv): no network device, the
# root a throwaway qcow2 overlay on the cached image, the agent's stream a
# virtio-serial port whose host end is QEMU's chardev socket.  On the host,
# headless sway and
#
#   vmapp-proxy --accept serial:SOCK --label e2e -- foot sh -c '...'
#
# which connects to that socket before the guest has booted, waits for the
# agent that systemd starts in the guest, has it run the command (RUN),
# and exits with its status.  Checked:
#   (1) the window appears on sway, app_id vmapp.e2e.foot, title
#       "[e2e] ...", a client of the proxy (sway's pid of it);
#   (2) its pixels are foot's: its background over most of the screen and
#       the text the guest printed in its foreground colour;
#   (3) keys typed on the host (a trusted virtual keyboard on sway's seat)
#       reach the shell in the guest, which exits 42 only when it read
#       them and when the guest has no network interface but lo (the VM
#       has no network device): the proxy must exit with that 42, and the
#       window go;
#   (4) the same VM, a second proxy 5 s later: systemd started the agent
#       again after the first stream ended, and a second foot shows;
#   (5) QEMU killed: the stream ends, the proxy exits (125: the stream
#       ended before its command did), the window goes, and nothing of the
#       VM or the proxies is left running.
#
# The guest's serial console goes to $T/console.log (its end shown on
# failure, all of it copied to the image cache as last-console.log).  The
# agent's output, and its apps', goes there too (journal+console).
#
# Environment: VMAPP_PROXY, VMAPP_AGENT, VMAPP_PRINT_ARGV (meson sets
# them); VMAPP_E2E_CACHE, where images are built and kept (default
# $XDG_CACHE_HOME/vmapp-test, or ~/.cache/vmapp-test);
# VMAPP_E2E_BOOT_WAIT, seconds to wait for the first window (default
# 300); see ../integration/lib.sh for the rest.
HERE=$(cd "$(dirname "$0")" && pwd)
if [[ ! -r $HERE/../integration/lib.sh ]]; then
	echo "test-vm-serial: $HERE/../integration/lib.sh is missing" >&2
	exit 99
fi
# shellcheck source=../integration/lib.sh
. "$HERE/../integration/lib.sh"

need qemu-system-x86_64 qemu-img mmdebstrap wtype
find_agent
PRINT_ARGV=${VMAPP_PRINT_ARGV:-$HERE/../../build/tests/vmspawn/print-argv}
[[ -x $PRINT_ARGV ]] || skip "no print-argv at $PRINT_ARGV (set VMAPP_PRINT_ARGV)"
# shellcheck source=lib-e2e.sh
. "$HERE/lib-e2e.sh"
BOOT_WAIT=${VMAPP_E2E_BOOT_WAIT:-300}
LABEL=e2e
APP_ID=vmapp.$LABEL.foot

e2e_fail() {
	keep_console "$T/console.log"
	log "the guest's console log: $CACHE/last-console.log"
	fail "$@"
}

# --- the image -----------------------------------------------------------

build_test_image

# --- the host: sway, a keyboard on its seat ------------------------------

start_sway
add_seat_keyboard

# --- the VM --------------------------------------------------------------

SOCK=$T/transport.sock
qemu-img create -q -f qcow2 -b "$IMAGE/root.img" -F raw "$T/overlay.qcow2" ||
	hard_error "qemu-img could not make the overlay"
if ! "$PRINT_ARGV" memory=1G cpus=2 accel=tcg network=off \
	"fact.qemu=$(command -v qemu-system-x86_64)" \
	"fact.kernel=$IMAGE/vmlinuz" "fact.initrd=$IMAGE/initrd.img" \
	"fact.root=$T/overlay.qcow2" fact.root_format=qcow2 \
	"fact.console_log=$T/console.log" "fact.transport_socket=$SOCK" \
	>"$T/qemu.argv" 2>"$T/print-argv.err"; then
	fail "vmspawn's argv builder refused: $(cat "$T/print-argv.err")"
fi
mapfile -t QEMU_ARGV <"$T/qemu.argv"
# Network off means no network device at all, not one that is unplugged.
if grep -Eq '^-(netdev|nic|net)$|virtio-net' "$T/qemu.argv"; then
	fail "the argv has a network device: $(tr '\n' ' ' <"$T/qemu.argv")"
fi
log "QEMU: $(tr '\n' ' ' <"$T/qemu.argv")"

BOOT_START=$SECONDS
spawn qemu "${QEMU_ARGV[@]}"
wait_until 30 test -S "$SOCK" ||
	e2e_fail "QEMU made no socket $SOCK: $(cat "$T/qemu.err")"

# vm_alive NAME: QEMU and the proxy NAME are still running.
vm_alive() {
	alive "${PIDS[qemu]}" || e2e_fail "QEMU exited: $(tail -n 5 "$T/qemu.err")"
	alive "${PIDS[$1]}" || e2e_fail "vmapp-proxy ($1) exited: $(tail -n 5 "$T/$1.err")"
}

# wait_vm_window NAME SECONDS: poll sway for the window of APP_ID while
# QEMU and the proxy NAME run; prints it.
wait_vm_window() {
	local deadline=$((SECONDS + $2)) w
	while :; do
		# shellcheck disable=SC2016 # jq's variable
		if w=$(find_window '.app_id == $a' --arg a "$APP_ID"); then
			printf '%s\n' "$w"
			return 0
		fi
		vm_alive "$1"
		((SECONDS < deadline)) || return 1
		sleep 1
	done
}

# --- (1) the first window ---------------------------------------------------

spawn vm-proxy "$PROXY" --accept "serial:$SOCK" --label "$LABEL" -v -- foot --log-level=warning -f monospace:size=16 sh -c "$GO_SCRIPT"

window=$(wait_vm_window vm-proxy "$BOOT_WAIT") ||
	e2e_fail "no window with app_id $APP_ID within $BOOT_WAIT s; windows: $(windows | tr '\n' ' ')"
WINDOW_SECONDS=$((SECONDS - BOOT_START))
log "boot to window: $WINDOW_SECONDS s: $window"
title=$(jq -r .name <<<"$window")
[[ $title == "[$LABEL] "* ]] || e2e_fail "the window's title is '$title', not '[$LABEL] ...'"
pid=$(jq -r .pid <<<"$window")
[[ $pid == "${PIDS[vm-proxy]}" ]] ||
	e2e_fail "the window is a client of pid $pid, not of the proxy (${PIDS[vm-proxy]})"

# --- (2) foot's pixels ----------------------------------------------------

wait_until 60 drawn ||
	e2e_fail "foot's window never showed its text: foot background $FOOT_BG_FRACTION, text colour $FOOT_FG_FRACTION of the screen"
log "foot drawn: background $FOOT_BG_FRACTION, text $FOOT_FG_FRACTION of the screen"

# --- (3) typing, and the exit status -------------------------------------

type_go vm-proxy
if grep -Eq "$VIOLATION_RE" "$T/vm-proxy.err"; then
	e2e_fail "the proxy cut a client off: $(grep -Em1 "$VIOLATION_RE" "$T/vm-proxy.err")"
fi
alive "${PIDS[qemu]}" || e2e_fail "QEMU exited with the first proxy"

# --- (4) a second stream on the same VM -------------------------------------

# The agent's stream ended with the first proxy; systemd starts it again
# (Restart=always), and it serves the next connection.  A few seconds
# with no host first: a VM waits for its next proxy.
sleep 5
started=$SECONDS
spawn vm-proxy-2 "$PROXY" --accept "serial:$SOCK" --label "$LABEL" -v -- foot --log-level=warning sh -c 'echo second; exec sleep 3600'
window=$(wait_vm_window vm-proxy-2 90) ||
	e2e_fail "no window from the second proxy within 90 s; windows: $(windows | tr '\n' ' ')"
log "second stream: window after $((SECONDS - started)) s"

# --- (5) QEMU killed --------------------------------------------------------

kill -KILL "${PIDS[qemu]}"
{ wait_exit qemu 10; } 2>/dev/null # no "Killed" from bash
wait_exit vm-proxy-2 30
rc=$?
[[ $rc == 125 ]] ||
	e2e_fail "with QEMU killed, the proxy exited $rc, not 125 (the stream ended before its command): $(tail -n 3 "$T/vm-proxy-2.err")"
grep -q "stream ended" "$T/vm-proxy-2.err" ||
	e2e_fail "the proxy did not say that the stream ended: $(tail -n 3 "$T/vm-proxy-2.err")"
wait_until "$WAIT" no_windows || e2e_fail "the window stayed after QEMU was killed"
for name in qemu vm-proxy vm-proxy-2; do
	[[ -z ${PIDS[$name]:-} ]] || e2e_fail "$name is still running"
done
# shellcheck disable=SC2009 # every process whose command line names $T
left=$(ps -e -o pid=,args= | grep -F -- "$T/" | grep -v -e grep -e vmapp-watchdog -e sway -e wtype || true)
[[ -z $left ]] || e2e_fail "still running after QEMU was killed: $left"

keep_console "$T/console.log"
pass "boot to window $WINDOW_SECONDS s (image $IMAGE_SECONDS s); labelled, drawn, typed into, exit status 42 back, no network interface, a second stream, QEMU's end ends the proxy"
