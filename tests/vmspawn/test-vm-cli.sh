#!/bin/bash
# vmapp-vm's commands as a user meets them, in a private XDG_CONFIG_HOME and
# XDG_STATE_HOME: create with defaults and with settings, show (pasteable,
# the same as the file), list, set (one key changed, the rest and the
# comments kept, a bad value leaving the file byte for byte), names that
# break the rule refused with nothing written, delete (the definition and
# the state folder, nothing outside them), broken files reported with
# FILE:LINE, help and exit statuses.
. "$(dirname "$0")/../integration/lib.sh"

VM=${VMAPP_VM:-$LIB_DIR/../../build/vmspawn/vmapp-vm}
[[ -x $VM ]] || hard_error "no vmapp-vm at $VM (set VMAPP_VM)"

export HOME=$T/home XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state
unset XDG_DATA_HOME
mkdir "$HOME"
CONF=$XDG_CONFIG_HOME/vmapp
STATE=$XDG_STATE_HOME/vmapp
errors=0

bad() {
	log "FAIL $*"
	errors=$((errors + 1))
}

# check DESCRIPTION WANT_STATUS REGEX -- CMD...: the exit status, and REGEX
# (when not empty) in stdout or stderr.  An error is lines of
# "vmapp-vm: ..." on stderr, nothing on stdout.
check() {
	local what=$1 want=$2 re=$3
	shift 4
	"$@" >"$T/cli.out" 2>"$T/cli.err"
	local rc=$?
	if [[ $rc != "$want" ]]; then
		bad "$what: exit $rc, want $want; stderr: $(head -c 400 "$T/cli.err")"
	elif [[ -n $re ]] && ! grep -Eq -- "$re" "$T/cli.err" "$T/cli.out"; then
		bad "$what: output lacks /$re/: $(head -c 400 "$T/cli.err" "$T/cli.out")"
	elif [[ $want != 0 ]] && ! grep -q Usage "$T/cli.err" &&
		{ [[ ! -s $T/cli.err ]] || grep -qv '^vmapp-vm: ' "$T/cli.err" || [[ -s $T/cli.out ]]; }; then
		bad "$what: the error is not lines of 'vmapp-vm: ...' on stderr alone: $(cat "$T/cli.err" "$T/cli.out")"
	else
		log "ok $what"
	fi
}

# same DESCRIPTION FILE EXPECTED_FILE: byte for byte.
same() {
	if cmp -s "$2" "$3"; then
		log "ok $1"
	else
		bad "$1: $(diff "$3" "$2" 2>&1 | head -20)"
	fi
}

# expect DESCRIPTION FILE <<EOF: FILE holds exactly the text given.
expect() {
	cat >"$T/expected"
	same "$1" "$2" "$T/expected"
}

# Everything under the private folders, to show that nothing changed.
snapshot() {
	(cd "$T" && find home config state -printf '%p %s %T@\n' 2>/dev/null | sort)
}

defaults() { # NAME
	cat <<EOF
# vmapp VM '$1': see vmapp-vm(5)
memory = 2G
cpus = 2
image = default
accel = auto
network = off
audio = off
audio_backend = pulseaudio
share = none
share_mode = auto
transport = auto
policy = default
colour = none
packages = foot fonts-dejavu-core
EOF
}

# --- help, version, usage errors ---------------------------------------

check "--help" 0 "^Usage: vmapp-vm " -- "$VM" --help
for c in "create NAME \[KEY=VALUE\.\.\.\]" "list" "show NAME" "set NAME KEY=VALUE\.\.\." "delete NAME" \
	"start NAME" "stop NAME"; do
	grep -Eq "^  $c " "$T/cli.out" || bad "--help lacks the command '$c'"
