#!/bin/bash
# vmapp-proxy's and vmapp-agent's command lines as a user meets them: help, version, errors with
# their exit codes, a policy refused with its file and line, and the
# command's exit status passed through.
. "$(dirname "$0")/../integration/lib.sh"

find_proxy
errors=0
check() { # DESCRIPTION WANT_STATUS STDERR_REGEX -- CMD...
	local what=$1 want=$2 re=$3
	shift 4
	"$@" >"$T/cli.out" 2>"$T/cli.err"
	local rc=$?
	if [[ $rc != "$want" ]]; then
		log "FAIL $what: exit $rc, want $want; stderr: $(head -c 300 "$T/cli.err")"
		errors=$((errors + 1))
	elif [[ -n $re ]] && ! grep -Eq -- "$re" "$T/cli.err" "$T/cli.out"; then
		log "FAIL $what: output lacks /$re/: $(head -c 300 "$T/cli.err")"
		errors=$((errors + 1))
	else
		log "ok $what"
	fi
}

check "--help" 0 "Usage: vmapp-proxy --local" -- "$PROXY" --help
check "--version" 0 "^vmapp-proxy [0-9]" -- "$PROXY" --version
check "unknown option" 2 "Usage" -- "$PROXY" --local --frobnicate -- true
check "no mode" 2 "--local" -- "$PROXY" -- true
check "no command" 2 "COMMAND" -- "$PROXY" --local
check "bad label" 2 "bad label 'Work/1'" -- "$PROXY" --local --label Work/1 -- true
check "missing policy" 2 "nonexistent.policy" -- "$PROXY" --local --policy "$T/nonexistent.policy" -- true

printf 'allow wl_compositor 5\n# fine so far\nallow wl_frobnicator 1\n' >"$T/unknown.policy"
check "policy: unknown interface" 2 "unknown.policy:3: unknown interface 'wl_frobnicator'" -- \
	"$PROXY" --local --policy "$T/unknown.policy" -- true
printf 'allow wl_shm 1\nallow wl_compositor 99\n' >"$T/version.policy"
check "policy: bad version" 2 "version.policy:2: .*wl_compositor" -- \
	"$PROXY" --local --policy "$T/version.policy" -- true
printf '\n\n\n\nallow zwlr_screencopy_manager_v1 3\n' >"$T/blocked.policy"
check "policy: always blocked" 2 "blocked.policy:5: .*always blocked" -- \
	"$PROXY" --local --policy "$T/blocked.policy" -- true

check "no compositor" 125 "can not reach the compositor" -- \
	env WAYLAND_DISPLAY=nothing-here "$PROXY" --local -- true

# --accept and vmapp-agent's own command line.
AGENT=${VMAPP_AGENT:-$LIB_DIR/../../build/agent/vmapp-agent}
[[ -x $AGENT ]] || skip "no agent binary at $AGENT (set VMAPP_AGENT)"
check "accept: bad transport" 2 "unix:PATH, vsock:\[CID:\]PORT or serial:PATH" -- \
	"$PROXY" --accept tcp:1234
check "accept: empty path" 2 "the path is missing" -- "$PROXY" --accept unix:
check "accept: vsock port" 2 "a bad port" -- "$PROXY" --accept vsock:port
check "accept: CID in the address" 2 "--cid" -- "$PROXY" --accept vsock:3:1234
check "accept: bad --cid" 2 "bad --cid" -- "$PROXY" --accept vsock:1234 --cid 2
check "accept: vsock without --cid" 2 "needs the guest's CID" -- "$PROXY" --accept vsock:1234
check "accept and --listen" 2 "takes no --listen" -- "$PROXY" --accept unix:$T/a.sock --listen $T/b.sock
check "accept and local" 2 "--local, --accept TRANSPORT or --vm NAME" -- "$PROXY" --local --accept unix:$T/a.sock
check "--once without --accept" 2 "go with --accept" -- "$PROXY" --local --once -- true
check "accept: no compositor" 125 "can not reach the compositor" -- \
	env WAYLAND_DISPLAY=nothing-here "$PROXY" --accept unix:$T/a.sock
