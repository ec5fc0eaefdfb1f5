#!/bin/bash
# Installs the Debian 12 packages vmapp needs to build, run and test.
# Uses sudo when not run as root.  Usage: scripts/install-deps.sh [--no-tests]
set -euo pipefail

build=(
	meson ninja-build pkg-config gcc python3
	libwayland-dev libwayland-bin wayland-protocols libseccomp-dev
)
run=(
	foot
	# the VMs: QEMU, disk images, virtiofs shares
	qemu-system-x86 qemu-utils
	# guest images (vmspawn/image/build-image.sh): the Debian tree, its
	# ext4 root file system; uidmap for building as a user, not root
	mmdebstrap e2fsprogs uidmap
)
tests=(
	# compositors and apps
	sway weston foot gtk-3-examples firefox-esr
	# attackers and probes
	wtype grim wl-clipboard wlr-randr wev
	# helpers of the tests and benchmarks
	jq procps util-linux psmisc valgrind waypipe
	# the guest's test tone in QEMU's WAV output (its frequency)
	sox
	# fuzzing and the sanitizer build
	clang llvm libclang-rt-14-dev
	# fonts for apps to draw text with
	fonts-dejavu-core
	# man pages are checked to render
	man-db groff-base
)

packages=("${build[@]}" "${run[@]}")
if [[ ${1:-} != --no-tests ]]; then
	packages+=("${tests[@]}")
fi

sudo=()
if [[ $(id -u) != 0 ]]; then
	sudo=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	echo "install-deps: everything is installed"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
# No recommends: sway would bring Xwayland and a desktop's worth of extras.
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
