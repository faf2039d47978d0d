#!/usr/bin/env bash
# Tests of the setup logic that never touch this machine's apt configuration: every usual
# shape of a Debian 12 machine's apt sources is made in a temporary root, and the scripts
# are run against it (setup-system.sh in its dry-run mode). Also checks that a failure in
# each phase of demo.sh and test-all.sh names its phase.
set -uo pipefail
scripts=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hprobe-setup-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0

check() { # NAME EXPECTED ACTUAL
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok   $1"
	else
		echo "FAIL $1: expected [$2], got [$3]"
		fails=$((fails + 1))
	fi
}

contains() { # NAME NEEDLE HAYSTACK
	n=$((n + 1))
	case $3 in
	*"$2"*) echo "ok   $1" ;;
	*) echo "FAIL $1: [$2] not in output:"; printf '%s\n' "$3" | sed 's/^/       /'; fails=$((fails + 1)) ;;
	esac
}

# A fresh root with etc/apt/sources.list.d; files are added by each case.
mkroot() {
	local r=$tmp/$1
	mkdir -p "$r/etc/apt/sources.list.d"
	echo "$r"
}

DEB822_DEFAULT='Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'

mirror() { bash "$scripts/apt-sources.sh" mirror "$1" 2>&1; }
has() { bash "$scripts/apt-sources.sh" has "$1" "$2" && echo yes || echo no; }

# 1. Debian 12's default: deb822 only, no sources.list.
r=$(mkroot deb822)
printf '%s\n' "$DEB822_DEFAULT" > "$r/etc/apt/sources.list.d/debian.sources"
check "deb822 only: mirror" "http://deb.debian.org/debian" "$(mirror "$r")"
check "deb822 only: no backports" no "$(has bookworm-backports "$r")"

# 2. One-line sources.list only (an upgraded or hand-made machine), with options and comments.
r=$(mkroot oneline)
cat > "$r/etc/apt/sources.list" <<'EOF'
# deb http://commented.example/debian bookworm main
deb-src http://src.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian/ bookworm main contrib
deb http://security.debian.org/debian-security bookworm-security main
EOF
check "one-line only: mirror (options skipped, trailing / dropped)" "http://mirror.example/debian" "$(mirror "$r")"
check "one-line only: no backports" no "$(has bookworm-backports "$r")"

# 3. Both: deb822 first, the one-line file also read.
r=$(mkroot both)
printf '%s\n' "$DEB822_DEFAULT" > "$r/etc/apt/sources.list.d/debian.sources"
echo 'deb http://other.example/debian bookworm main' > "$r/etc/apt/sources.list"
check "both: mirror from deb822" "http://deb.debian.org/debian" "$(mirror "$r")"

# 4. Backports already configured, in either format.
r=$(mkroot bpo822)
printf '%s\n' "$DEB822_DEFAULT" > "$r/etc/apt/sources.list.d/debian.sources"
printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\n' \
	> "$r/etc/apt/sources.list.d/backports.sources"
check "backports (deb822): found" yes "$(has bookworm-backports "$r")"
r=$(mkroot bpolist)
echo 'deb http://deb.debian.org/debian bookworm main' > "$r/etc/apt/sources.list"
echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$r/etc/apt/sources.list.d/backports.list"
check "backports (one-line .list): found" yes "$(has bookworm-backports "$r")"

# 5. deb822 details: disabled stanzas, deb-src only, continuation lines, several URIs.
r=$(mkroot deb822-details)
cat > "$r/etc/apt/sources.list.d/debian.sources" <<'EOF'
# a disabled stanza first
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main

Types: deb deb-src
URIs: http://first.example/debian
 http://second.example/debian
Suites: bookworm-updates
 bookworm
Components: main
EOF
check "deb822: disabled and deb-src stanzas skipped, continuation lines read" \
	"http://first.example/debian" "$(mirror "$r")"
check "deb822: a disabled backports stanza does not count" no "$(has bookworm-backports "$r")"

# 6. No bookworm mirror at all: a clear message and a non-zero exit.
r=$(mkroot nomirror)
printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\n' \
	> "$r/etc/apt/sources.list.d/debian.sources"
