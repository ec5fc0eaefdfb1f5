#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds a vmapp guest image from Debian 12 packages with mmdebstrap:
# systemd, the Debian kernel, the packages asked for, the user `app`
# (uid 1000, in the group audio), vmapp-agent at /usr/local/bin/vmapp-agent,
# its units: on virtio-serial vmapp-agent.service, started by the udev rule
# that gives app the port (60-vmapp-serial.rules), on vsock
# vmapp-agent-vsock.service (next to this script), trimmed to boot fast
# under TCG (units and drivers the VM does not need, a small initramfs).
# What the VM's devices need, each idle in a VM without that device:
#   - network=nat: systemd-networkd, DHCP on virtio-net
#     (vmapp-network.network), the name server 10.0.2.3 in a fixed
#     /etc/resolv.conf, no unit waiting for the network;
#   - share=: the folder mounted on /home/app/share, virtiofs or 9p
#     (vmapp-share.service runs vmapp-mount-share);
#   - audio=: alsa-utils (aplay, speaker-test) and the HDA driver.
#
#   build-image.sh OUTDIR [--agent PATH] [--packages "foot fonts-dejavu-core"]
#
# OUTDIR gets what vmspawn boots directly (no boot loader): vmlinuz,
# initrd.img, root.img (ext4, the whole disk: root=/dev/vda) and
# manifest (what was asked, the hashes, every package installed).  The
# agent defaults to build/agent/vmapp-agent of this tree; it links only
# glibc, and the guest is the same Debian release as the build host.
#
# Two steps, each kept for the next run:
#   1. mmdebstrap makes the base tree (OUTDIR/base.tar, a few minutes):
#      Debian and the user, no agent.  Redone only when the packages or
#      the mmdebstrap command (its hooks included) change.
#   2. The base is unpacked, the agent, the files next to this script
#      (guest_files below) and the boot trimming are put in, and
#      mkfs.ext4 -d makes root.img (about 20 s).  Redone when the agent
#      binary, this script or one of those files change.
# When OUTDIR/manifest matches the request, nothing is done ("reusing").
#
# As root, mmdebstrap runs in root mode and the tree is unpacked as is.
# As another user, mmdebstrap's unshare mode and step 2 run in a user
# namespace (unshare --map-auto): both need subordinate ids in
# /etc/subuid and /etc/subgid.
#
# Exit status: 0 when the image is there; 1 when building failed; 2 for
# a bad command line.
set -euo pipefail
# mkfs.ext4 is in /usr/sbin, not on every user's PATH.
PATH=$PATH:/usr/sbin:/sbin

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# What step 2 puts into the tree from next to this script: all of them
# are in step 2's key.
guest_files=(vmapp-agent.service vmapp-agent-vsock.service vmapp-agent-vsock
	60-vmapp-serial.rules vmapp-network.network vmapp-share.service vmapp-mount-share)
prog=build-image

say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { say "$*"; exit 1; }
usage() {
	printf 'usage: %s OUTDIR [--agent PATH] [--packages "PKG..."]\n' "$0" >&2
	exit 2
}

