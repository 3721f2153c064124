#!/bin/bash
# dynamic.sh: end-to-end tests of dynamically linked programs (the host's own ld.so and libc, copied into a tree)
# run from a --mount and from an image, and of file mappings (MAP_PRIVATE, MAP_SHARED) from the image, tmpfs and
# host mounts. usage: tests/e2e/dynamic.sh LBVM E2E_BUILD_DIR  (called by run.sh; ok/not ok/skip lines, a summary)
set -u
LBVM=$(realpath "$1")
E=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$HERE/../lib.sh"
nl=$'\n'

# A tree with the test programs in /bin and every library they load, at the paths the host's ld.so uses.
TREE=$T/tree
mkdir -p "$TREE/bin" "$TREE/data" "$TREE/tmp"
cp "$E"/dyn/dynhello "$E"/dyn/dyndlopen "$E"/dyn/dynforkexec "$E"/dyn/dynclock "$E/mmapshare" "$TREE/bin/"
LIBM=$(ldconfig -p | sed -n 's|.*libm\.so\.6 (libc6,x86-64) => ||p' | head -n 1)
for f in $(ldd "$E/dyn/dynhello" "$E/dyn/dyndlopen" | grep -v ':$' | grep -o '/[^ ]*') $LIBM; do
	mkdir -p "$TREE$(dirname "$f")"
	cp -L "$f" "$TREE$f"
done
INTERP=$(ldd "$E/dyn/dynhello" | grep -o '/[^ ]*ld-linux[^ ]*' | head -n 1)
head -c 300000 /dev/urandom >"$TREE/data/medium.bin"
IMG=$T/dyn.img
"$LBVM" pack "$TREE" -o "$IMG" --entry /bin/dynhello >/dev/null || bad "pack the tree of dynamic programs"
MOUNTS=()
for d in "$TREE"/*; do
	case ${d##*/} in bin | data | tmp) ;; *) MOUNTS+=(--mount "$d:/${d##*/}") ;; esac
done

hello_out() {  # the output dynhello gives for EXECFN and its arguments
	local execfn=$1 i=0
	shift
	printf 'AT_BASE set, page aligned\nAT_ENTRY is _start\nAT_PAGESZ 4096\nAT_RANDOM set\nAT_EXECFN %s\n' "$execfn"
	for a in "$@"; do printf 'argv[%d] %s\n' $i "$a"; i=$((i + 1)); done
}

want="$(hello_out "$E/dyn/dynhello" "$E/dyn/dynhello" a 'b c')${nl}env DYN_X=1${nl}"
check "a dynamic PROG with --mount of its libraries: argv, env, auxv from ld.so" 7 "$want" \
	-- "$LBVM" run "${MOUNTS[@]}" --env DYN_X=1 "$E/dyn/dynhello" a 'b c'
want="$(hello_out /bin/dynhello /bin/dynhello x)${nl}"
check "a dynamic program as an image's entry" 7 "$want" -- "$LBVM" run "$IMG" x
check "dlopen(libm.so.6) and calls into it" 0 "cos(0) = 1, sqrt(1764) = 42$nl" \
	-- "$LBVM" run --entry /bin/dyndlopen "$IMG"
want="$(hello_out /bin/dynhello /bin/dynhello from-child)${nl}env DYN_CHILD=1${nl}child exited 7${nl}"
check "a dynamic program forks, its child execs another dynamic program (image)" 0 "$want" \
	-- "$LBVM" run --entry /bin/dynforkexec "$IMG" /bin/dynhello
check "the same from --mount" 0 "$want" \
	-- "$LBVM" run "${MOUNTS[@]}" --mount "$TREE/bin:/bin" "$E/dyn/dynforkexec" /bin/dynhello

name="a PIE program loads at a random-ish base"
if vm_check "$name"; then
	a=$("$LBVM" run --entry /bin/dynhello "$IMG" where 2>&1 | grep '^main at')
	b=$("$LBVM" run --entry /bin/dynhello "$IMG" where 2>&1 | grep '^main at')
	if [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]; then ok "$name"; else bad "$name" "first: $a" "second: $b"; fi
fi

check "the vDSO: glibc's clock_gettime, gettimeofday and time agree" 0 \
	"vDSO mapped${nl}monotonic advances${nl}realtime, gettimeofday, time agree$nl" -- "$LBVM" run --entry /bin/dynclock "$IMG"
