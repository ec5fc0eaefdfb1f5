#!/bin/bash
# Output management (wlr-randr): directly it lists HEADLESS-1; through the
# proxy it must fail and list nothing, and the output management and power
# globals must be hidden and unbindable.
. "$(dirname "$0")/lib.sh"

need wlr-randr
find_proxy
start_sway

run randr-direct 10 wlr-randr || hard_error "wlr-randr run directly failed ($?)"
grep -q HEADLESS-1 "$T/randr-direct.out" || hard_error "wlr-randr run directly did not list HEADLESS-1"
log "directly, wlr-randr lists: $(head -n 1 "$T/randr-direct.out")"

run randr-proxied 10 "$PROXY" --local -- wlr-randr
rc=$?
log "wlr-randr through the proxy exited $rc ($(tr '\n' ' ' <"$T/randr-proxied.err"))"
grep -q HEADLESS "$T/randr-proxied.out" && fail "wlr-randr through the proxy listed the outputs"
[[ $rc != 0 ]] || fail "wlr-randr through the proxy exited 0"

check_global_blocked zwlr_output_manager_v1
check_global_blocked zwlr_output_power_manager_v1

pass "output management is blocked"
