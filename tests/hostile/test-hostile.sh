#!/bin/bash
# jq programs and sh -c scripts are single-quoted on purpose.
# shellcheck disable=SC2016
# Hostile clients against vmapp-proxy --local in front of a headless sway.
#
# hostile-client (our own raw-bytes client, no libwayland) connects through
# the proxy, sets up like any client and sends one message that breaks one
# validation rule (DESIGN.md "Validation rules").  For every scenario:
#   - the client was cut off with a wl_display.error of the proxy's own
#     ("vmapp: interface.message: rule"), then end of stream (exit 0);
#   - the proxy logged exactly one line "interface.message@id: rule";
#   - the proxy is still running and sway still answers.
# The cases are below, one per rule a client can break, several variants
# each, plus every wrong size (11 down to 0) of a wl_display.sync, each on
# its own connection.  A control run ("valid": everything well formed) must stay connected
# (exit 1), before and after the hostile ones.  A well-behaved foot
# through the same proxy must still take typed input at the end, and the
# proxy must exit 0 on SIGTERM and remove its socket.
#
# Environment: VMAPP_PROXY, HOSTILE_CLIENT (meson sets both); see
# ../integration/lib.sh for the rest (CI=true turns a skip into a failure).
HERE=$(cd "$(dirname "$0")" && pwd)
if [[ ! -r $HERE/../integration/lib.sh ]]; then
	echo "test-hostile: $HERE/../integration/lib.sh is missing" >&2
	exit 99
fi
# shellcheck source=../integration/lib.sh
. "$HERE/../integration/lib.sh"

need sway swaymsg foot wtype jq
find_proxy
HOSTILE=${HOSTILE_CLIENT:-$HERE/../../build/tests/hostile/hostile-client}
[[ -x $HOSTILE ]] || skip "no hostile client at $HOSTILE (set HOSTILE_CLIENT)"

start_sway
SOCK=$T/proxy.sock
PROXY_LOG=$T/proxy.err
# A violation line of the proxy, "?" included (what it did not know yet).
LINE_RE='^vmapp-proxy\[hostile\]: client [0-9]+: [a-z_0-9?]+\.[a-z_0-9?]+@[0-9]+: [a-z0-9-]+$'

# The names sway gives the globals the proxy must hide, straight from sway.
"$HOSTILE" globals >"$T/globals-direct.txt" 2>"$T/globals-direct.err" ||
	hard_error "listing sway's globals directly failed"
global_name() {
	awk -v i="$1" '$2 == i { print $1; exit }' "$T/globals-direct.txt"
}
for iface in zwlr_virtual_pointer_manager_v1 zwlr_screencopy_manager_v1; do
	[[ -n $(global_name "$iface") ]] || hard_error "sway does not advertise $iface"
done

spawn proxy "$PROXY" --local --label hostile --listen "$SOCK"
PROXY_PID=${PIDS[proxy]}
wait_until "$WAIT" test -S "$SOCK" || fail "the proxy did not create $SOCK"

# A well-behaved client on the same proxy, all along.
spawn foot env WAYLAND_DISPLAY="$SOCK" foot -a vmapp-ok \
	sh -c 'read -r x; printf "%s\n" "$x" >"$0.tmp" && mv "$0.tmp" "$0"' "$T/ok"
wait_window '.app_id == $a' --arg a vmapp.hostile.vmapp-ok >/dev/null ||
	fail "no window of the proxied foot (app_id vmapp.hostile.vmapp-ok); windows: $(windows | tr '\n' ' ')"

# --- the cases --------------------------------------------------------------

