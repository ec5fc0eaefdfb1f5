#!/bin/bash
# Real apps through `vmapp-proxy --local --label work` on headless weston
# (no wlr globals, no seat): each app is run directly, then through the
# proxy. Through the proxy it must draw (a screenshot differs from the
# background) and weston's protocol log, the receiving side, must show only
# labelled titles and app_ids: "[work] <title>", "vmapp.work.<app_id>".
. "$(dirname "$0")/lib.sh"

need weston-terminal gtk3-demo
find_proxy
start_weston

export GDK_BACKEND=wayland NO_AT_BRIDGE=1
WLOG=$T/weston.log

# The requests weston received since the mark: set_title / set_app_id
# arguments, one a line.
received() {
	log_since "$WLOG" | sed -n "s/.* rq xdg_toplevel@[0-9]*\.$1(\"\(.*\)\")\$/\1/p"
}

# check_app NAME CMD...
check_app() {
	local name=$1 title app_id
	shift

	log_mark "$WLOG"
	spawn "$name-direct" "$@"
	wait_drawn 0.95 || fail "$name: run directly, never drawn (background $LAST_BG)"
	wait_until "$WAIT" test -n "$(received set_app_id)" ||
		fail "$name: weston's log shows no set_app_id from the direct run"
	sleep 0.5
	title=$(received set_title | tail -n 1)
	app_id=$(received set_app_id | tail -n 1)
	log "$name directly: app_id '$app_id', title '$title', background $LAST_BG"
	stop "$name-direct"
	wait_until "$WAIT" background_only || fail "$name: screen not back to the background"

	log_mark "$WLOG"
	spawn "$name-proxied" "$PROXY" --local --label work -- "$@"
	wait_drawn 0.95 || fail "$name: through the proxy, never drawn (background $LAST_BG)"
	log "$name through the proxy drawn: background fraction $LAST_BG"
	wait_until "$WAIT" grep -Fxq "vmapp.work.$app_id" <(received set_app_id) ||
		fail "$name: weston never received set_app_id(\"vmapp.work.$app_id\"); got: $(received set_app_id | tr '\n' '|')"
	wait_until "$WAIT" grep -Fxq "[work] $title" <(received set_title) ||
		fail "$name: weston never received set_title(\"[work] $title\"); got: $(received set_title | tr '\n' '|')"
	if received set_title | grep -vq '^\[work\] '; then
		fail "$name: an unlabelled title reached weston: $(received set_title | grep -v '^\[work\] ' | head -n 3 | tr '\n' '|')"
	fi
	if received set_app_id | grep -vq '^vmapp\.work\.'; then
		fail "$name: an unlabelled app_id reached weston: $(received set_app_id | grep -v '^vmapp\.work\.' | head -n 3 | tr '\n' '|')"
	fi
	log_since "$WLOG" | grep -Eq 'rq wl_surface@[0-9]+\.attach\(wl_buffer@' ||
		fail "$name: weston received no buffer attach through the proxy"
	alive "${PIDS[$name-proxied]}" || fail "$name: the proxy (or the app) exited early"
	stop "$name-proxied"
	wait_until "$WAIT" background_only || fail "$name: screen not back to the background"
}

check_app weston-terminal weston-terminal
check_app gtk3-demo gtk3-demo

pass "weston-terminal and gtk3-demo labelled and drawn through the proxy on weston"