check "agent --help" 0 "Usage: vmapp-agent --connect" -- "$AGENT" --help
check "agent --version" 0 "vmapp-agent [0-9]" -- "$AGENT" --version
check "agent without --connect" 2 "--connect TRANSPORT" -- "$AGENT" -- true
check "agent: vsock without CID" 2 "needs the CID" -- "$AGENT" --connect vsock:1234
check "agent: bad --shm-diff" 2 "bad --shm-diff 'fast'" -- \
	"$AGENT" --connect unix:$T/a.sock --shm-diff fast
check "agent: bad --socket" 2 "bad --socket 'a/b'" -- "$AGENT" --connect unix:$T/a.sock --socket a/b
check "agent: nobody listening" 125 "can not connect to unix:" -- \
	"$AGENT" --connect unix:$T/none.sock --wait 0 --socket wl-cli -- true
[[ -e $XDG_RUNTIME_DIR/wl-cli ]] && {
	log "FAIL the agent left its socket behind"
	errors=$((errors + 1))
}

# --vm: the command line, a VM that does not exist, and starts that fail at
# a step, which must name the step and the log and leave nothing behind.
VMCONF=$T/vmconf
mkdir -p "$VMCONF/vmapp"
printf 'image = %s\naccel = tcg\n' "$T/no-image" >"$VMCONF/vmapp/broken.vm"
check "vm: bad name" 2 "VM name 'Work'" -- "$PROXY" --vm Work -- true
check "vm: with --label" 2 "takes no other mode or option" -- "$PROXY" --vm work --label x -- true
check "vm: with --local" 2 "takes no other mode or option" -- "$PROXY" --local --vm work -- true
check "vm: no such VM" 2 "there is no VM 'nosuch'.*vmapp-vm create nosuch" -- \
	env XDG_CONFIG_HOME="$VMCONF" XDG_STATE_HOME="$T/vmstate" "$PROXY" --vm nosuch -- true
check "vm: no compositor" 125 "the VM did not start: compositor: " -- \
	env XDG_CONFIG_HOME="$VMCONF" XDG_STATE_HOME="$T/vmstate" WAYLAND_DISPLAY=nothing-here \
	"$PROXY" --vm broken -- true

start_sway

check "vm: no image" 125 "the VM did not start: image: .*no-image has no vmlinuz.*\(log: .*vm.log\)" -- \
	env XDG_CONFIG_HOME="$VMCONF" XDG_STATE_HOME="$T/vmstate" "$PROXY" --vm broken -- true
# An image built with other packages than the VM asks for is not used.
mkdir -p "$T/vmdata/vmapp/images/shared"
for f in vmlinuz initrd.img root.img; do : >"$T/vmdata/vmapp/images/shared/$f"; done
printf 'vmapp-image 1\npackages fonts-dejavu-core foot\n' >"$T/vmdata/vmapp/images/shared/manifest"
printf 'image = shared\naccel = tcg\npackages = firefox-esr\n' >"$VMCONF/vmapp/other.vm"
check "vm: an image with other packages" 125 "image: the image 'shared' was built with the packages 'fonts-dejavu-core foot', this VM asks for 'firefox-esr'" -- \
	env XDG_CONFIG_HOME="$VMCONF" XDG_STATE_HOME="$T/vmstate" XDG_DATA_HOME="$T/vmdata" \
	"$PROXY" --vm other -- true
if [[ -e $XDG_RUNTIME_DIR/vmapp/broken ]] || pgrep -f -- "--vm-serve broken" >/dev/null; then
	log "FAIL a VM that did not start left $(find "$XDG_RUNTIME_DIR/vmapp" | tr '\n' ' ') $(pgrep -af -- "--vm-serve broken")"
	errors=$((errors + 1))
