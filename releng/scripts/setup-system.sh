#!/usr/bin/env bash
# Installs the Debian 12 packages HProbe builds, tests and runs with (idempotent).
# QEMU 10 comes from bookworm-backports: the suite is added on the mirror this
# machine already uses (never a host name written here). Needs root, or sudo.
#
# For tests: HP_APT_ROOT (default /) is where etc/apt is read and the backports source
# written; HP_SETUP_DRY_RUN=1 prints the privileged commands instead of running them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=phase.sh
. "$here/phase.sh"
# shellcheck source=apt-sources.sh
. "$here/apt-sources.sh"

root=${HP_APT_ROOT:-/}
root=${root%/}

PACKAGES=(
	# build
	build-essential cmake pkg-config openjdk-17-jdk-headless
	libjansson-dev libelf-dev libdw-dev libbpf-dev libcapstone-dev zlib1g-dev libvirt-dev
	clang libclang-rt-14-dev clang-format-14
	# guest lab (zstd: the 6.12+ kernel images)
	busybox-static cpio xz-utils zstd binutils
	# tests and tools used by them
	python3 xvfb xauth libgtk-3-0 babeltrace2 gdb socat procps util-linux
	openbox x11-utils # a window manager under Xvfb, for screenshots as users see them (with-desktop.sh)
	bpftool # an independent reader of the guest kernels' BTF (test_hostile)
	python3-venv python3-setuptools python3-wheel # pip install ./python, offline (test_pyclient)
	libwrap0 # the unpacked sshd's one library openssh-client does not bring (test_sshd below)
)

LIBVIRT_PACKAGES=(libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null ||
		hp_die "installing packages needs root: run this as root, or install and configure sudo"
	SUDO=(sudo)
fi

# A privileged command, or its text in a dry run.
priv() {
	if [ -n "${HP_SETUP_DRY_RUN:-}" ]; then
		echo "would run: ${SUDO[*]} $*"
	else
		"${SUDO[@]}" "$@"
	fi
}

add_backports() {
	if hp_apt_has_suite bookworm-backports "$root/"; then
		echo "setup: bookworm-backports is already configured"
		return 0
	fi
	local uri
	uri=$(hp_apt_mirror "$root/") ||
		hp_die "no apt source serves Debian's bookworm suite (looked in $root/etc/apt/sources.list and $root/etc/apt/sources.list.d/*.sources, *.list): add one, then run this again"
	echo "setup: adding bookworm-backports from $uri (for QEMU 10)"
	local f=$root/etc/apt/sources.list.d/hprobe-backports.sources
	printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" |
		if [ -n "${HP_SETUP_DRY_RUN:-}" ]; then cat > "$f"; else "${SUDO[@]}" tee "$f" >/dev/null; fi
}

# sshd for the tests of agents over SSH (SshTunnelTest): unpacked from Debian's package,
# not installed, so that no ssh service starts and nothing listens on port 22.
SSHD_DIR=/opt/hprobe-test/openssh
test_sshd() {
	if [ -n "${HP_SETUP_DRY_RUN:-}" ]; then
		echo "would unpack openssh-server into $SSHD_DIR and add the system user sshd"
		return 0
	fi
	if [ ! -x /usr/sbin/sshd ] && [ ! -x "$SSHD_DIR/usr/sbin/sshd" ]; then
		local tmp
		tmp=$(mktemp -d)
		(cd "$tmp" && apt-get download -q openssh-server) || hp_die "cannot download openssh-server"
		priv mkdir -p "$SSHD_DIR"
		priv dpkg-deb -x "$tmp"/openssh-server_*.deb "$SSHD_DIR"
		rm -rf "$tmp"
	fi
	# sshd started as root hands the network to this unprivileged user
	getent passwd sshd >/dev/null ||
		priv useradd --system --no-create-home --home-dir /run/sshd --shell /usr/sbin/nologin sshd
}

add_backports
export DEBIAN_FRONTEND=noninteractive
priv apt-get update -q
priv apt-get install -y -q -t bookworm-backports qemu-system-x86
priv apt-get install -y -q "${PACKAGES[@]}"
# libvirtd for libvirt domains (and test_libvirt); without recommends, which would
# ask for bookworm's QEMU 7.2 metapackages next to backports' QEMU 10
priv apt-get install -y -q --no-install-recommends "${LIBVIRT_PACKAGES[@]}"
test_sshd
[ -n "${HP_SETUP_DRY_RUN:-}" ] || qemu-system-x86_64 --version | head -n1
