#!/bin/bash
# vmapp-proxy --accept when the real parts fail, against headless sway:
#   (a) the agent killed (SIGKILL) while foot draws through it: the proxy
#       goes on, frees the stream (its fd count returns to the idle count),
#       the window goes from sway, foot exits, and a new agent + foot works;
#   (b) the stream cut in the middle of a frame (hostile-peer): the same;
#   (c) a connection already gone when the proxy accepts it (the proxy
#       stopped while a client connects and leaves): the proxy goes on;
#   (d) --once: exit 0 after a stream that ended in order (an agent whose
#       command, a foot that maps a window, exits 0), 1 after a framing
#       error, and 1 after a stream cut in the middle of a frame;
#   (e) SIGINT and SIGTERM: exit 0, the socket removed;
#   (f) the compositor gone while foot runs through agent and proxy: each
#       channel's relay client loses its compositor connection and its
#       channel closes, so the guest app is disconnected and exits (and
#       the agent with it); the proxy does not crash, frees everything (fd
#       count back to idle) and still accepts agent streams on its socket;
#       a new proxy then refuses to start (125): no compositor to serve.
#
# Environment: VMAPP_PROXY, VMAPP_AGENT, VMAPP_HOSTILE_PEER (meson sets
# them); see ../integration/lib.sh for the rest (CI=true turns a skip into
# a failure).
HERE=$(cd "$(dirname "$0")" && pwd)
if [[ ! -r $HERE/../integration/lib.sh ]]; then
	echo "test-faults: $HERE/../integration/lib.sh is missing" >&2
	exit 99
fi
# shellcheck source=../integration/lib.sh
. "$HERE/../integration/lib.sh"

need sway swaymsg foot jq python3
find_proxy
AGENT=${VMAPP_AGENT:-$HERE/../../build/agent/vmapp-agent}
[[ -x $AGENT ]] || skip "no agent at $AGENT (set VMAPP_AGENT)"
PEER=${VMAPP_HOSTILE_PEER:-$HERE/../../build/tests/transport/hostile-peer}
[[ -x $PEER ]] || skip "no hostile peer at $PEER (set VMAPP_HOSTILE_PEER)"

start_sway
LABEL=faults
SOCK=$T/t.sock
# foot redrawing all the time: a line every 20 ms.
DRAWING='while :; do date; sleep 0.02; done'

RESULTS=()
N_PASS=0
N_FAIL=0

record() {
	local verdict=$1 what=$2 detail=$3
	RESULTS+=("$verdict $what${detail:+: $detail}")
	if [[ $verdict == PASS ]]; then
		((N_PASS++))
	else
		((N_FAIL++))
		log "FAIL $what: $detail"
	fi
}

fd_count() {
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}
fds_are() {
	[[ $(fd_count "$1") == "$2" ]]
}
fd_list() {
	ls -l "/proc/$1/fd" 2>/dev/null | awk 'NR > 1 { print $NF }' | sort | uniq -c | sort -rn |
		head -n 6 | tr -s ' ' | tr '\n' ';'
}

# describe_status STATUS: "exit status 141 (SIGPIPE)".
describe_status() {
	local s=$1
	if ((s > 128 && s < 128 + 65)); then
		echo "exit status $s (SIG$(kill -l $((s - 128))))"
	else
		echo "exit status $s"
	fi
}

# The long-lived proxy, (re)started on $SOCK.
start_proxy() {
	rm -f "$SOCK" # left by a proxy that died
	spawn proxy "$PROXY" --accept "unix:$SOCK" --label "$LABEL"
	PROXY_PID=${PIDS[proxy]}
	wait_until "$WAIT" test -S "$SOCK" || hard_error "the proxy did not create $SOCK"
	sleep 0.5
	FD_IDLE=$(fd_count "$PROXY_PID")
	log "proxy pid $PROXY_PID: $FD_IDLE fds idle"
}

# proxy_running WHAT: 0 while the long-lived proxy runs; if it died, records
# how and restarts it, so that the checks after this one still say
# something, and returns 1.
proxy_running() {
	alive "$PROXY_PID" && return 0
	wait "$PROXY_PID" 2>/dev/null
	local status=$?
	record FAIL "$1" "the proxy died: $(describe_status $status); its last words: $(tail -n 3 "$T/proxy.err" | tr '\n' '|')"
	mv "$T/proxy.err" "$T/proxy-died-$(date +%s%N).log"
	unset "PIDS[proxy]"
	start_proxy
	return 1
}

