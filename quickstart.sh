#!/bin/bash
# Quick start: installs what vmapp needs (Debian 12), builds it, defines a
# VM named "default" (vmapp-vm create default) when there is none, and
# runs a foot terminal in it through the VM's validating proxy:
#
#   vmapp-proxy --vm default -- foot ...
#
# The first run builds the VM's guest image from Debian packages with
# mmdebstrap (a few minutes, shown as it goes); later runs reuse it.
#
# On a Wayland desktop (WAYLAND_DISPLAY set), the window opens there,
# titled "[default] foot".  Without one, a headless sway is started, the
# app is shown on it, a screenshot is saved, and the VM is stopped.
#
#   ./quickstart.sh              install, build, run foot in the VM
#   ./quickstart.sh -- CMD...    run CMD in the VM instead of foot
#   ./quickstart.sh --local      no VM: foot on the host, through the proxy
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD

vm=default
local_mode=0
command=(foot --log-level=warning sh -c 'echo "Hello from an app in the VM, behind vmapp-proxy."; echo "Close this window to end."; exec bash')
if [[ ${1:-} == --local ]]; then
	local_mode=1
	command=(foot -a vmapp-demo sh -c 'echo "Hello from an app behind vmapp-proxy."; echo "Close this window to end."; exec sh')
	shift
fi
if [[ ${1:-} == -- ]]; then
	shift
	command=("$@")
fi

echo "==> installing the Debian packages vmapp needs"
scripts/install-deps.sh
echo "==> building"
if [[ ! -f build/build.ninja ]]; then
	meson setup build >/dev/null
fi
meson compile -C build >/dev/null
proxy=$top/build/proxy/vmapp-proxy
vmapp_vm=$top/build/vmspawn/vmapp-vm
if ((local_mode)); then
	run_app=("$proxy" --local --label demo -- "${command[@]}")

else
	if ! "$vmapp_vm" show "$vm" >/dev/null 2>&1; then
		echo "==> defining the VM '$vm' (vmapp-vm create $vm; see vmapp-vm show $vm)"
		"$vmapp_vm" create "$vm"
	fi
	run_app=("$proxy" --vm "$vm" -- "${command[@]}")

fi

display_path() {
	local d=${WAYLAND_DISPLAY:-}
	[[ -n $d ]] || return 1
	[[ $d == /* ]] || d=${XDG_RUNTIME_DIR:-/nonexistent}/$d
	[[ -S $d ]]
}

if display_path; then
	echo "==> running ${command[0]} through vmapp-proxy on your desktop ($WAYLAND_DISPLAY)"
	exec "${run_app[@]}"
fi

echo "==> no Wayland desktop here: starting a headless sway"
dir=$(mktemp -d /tmp/vmapp-quickstart.XXXXXX)
mkdir -m 700 "$dir/run"
pids=()
cleanup() {
	local p
	# The VM runs with its own proxy, in a session of its own: stopped
	# here, with the compositor it showed its windows on.
	((local_mode)) || "$vmapp_vm" stop "$vm" >/dev/null 2>&1 || true
	for p in "${pids[@]}"; do
		kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
cat >"$dir/sway.conf" <<CONF
xwayland disable
output HEADLESS-1 resolution 800x600 background #203040 solid_color
default_border normal
exec sh -c 'echo "\$WAYLAND_DISPLAY \$SWAYSOCK" > $dir/env'
CONF
unshare=()
if [[ $(id -u) == 0 ]]; then
	unshare=(unshare --user) # sway refuses to run as root
fi
XDG_RUNTIME_DIR=$dir/run WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 \
	setsid "${unshare[@]}" sway -c "$dir/sway.conf" >"$dir/sway.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	[[ -s $dir/env ]] && break
	sleep 0.1
done
[[ -s $dir/env ]] || { echo "sway did not start:"; tail "$dir/sway.log"; exit 1; }
read -r WAYLAND_DISPLAY SWAYSOCK <"$dir/env"
export XDG_RUNTIME_DIR=$dir/run WAYLAND_DISPLAY SWAYSOCK

echo "==> running ${command[0]} through ${run_app[*]:0:3}"
# Its progress (the image, the boot) is shown as it goes, and kept.
setsid "${run_app[@]}" > >(tee "$dir/app.log") 2> >(tee -a "$dir/app.log" >&2) &
pids+=($!)

# A first run builds the image (minutes), then boots under TCG where KVM
# does not work.
window=
for _ in $(seq 9000); do
	window=$(swaymsg -t get_tree 2>/dev/null |
		jq -r '[.. | objects | select(.type? == "con" and .pid? != null)] | first |
			select(. != null) | "title \"\(.name)\", app_id \"\(.app_id)\""' 2>/dev/null || true)
	[[ -n $window ]] && break
	kill -0 "${pids[-1]}" 2>/dev/null || break
	sleep 0.1
done
if [[ -z $window ]]; then
	echo "no window appeared; the app and proxy said:"
	tail -20 "$dir/app.log"
	exit 1
fi
sleep 3 # let it draw its first frames (a VM under TCG is slow)
shot=$top/vmapp-screenshot.png
grim "$shot"
echo "==> the window mapped on the headless compositor: $window"
echo "==> screenshot saved to $shot"
