#!/usr/bin/env bash
# HProbe guest lab: builds reproducible test guests and boots them under QEMU.
#
#   lab.sh build [--kernel SUITE]   build (or reuse) the cached guest; prints its directory
#   lab.sh dir [--kernel SUITE]     print the guest directory if it is built (exit 1 if not)
#   lab.sh kernels                  list the suites a guest kernel can come from
#   lab.sh accel                    print the accelerator "run" would use (kvm or tcg)
#   lab.sh run --dir RUNDIR [options]   boot the guest (exec's QEMU in the foreground)
#
# SUITE picks the Debian kernel (linux-image-amd64 of that suite); the default is
# $HPROBE_LAB_KERNEL, else bookworm. HPROBE_KERNEL_PKG names a kernel package instead.
# Packages come from the mirror this machine's apt already uses, through a private apt
# state in ${HPROBE_CACHE:-~/.cache/hprobe}/apt/<suite> (the machine's sources, lists and
# dpkg status are never read or written). Guests are cached in .../guest/<suite>-<key>, where the key hashes the package
# versions and our own sources. Nothing downloaded or built is ever written into the repo.
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${HPROBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hprobe}
log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

# The suites a guest kernel can come from; the first is the default.
SUITES=(bookworm bullseye bookworm-backports trixie sid)
# busybox-static comes from Debian 12 (the machine's own suite): the same for every kernel.
BUSYBOX_SUITE=bookworm
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# What this machine's apt sources say (the mirror is never a host name written here).
apt_sources_sh=$here/../../releng/scripts/apt-sources.sh
if [ -f "$apt_sources_sh" ]; then
	# shellcheck source=../../releng/scripts/apt-sources.sh
	. "$apt_sources_sh"
fi

# The Debian mirror: the one serving bookworm to this machine (HPROBE_LAB_MIRROR overrides).
main_mirror() {
	if [ -n "${HPROBE_LAB_MIRROR:-}" ]; then echo "${HPROBE_LAB_MIRROR%/}"; return 0; fi
	declare -F hp_apt_mirror >/dev/null ||
		die "$apt_sources_sh is missing: set HPROBE_LAB_MIRROR to a Debian mirror URI"
	hp_apt_mirror / ||
		die "no apt source of this machine serves Debian's bookworm suite: set HPROBE_LAB_MIRROR to a Debian mirror URI"
}

# The security mirror: the one serving bookworm-security to this machine (may be empty).
security_mirror() {
	[ -z "${HPROBE_LAB_MIRROR:-}" ] && declare -F hp_apt_entries >/dev/null || return 0
	hp_apt_entries / | awk '$2 == "bookworm-security" && !done { sub(/\/$/, "", $1); print $1; done = 1 }'
}

check_suite() {
	local s
	for s in "${SUITES[@]}"; do [ "$s" = "$1" ] && return 0; done
	die "unknown kernel suite '$1' (one of: ${SUITES[*]})"
}

# "--kernel SUITE" (or --kernel=SUITE) among the arguments; sets suite, leaves the rest in rest[].
suite=${HPROBE_LAB_KERNEL:-${SUITES[0]}}
rest=()
parse_kernel_opt() {
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel) [ $# -ge 2 ] || die "--kernel needs a suite"; suite=$2; shift ;;
		--kernel=*) suite=${1#--kernel=} ;;
		*) rest+=("$1") ;;
		esac
		shift
	done
	check_suite "$suite"
}

# The archive suites behind a lab suite, as "main NAME" or "security NAME" lines. A stable
# release's kernel moves on in -security (and in -updates at point releases).
archive_suites() {
	case $1 in
	bookworm-backports | sid) echo "main $1" ;;
	*) printf 'main %s\nmain %s-updates\nsecurity %s-security\n' "$1" "$1" "$1" ;;
	esac
}

