#!/bin/bash
# images.sh: end-to-end tests of app images: pack a tree, run busybox from it, compare what it sees with the host.
# usage: tests/e2e/images.sh LBVM E2E_BUILD_DIR   (called by run.sh; prints ok/not ok/skip lines and a summary)
set -u
LBVM=$(realpath "$1")
E=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$HERE/../lib.sh"
nl=$'\n'

# same_out NAME HOST_CMD -- GUEST_ARGS...: the guest's stdout equals the host command's
same_out() {
	vm_check "$1" || return 0
	local name=$1 host=$2
	shift 3
	timeout 120 "$LBVM" run "$IMG" "$@" >"$T/got" 2>"$T/err" </dev/null
	local st=$?
	(cd "$TREE" && eval "$host") >"$T/want" 2>/dev/null
	if [ $st = 0 ] && cmp -s "$T/want" "$T/got"; then
		ok "$name"
	else
		bad "$name" "status $st" "$(diff "$T/want" "$T/got" | head -10)" "stderr: $(head -c 400 "$T/err")"
	fi
}

# The tree: Debian's busybox with its applet links, plus data with known contents.
TREE=$T/tree
"$HERE/../../images/mktree-busybox.sh" "$TREE" || { bad "mktree-busybox.sh"; summary images; exit 1; }
mkdir -p "$TREE/data/sub/deeper" "$TREE/data/empty"
printf 'hello image\n' >"$TREE/data/hello.txt"
head -c 300000 /dev/urandom >"$TREE/data/medium.bin"
head -c 4096 /dev/urandom >"$TREE/data/exact4k.bin"
: >"$TREE/data/zero.bin"
for i in $(seq 1 300); do echo "file $i" >"$TREE/data/sub/f$i"; done
ln -s hello.txt "$TREE/data/rel-link"
ln -s /data/sub/deeper "$TREE/data/abs-link"
ln "$TREE/data/hello.txt" "$TREE/data/hard-link"
chmod 0640 "$TREE/data/hello.txt"; chmod 0755 "$TREE/data/sub"
chown 1234:5678 "$TREE/data/exact4k.bin"
cp "$E/mmapfile" "$TREE/data/mmapfile"
cp "$E/mmapkeep" "$TREE/data/mmapkeep"
cp "$E/bigmem" "$TREE/data/bigmem"
head -c $((100 << 20)) /dev/urandom >"$TREE/data/big.bin"

IMG=$T/app.img
if "$LBVM" pack "$TREE" -o "$IMG" --entry /bin/busybox --arg sh --env GREETING=hi --workdir /data >"$T/pack.out" 2>&1; then
	ok "lbvm pack a busybox tree"
else
	bad "lbvm pack" "$(cat "$T/pack.out")"
	summary images
	exit 1
fi
if fsck.erofs "$IMG" >/dev/null 2>&1; then ok "fsck.erofs accepts the image"; else bad "fsck.erofs" "$(fsck.erofs "$IMG" 2>&1 | tail -3)"; fi
"$LBVM" pack "$TREE" -o "$T/again.img" --entry /bin/busybox --arg sh --env GREETING=hi --workdir /data >/dev/null 2>&1
if cmp -s "$IMG" "$T/again.img"; then ok "pack is reproducible (same tree, same bytes)"; else bad "pack is reproducible"; fi
rm -f "$T/again.img"
"$LBVM" inspect "$IMG" >"$T/inspect" 2>&1
if grep -q '^entry /bin/busybox$' "$T/inspect" && grep -q "sha256: $(sha256sum "$IMG" | cut -d' ' -f1)" "$T/inspect"; then
	ok "lbvm inspect shows the manifest and the SHA-256"
else
	bad "lbvm inspect" "$(head -20 "$T/inspect")"
fi

same_out "cat a file" "cat data/hello.txt" -- cat /data/hello.txt
same_out "sha256sum of files matches the host" "sha256sum data/medium.bin data/exact4k.bin data/zero.bin data/big.bin | sed 's| data/| /data/|'" \
	-- sha256sum /data/medium.bin /data/exact4k.bin /data/zero.bin /data/big.bin
same_out "readlink of a relative symlink" "readlink data/rel-link" -- readlink /data/rel-link
same_out "readlink of an absolute symlink" "readlink data/abs-link" -- readlink /data/abs-link
same_out "stat -c '%s %a %u %g %h' of files" "stat -c '%s %a %u %g %h' data/hello.txt data/exact4k.bin data/hard-link data/mmapfile" \
	-- stat -c '%s %a %u %g %h' /data/hello.txt /data/exact4k.bin /data/hard-link /data/mmapfile
# (a directory's size is its EROFS size, not the host file system's)
same_out "stat -c '%a %u %g %F' of directories" "stat -c '%a %u %g %F' data/sub data/empty" \
	-- stat -c '%a %u %g %F' /data/sub /data/empty
same_out "lstat of a symlink" "stat -c '%F %s' data/rel-link" -- stat -c '%F %s' /data/rel-link
same_out "od of the first 100 bytes of /bin/busybox" "od -N 100 bin/busybox" -- od -N 100 /bin/busybox
same_out "ls of a directory with 300 entries" "ls data/sub" -- ls /data/sub
same_out "symlinks through directories" "cat data/sub/f7" -- cat /data/abs-link/../f7
same_out "relative paths from the manifest's workdir" "cat data/hello.txt" -- cat hello.txt

