#!/bin/bash
# End to end, the VM's devices: one VM named devs, booted once (under TCG
# a boot is the dearest part of the test), defined with
#
#   network=nat share=$T/share audio=playback audio_backend=wav
#
# and used through `vmapp-proxy --vm devs -- COMMAND`.  Checked:
#   (1) NAT: a one-line TCP server on the host's 127.0.0.1 (a random
#       port) answers a host client (the control); then the guest, at
#       10.0.2.2, gets the host's token and the server logs the guest's.
#       The guest has a network interface besides lo.
#   (2) the share: a host file in it is read in the guest, a guest file
#       written there appears on the host; the host's $T (outside the
#       share) does not exist in the guest, and symlinks in the share that
#       point out of it (to /etc, to $T/secret) resolve to the guest's own
#       files, where on the host they reach the host's.
#   (3) audio: speaker-test plays a 440 Hz sine in the guest; after
#       vmapp-vm stop (QEMU finalises the WAV) the state folder's audio.wav
#       holds a tone near 440 Hz, not silence.  audio=playback gives the
#       guest a playback device and no capture device; before the tone,
#       the WAV holds (next to) nothing.
#   (4) vmapp-vm stop leaves nothing: no process with the state folder,
#       the runtime folder or the share in its arguments, no runtime folder.
#
# Environment: VMAPP_PROXY, VMAPP_AGENT, VMAPP_VM (meson sets them);
# VMAPP_E2E_CACHE (lib-e2e.sh); VMAPP_E2E_BOOT_WAIT, seconds for the
# first command (default 300); VMAPP_E2E_SHARE_MODE, the VM's share_mode
# (default auto: virtiofs when run as root, as here, else 9p).
HERE=$(cd "$(dirname "$0")" && pwd)
if [[ ! -r $HERE/../integration/lib.sh ]]; then
	echo "test-vm-devices: $HERE/../integration/lib.sh is missing" >&2
	exit 99
fi
# shellcheck source=../integration/lib.sh
. "$HERE/../integration/lib.sh"
# shellcheck source=lib-e2e.sh
. "$HERE/lib-e2e.sh"

need qemu-system-x86_64 qemu-img mmdebstrap sox python3
find_agent
BOOT_WAIT=${VMAPP_E2E_BOOT_WAIT:-300}
SHARE_MODE_WANTED=${VMAPP_E2E_SHARE_MODE:-auto}
VM=devs

use_vm "$VM"
SHARE=$T/share
GUEST_SHARE=/home/app/share

# guest NAME SECONDS COMMAND...: vmapp-proxy --vm devs -- COMMAND; its status.
guest() {
	local name=$1 secs=$2
	shift 2
	run "$name" "$secs" "$PROXY" --vm "$VM" -- "$@"
}

