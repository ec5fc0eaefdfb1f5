#!/bin/bash
# Keyboard input reaches an app behind the split path: a foot run by
# vmapp-agent (the guest half: its own runtime directory, no way to the
# compositor) through `vmapp-proxy --accept` (the host half) reads a line;
# a trusted host-side client (wtype, straight to sway) types "hello" and
# Return; the line must arrive in the file the app writes. The keymap
# reaches the guest only as a copy of the compositor's keymap fd's content
# (an fd can not cross a VM boundary): without it foot could not turn key
# codes into text. The app then exits with status 7, and the agent must
# exit with that status too.
#
# The same is done first with a direct foot, to tell a broken harness
# (exit 99) from a broken agent or proxy (exit 1).
. "$(dirname "$0")/lib.sh"

need foot wtype
find_agent
start_sway
# A keyboard on the seat before the apps start, so that they have bound it
# when the typing starts (wtype's own keyboard would race with that).
add_seat_keyboard
start_accept work

# type_into APP_ID OUT: wait for the focused window, type, wait for OUT.
type_into() {
	local app_id=$1 out=$2
	wait_window '.app_id == $a and .focused' --arg a "$app_id" >/dev/null || return 2
	wait_drawn 0.9 || return 2
	# wtype's exit status says nothing about delivery: look at the file.
	run wtype 10 wtype -s 100 -d 30 hello -k Return
	wait_until "$WAIT" test -s "$out" || return 1
	[[ $(cat "$out") == hello ]] || return 3
}

# shellcheck disable=SC2016 # for the inner shell
reader=(sh -c 'read -r x; printf "%s\n" "$x" >"$0.tmp" && mv "$0.tmp" "$0"; exit 7')

spawn foot-direct foot -a vmapp-input-direct "${reader[@]}" "$T/direct.txt"
type_into vmapp-input-direct "$T/direct.txt" ||
	hard_error "typing into a direct foot failed (rc $?): $(cat "$T/direct.txt" 2>/dev/null)"
log "direct foot read: $(cat "$T/direct.txt")"
wait_exit foot-direct 10 || log "direct foot exited with $?"
wait_until "$WAIT" no_windows || hard_error "direct foot window did not go away"

spawn_agent foot-agent foot -a vmapp-input-test "${reader[@]}" "$T/out.txt"
type_into vmapp.work.vmapp-input-test "$T/out.txt"
rc=$?
if ((rc != 0)) && grep -q 'channel [0-9]*: WAYLAND: No such file or directory' "$T/foot-agent.err"; then
	# Seen here: the keymap event's content ref is gone before the
	# agent makes the fd for it.
	fail "the agent cut foot off when the keymap arrived ('$(grep -m1 'WAYLAND: No such file' "$T/foot-agent.err")'): proxy/transport.c receive_wayland removes a content ref as it accepts the WAYLAND frame, and only then does proxy/bridge.c deliver_wayland -> fd_for_ref look the ref up with vmapp_transport_ref_get, gets NULL and returns -ENOENT; so no keymap (no fd content at all) ever reaches a guest app"
fi
case $rc in
0) ;;
2) fail "no focused, drawn window with app_id vmapp.work.vmapp-input-test; windows: $(windows | tr '\n' ' ')" ;;
1) fail "the typed line never reached the foot behind the agent" ;;
*) fail "the foot behind the agent read '$(cat "$T/out.txt")', not 'hello'" ;;
esac
log "foot behind the agent read: $(cat "$T/out.txt")"
grep -Eq '^vmapp-agent: client on channel [0-9]+' "$T/foot-agent.err" ||
	fail "the agent's log shows no client: did foot go around it?"

# The app exits after its line (foot passes its shell's 7 on); the agent
# must exit with its status.
wait_exit foot-agent 10
rc=$?
[[ $rc == 7 ]] || fail "vmapp-agent exited with $rc after its app ended with 7"
wait_until "$WAIT" no_windows || fail "the window did not go away after the app ended"

stop_accept
agent_bugs_fail
pass "typed text reached the app behind vmapp-agent and vmapp-proxy --accept; the agent passed its exit status on"
