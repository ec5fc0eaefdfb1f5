# shellcheck shell=bash
# What the end-to-end VM tests share, on top of ../integration/lib.sh: the
# image cache and the test image (Debian 12 with foot, firefox-esr and the agent, built
# by vmspawn/image/build-image.sh and kept between runs), and the guest's
# console log kept next to it.
#
# Environment: VMAPP_E2E_CACHE, where images are built and kept (default
# $XDG_CACHE_HOME/vmapp-test, or ~/.cache/vmapp-test).

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD_IMAGE=$E2E_DIR/../../vmspawn/image/build-image.sh

if [[ -n ${VMAPP_E2E_CACHE:-} ]]; then
	CACHE=$VMAPP_E2E_CACHE
elif [[ -n ${XDG_CACHE_HOME:-} ]]; then
	CACHE=$XDG_CACHE_HOME/vmapp-test
elif [[ -n ${HOME:-} ]]; then
	CACHE=$HOME/.cache/vmapp-test
else
	CACHE=$E2E_DIR/../../build/vmapp-test
fi
IMAGE=$CACHE/image-foot
IMAGE_PACKAGES="foot fonts-dejavu-core firefox-esr"
FOOT_BG=111111     # foot's default colours (foot.ini [colors])
FOOT_FG=dcdccc

# build_test_image: IMAGE ready (built or reused); IMAGE_SECONDS the time.
build_test_image() {
	[[ -x $BUILD_IMAGE ]] || hard_error "no $BUILD_IMAGE"
	local started=$SECONDS line
	if ! "$BUILD_IMAGE" "$IMAGE" --agent "$AGENT" --packages "$IMAGE_PACKAGES" \
		2>"$T/build-image.log"; then
		cat "$T/build-image.log" >&2
		fail "build-image.sh failed"
	fi
	while read -r line; do log "$line"; done <"$T/build-image.log"
	IMAGE_SECONDS=$((SECONDS - started))
	log "image ready in $IMAGE_SECONDS s"
}

# use_vm NAME: the tests' VM is NAME, run through vmapp-proxy --vm with
# this test's own XDG folders (under $T); sets VM, RUNTIME, STATE and
# VM_CLI, and stops the VM (its proxy has a session of its own, QEMU dies
# with it) whatever happens, before lib.sh cleans up.
use_vm() {
	VM=$1
	VM_CLI=${VMAPP_VM:-$E2E_DIR/../../build/vmspawn/vmapp-vm}
	[[ -x $VM_CLI ]] || skip "no vmapp-vm at $VM_CLI (set VMAPP_VM)"
	export XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state XDG_DATA_HOME=$T/data
	RUNTIME=$XDG_RUNTIME_DIR/vmapp/$VM
	STATE=$XDG_STATE_HOME/vmapp/$VM
	trap vm_cleanup EXIT
}

# shellcheck disable=SC2317 # the EXIT trap
vm_cleanup() {
	local rc=$?
	timeout 60 "$VM_CLI" stop "$VM" >/dev/null 2>&1
	pkill -KILL -f -- "$STATE/" 2>/dev/null
	(exit "$rc")
	cleanup # lib.sh's
}

# e2e_fail MESSAGE: fails with the end of the VM's log, and keeps the
# guest's console.
e2e_fail() {
	keep_console "$STATE/console.log"
	[[ -f $STATE/vm.log ]] && log "the VM's log: $(tail -n 15 "$STATE/vm.log")"
	log "the guest's console log: $CACHE/last-console.log"
	fail "$@"
}

qemu_pid() { cat "$RUNTIME/qemu.pid" 2>/dev/null; }

# vhost_vsock_usable: /dev/vhost-vsock opens here, as vmapp would open it
# (then transport=auto is vsock on the kernel's device).
vhost_vsock_usable() {
	python3 -c 'import os; os.close(os.open("/dev/vhost-vsock", os.O_RDWR))' 2>/dev/null
}

