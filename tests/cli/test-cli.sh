#!/bin/bash
# vmapp-proxy's command line as a user meets it: help, version, errors with
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

start_sway
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

((errors == 0)) || fail "$errors check(s) failed"
pass "the command line behaves"