# SCENARIO;VARIANT;expected log line (an extended regex; ID stands for the
# object id the client reports, "?.?" is the proxy's "not known yet"; the header
# cases are wl_display.sync messages with a bad size field); the
# hidden interface for bind-not-advertised hidden
HDR='(\?\.\?|wl_display\.sync)@(0|ID)'
CASES=(
	"size-too-small;0;$HDR: size-too-small"
	"size-too-small;4;$HDR: size-too-small"
	"size-too-large;4100;$HDR: size-too-large"
	"size-too-large;65532;$HDR: size-too-large"
	"size-unaligned;14;$HDR: size-unaligned"
	"size-unaligned;4094;$HDR: size-unaligned"
	"object-unknown;client;\?\.\?@ID: object-unknown"
	"object-unknown;server;\?\.\?@ID: object-unknown"
	"object-unknown;zero;\?\.\?@ID: object-unknown"
	"object-destroyed;region;wl_region\.(add|\?)@ID: object-destroyed"
	"opcode-unknown;display;wl_display\.\?@ID: opcode-unknown"
	"opcode-unknown;region-ffff;wl_region\.\?@ID: opcode-unknown"
	"version-too-low;damage_buffer;wl_surface\.damage_buffer@ID: version-too-low"
	"version-too-low;set_buffer_transform;wl_surface\.set_buffer_transform@ID: version-too-low"
	"arg-overflow;title-ffffffff;xdg_toplevel\.set_title@ID: arg-overflow"
	"arg-overflow;title-fffff000;xdg_toplevel\.set_title@ID: arg-overflow"
	"arg-overflow;title-past-end;xdg_toplevel\.set_title@ID: arg-overflow"
	"arg-overflow;bind-ffffffff;wl_registry\.bind@ID: arg-overflow"
	"arg-overflow;bind-fffff000;wl_registry\.bind@ID: arg-overflow"
	"arg-overflow;missing-arg;wl_region\.add@ID: arg-overflow"
	"trailing-bytes;sync;wl_display\.sync@ID: trailing-bytes"
	"trailing-bytes;title;xdg_toplevel\.set_title@ID: trailing-bytes"
	"string-unterminated;title;xdg_toplevel\.set_title@ID: string-unterminated"
	"string-unterminated;padding-nul;xdg_toplevel\.set_title@ID: string-unterminated"
	"string-embedded-nul;title;xdg_toplevel\.set_title@ID: string-embedded-nul"
	"string-invalid-utf8;overlong;xdg_toplevel\.set_title@ID: string-invalid-utf8"
	"string-invalid-utf8;surrogate;xdg_toplevel\.set_title@ID: string-invalid-utf8"
	"string-invalid-utf8;truncated;xdg_toplevel\.set_title@ID: string-invalid-utf8"
	"string-invalid-utf8;above-10ffff;xdg_toplevel\.set_title@ID: string-invalid-utf8"
	"null-not-allowed;title;xdg_toplevel\.set_title@ID: null-not-allowed"
	"null-not-allowed;object;xdg_wm_base\.get_xdg_surface@ID: null-not-allowed"
	"object-arg-unknown;never;xdg_wm_base\.get_xdg_surface@ID: object-arg-unknown"
	"object-arg-unknown;destroyed;xdg_wm_base\.get_xdg_surface@ID: object-arg-unknown"
	"object-arg-wrong-interface;attach-region;wl_surface\.attach@ID: object-arg-wrong-interface"
	"object-arg-wrong-interface;opaque-surface;wl_surface\.set_opaque_region@ID: object-arg-wrong-interface"
	"object-arg-wrong-interface;xdg-surface-display;xdg_wm_base\.get_xdg_surface@ID: object-arg-wrong-interface"
	"new-id-invalid;gap;wl_compositor\.create_region@ID: new-id-invalid"
	"new-id-invalid;server-range;wl_compositor\.create_region@ID: new-id-invalid"
	"new-id-invalid;zero;wl_compositor\.create_region@ID: new-id-invalid"
	"new-id-invalid;max;wl_compositor\.create_region@ID: new-id-invalid"
	"new-id-in-use;live;wl_compositor\.create_region@ID: new-id-in-use"
	"new-id-in-use;display;wl_compositor\.create_region@ID: new-id-in-use"
	"new-id-in-use;zombie;wl_compositor\.create_region@ID: new-id-in-use"
	"enum-invalid;transform;wl_surface\.set_buffer_transform@ID: enum-invalid"
	"enum-invalid;resize-edges;xdg_toplevel\.resize@ID: enum-invalid"
	"enum-invalid;shm-format;wl_shm_pool\.create_buffer@ID: enum-invalid"
	"fd-missing;create-pool;wl_shm\.create_pool@ID: fd-missing"
	"fd-extra;30;(\?\.\?@0|wl_display\.sync@ID): fd-extra"
	"fd-wrong-type;pipe;wl_shm\.create_pool@ID: fd-wrong-type"
	"fd-wrong-type;socket;wl_shm\.create_pool@ID: fd-wrong-type"
	"fd-wrong-type;dev-null;wl_shm\.create_pool@ID: fd-wrong-type"
	"fd-wrong-type;directory;wl_shm\.create_pool@ID: fd-wrong-type"
	"fd-wrong-type;small-memfd;wl_shm\.create_pool@ID: fd-wrong-type"
	"bind-not-advertised;hidden;wl_registry\.bind@ID: bind-not-advertised;zwlr_virtual_pointer_manager_v1"
	"bind-not-advertised;hidden;wl_registry\.bind@ID: bind-not-advertised;zwlr_screencopy_manager_v1"
	"bind-not-advertised;made-up;wl_registry\.bind@ID: bind-not-advertised"
	"bind-interface-mismatch;shm;wl_registry\.bind@ID: bind-interface-mismatch"
	"bind-interface-mismatch;screencopy;wl_registry\.bind@ID: bind-interface-mismatch"
	"bind-interface-mismatch;prefix;wl_registry\.bind@ID: bind-interface-mismatch"
	"bind-version;zero;wl_registry\.bind@ID: bind-version"
	"bind-version;above;wl_registry\.bind@ID: bind-version"
	"bind-version;max;wl_registry\.bind@ID: bind-version"
	"shm-pool-size;zero;wl_shm\.create_pool@ID: shm-pool-size"
	"shm-pool-size;negative;wl_shm\.create_pool@ID: shm-pool-size"
	"shm-pool-size;resize-negative;wl_shm_pool\.resize@ID: shm-pool-size"
	"shm-pool-size;resize-past-fd;wl_shm_pool\.resize@ID: shm-pool-size"
	"shm-pool-shrink;half;wl_shm_pool\.resize@ID: shm-pool-shrink"
	"shm-buffer-geometry;past-pool;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-buffer-geometry;offset-past;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-buffer-geometry;offset-beyond;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-buffer-geometry;stride-small;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-buffer-geometry;stride-height-overflow;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-buffer-geometry;width-stride-overflow;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-buffer-geometry;offset-overflow;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-buffer-geometry;negative-offset;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-buffer-geometry;negative-width;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-buffer-geometry;negative-height;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-buffer-geometry;negative-stride;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-buffer-geometry;zero-width;wl_shm_pool\.create_buffer@ID: shm-buffer-geometry"
	"shm-format;unadvertised;wl_shm_pool\.create_buffer@ID: shm-format"
	"limit-objects;10001;wl_compositor\.create_region@ID: limit-objects"
	"limit-shm;count;wl_shm\.create_pool@ID: limit-shm"
	"limit-shm;bytes;wl_shm\.create_pool@ID: limit-shm"
	"limit-fds;65;(\?\.\?@0|wl_shm\.create_pool@ID): limit-fds"
	# DESIGN.md "stateful checks": surface roles and configure serials.
	"surface-role;two-toplevels;xdg_surface\.get_toplevel@ID: surface-role"
	"surface-role;two-xdg-surfaces;xdg_wm_base\.get_xdg_surface@ID: surface-role"
	"surface-role;toplevel-then-subsurface;wl_subcompositor\.get_subsurface@ID: surface-role"
	"surface-role;own-parent;wl_subcompositor\.get_subsurface@ID: surface-role"
	"surface-role;toplevel-as-cursor;wl_pointer\.set_cursor@ID: surface-role"
	"surface-role;xdg-surface-before-toplevel;xdg_surface\.destroy@ID: surface-role"
	"configure-serial;never-sent;xdg_surface\.ack_configure@ID: configure-serial"
	"configure-serial;acked-twice;xdg_surface\.ack_configure@ID: configure-serial"
	"configure-serial;next;xdg_surface\.ack_configure@ID: configure-serial"
)
# Every wrong size of a wl_display.sync (12 bytes), one connection each.
for size in 11 10 9 8 7 6 5 4 3 2 1 0; do
	if ((size > 8)); then
		CASES+=("wrong-size;$size;$HDR: size-unaligned")
	elif ((size == 8)); then
		CASES+=("wrong-size;$size;wl_display\.sync@ID: arg-overflow")
	else
		CASES+=("wrong-size;$size;$HDR: size-too-small")
	fi
