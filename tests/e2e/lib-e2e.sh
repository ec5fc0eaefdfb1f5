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
