# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# What the transport benchmark scripts share: figures (median, min, max,
# "median (min-max)" cells, ratios of medians), reading bench-client's
# "key value" lines, the header that says what ran where, and one private
# headless sway 1.7 (pixman) whose output refresh rate can be changed.
#
# The script that sources it sets BENCH_NAME (for messages) and WORK (a
# private folder it removes itself).

bench_fail() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
		END { if (NR == 0) print "nan";
		      else if (NR % 2) print a[(NR + 1) / 2];
		      else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
min_of() { printf '%s\n' "$@" | sort -g | head -1; }
max_of() { printf '%s\n' "$@" | sort -g | tail -1; }

# value KEY FILE: the value of bench-client's "KEY VALUE" line.
value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

wait_for() { # wait_for FILE: up to 10 s
	for _ in $(seq 200); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	echo "$BENCH_NAME: $1 did not appear" >&2
	return 1
}

# tree_pids PID...: the PIDs and all their descendants.
tree_pids() {
	ps -e -o pid=,ppid= | awk -v roots="$*" '
		{ parent[$1] = $2 }
		END {
			n = split(roots, r, " ")
			for (i = 1; i <= n; i++) want[r[i]] = 1
			for (p in parent)
				for (a = p; a != "" && a != 0 && a != 1; a = parent[a])
					if (a in want) { print p; break }
		}'
}

fmt() { # fmt LIST: "median (min-max)"
	[ -z "${1// /}" ] && { echo "-"; return; }
	# shellcheck disable=SC2086
	printf '%.1f (%.1f-%.1f)' "$(median $1)" "$(min_of $1)" "$(max_of $1)"
}

ratio() { # ratio LIST_A LIST_B: median(A) / median(B)
	if [ -z "${1// /}" ] || [ -z "${2// /}" ]; then echo "-"; return; fi
	# shellcheck disable=SC2086
	awk -v a="$(median $1)" -v b="$(median $2)" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}

# bench_header BUILD: the commit, date, machine (with its load average) and
# build type, one "key: value" line each.
bench_header() {
	echo "commit: $(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
		"$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "build: $1, buildtype $(python3 -c 'import json, sys
print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == "buildtype"))' \
		"$1/meson-info/intro-buildoptions.json" 2>/dev/null || echo unknown)"
}

# start_sway SIZE: a headless sway with one SIZE output, in $WORK/run;
# sets SWAY_PID and SWAY_DISPLAY (the socket's absolute path) and exports
# XDG_RUNTIME_DIR and SWAYSOCK.  The caller kills SWAY_PID.
start_sway() {
	mkdir -m 700 "$WORK/run"
	cat >"$WORK/sway.conf" <<-EOF
		xwayland disable
		output HEADLESS-1 resolution $1 background #203040 solid_color
		default_border none
		exec sh -c 'echo "\$WAYLAND_DISPLAY \$SWAYSOCK" > $WORK/env'
	EOF
	local unshare=()
	if [ "$(id -u)" = 0 ]; then unshare=(unshare --user); fi # sway refuses to run as root
	XDG_RUNTIME_DIR=$WORK/run WLR_BACKENDS=headless WLR_RENDERER=pixman \
		"${unshare[@]}" sway -c "$WORK/sway.conf" >"$WORK/sway.log" 2>&1 &
	# shellcheck disable=SC2034 # the caller's
	SWAY_PID=$!
	wait_for "$WORK/env" || return 1
	read -r SWAY_DISPLAY SWAYSOCK <"$WORK/env"
	export XDG_RUNTIME_DIR=$WORK/run SWAYSOCK
	SWAY_DISPLAY=$WORK/run/$SWAY_DISPLAY
}

# check_hz HZ...: wlroots 0.15 keeps the headless frame delay in whole ms:
# above 1000 Hz it is 0, the frame timer stops and the output never
# recovers.
check_hz() {
	local hz
	for hz in "$@"; do
		[ "$hz" -le 1000 ] || bench_fail "a refresh rate above 1000 Hz ($hz) stops the headless output"
	done
}

set_hz() { # set_hz SIZE HZ: the output's mode
	swaymsg -- output HEADLESS-1 mode --custom "$1@${2}Hz" >/dev/null ||
		bench_fail "sway refused mode $1@${2}Hz"
}