name="find / -type f: as many files as on the host (+ the manifest)"
if vm_check "$name"; then
	timeout 60 "$LBVM" run "$IMG" find / -type f >"$T/find" 2>"$T/err"
	want=$(( $(find "$TREE" -type f | wc -l) + 1 ))
	got=$(grep -vc '^/proc/' "$T/find")
	if [ "$got" = "$want" ]; then ok "$name"; else bad "$name" "got $got want $want" "$(head -c 300 "$T/err")"; fi
fi

name="ls -la"
if vm_check "$name"; then
	timeout 60 "$LBVM" run "$IMG" ls -la /data >"$T/out" 2>"$T/err"
	if [ $? = 0 ] && grep -q 'hello.txt' "$T/out" && grep -q 'rel-link -> hello.txt' "$T/out"; then ok "$name"; else bad "$name" "$(head -c 600 "$T/out" "$T/err")"; fi
fi

name="mmap of an image file; with --read-only, writes to the image fail with EROFS"
if vm_check "$name"; then
	timeout 60 "$LBVM" run --read-only --entry /data/mmapfile "$IMG" /data/medium.bin >"$T/out" 2>"$T/err"
	if [ "$(cat "$T/out")" = "mmap matches read${nl}private write ok${nl}open for write: EROFS${nl}create: EROFS" ]; then
		ok "$name"
	else
		bad "$name" "$(cat "$T/out" "$T/err")"
	fi
fi
# The image's own pages are mapped as they are: through PROT_NONE, MADV_DONTNEED and fork they must stay the file's.
name="mmap of an image file: contents through PROT_NONE, MADV_DONTNEED and fork, as natively"
if vm_check "$name"; then
	(cd "$TREE" && "$E/mmapkeep" private data/medium.bin rofd data/medium.bin) >"$T/want" 2>&1
	timeout 60 "$LBVM" run --entry /data/mmapkeep "$IMG" private /data/medium.bin rofd /data/medium.bin >"$T/out" 2>"$T/err"
	if [ $? = 0 ] && cmp -s "$T/want" "$T/out"; then ok "$name"; else bad "$name" "$(diff "$T/want" "$T/out" | head -10)" "$(head -c 300 "$T/err")"; fi
fi
name="--read-only: touch in the image: read-only file system"
if vm_check "$name"; then
	timeout 60 "$LBVM" run --read-only "$IMG" touch /data/new >"$T/out" 2>&1
	if [ $? != 0 ] && grep -qi 'read-only' "$T/out"; then ok "$name"; else bad "$name" "$(cat "$T/out")"; fi
fi
name="by default / is writable in guest memory"
if vm_check "$name"; then
	timeout 60 "$LBVM" run "$IMG" sh -c 'echo new > /data/new && cat /data/new' >"$T/out" 2>&1
	if [ $? = 0 ] && [ "$(cat "$T/out")" = new ] && [ ! -e "$TREE/data/new" ]; then ok "$name"; else bad "$name" "$(cat "$T/out")"; fi
fi

# The manifest's args are replaced by the command line's; its env and workdir stay.
# vm_out NAME WANT LBVM_RUN_ARGS...: a VM check of stdout and stderr together
vm_out() {
	vm_check "$1" || return 0
	local name=$1 want=$2
	shift 2
	timeout 60 "$LBVM" run "$@" >"$T/out" 2>&1 </dev/null
	if [ "$(cat "$T/out")" = "$want" ]; then ok "$name"; else bad "$name" "$(cat "$T/out")"; fi
}
vm_out "the manifest's env reaches the program" hi "$IMG" sh -c 'echo $GREETING'
vm_out "--env overrides the manifest's env" yo --env GREETING=yo "$IMG" sh -c 'echo $GREETING'
vm_out "the manifest's workdir" /data "$IMG" pwd

# Processes in the image: fork, execve, wait, pipes (tests/e2e/procs.sh)
"$HERE/procs.sh" "$LBVM_BIN" "$IMG" >"$T/procs.log" 2>&1
tally "$T/procs.log"
grep -q '^procs: ' "$T/procs.log" || bad "procs.sh did not finish" "$(tail -5 "$T/procs.log")"

# Host directories in the guest (tests/e2e/mounts.sh)
"$HERE/mounts.sh" "$LBVM_BIN" "$IMG" "$E" >"$T/mounts.log" 2>&1
tally "$T/mounts.log"
grep -q '^mounts: ' "$T/mounts.log" || bad "mounts.sh did not finish" "$(tail -5 "$T/mounts.log")"

# An image made by mkfs.erofs directly, with the manifest placed by hand (default options: inline tail data).
mkdir -p "$T/raw/.lbvm" "$T/raw/bin"
cp "$E/hello" "$T/raw/bin/hello"
printf 'lbvm-manifest 1\nentry /bin/hello\n' >"$T/raw/.lbvm/manifest"
mkfs.erofs "$T/raw.img" "$T/raw" >/dev/null 2>&1
vm_out "an image made by plain mkfs.erofs runs" "hello from lbvm" "$T/raw.img"

# Errors (given before /dev/kvm is opened: no VM)
printf 'not an image' >"$T/junk.img"
timeout 60 "$LBVM" inspect "$T/junk.img" >"$T/out" 2>&1
if [ $? = 125 ] && grep -q 'not an lbvm image' "$T/out"; then ok "inspect of a non-image: 125, clear message"; else bad "inspect junk" "$(cat "$T/out")"; fi
mkfs.erofs "$T/noman.img" "$T/raw/bin" >/dev/null 2>&1
host_check_err "an EROFS image without a manifest: 125, says so" 125 'manifest' -- "$LBVM_BIN" run "$T/noman.img"
host_check_err "--entry missing in the image: 127" 127 '/nonexistent' -- "$LBVM_BIN" run --entry /nonexistent "$IMG"

summary images
