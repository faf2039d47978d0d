#!/usr/bin/env bash
# HProbe guest lab: builds the reproducible test guest and boots it under QEMU.
#
#   lab.sh build            build (or reuse) the cached guest; prints its directory
#   lab.sh dir              print the guest directory if it is built (exit 1 if not)
#   lab.sh accel            print the accelerator "run" would use (kvm or tcg)
#   lab.sh run --dir RUNDIR [options]   boot the guest (exec's QEMU in the foreground)
#
# The guest is cached in ${HPROBE_CACHE:-~/.cache/hprobe}/guest/<key>, where the key
# hashes the Debian package versions and our own sources: it is rebuilt only when
# one of them changes. Nothing downloaded or built is ever written into the repo.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${HPROBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hprobe}
log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }'; }

# The kernel is whatever Debian's linux-image-amd64 points at (stable suite, not backports).
kernel_pkg() {
	[ -n "${HPROBE_KERNEL_PKG:-}" ] && { echo "$HPROBE_KERNEL_PKG"; return; }
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

guest_key() {
	local kpkg=$1
	{
		echo "kernel=$kpkg $(candidate "$kpkg")"
		echo "busybox=$(candidate busybox-static)"
		gcc --version | head -n1
		(cd "$here" && LC_ALL=C find lab.sh apps rootfs -type f | LC_ALL=C sort | xargs sha256sum)
	} | sha256sum | cut -c1-16
}

# The bzImage payload is XZ-compressed (Debian config): find the stream and inflate it.
extract_vmlinux() {
	local vmlinuz=$1 out=$2 off
	for off in $(grep -abo $'\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1); do
		tail -c +$((off + 1)) "$vmlinuz" | xz -dc 2>/dev/null > "$out" || true
		if [ "$(head -c4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			return 0
		fi
	done
	die "no XZ-compressed ELF payload in $vmlinuz"
}

# The C string at a symbol, read from the vmlinux file through its section table.
read_symbol_string() {
	local elf=$1 map=$2 sym=$3 addr sect vaddr off
	addr=0x$(awk -v s="$sym" '$3 == s { print $1; exit }' "$map")
	while read -r vaddr off size; do
		if (( addr >= 0x$vaddr && addr < 0x$vaddr + 0x$size )); then
			dd if="$elf" bs=1 skip=$(( addr - 0x$vaddr + 0x$off )) count=512 status=none |
				tr '\0' '\n' | head -n1
			return 0
		fi
	done < <(readelf -SW "$elf" | awk '$0 ~ /PROGBITS/ { for (i = 1; i <= NF; i++) if ($i == "PROGBITS") print $(i+1), $(i+2), $(i+3) }')
	die "symbol $sym not found in $elf"
}

build_apps() {
	local out=$1 cflags="-O2 -g -Wall -Wextra -Werror -fno-omit-frame-pointer"
	mkdir -p "$out"
	for app in hb spin sysloop; do
		gcc $cflags -static -o "$out/$app" "$here/apps/$app.c"
	done
	# A position-independent twin of hb, for PIE application probes.
	gcc $cflags -static-pie -fPIE -o "$out/hb-pie" "$here/apps/hb.c"
	for extra in "$here"/apps/*.c; do
		local name; name=$(basename "$extra" .c)
		case $name in hb|spin|sysloop) continue ;; esac
		gcc $cflags -static -o "$out/$name" "$extra"
	done
}

make_initramfs() {
	local work=$1 out=$2 root=$1/root
	rm -rf "$root"; mkdir -p "$root"/{bin,sbin,usr/bin,proc,sys,dev,tmp,etc,lib/modules,apps,root}
	cp "$work/bb/bin/busybox" "$root/bin/busybox"
	install -m 0755 "$here/rootfs/init" "$root/init"
	cp "$here/rootfs/etc-profile" "$root/etc/profile"
	cp -r "$here/rootfs/www" "$root/www"
	cp "$work/apps/"* "$root/apps/"
	find "$work/k/lib/modules" -name e1000.ko -exec cp {} "$root/lib/modules/" \;
	echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
	# Reproducible archive: fixed owner, mtimes and order.
	find "$root" -exec touch -h -d @0 {} +
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
		gzip -n -9 > "$out"
}

# Boot once with nokaslr and read /proc/kallsyms through a second serial port.
dump_kallsyms() {
	local dir=$1 tmp=$2
	log "booting once to read the real kernel symbol table (about 30 s under TCG)"
	timeout 600 qemu-system-x86_64 -accel "$(pick_accel)" -m 512 -nodefaults -display none \
		-kernel "$dir/vmlinuz" -initrd "$dir/initramfs.cpio.gz" \
		-append "console=ttyS0 nokaslr quiet hprobe.dumpsyms" \
		-serial "file:$tmp/dump-console.log" -serial "file:$tmp/kallsyms" -no-reboot \
		|| die "symbol dump boot failed (see $tmp/dump-console.log)"
	grep -q HPROBE-SYMS-DONE "$tmp/dump-console.log" || die "symbol dump did not finish"
	tr -d '\r' < "$tmp/kallsyms" > "$dir/kallsyms"
	local n; n=$(wc -l < "$dir/kallsyms")
	[ "$n" -gt 50000 ] && grep -q ' linux_banner$' "$dir/kallsyms" ||
		die "symbol table looks wrong ($n lines)"
	# System.map format is the same text without module entries.
	grep -v '\[' "$dir/kallsyms" | LC_ALL=C sort > "$dir/System.map"
}

# KVM only when it can really run a guest: some sandboxes expose a /dev/kvm whose
# host CPU has no vmx/svm, and a guest started there never runs.
pick_accel() {
	if [ -n "${HPROBE_ACCEL:-}" ]; then echo "$HPROBE_ACCEL"
	elif [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then echo kvm
	else echo tcg; fi
}

cmd_build() {
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed"
	local kpkg key dir
	kpkg=$(kernel_pkg); [ -n "$kpkg" ] || die "cannot resolve linux-image-amd64 (apt-get update?)"
	key=$(guest_key "$kpkg")
	dir=$cache_root/guest/$key
	if [ -f "$dir/manifest.env" ]; then echo "$dir"; return 0; fi
	log "building guest $key ($kpkg) in $dir"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/hprobe-lab.XXXXXX")
	[ -n "${HPROBE_LAB_KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -q "$kpkg" busybox-static >/dev/null 2>&1) ||
		die "apt-get download $kpkg busybox-static failed"
	dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/k"
	dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/bb"
	mkdir -p "$dir.partial"
	local part=$dir.partial kver
	kver=$(basename "$(ls -d "$tmp"/k/lib/modules/*)")
	cp "$tmp/k/boot/vmlinuz-$kver" "$part/vmlinuz"
	cp "$tmp/k/boot/config-$kver" "$part/config"
	extract_vmlinux "$part/vmlinuz" "$part/vmlinux"
	build_apps "$tmp/apps"
	mkdir -p "$part/apps" && cp "$tmp/apps/"* "$part/apps/"
	make_initramfs "$tmp" "$part/initramfs.cpio.gz"
	dump_kallsyms "$part" "$tmp"
	local banner
	banner=$(read_symbol_string "$part/vmlinux" "$part/System.map" linux_banner)
	[[ $banner == "Linux version $kver "* ]] || die "unexpected linux_banner: $banner"
	cat > "$part/manifest.env" <<EOM
HPROBE_GUEST_KEY=$key
HPROBE_KERNEL_PKG=$kpkg
HPROBE_KERNEL_VERSION=$(candidate "$kpkg")
HPROBE_KERNEL_RELEASE=$kver
HPROBE_BUSYBOX_VERSION=$(candidate busybox-static)
HPROBE_BANNER='$banner'
EOM
	rm -rf "$dir" && mv "$part" "$dir"
	log "guest ready: $dir"
	echo "$dir"
}

cmd_dir() {
	local kpkg dir
	kpkg=$(kernel_pkg); dir=$cache_root/guest/$(guest_key "$kpkg")
	[ -f "$dir/manifest.env" ] || exit 1
	echo "$dir"
}

usage_run() {
	cat >&2 <<'EOU'
usage: lab.sh run --dir RUNDIR [--guest DIR] [--smp K] [--mem MB] [--no-kaslr]
                  [--no-gdb] [--http-port PORT] [--plugin SO[,ARGS]] [--accel kvm|tcg]
Creates in RUNDIR: qmp.sock, gdb.sock (unless --no-gdb), console.sock, console.log.
The guest prints "HPROBE-READY" on its console when it is up.
EOU
	exit 2
}

cmd_run() {
	local rundir="" guest="" smp=1 mem=512 kaslr=1 gdb=1 http="" plugin="" accel
	accel=$(pick_accel)
	while [ $# -gt 0 ]; do
		case $1 in
		--dir) rundir=$2; shift ;;
		--guest) guest=$2; shift ;;
		--smp) smp=$2; shift ;;
		--mem) mem=$2; shift ;;
		--no-kaslr) kaslr=0 ;;
		--no-gdb) gdb=0 ;;
		--http-port) http=$2; shift ;;
		--plugin) plugin=$2; shift ;;
		--accel) accel=$2; shift ;;
		*) usage_run ;;
		esac
		shift
	done
	[ -n "$rundir" ] || usage_run
	[ -n "$guest" ] || guest=$(cmd_dir) || die "guest not built: run lab.sh build"
	mkdir -p "$rundir"
	local append="console=ttyS0 quiet panic=-1"
	[ $kaslr = 1 ] || append="$append nokaslr"
	local args=(-name hprobe-lab -accel "$accel" -m "$mem" -smp "$smp" -nodefaults -display none
		-kernel "$guest/vmlinuz" -initrd "$guest/initramfs.cpio.gz" -append "$append"
		-qmp "unix:$rundir/qmp.sock,server=on,wait=off"
		-chardev "socket,id=con0,path=$rundir/console.sock,server=on,wait=off,logfile=$rundir/console.log,logappend=on"
		-serial chardev:con0)
	[ "$accel" = kvm ] && args+=(-cpu host)
	[ $gdb = 1 ] && args+=(-chardev "socket,id=gdb0,path=$rundir/gdb.sock,server=on,wait=off" -gdb chardev:gdb0)
	local fwd=""
	[ -n "$http" ] && fwd=",hostfwd=tcp:127.0.0.1:$http-10.0.2.15:80"
	args+=(-netdev "user,id=n0,restrict=off$fwd" -device e1000,netdev=n0)
	[ -n "$plugin" ] && args+=(-plugin "file=$plugin")
	exec qemu-system-x86_64 "${args[@]}"
}

case ${1:-} in
build) shift; cmd_build "$@" ;;
dir) shift; cmd_dir "$@" ;;
accel) pick_accel ;;
run) shift; cmd_run "$@" ;;
*) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