fi
check "exit status passed through" 7 "" -- "$PROXY" --local -- sh -c 'exit 7'
check "killed command" 143 "" -- "$PROXY" --local -- sh -c 'kill -TERM $$'
# A signal to the proxy goes to its command, whose status comes back.
"$PROXY" --local -- sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done' \
	>"$T/sig.out" 2>"$T/sig.err" &
sig_pid=$!
wait_until "$WAIT" grep -q ready "$T/sig.out"
kill -TERM "$sig_pid"
wait "$sig_pid"
rc=$?
if [[ $rc == 42 ]]; then
	log "ok SIGTERM passed on to the command"
else
	log "FAIL SIGTERM: proxy exited $rc, want the command's 42"
	errors=$((errors + 1))
fi
check "command not found" 127 "no-such-command" -- "$PROXY" --local -- no-such-command-here
check "the command sees the private socket" 0 "" -- \
	"$PROXY" --local --label cli -- sh -c 'case $WAYLAND_DISPLAY in vmapp-cli-*) exit 0;; *) exit 1;; esac'
ls "$XDG_RUNTIME_DIR"/vmapp-* >/dev/null 2>&1 && {
	log "FAIL the private sockets were left behind: $(ls "$XDG_RUNTIME_DIR")"
	errors=$((errors + 1))
}

# The command's status comes back through agent and proxy.
"$PROXY" --accept unix:$T/cli.sock --label cli >"$T/accept.out" 2>"$T/accept.err" &
accept_pid=$!
wait_until "$WAIT" test -S "$T/cli.sock"
check "agent: command status" 7 "" -- "$AGENT" --connect unix:$T/cli.sock --socket wl-cli -- sh -c 'exit 7'
check "agent: command not found" 127 "no-such-command" -- \
	"$AGENT" --connect unix:$T/cli.sock --socket wl-cli -- no-such-command-here
check "agent: the command sees the socket" 0 "" -- \
	"$AGENT" --connect unix:$T/cli.sock --socket wl-cli -- sh -c '[ "$WAYLAND_DISPLAY" = "$XDG_RUNTIME_DIR/wl-cli" ]'
kill -TERM "$accept_pid"
wait "$accept_pid"
rc=$?
# --accept with a command: the agent (serving, no command of its own) runs
# it in the "guest", and the command's status is the proxy's.
accept_run() { # WANT_STATUS COMMAND...
	local want=$1
	shift
	"$PROXY" --accept unix:$T/run.sock --label cli -- "$@" >"$T/run.out" 2>"$T/run.err" &
	local proxy_pid=$!
	wait_until "$WAIT" test -S "$T/run.sock"
	"$AGENT" --connect unix:$T/run.sock --socket wl-run >"$T/agent-run.out" 2>"$T/agent-run.err" &
	local agent_pid=$!
	wait "$proxy_pid"
	local got=$?
	wait "$agent_pid"
	local agent_rc=$?
	if [[ $got == "$want" && $agent_rc == 0 ]]; then
		log "ok --accept -- $*: status $got, the agent ended in order"
	else
		log "FAIL --accept -- $*: status $got (want $want), agent $agent_rc: $(cat "$T/run.err" "$T/agent-run.err")"
		errors=$((errors + 1))
	fi
}
accept_run 5 sh -c 'exit 5'
accept_run 127 no-such-command-here
accept_run 143 sh -c 'kill -TERM $$'
accept_run 0 sh -c '[ -S "$WAYLAND_DISPLAY" ]'
(exit $rc)
rc=$?
if [[ $rc == 0 && ! -e $T/cli.sock ]]; then
	log "ok --accept: SIGTERM exits 0 and removes the socket"
else
	log "FAIL --accept after SIGTERM: exit $rc, socket $(ls "$T/cli.sock" 2>&1)"
	errors=$((errors + 1))
fi

((errors == 0)) || fail "$errors check(s) failed"
pass "the command line behaves"
