#!/bin/sh
# debian-tree.sh: print the path of the cached Debian tree (images/mktree-debian.sh), building it first if missing.
# usage: images/debian-tree.sh
# The cache lives outside the clone, keyed by the build script (which holds the package list), so a fresh
# clone (CI) reuses it: ${XDG_CACHE_HOME:-$HOME/.cache}/lbvm/debian-KEY/tree.
set -eu
HERE=$(dirname "$(realpath "$0")")
die() { echo "lbvm: debian-tree: $*" >&2; exit 1; }

KEY=$(sha256sum "$HERE/mktree-debian.sh" | cut -c1-16)
DIR=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/lbvm/debian-$KEY
mkdir -p "$DIR"
# One build at a time (several checkouts on one machine share the cache); the others wait for it.
exec 9>"$DIR/lock"
flock 9
if [ ! -d "$DIR/tree" ]; then
	rm -rf "$DIR/tree.new"
	echo "lbvm: building the Debian tree in $DIR (a few minutes, once)" >&2
	"$HERE/mktree-debian.sh" "$DIR/tree.new" >"$DIR/build.log" 2>&1 ||
		die "images/mktree-debian.sh failed; the end of $DIR/build.log: $(tail -n 3 "$DIR/build.log")"
	mv "$DIR/tree.new" "$DIR/tree"  # only a complete tree gets the name
fi
echo "$DIR/tree"