done

# Every scenario and variant the client knows must be run here.
"$HOSTILE" list >"$T/list.txt" || hard_error "hostile-client list failed"
while IFS=: read -r scenario variants; do
	[[ $scenario == valid ]] && continue
	for variant in $variants; do
		found=0
		for c in "${CASES[@]}"; do
			[[ $c == "$scenario;$variant;"* ]] && found=1
		done
		((found)) || hard_error "no case for hostile-client $scenario $variant"
	done
done <"$T/list.txt"

RESULTS=()
N_PASS=0
N_FAIL=0

record() {
	local verdict=$1 what=$2 detail=$3
	RESULTS+=("$verdict $what${detail:+: $detail}")
	if [[ $verdict == PASS ]]; then
		((N_PASS++))
	else
		((N_FAIL++))
		log "FAIL $what: $detail"
		sed 's/^/    client: /' "$T/hostile.out" "$T/hostile.err" >&2 2>/dev/null
		log_since "$PROXY_LOG" | sed 's/^/    proxy: /' >&2
	fi
}

# hostile SCENARIO VARIANT [HIDDEN_INTERFACE]: runs the client through the
# proxy; its status, output in $T/hostile.out.
hostile() {
	local env=(WAYLAND_DISPLAY="$SOCK")
	if [[ -n ${3:-} ]]; then
		env+=(HOSTILE_BIND_INTERFACE="$3" HOSTILE_BIND_NAME="$(global_name "$3")")
	fi
	run hostile 30 env "${env[@]}" "$HOSTILE" "$1" "$2"
}