# proxy_survived WHAT: as proxy_running, and records the pass.
proxy_survived() {
	proxy_running "$1" || return 1
	record PASS "$1: the proxy keeps running" ""
}

# back_to_idle WHAT: the proxy's fd count returns to its idle count.
back_to_idle() {
	proxy_running "$1" || return 1
	if wait_until 10 fds_are "$PROXY_PID" "$FD_IDLE"; then
		record PASS "$1: fd count back to idle ($FD_IDLE)" ""
	elif ! proxy_running "$1 (while its fd count was awaited)"; then
		return 1
	else
		record FAIL "$1" "the proxy holds $(fd_count "$PROXY_PID") fds, $FD_IDLE when idle: $(fd_list "$PROXY_PID")"
	fi
}

# app_works WHAT NAME: a new agent on the proxy runs foot, whose window
# maps with its label; then the agent is stopped.
app_works() {
	local what=$1 name=$2
	spawn "$name" "$AGENT" --connect "unix:$SOCK" --socket "wl-$name" -- \
		foot -a "vmapp-$name" sh -c 'sleep 600'
	if wait_window '.app_id == $a and (.name | startswith($l))' \
		--arg a "vmapp.$LABEL.vmapp-$name" --arg l "[$LABEL] " >/dev/null; then
		record PASS "$what: a new agent + foot maps its window" ""
	else
		record FAIL "$what" "a new agent + foot mapped no window; windows: $(windows | tr '\n' ' '); agent: $(tail -n 3 "$T/$name.err" | tr '\n' '|')"
	fi
	stop "$name"
	wait_until "$WAIT" no_windows || record FAIL "$what" "the window stayed after its agent stopped"
	back_to_idle "$what: its agent stopped (SIGTERM to agent and foot)"
}

no_window_of() {
	! find_window '.app_id == $a' --arg a "$1" >/dev/null
}
gone() {
	! alive "$1"
}

# The pid of the foot an agent runs.
foot_of() {
	ps -o pid=,comm= --ppid "$1" | awk '$2 == "foot" { print $1; exit }'
}

start_proxy

# --- (a) the agent killed while foot draws ------------------------------------

spawn agent-a "$AGENT" --connect "unix:$SOCK" --socket wl-a -- foot -a vmapp-kill sh -c "$DRAWING"
if wait_window '.app_id == $a' --arg a "vmapp.$LABEL.vmapp-kill" >/dev/null; then
	foot_pid=$(foot_of "${PIDS[agent-a]}")
	[[ -n $foot_pid ]] || hard_error "no foot among the agent's children"
	wait_drawn 0.9 >/dev/null || record FAIL "(a)" "foot's window was never drawn"
	sleep 1 # drawing, every frame through agent and proxy
	kill -KILL "${PIDS[agent-a]}"
	wait "${PIDS[agent-a]}" 2>/dev/null # no "Killed" line from bash
	log "(a) SIGKILL to the agent (pid ${PIDS[agent-a]}) while foot (pid $foot_pid) draws"
	sleep 0.5
	if proxy_survived "(a) agent killed"; then
		if wait_until "$WAIT" no_window_of "vmapp.$LABEL.vmapp-kill"; then
			record PASS "(a) agent killed: the window went from sway" ""
		else
			record FAIL "(a) agent killed" "its foot's window is still in sway"
		fi
		back_to_idle "(a) agent killed"
	fi
	if wait_until "$WAIT" gone "$foot_pid"; then
		record PASS "(a) agent killed: foot lost its display and exited" ""
	else
		record FAIL "(a) agent killed" "foot (pid $foot_pid) still runs with its agent gone"
	fi
	stop agent-a
	app_works "(a) agent killed" after-a
else
	record FAIL "(a)" "no window from foot through the agent; windows: $(windows | tr '\n' ' '); agent: $(tail -n 3 "$T/agent-a.err" | tr '\n' '|')"
	stop agent-a
fi

# --- (b) the stream cut in the middle of a frame ------------------------------

log_mark "$T/proxy.err"
run peer-cut 60 "$PEER" "$SOCK" cut-mid-frame
rc=$?
if ((rc == 0)); then
	record PASS "(b) cut mid-frame: hostile-peer" "$(sed -n 's/^cut-mid-frame: answer: //p' "$T/peer-cut.out")"
