#!/bin/sh
# mktree-busybox.sh: build a small userland tree (Debian's static busybox and its applet links) for an lbvm image.
# usage: images/mktree-busybox.sh OUTDIR     (BUSYBOX=/path/to/busybox to use another static busybox)
set -eu
umask 022  # modes must not depend on the caller's umask

die() { echo "lbvm: mktree-busybox: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: images/mktree-busybox.sh OUTDIR"
OUT=$1
BB=${BUSYBOX:-/bin/busybox}
[ -x "$BB" ] || die "$BB: not found; install it with apt-get install busybox-static"
# A dynamically linked busybox would need its libraries in the tree; lbvm runs static programs only.
if command -v file >/dev/null 2>&1 && file -L "$BB" | grep -q 'dynamically linked'; then
	die "$BB: dynamically linked; install busybox-static (apt-get install busybox-static)"
fi
if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT" 2>/dev/null)" ]; then
	die "$OUT: exists and is not empty; give a new directory (or remove it first)"
fi

mkdir -p "$OUT/bin"
cp "$BB" "$OUT/bin/busybox"
chmod 0755 "$OUT/bin/busybox"

# One relative symlink per applet, so the tree works wherever it is mounted (and inside the image's root).
"$BB" --list-full >"$OUT/.applets" || die "$BB --list-full failed; is it busybox?"
while IFS= read -r p; do
	case $p in
	bin/busybox | "") continue ;;
	/* | *..* | */ | *//*) die "$BB --list-full gave a strange path '$p'; refusing to create it" ;;
	esac
	d=$(dirname "$p")
	up=""
	if [ "$d" != . ]; then
		mkdir -p "$OUT/$d"
		# one "../" per directory level of the link
		up=$(printf '%s\n' "$d" | sed -e 's|[^/][^/]*|..|g' -e 's|$|/|')
	fi
	ln -sfn "${up}bin/busybox" "$OUT/$p"
done <"$OUT/.applets"
rm -f "$OUT/.applets"

mkdir -p "$OUT/tmp" "$OUT/dev" "$OUT/proc" "$OUT/etc" "$OUT/root"
chmod 1777 "$OUT/tmp"
chmod 0700 "$OUT/root"
echo 'root:x:0:0:root:/root:/bin/sh' >"$OUT/etc/passwd"
echo 'root:x:0:' >"$OUT/etc/group"
chmod 0644 "$OUT/etc/passwd" "$OUT/etc/group"

# Fixed times (the links' own too, -h), so packing this tree twice gives the same image bytes.
find "$OUT" -exec touch -h -d @0 {} +
