#!/bin/bash
# Real apps through the split path on headless weston (no wlr globals, no
# seat): vmapp-agent (the guest half, a process with its own runtime
# directory and no way to the compositor) and `vmapp-proxy --accept
# unix:SOCK --label work` (the host half), joined by a unix socket.
#
# Each app is run directly with fixed content, and screenshot once it holds
# still; then the same under the agent. Weston's protocol log, the
# receiving side, must then show only labelled titles and app_ids ("[work]
# <title>", "vmapp.work.<app_id>"), and the window must show exactly the
# same pixels as directly: every one crossed the stream as shm bytes the
# agent sent.
#
# weston places a new window at a random spot, so what is compared is the
# part of each screenshot that is not background (shot_diff). What may
# differ legitimately, and why it does not here: the decorations (both
# apps draw their own, with their own, unlabelled, title, in both runs:
# weston offers no xdg-decoration, and GTK_CSD=1), the text cursor (hidden
# by the content; GTK's blinking off), the pointer and focus (weston has no
# seat here: no pointer, no focus, in either run). So no pixel may differ,
# but for a faint ring of GTK's shadow that differs between direct runs too
# (see check_app gtk3-demo below).
#
# foot is not run: it needs a seat, and weston has none here (it runs on
# sway in test-agent-apps-sway).
. "$(dirname "$0")/lib.sh"

need weston-terminal gtk3-demo
find_agent
start_weston
start_accept work

export GDK_BACKEND=wayland NO_AT_BRIDGE=1 GTK_CSD=1 XDG_CONFIG_HOME=$T/config
mkdir -p "$T/config/gtk-3.0"
cat >"$T/config/gtk-3.0/settings.ini" <<-EOF
	[Settings]
	gtk-cursor-blink=false
	gtk-enable-animations=false
EOF

# The terminal's content: fixed text in a few colours, no text cursor.
cat >"$T/content.sh" <<-'EOF'
	#!/bin/sh
	printf '\033[?25l'
	printf 'vmapp: the same pixels, directly and through the agent\n'
	printf '\033[31mred \033[32mgreen \033[34mblue \033[1;33mbold yellow\033[0m\n'
	i=0
	while [ $i -lt 20 ]; do
		printf '%02d %s\n' $i 'ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789'
		i=$((i + 1))
	done
	exec sleep 3600
EOF
chmod +x "$T/content.sh"

WLOG=$T/weston.log

# The requests weston received since the mark: set_title / set_app_id
# arguments, one a line.
received() {
	log_since "$WLOG" | sed -n "s/.* rq xdg_toplevel@[0-9]*\.$1(\"\(.*\)\")\$/\1/p"
}

# has_received KIND [VALUE]: weston received a set_KIND (with VALUE).
has_received() {
	if (($# == 1)); then
		[[ -n $(received "$1") ]]
	else
		received "$1" | grep -Fxq -- "$2"
	fi
}

# check_app NAME NEAR_ALLOWED CMD...: NEAR_ALLOWED pixels may differ by 1
# in a channel from the direct run, none by more.
check_app() {
	local name=$1 near_allowed=$2 title app_id diff differing near total box_direct box_agent
	shift 2

	log_mark "$WLOG"
	spawn "$name-direct" "$@"
	wait_until "$WAIT" has_received set_app_id ||
		hard_error "$name: weston's log shows no set_app_id from the direct run"
	stable_screenshot "$T/$name-direct.png" 0.95 ||
		hard_error "$name: run directly, its window never held still"
	title=$(received set_title | tail -n 1)
	app_id=$(received set_app_id | tail -n 1)
	log "$name directly: app_id '$app_id', title '$title'"
	stop "$name-direct"
	wait_until "$WAIT" background_only || hard_error "$name: screen not back to the background"

	log_mark "$WLOG"
	spawn_agent "$name-agent" "$@"
	wait_until "$WAIT" has_received set_app_id "vmapp.work.$app_id" ||
		fail "$name: weston never received set_app_id(\"vmapp.work.$app_id\"); got: $(received set_app_id | tr '\n' '|')"
	wait_until "$WAIT" has_received set_title "[work] $title" ||
		fail "$name: weston never received set_title(\"[work] $title\"); got: $(received set_title | tr '\n' '|')"
	stable_screenshot "$T/$name-agent.png" 0.95 ||
		fail "$name: through the agent, its window never held still"
	if received set_title | grep -vq '^\[work\] '; then
		fail "$name: an unlabelled title reached weston: $(received set_title | grep -v '^\[work\] ' | head -n 3 | tr '\n' '|')"
	fi
	if received set_app_id | grep -vq '^vmapp\.work\.'; then
		fail "$name: an unlabelled app_id reached weston: $(received set_app_id | grep -v '^vmapp\.work\.' | head -n 3 | tr '\n' '|')"
	fi

	diff=$(shot_diff "$T/$name-direct.png" "$T/$name-agent.png" "$T/$name-diff.ppm") ||
		hard_error "$name: comparing the screenshots failed"
	log "$name: differing pixels, of them near (by 1), pixels compared, direct box, agent box: $diff"
	read -r differing near total box_direct box_agent <<<"$diff"
	[[ ${box_direct#*,*,} == "${box_agent#*,*,}" ]] ||
		fail "$name: the window is ${box_agent#*,*,} (w,h) through the agent, ${box_direct#*,*,} directly"
	((total > 100000)) || hard_error "$name: only $total pixels to compare: was the window drawn?"
	((differing - near == 0)) ||
		fail "$name: $((differing - near)) of $total pixels differ from the direct run (white in $name-diff.ppm; VMAPP_KEEP_TMP=1 keeps it)"
	((near <= near_allowed)) ||
		fail "$name: $near of $total pixels differ by 1 from the direct run, more than the $near_allowed allowed (grey in $name-diff.ppm)"

	alive "${PIDS[$name-agent]}" || fail "$name: the agent (or the app) exited early"
	alive "$(accept_pid)" || fail "$name: the proxy exited while its app ran"
	agent_errors "$name-agent" >/dev/null &&
		fail "$name: the agent cut a client off: $(agent_errors "$name-agent" | head -n 1)"
	stop "$name-agent"
	wait_until "$WAIT" background_only || fail "$name: the agent's window did not go away"
	log "$name: labelled; of $total pixels, $((total - differing)) the same as directly, $near off by one"
}

check_app weston-terminal 0 weston-terminal --shell="$T/content.sh"
# GTK redraws by buffer age and damage; how many frames it draws before the
# window holds still depends on timing, and the faintest ring of its
# shadow's top-left corner (about 500 pixels, one step of one channel:
# 20303f or 203040) comes out either way from run to run, directly as much
# as through the agent (two direct runs differed so). 2000 near pixels, 0.4%
# of the window, are allowed for that; no pixel may differ by more.
check_app gtk3-demo 2000 gtk3-demo

stop_accept
agent_bugs_fail
pass "weston-terminal and gtk3-demo through vmapp-agent and vmapp-proxy --accept on weston: labelled, and pixel for pixel as drawn directly (but for the faint ring of GTK's shadow)"