done
grep -Eq "125" "$T/cli.out" || bad "--help does not say the exit statuses"
cp "$T/cli.out" "$T/help.out"
check "help" 0 "^Usage: vmapp-vm " -- "$VM" help
same "help is --help" "$T/cli.out" "$T/help.out"
check "-h" 0 "^Usage: vmapp-vm " -- "$VM" -h
check "help set" 0 "^Usage: vmapp-vm set NAME KEY=VALUE" -- "$VM" help set
check "set --help" 0 "^Usage: vmapp-vm set NAME KEY=VALUE" -- "$VM" set --help
check "help of an unknown command" 2 "help takes one of the commands" -- "$VM" help frob
check "--version" 0 "^vmapp-vm [0-9]+\.[0-9]+" -- "$VM" --version
check "no command" 2 "give a command" -- "$VM"
check "unknown option" 2 "Usage" -- "$VM" --frobnicate list
check "unknown command" 2 "unknown command 'frob'" -- "$VM" frob
# start and stop of VMs that do not exist or with bad names (running VMs:
# tests/e2e/test-vm-proxy.sh).
check "start of no VM" 1 "no VM 'work' \(.*/work\.vm does not exist\)" -- "$VM" start work
check "stop of no VM" 1 "no VM 'work' \(.*/work\.vm does not exist\)" -- "$VM" stop work
check "start without a name" 2 "start takes one VM name" -- "$VM" start
check "stop with two names" 2 "stop takes one VM name" -- "$VM" stop a b
check "start with a bad name" 2 "VM name" -- "$VM" start ../x
check "stop with a bad name" 2 "VM name" -- "$VM" stop Work
check "create without a name" 2 "create needs a VM name" -- "$VM" create
check "show without a name" 2 "show takes one VM name" -- "$VM" show
check "show with two names" 2 "show takes one VM name" -- "$VM" show a b
check "list with an argument" 2 "list takes no arguments" -- "$VM" list work
check "set without settings" 2 "at least one setting" -- "$VM" set work
check "delete with two names" 2 "delete takes one VM name" -- "$VM" delete a b

# --- names that break the rule: refused, nothing written ---------------

long=$(printf 'a%.0s' {1..33})
names=("../x" "a/b" "" "$long" "Work" "-x" "x y" "." ".." "x.vm" "é")
for name in "${names[@]}"; do
	check "create '$name'" 2 "VM name.*(empty|has|longer than 32|starts with '-')" -- \
		"$VM" create "$name"
	grep -q "a VM name is 1 to 32 of a-z, 0-9 and '-', not starting with '-'" "$T/cli.err" ||
		bad "create '$name': the name rule is not said"
	check "create '$name' with settings" 2 "VM name" -- "$VM" create "$name" memory=4G
	check "create -- '$name'" 2 "VM name" -- "$VM" create -- "$name"
done
[[ -e $T/config || -e $T/state || -n $(ls -A "$HOME") ]] &&
	bad "a refused name left files: $(cd "$T" && find config state home 2>&1)"
[[ -e $T/config/x.vm || -e $T/x.vm || -e $T/config/vmapp/a ]] && bad "a name escaped its folder"

# --- list with nothing -------------------------------------------------

check "list, no folder" 0 "" -- "$VM" list
[[ -s $T/cli.out ]] && bad "list with no VMs printed: $(cat "$T/cli.out")"

# --- create and show ---------------------------------------------------

check "create work (defaults)" 0 "" -- "$VM" create work
defaults work | expect "work.vm holds every default" "$CONF/work.vm"
[[ $(stat -c %a "$CONF") == 700 ]] || bad "the config folder is mode $(stat -c %a "$CONF"), want 700"
[[ $(stat -c %a "$CONF/work.vm") == 600 ]] || bad "work.vm is mode $(stat -c %a "$CONF/work.vm"), want 600"
check "show work" 0 "" -- "$VM" show work
same "show work is the file create wrote" "$T/cli.out" "$CONF/work.vm"

check "create web with settings" 0 "" -- "$VM" create web memory=4G cpus=4 network=nat \
	audio=playback "share=$T/My Files" colour=#AABBCC
check "show web" 0 "" -- "$VM" show web
expect "show web: the settings given, the other keys' defaults" "$T/cli.out" <<EOF
# vmapp VM 'web': see vmapp-vm(5)
memory = 4G
cpus = 4
image = default
accel = auto
network = nat
audio = playback
audio_backend = pulseaudio
share = $T/My Files
share_mode = auto
transport = auto
policy = default
colour = #aabbcc
packages = foot fonts-dejavu-core
EOF
# Pasteable: show's output, saved as another VM's file, is that VM.
cp "$T/cli.out" "$T/web.show"
cp "$T/web.show" "$CONF/paste.vm"
check "show a pasted definition" 0 "" -- "$VM" show paste
sed "1s/'web'/'paste'/" "$T/web.show" >"$T/paste.expected"
same "show of show's output is the same definition" "$T/cli.out" "$T/paste.expected"
rm "$CONF/paste.vm"
check "create with memory in M" 0 "" -- "$VM" create mid memory=1536M
check "show mid" 0 "^memory = 1536M$" -- "$VM" show mid

