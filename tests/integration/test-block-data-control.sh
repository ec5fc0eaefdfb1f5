#!/bin/bash
# Reading the host's clipboard: directly, wl-paste reads a host client's
# selection and primary selection through data control (no focus needed).
# Through the proxy, where data control is hidden and wl-paste falls back to
# taking keyboard focus with a window of its own, neither secret may come
# out; and the data control global must be hidden and unbindable.
. "$(dirname "$0")/lib.sh"

need wl-copy wl-paste
find_proxy
start_sway
# With a keyboard on the seat, the proxied wl-paste gets focus, and with it
# whatever the proxy lets through of the selection.
add_seat_keyboard

SECRET=vmapp-secret-$RANDOM$RANDOM
SECRET_PRIMARY=vmapp-primary-$RANDOM$RANDOM
spawn wl-copy wl-copy --foreground "$SECRET"
spawn wl-copy-primary wl-copy --primary --foreground "$SECRET_PRIMARY"
# An offer exists once wl-paste -l lists a type.
offer() {
	run wl-paste-list 5 wl-paste -l "$@" && [[ -s $T/wl-paste-list.out ]]
}
wait_until "$WAIT" offer || hard_error "wl-copy's selection never appeared"
wait_until "$WAIT" offer --primary || hard_error "wl-copy's primary selection never appeared"

run paste-direct 10 wl-paste -n || hard_error "wl-paste run directly failed ($?)"
[[ $(cat "$T/paste-direct.out") == "$SECRET" ]] ||
	hard_error "wl-paste run directly read '$(cat "$T/paste-direct.out")'"
run paste-direct-primary 10 wl-paste -n --primary || hard_error "wl-paste --primary run directly failed ($?)"
[[ $(cat "$T/paste-direct-primary.out") == "$SECRET_PRIMARY" ]] ||
	hard_error "wl-paste --primary run directly read '$(cat "$T/paste-direct-primary.out")'"
log "directly, wl-paste read both secrets"

# It may fail or fall back to other means; no secret may come out.
run paste-proxied 10 "$PROXY" --local -- wl-paste -n
log "wl-paste -n through the proxy exited $? ($(tr '\n' ' ' <"$T/paste-proxied.err"))"
if grep -q "$SECRET" "$T/paste-proxied.out" "$T/paste-proxied.err"; then
	fail "wl-paste through the proxy read the secret"
fi
run paste-proxied-primary 10 "$PROXY" --local -- wl-paste -n --primary
log "wl-paste -n --primary through the proxy exited $? ($(tr '\n' ' ' <"$T/paste-proxied-primary.err"))"
if grep -q "$SECRET_PRIMARY" "$T/paste-proxied-primary.out" "$T/paste-proxied-primary.err"; then
	fail "wl-paste --primary through the proxy read the primary secret"
fi
# The host's selections are untouched.
run paste-after 10 wl-paste -n
[[ $(cat "$T/paste-after.out") == "$SECRET" ]] ||
	fail "the host's selection changed to '$(cat "$T/paste-after.out")'"
run paste-after-primary 10 wl-paste -n --primary
[[ $(cat "$T/paste-after-primary.out") == "$SECRET_PRIMARY" ]] ||
	fail "the host's primary selection changed to '$(cat "$T/paste-after-primary.out")'"

check_global_blocked zwlr_data_control_manager_v1

pass "the clipboard does not leak through data control or focus"
