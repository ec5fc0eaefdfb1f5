#!/bin/bash
# Back-pressure: a client that floods requests, and one that never reads
# its events, cost the proxy bounded memory and do not slow a third
# client's round trips, all proxied by the same vmapp-proxy at once; the
# flood is held to the policy's message rate.
#
# Shown on the receiving side: the third client's wl_display.sync round
# trips (median) stay fast, and the proxy's resident memory stays bounded,
# while both misbehave; the proxy and the compositor live on.
source "$(dirname "$0")/../integration/lib.sh"

FLOOD=${VMAPP_FLOOD_CLIENT:-$LIB_DIR/../../build/tests/backpressure/flood-client}
need "$FLOOD"
find_proxy
start_sway

sock=$T/proxy.sock
spawn proxy "$PROXY" --local --label bp --listen "$sock"
wait_until "$WAIT" test -S "$sock" || fail "the proxy did not listen"

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/${PIDS[proxy]}/status"
}

ping() { # NAME: 300 round trips through the proxy; prints the median in µs
	run "$1" 60 env WAYLAND_DISPLAY="$sock" "$FLOOD" ping 300 || fail "ping $1 failed"
	cut -d' ' -f1 "$T/$1.out"
}

base=$(ping ping-quiet)
log "round trip through the proxy, quiet: median ${base} us"
rss_before=$(rss_kb)

spawn flood env WAYLAND_DISPLAY="$sock" "$FLOOD" flood 8
spawn noread env WAYLAND_DISPLAY="$sock" "$FLOOD" noread 8
sleep 2 # let both fill every queue they can

max_rss=0
busy=()
for i in 1 2 3; do
	busy+=("$(ping "ping-busy-$i")")
	r=$(rss_kb)
	((r > max_rss)) && max_rss=$r
done
wait_exit flood 30 || fail "the flooding client did not end: $?"
wait_exit noread 30 || fail "the non-reading client did not end: $?"
r=$(rss_kb)
((r > max_rss)) && max_rss=$r

median=$(printf '%s\n' "${busy[@]}" | sort -n | sed -n 2p)
log "round trip while flooded: medians ${busy[*]} us (median of medians ${median} us)"
log "proxy resident memory: ${rss_before} kB quiet, at most ${max_rss} kB flooded"
log "flooding client wrote $(cat "$T/flood.out") requests; the non-reader asked for $(cat "$T/noread.out") registries"

# The flood really was a flood: far more than what fits in the queues...
flooded=$(cat "$T/flood.out")
((flooded > 400000)) || fail "the flooding client only got $flooded requests out"
# ...and the proxy took it at the default policy's message-rate (100000/s)
# for the 8 s it lasted, plus what the socket buffers hold: without the
# limit, millions get through.
((flooded < 1000000)) || fail "the flooding client got $flooded requests past the rate limit"

# 4 MiB queued per direction per client, two clients: well under 64 MiB.
((max_rss < 65536)) || fail "the proxy grew to $max_rss kB"
# Slowed, on a 2-core machine with two clients and the compositor busy,
# but not stalled: a stalled client would wait for the floods to end (8 s).
((median < 100000)) || fail "round trips took ${median} us while flooded"

alive "${PIDS[proxy]}" || fail "the proxy died"
swaymsg -t get_version >/dev/null || fail "sway died"
after=$(ping ping-after)
log "round trip after the flood: median ${after} us"
pass "round trips ${base} us quiet, ${median} us flooded; proxy RSS <= ${max_rss} kB"