# --- step 2, run as root or inside the user namespace ------------------
#
# stage2 BASE_TAR TREE AGENT OUTDIR: unpack, customise with the
# guest_files of $here, make the root file system (OUTDIR/root.img.new)
# and copy the kernel and initrd out (OUTDIR/*.new); removes TREE when
# done.
stage2() {
	local base=$1 root=$2 agent=$3 out=$4
	mkdir "$root"
	tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -xpf "$base"

	install -D -m 0755 "$agent" "$root/usr/local/bin/vmapp-agent"
	# Debian calls its Firefox firefox-esr: `vmapp-proxy --vm work firefox`
	# finds it by the name everyone uses.
	if [[ -x $root/usr/bin/firefox-esr && ! -e $root/usr/bin/firefox ]]; then
		ln -sfn /usr/bin/firefox-esr "$root/usr/local/bin/firefox"
	fi
	install -D -m 0644 "$here/vmapp-agent.service" "$root/etc/systemd/system/vmapp-agent.service"
	install -D -m 0644 "$here/60-vmapp-serial.rules" "$root/etc/udev/rules.d/60-vmapp-serial.rules"
	# On vsock (the kernel command line has vmapp.vsock_port=) the
	# agent starts with the boot; on virtio-serial udev starts it when
	# the port is there.
	install -D -m 0644 "$here/vmapp-agent-vsock.service" \
		"$root/etc/systemd/system/vmapp-agent-vsock.service"
	install -D -m 0755 "$here/vmapp-agent-vsock" "$root/usr/local/libexec/vmapp-agent-vsock"
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
	ln -sfn ../vmapp-agent-vsock.service \
		"$root/etc/systemd/system/multi-user.target.wants/vmapp-agent-vsock.service"

	# network=nat: networkd, DHCP on the virtio NIC; the name server is
	# QEMU's.  Nothing waits for the network to be up (wait-online is
	# masked): an app that wants it retries, and a VM without a NIC
	# boots as it did.
	install -D -m 0644 "$here/vmapp-network.network" "$root/etc/systemd/network/80-vmapp.network"
	mkdir -p "$root/etc/systemd/system/sockets.target.wants"
	ln -sfn /lib/systemd/system/systemd-networkd.service \
		"$root/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
	ln -sfn /lib/systemd/system/systemd-networkd.socket \
		"$root/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
	ln -sfn /dev/null "$root/etc/systemd/system/systemd-networkd-wait-online.service"
	rm -f "$root/etc/resolv.conf"
	echo 'nameserver 10.0.2.3' >"$root/etc/resolv.conf"

	# share=: the mount point is app's, so that without a share it is an
	# empty folder app can use; with one, the host's folder covers it.
	install -D -m 0644 "$here/vmapp-share.service" "$root/etc/systemd/system/vmapp-share.service"
	install -D -m 0755 "$here/vmapp-mount-share" "$root/usr/local/libexec/vmapp-mount-share"
	ln -sfn ../vmapp-share.service \
		"$root/etc/systemd/system/multi-user.target.wants/vmapp-share.service"
	install -d -m 0755 -o 1000 -g 1000 "$root/home/app/share"

	# Booting under TCG is many times slower than under KVM: every unit
	# this VM does not need is masked.  Kept: udev (it makes
	# /dev/virtio-ports/vmapp), journald, and the getty on the serial
	# console, for a look at a guest that went wrong.
	local u
	for u in \
		getty@tty1.service getty-static.service \
		systemd-logind.service \
		systemd-timesyncd.service \
		apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
		e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer \
		systemd-tmpfiles-clean.timer \
		systemd-pstore.service systemd-binfmt.service \
		proc-sys-fs-binfmt_misc.automount \
		sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
		sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount \
		systemd-machine-id-commit.service systemd-firstboot.service; do
		ln -sfn /dev/null "$root/etc/systemd/system/$u"
	done
	# Each boot of a fresh overlay would be "the first after an update"
	# (ConditionNeedsUpdate: no /etc/.updated) and rebuild the hwdb, the
	# ld.so cache and the journal catalog: seconds under TCG, for what
	# the packages' own scripts already made here.
	for u in systemd-hwdb-update.service ldconfig.service \
		systemd-journal-catalog-update.service systemd-update-done.service; do
		ln -sfn /dev/null "$root/etc/systemd/system/$u"
	done

	# udev loads a driver for every device and CPU feature it finds; the
	# VM uses none of these (KVM in the guest, a watchdog, the PC speaker,
	# CPU frequency and crypto drivers), and each costs time under TCG.
	# Not here, and needed: snd_hda_intel (audio=), virtio_net,
	# 9pnet_virtio and virtiofs.
	mkdir -p "$root/etc/modprobe.d"
	printf 'blacklist %s\n' kvm kvm_intel kvm_amd iTCO_wdt iTCO_vendor_support pcspkr \
		powernow_k8 acpi_cpufreq aesni_intel ghash_clmulni_intel sha512_ssse3 \
		crc32_pclmul polyval_clmulni joydev evdev serio_raw \
		>"$root/etc/modprobe.d/vmapp-not-needed.conf"

	# A machine id of its own for the image: not a first boot.
	od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$root/etc/machine-id"
	echo >>"$root/etc/machine-id"
	echo vmapp >"$root/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tvmapp\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
		>"$root/etc/hosts"
	# The kernel mounts the root read-write (root=/dev/vda rw); no fsck.
	printf '/dev/vda\t/\text4\trw,noatime\t0\t0\n' >"$root/etc/fstab"
	mkdir -p "$root/etc/systemd/journald.conf.d" "$root/etc/systemd/system.conf.d"
	printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/vmapp.conf"
	# The kernel command line is vmspawn's (quiet): status lines only
	# for what fails, and no waiting on a slow unit for long.
	printf '[Manager]\nShowStatus=auto\nDefaultTimeoutStartSec=60s\n' \
		>"$root/etc/systemd/system.conf.d/vmapp.conf"

	local kernel initrd
	kernel=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
	initrd=$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n 1)
	[[ -n $kernel && -n $initrd ]] || { echo "no kernel or initrd in /boot of the image" >&2; return 1; }
	cp "$kernel" "$out/vmlinuz.new"
	cp "$initrd" "$out/initrd.img.new"
	chmod 0644 "$out/vmlinuz.new" "$out/initrd.img.new"

	dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Package} ${Version}\n' \
		>"$out/packages.new"

	# Sparse: the content plus half again and 512 MiB for the apps' files
	# (a VM writes to its own overlay of this image, not to it).
	local used size
	used=$(du -s --block-size=1M "$root" | cut -f1)
	size=$(((used * 3 / 2 + 512 + 255) / 256 * 256))
	rm -f "$out/root.img.new"
	mkfs.ext4 -q -F -L vmapp-root -d "$root" "$out/root.img.new" "${size}M" >/dev/null
	rm -rf "$root"
}