else
	record FAIL "(b) cut mid-frame" "hostile-peer: $(grep -h FAIL "$T/peer-cut.err" | head -n 1)"
fi
if proxy_survived "(b) cut mid-frame"; then
	log "(b) the proxy logged: $(log_since "$T/proxy.err" | tr '\n' '|')"
	back_to_idle "(b) cut mid-frame"
	app_works "(b) cut mid-frame" after-b
fi

# --- (c) a connection gone before the proxy accepts it ------------------------

# The proxy writes its HELLO at once on the new stream; the peer left
# before that: the write must fail (EPIPE), not end the proxy.
proxy_running "(c)"
kill -STOP "$PROXY_PID"
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.close()' "$SOCK" || hard_error "could not connect to $SOCK"
kill -CONT "$PROXY_PID"
sleep 1
if proxy_survived "(c) a connection gone before it was accepted"; then
	back_to_idle "(c) a connection gone before it was accepted"
fi
app_works "(c) a connection gone before it was accepted" after-c

# --- (d) --once -------------------------------------------------------------

# once_case NAME EXPECTED: the proxy proxy-NAME (already spawned) exits
# with EXPECTED once its stream is over.
once_case() {
	local name=$1 want=$2 what=$3
	wait_exit "proxy-$name" 15
	local rc=$?
	if ((rc == want)); then
		record PASS "(d) --once, $what: exit $rc" ""
	else
		record FAIL "(d) --once, $what" "$(describe_status $rc), not $want; it logged: $(tail -n 3 "$T/proxy-$name.err" | tr '\n' '|')"
	fi
}

spawn proxy-once-ok "$PROXY" --once --accept "unix:$T/once-ok.sock" --label "$LABEL"
wait_until "$WAIT" test -S "$T/once-ok.sock" || hard_error "no socket from the --once proxy"
spawn agent-once "$AGENT" --connect "unix:$T/once-ok.sock" --socket wl-once -- \
	foot -a vmapp-once sh -c 'sleep 1; exit 0'
wait_window '.app_id == $a' --arg a "vmapp.$LABEL.vmapp-once" >/dev/null ||
	record FAIL "(d) --once, orderly" "no window from foot through the agent"
wait_exit agent-once 20
rc=$?
((rc == 0)) || record FAIL "(d) --once, orderly" "the agent exited $rc, not 0 (its foot's status)"
once_case once-ok 0 "after an orderly stream end (agent and foot exit 0)"

spawn proxy-once-bad "$PROXY" --once --accept "unix:$T/once-bad.sock" --label "$LABEL"
wait_until "$WAIT" test -S "$T/once-bad.sock" || hard_error "no socket from the --once proxy"
run peer-once-bad 30 env VMAPP_PEER_NO_RECONNECT=1 "$PEER" "$T/once-bad.sock" frame-too-large ||
	record FAIL "(d) --once, framing error" "hostile-peer: $(grep -h FAIL "$T/peer-once-bad.err" | head -n 1)"
once_case once-bad 1 "after a framing error (frame-too-large)"

spawn proxy-once-cut "$PROXY" --once --accept "unix:$T/once-cut.sock" --label "$LABEL"
wait_until "$WAIT" test -S "$T/once-cut.sock" || hard_error "no socket from the --once proxy"
run peer-once-cut 30 env VMAPP_PEER_NO_RECONNECT=1 "$PEER" "$T/once-cut.sock" cut-mid-frame ||
	record FAIL "(d) --once, cut mid-frame" "hostile-peer: $(grep -h FAIL "$T/peer-once-cut.err" | head -n 1)"
# A frame cut off by the end of the stream is a framing error
# (frame-truncated, vmapp-transport(7)): the stream did not end in order.
once_case once-cut 1 "after a stream cut in the middle of a frame"

# --- (e) SIGINT (SIGTERM comes last, on the long-lived proxy) ----------------

spawn proxy-int "$PROXY" --accept "unix:$T/int.sock" --label "$LABEL"
wait_until "$WAIT" test -S "$T/int.sock" || hard_error "no socket from the proxy"
kill -INT "${PIDS[proxy-int]}"
wait_exit proxy-int 10
rc=$?
if ((rc != 0)); then
	record FAIL "(e) SIGINT" "$(describe_status $rc), not 0"
elif [[ -e $T/int.sock ]]; then
	record FAIL "(e) SIGINT" "the socket $T/int.sock is left behind"
