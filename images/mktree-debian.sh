#!/bin/sh
# mktree-debian.sh: build a Debian bookworm tree (debootstrap minbase + a few packages) for an lbvm image.
# usage: images/mktree-debian.sh OUTDIR     (MIRROR=URL to use another Debian mirror)
# Needs root (debootstrap chroots to unpack) and debootstrap (scripts/install-deps --debian).
set -eu
umask 022

die() { echo "lbvm: mktree-debian: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: images/mktree-debian.sh OUTDIR"
OUT=$1
# The packages the image holds besides minbase; the cache key is computed from this file.
PKGS="python3,sqlite3,gcc,libc6-dev,make,git,bash,coreutils,findutils,grep,sed,perl-base,lua5.4,file"

# The mirror this machine's apt uses, so the tree comes from the same archive as the host's packages.
if [ -z "${MIRROR:-}" ]; then
	MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -n -e 's|^URIs: *\(http[^ ]*/debian\)/*$|\1|p' -e 's|^deb  *\(http[^ ]*/debian\)/* .*|\1|p' | head -n 1)
	[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
fi
command -v debootstrap >/dev/null || die "debootstrap not found; install it with apt-get install debootstrap"
[ "$(id -u)" = 0 ] || die "debootstrap needs root"
if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT" 2>/dev/null)" ]; then
	die "$OUT: exists and is not empty; give a new directory (or remove it first)"
fi

debootstrap --variant=minbase --include="$PKGS" bookworm "$OUT" "$MIRROR" ||
	die "debootstrap from $MIRROR failed (see $OUT/debootstrap/debootstrap.log)"

# What a VM does not need: package caches, logs, the docs.
rm -rf "$OUT/var/cache/apt/archives/"*.deb "$OUT/var/lib/apt/lists/"* "$OUT/var/log/"* \
	"$OUT/usr/share/doc" "$OUT/usr/share/man" "$OUT/usr/share/info" "$OUT/usr/share/locale"
mkdir -p "$OUT/tmp" "$OUT/dev" "$OUT/proc"
rm -rf "$OUT/dev/"*
chmod 1777 "$OUT/tmp"