# wait_vm_window NAME SECONDS: WINDOW is the window with app_id APP_ID,
# once the `vmapp-proxy --vm` spawned as NAME made it appear; fails when
# that one exits first or SECONDS pass.
wait_vm_window() {
	local name=$1 deadline=$((SECONDS + $2))
	# shellcheck disable=SC2016 # jq's variable
	until WINDOW=$(find_window '.app_id == $a' --arg a "$APP_ID"); do
		alive "${PIDS[$name]}" ||
			e2e_fail "vmapp-proxy --vm exited $(wait "${PIDS[$name]}"; echo $?): $(tail -n 5 "$T/$name.err")"
		((SECONDS < deadline)) ||
			e2e_fail "no window with app_id $APP_ID within $2 s; windows: $(windows | tr '\n' ' ')"
		sleep 1
	done
}
vm_proxy_pid() { pgrep -f -- "--vm-serve $VM\$" | head -n 1; }

# keep_console FILE: the guest's console log of this run, kept next to the
# image as last-console.log whatever happens.
keep_console() {
	[[ -f $1 ]] && cp "$1" "$CACHE/last-console.log" 2>/dev/null
	return 0
}

# near_fraction FILE RRGGBB DIST: fraction of the pixels within DIST of
# that colour in each channel (antialiased text has few exact pixels).
# shellcheck disable=SC2317 # called through drawn
near_fraction() {
	PYTHONDONTWRITEBYTECODE=1 python3 - "$LIB_DIR" "$@" <<-'PY'
		import sys
		sys.path.insert(0, sys.argv[1])
		import imgstat
		with open(sys.argv[2], 'rb') as f:
		    w, h, _, px = imgstat.read_ppm(f.read())
		c, d = bytes.fromhex(sys.argv[3]), int(sys.argv[4])
		ok = [bytes(range(max(0, v - d), min(255, v + d) + 1)) for v in c]
		n = sum(1 for r, g, b in zip(px[0::3], px[1::3], px[2::3])
		        if r in ok[0] and g in ok[1] and b in ok[2])
		print('%.6f' % (n / (w * h)))
	PY
}

# drawn: foot's background over half the screen or more, and its text
# (two lines at 16 pt: some 0.3 % of the screen near its text colour).
# shellcheck disable=SC2317 # called through wait_until
drawn() {
	screenshot "$T/shots/foot.ppm" || return 1
	FOOT_BG_FRACTION=$(colour_fraction "$T/shots/foot.ppm" "$FOOT_BG")
	FOOT_FG_FRACTION=$(near_fraction "$T/shots/foot.ppm" "$FOOT_FG" 48)
	gt "$FOOT_BG_FRACTION" 0.5 && gt "$FOOT_FG_FRACTION" 0.001
}

# The guest's side of the typing check, as the user app in foot: a line of
# text, then a line typed from the host; exit 42 when it is "go" and lo is
# the only network interface (3: other text, 4: another interface).
# shellcheck disable=SC2016,SC2034 # for the guest's shell; used by the tests
GO_SCRIPT='printf "\033[?25l"; echo hello-from-the-vm; echo "interfaces: $(ls /sys/class/net | tr "\n" " ")"; read line; [ "$line" = go ] || exit 3; [ "$(ls /sys/class/net)" = lo ] || exit 4; exit 42'

# type_go NAME: types "go" into foot's focused window (APP_ID), whose shell
# runs GO_SCRIPT, and checks that the vmapp-proxy spawned as NAME exits
# with the guest's 42 and the window goes.
type_go() {
	local name=$1 rc
	# shellcheck disable=SC2016 # jq's variable
	wait_window '.app_id == $a and .focused' --arg a "$APP_ID" >/dev/null ||
		e2e_fail "foot's window never got the focus"
	# wtype's exit status says nothing about delivery: the guest's answers.
	run wtype 20 wtype -s 100 -d 50 go -k Return ||
		log "wtype exited with $? (looking at the guest's answer anyway)"
	wait_exit "$name" 120
	rc=$?
	case $rc in
	42) log "$name exited 42: the guest read 'go' and has no network interface but lo" ;;
	3) e2e_fail "the shell in the guest did not read 'go' (exit 3): the typed keys did not arrive" ;;
	4) e2e_fail "the guest has a network interface besides lo (exit 4)" ;;
	124) e2e_fail "$name was still running 120 s after the typing" ;;
	*) e2e_fail "$name exited $rc, not the command's 42: $(tail -n 5 "$T/$name.err")" ;;
	esac
	wait_until "$WAIT" no_windows || e2e_fail "the window did not go after the command ended"
}