# The private apt state of a suite: its own sources file, lists, caches and an empty dpkg
# status, so nothing of the machine's apt state is read or written. Sets st and APT.
apt_state() {
	st=$cache_root/apt/$1
	APT=(-o "Dir::Etc::SourceList=$st/sources.sources" -o Dir::Etc::SourceParts=/dev/null
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
		-o "Dir::State=$st/state" -o "Dir::State::Lists=$st/lists" -o "Dir::State::status=$st/status"
		-o "Dir::Cache=$st/cache" -o Dir::Cache::pkgcache=pkgcache.bin -o Dir::Cache::srcpkgcache=
		-o APT::Architecture=amd64 -o APT::Architectures=amd64 -o Acquire::Languages=none)
	local t
	for t in DEP-11 DEP-11-icons DEP-11-icons-small DEP-11-icons-large DEP-11-icons-hidpi \
		DEP-11-icons-large-hidpi Contents-deb Contents-udeb; do
		APT+=(-o "Acquire::IndexTargets::deb::$t::DefaultEnabled=false")
	done
}

# Runs "$@" holding the suite's apt lock (one apt-get update or resolution at a time).
with_apt_lock() {
	local fd rc
	mkdir -p "$st"
	exec {fd}>"$st/lock"
	flock "$fd"
	"$@"
	rc=$?
	exec {fd}>&-
	return $rc
}

# Makes the suite's package lists usable: writes its sources file and runs apt-get update
# when the lists are missing, when the last attempt is a day old, or when forced ($2 = 1).
# A failed update keeps older lists (with a warning); with no lists at all it is fatal.
apt_refresh() {
	apt_state "$1"
	with_apt_lock apt_refresh_locked "$1" "${2:-0}"
}
apt_refresh_locked() {
	local s=$1 force=$2 main sec kind name uri
	mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/state"
	[ -f "$st/status" ] || : > "$st/status"
	main=$(main_mirror) || exit 1
	sec=$(security_mirror)
	local left_out=""
	while read -r kind name; do
		uri=$main
		if [ "$kind" = security ]; then
			[ -n "$sec" ] || { left_out+=" $name"; continue; }
			uri=$sec
		fi
		printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n\n' "$uri" "$name" "$KEYRING"
	done < <(archive_suites "$s") > "$st/sources.new"
	if cmp -s "$st/sources.new" "$st/sources.sources"; then
		rm -f "$st/sources.new"
	else
		mv "$st/sources.new" "$st/sources.sources"
		[ -z "$left_out" ] || log "no security mirror in this machine's apt sources:$left_out left out"
		force=1
	fi
	[ -f "$st/updated" ] || force=1
	if [ "$force" = 0 ] && [ -n "$(find "$st/attempted" -mmin -1440 2>/dev/null)" ]; then
		return 0
	fi
	log "updating the package lists of $s (private apt state in $st)"
	touch "$st/attempted"
	if apt-get update -q "${APT[@]}" -o APT::Update::Error-Mode=any >"$st/update.log" 2>&1; then
		touch "$st/updated"
		rm -rf "$st/resolved"
	elif [ -f "$st/updated" ]; then
		log "warning: apt-get update for $s failed (see $st/update.log); using its lists of $(date -r "$st/updated" '+%F %R')"
	else
		die "apt-get update for $s failed (see $st/update.log)"
	fi
}

# The candidate version of a package in the current apt state (empty when there is none).
candidate() {
	apt-cache "${APT[@]}" policy "$1" 2>/dev/null |
		awk '/Candidate:/ && !done { if ($2 != "(none)") print $2; done = 1 }'
}

