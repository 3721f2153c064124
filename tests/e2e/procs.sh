#!/bin/bash
# procs.sh: end-to-end tests of processes in one VM: fork, execve, wait, pipes, exit statuses, through busybox sh.
# usage: tests/e2e/procs.sh LBVM IMAGE   (called by run.sh; prints ok/not ok/skip lines and a summary)
set -u
LBVM=$(realpath "$1")
IMG=$(realpath "$2")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$(realpath "$0")")/../lib.sh"
nl=$'\n'

# sh_is NAME EXPECTED_STDOUT EXPECTED_STATUS SCRIPT: run SCRIPT with the image's sh, compare exactly
sh_is() {
	vm_check "$1" || return 0
	local name=$1 want=$2 want_st=$3 script=$4
	local got st
	got=$(timeout 60 "$LBVM" run ${OPTS:-} "$IMG" sh -c "$script" 2>"$T/err" </dev/null)
	st=$?
	if [ "$got" = "$want" ] && [ "$st" = "$want_st" ]; then
		ok "$name"
	else
		bad "$name" "status $st (want $want_st)" "got:  $(printf '%s' "$got" | head -c 300 | tr '\n' '|')" \
			"want: $(printf '%s' "$want" | head -c 300 | tr '\n' '|')" "stderr: $(head -c 300 "$T/err")"
	fi
}

sh_is "a pipeline: printf | sort | uniq -c" "      1 a${nl}      2 b${nl}      1 c" 0 'printf "b\na\nb\nc\n" | sort | uniq -c'
sh_is "SIGPIPE ends the writer: seq 1 20000 | sort -rn | head -n 1" "20000" 0 'seq 1 20000 | sort -rn | head -n 1'
sh_is "exit statuses through wait4" "3${nl}5" 0 '(exit 3); echo $?; sh -c "exit 5"; echo $?'
sh_is "the script's own status" "" 7 'sh -c "exit 7"; exit $?'
sh_is "xargs runs a program per line" "n 1${nl}n 2${nl}n 3" 0 'seq 3 | xargs -n1 echo n'
sh_is "dd | wc -c over a pipe" "1048576" 0 'dd if=/dev/zero bs=4096 count=256 2>/dev/null | wc -c'
sh_is "env -i gives a clean environment to the exec'd program" "bar" 0 'env -i FOO=bar sh -c "echo \$FOO"'
sh_is "command substitution" "files: 3" 0 'echo "files: $(ls /data/sub | head -n 3 | wc -l)"'
sh_is "a child killed by a signal: 128+N" "143" 0 'sh -c "kill -TERM \$\$"; echo $?'
sh_is "fork of a process with 64 MiB touched, and exec from the image" "mmap ok${nl}brk ok${nl}mremap ok${nl}0" 0 '/data/bigmem; echo $?'

sh_is "kill a background sleep: wait gives 143" "143" 0 'sleep 5 & kill $!; wait $!; echo $?'
sh_is "a shell trap runs for kill 0 (the process group)" "got USR1${nl}after" 0 'trap "echo got USR1" USR1; kill -USR1 0; echo after'
# The shell waits with builtins only: while the bomb holds every process slot or page, a fork of its
# own (sleep) may fail, and ash ends on a failed fork; that would be the shell's failure, not the VM's.
# For the same reason the bomb starts in a subshell: ash forks each side of `f | f &` itself, and the
# second fork can find the first side's bomb already holding every slot (seen under the emulator).
BOMB='(f() { f | f & }; f) 2>/dev/null; i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done; echo survived'
sh_is "a fork bomb meets the process limit and the VM survives" "survived" 0 "$BOMB"
OPTS="--mem 32M" sh_is "a fork bomb under --mem 32M: memory or the process limit, and the VM survives" "survived" 0 "$BOMB"
OPTS="--mem 48M" sh_is "a child past --mem is killed (SIGKILL, out of memory); the shell goes on" "status 137${nl}still here" 0 \
	'/data/bigmem; echo status $?; echo still here'

