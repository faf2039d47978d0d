#!/usr/bin/env bash
# What the machine's apt sources say, read from the files (never from apt's state, which an
# "apt-get update" may not have filled yet). Sourced by setup-system.sh and lab.sh; run it
# directly to print what it finds:
#
#   apt-sources.sh mirror [ROOT]      the URI that serves Debian's "bookworm" suite
#   apt-sources.sh has SUITE [ROOT]   exit 0 when SUITE is configured (e.g. bookworm-backports)
#
# ROOT (default /) is the directory that holds etc/apt: tests pass a temporary one.
# Both source formats are read: deb822 (etc/apt/sources.list.d/*.sources, the Debian 12
# default) and one-line (etc/apt/sources.list, sources.list.d/*.list). Disabled stanzas
# (Enabled: no), comments and deb-src entries are skipped.

# Prints "URI SUITE" for every enabled binary (deb) source entry under ROOT, one per line.
hp_apt_entries() {
	local root=${1:-/} f
	root=${root%/}
	for f in "$root"/etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
			function flush(   i, j, nu, ns, u, s) {
				if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no") {
					nu = split(uris, u, " "); ns = split(suites, s, " ")
					for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
				}
				types = uris = suites = field = ""; enabled = "yes"
			}
			BEGIN { enabled = "yes" }
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^[ \t]/ { # a continuation line of the field above
				if (field == "uris") uris = uris " " $0
				else if (field == "suites") suites = suites " " $0
				next
			}
			{
				name = tolower($1); sub(/:.*/, "", name)
				value = $0; sub(/^[^:]*:[ \t]*/, "", value)
				field = name
				if (name == "types") types = value
				else if (name == "uris") uris = value
				else if (name == "suites") suites = value
				else if (name == "enabled") enabled = value
			}
			END { flush() }
		' "$f"
	done
	for f in "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		# deb [opt=val ...] URI SUITE COMPONENT...
		awk '
			/^[ \t]*#/ { next }
			$1 != "deb" { next }
			{
				i = 2
				if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
				if (i + 1 <= NF) print $i, $(i + 1)
			}
		' "$f"
	done
	return 0
}

# The URI of the first entry serving the bookworm suite (empty, exit 1 when there is none).
hp_apt_mirror() {
	local uri
	uri=$(hp_apt_entries "${1:-/}" | awk '$2 == "bookworm" { print $1; exit }')
	[ -n "$uri" ] || return 1
	printf '%s\n' "${uri%/}"
}

# Exit 0 when SUITE is one of the configured suites.
hp_apt_has_suite() {
	hp_apt_entries "${2:-/}" | awk -v s="$1" '$2 == s { found = 1 } END { exit !found }'
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case ${1:-} in
	mirror) hp_apt_mirror "${2:-/}" || { echo "apt-sources: no bookworm mirror in ${2:-/}etc/apt" >&2; exit 1; } ;;
	has) [ $# -ge 2 ] || { echo "usage: apt-sources.sh has SUITE [ROOT]" >&2; exit 2; }
		hp_apt_has_suite "$2" "${3:-/}" ;;
	entries) hp_apt_entries "${2:-/}" ;;
	*) sed -n '2,12p' "$0" >&2; exit 2 ;;
	esac
fi