name="the vDSO serves 1002 clock_gettime calls and gettimeofday and time without a syscall"
if vm_check "$name"; then
	"$LBVM" run --trace --entry /bin/dynclock "$IMG" >"$T/clock.out" 2>"$T/clock.trace" </dev/null
	n=$(grep -cE '^(clock_gettime|gettimeofday|time)\(' "$T/clock.trace")
	if [ "$n" = 0 ] && grep -q '^exit_group(0)' "$T/clock.trace"; then ok "$name"; else bad "$name" "$n clock syscalls"; fi
fi

check_err "a --mount without the interpreter: the guest names it" 125 \
	"its interpreter $INTERP cannot be opened in the VM.*--mount that holds it" \
	-- "$LBVM" run --mount "$TREE/data:/data" "$E/dyn/dynhello"

BAD=$T/bad-interp
mkdir -p "$BAD/bin" "$(dirname "$BAD$INTERP")"
cp "$E/dyn/dynhello" "$BAD/bin/"
echo "not an interpreter" >"$BAD$INTERP"
chmod +x "$BAD$INTERP"
"$LBVM" pack "$BAD" -o "$T/bad.img" --entry /bin/dynhello >/dev/null || bad "pack the tree with a bad interpreter"
check_err "an interpreter that is not an ELF: the guest says so" 125 \
	"dynhello: its interpreter $INTERP is unusable: not an ELF file" -- "$LBVM" run "$T/bad.img"
# The same program asking for an interpreter that is nowhere (its path's last byte changed in place).
mkdir -p "$T/noint"
sed 's|ld-linux-x86-64\.so\.2|ld-linux-x86-64.so.9|' "$E/dyn/dynhello" >"$T/noint/dynhello"
chmod +x "$T/noint/dynhello"
check "execve of a program whose interpreter is missing fails (ENOENT), and the caller goes on" 0 \
	"child exited 127$nl" \
	-- "$LBVM" run --mount "$T/noint:/noint" "${MOUNTS[@]}" --mount "$TREE/bin:/bin" "$E/dyn/dynforkexec" /noint/dynhello
check_err "... and the error execve gives is ENOENT" 0 '^execve: No such file or directory$' \
	-- "$LBVM" run --mount "$T/noint:/noint" "${MOUNTS[@]}" --mount "$TREE/bin:/bin" "$E/dyn/dynforkexec" /noint/dynhello

# --- file mappings (a static program) ---
mm_ok=$(printf '%s\n' "image: private and shared read-only maps" "image: maps show the file" \
	"image: private write stays private" "image: fork child gets a copy-on-write view" \
	"image: shared writable map of a read-only fd is EACCES" "tmpfs: private and shared writable maps" \
	"tmpfs: the last page ends in zeros" "tmpfs: private write leaves the file alone" \
	"tmpfs: shared write reaches the file" "tmpfs: write(2) shows in the shared map" \
	"tmpfs: a fork child's shared write is seen by the parent and the file" \
	"tmpfs: private map stays copy-on-write across fork" "tmpfs: msync and munmap" \
	"tmpfs: the file keeps what the map wrote" "tmpfs: shared writable map of a read-only fd is EACCES" |
	sed 's/$/: ok/')
check "mmap of image and tmpfs files: private copies on write, shared writes the file, across fork" 0 "$mm_ok$nl" \
	-- "$LBVM" run --entry /bin/mmapshare "$IMG" /data/medium.bin /tmp/f
check "the same with a new file in the image's writable layer as the shared one" 0 "$mm_ok$nl" \
	-- "$LBVM" run --entry /bin/mmapshare "$IMG" /data/medium.bin /data/new
mkdir -p "$T/host"
head -c 10000 /dev/urandom >"$T/host/f"
cp "$T/host/f" "$T/host/f.orig"
host_ok=$(printf '%s\n' "host: private map shows the file" "host: private write stays private" \
	"host: shared writable map" "host: read(2) sees the shared write" "host: put back, msync, munmap" \
	"host: shared read-only map shows the file" | sed 's/$/: ok/')
check "mmap of host-mount files: private copies, shared writable writes the file" 0 "$mm_ok$nl$host_ok$nl" \
	-- "$LBVM" run --mount "$T/host:/h:rw" "$E/mmapshare" /h/f /tmp/f /h/f
name="the host file is unchanged by the guest's private writes"
if vm_check "$name"; then
	if cmp -s "$T/host/f" "$T/host/f.orig"; then ok "$name"; else bad "$name" "$T/host/f changed"; fi
fi

summary dynamic