token() { printf '%s-%s\n' "$1" "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# --- the image, the VM, the host ---------------------------------------------

build_test_image
mkdir "$SHARE" || hard_error "mkdir $SHARE"
# The guest's user app is uid 1000 and sees the host's numeric owners
# (vmapp-vm(5), THE GUEST).  This test runs as root, and so do QEMU (9p,
# security_model=none: files stay the host user's) and virtiofsd: the
# folder root made is root's 0755, which app could read but not write.
# Letting others write is what a share of a uid-1000 user gets for free.
chmod 0777 "$SHARE" || hard_error "chmod $SHARE"
run vm-create 10 "$VM_CLI" create "$VM" "image=$IMAGE" accel=tcg memory=1G cpus=2 \
	network=nat "share=$SHARE" "share_mode=$SHARE_MODE_WANTED" audio=playback audio_backend=wav ||
	fail "vmapp-vm create failed: $(cat "$T/vm-create.err")"
# The VM's proxy needs a compositor to serve, even when no app draws.
start_sway

# --- (1) NAT: the host's loopback from the guest -------------------------------

HOST_TOKEN=$(token host)
GUEST_TOKEN=$(token guest)
CONTROL_TOKEN=$(token control)
# Two connections, one after the other: the host's control client, then
# the guest.  Each gets the host's token and sends back one line, logged
# with the peer's address; then the server exits 0.
cat >"$T/tcp-server.py" <<-'PY'
	import os, socket, sys
	port_file, log_file, token = sys.argv[1:4]
	s = socket.socket()
	s.bind(('127.0.0.1', 0))
	s.listen(4)
	with open(port_file + '.tmp', 'w') as f:
	    f.write('%d\n' % s.getsockname()[1])
	os.rename(port_file + '.tmp', port_file)
	for _ in range(2):
	    c, addr = s.accept()
	    c.settimeout(60)
	    with c:
	        c.sendall((token + '\n').encode())
	        data = b''
	        while not data.endswith(b'\n') and len(data) < 4096:
	            chunk = c.recv(4096)
	            if not chunk:
	                break
	            data += chunk
	    with open(log_file, 'a') as f:
	        f.write('%s %s\n' % (addr[0], data.decode(errors='replace').strip()))
	        f.flush()
PY
spawn tcp-server python3 "$T/tcp-server.py" "$T/tcp-port" "$T/tcp-received" "$HOST_TOKEN"
wait_until "$WAIT" test -s "$T/tcp-port" || hard_error "the TCP server did not start: $(cat "$T/tcp-server.err")"
PORT=$(cat "$T/tcp-port")

# ADDR PORT EXPECTED SEND: connect (retried for 90 s: nothing in the guest
# waits for DHCP), read a line, send one; 10 when the line read was
# EXPECTED; 3 no connection, 5 a wrong line; 4 no interface but lo.
# shellcheck disable=SC2016 # for the shell at the other end
TCP_SCRIPT='
ls /sys/class/net | grep -qvx lo || exit 4
connected=
for i in $(seq 90); do
	{ exec 3<>"/dev/tcp/$0/$1"; } 2>/dev/null && connected=$i && break
	sleep 1
done
[ -n "$connected" ] || exit 3
read -r -t 30 line <&3
echo "$3" >&3
[ "$line" = "$2" ] || exit 5
exit 10'
tcp_status() {
	case $1 in
	10) return 0 ;;
	3) echo "could not connect" ;;
	4) echo "no network interface but lo" ;;
	5) echo "connected, but did not read the host's token" ;;
	*) echo "exit status $1" ;;
	esac
	return 1
}

# The control: the server answers a client on the host itself.
run tcp-host 30 bash -c "$TCP_SCRIPT" 127.0.0.1 "$PORT" "$HOST_TOKEN" "$CONTROL_TOKEN"
why=$(tcp_status $?) || hard_error "a host client and the host's server: $why; $(cat "$T/tcp-host.err")"
grep -qx "127.0.0.1 $CONTROL_TOKEN" "$T/tcp-received" ||
	hard_error "the server did not log the host client's token: $(cat "$T/tcp-received")"

# The guest, through QEMU's NAT; this first command boots the VM.
started=$SECONDS
guest tcp-guest "$BOOT_WAIT" bash -c "$TCP_SCRIPT" 10.0.2.2 "$PORT" "$HOST_TOKEN" "$GUEST_TOKEN"
rc=$?
BOOT_SECONDS=$((SECONDS - started))
grep -q "booting" "$T/tcp-guest.err" || e2e_fail "the first command did not boot the VM: $(cat "$T/tcp-guest.err")"
why=$(tcp_status $rc) || e2e_fail "the guest and the host's 127.0.0.1:$PORT at 10.0.2.2: $why; $(tail -n 5 "$T/tcp-guest.err")"
log "first command (boot, DHCP, connect) back in $BOOT_SECONDS s: the guest read the host's token"
wait_exit tcp-server 10 || e2e_fail "the TCP server did not end after two connections: $(cat "$T/tcp-server.err")"
# QEMU's slirp connects from the host's loopback on the guest's behalf.
grep -qx "127.0.0.1 $GUEST_TOKEN" "$T/tcp-received" ||
	e2e_fail "the host's server did not log the guest's token: $(cat "$T/tcp-received")"
log "NAT: the host's server logged the guest's token ($(sed -n 2p "$T/tcp-received"))"
QEMU=$(qemu_pid)
VM_PROXY=$(vm_proxy_pid)
alive "$QEMU" || e2e_fail "no QEMU at the pid in $RUNTIME/qemu.pid"

