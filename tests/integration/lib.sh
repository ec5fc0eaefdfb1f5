# shellcheck shell=bash
# Shared setup for the integration tests: a private temporary directory, a
# headless compositor (sway or weston), process bookkeeping that leaves
# nothing running, and helpers to see what reached the compositor.
#
# A test sources this file, calls start_sway or start_weston, and runs its
# clients with spawn/run. Exit codes follow weston's tests: 0 pass, 1 fail,
# 77 skip (a failure when CI=true), 99 the harness itself broke.
#
# Environment:
#   VMAPP_PROXY     the proxy binary (meson sets it); fallback ../../build/proxy/vmapp-proxy
#   VMAPP_GLOBALS, VMAPP_VPOINTER, VMAPP_LAYER   our own clients (meson sets them)
#   VMAPP_TEST_WAIT seconds to wait for anything to appear (default 15)
#   VMAPP_KEEP_TMP=1 keep the temporary directory for a look afterwards
#   CI=true         a missing tool fails instead of skipping

set -u
set +m  # no job control: background jobs stay where spawn puts them

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_NAME=$(basename "$0" .sh)
WAIT=${VMAPP_TEST_WAIT:-15}
BG_COLOUR=203040
COMPOSITOR=

# Never talk to the caller's desktop by accident.
unset WAYLAND_DISPLAY WAYLAND_SOCKET SWAYSOCK DISPLAY I3SOCK

T=$(mktemp -d "${TMPDIR:-/tmp}/vmapp-$TEST_NAME.XXXXXX") || exit 99
mkdir -m 700 "$T/run" "$T/shots"
export XDG_RUNTIME_DIR=$T/run
: >"$T/pgids"

declare -A PIDS=()

log() {
	printf '%s: %s\n' "$TEST_NAME" "$*" >&2
}

# Print the end of every log this test wrote, for the reader of a failure.
dump_logs() {
	local f
	for f in "$T"/*.out "$T"/*.err "$T"/*.log; do
		[[ -s $f ]] || continue
		printf -- '--- %s (last 25 lines)\n' "${f##*/}" >&2
		tail -n 25 "$f" >&2
	done
}

fail() {
	log "FAIL: $*"
	dump_logs
	exit 1
}

pass() {
	log "PASS${1:+: $*}"
	exit 0
}

# The harness could not do its own job (compositor did not start, ...).
hard_error() {
	log "ERROR: $*"
	dump_logs
	exit 99
}

skip() {
	if [[ ${CI:-} == true ]]; then
		log "FAIL (a skip is a failure when CI=true): $*"
		exit 1
	fi
	log "SKIP: $*"
	exit 77
}

