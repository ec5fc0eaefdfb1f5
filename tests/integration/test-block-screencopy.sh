#!/bin/bash
# Screen capture (grim, wlr-screencopy): directly it produces a picture of
# the screen; through the proxy it must fail and produce no image, and the
# capture globals must be hidden and unbindable.
. "$(dirname "$0")/lib.sh"

need grim
find_proxy
start_sway

run grim-direct 15 grim "$T/direct.png" ||
	hard_error "grim run directly failed ($?)"
[[ $(head -c 8 "$T/direct.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
	hard_error "grim run directly wrote no PNG"
frac=$(bg_fraction "$T/direct.png")
gt "$frac" 0.99 || hard_error "grim's direct picture is not the screen (background $frac)"
log "directly, grim captured the screen (background fraction $frac)"

run grim-proxied 15 "$PROXY" --local -- grim "$T/proxied.png"
rc=$?
log "grim through the proxy exited $rc ($(tr '\n' ' ' <"$T/grim-proxied.err"))"
[[ -e $T/proxied.png ]] && fail "grim through the proxy wrote an image ($(stat -c %s "$T/proxied.png") bytes)"
[[ $rc != 0 ]] || fail "grim through the proxy exited 0"

# The same to stdout, as a capture tool piping the picture away would.
run grim-proxied-stdout 15 "$PROXY" --local -- grim -t ppm -
[[ -s $T/grim-proxied-stdout.out ]] &&
	fail "grim through the proxy wrote $(stat -c %s "$T/grim-proxied-stdout.out") bytes to stdout"

check_global_blocked zwlr_screencopy_manager_v1
check_global_blocked zwlr_export_dmabuf_manager_v1

pass "screen capture is blocked"
