#!/bin/bash
# Quick start: installs what vmapp needs (Debian 12), builds it, and runs a
# real app through the validating proxy.
#
# On a Wayland desktop (WAYLAND_DISPLAY set), a foot terminal opens on it,
# its title labelled "[demo] ...".  Without one, a headless sway is started,
# the app is shown on it, and a screenshot is saved.
#
#   ./quickstart.sh              install, build, run
#   ./quickstart.sh -- CMD...    run CMD instead of foot
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD

command=(foot -a vmapp-demo sh -c 'echo "Hello from an app behind vmapp-proxy."; echo "Close this window to end."; exec sh')
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

display_path() {
	local d=${WAYLAND_DISPLAY:-}
	[[ -n $d ]] || return 1
	[[ $d == /* ]] || d=${XDG_RUNTIME_DIR:-/nonexistent}/$d
	[[ -S $d ]]
}

if display_path; then
	echo "==> running ${command[0]} through vmapp-proxy on your desktop ($WAYLAND_DISPLAY)"
	exec "$proxy" --local --label demo -- "${command[@]}"
fi

echo "==> no Wayland desktop here: starting a headless sway"
dir=$(mktemp -d /tmp/vmapp-quickstart.XXXXXX)
mkdir -m 700 "$dir/run"
pids=()
cleanup() {
	local p
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

echo "==> running ${command[0]} through vmapp-proxy --local --label demo"
setsid "$proxy" --local --label demo -- "${command[@]}" >"$dir/app.log" 2>&1 &
pids+=($!)

window=
for _ in $(seq 150); do
	window=$(swaymsg -t get_tree 2>/dev/null |
		jq -r '[.. | objects | select(.type? == "con" and .pid? != null)] | first |
			select(. != null) | "title \"\(.name)\", app_id \"\(.app_id)\""' 2>/dev/null || true)
	[[ -n $window ]] && break
	sleep 0.1
done
if [[ -z $window ]]; then
	echo "no window appeared; the app and proxy said:"
	tail -20 "$dir/app.log"
	exit 1
fi
sleep 1 # let it draw its first frames
shot=$top/vmapp-screenshot.png
grim "$shot"
echo "==> the window mapped on the headless compositor: $window"
echo "==> screenshot saved to $shot"
