#!/bin/bash
# Real apps through the split path on headless sway: vmapp-agent (the guest
# half, here a process with its own runtime directory and no way to the
# compositor) and `vmapp-proxy --accept unix:SOCK --label work` (the host
# half), joined by a unix socket.
#
# Each app is first run directly, with fixed content, and its window is
# screenshot once it holds still; then the same app, with the same content,
# runs under the agent. Its window must be labelled (app_id
# "vmapp.work.<app_id>", title "[work] <title>"), be a client of the proxy
# (sway's pid of the window), and show exactly the same pixels: the guest's
# shm buffers reached the host only as the bytes the agent sent over the
# stream, so every pixel the host shows crossed it.
#
# What may differ legitimately, and why it does not here: the title (sway
# draws none: "default_border none", and the proxy's forced server-side
# decorations draw nothing either); the text cursor (hidden by the content,
# and GTK's blinking is off); the pointer (grim leaves it out, and the seat
# has none); focus (each window is alone, so focused, in both runs); the
# size (sway tiles each to the whole output). So no pixel may differ.
# foot runs under each of the agent's --shm-diff modes (damage and shadow
# copy, damage alone, always a shadow copy), the others under the default.
. "$(dirname "$0")/lib.sh"

need foot weston-terminal gtk3-demo
find_agent
start_sway
start_accept work

# GTK: Wayland only, no accessibility bus; its own decorations in both runs
# (directly it would ask sway's KDE server-decoration global, which the
# proxy hides, for none), and no blinking cursor or animations.
export GDK_BACKEND=wayland NO_AT_BRIDGE=1 GTK_CSD=1 XDG_CONFIG_HOME=$T/config
mkdir -p "$T/config/gtk-3.0"
cat >"$T/config/gtk-3.0/settings.ini" <<-EOF
	[Settings]
	gtk-cursor-blink=false
	gtk-enable-animations=false
EOF

# The terminals' content: fixed text in a few colours, no text cursor
# (DECTCEM off), then nothing more.
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

# check_app NAME MODES CMD...: CMD directly, then under the agent once for
# each of the agent's --shm-diff MODES (how it finds the changed bytes).
check_app() {
	local name=$1 modes=$2 window app_id title mode
	shift 2

	# Directly: what the app calls itself, and what it shows.
	spawn "$name-direct" "$@"
	wait_window 'true' >/dev/null || fail "$name: no window when run directly"
	stable_screenshot "$T/$name-direct.ppm" ||
		hard_error "$name: run directly, its window never held still"
	window=$(find_window 'true') || hard_error "$name: its direct window went away"
	app_id=$(jq -r .app_id <<<"$window")
	title=$(jq -r .name <<<"$window")
	log "$name directly: app_id '$app_id', title '$title'"
	[[ -n $app_id && $app_id != null ]] || hard_error "$name: no app_id when run directly"
	stop "$name-direct"
	wait_until "$WAIT" no_windows || hard_error "$name: direct window did not go away"
	wait_until "$WAIT" background_only || hard_error "$name: screen not back to the background"

	for mode in $modes; do
		check_agent "$name" "$mode" "$app_id" "$title" "$@"
	done
}

# check_agent NAME MODE APP_ID TITLE CMD...: CMD under the agent with
# --shm-diff MODE; labelled, the proxy's, and the same pixels.
check_agent() {
	local name=$1 mode=$2 app_id=$3 title=$4 window diff differing near total box_direct box_agent
	local run=$1-agent-$2
	shift 4

	AGENT_OPTS=(--shm-diff "$mode")
	spawn_agent "$run" "$@"
	AGENT_OPTS=()
	if ! window=$(wait_window '.app_id == $a and .name == $t' \
		--arg a "vmapp.work.$app_id" --arg t "[work] $title"); then
		log "windows now: $(windows | tr '\n' ' ')"
		fail "$run: no window with app_id 'vmapp.work.$app_id' and title '[work] $title' through the agent"
	fi
	log "$run: $window"
	[[ $(jq -r .pid <<<"$window") == "$(accept_pid)" ]] ||
		fail "$run: the labelled window is not the proxy's client (pid $(jq -r .pid <<<"$window"), proxy $(accept_pid))"
	stable_screenshot "$T/$run.ppm" ||
		fail "$run: through the agent, its window never held still"
	if find_window '(.app_id | startswith("vmapp.work.") | not) or (.name | startswith("[work] ") | not)' >/dev/null; then
		log "windows now: $(windows | tr '\n' ' ')"
		fail "$run: an unlabelled window appeared through the agent"
	fi

	diff=$(shot_diff "$T/$name-direct.ppm" "$T/$run.ppm" "$T/$run-diff.ppm") ||
		hard_error "$run: comparing the screenshots failed"
	log "$run: differing pixels, of them near (by 1), pixels compared, direct box, agent box: $diff"
	read -r differing near total box_direct box_agent <<<"$diff"
	[[ $box_direct == "$box_agent" ]] ||
		fail "$run: the window covers $box_agent through the agent, $box_direct directly"
	((total > 100000)) || hard_error "$run: only $total pixels to compare: was the window drawn?"
	((differing == 0)) ||
		fail "$run: $differing of $total pixels differ from the direct run, $near of them by 1 only (white or grey in $run-diff.ppm; VMAPP_KEEP_TMP=1 keeps it)"

	alive "${PIDS[$run]}" || fail "$run: the agent (or the app) exited early"
	alive "$(accept_pid)" || fail "$run: the proxy exited while its app ran"
	agent_errors "$run" >/dev/null &&
		fail "$run: the agent cut a client off: $(agent_errors "$run" | head -n 1)"
	stop "$run"
	wait_until "$WAIT" no_windows || fail "$run: the agent's window did not go away"
	log "$run: labelled, the proxy's, and $total pixels the same as directly"
}

# foot through each way of finding the changed bytes; the others through
# the default.
check_app foot "auto damage shadow" foot -a vmapp-agent-foot "$T/content.sh"
check_app weston-terminal auto weston-terminal --shell="$T/content.sh"
check_app gtk3-demo auto gtk3-demo

stop_accept
agent_bugs_fail
pass "foot, weston-terminal and gtk3-demo through vmapp-agent and vmapp-proxy --accept: labelled, and pixel for pixel as drawn directly"