# "PACKAGE VERSION" lines for a suite's kernel: the linux-image package first (what
# linux-image-amd64 depends on, or HPROBE_KERNEL_PKG), then the packages of the same kernel
# release it depends on: from 7.x the image is a small package that depends on
# linux-binary-REL (vmlinuz), linux-modules-REL and linux-base-REL (config). Resolved once
# per update of the lists; never touches the network. Fails when the lists are missing.
resolve_kernel() {
	apt_state "$1"
	[ -f "$st/updated" ] || return 1
	with_apt_lock resolve_kernel_locked "${HPROBE_KERNEL_PKG:-linux-image-amd64}"
}
resolve_kernel_locked() {
	local out=$st/resolved/$1 lines
	if [ ! -s "$out" ]; then
		lines=$(kernel_packages "$1") || return 1
		mkdir -p "$st/resolved"
		printf '%s\n' "$lines" > "$out.tmp" && mv "$out.tmp" "$out"
	fi
	cat "$out"
}
kernel_packages() {
	local want=$1 kpkg rel p v
	if [ "$want" = linux-image-amd64 ]; then
		kpkg=$(apt-cache "${APT[@]}" depends linux-image-amd64 2>/dev/null |
			awk '$1 ~ /Depends:$/ && $2 ~ /^linux-image-[0-9]/ && !done { print $2; done = 1 }')
		[ -n "$kpkg" ] || { log "linux-image-amd64 has no linux-image dependency in $st"; return 1; }
	else
		kpkg=$want
	fi
	v=$(candidate "$kpkg")
	[ -n "$v" ] || { log "no package $kpkg in $st"; return 1; }
	echo "$kpkg $v"
	rel=${kpkg#linux-image-}
	for p in $(apt-cache "${APT[@]}" depends "$kpkg" 2>/dev/null |
		awk -v r="-$rel" '$1 ~ /Depends:$/ && length($2) > length(r) &&
			substr($2, length($2) - length(r) + 1) == r { print $2 }' | LC_ALL=C sort -u); do
		v=$(candidate "$p")
		[ -n "$v" ] || { log "no package $p in $st"; return 1; }
		echo "$p $v"
	done
}

# The busybox-static version (from BUSYBOX_SUITE's private state).
resolve_busybox() {
	apt_state "$BUSYBOX_SUITE"
	[ -f "$st/updated" ] || return 1
	with_apt_lock resolve_busybox_locked
}
resolve_busybox_locked() {
	local out=$st/resolved/busybox-static v
	if [ ! -s "$out" ]; then
		v=$(candidate busybox-static)
		[ -n "$v" ] || { log "no package busybox-static in $st"; return 1; }
		mkdir -p "$st/resolved"
		echo "$v" > "$out.tmp" && mv "$out.tmp" "$out"
	fi
	cat "$out"
}

# <suite>-<hash>: the hash covers the suite, the kernel and busybox package versions, the
# compiler and our own sources.
guest_key() {
	local s=$1 kernel=$2 busybox=$3
	printf '%s-' "$s"
	{
		echo "suite=$s"
		echo "kernel=$kernel"
		echo "busybox=$busybox"
		gcc --version | sed -n 1p
		(cd "$here" && LC_ALL=C find lab.sh apps rootfs -type f | LC_ALL=C sort | xargs sha256sum)
	} | sha256sum | cut -c1-16
}

# The bzImage payload: XZ up to 6.1 (Debian config), ZSTD from 6.12. Find a stream that
# inflates to a whole ELF file; prints its format.
extract_vmlinux() {
	local vmlinuz=$1 out=$2 fmt magic off
	local -a inflate
	for fmt in xz zstd gzip; do
		case $fmt in
		xz) magic=$'\xfd7zXZ'; inflate=(xz -dc --single-stream) ;;
		zstd) magic=$'\x28\xb5\x2f\xfd'; inflate=(zstd -dcq --no-progress) ;;
		gzip) magic=$'\x1f\x8b\x08'; inflate=(gzip -dc) ;;
		esac
		for off in $(LC_ALL=C grep -abo -F "$magic" "$vmlinuz" | cut -d: -f1); do
			tail -c +$((off + 1)) "$vmlinuz" | "${inflate[@]}" 2>/dev/null > "$out" || true
			if whole_elf "$out"; then
				echo "$fmt"
				return 0
			fi
		done
	done
	die "no XZ, ZSTD or gzip-compressed ELF payload in $vmlinuz"
}

