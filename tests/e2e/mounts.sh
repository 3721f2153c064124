#!/bin/bash
# mounts.sh: end-to-end tests of host directories in the guest (--mount), escape attempts, limits and --timeout.
# usage: tests/e2e/mounts.sh LBVM IMAGE E2E_BUILD_DIR   (called by run.sh; prints ok/not ok/skip lines and a summary)
set -u
LBVM=$(realpath "$1")
IMG=$(realpath "$2")
E=$(realpath "$3")
T=$(mktemp -d /tmp/lbvm-mounts.XXXXXX)
TINY=""
cleanup() {
	umount "$T/xdroot/inner" 2>/dev/null
	[ -n "$TINY" ] && umount "$TINY" 2>/dev/null
	[ -n "${RACE_PID:-}" ] && kill "$RACE_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$(realpath "$0")")/../lib.sh"
nl=$'\n'

# vm OUT ERR MOUNTS... -- SCRIPT: run SCRIPT with the image's sh and the given lbvm options (after vm_check)
vm() {
	local out=$1 err=$2
	shift 2
	local opts=()
	while [ "$1" != "--" ]; do opts+=("$1"); shift; done
	shift
	timeout 120 "$LBVM" run "${opts[@]}" "$IMG" sh -c "$1" >"$out" 2>"$err" </dev/null
}

# A source tree: files of several sizes and modes, a subdirectory chain, symlinks, an empty file and dir.
SRC=$T/src
OUT=$T/out
mkdir -p "$SRC/a/b/c" "$SRC/empty-dir" "$OUT"
for i in $(seq 1 40); do head -c $((i * 997)) /dev/urandom >"$SRC/a/f$i"; done
head -c 3000000 /dev/urandom >"$SRC/a/b/big.bin"
echo "deep" >"$SRC/a/b/c/deep.txt"
: >"$SRC/empty"
printf '#!/bin/sh\necho script ran\n' >"$SRC/run.sh"
chmod 755 "$SRC/run.sh"; chmod 600 "$SRC/a/f1"; chmod 444 "$SRC/a/f2"
ln -s a/b/c/deep.txt "$SRC/rel-link"
ln -s /etc "$SRC/etc-link"
ln -s ../../../../../../../../etc "$SRC/up-link"
ln -s /proc/self/root "$SRC/proc-root"
echo "outside the mount" >"$T/outside.txt"
ln "$T/outside.txt" "$SRC/hard-link"
echo "keep me" >"$SRC/ro-target"

# --- a tree copied from a read-only mount to a read-write one, checked on the host ---
name="cp -a from a read-only mount to a read-write one"
if vm_check "$name"; then
	vm "$T/o" "$T/e" --mount "$SRC:/src" --mount "$OUT:/out:rw" -- 'cp -a /src /out/copy && echo copied'
	if [ "$(cat "$T/o")" = copied ]; then ok "$name"; else bad "$name" "$(head -c 400 "$T/e")"; fi
fi
listing() {
	(cd "$1" && find . -mindepth 1 ! -name hard-link ! -name proc-root -printf '%p %y %m\n' | sort)
	(cd "$1" && find . -type f ! -name hard-link -exec sha256sum {} + | sort -k2)
	(cd "$1" && find . -type l ! -name proc-root -printf '%p -> %l\n' | sort)
}
name="the copy on the host: every file's SHA-256, mode and symlink match"
if vm_check "$name"; then
	if [ "$(listing "$SRC")" = "$(listing "$OUT/copy" 2>/dev/null)" ]; then
		ok "$name"
	else
		bad "$name" "$(diff <(listing "$SRC") <(listing "$OUT/copy" 2>&1) | head -10)"
	fi
fi

name="find /src | wc -l: as many as on the host"
if vm_check "$name"; then
	vm "$T/o" "$T/e" --mount "$SRC:/src" -- 'find /src | wc -l'
	[ -n "${MOUNTS_DEBUG:-}" ] && { "$LBVM" run --trace --mount "$SRC:/src" "$IMG" find /src 2>&1 | grep -v "^ks" | grep -B3 -A3 "ENOENT\|No such"; }
	want=$(find "$SRC" | wc -l)
	if [ "$(cat "$T/o")" = "$want" ]; then ok "$name"; else bad "$name" "got $(cat "$T/o") want $want" "$(head -c 300 "$T/e")"; fi
