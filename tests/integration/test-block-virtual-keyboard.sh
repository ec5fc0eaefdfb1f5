#!/bin/bash
# A virtual keyboard (wtype) types into another app's window: directly it
# works (the attack is real); through the proxy no key may arrive, wtype
# must not even find the global, and binding it by name must cost the
# client its connection.
. "$(dirname "$0")/lib.sh"

need foot wtype
find_proxy
start_sway
# A keyboard on the seat before the victim starts, so that it has bound it
# when typing starts (wtype's own keyboard would race with that).
add_seat_keyboard

# The victim: a host foot that appends every line it reads to a file.
spawn victim foot -a vmapp-victim sh -c \
	'while read -r x; do printf "%s\n" "$x" >>"$0"; done' "$T/typed.txt"
wait_window '.app_id == "vmapp-victim" and .focused' >/dev/null ||
	hard_error "the victim foot never got a focused window"
wait_drawn 0.9 || hard_error "the victim foot never drew"

# lines N: wait until the victim has read N lines.
lines() {
	wait_until "$WAIT" test "$(wc -l <"$T/typed.txt" 2>/dev/null || echo 0)" -ge "$1"
}

# Directly. (wtype's exit status says nothing about delivery.)
run wtype-direct 10 wtype -s 100 -d 30 direct -k Return
lines 1 || hard_error "wtype run directly typed nothing: the attack does not work here"
[[ $(sed -n 1p "$T/typed.txt") == direct ]] ||
	hard_error "wtype run directly typed '$(sed -n 1p "$T/typed.txt")', not 'direct'"
log "directly, wtype typed into the victim: $(sed -n 1p "$T/typed.txt")"

# Through the proxy.
run wtype-proxied 15 "$PROXY" --local -- wtype -s 100 -d 30 pwned -k Return
log "wtype through the proxy exited $? ($(tr '\n' ' ' <"$T/wtype-proxied.err"))"
grep -q 'does not support the virtual keyboard protocol' "$T/wtype-proxied.err" ||
	fail "wtype through the proxy found the virtual keyboard global"

# A trusted marker line after the attempt: once it arrives, everything the
# attempt could have typed has arrived too, without a fixed sleep.
run wtype-marker 10 wtype -s 100 -d 30 marker -k Return
lines 2 || hard_error "the trusted marker line never arrived"
if grep -q pwn "$T/typed.txt"; then
	fail "keys from the proxied wtype reached the victim: $(tr '\n' '|' <"$T/typed.txt")"
fi
[[ $(sed -n 2p "$T/typed.txt") == marker ]] ||
	fail "the victim's second line is '$(sed -n 2p "$T/typed.txt")', not 'marker'"

check_global_blocked zwp_virtual_keyboard_manager_v1

pass "the virtual keyboard is blocked"