else
	record PASS "(e) SIGINT: exit 0, socket removed" ""
fi

# --- (f) the compositor gone ------------------------------------------------

proxy_running "(f)"
spawn agent-f "$AGENT" -v --connect "unix:$SOCK" --socket wl-f -- foot -a vmapp-gone sh -c "$DRAWING"
if wait_window '.app_id == $a' --arg a "vmapp.$LABEL.vmapp-gone" >/dev/null; then
	sleep 0.5
	log_mark "$T/proxy.err"
	stop sway
	log "(f) sway stopped while foot draws through agent and proxy"
	wait_exit agent-f "$WAIT"
	rc=$?
	if ((rc == 124)); then
		record FAIL "(f) compositor gone" "the agent (and its foot) still run $WAIT s after the compositor went"
	else
		record PASS "(f) compositor gone: the guest app was disconnected, the agent exited" "$(describe_status $rc)"
	fi
	# The proxy's CLOSE says why (vmapp-transport(7): 5, internal, "the
	# sender failed: out of memory, compositor gone"); the agent logs it.
	reason=$(sed -n 's/.*channel [0-9]*: closed by the peer (reason \([0-9]*\)).*/\1/p' "$T/agent-f.err" | head -n 1)
	if [[ $reason == 5 ]]; then
		record PASS "(f) compositor gone: the proxy closed the channel with reason 5 (internal)" ""
	else
		record FAIL "(f) compositor gone" "the proxy closed the guest's channel with reason '${reason:-none seen}', not 5 (internal: compositor gone); the agent logged: $(grep -m 2 'channel' "$T/agent-f.err" | tr '\n' '|')"
	fi
	if proxy_survived "(f) compositor gone"; then
		log "(f) the proxy logged: $(log_since "$T/proxy.err" | tr '\n' '|')"
		back_to_idle "(f) compositor gone"
		# It still serves streams (channels would be refused: there is
		# no compositor to connect them to).
		run agent-f2 20 "$AGENT" --connect "unix:$SOCK" --socket wl-f2 -- true
		rc=$?
		if ((rc == 0)); then
			record PASS "(f) compositor gone: a new agent stream is still served" ""
		else
			record FAIL "(f) compositor gone" "a new agent stream: the agent exited $rc; $(tail -n 2 "$T/agent-f2.err" | tr '\n' '|')"
		fi
		alive "$PROXY_PID" || record FAIL "(f) compositor gone" "the proxy died after a new stream"
		back_to_idle "(f) after the new stream"
	fi
else
	record FAIL "(f)" "no window from foot through the agent; windows: $(windows | tr '\n' ' ')"
	stop agent-f
	stop sway
fi

# --- (e) SIGTERM ----------------------------------------------------------------

if alive "$PROXY_PID"; then
	kill -TERM "$PROXY_PID"
	wait_exit proxy 10
	rc=$?
	if ((rc != 0)); then
		record FAIL "(e) SIGTERM" "$(describe_status $rc), not 0"
	elif [[ -e $SOCK ]]; then
		record FAIL "(e) SIGTERM" "the socket $SOCK is left behind"
	else
		record PASS "(e) SIGTERM: exit 0, socket removed" ""
	fi
fi

# No compositor: a new proxy refuses to start.
run proxy-none 10 "$PROXY" --accept "unix:$T/none.sock" --label "$LABEL"
rc=$?
if ((rc == 125)) && [[ ! -e $T/none.sock ]]; then
	record PASS "(f) no compositor: a new proxy exits 125" ""
else
	record FAIL "(f) no compositor" "a new proxy: $(describe_status $rc), not 125"
fi

# Sanitizer reports (the sanitize suite runs this against an ASan/UBSan build).
for f in "$T"/proxy*.err "$T"/proxy*.log; do
	[[ -f $f ]] || continue
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$f"; then
		record FAIL "sanitizer" "${f##*/}: $(grep -Em 3 'AddressSanitizer|LeakSanitizer|runtime error:' "$f" | tr '\n' '|')"
	fi
done

printf '%s\n' "${RESULTS[@]}" >&2
log "$N_PASS passed, $N_FAIL failed"
((N_FAIL == 0)) || fail "$N_FAIL of $((N_PASS + N_FAIL)) checks failed"
pass "the proxy outlived a killed agent, a cut stream, a vanished connection and its compositor, freed every stream, and exited as told"