# True when the file is an ELF64 whose section table fits in it (not a truncated stream).
whole_elf() {
	[ "$(head -c4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ] || return 1
	local shoff shentsize shnum
	shoff=$(od -An -j40 -N8 -tu8 "$1" | tr -d ' ')
	shentsize=$(od -An -j58 -N2 -tu2 "$1" | tr -d ' ')
	shnum=$(od -An -j60 -N2 -tu2 "$1" | tr -d ' ')
	[ -n "$shoff" ] && [ -n "$shnum" ] && [ $((shoff + shnum * shentsize)) -le "$(stat -c %s "$1")" ]
}

# The e1000 driver as a plain .ko (busybox insmod cannot load .ko.xz or .ko.zst).
# Prints how it was shipped; "builtin" when the kernel has it built in.
e1000_module() {
	local kroot=$1 config=$2 out=$3 ko
	ko=$(find "$kroot" -path '*/e1000/e1000.ko*' | sed -n 1p)
	if [ -z "$ko" ]; then
		grep -q '^CONFIG_E1000=y' "$config" && { echo builtin; return 0; }
		die "no e1000 module in the kernel packages"
	fi
	case $ko in
	*.ko) cp "$ko" "$out" ;;
	*.ko.xz) xz -dc "$ko" > "$out" ;;
	*.ko.zst) zstd -dcq "$ko" > "$out" ;;
	*.ko.gz) gzip -dc "$ko" > "$out" ;;
	*) die "unknown module format: $ko" ;;
	esac
	# The initramfs carries no other module: e1000 must need none.
	local deps
	deps=$(readelf -p .modinfo "$out" | sed -n 's/.*depends=//p')
	[ -z "$deps" ] || die "e1000 depends on modules the initramfs lacks: $deps"
	echo "${ko##*/e1000.}"
}

# The C string at a symbol, read from the vmlinux file through its section table.
read_symbol_string() {
	local elf=$1 map=$2 sym=$3 addr vaddr off size
	addr=0x$(awk -v s="$sym" '$3 == s { print $1; exit }' "$map")
	while read -r vaddr off size; do
		if (( addr >= 0x$vaddr && addr < 0x$vaddr + 0x$size )); then
			dd if="$elf" bs=1 skip=$(( addr - 0x$vaddr + 0x$off )) count=512 status=none |
				tr '\0' '\n' | sed -n 1p
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
	[ ! -f "$work/e1000.ko" ] || cp "$work/e1000.ko" "$root/lib/modules/e1000.ko"
	echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
	# Reproducible archive: fixed owner, mtimes and order.
	find "$root" -exec touch -h -d @0 {} +
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
		gzip -n -9 > "$out"
}

# Boot once with nokaslr and read /proc/kallsyms through a second serial port. The guest
# counts the lines it sent: all of them must have arrived.
dump_kallsyms() {
	local dir=$1 tmp=$2
	log "booting once to read the real kernel symbol table (30-90 s under TCG)"
	timeout 900 qemu-system-x86_64 -accel "$(pick_accel)" -m 512 -nodefaults -display none \
		-kernel "$dir/vmlinuz" -initrd "$dir/initramfs.cpio.gz" \
		-append "console=ttyS0 nokaslr quiet hprobe.dumpsyms" \
		-serial "file:$tmp/dump-console.log" -serial "file:$tmp/kallsyms" -no-reboot \
		|| die "symbol dump boot failed (see $tmp/dump-console.log)"
	local sent
	sent=$(tr -d '\r' < "$tmp/dump-console.log" | sed -n 's/.*HPROBE-SYMS-DONE lines=\([0-9]*\).*/\1/p' | tail -n1)
	[ -n "$sent" ] || die "symbol dump did not finish (see $tmp/dump-console.log)"
	tr -d '\r' < "$tmp/kallsyms" > "$dir/kallsyms"
	local n; n=$(wc -l < "$dir/kallsyms")
	# Debian's kernels list 94 k (6.1) to 199 k (7.2) symbols at this point, modules
	# unloaded; a failed read has a handful.
	[ "$n" -eq "$sent" ] && [ "$n" -gt 50000 ] && grep -q ' linux_banner$' "$dir/kallsyms" ||
		die "symbol table looks wrong ($n lines received, the guest sent $sent)"
	# System.map format is the same text without module entries.
	grep -v '\[' "$dir/kallsyms" | LC_ALL=C sort > "$dir/System.map"
	echo "$n"
}

