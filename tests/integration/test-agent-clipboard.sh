#!/bin/bash
# The clipboard crosses the split path as the policy says, and only so,
# with the exact bytes. A guest app copies (wl-copy run by vmapp-agent: it
# has no data control there, so it takes focus with a surface of its own
# and sets the selection through wl_data_device), a host app pastes
# (wl-paste, straight to sway, through data control); and the other way
# round: the host's wl-copy offers, the guest's wl-paste reads.
#
#   no --policy (the default: clipboard guest-to-host): the guest's copy
#                  reaches the host; the host's does not reach the guest
#   clipboard off: neither
#   clipboard both: both
#
# What crosses is read back and compared byte for byte: a short text, and
# where a direction is allowed, 1.5 MiB and 7 bytes of random binary data
# (more than 1 MiB: through the agent the data travels as a pipe stream cut
# into 64 KiB chunks under the channel's credit, so this takes many rounds
# of flow control). A forbidden direction must deliver nothing: the
# receiving side reads no selection, or what it had before, for as long as
# an allowed one takes many times over.
. "$(dirname "$0")/lib.sh"

need wl-copy wl-paste cmp
find_agent
start_sway
add_seat_keyboard

BIG=$T/big.bin
head -c $((3 * 512 * 1024 + 7)) /dev/urandom >"$BIG"
BIN=application/octet-stream
TEXT=text/plain
# How long a forbidden copy is given to (wrongly) arrive.
FORBIDDEN_WAIT=5

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

N=0

# host_paste TYPE OUT: the host's selection as TYPE, read directly.
host_paste() {
	run host-paste 20 sh -c 'exec wl-paste --no-newline --type "$1" >"$0"' "$2" "$1"
}

# guest_copy MODE FILE TYPE SECONDS: a wl-copy under the agent offers FILE
# as TYPE until we stop it; 0 when the host's wl-paste reads exactly FILE
# within SECONDS, 1 when not, 2 when the agent cut the wl-copy off (then
# nothing is shown either way).
guest_copy() {
	local mode=$1 file=$2 type=$3 secs=$4 got=$T/host-got.bin deadline ok=1
	N=$((N + 1))
	# shellcheck disable=SC2016 # for the inner shell
	spawn_agent "guest-copy-$N" sh -c 'exec wl-copy --foreground --type "$1" <"$0"' "$file" "$type"
	deadline=$((SECONDS + secs))
	while ((SECONDS < deadline)); do
		rm -f "$got"
		if host_paste "$type" "$got" && cmp -s "$got" "$file"; then
			ok=0
			break
		fi
		alive "${PIDS[guest-copy-$N]}" || break
		sleep 0.2
	done
	if ((ok != 0)) && [[ -s $got ]]; then
		log "$mode: the host read $(stat -c %s "$got") bytes, not the $(stat -c %s "$file") offered: $(cmp "$got" "$file" 2>&1 | head -n 1)"
	fi
	if ! alive "${PIDS[guest-copy-$N]}"; then
		log "$mode: the guest's wl-copy was gone before it was stopped: $(tail -n 2 "$T/guest-copy-$N.err" | tr '\n' ' ')"
		((ok == 1)) && ok=2
	fi
	stop "guest-copy-$N"
	if ((ok != 0)) && agent_errors "guest-copy-$N" >/dev/null; then
		log "$mode: the agent cut the guest's wl-copy off: $(agent_errors "guest-copy-$N" | head -n 1)"
		ok=2
	fi
	return "$ok"
}

# host_copy_guest_paste MODE FILE TYPE: the host's wl-copy offers FILE as
# TYPE; 0 when a wl-paste under the agent reads exactly FILE, 1 when not,
# 2 when the agent cut the wl-paste off or it hung.
host_copy_guest_paste() {
	local mode=$1 file=$2 type=$3 got
	N=$((N + 1))
	got=$T/guest-got-$N.bin
	# shellcheck disable=SC2016 # for the inner shell
	spawn "host-copy-$N" sh -c 'exec wl-copy --foreground --type "$1" <"$0"' "$file" "$type"
	wait_until "$WAIT" eval 'host_paste "$type" "$T/host-check.bin" && cmp -s "$T/host-check.bin" "$file"' ||
		hard_error "the host's own copy did not take"
	# shellcheck disable=SC2016 # for the inner shell
	run_agent "guest-paste-$N" 20 sh -c 'exec wl-paste --no-newline --type "$1" >"$0"' "$got" "$type"
	local rc=$?
	stop "host-copy-$N"
	if cmp -s "$got" "$file"; then
		((rc == 0)) || log "$mode: the guest's wl-paste read it all but exited with $rc"
		return 0
	fi
	if [[ -s $got ]]; then
		log "$mode: the guest read $(stat -c %s "$got") bytes, not the $(stat -c %s "$file") offered: $(cmp "$got" "$file" 2>&1 | head -n 1)"
	else
		log "$mode: the guest's wl-paste read nothing (exit $rc: $(tail -n 1 "$T/guest-paste-$N.err"))"
	fi
	if agent_errors "guest-paste-$N" >/dev/null; then
		log "$mode: the agent cut the guest's wl-paste off: $(agent_errors "guest-paste-$N" | head -n 1)"
		return 2
	fi
	if ((rc == 124)); then
		# A paste that hangs has not been refused: it shows nothing.
		log "$mode: the guest's wl-paste hung (killed after 20 s)"
		HUNG=$((HUNG + 1))
		return 2
	fi
	return 1
}