if [[ ${1:-} == --stage2 ]]; then
	shift
	stage2 "$@"
	exit
fi

# --- the command line ---------------------------------------------------

outdir='' agent='' packages='foot fonts-dejavu-core'
while (($#)); do
	case $1 in
	--agent) (($# >= 2)) || usage; agent=$2; shift 2 ;;
	--agent=*) agent=${1#*=}; shift ;;
	--packages) (($# >= 2)) || usage; packages=$2; shift 2 ;;
	--packages=*) packages=${1#*=}; shift ;;
	-h | --help) usage ;;
	-*) say "unknown option $1"; usage ;;
	*) [[ -z $outdir ]] || usage; outdir=$1; shift ;;
	esac
done
[[ -n $outdir ]] || usage
agent=${agent:-$here/../../build/agent/vmapp-agent}
[[ -f $agent && -x $agent ]] || die "no agent binary at $agent (build it: meson compile -C build)"
for f in "${guest_files[@]}"; do
	[[ -f $here/$f ]] || die "no $here/$f"
done
# Package names as Debian spells them; anything else would reach
# mmdebstrap's --include as something else.
read -r -a pkgs <<<"$packages"
for p in "${pkgs[@]}"; do
	[[ $p =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "not a Debian package name: '$p'"
done
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)

for tool in mkfs.ext4 tar sha256sum dpkg-query; do
	command -v "$tool" >/dev/null || die "$tool is missing (apt-get install e2fsprogs tar coreutils dpkg)"
done

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
# One build at a time per OUTDIR: two tests starting together wait.
exec 9>"$outdir/.lock"
flock 9

hash() { sha256sum "$@" | cut -d' ' -f1; }

# --- step 1: the base tree ------------------------------------------------

# Everything that goes into the base, hooks included, is in mm_args: its
# hash is the base's key.  The hooks run in the chroot's parent; "$1" is
# the tree.
# alsa-utils: aplay and speaker-test for audio=; systemd has networkd.
includes=(systemd systemd-sysv udev linux-image-amd64 passwd alsa-utils "${pkgs[@]}")
# shellcheck disable=SC2016 # "$1" is for mmdebstrap's hook shell
mm_args=(
	--variant=apt
	--components=main
	"--include=$(IFS=,; echo "${includes[*]}")"
	# Nobody reads documentation in the VM; smaller is faster to copy.
	--dpkgopt='path-exclude=/usr/share/man/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-include=/usr/share/locale/locale.alias'
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
	# audio: the sound devices are root:audio 0660 (no logind here).
	--customize-hook='chroot "$1" useradd --uid 1000 --user-group --groups audio --create-home --shell /bin/bash app'
	# The root is always virtio-blk and ext4: an initramfs with only their
	# drivers is 6 MB instead of 36, and boots seconds sooner under TCG.
	--customize-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/vmapp.conf"'
	--customize-hook='printf "%s\n" virtio_pci virtio_blk ext4 >>"$1/etc/initramfs-tools/modules"'
	--customize-hook='chroot "$1" update-initramfs -u -k all'
	bookworm
)
base_key=$(printf '%s\n' "base 1" "${mm_args[@]}" | hash)
base=$outdir/base.tar

mode=root
((EUID == 0)) || mode=unshare

if [[ -f $base && $(cat "$outdir/base.key" 2>/dev/null) == "$base_key" ]]; then
	build_base=0
else
	build_base=1
fi

# --- step 2's key: the whole request ---------------------------------------

agent_hash=$(hash "$agent")
script_hash=$(cd "$here" && cat build-image.sh "${guest_files[@]}" | hash)
request=$(printf '%s\n' "base $base_key" "agent $agent_hash" "script $script_hash" | hash)
if ((!build_base)) && [[ -f $outdir/manifest && -f $outdir/root.img && -f $outdir/vmlinuz &&
	-f $outdir/initrd.img ]] &&
	grep -qx "request $request" "$outdir/manifest"; then
	say "reusing $outdir (packages: ${pkgs[*]}; agent $agent_hash)"
	exit 0
fi

tmp=$(mktemp -d "$outdir/.build.XXXXXX")
cleanup() {
	if [[ -d $tmp/root ]]; then
		# Files of other owners, in the user namespace's ids.
		if ((EUID == 0)); then
			rm -rf "$tmp/root"
		else
			unshare --user --map-auto --map-root-user rm -rf "$tmp/root" || true
		fi
	fi
	rm -rf "$tmp"
	rm -f "$outdir"/*.new
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

started=$SECONDS
if ((build_base)); then
	command -v mmdebstrap >/dev/null ||
		die "mmdebstrap is missing: apt-get install mmdebstrap (scripts/install-deps.sh installs it)"
	say "building the guest image with mmdebstrap (a few minutes)..."
	rm -f "$outdir/base.key"
	if ! mmdebstrap --mode="$mode" --quiet "${mm_args[@]}" "$tmp/base.tar" \
		>"$tmp/mmdebstrap.log" 2>&1; then
		tail -n 30 "$tmp/mmdebstrap.log" >&2
		die "mmdebstrap failed (the lines above are the end of its log)"
	fi
	mv "$tmp/base.tar" "$base"
	echo "$base_key" >"$outdir/base.key"
	say "mmdebstrap took $((SECONDS - started)) s"
fi

say "making the root filesystem..."
if ((EUID == 0)); then
	stage2 "$base" "$tmp/root" "$agent" "$outdir"
else
	command -v unshare >/dev/null || die "unshare is missing (util-linux)"
	unshare --user --map-auto --map-root-user \
		bash "$here/build-image.sh" --stage2 "$base" "$tmp/root" "$agent" "$outdir"
fi

{
	echo "vmapp-image 1"
	echo "request $request"
	echo "packages ${pkgs[*]}"
	echo "agent $agent_hash"
	echo "script $script_hash"
	echo "base $base_key"
	for f in vmlinuz initrd.img root.img; do
		echo "sha256 $(hash "$outdir/$f.new") $f"
	done
	echo "installed:"
	cat "$outdir/packages.new"
} >"$outdir/manifest.new"
rm -f "$outdir/manifest"
for f in vmlinuz initrd.img root.img; do
	mv "$outdir/$f.new" "$outdir/$f"
done
rm -f "$outdir/packages.new"
mv "$outdir/manifest.new" "$outdir/manifest"
say "done in $((SECONDS - started)) s: $outdir (root.img $(du -h --apparent-size "$outdir/root.img" | cut -f1), packages: ${pkgs[*]})"