fi

name="reads through a relative symlink, a #! script from the mount, stat, empty file and directory"
if vm_check "$name"; then
	vm "$T/o" "$T/e" --mount "$SRC:/src" -- 'cat /src/rel-link; /src/run.sh; stat -c "%a %s" /src/a/f1 /src/a/b/big.bin; ls /src/empty-dir | wc -l; wc -c < /src/empty'
	if [ "$(cat "$T/o")" = "deep${nl}script ran${nl}600 997${nl}644 3000000${nl}0${nl}0" ]; then
		ok "$name"
	else
		bad "$name" "$(cat "$T/o" "$T/e" | head -c 400)"
	fi
fi

name="/proc/mounts lists the mounts with ro/rw, and df reads them"
if vm_check "$name"; then
	vm "$T/o" "$T/e" --mount "$SRC:/src" --mount "$OUT:/out:rw" -- 'grep hostfs /proc/mounts; df /out | tail -1 | cut -d" " -f1'
	if [ "$(cat "$T/o")" = "hostfs /src hostfs ro 0 0${nl}hostfs /out hostfs rw 0 0${nl}hostfs" ]; then
		ok "$name"
	else
		bad "$name" "$(cat "$T/o" "$T/e" | head -c 300)"
	fi
fi

# Two processes at once on one host file: one appends, the other reads it meanwhile; the VM sees its own writes.
name="an appender and a reader at once on one host file: all 300 lines, in the VM and on the host"
if vm_check "$name"; then
	vm "$T/o" "$T/e" --mount "$OUT:/out:rw" -- 'rm -f /out/log; (i=0; while [ $i -lt 300 ]; do echo line$i >> /out/log; i=$((i+1)); done) & r=0; while [ $r -lt 50 ]; do cat /out/log > /dev/null 2>&1; r=$((r+1)); done; wait; wc -l < /out/log; tail -1 /out/log'
	if [ "$(cat "$T/o")" = "300${nl}line299" ] && [ "$(wc -l <"$OUT/log")" = 300 ]; then
		ok "$name"
	else
		bad "$name" "$(cat "$T/o" "$T/e" | head -c 300)"
	fi
fi

# --- read-only means read-only: EROFS in the guest, the host file untouched ---
name="a read-only mount: 9 kinds of write get EROFS, and the host file is unchanged"
if vm_check "$name"; then
	sum_before=$(sha256sum "$SRC/ro-target")
	vm "$T/o" "$T/e" --mount "$SRC:/src" -- 'echo x > /src/ro-target; echo x >> /src/ro-target; rm /src/ro-target; mkdir /src/d; touch /src/new; mv /src/ro-target /src/moved; chmod 777 /src/ro-target; truncate -s 0 /src/ro-target; ln -s x /src/sl; true'
	n_erofs=$(grep -c "Read-only file system" "$T/e")
	if [ "$n_erofs" -ge 9 ] && [ "$(sha256sum "$SRC/ro-target")" = "$sum_before" ] && [ ! -e "$SRC/d" ] && [ ! -e "$SRC/new" ] && [ ! -e "$SRC/sl" ] &&
		[ "$(stat -c %a "$SRC/ro-target")" = 644 ]; then
		ok "$name"
	else
		bad "$name" "EROFS count $n_erofs (want >= 9)" "$(head -c 600 "$T/e")"
	fi
fi

# --- 1 GiB through the mounts: a sparse file with random ends, copied and checked ---
name="a 1 GiB file copied between mounts arrives byte for byte"
if vm_check "$name"; then
	truncate -s 1G "$SRC/huge"
	head -c 1000000 /dev/urandom | dd of="$SRC/huge" conv=notrunc status=none
	head -c 1000000 /dev/urandom | dd of="$SRC/huge" bs=1M seek=1000 conv=notrunc status=none
	vm "$T/o" "$T/e" --mount "$SRC:/src" --mount "$OUT:/out:rw" -- 'cp /src/huge /out/huge && echo done'
	if [ "$(cat "$T/o")" = done ] && cmp -s "$SRC/huge" "$OUT/huge"; then
		ok "$name"
	else
		bad "$name" "$(head -c 400 "$T/e")"
	fi
	rm -f "$SRC/huge" "$OUT/huge"