describe_rc() {
	case $1 in
	0) echo "cut off with an error" ;;
	1) echo "let through: the connection stayed up" ;;
	2) echo "the client's setup failed" ;;
	3) echo "cut off without a wl_display.error" ;;
	4) echo "no answer: the proxy neither refused nor passed it" ;;
	124) echo "the client hung and was killed" ;;
	*) echo "exit status $1" ;;
	esac
}

# The proxy and sway are still there after a case.
survivors() {
	alive "$PROXY_PID" || { echo "the proxy died"; return 1; }
	timeout 10 swaymsg -t get_version >/dev/null 2>&1 || { echo "sway does not answer"; return 1; }
	return 0
}

control() {
	local what="control valid ($1)" rc
	log_mark "$PROXY_LOG"
	hostile valid all
	rc=$?
	if ((rc != 1)); then
		record FAIL "$what" "a well-formed client must stay connected (exit 1), got: $(describe_rc $rc)"
	elif log_since "$PROXY_LOG" | grep -Eq "$LINE_RE"; then
		record FAIL "$what" "the proxy logged a violation for well-formed requests"
	else
		record PASS "$what" ""
	fi
}

# log_has REGEX: the proxy logged a line matching it since the mark.
log_has() {
	log_since "$PROXY_LOG" | grep -Eq "$1"
}

run_case() {
	local scenario=$1 variant=$2 pattern=$3 hidden=${4:-}
	local what="$scenario $variant${hidden:+ ($hidden)}" rc id rule n why
	rule=${pattern##*: }
	log_mark "$PROXY_LOG"
	hostile "$scenario" "$variant" "$hidden"
	rc=$?
	id=$(sed -n 's/^object=//p' "$T/hostile.out" | head -n 1)
	pattern=${pattern//ID/${id:-x}}
	local line_re="^vmapp-proxy\[hostile\]: client [0-9]+: $pattern\$"
	# The proxy logs before it closes the client, but give it a moment.
	wait_until 2 log_has "$line_re"
	n=$(log_since "$PROXY_LOG" | grep -Ec "$LINE_RE")

	why=$(survivors) || { record FAIL "$what" "$why"; return; }
	if ((rc != 0)); then
		record FAIL "$what" "$(describe_rc $rc)"
	elif ! grep -q '^error .* text=vmapp: ' "$T/hostile.out"; then
		record FAIL "$what" "not caught by the proxy (it logged $n lines); the compositor's own error reached the client: $(grep '^error' "$T/hostile.out")"
	elif ! grep -Eq "^error object=[0-9]+ code=[0-9]+ text=vmapp: [a-z_0-9?]+\.[a-z_0-9?]+: $rule\$" "$T/hostile.out"; then
		record FAIL "$what" "the proxy's wl_display.error does not name $rule: $(grep '^error' "$T/hostile.out")"
	elif ! grep -qx eof "$T/hostile.out"; then
		record FAIL "$what" "no end of stream after the error"
	elif ! log_has "$line_re"; then
		record FAIL "$what" "no proxy log line matching '$pattern'"
	elif ((n != 1)); then
		record FAIL "$what" "$n violation lines in the proxy log, not 1"
	else
		record PASS "$what" ""
	fi
}

control before
for c in "${CASES[@]}"; do
	IFS=';' read -r scenario variant pattern hidden <<<"$c"
	run_case "$scenario" "$variant" "$pattern" "$hidden"
done
control after

# --- the well-behaved client, and the proxy's own exit ---------------------

# Typed straight into sway by a trusted client; foot must get it through
# the proxy that all the above went through.
if ! wait_window '.app_id == $a and .focused' --arg a vmapp.hostile.vmapp-ok >/dev/null; then
	record FAIL "foot" "the proxied foot's window is gone or not focused: $(windows | tr '\n' ' ')"
else
	run wtype 15 wtype -s 300 -d 30 ok -k Return
	if wait_until "$WAIT" test -s "$T/ok" && [[ $(cat "$T/ok") == ok ]]; then
		record PASS "foot still takes input" ""
	else
		record FAIL "foot" "typed 'ok' did not reach the proxied foot ($(cat "$T/ok" 2>/dev/null))"
	fi
fi
wait_exit foot 10 >/dev/null 2>&1

kill -TERM "$PROXY_PID"
wait_exit proxy 10
rc=$?
if ((rc != 0)); then
	record FAIL "proxy SIGTERM" "exit status $rc, not 0"
elif [[ -e $SOCK ]]; then
	record FAIL "proxy SIGTERM" "it left its socket $SOCK behind"
else
	record PASS "proxy exits 0 on SIGTERM and removes its socket" ""
fi

printf '%s\n' "${RESULTS[@]}" >&2
log "$N_PASS passed, $N_FAIL failed"
((N_FAIL == 0)) || fail "$N_FAIL of $((N_PASS + N_FAIL)) checks failed"
pass "every hostile message was refused, the proxy and sway went on"
