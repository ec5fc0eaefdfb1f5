#!/bin/bash
# `vmapp-proxy --local --listen PATH`: several clients share one proxy; a
# client that breaks a rule loses its own connection while the others (and
# their windows) go on; SIGTERM ends the proxy with status 0 and removes
# the socket.
. "$(dirname "$0")/lib.sh"

need foot
find_proxy
GLOBALS=$(find_client globals) || exit $?
start_sway

SOCK=$T/proxy.sock
spawn proxy "$PROXY" --local --label listen --listen "$SOCK"
wait_until "$WAIT" test -S "$SOCK" || fail "the proxy never made its socket $SOCK"

# Two windows through the one proxy (an absolute path works as WAYLAND_DISPLAY).
spawn foot-a env WAYLAND_DISPLAY="$SOCK" foot -a vmapp-listen-a
spawn foot-b env WAYLAND_DISPLAY="$SOCK" foot -a vmapp-listen-b
wait_window '.app_id == "vmapp.listen.vmapp-listen-a" and (.name | startswith("[listen] "))' >/dev/null ||
	fail "no labelled window for the first client; windows: $(windows | tr '\n' ' ')"
wait_window '.app_id == "vmapp.listen.vmapp-listen-b" and (.name | startswith("[listen] "))' >/dev/null ||
	fail "no labelled window for the second client; windows: $(windows | tr '\n' ' ')"
wait_drawn 0.9 || fail "the windows were never drawn (background $LAST_BG)"

# A third client breaks a rule: binding a global the proxy did not
# advertise (the compositor's name for the virtual keyboard manager).
run globals-direct 10 "$GLOBALS" || hard_error "listing sway's globals failed"
name=$(awk '$1 == "zwp_virtual_keyboard_manager_v1" { print $3; exit }' "$T/globals-direct.out")
[[ -n $name ]] || hard_error "sway offers no virtual keyboard manager"
log_mark "$T/proxy.err"
run violator 10 env WAYLAND_DISPLAY="$SOCK" "$GLOBALS" --bind "$name" zwp_virtual_keyboard_manager_v1 1
grep -qx bound "$T/violator.out" && fail "the violating client kept its connection"
grep -q 'connection died' "$T/violator.err" || fail "the violating client was not disconnected"
wait_until "$WAIT" grep -Eq 'wl_registry\.bind@[0-9]+: [a-z0-9-]+' <(log_since "$T/proxy.err") ||
	fail "no 'wl_registry.bind@ID: rule' line on the proxy's stderr"
log "the proxy reported: $(log_since "$T/proxy.err" | grep -E "$VIOLATION_RE" | head -n 1)"

# The others go on: the proxy runs, both windows stay, a new client works.
alive "${PIDS[proxy]}" || fail "the proxy died with the violating client"
alive "${PIDS[foot-a]}" && alive "${PIDS[foot-b]}" || fail "another client died with the violating one"
find_window '.app_id == "vmapp.listen.vmapp-listen-a"' >/dev/null &&
	find_window '.app_id == "vmapp.listen.vmapp-listen-b"' >/dev/null ||
	fail "a window went away with the violating client; windows: $(windows | tr '\n' ' ')"
run globals-after 10 env WAYLAND_DISPLAY="$SOCK" "$GLOBALS" ||
	fail "a new client could not use the proxy after the violation"
grep -q '^wl_compositor ' "$T/globals-after.out" || fail "a new client saw no wl_compositor"

# SIGTERM: exit 0, socket gone.
kill -TERM "${PIDS[proxy]}"
wait_exit proxy 10
rc=$?
[[ $rc == 0 ]] || fail "the proxy exited $rc on SIGTERM, not 0"
[[ ! -e $SOCK ]] || fail "the proxy left its socket $SOCK behind"
wait_until "$WAIT" no_windows || fail "windows stayed after the proxy ended"

pass "one proxy serves several clients, disconnects only the violator, ends cleanly"