fi

# --- escape attempts: each must not reach the host's files ---
host_marker=$(grep -m1 -v '^root:' /etc/passwd | cut -d: -f1)   # a user the image's passwd does not have
esc() {
	local name="escape: $1 stays in the VM" script=$2
	vm_check "$name" || return 0
	vm "$T/o" "$T/e" --mount "$SRC:/src" -- "$script"
	if grep -q "^$host_marker:" "$T/o" || grep -q "outside the mount" "$T/o"; then
		bad "$name" "it reached the host: $(head -c 300 "$T/o")"
	else
		ok "$name"
	fi
}
esc "cat /src/../../etc/passwd" 'cat /src/../../etc/passwd /src/../../../../etc/passwd'
esc "a symlink in HOSTDIR to /etc" 'cat /src/etc-link/passwd'
esc "a relative symlink climbing out" 'cat /src/up-link/passwd'
esc "a symlink to /proc/self/root" 'cat /src/proc-root/etc/passwd; ls /src/proc-root/ | head -3'
esc "/proc/self/fd magic links" 'exec 3</src/a/f3; cat /proc/self/fd/3/../../etc/passwd 2>/dev/null; cat /proc/self/root/etc/passwd'
# A hard link to a file outside is the same file: it is readable (documented in docs/security.md), never writable on ro.
name="a hard link to a file outside: readable as documented, not writable through a ro mount"
if vm_check "$name"; then
	vm "$T/o" "$T/e" --mount "$SRC:/src" -- 'cat /src/hard-link; echo x >> /src/hard-link'
	if [ "$(cat "$T/o")" = "outside the mount" ] && grep -q "Read-only" "$T/e" && [ "$(cat "$T/outside.txt")" = "outside the mount" ]; then
		ok "$name"
	else
		bad "$name" "$(cat "$T/o" "$T/e" | head -c 300)"
	fi
fi

# A rename race: on the host, /src/race flips between a symlink to /etc, a symlink to a safe directory,
# nothing, and a real directory, while the guest reads /src/race/passwd for three seconds.
name="escape: a rename race against a symlink swap reaches none of the host's files"
if vm_check "$name"; then
	mkdir -p "$SRC/safe"; echo "SAFE" >"$SRC/safe/passwd"
	( end=$((SECONDS + 6)); while [ $SECONDS -lt $end ]; do
		ln -sfn /etc "$SRC/race.t" && mv -Tf "$SRC/race.t" "$SRC/race"
		ln -sfn safe "$SRC/race.t" && mv -Tf "$SRC/race.t" "$SRC/race"
		rm -f "$SRC/race"; mkdir -p "$SRC/race.d"; echo SAFE >"$SRC/race.d/passwd"; mv -Tf "$SRC/race.d" "$SRC/race" 2>/dev/null; rm -rf "$SRC/race"
	done ) &
	RACE_PID=$!
	sleep 0.2
	vm "$T/o" "$T/e" --mount "$SRC:/src" -- 'end=$(($(date +%s) + 3)); while [ $(date +%s) -lt $end ]; do cat /src/race/passwd 2>/dev/null; done'
	kill "$RACE_PID" 2>/dev/null; wait "$RACE_PID" 2>/dev/null; RACE_PID=""
	n_safe=$(grep -c SAFE "$T/o"); n_guest=$(grep -c '^root:' "$T/o")
	if grep -q "^$host_marker:" "$T/o"; then
		bad "$name" "a symlink swapped in the race reached the host's /etc"
	elif [ "$n_safe" -lt 1 ]; then
		bad "$name" "the race was not exercised (no read went through the swapped name)" "$(head -c 300 "$T/e")"
	else
		ok "$name ($n_safe safe reads, $n_guest of the VM's own /etc)"
	fi
	rm -rf "$SRC/race" "$SRC/race.t" "$SRC/race.d" "$SRC/safe"
fi