# --- create refusals: nothing written ----------------------------------

cp "$CONF/work.vm" "$T/work.before"
before=$(snapshot)
check "create an existing VM" 1 "VM 'work' already exists" -- "$VM" create work
check "create an existing VM with settings" 1 "already exists" -- "$VM" create work memory=8G
same "the existing work.vm is untouched" "$CONF/work.vm" "$T/work.before"
check "create: bad memory" 2 "^vmapp-vm: memory '4096' is not a size \(digits, then M or G: 512M, 2G\)$" -- \
	"$VM" create new memory=4096
check "create: unknown key" 2 "unknown key 'frob' \(expected memory, cpus" -- "$VM" create new frob=1
check "create: bad network" 2 "bad network 'on' \(expected off or nat\)" -- "$VM" create new network=on
check "create: relative share" 2 "share 'Shared' is not an absolute path" -- "$VM" create new share=Shared
check "create: empty value" 2 "'cpus' needs a value" -- "$VM" create new cpus=
check "create: no '='" 2 "expected KEY=VALUE, not 'cpus'" -- "$VM" create new cpus
check "create: a key twice" 2 "'cpus' is given twice" -- "$VM" create new cpus=1 cpus=2
check "create: duplex on wav" 2 "audio duplex needs a backend that records" -- \
	"$VM" create new audio=duplex audio_backend=wav
check "create: a bad value after good ones" 2 "cpus '0' is out of range \(1 to 64\)" -- \
	"$VM" create new memory=4G cpus=0
[[ $before == "$(snapshot)" ]] || bad "a refused create changed files: $(diff <(echo "$before") <(snapshot))"

# --- list --------------------------------------------------------------

check "list" 0 "" -- "$VM" list
expect "list: one line per VM, sorted" "$T/cli.out" <<EOF
mid   stopped memory=1536M cpus=2 network=off audio=off share=none
web   stopped memory=4G cpus=4 network=nat audio=playback share=$T/My Files
work  stopped memory=2G cpus=2 network=off audio=off share=none
EOF
: >"$CONF/Bad.vm"
: >"$CONF/notes.txt"
: >"$CONF/work.vm.Xy12Ab"
check "list skips files that are not VMs" 0 "" -- "$VM" list
[[ $(wc -l <"$T/cli.out") == 3 ]] || bad "list shows files that are not VMs: $(cat "$T/cli.out")"
rm "$CONF/Bad.vm" "$CONF/notes.txt" "$CONF/work.vm.Xy12Ab"

# --- set ---------------------------------------------------------------

check "set work cpus=3" 0 "" -- "$VM" set work cpus=3
defaults work | sed 's/^cpus = 2$/cpus = 3/' | expect "set changed cpus and kept the rest" "$CONF/work.vm"
check "show after set" 0 "" -- "$VM" show work
same "show after set is the file" "$T/cli.out" "$CONF/work.vm"
check "set several" 0 "" -- "$VM" set work memory=2048M network=nat colour=#3366CC
defaults work | sed -e 's/^cpus = 2$/cpus = 3/' -e 's/^network = off$/network = nat/' \
	-e 's/^colour = none$/colour = #3366cc/' | expect "set wrote the values as show writes them" "$CONF/work.vm"

# A file written by hand: comments, blank lines, indentation and CR LF stay;
# a key not in the file is added at its end.
printf '# my own VM\n\n  memory = 1G\r\n# the network next\nnetwork = nat' >"$CONF/hand.vm"
check "set in a hand-written file" 0 "" -- "$VM" set hand audio=playback memory=3G
printf '# my own VM\n\n  memory = 3G\r\n# the network next\nnetwork = nat\naudio = playback\n' |
	expect "set kept the comments and the layout" "$CONF/hand.vm"

check "set hand audio=duplex" 0 "" -- "$VM" set hand audio=duplex
cp "$CONF/hand.vm" "$T/hand.before"
check "set: wav against the file's duplex" 2 "audio duplex needs a backend that records" -- \
	"$VM" set hand audio_backend=wav
same "the refused combination left hand.vm as it was" "$CONF/hand.vm" "$T/hand.before"

