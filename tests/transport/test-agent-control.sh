#!/bin/bash
# vmapp-agent's control channel: a host of our own (host-peer) asks it to
# run commands, to signal two of them (SIGTERM to a sleep and to a shell
# waiting for its own child) and to list the guest's applications; the
# answers (exit statuses, the environment the commands saw, the signalled
# commands and the shell's child gone within seconds, the .desktop
# applications found, hidden and malformed ones left out) are judged on
# the host's side.
# Then the host closes the stream and the agent, serving without a command,
# exits 0.
. "$(dirname "$0")/../integration/lib.sh"

AGENT=${VMAPP_AGENT:-$LIB_DIR/../../build/agent/vmapp-agent}
PEER=${VMAPP_HOST_PEER:-$LIB_DIR/../../build/tests/transport/host-peer}
[[ -x $AGENT ]] || skip "no agent at $AGENT"
[[ -x $PEER ]] || skip "no host-peer at $PEER"
DATA=$LIB_DIR/../unit/desktop-data

# The guest's applications: two good ones, two hidden (NoDisplay), one malformed.
mkdir -p "$T/data/applications"
cp "$DATA/foot.desktop" "$DATA/firefox-esr.desktop" "$DATA/gtk3-demo.desktop" "$DATA/nodisplay.desktop" \
	"$DATA/exec-unquoted-semicolon.desktop" "$T/data/applications/"

"$PEER" "$T/ctl.sock" firefox-esr.desktop,foot.desktop >"$T/peer.out" 2>"$T/peer.err" &
peer=$!
wait_until "$WAIT" test -S "$T/ctl.sock" || hard_error "host-peer did not listen"
mkdir -m 700 "$T/guest"
env -u WAYLAND_DISPLAY XDG_RUNTIME_DIR="$T/guest" XDG_DATA_HOME="$T/none" \
	XDG_DATA_DIRS="$T/data" "$AGENT" --connect "unix:$T/ctl.sock" --socket wl-ctl \
	>"$T/agent.out" 2>"$T/agent.err" &
agent=$!
wait "$peer"
peer_rc=$?
cat "$T/peer.out"
timeout 10 tail --pid="$agent" -f /dev/null
alive "$agent" && { kill "$agent"; fail "the agent did not exit when the host closed the stream"; }
wait "$agent"
agent_rc=$?
[[ $peer_rc == 0 ]] || fail "the host's checks failed (rc $peer_rc): $(grep FAIL "$T/peer.out"; cat "$T/peer.err")"
[[ $agent_rc == 0 ]] || fail "the agent exited $agent_rc after an orderly end: $(cat "$T/agent.err")"
[[ ! -e $T/guest/wl-ctl ]] || fail "the agent left its socket behind"
pass "RUN, SIGNAL, EXIT and LIST_APPS answered as asked"