name="mount-style syscalls: ENOSYS"
if vm_check "$name"; then
	timeout 60 "$LBVM" run --mount "$SRC:/src" "$E/mountcall" >"$T/o" 2>"$T/e"
	if [ "$(cat "$T/o")" = "mount: ENOSYS${nl}umount2: ENOSYS${nl}pivot_root: ENOSYS${nl}chroot: ENOSYS${nl}open_tree: ENOSYS" ]; then
		ok "$name"
	else
		bad "$name" "$(cat "$T/o" "$T/e" | head -c 300)"
	fi
fi

# --- limits: a cap on bytes written, a full host disk ---
name="max=100K: writing past the cap gets EDQUOT; what was written stays"
if vm_check "$name"; then
	mkdir -p "$T/capped"
	vm "$T/o" "$T/e" --mount "$T/capped:/c:rw:max=100K" -- 'echo small > /c/a; dd if=/dev/zero of=/c/b bs=16k count=20 2>&1; cat /c/a'
	if grep -q "Disk quota exceeded" "$T/o" && grep -q "^small$" "$T/o" && [ "$(cat "$T/capped/a")" = small ]; then
		ok "$name"
	else
		bad "$name" "$(cat "$T/o" "$T/e" | head -c 400)"
	fi
fi

# Both need a small tmpfs, which only root can mount; without one they are skipped (and CI, with KVM, fails).
enospc="a full host disk (1 MiB tmpfs): ENOSPC in the guest; the files already there are intact"
xdev="a file system mounted below HOSTDIR: EXDEV without :xdev, readable with it"
TINY=$T/tiny
mkdir -p "$TINY"
if ! mount -t tmpfs -o size=1M tmpfs "$TINY" 2>/dev/null; then
	TINY=""
	skip "$enospc" "cannot mount a tmpfs: not root"
	skip "$xdev" "cannot mount a tmpfs: not root"
else
	if vm_check "$enospc"; then
		head -c 100000 /dev/urandom >"$T/keep.bin"
		cp "$T/keep.bin" "$TINY/keep.bin"
		vm "$T/o" "$T/e" --mount "$TINY:/t:rw" -- 'echo first > /t/first; dd if=/dev/zero of=/t/fill bs=64k count=64 2>&1; echo "dd: $?"; cat /t/first'
		if grep -q "No space left on device" "$T/o" && grep -q "^first$" "$T/o" && cmp -s "$T/keep.bin" "$TINY/keep.bin" &&
			[ "$(cat "$TINY/first")" = first ]; then
			ok "$enospc"
		else
			bad "$enospc" "$(cat "$T/o" "$T/e" | head -c 400)"
		fi
	fi
	# A file system mounted below HOSTDIR is not entered without :xdev (RESOLVE_NO_XDEV), and is with it.
	mkdir -p "$T/xdroot/inner"
	echo first >"$TINY/first"
	if ! mount --bind "$TINY" "$T/xdroot/inner" 2>/dev/null; then
		skip "$xdev" "cannot bind-mount the tmpfs"
	else
		if vm_check "$xdev"; then
			vm "$T/o" "$T/e" --mount "$T/xdroot:/x" -- 'cat /x/inner/first'
			vm "$T/o2" "$T/e2" --mount "$T/xdroot:/x:xdev" -- 'cat /x/inner/first'
			if [ ! -s "$T/o" ] && grep -q "cross-device\|Invalid cross" "$T/e" && [ "$(cat "$T/o2")" = first ]; then
				ok "$xdev"
			else
				bad "$xdev" "without: $(cat "$T/o" "$T/e" | head -c 200)" "with: $(cat "$T/o2" "$T/e2" | head -c 200)"
			fi
		fi
		umount "$T/xdroot/inner"
	fi
	umount "$TINY"; TINY=""
fi

# --- heavy output: stdout and stderr keep every byte, in order per stream, while a mount is busy ---
name="heavy output: 36 MB on stdout and 200 lines on stderr arrive whole"
if ! vm_check "$name"; then
	:
elif n=$(timeout 120 "$LBVM" run --mount "$SRC:/src" "$IMG" sh -c 'cat /src/a/b/big.bin /src/a/b/big.bin; head -c 30000000 /dev/zero; i=0; while [ $i -lt 200 ]; do echo e$i >&2; i=$((i+1)); done' 2>"$T/e" | wc -c)
	[ "$n" = $((2 * 3000000 + 30000000)) ] && [ "$(wc -l <"$T/e")" = 200 ] && [ "$(tail -1 "$T/e")" = e199 ]; then
	ok "$name"
else
	bad "$name" "stdout $n bytes, stderr $(wc -l <"$T/e") lines"
fi

# --- --mount and --timeout errors, and the timeout itself ---
host_check_err "--mount of a missing directory: 125, names it" 125 "nonexistent" -- "$LBVM_BIN" run --mount "$T/nonexistent:/x" "$IMG" true
host_check_err "--mount with a relative guest path: 125, says why" 125 "absolute" -- "$LBVM_BIN" run --mount "$SRC:relative" "$IMG" true
host_check_err "--mount with an unknown option: 125, names it" 125 "bogus" -- "$LBVM_BIN" run --mount "$SRC:/x:bogus" "$IMG" true
name="--timeout 1s stops a sleep 20: exit 124 within 5 s"
if vm_check "$name"; then
	t0=$(date +%s%N)
	timeout 30 "$LBVM" run --timeout 1s "$IMG" sleep 20 >"$T/o" 2>&1
	st=$?
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	if [ $st = 124 ] && grep -q "timeout" "$T/o" && [ $ms -lt 5000 ]; then ok "$name ($ms ms)"; else bad "$name" "status $st after $ms ms" "$(cat "$T/o")"; fi
fi
host_check_err "--timeout soon: 125, not a duration" 125 "duration" -- "$LBVM_BIN" run --timeout soon "$IMG" true

# --- file mappings of host files: private ones through PROT_NONE and MADV_DONTNEED, shared ones (tests/e2e/progs/mmapkeep.c) ---
# The same program runs natively on a file of the host; a second, read-only --mount of the directory (of which the
# guest keeps no pages) shows what reached the host after msync, munmap and a child's exit.
MM=$T/mm; NAT=$T/mm-native
mkdir -p "$MM" "$NAT"
MMAPKEEP_OBSERVE="$NAT/f" "$E/mmapkeep" shared "$NAT/f" private "$NAT/f" exit "$NAT/f" rofd "$NAT/f" leave "$NAT/f" \
	>"$T/mm.want" 2>&1
name="mmap of a host file: MAP_SHARED writes reach the host and other processes, private contents survive PROT_NONE and MADV_DONTNEED, as natively"
if vm_check "$name"; then
	timeout 60 "$LBVM" run --mount "$MM:/m:rw" --mount "$MM:/m2" --env MMAPKEEP_OBSERVE=/m2/f "$E/mmapkeep" \
		shared /m/f private /m/f exit /m/f rofd /m/f leave /m/f >"$T/mm.out" 2>"$T/mm.err"
	if [ $? = 0 ] && cmp -s "$T/mm.want" "$T/mm.out"; then ok "$name"; else bad "$name" "$(diff "$T/mm.want" "$T/mm.out" | head -10)" "$(head -c 300 "$T/mm.err")"; fi
	name="the host file after the VM (the program ended with a shared map written): byte for byte what the native run left"
	if cmp -s "$MM/f" "$NAT/f"; then ok "$name"; else bad "$name" "$(cmp "$MM/f" "$NAT/f" 2>&1)"; fi
fi
name="mmap on a read-only mount: shared writable is EACCES, private and shared read-only map"
if vm_check "$name"; then
	"$E/mmapkeep" rofd "$NAT/f" private "$NAT/f" >"$T/mmro.want" 2>&1
	timeout 60 "$LBVM" run --mount "$NAT:/r" "$E/mmapkeep" rofd /r/f private /r/f >"$T/mmro.out" 2>"$T/mmro.err"
	if [ $? = 0 ] && cmp -s "$T/mmro.want" "$T/mmro.out"; then ok "$name"; else bad "$name" "$(diff "$T/mmro.want" "$T/mmro.out" | head -10)" "$(head -c 300 "$T/mmro.err")"; fi
fi

summary mounts