cp "$CONF/work.vm" "$T/work.before"
ino=$(stat -c %i "$CONF/work.vm")
before=$(snapshot)
check "set: bad memory" 2 "^vmapp-vm: memory '4096' is not a size" -- "$VM" set work memory=4096
check "set: bad cpus" 2 "cpus '0' is out of range" -- "$VM" set work cpus=0
check "set: bad colour" 2 "colour '#12345' is not #rrggbb or none" -- "$VM" set work colour=#12345
check "set: unknown key" 2 "unknown key 'ram'" -- "$VM" set work ram=4G
check "set: a path with .." 2 "policy '/etc/../x' has a '..' component" -- "$VM" set work policy=/etc/../x
check "set: share /" 2 "share '/' would show the guest the whole host" -- "$VM" set work share=/
check "set: a value with a newline" 2 "image value has the control character 0x0a" -- \
	"$VM" set work "image=/x
y"
check "set: a good value and a bad one" 2 "bad audio 'loud'" -- "$VM" set work cpus=5 audio=loud
check "set: a key twice" 2 "'cpus' is given twice" -- "$VM" set work cpus=5 cpus=6
check "set: no '='" 2 "expected KEY=VALUE" -- "$VM" set work cpus 5
check "set: duplex on wav" 2 "audio duplex needs a backend that records" -- \
	"$VM" set work audio=duplex audio_backend=wav
same "bad values left work.vm byte for byte" "$CONF/work.vm" "$T/work.before"
[[ $ino == "$(stat -c %i "$CONF/work.vm")" ]] || bad "a refused set replaced work.vm"
[[ $before == "$(snapshot)" ]] || bad "a refused set changed files: $(diff <(echo "$before") <(snapshot))"
check "set: no such VM" 1 "no VM 'nope'" -- "$VM" set nope cpus=2
[[ -e $CONF/nope.vm ]] && bad "set of a missing VM created it"
check "set: bad name" 2 "VM name '../work' has '.'" -- "$VM" set ../work cpus=4
same "set with a bad name left work.vm" "$CONF/work.vm" "$T/work.before"

# Sets at once: each change lands (they take turns on a lock).
"$VM" create busy || bad "create busy"
pids=()
for kv in memory=3G cpus=5 network=nat audio=playback colour=#010203 accel=tcg; do
	"$VM" set busy "$kv" &
	pids+=($!)
done
for pid in "${pids[@]}"; do
	wait "$pid" || bad "a set at the same time as others failed"
done
for line in "memory = 3G" "cpus = 5" "network = nat" "audio = playback" "colour = #010203" "accel = tcg"; do
	grep -qx "$line" "$CONF/busy.vm" || bad "a set at the same time as others was lost: $line"