# --- (2) the share ----------------------------------------------------------------

SHARE_MODE=$(grep -Eo 'vhost-user-fs-pci|virtio-9p-pci' "$STATE/vm.log" | tail -n 1)
case $SHARE_MODE in
vhost-user-fs-pci) SHARE_MODE=virtiofs ;;
virtio-9p-pci) SHARE_MODE=9p ;;
*) e2e_fail "no share device on QEMU's command line: $(grep '^qemu: ' "$STATE/vm.log" | tail -n 1)" ;;
esac
[[ $SHARE_MODE_WANTED == auto || $SHARE_MODE_WANTED == "$SHARE_MODE" ]] ||
	e2e_fail "share_mode=$SHARE_MODE_WANTED, but QEMU shares the folder by $SHARE_MODE"

FROM_HOST=$(token from-host)
FROM_GUEST=$(token from-guest)
SECRET=$(token secret)
printf '%s\n' "$FROM_HOST" >"$SHARE/from-host"
printf '%s\n' "$SECRET" >"$T/secret"
ln -s /etc "$SHARE/escape"
ln -s "$T/secret" "$SHARE/secret-link"
HOST_NAME=$(cat /etc/hostname)
# The attack, on the host: these links do reach the host's files there.
[[ $(cat "$SHARE/secret-link") == "$SECRET" ]] || hard_error "the link to $T/secret does not reach it on the host"
[[ $(cat "$SHARE/escape/hostname") == "$HOST_NAME" ]] || hard_error "the link to /etc does not reach it on the host"
[[ $HOST_NAME != vmapp ]] || skip "this host is named vmapp, as the guest is: the /etc link proves nothing"

# In the guest, as app: 20 when every check held; else the first that failed.
# shellcheck disable=SC2016 # for the guest's shell
SHARE_SCRIPT='
s=/home/app/share
[ "$(cat "$s/from-host")" = "$1" ] || exit 3
printf "%s\n" "$2" >"$s/from-guest" || exit 4
grep " $s " /proc/mounts >"$s/guest-mount" || exit 5
[ ! -e "$3" ] || exit 6
[ ! -e "$3/secret" ] || exit 7
! grep -qF "$3" /proc/mounts || exit 8
[ "$(cat "$s/escape/hostname")" = vmapp ] || exit 9
! cat "$s/secret-link" >/dev/null 2>&1 || exit 11
! grep -rqsF "$4" /etc /home /tmp /root || exit 12
: >"$s/setuid-probe" && chmod 4755 "$s/setuid-probe"
exit 20'
guest share 60 bash -c "$SHARE_SCRIPT" guest "$FROM_HOST" "$FROM_GUEST" "$T" "$SECRET"
rc=$?
case $rc in
20) ;;
3) e2e_fail "the guest did not read the host's file in the share ($SHARE_MODE)" ;;
4) e2e_fail "the guest (app) could not write into the share ($SHARE_MODE): $(tail -n 3 "$T/share.err")" ;;
5) e2e_fail "$GUEST_SHARE is not a mount point in the guest" ;;
6 | 7) e2e_fail "the host's $T is visible in the guest (exit $rc)" ;;
8) e2e_fail "the guest's /proc/mounts names the host's $T" ;;
9) e2e_fail "the share's link to /etc did not resolve to the guest's /etc" ;;
11) e2e_fail "the share's link to $T/secret is readable in the guest" ;;
12) e2e_fail "the host's secret is in the guest's files" ;;
*) e2e_fail "the share checks in the guest exited $rc: $(tail -n 5 "$T/share.err")" ;;
esac
[[ $(cat "$SHARE/from-guest" 2>/dev/null) == "$FROM_GUEST" ]] ||
	e2e_fail "the guest's file is not on the host with its content: $(find "$SHARE" -printf '%P %u %m; ')"
# Not a check of this test, a figure: what a set-uid bit the guest sets
# on its file becomes on the host.
log "share: a file app made set-uid in the guest is, on the host: $(stat -c '%A %U(%u)' "$SHARE/setuid-probe" 2>&1)"
log "share ($SHARE_MODE; guest mount: $(cat "$SHARE/guest-mount")): host file read in the guest, guest file on the host (owner $(stat -c %u:%g "$SHARE/from-guest")), $T absent in the guest, links out of the share reach the guest's own files"