# The tmpfs at /tmp (the image itself stays read-only)
sh_is "tmpfs: create, append, read" "line1${nl}line2" 0 'cd /tmp && echo line1 > f && echo line2 >> f && cat f'
sh_is "tmpfs: mkdir -p, touch, find" "d${nl}d/e${nl}d/e/x" 0 'cd /tmp && mkdir -p d/e && touch d/e/x && find d | sort'
sh_is "tmpfs: rename, hard link count, symlink, unlink, rmdir" "2${nl}g${nl}hi${nl}h${nl}s" 0 \
	'cd /tmp && echo hi > f && mv f g && ln g h && stat -c %h g && ln -s g s && readlink s && rm g && cat h && mkdir e && rmdir e && ls'
sh_is "tmpfs: tar | gzip | gunzip | tar" "dir/${nl}dir/a${nl}dir/sub/${nl}dir/sub/b" 0 \
	'cd /tmp && mkdir -p dir/sub && echo a > dir/a && echo b > dir/sub/b && tar cf - dir | gzip | gunzip | tar tf - | sort'
sh_is "tmpfs: truncate, chmod, stat" "100 600" 0 'cd /tmp && echo x > t && truncate -s 100 t && chmod 600 t && stat -c "%s %a" t'
sh_is "mkfifo: a reader and a writer meet" "prw-r--r--${nl}through the fifo" 0 \
	'cd /tmp && mkfifo p && ls -l p | cut -c1-10 && (cat p > out &) && echo through the fifo > p && sleep 0.2; cat out'
sh_is "a busy loop in the background cannot starve the shell" "fair" 0 'while :; do :; done & sleep 0.3; kill $!; wait; echo fair'
sh_is "id: root, in group root only (getgroups)" "uid=0(root) gid=0(root) groups=0(root)" 0 'id'
sh_is "time(1) of a child: wait4 with rusage" "ok" 0 'time true 2>/dev/null && echo ok'
sh_is "/proc has a directory per process: ps sees the shell, a background sleep and itself" "child listed${nl}3" 0 \
	'sleep 30 & test -r /proc/$!/stat && echo child listed; ps > /tmp/ps.out; grep -c "^ *[0-9]" /tmp/ps.out; kill $!'
OPTS=--read-only sh_is "--read-only: the image's files give EROFS" "Read-only" 0 'touch /etc/x 2>&1 | grep -o Read-only'
# ps names each process by its comm: busybox's applets set theirs with PR_SET_NAME, as on Linux.
sh_is "prctl names show in ps: [ps] for the ps applet" "1" 0 'ps | grep -c "\[ps\]"'
sh_is "stop and continue a background job" "stopped${nl}0" 0 'sleep 0.3 & kill -STOP $! && grep -q ") T " /proc/$!/stat && echo stopped; kill -CONT $!; wait $!; echo $?'

# The overlay on / (the default): the image's files are writable in guest memory; nothing reaches the image file
ov_is() {
	vm_check "$1" || return 0
	local name=$1 want=$2 script=$3 got st
	got=$(timeout 60 "$LBVM" run "$IMG" sh -c "$script" 2>&1 </dev/null)
	st=$?
	if [ "$got" = "$want" ] && [ $st = 0 ]; then
		ok "$name"
	else
		bad "$name" "status $st, got: $(printf '%s' "$got" | tr '\n' '|' | head -c 300)"
	fi
}
sum_before=$(sha256sum "$IMG")
ov_is "overlay: write, append and read in / (cwd from the manifest)" "line1${nl}line2" 'echo line1 > /f; echo line2 >> /f; cat /f'
ov_is "overlay: modify a file of the image (copy-up)" "root:x:0:0:root:/root:/bin/sh${nl}added" 'echo added >> /etc/passwd; cat /etc/passwd'
ov_is "overlay: delete a file of the image (whiteout)" "gone 0" 'rm /bin/ls; ls /bin/ls 2>/dev/null || echo gone $(ls /bin | grep -c "^ls$")'
ov_is "overlay: a directory deleted and made again is empty (opaque)" ".${nl}.." 'rm -r /etc && mkdir /etc && ls -a /etc'
ov_is "overlay: rename a file of the image" "g${nl}0" 'mv /etc/group /etc/g && ls /etc | grep "^g$"; ls /etc | grep -c "^group$"; true'
name="overlay: the image file is unchanged"
if vm_check "$name"; then
	if [ "$(sha256sum "$IMG")" = "$sum_before" ]; then ok "$name"; else bad "$name" "the overlay changed the image file"; fi
fi

summary procs