done
for f in "$CONF"/*; do
	[[ $f == *.vm ]] || bad "a file that is not a definition was left in $CONF: $f"
done

# --- a broken file, edited by hand -------------------------------------

printf 'memory = 2G\n# fine so far\nnetwork = on\n' >"$CONF/broken.vm"
cp "$CONF/broken.vm" "$T/broken.before"
check "list with a broken file" 0 "" -- "$VM" list
grep -qx "broken  error: $CONF/broken.vm:3: bad network 'on' (expected off or nat)" "$T/cli.out" ||
	bad "list does not show broken.vm's FILE:LINE error: $(cat "$T/cli.out")"
grep -Eq "^work +stopped memory=2G cpus=3 network=nat " "$T/cli.out" || bad "a broken file hid the other VMs: $(cat "$T/cli.out")"
[[ $(wc -l <"$T/cli.out") == 6 ]] || bad "list: want 6 lines: $(cat "$T/cli.out")"
check "show a broken file" 1 "^vmapp-vm: $CONF/broken.vm:3: bad network 'on' \(expected off or nat\)$" -- \
	"$VM" show broken
check "set another key in a broken file" 1 "broken.vm:3: bad network 'on'" -- "$VM" set broken cpus=3
same "a set that does not mend it leaves the broken file" "$CONF/broken.vm" "$T/broken.before"
check "set mends the broken key" 0 "" -- "$VM" set broken network=nat
printf 'memory = 2G\n# fine so far\nnetwork = nat\n' | expect "the mended file kept its comment" "$CONF/broken.vm"
printf 'memory = 2G\nmemory = 3G\n' >"$CONF/broken.vm"
check "show a file with a key twice" 1 "broken.vm:2: duplicate 'memory' \(first at line 1\)" -- \
	"$VM" show broken
check "list a file with a key twice" 0 "^broken +error: .*broken.vm:2: duplicate 'memory'" -- "$VM" list
head -c 70000 /dev/zero | tr '\0' '#' >"$CONF/huge.vm"
check "show a file too large" 1 "huge.vm: larger than 65536 bytes" -- "$VM" show huge
check "list a file too large" 0 "^huge +error: .*huge.vm: larger than 65536 bytes$" -- "$VM" list

# --- delete ------------------------------------------------------------

mkdir -p "$STATE/work/logs" "$STATE/web" "$STATE/work-2" "$T/outside/dir"
echo disk >"$STATE/work/root.img"
echo log >"$STATE/work/logs/console.log"
echo keep >"$T/outside/keep"
echo keep >"$T/outside/dir/keep"
ln -s "$T/outside/keep" "$STATE/work/link-to-file"
ln -s "$T/outside/dir" "$STATE/work/link-to-dir"
ln -s "$T/outside/dir" "$STATE/work/logs/deeper-link"
echo web >"$STATE/web/root.img"
echo w2 >"$STATE/work-2/root.img"
check "delete work" 0 "" -- "$VM" delete work
[[ -e $CONF/work.vm ]] && bad "delete left work.vm"
[[ -e $STATE/work || -L $STATE/work ]] && bad "delete left the state folder: $(find "$STATE/work")"
[[ -f $T/outside/keep && -f $T/outside/dir/keep ]] || bad "delete followed a link out of the state folder"
[[ -f $STATE/web/root.img && -f $STATE/work-2/root.img ]] || bad "delete removed another VM's state"
[[ -f $CONF/web.vm && -f $CONF/hand.vm ]] || bad "delete removed another VM's definition"
check "delete work again" 1 "no VM 'work'" -- "$VM" delete work
check "show a deleted VM" 1 "no VM 'work'" -- "$VM" show work
check "delete a VM never made" 1 "no VM 'never'" -- "$VM" delete never
# The state folder itself a link: the link goes, its target stays.
"$VM" create linked || bad "create linked"
ln -s "$T/outside/dir" "$STATE/linked"
check "delete a VM whose state folder is a link" 0 "" -- "$VM" delete linked
[[ -e $STATE/linked || -L $STATE/linked ]] && bad "the state link is still there"
[[ -f $T/outside/dir/keep ]] || bad "delete followed the state folder's link"
check "delete a broken VM" 0 "" -- "$VM" delete huge
before=$(snapshot)
for name in "${names[@]}"; do
	check "delete '$name'" 2 "VM name" -- "$VM" delete "$name"
	check "show '$name'" 2 "VM name" -- "$VM" show "$name"
	check "set '$name'" 2 "VM name" -- "$VM" set "$name" cpus=2
done
check "delete a valid name with no definition" 1 "no VM 'vmapp'" -- "$VM" delete vmapp
[[ $before == "$(snapshot)" ]] || bad "a refused name changed files: $(diff <(echo "$before") <(snapshot))"
for name in web mid hand busy broken; do
	"$VM" delete "$name" || bad "delete $name"
done
check "list with every VM deleted" 0 "" -- "$VM" list
[[ -s $T/cli.out ]] && bad "list printed after every VM was deleted: $(cat "$T/cli.out")"

# --- where the files are -----------------------------------------------

check "a relative XDG_CONFIG_HOME is ignored" 0 "" -- env XDG_CONFIG_HOME=relative "$VM" create home
[[ -f $HOME/.config/vmapp/home.vm ]] || bad "create did not fall back to HOME/.config"
check "neither HOME nor XDG_CONFIG_HOME" 1 "XDG_CONFIG_HOME is not set and HOME is not an absolute path" -- \
	env -u HOME -u XDG_CONFIG_HOME "$VM" list
chmod 500 "$CONF"
if ! touch "$CONF/probe" 2>/dev/null; then
	check "create in a folder that can not be written" 1 "$CONF/ro.vm" -- "$VM" create ro
else
	rm -f "$CONF/probe"
	log "root ignores modes: the unwritable folder is not tried"
fi
chmod 700 "$CONF"

((errors == 0)) || fail "$errors check(s) failed"
pass "vmapp-vm creates, lists, shows, sets and deletes as its man page says"