out=$(bash "$scripts/apt-sources.sh" mirror "$r" 2>&1); rc=$?
check "no mirror: exit status" 1 "$rc"
contains "no mirror: message" "no bookworm mirror" "$out"
r=$(mkroot empty)
out=$(HP_APT_ROOT=$r HP_SETUP_DRY_RUN=1 bash "$scripts/setup-system.sh" 2>&1); rc=$?
check "setup, no sources at all: exit status" 1 "$rc"
contains "setup, no sources at all: says what is missing" "no apt source serves Debian's bookworm suite" "$out"

# 7. setup-system.sh end to end (dry run) on the deb822-only shape: adds backports on the
# machine's own mirror, then the apt commands; run again, it adds nothing.
r=$(mkroot setup822)
printf '%s\n' "$DEB822_DEFAULT" > "$r/etc/apt/sources.list.d/debian.sources"
out=$(HP_APT_ROOT=$r HP_SETUP_DRY_RUN=1 bash "$scripts/setup-system.sh" 2>&1); rc=$?
check "setup deb822: exit status" 0 "$rc"
contains "setup deb822: adds backports" "adding bookworm-backports from http://deb.debian.org/debian" "$out"
check "setup deb822: the source it wrote" "URIs: http://deb.debian.org/debian|Suites: bookworm-backports" \
	"$(grep -E '^(URIs|Suites):' "$r/etc/apt/sources.list.d/hprobe-backports.sources" | paste -sd'|')"
contains "setup deb822: installs QEMU from backports" "apt-get install -y -q -t bookworm-backports qemu-system-x86" "$out"
out=$(HP_APT_ROOT=$r HP_SETUP_DRY_RUN=1 bash "$scripts/setup-system.sh" 2>&1)
contains "setup deb822, second run: nothing added" "already configured" "$out"

# 8. Root or sudo: a user without sudo is told so; with sudo, apt runs through it.
if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null; then
	nosudo=$tmp/nosudo withsudo=$tmp/withsudo
	mkdir -p "$nosudo" "$withsudo"
	# what setup-system.sh runs in a dry run, and no sudo
	for c in bash sh env dirname basename id date awk cat tee head; do
		ln -s "$(command -v "$c")" "$nosudo/$c"
	done
	printf '#!/bin/sh\nexec "$@"\n' > "$withsudo/sudo"; chmod +x "$withsudo/sudo"
	r=$(mkroot user); printf '%s\n' "$DEB822_DEFAULT" > "$r/etc/apt/sources.list.d/debian.sources"
	chmod -R a+rwX "$tmp"
	out=$(runuser -u nobody -- env PATH="$nosudo" HP_APT_ROOT="$r" HP_SETUP_DRY_RUN=1 \
		bash "$scripts/setup-system.sh" 2>&1); rc=$?
	check "user without sudo: exit status" 1 "$rc"
	contains "user without sudo: message" "needs root" "$out"
	out=$(runuser -u nobody -- env PATH="$withsudo:$nosudo" HP_APT_ROOT="$r" HP_SETUP_DRY_RUN=1 \
		bash "$scripts/setup-system.sh" 2>&1); rc=$?
	check "user with sudo: exit status" 0 "$rc"
	contains "user with sudo: apt through sudo" "would run: sudo apt-get update -q" "$out"
else
	echo "FAIL root/sudo cases need root and runuser (CI runs as root)"
	fails=$((fails + 1))
fi

# 9. Every phase of demo.sh and test-all.sh names itself when it fails.
for script in demo test-all; do
	case $script in
	demo) phases="packages build guest agent vm workbench" ;;
	test-all) phases="packages guest tests" ;;
	esac
	for p in $phases; do
		out=$(bash -c "
			. '$scripts/$script.sh'
			for q in $phases; do eval \"phase_\$q() { :; }\"; done
			phase_$p() { echo doing $p; false; }
			main" 2>&1); rc=$?
		check "$script: failure in phase $p exits non-zero" 1 "$rc"
		want="$p"; [ "$p" = tests ] && want="build and tests"
		contains "$script: failure in phase $p is named" "phase \"$want\" failed" "$out"
	done
done

echo "$((n - fails))/$n checks passed"
[ "$fails" -eq 0 ]
