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

# --- the split path: vmapp-agent and vmapp-proxy --accept ---------------
#
# The "guest" is another set of processes on this machine: the agent and
# its apps get a runtime directory of their own ($GUEST_RUNTIME, not the
# host's) and no WAYLAND_DISPLAY or SWAYSOCK, so that the only way from a
# guest app to the compositor is the agent's socket, the stream, and the
# proxy.

# Find the agent (and the proxy: the two go together).
find_agent() {
	find_proxy
	AGENT=${VMAPP_AGENT:-$LIB_DIR/../../build/agent/vmapp-agent}
	[[ -x $AGENT ]] || skip "no agent binary at $AGENT (set VMAPP_AGENT)"
	GUEST_RUNTIME=$T/guest
	[[ -d $GUEST_RUNTIME ]] || mkdir -m 700 "$GUEST_RUNTIME" || hard_error "mkdir $GUEST_RUNTIME"
	# GUEST CMD...: run CMD (with spawn or run) as a guest process.
	GUEST=(env -u WAYLAND_DISPLAY -u WAYLAND_SOCKET -u SWAYSOCK
		XDG_RUNTIME_DIR="$GUEST_RUNTIME")
}

# Bugs of the split path that the tests get past, to test the rest, and
# then fail for: agent_bug logs one; agent_bugs_fail, called before
# pass, fails the test if there was any.
AGENT_BUGS=()
AGENT_OPTS=()
agent_bug() {
	log "BUG: $*"
	AGENT_BUGS+=("$*")
}
agent_bugs_fail() {
	# A sanitizer build's report, even one that did not end the process.
	local f
	for f in "$T"/*.err; do
		if grep -Eq 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer' "$f"; then
			agent_bug "a sanitizer report in ${f##*/}: $(grep -Em1 'runtime error:|Sanitizer' "$f")"
		fi
	done
	((${#AGENT_BUGS[@]} == 0)) && return 0
	local b
	for b in "${AGENT_BUGS[@]}"; do
		log "BUG: $b"
	done
	fail "${#AGENT_BUGS[@]} bug(s) of the agent+proxy path, above"
}

# start_accept LABEL [POLICY]: the host half, `vmapp-proxy --accept
# unix:SOCK --label LABEL -v` on the compositor of WAYLAND_DISPLAY,
# spawned as $ACCEPT_NAME ("accept", then "accept-2"... if it has to be
# started again); its socket is $ACCEPT_SOCK. Returns once it listens.
ACCEPT_STARTS=0
start_accept() {
	ACCEPT_LABEL=$1
	ACCEPT_POLICY=${2:-}
	ACCEPT_STARTS=$((ACCEPT_STARTS + 1))
	ACCEPT_NAME=accept
	((ACCEPT_STARTS > 1)) && ACCEPT_NAME=accept-$ACCEPT_STARTS
	ACCEPT_SOCK=$T/$ACCEPT_NAME.sock
	AGENT_STREAMS=0
	local args=(--accept "unix:$ACCEPT_SOCK" --label "$ACCEPT_LABEL" -v)
	[[ -n $ACCEPT_POLICY ]] && args+=(--policy "$ACCEPT_POLICY")
	spawn "$ACCEPT_NAME" "$PROXY" "${args[@]}"
	if ! wait_until "$WAIT" test -S "$ACCEPT_SOCK"; then
		alive "${PIDS[$ACCEPT_NAME]}" ||
			fail "vmapp-proxy --accept exited at start: $(cat "$T/$ACCEPT_NAME.err")"
		fail "vmapp-proxy --accept never listened on $ACCEPT_SOCK"
	fi
}

# accept_pid: the pid of the host half now serving.
accept_pid() {
	printf '%s\n' "${PIDS[$ACCEPT_NAME]}"
}

# accept_check: the host half must outlive every agent stream. If it died,
# that is a bug: it is recorded with its exit status, and a new one is
# started so that the test can go on.
accept_check() {
	local pid=${PIDS[$ACCEPT_NAME]} rc
	alive "$pid" && return 0
	wait "$pid"
	rc=$?
	unset "PIDS[$ACCEPT_NAME]"
	local why="exit status $rc"
	# Seen once: stream_flush write()ing the CLOSE that answered the
	# agent's last CLOSE to a stream the agent had closed.
	((rc == 141)) && why="killed by SIGPIPE (status 141): it wrote to the agent's stream, or a pipe, after the other end was closed"
	agent_bug "vmapp-proxy --accept died after agent stream $AGENT_STREAMS ended instead of waiting for the next one: $why; last log line: $(tail -n 1 "$T/$ACCEPT_NAME.err")"
	start_accept "$ACCEPT_LABEL" "$ACCEPT_POLICY"
}

# stop_accept: SIGTERM to the host half, which must exit with 0 and take
# its socket with it.
stop_accept() {
	accept_check
	local rc
	kill -TERM "${PIDS[$ACCEPT_NAME]}"
	wait_exit "$ACCEPT_NAME" 10
	rc=$?
	[[ $rc == 0 ]] || fail "vmapp-proxy --accept exited with $rc on SIGTERM, not 0"
	[[ ! -e $ACCEPT_SOCK ]] || fail "vmapp-proxy --accept left its socket $ACCEPT_SOCK behind"
}

# streams_ended: how many agent streams the host half has seen end (its -v log).
streams_ended() {
	local n
	n=$(grep -c "the agent's stream ended" "$T/$ACCEPT_NAME.err" 2>/dev/null)
	printf '%d\n' "${n:-0}"
}
agent_streams_idle() {
	(($(streams_ended) >= AGENT_STREAMS)) || ! alive "${PIDS[$ACCEPT_NAME]}"
}

# spawn_agent NAME COMMAND...: the guest half, spawned as NAME: vmapp-agent
# on the proxy's socket serving $GUEST_RUNTIME/vmapp-NAME, running COMMAND
# there. It first waits for the previous agent's stream to end at the
# proxy, which serves one stream at a time, and returns once the agent has
# started COMMAND (after its handshake with the proxy). AGENT_OPTS, an
# array, holds more options for the agent (--shm-diff MODE...).
#
# An agent that connected but never starts COMMAND hangs in its handshake
# (as it once did when vmapp_agent_run asked vmapp_bridge_ready only after
# an epoll_wait returned, and the first vmapp_bridge_dispatch had already
# read the proxy's HELLO). That is recorded as a bug, and the agent is
# woken with a SIGCHLD (its signalfd ends the epoll_wait; there is nothing
# to reap) so that the rest of the test still runs.
spawn_agent() {
	local name=$1
	shift
	wait_until "$WAIT" agent_streams_idle ||
		fail "the proxy still serves the previous agent's stream ($(streams_ended) of $AGENT_STREAMS ended)"
	accept_check
	AGENT_STREAMS=$((AGENT_STREAMS + 1))
	rm -f "$T/$name.started"
	# shellcheck disable=SC2016 # for the inner shell
	spawn "$name" "${GUEST[@]}" "$AGENT" "${AGENT_OPTS[@]}" --connect "unix:$ACCEPT_SOCK" --socket "vmapp-$name" -v \
		-- sh -c ': >"$0" && exec "$@"' "$T/$name.started" "$@"
	wait_until 3 test -e "$T/$name.started" && return 0
	alive "${PIDS[$name]}" ||
		fail "vmapp-agent $name exited before it ran its command: $(tail -n 3 "$T/$name.err")"
	grep -q '^vmapp-agent: connected to' "$T/$name.err" ||
		fail "vmapp-agent $name never connected to the proxy: $(tail -n 3 "$T/$name.err")"
	agent_bug "vmapp-agent $name connected but did not start its command within 3 s: it hangs in the handshake with the proxy (woken with SIGCHLD to go on)"
	kill -CHLD "${PIDS[$name]}"
	wait_until "$WAIT" test -e "$T/$name.started" ||
		fail "vmapp-agent $name never started its command, even after a SIGCHLD"
}

# agent_errors NAME: the lines of agent NAME's log that say it cut a
# client off (a channel closed for anything but the client leaving).
agent_errors() {
	grep -E '^vmapp-agent: (channel [0-9]+: |a client refused)' "$T/$1.err" 2>/dev/null |
		grep -v ': client gone$'
}

# run_agent NAME SECONDS COMMAND...: spawn_agent and wait for its end;
# returns the agent's status (COMMAND's, passed on), 124 on the timeout.
run_agent() {
	local name=$1 secs=$2
	shift 2
	spawn_agent "$name" "$@"
	wait_exit "$name" "$secs"
}

# --- comparing screenshots -----------------------------------------------

# stable_screenshot FILE [MAX_BG_FRACTION]: a screenshot of a screen that
# holds still: taken again until two in a row, 0.3 s apart, are the same
# bytes and less than MAX_BG_FRACTION (default 0.9) of it is background.
# 1 if that does not happen within $WAIT seconds.
stable_screenshot() {
	local file=$1 max=${2:-0.9} prev=$T/shots/stable-prev.img
	local deadline=$((SECONDS + WAIT))
	rm -f "$prev"
	while ((SECONDS < deadline)); do
		if screenshot "$file"; then
			if [[ -f $prev ]] && cmp -s "$file" "$prev" &&
				lt "$(bg_fraction "$file")" "$max"; then
				return 0
			fi
			cp "$file" "$prev"
		fi
		sleep 0.3
	done
	return 1
}

# shot_diff A B [DIFF_IMAGE]: compare what two screenshots show besides the
# background: the bounding box of the pixels that are not background in
# each, and the pixels within them. Prints one line:
#   "DIFFERING NEAR TOTAL AX,AY,AW,AH BX,BY,BW,BH"
# DIFFERING counts the pixels of the box that differ (every pixel of the
# larger box when the sizes differ), NEAR those of them that differ by at
# most 1 in each channel, TOTAL the pixels of the box. With DIFF_IMAGE,
# writes a PPM of the box with the differing pixels in white (grey when
# near). The boxes are compared rather than whole screens because a
# floating window may land at another place each time (weston places new
# windows at random); on a tiling sway both boxes are the whole output.
shot_diff() {
	PYTHONDONTWRITEBYTECODE=1 python3 - "$LIB_DIR" "$BG_COLOUR" "$@" <<-'PY'
		import sys
		sys.path.insert(0, sys.argv[1])
		import imgstat

		bg = bytes.fromhex(sys.argv[2])

		def load(path):
		    with open(path, 'rb') as f:
		        data = f.read()
		    if data[:2] == b'P6':
		        w, h, _, px = imgstat.read_ppm(data)
		    else:
		        w, h, _, px = imgstat.read_png(data)
		    return w, h, px

		def box(w, h, px):
		    rows = [y for y in range(h)
		            if px[y * w * 3:(y + 1) * w * 3] != bg * w]
		    if not rows:
		        return 0, 0, 0, 0
		    cols = set()
		    for y in range(rows[0], rows[-1] + 1):
		        line = px[y * w * 3:(y + 1) * w * 3]
		        for x in range(w):
		            if line[x * 3:x * 3 + 3] != bg:
		                cols.add(x)
		    x0, x1 = min(cols), max(cols)
		    return x0, rows[0], x1 - x0 + 1, rows[-1] - rows[0] + 1

		(wa, ha, pa), (wb, hb, pb) = load(sys.argv[3]), load(sys.argv[4])
		ba, bb = box(wa, ha, pa), box(wb, hb, pb)
		bw, bh = ba[2], ba[3]
		near = 0
		if (bw, bh) != (bb[2], bb[3]):
		    differing = max(bw * bh, bb[2] * bb[3])
		    diff = None
		else:
		    differing = 0
		    diff = bytearray(bw * bh * 3)
		    for y in range(bh):
		        oa = ((ba[1] + y) * wa + ba[0]) * 3
		        ob = ((bb[1] + y) * wb + bb[0]) * 3
		        la, lb = pa[oa:oa + bw * 3], pb[ob:ob + bw * 3]
		        if la == lb:
		            continue
		        for x in range(bw):
		            ca, cb = la[x * 3:x * 3 + 3], lb[x * 3:x * 3 + 3]
		            if ca != cb:
		                differing += 1
		                mark = b'\xff\xff\xff'
		                if all(abs(p - q) <= 1 for p, q in zip(ca, cb)):
		                    near += 1
		                    mark = b'\x80\x80\x80'
		                diff[(y * bw + x) * 3:(y * bw + x) * 3 + 3] = mark
		if len(sys.argv) > 5 and diff is not None:
		    with open(sys.argv[5], 'wb') as f:
		        f.write(b'P6\n%d %d\n255\n' % (bw, bh) + bytes(diff))
		print('%d %d %d %s %s' % (differing, near, max(bw * bh, bb[2] * bb[3]),
		                       ','.join(map(str, ba)), ','.join(map(str, bb))))
	PY
}
