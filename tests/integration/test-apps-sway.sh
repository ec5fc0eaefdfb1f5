#!/bin/bash
# Real apps through `vmapp-proxy --local --label work` on headless sway:
# each is first run directly to learn its own app_id and title, then through
# the proxy; sway's tree must then show app_id "vmapp.work.<app_id>" and the
# title "[work] <title>", and a screenshot must show the window drawn.
. "$(dirname "$0")/lib.sh"

need foot weston-terminal gtk3-demo
find_proxy
start_sway

# GTK: Wayland only, and no accessibility bus to wait for.
export GDK_BACKEND=wayland NO_AT_BRIDGE=1

# check_app NAME CMD...
check_app() {
	local name=$1 window app_id title
	shift

	# Directly: learn what the app calls itself.
	spawn "$name-direct" "$@"
	window=$(wait_window 'true') || fail "$name: no window when run directly"
	wait_drawn 0.9 || fail "$name: run directly, never drawn (background $LAST_BG)"
	# Titles can change during start-up: take the one that holds still.
	sleep 0.5
	window=$(find_window 'true') || fail "$name: its direct window went away"
	app_id=$(jq -r .app_id <<<"$window")
	title=$(jq -r .name <<<"$window")
	log "$name directly: app_id '$app_id', title '$title'"
	[[ -n $app_id && $app_id != null ]] || fail "$name: no app_id when run directly"
	stop "$name-direct"
	wait_until "$WAIT" no_windows || fail "$name: direct window did not go away"
	wait_until "$WAIT" background_only || fail "$name: screen not back to the background"

	# Through the proxy.
	spawn "$name-proxied" "$PROXY" --local --label work -- "$@"
	if ! window=$(wait_window '.app_id | startswith("vmapp.work.")'); then
		log "windows now: $(windows | tr '\n' ' ')"
		fail "$name: no window with app_id vmapp.work.* through the proxy"
	fi
	if ! window=$(wait_window '.app_id == $a and .name == $t' \
		--arg a "vmapp.work.$app_id" --arg t "[work] $title"); then
		log "windows now: $(windows | tr '\n' ' ')"
		fail "$name: expected app_id 'vmapp.work.$app_id' and title '[work] $title'"
	fi
	log "$name through the proxy: $window"
	wait_drawn 0.9 || fail "$name: through the proxy, never drawn (background $LAST_BG)"
	log "$name through the proxy drawn: background fraction $LAST_BG"
	# Nothing unlabelled may appear alongside it.
	if find_window '(.app_id | startswith("vmapp.work.") | not) or (.name | startswith("[work] ") | not)' >/dev/null; then
		log "windows now: $(windows | tr '\n' ' ')"
		fail "$name: an unlabelled window appeared through the proxy"
	fi
	alive "${PIDS[$name-proxied]}" || fail "$name: the proxy (or the app) exited early"
	stop "$name-proxied"
	wait_until "$WAIT" no_windows || fail "$name: proxied window did not go away"
}

check_app foot foot
check_app weston-terminal weston-terminal
check_app gtk3-demo gtk3-demo

pass "foot, weston-terminal and gtk3-demo labelled and drawn through the proxy"
