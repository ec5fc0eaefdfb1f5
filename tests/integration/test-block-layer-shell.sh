#!/bin/bash
# A layer-shell overlay (our layer client) covering the whole output, as a
# fake lock screen would: directly the screen turns the layer's colour (the
# attack is real); through the proxy the client must fail and the screen
# stay as it was, and the global must be hidden and unbindable.
. "$(dirname "$0")/lib.sh"

find_proxy
LAYER=$(find_client layer) || exit $?
start_sway

COLOUR=e01080

run layer-name 10 "$LAYER" --print-name || hard_error "layer --print-name failed"
name=$(awk '{ print $2 }' "$T/layer-name.out")

# Directly: shown until stopped.
spawn layer-direct "$LAYER" --colour "$COLOUR" --hold 60
wait_file_has "$T/layer-direct.out" '^drawn$' ||
	hard_error "layer run directly was not drawn: $(cat "$T/layer-direct.err")"
screenshot "$T/direct.ppm" || hard_error "no screenshot"
frac=$(colour_fraction "$T/direct.ppm" "$COLOUR")
gt "$frac" 0.95 || hard_error "layer run directly covers only $frac of the screen"
log "directly, the overlay covers $frac of the screen"
stop layer-direct
wait_until "$WAIT" background_only || hard_error "the direct overlay never went away"

# through_proxy TAG ARGS...: the layer client through the proxy must fail,
# and never colour the screen, even for a moment while it runs.
through_proxy() {
	local tag=$1 rc
	shift
	spawn "$tag" "$PROXY" --local -- "$LAYER" --colour "$COLOUR" --hold 5 "$@"
	local deadline=$((SECONDS + WAIT))
	while alive "${PIDS[$tag]}" && ((SECONDS < deadline)); do
		if grep -Eq '^(configured|drawn)' "$T/$tag.out"; then
			screenshot "$T/$tag.ppm"
			fail "layer $* through the proxy: $(tr '\n' ' ' <"$T/$tag.out") (screen $(colour_fraction "$T/$tag.ppm" "$COLOUR") overlay colour)"
		fi
		sleep 0.1
	done
	wait_exit "$tag" 5
	rc=$?
	log "layer $* through the proxy exited $rc ($(tr '\n' ' ' <"$T/$tag.err"))"
	grep -Eq '^(configured|drawn)' "$T/$tag.out" &&
		fail "layer $* through the proxy was configured: $(tr '\n' ' ' <"$T/$tag.out")"
	[[ $rc != 0 ]] || fail "layer $* through the proxy exited 0"
	screenshot "$T/$tag.ppm" || hard_error "no screenshot"
	frac=$(bg_fraction "$T/$tag.ppm")
	gt "$frac" 0.999 || fail "after layer $* through the proxy the screen is only $frac background"
}

through_proxy layer-proxied
# Binding the compositor's name for the layer shell anyway.
through_proxy layer-forced --bind-name "$name"
grep -Eq "$VIOLATION_RE" "$T/layer-forced.err" ||
	fail "no 'interface.message@id: rule' line from the proxy for the forced bind"

check_global_blocked zwlr_layer_shell_v1

pass "the layer shell is blocked"