# KVM only when it can really run a guest: some sandboxes expose a /dev/kvm whose
# host CPU has no vmx/svm, and a guest started there never runs.
pick_accel() {
	if [ -n "${HPROBE_ACCEL:-}" ]; then echo "$HPROBE_ACCEL"
	elif [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then echo kvm
	else echo tcg; fi
}

# Microseconds since the epoch, and the seconds since a mark (for the build's timings).
now_us() { echo "${EPOCHREALTIME/./}"; }
since() { local d=$(( $(now_us) - $1 )); printf '%d.%d' $((d / 1000000)) $((d / 100000 % 10)); }

# The resolved package versions of the suite's guest (sets kernel and busybox).
resolve_guest() {
	kernel=$(resolve_kernel "$suite") && busybox=$(resolve_busybox)
}

# Downloads the kernel's packages (from the suite) and busybox-static (from BUSYBOX_SUITE)
# into $1/debs and $1/bb-deb, at the resolved versions.
download() {
	local tmp=$1 p v
	local -a pkgs=()
	while read -r p v; do pkgs+=("$p=$v"); done <<< "$kernel"
	mkdir -p "$tmp/debs" "$tmp/bb-deb"
	apt_state "$suite"
	(cd "$tmp/debs" && apt-get download -q "${APT[@]}" -o APT::Sandbox::User=root "${pkgs[@]}") \
		>>"$tmp/download.log" 2>&1 || return 1
	apt_state "$BUSYBOX_SUITE"
	(cd "$tmp/bb-deb" && apt-get download -q "${APT[@]}" -o APT::Sandbox::User=root "busybox-static=$busybox") \
		>>"$tmp/download.log" 2>&1 || return 1
}

cmd_build() {
	parse_kernel_opt "$@"
	[ ${#rest[@]} -eq 0 ] || die "usage: lab.sh build [--kernel SUITE]"
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed"
	local key dir attempt t0 t lockfd timings=""
	t0=$(now_us)
	for attempt in 1 2; do
		apt_refresh "$suite" $((attempt - 1))
		[ "$suite" = "$BUSYBOX_SUITE" ] || apt_refresh "$BUSYBOX_SUITE" $((attempt - 1))
		if ! resolve_guest; then
			[ "$attempt" = 1 ] || die "cannot resolve the kernel of $suite (see $cache_root/apt/$suite/update.log)"
			log "cannot resolve the kernel of $suite: updating the package lists and trying again"
			continue
		fi
		key=$(guest_key "$suite" "$kernel" "$busybox")
		dir=$cache_root/guest/$key
		if [ -f "$dir/manifest.env" ]; then echo "$dir"; return 0; fi
		# One build at a time (the agent and the tests may ask together).
		if [ -z "${lockfd:-}" ]; then
			mkdir -p "$cache_root/guest"
			exec {lockfd}>"$cache_root/guest/.build.lock"
			flock "$lockfd"
			if [ -f "$dir/manifest.env" ]; then echo "$dir"; return 0; fi
		fi
		if [ -z "${tmp:-}" ]; then
			tmp=$(mktemp -d "${TMPDIR:-/tmp}/hprobe-lab.XXXXXX")
			[ -n "${HPROBE_LAB_KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
		fi
		log "building guest $key ($(head -n1 <<< "$kernel")) in $dir"
		[ -n "$timings" ] || timings=" lists=$(since "$t0")s"
		t=$(now_us)
		rm -rf "$tmp/debs" "$tmp/bb-deb"
		download "$tmp" && break
		[ "$attempt" = 1 ] || die "apt-get download failed (see $tmp/download.log, HPROBE_LAB_KEEP=1 keeps it)"
		log "download failed: updating the package lists and trying again"
	done
	timings+=" download=$(since "$t")s"
	t=$(now_us)
	local deb
	for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp/k"; done
	dpkg-deb -x "$tmp"/bb-deb/busybox-static_*.deb "$tmp/bb"
	local part=$dir.partial kver vmlinuz="" config="" f payload e1000
	rm -rf "$part"; mkdir -p "$part"
	# The kernel release is the one directory of modules (lib/modules or, merged, usr/lib/modules).
	kver=$(for f in "$tmp"/k/lib/modules/* "$tmp"/k/usr/lib/modules/*; do
		if [ -d "$f" ]; then basename "$f"; fi
	done | LC_ALL=C sort -u)
	[ -n "$kver" ] && [ "$(wc -l <<< "$kver")" = 1 ] || die "expected one kernel release in the packages, found: ${kver:-none}"
	for f in boot/vmlinuz-$kver usr/lib/modules/$kver/vmlinuz lib/modules/$kver/vmlinuz; do
		[ -f "$tmp/k/$f" ] && { vmlinuz=$tmp/k/$f; break; }
	done
	for f in boot/config-$kver usr/lib/modules/$kver/config lib/modules/$kver/config; do
		[ -f "$tmp/k/$f" ] && { config=$tmp/k/$f; break; }
	done
	[ -n "$vmlinuz" ] || die "no vmlinuz for $kver in the packages"
	[ -n "$config" ] || die "no config for $kver in the packages"
	cp "$vmlinuz" "$part/vmlinuz"
	cp "$config" "$part/config"
	payload=$(extract_vmlinux "$part/vmlinuz" "$part/vmlinux")
	e1000=$(e1000_module "$tmp/k" "$part/config" "$tmp/e1000.ko")
	timings+=" extract=$(since "$t")s"
	t=$(now_us)
	build_apps "$tmp/apps"
	mkdir -p "$part/apps" && cp "$tmp/apps/"* "$part/apps/"
	make_initramfs "$tmp" "$part/initramfs.cpio.gz"
	timings+=" apps+initramfs=$(since "$t")s"
	t=$(now_us)
	local nsyms
	nsyms=$(dump_kallsyms "$part" "$tmp")
	timings+=" dump-boot=$(since "$t")s"
	local banner
	banner=$(read_symbol_string "$part/vmlinux" "$part/System.map" linux_banner)
	[[ $banner == "Linux version $kver "* ]] || die "unexpected linux_banner: $banner"
	local kpkg kversion
	read -r kpkg kversion <<< "$kernel"
	cat > "$part/manifest.env" <<EOM
HPROBE_GUEST_KEY=$key
HPROBE_KERNEL_SUITE=$suite
HPROBE_KERNEL_PKG=$kpkg
HPROBE_KERNEL_VERSION=$kversion
HPROBE_KERNEL_DEBS='$(sed 's/ /=/' <<< "$kernel" | paste -sd' ')'
HPROBE_KERNEL_RELEASE=$kver
HPROBE_KERNEL_PAYLOAD=$payload
HPROBE_E1000_MODULE=$e1000
HPROBE_KALLSYMS_LINES=$nsyms
HPROBE_BUSYBOX_VERSION=$busybox
HPROBE_BANNER='$banner'
EOM
	rm -rf "$dir" && mv "$part" "$dir"
	log "guest ready: $dir"
	log "build times:$timings total=$(since "$t0")s"
	echo "$dir"
}

# The guest directory of the suite if it is built. Reads only the private apt state (no
# network): exit 1 when the suite's lists or its guest are not there yet.
cmd_dir() {
	parse_kernel_opt "$@"
	[ ${#rest[@]} -eq 0 ] || die "usage: lab.sh dir [--kernel SUITE]"
	local dir
	resolve_guest 2>/dev/null || exit 1
	dir=$cache_root/guest/$(guest_key "$suite" "$kernel" "$busybox")
	[ -f "$dir/manifest.env" ] || exit 1
	echo "$dir"
}

cmd_kernels() {
	printf '%s\n' "${SUITES[@]}"
}

usage_run() {
	cat >&2 <<'EOU'
usage: lab.sh run --dir RUNDIR [--guest DIR | --kernel SUITE] [--smp K] [--mem MB] [--no-kaslr]
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
		--kernel) suite=$2; shift ;;
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
	[ -n "$guest" ] || guest=$(cmd_dir --kernel "$suite") || die "guest not built: run lab.sh build --kernel $suite"
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
	# restrict=on: the guest reaches nothing of the host or beyond (with it off,
	# 10.0.2.2 is the host's loopback, every service there included); the host
	# reaches the guest's httpd through the one forward it asked for
	local fwd=""
	[ -n "$http" ] && fwd=",hostfwd=tcp:127.0.0.1:$http-10.0.2.15:80"
	args+=(-netdev "user,id=n0,restrict=on$fwd" -device e1000,netdev=n0)
	[ -n "$plugin" ] && args+=(-plugin "file=$plugin")
	exec qemu-system-x86_64 "${args[@]}"
}

case ${1:-} in
build) shift; cmd_build "$@" ;;
dir) shift; cmd_dir "$@" ;;
kernels) cmd_kernels ;;
accel) pick_accel ;;
run) shift; cmd_run "$@" ;;
*) sed -n '2,16p' "$0" >&2; exit 2 ;;
esac
