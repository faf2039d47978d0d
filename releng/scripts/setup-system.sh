#!/usr/bin/env bash
# Installs the Debian 12 packages HProbe builds, tests and runs with (idempotent).
# QEMU 10 comes from bookworm-backports: the suite is added on the mirror this
# machine already uses (never a host name written here). Needs root (uses sudo).
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

PACKAGES=(
	# build
	build-essential cmake pkg-config openjdk-17-jdk-headless
	libjansson-dev libelf-dev libbpf-dev libcapstone-dev zlib1g-dev
	clang libclang-rt-14-dev
	# guest lab
	busybox-static cpio xz-utils binutils
	# tests and tools used by them
	python3 xvfb xauth libgtk-3-0 babeltrace2 gdb socat procps util-linux
)

# The mirror of the machine's own "bookworm" suite, from deb822 or one-line sources.
mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }' "$f"
	done
	[ -e /etc/apt/sources.list ] &&
		awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list
}

add_backports() {
	if apt-cache policy 2>/dev/null | grep -q 'bookworm-backports'; then
		return
	fi
	local uri
	uri=$(mirror | head -n1)
	[ -n "$uri" ] || { echo "setup: cannot find the bookworm mirror in the apt sources" >&2; exit 1; }
	echo "setup: adding bookworm-backports from $uri (for QEMU 10)"
	$SUDO tee /etc/apt/sources.list.d/hprobe-backports.sources >/dev/null <<EOS
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
}

add_backports
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q -t bookworm-backports qemu-system-x86
$SUDO apt-get install -y -q "${PACKAGES[@]}"
qemu-system-x86_64 --version | head -n1
