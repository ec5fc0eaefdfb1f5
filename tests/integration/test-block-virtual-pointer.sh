#!/bin/bash
# A virtual pointer (our vpointer client) moves the pointer and clicks into
# another app's window: directly wev sees the motion and the clicks (the
# attack is real); through the proxy vpointer must fail and wev see nothing,
# and the global must be hidden and unbindable.
. "$(dirname "$0")/lib.sh"

need wev stdbuf
find_proxy
VPOINTER=$(find_client vpointer) || exit $?
start_sway

# The victim: wev, tiled over the whole output, logs its input events.
spawn wev stdbuf -oL wev
wait_window '.app_id == "wev"' >/dev/null || hard_error "wev never got a window"
wait_drawn 0.9 || hard_error "wev never drew"

pointer_devices() {
	swaymsg -t get_inputs | jq -r '.[] | select(.type == "pointer") | .identifier'
}

# Directly: the middle of the layout is 400,300 (and 408,300).
log_mark "$T/wev.out"
run vpointer-direct 15 "$VPOINTER" --repeat 10 ||
	hard_error "vpointer run directly failed ($?): $(cat "$T/vpointer-direct.err")"
wait_until "$WAIT" grep -Eq 'wl_pointer\] button: .*state: 1 \(pressed\)' <(log_since "$T/wev.out") ||
	hard_error "wev saw no click from vpointer run directly: the attack does not work here"
log_since "$T/wev.out" | grep -Eq 'wl_pointer\] motion: .*x, y: 40[08]\.0+, 300\.0+' ||
	hard_error "wev saw no motion to the middle from vpointer run directly"
log "directly, vpointer moved and clicked: $(log_since "$T/wev.out" | grep -c 'wl_pointer\] button') button events"
wait_until "$WAIT" test -z "$(pointer_devices)" || hard_error "the direct virtual pointer never went away"

# Through the proxy, aiming at the middle again.
log_mark "$T/wev.out"
run vpointer-proxied 15 "$PROXY" --local -- "$VPOINTER" --repeat 10
rc=$?
log "vpointer through the proxy exited $rc ($(tr '\n' ' ' <"$T/vpointer-proxied.err"))"
grep -qx bound "$T/vpointer-proxied.out" && fail "vpointer through the proxy bound the virtual pointer manager"
[[ $rc != 0 ]] || fail "vpointer through the proxy exited 0"

# And binding the compositor's name for the manager anyway.
run vpointer-name 10 "$VPOINTER" --print-name || hard_error "vpointer --print-name failed"
name=$(awk '{ print $2 }' "$T/vpointer-name.out")
run vpointer-forced 15 "$PROXY" --local -- "$VPOINTER" --bind-name "$name" --repeat 10
rc=$?
log "vpointer --bind-name $name through the proxy exited $rc ($(tr '\n' ' ' <"$T/vpointer-forced.err"))"
grep -qx bound "$T/vpointer-forced.out" && fail "vpointer --bind-name through the proxy kept its connection"
[[ $rc != 0 ]] || fail "vpointer --bind-name through the proxy exited 0"
grep -Eq "$VIOLATION_RE" "$T/vpointer-forced.err" ||
	fail "no 'interface.message@id: rule' line from the proxy for the forced bind"

# A trusted marker elsewhere (200,150) without clicks: once wev has it,
# anything the attempts could have sent would have arrived before.
run vpointer-marker 15 "$VPOINTER" --repeat 3 --at 250 250 --no-click ||
	hard_error "the trusted marker vpointer failed"
wait_until "$WAIT" grep -Eq 'wl_pointer\] motion: .*x, y: 20[08]\.0+, 150\.0+' <(log_since "$T/wev.out") ||
	hard_error "wev never saw the trusted marker motion"
if log_since "$T/wev.out" | grep -Eq 'wl_pointer\] button|wl_pointer\] motion: .*x, y: 40[08]\.0+, 300\.0+'; then
	fail "wev saw motion or clicks from the proxied vpointer: $(log_since "$T/wev.out" | grep -E 'button|x, y: 40' | head -n 3 | tr '\n' '|')"
fi

check_global_blocked zwlr_virtual_pointer_manager_v1

pass "the virtual pointer is blocked"