# The attack is real: directly, the same wl-copy and wl-paste cross.
printf 'control-%s' "$RANDOM" >"$T/control.txt"
spawn control-copy sh -c 'exec wl-copy --foreground --type text/plain <"$0"' "$T/control.txt"
wait_until "$WAIT" eval 'host_paste text/plain "$T/control-got.txt" && cmp -s "$T/control-got.txt" "$T/control.txt"' ||
	hard_error "wl-copy directly did not set the selection"
stop control-copy

errors=0
CUT_OFF=0
HUNG=0
expect() { # DESCRIPTION WANT(0 crosses, 1 does not) CMD...
	local what=$1 want=$2 t0=$SECONDS
	shift 2
	"$@"
	local got=$?
	if ((got == 2)); then
		# Not crossing proves nothing when the app was cut off.
		log "FAIL ($((SECONDS - t0)) s): $what: not shown, the guest app was cut off or hung"
		errors=$((errors + 1))
		CUT_OFF=$((CUT_OFF + 1))
	elif [[ $got == "$want" ]]; then
		log "ok ($((SECONDS - t0)) s): $what"
	else
		log "FAIL ($((SECONDS - t0)) s): $what"
		errors=$((errors + 1))
	fi
}

# secret MODE: a short text of its own for each check.
secret() {
	printf 'vmapp-%s-%s%s' "$1" "$RANDOM" "$RANDOM" >"$T/secret-$1.txt"
	printf '%s\n' "$T/secret-$1.txt"
}

# The default policy: no --policy.
start_accept clip
expect "default: the guest's copy (text) reaches the host" 0 \
	guest_copy default "$(secret default-g2h)" "$TEXT" "$WAIT"
expect "default: the guest's copy (1.5 MiB binary) reaches the host, exactly" 0 \
	guest_copy default "$BIG" "$BIN" "$WAIT"
expect "default: the host's copy (text) does not reach the guest" 1 \
	host_copy_guest_paste default "$(secret default-h2g)" "$TEXT"
expect "default: the host's copy (1.5 MiB binary) does not reach the guest" 1 \
	host_copy_guest_paste default "$BIG" "$BIN"
stop_accept

start_accept clip "$(policy off)"
expect "off: the guest's copy does not reach the host" 1 \
	guest_copy off "$(secret off-g2h)" "$TEXT" "$FORBIDDEN_WAIT"
expect "off: the host's copy does not reach the guest" 1 \
	host_copy_guest_paste off "$(secret off-h2g)" "$TEXT"
stop_accept

start_accept clip "$(policy both)"
expect "both: the guest's copy (text) reaches the host" 0 \
	guest_copy both "$(secret both-g2h)" "$TEXT" "$WAIT"
expect "both: the guest's copy (1.5 MiB binary) reaches the host, exactly" 0 \
	guest_copy both "$BIG" "$BIN" "$WAIT"
expect "both: the host's copy (text) reaches the guest" 0 \
	host_copy_guest_paste both "$(secret both-h2g)" "$TEXT"
expect "both: the host's copy (1.5 MiB binary) reaches the guest, exactly" 0 \
	host_copy_guest_paste both "$BIG" "$BIN"
stop_accept

if ((CUT_OFF > 0)) && grep -q 'WAYLAND: No such file or directory' "$T"/guest-*.err; then
	# Seen here: wl-copy and wl-paste bind the seat's keyboard; the
	# keymap event carries a content ref the agent can not resolve.
	agent_bug "guest apps cut off with 'channel N: WAYLAND: No such file or directory' when the compositor sent wl_keyboard.keymap: proxy/transport.c receive_wayland removes the content ref as it accepts the WAYLAND frame, before proxy/bridge.c deliver_wayland -> fd_for_ref looks it up with vmapp_transport_ref_get (NULL, so -ENOENT)"
fi
if ((HUNG > 0)); then
	# Seen here: the request that carries the pipe, and all after it,
	# waited in the agent for an event that never came.
	agent_bug "$HUNG guest wl-paste(s) hung after wl_data_offer.receive: seen when proxy/bridge.c channel_drain sends the PIPE_OPEN queued for the receive's pipe fd but leaves the WAYLAND segment holding the receive itself (and the wl_display.sync after it) unsent until some unrelated event wakes the bridge (it ends the segment only when no op is queued on entry)"
fi
((errors == 0)) || agent_bug "$errors clipboard check(s) failed, above"
agent_bugs_fail
pass "the clipboard crosses the agent+proxy path as each policy says, byte for byte"
