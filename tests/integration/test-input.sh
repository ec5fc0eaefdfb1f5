#!/bin/bash
# Keyboard input reaches a proxied app: a foot through the proxy, focused,
# reads a line; a trusted host-side client (wtype, straight to sway) types
# "hello" and Return; the line must arrive in the file the app writes.
# The same is done first with a direct foot, to tell a broken harness
# (exit 99) from a broken proxy (exit 1).
. "$(dirname "$0")/lib.sh"

need foot wtype
find_proxy
start_sway
# A keyboard on the seat before the apps start, so that they have bound it
# when the typing starts (wtype's own keyboard would race with that).
add_seat_keyboard

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

reader=(sh -c 'read -r x; printf "%s\n" "$x" >"$0.tmp" && mv "$0.tmp" "$0"')

spawn foot-direct foot -a vmapp-input-direct "${reader[@]}" "$T/direct.txt"
type_into vmapp-input-direct "$T/direct.txt" ||
	hard_error "typing into a direct foot failed (rc $?): $(cat "$T/direct.txt" 2>/dev/null)"
log "direct foot read: $(cat "$T/direct.txt")"
wait_exit foot-direct 10 || log "direct foot exited with $?"
wait_until "$WAIT" no_windows || hard_error "direct foot window did not go away"

spawn foot-proxied "$PROXY" --local --label work -- \
	foot -a vmapp-input-test "${reader[@]}" "$T/out.txt"
type_into vmapp.work.vmapp-input-test "$T/out.txt"
case $? in
0) ;;
2) fail "no focused, drawn window with app_id vmapp.work.vmapp-input-test; windows: $(windows | tr '\n' ' ')" ;;
1) fail "the typed line never reached the proxied foot" ;;
*) fail "the proxied foot read '$(cat "$T/out.txt")', not 'hello'" ;;
esac
log "proxied foot read: $(cat "$T/out.txt")"
# The app exits after its line; the proxy must exit with its status.
wait_exit foot-proxied 10
rc=$?
[[ $rc == 0 ]] || fail "proxy exited with $rc after its app ended, not 0"

pass "typed text reached the proxied app"
