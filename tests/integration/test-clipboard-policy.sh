#!/bin/bash
# The clipboard crosses as the policy says, and only so. A proxied app
# copies (wl-copy, which without data control takes focus with a window of
# its own and sets the selection through wl_data_device), a host app pastes
# (wl-paste, directly, through data control); and the other way round.
#
#   clipboard guest-to-host (the default): the app's copy reaches the host;
#                                          the host's does not reach the app
#   clipboard off:                         neither
#   clipboard both:                        both
. "$(dirname "$0")/lib.sh"

need wl-copy wl-paste
find_proxy
start_sway
add_seat_keyboard

policy() { # MODE: a policy file allowing what wl-copy and wl-paste need
	cat >"$T/$1.policy" <<-EOF
		allow wl_compositor 5
		allow wl_shm 1
		allow wl_seat 8
		allow wl_output 4
		allow xdg_wm_base 5
		allow wl_data_device_manager 3
		allow zwp_primary_selection_device_manager_v1 1
		clipboard $1
	EOF
	printf '%s\n' "$T/$1.policy"
}

host_selection() {
	run host-paste 10 wl-paste -n
	cat "$T/host-paste.out"
}

# guest_copy MODE TEXT: a proxied wl-copy offers TEXT until we stop it;
# 0 when the host's wl-paste then reads TEXT.
guest_copy() {
	local mode=$1 text=$2 i
	spawn "guest-copy-$mode" "$PROXY" --local --label clip --policy "$(policy "$mode")" -- \
		wl-copy --foreground "$text"
	for ((i = 0; i < 30; i++)); do
		[[ $(host_selection) == "$text" ]] && break
		sleep 0.2
	done
	local got
	got=$(host_selection)
	stop "guest-copy-$mode"
	[[ $got == "$text" ]]
}

# host_copy_guest_paste MODE: the host's wl-copy offers a secret; 0 when a
# proxied wl-paste reads it.
host_copy_guest_paste() {
	local mode=$1 text=host-$1-$RANDOM$RANDOM
	spawn "host-copy-$mode" wl-copy --foreground "$text"
	wait_until "$WAIT" eval '[[ $(host_selection) == "$text" ]]' ||
		hard_error "the host's own copy did not take"
	run "guest-paste-$mode" 15 "$PROXY" --local --label clip --policy "$(policy "$mode")" -- \
		wl-paste -n
	stop "host-copy-$mode"
	grep -q "$text" "$T/guest-paste-$mode.out"
}

# The attack is real: directly, the same wl-copy and wl-paste cross.
spawn control-copy wl-copy --foreground control-text
wait_until "$WAIT" eval '[[ $(host_selection) == control-text ]]' ||
	hard_error "wl-copy directly did not set the selection"
stop control-copy

errors=0
expect() { # DESCRIPTION WANT(0 crosses, 1 does not) CMD...
	local what=$1 want=$2
	shift 2
	"$@"
	local got=$?
	((got > 1)) && got=1
	if [[ $got == "$want" ]]; then
		log "ok: $what"
	else
		log "FAIL: $what"
		errors=$((errors + 1))
	fi
}
expect "guest-to-host: the app's copy reaches the host" 0 guest_copy guest-to-host guest-text-1
expect "guest-to-host: the host's copy does not reach the app" 1 host_copy_guest_paste guest-to-host
expect "off: the app's copy does not reach the host" 1 guest_copy off guest-text-2
expect "off: the host's copy does not reach the app" 1 host_copy_guest_paste off
expect "both: the app's copy reaches the host" 0 guest_copy both guest-text-3
expect "both: the host's copy reaches the app" 0 host_copy_guest_paste both

((errors == 0)) || fail "$errors clipboard check(s) failed"
pass "the clipboard crosses as each policy says"