# --- (3) audio --------------------------------------------------------------------

# The control and the negative at once: a playback card, no capture one.
# shellcheck disable=SC2016 # for the guest's shell
guest audio-devices 60 bash -c 'aplay -l | grep -q "^card" || exit 3; ! arecord -l 2>/dev/null | grep -q "^card" || exit 4; exit 30'
case $? in
30) ;;
3) e2e_fail "audio=playback: no playback device in the guest: $(cat "$T/audio-devices.out" "$T/audio-devices.err")" ;;
4) e2e_fail "audio=playback: the guest has a capture device" ;;
*) e2e_fail "listing the guest's sound devices failed: $(tail -n 5 "$T/audio-devices.err")" ;;
esac
# What the WAV holds before the tone: the guest played nothing while
# it booted and ran the commands above.
WAV=$STATE/audio.wav
WAV_BEFORE=$(stat -c %s "$WAV" 2>/dev/null) || e2e_fail "no $WAV while the VM runs"
started=$SECONDS
guest tone 120 speaker-test -t sine -f 440 -l 1 -D default ||
	e2e_fail "speaker-test in the guest failed: $(tail -n 5 "$T/tone.err")"
log "speaker-test in the guest: $((SECONDS - started)) s; audio.wav was $WAV_BEFORE bytes before it, $(stat -c %s "$WAV") after"
# QEMU writes the WAV through stdio: under its 4 KiB buffer stays unseen.
# 0.1 s of 44.1 kHz 16-bit stereo is 17640 bytes.
((WAV_BEFORE < 17640)) || e2e_fail "audio.wav held $WAV_BEFORE bytes before the tone: the guest played something else"

# --- (4) stop leaves nothing ------------------------------------------------------

run stop 60 "$VM_CLI" stop "$VM" || e2e_fail "vmapp-vm stop failed: $(cat "$T/stop.err")"
! alive "$QEMU" || e2e_fail "QEMU ($QEMU) still runs after vmapp-vm stop"
[[ -z $VM_PROXY ]] || ! alive "$VM_PROXY" || e2e_fail "the VM's proxy ($VM_PROXY) still runs after vmapp-vm stop"
[[ ! -e $RUNTIME ]] || e2e_fail "left after stop: $(find "$RUNTIME" | tr '\n' ' ')"
left=$(pgrep -af -- "$STATE/|$RUNTIME/|$SHARE|--vm-serve $VM" || true)
[[ -z $left ]] || e2e_fail "still running after stop: $left"

# The tone, from the WAV QEMU finalised on its SIGTERM.
[[ -s $WAV ]] || e2e_fail "no $WAV after the stop"
sox "$WAV" -n remix 1 stat 2>"$T/sox.log" || e2e_fail "sox could not read $WAV: $(cat "$T/sox.log")"
FREQ=$(awk -F: '/^Rough +frequency/ { gsub(/ /, "", $2); print $2 }' "$T/sox.log")
RMS=$(awk -F: '/^RMS +amplitude/ { gsub(/ /, "", $2); print $2 }' "$T/sox.log")
LENGTH=$(awk -F: '/^Length/ { gsub(/ /, "", $2); print $2 }' "$T/sox.log")
[[ -n $FREQ && -n $RMS ]] || e2e_fail "sox stat gave no frequency or RMS: $(cat "$T/sox.log")"
log "audio.wav: $LENGTH s, rough frequency $FREQ Hz, RMS amplitude $RMS"
gt "$RMS" 0.01 || e2e_fail "audio.wav is silence: RMS amplitude $RMS"
{ gt "$FREQ" 420 && lt "$FREQ" 460; } || e2e_fail "audio.wav's tone is at $FREQ Hz, not 440 +- 20"

keep_console "$STATE/console.log"
pass "booted and connected in $BOOT_SECONDS s (image $IMAGE_SECONDS s); NAT both ways to the host's 127.0.0.1; share ($SHARE_MODE) both ways, nothing outside it; tone $FREQ Hz, RMS $RMS; stop left nothing"