# need TOOL...: skip unless every tool is on PATH (or is an executable path).
need() {
	local tool
	for tool in "$@"; do
		if [[ $tool == */* ]]; then
			[[ -x $tool ]] || skip "missing $tool"
		else
			command -v "$tool" >/dev/null 2>&1 || skip "missing $tool"
		fi
	done
}

# Find the proxy and our own clients.
find_proxy() {
	PROXY=${VMAPP_PROXY:-$LIB_DIR/../../build/proxy/vmapp-proxy}
	[[ -x $PROXY ]] || skip "no proxy binary at $PROXY (set VMAPP_PROXY)"
}

# find_client NAME: path of one of our clients (globals, vpointer, layer).
find_client() {
	local var=VMAPP_${1^^} path
	path=${!var:-$LIB_DIR/../../build/tests/integration/$1}
	[[ -x $path ]] || skip "no test client $1 at $path (set $var)"
	printf '%s\n' "$path"
}

# --- processes ---------------------------------------------------------

# A process is running (and not a zombie waiting to be reaped).
alive() {
	local state
	[[ -r /proc/$1/stat ]] || return 1
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
	[[ -n $state && $state != Z ]]
}

# Every process, by pid, that descends from the pids given.
descendants() {
	ps -e -o pid=,ppid= | awk -v roots="$*" '
		{ parent[$1] = $2; pids[NR] = $1 }
		END {
			n = split(roots, r, " ")
			for (i = 1; i <= n; i++) mark[r[i]] = 1
			do {
				changed = 0
				for (j in pids) {
					p = pids[j]
					if (!(p in mark) && (parent[p] in mark)) { mark[p] = 1; changed = 1 }
				}
			} while (changed)
			for (p in mark) print p
		}'
}

# Whether any live (non-zombie) process is still in process group $1.
group_alive() {
	ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# spawn NAME CMD...: start CMD in the background in its own session and
# process group, stdout to $T/NAME.out and stderr to $T/NAME.err. Its pid
# (which is also its process group id) is in PIDS[NAME].
spawn() {
	local name=$1
	shift
	setsid "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
	local pid=$!
	PIDS[$name]=$pid
	echo "$pid" >>"$T/pgids"
}

# stop NAME: end what spawn started, its whole group and every descendant.
stop() {
	local pid=${PIDS[$1]:-}
	[[ -n $pid ]] || return 0
	kill_tree "$pid"
	wait "$pid" 2>/dev/null
	unset "PIDS[$1]"
	return 0
}

# kill_tree PID...: TERM the groups and descendants, KILL what is left.
kill_tree() {
	local pids pid i
	pids=$(descendants "$@")
	for pid in "$@"; do
		kill -TERM -- "-$pid" 2>/dev/null
	done
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		local left=0
		for pid in "$@"; do
			group_alive "$pid" && left=1
		done
		for pid in $pids; do
			alive "$pid" && left=1
		done
		((left)) || return 0
		sleep 0.1
	done
	for pid in "$@"; do
		kill -KILL -- "-$pid" 2>/dev/null
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	return 0
}

# wait_exit NAME [SECONDS]: wait for a spawned process to end; returns its
# exit status, or 124 (after killing it) if it is still running then.
wait_exit() {
	local pid=${PIDS[$1]} secs=${2:-$WAIT} rc
	local deadline=$((SECONDS + secs))
	while alive "$pid"; do
		if ((SECONDS >= deadline)); then
			stop "$1"
			return 124
		fi
		sleep 0.1
	done
	wait "$pid"
	rc=$?
	kill_tree "$pid"  # whatever it left behind in its group
	unset "PIDS[$1]"
	return "$rc"
}

# run NAME SECONDS CMD...: run CMD to its end (killed after SECONDS) and
# return its status; output in $T/NAME.out and $T/NAME.err.
run() {
	local name=$1 secs=$2
	shift 2
	spawn "$name" "$@"
	wait_exit "$name" "$secs"
}

# wait_until SECONDS CMD...: poll CMD until it succeeds; 1 on timeout.
wait_until() {
	local secs=$1
	shift
	local deadline=$((SECONDS + secs))
	until "$@"; do
		((SECONDS >= deadline)) && return 1
		sleep 0.1
	done
	return 0
}

# wait_file_has FILE PATTERN [SECONDS]: wait for an extended regex in FILE.
wait_file_has() {
	wait_until "${3:-$WAIT}" grep -Eq -- "$2" "$1"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	local pgids
	pgids=$(tac "$T/pgids" 2>/dev/null)
	# shellcheck disable=SC2086
	kill_tree $pgids ${WATCHDOG_PID:-}
	# Reap our own children so that none is left as a zombie.
	wait 2>/dev/null
	if [[ ${VMAPP_KEEP_TMP:-} == 1 ]]; then
		log "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# If the test itself is killed with SIGKILL (meson's last resort on a
# timeout), no trap runs: a watchdog in its own session then kills every
# group the test started.
setsid bash -c '
	while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
	while read -r pg; do kill -KILL -- "-$pg" 2>/dev/null; done <"$2/pgids"
	rm -rf "$2"
' vmapp-watchdog "$$" "$T" </dev/null >/dev/null 2>&1 &
WATCHDOG_PID=$!

# --- compositors -------------------------------------------------------

# start_sway: headless sway 800x600 with a solid #203040 background; sets
# WAYLAND_DISPLAY and SWAYSOCK. Returns once the background is on screen.
start_sway() {
	need sway swaymsg jq grim python3
	cat >"$T/sway.conf" <<-EOF
		xwayland disable
		output HEADLESS-1 resolution 800x600 position 0 0 background #$BG_COLOUR solid_color
		default_border none
		default_floating_border none
		focus_follows_mouse no
		exec sh -c 'echo "\$WAYLAND_DISPLAY \$SWAYSOCK" >"$T/sway.env.tmp" && mv "$T/sway.env.tmp" "$T/sway.env"'
	EOF
	# sway refuses to run as root; in a user namespace it is not root.
	local unshare=()
	((EUID == 0)) && unshare=(unshare --user)
	spawn sway env WLR_BACKENDS=headless WLR_RENDERER=pixman \
		WLR_LIBINPUT_NO_DEVICES=1 "${unshare[@]}" sway -c "$T/sway.conf"
	wait_until "$WAIT" test -s "$T/sway.env" ||
		hard_error "sway did not start"
	read -r WAYLAND_DISPLAY SWAYSOCK <"$T/sway.env"
	export WAYLAND_DISPLAY SWAYSOCK
	COMPOSITOR=sway
	wait_until "$WAIT" swaymsg -t get_outputs >/dev/null 2>&1 ||
		hard_error "sway IPC does not answer"
	wait_until "$WAIT" background_only ||
		hard_error "sway's background never filled the screen"
}

# start_weston: headless weston 800x600 with a solid #203040 background and
# no panel, --debug so that weston-screenshooter works. weston's own log,
# $T/weston.log, also records every request it receives (the "proto"
# scope): what really reached the compositor.
start_weston() {
	need weston weston-screenshooter python3
	cat >"$T/weston.ini" <<-EOF
		[core]
		idle-time=0
		require-input=false

		[shell]
		background-color=0xff$BG_COLOUR
		panel-position=none
		locking=false
		animation=none
		close-animation=none
		startup-animation=none
		focus-animation=none
	EOF
	# --use-pixman: with the GL renderer the screenshooter hung.
	spawn weston weston --backend=headless-backend.so --use-pixman \
		--width=800 --height=600 --socket=vmapp-weston --idle-time=0 \
		--config="$T/weston.ini" --debug --log="$T/weston.log" \
		--logger-scopes=log,proto
	wait_until "$WAIT" test -S "$XDG_RUNTIME_DIR/vmapp-weston" ||
		hard_error "weston did not start"
	export WAYLAND_DISPLAY=vmapp-weston
	COMPOSITOR=weston
	wait_until "$WAIT" background_only ||
		hard_error "weston's background never filled the screen"
}

# log_mark FILE: remember the current end of FILE; log_since FILE prints
# what was written to FILE after that mark.
declare -A MARKS=()
log_mark() {
	MARKS[$1]=$(stat -c %s "$1" 2>/dev/null || echo 0)
}
log_since() {
	tail -c +$((${MARKS[$1]:-0} + 1)) "$1" 2>/dev/null
}

# add_seat_keyboard: give sway's seat a keyboard for the rest of the test
# (a trusted virtual keyboard that stays connected and types nothing), so
# that clients get keyboard focus, and with it, for instance, the selection.
add_seat_keyboard() {
	need wtype
	# wtype creates its keyboard first, then sleeps as told before typing.
	spawn seat-keyboard wtype -s 3600000
	wait_until "$WAIT" seat_has_keyboard || hard_error "the seat never got a keyboard"
}
seat_has_keyboard() {
	swaymsg -t get_seats 2>/dev/null |
		jq -e 'any(.[]; (.capabilities / 2 | floor) % 2 == 1)' >/dev/null
}

# --- what the compositor shows ----------------------------------------

# screenshot FILE: the whole output, taken by a trusted host-side client.
# sway: a PPM from grim; weston: a PNG from weston-screenshooter.
screenshot() {
	local file=$1
	rm -f "$file"
	case $COMPOSITOR in
	sway)
		timeout -k 2 10 grim -t ppm "$file" 2>>"$T/screenshot.log"
		;;
	weston)
		# It writes wayland-screenshot-DATE.png in the working directory.
		rm -f "$T/shots/"*.png
		(cd "$T/shots" && timeout -k 2 10 weston-screenshooter) 2>>"$T/screenshot.log" || return 1
		local shot
		for shot in "$T/shots/"*.png; do
			[[ -f $shot ]] && mv "$shot" "$file"
		done
		;;
	*)
		hard_error "screenshot before a compositor started"
		;;
	esac
	[[ -s $file ]]
}

# colour_fraction FILE RRGGBB: fraction (0..1) of pixels of exactly that colour.
colour_fraction() {
	python3 "$LIB_DIR/imgstat.py" "$1" "$2" | sed -n 1p
}

# bg_fraction FILE: fraction of pixels that are the background colour.
bg_fraction() {
	colour_fraction "$1" "$BG_COLOUR"
}

# A comparison of two decimal numbers: lt A B / gt A B.
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

# The screen shows nothing but the background.
background_only() {
	screenshot "$T/shots/bg.img" || return 1
	gt "$(bg_fraction "$T/shots/bg.img")" 0.999
}

# wait_drawn [MAX_BG_FRACTION] [SECONDS]: wait until less than that
# fraction (default 0.9) of the screen is background. Sets LAST_BG.
wait_drawn() {
	local max=${1:-0.9} secs=${2:-$WAIT}
	local deadline=$((SECONDS + secs))
	while :; do
		if screenshot "$T/shots/drawn.img"; then
			LAST_BG=$(bg_fraction "$T/shots/drawn.img")
			lt "$LAST_BG" "$max" && return 0
		fi
		((SECONDS >= deadline)) && return 1
		sleep 0.2
	done
}

# --- sway's window tree -----------------------------------------------

# windows: every window (view) in sway's tree, one compact JSON a line.
windows() {
	swaymsg -t get_tree 2>/dev/null |
		jq -c '.. | objects | select(.type? == "con" or .type? == "floating_con") | select(.pid? != null) | {id, pid, app_id, name, focused, visible}'
}

# find_window JQ_CONDITION [JQ ARGS...]: the first window for which the
# condition holds, as compact JSON; 1 if there is none.
find_window() {
	local cond=$1 out
	shift
	out=$(windows | jq -c "$@" "select($cond)" 2>/dev/null | head -n 1)
	[[ -n $out ]] || return 1
	printf '%s\n' "$out"
}

# wait_window JQ_CONDITION [JQ ARGS...]: poll until find_window finds one
# (within $WAIT seconds); prints it.
wait_window() {
	local deadline=$((SECONDS + WAIT)) out
	while :; do
		if out=$(find_window "$@"); then
			printf '%s\n' "$out"
			return 0
		fi
		((SECONDS >= deadline)) && return 1
		sleep 0.1
	done
}

# wait_for_window APP_ID_OR_TITLE: a window whose app_id or title is exactly that.
wait_for_window() {
	wait_window '.app_id == $p or .name == $p' --arg p "$1"
}

# window_title / window_app_id APP_ID_OR_TITLE: the field of that window.
window_title() {
	find_window '.app_id == $p or .name == $p' --arg p "$1" | jq -r .name
}
window_app_id() {
	find_window '.app_id == $p or .name == $p' --arg p "$1" | jq -r .app_id
}

# no_windows: sway's tree holds no window at all.
no_windows() {
	[[ -z $(windows) ]]
}

# --- the proxy ----------------------------------------------------------

# The proxy's violation line: "interface.message@id: rule".
# shellcheck disable=SC2034 # used by the tests that source this file
VIOLATION_RE='[a-z_0-9]+\.[a-z_0-9]+@[0-9]+: [a-z0-9-]+'

# check_global_blocked INTERFACE: the compositor offers INTERFACE and a
# direct client can bind it (the control); through the proxy it is not
# advertised, and binding the compositor's name for it anyway costs the
# client its connection, with the proxy's one-line report on its stderr.
check_global_blocked() {
	local iface=$1 globals name tag=${1//_/-}
	globals=$(find_client globals) || exit $?

	run "globals-direct-$tag" 10 "$globals" ||
		hard_error "listing sway's globals failed"
	name=$(awk -v i="$iface" '$1 == i { print $3; exit }' "$T/globals-direct-$tag.out")
	[[ -n $name ]] || hard_error "the compositor does not offer $iface: nothing to test"
	run "bind-direct-$tag" 10 "$globals" --bind "$name" "$iface" 1 ||
		hard_error "binding $iface directly failed: $(cat "$T/bind-direct-$tag.err")"

	run "globals-proxied-$tag" 10 "$PROXY" --local -- "$globals" ||
		fail "listing globals through the proxy failed ($?)"
	grep -q '^wl_compositor ' "$T/globals-proxied-$tag.out" ||
		fail "the proxy advertised no wl_compositor: is it serving at all?"
	if grep -q "^$iface " "$T/globals-proxied-$tag.out"; then
		fail "the proxy advertises $iface"
	fi

	run "bind-proxied-$tag" 10 "$PROXY" --local -- "$globals" --bind "$name" "$iface" 1
	local rc=$?
	if grep -qx bound "$T/bind-proxied-$tag.out"; then
		fail "binding $iface (compositor name $name) through the proxy was accepted"
	fi
	grep -q 'connection died' "$T/bind-proxied-$tag.err" ||
		fail "binding $iface through the proxy: the client's connection was not closed (exit $rc)"
	grep -Eq 'wl_registry\.bind@[0-9]+: [a-z0-9-]+' "$T/bind-proxied-$tag.err" ||
		fail "binding $iface through the proxy: no 'wl_registry.bind@ID: rule' line on the proxy's stderr"
	log "$iface: offered by the compositor, hidden by the proxy, bind by name refused: $(grep -Eo 'wl_registry\.bind@[0-9]+: [a-z0-9-]+' "$T/bind-proxied-$tag.err" | head -n 1)"
}
