#!/bin/bash
# run.sh: end-to-end tests: boot real VMs with lbvm and check what programs print and return.
# usage: tests/e2e/run.sh LBVM E2E_BUILD_DIR
# Without /dev/kvm the checks that boot a VM are skipped, each by name; the others still run (tests/lib.sh).
set -u
LBVM=$(realpath "$1")
E=$(realpath "$2")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
HERE=$(dirname "$(realpath "$0")")
. "$HERE/../lib.sh"
kvm_note

nl=$'\n'

# --- static musl programs built by the test suite ---
check hello 0 "hello from lbvm$nl" -- "$LBVM" run "$E/hello"
for c in 0 1 42 255; do
	check "exit status $c" "$c" "" -- "$LBVM" run "$E/exitcode" "$c"
done
check "argv and env round trip" 0 "argc=4${nl}argv[1]=<a>${nl}argv[2]=<b c>${nl}argv[3]=<>${nl}env=<PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin>${nl}env=<HOME=/bin>${nl}env=<FOO=bar>${nl}env=<X=1>${nl}" \
	-- "$LBVM" run --env FOO=bar --env HOME=/bin --env X=1 -- "$E/args" a "b c" ""
for v in args-glibc-pie; do
	check "argv round trip, $v" 0 "argc=2${nl}argv[1]=<x y>${nl}env=<PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin>${nl}env=<HOME=/>${nl}" \
		-- "$LBVM" run "$E/$v" "x y"
done
check "glibc static: auxv" 0 "random ok${nl}pagesz=4096${nl}phnum ok${nl}phdr ok${nl}entry ok${nl}hwcap ok${nl}uid=0 euid=0 gid=0 egid=0${nl}clktck=100 secure=0${nl}execfn=$E/auxv-glibc${nl}exe=$E/auxv-glibc${nl}cwd=/${nl}" \
	-- "$LBVM" run "$E/auxv-glibc"
check "host environment stays out" 0 "argc=1${nl}env=<PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin>${nl}env=<HOME=/>${nl}" \
	-- env SECRET=1 "$LBVM" run "$E/args"
check "auxv, AT_RANDOM, /proc/self/exe" 0 "random ok${nl}pagesz=4096${nl}phnum ok${nl}phdr ok${nl}entry ok${nl}hwcap ok${nl}uid=0 euid=0 gid=0 egid=0${nl}clktck=100 secure=0${nl}execfn=$E/auxv${nl}exe=$E/auxv${nl}cwd=/${nl}" \
	-- "$LBVM" run "$E/auxv"
check_err "segfault: 139 and a line naming the signal and address" 139 'SIGSEGV.*0x10\b' -- "$LBVM" run "$E/segv"
check "64 MiB with mmap, 64 MiB with brk, mremap" 0 "mmap ok${nl}brk ok${nl}mremap ok${nl}" -- "$LBVM" run "$E/bigmem"
check "clocks advance across nanosleep" 0 "slept ok${nl}realtime ok${nl}gettimeofday ok${nl}res ok${nl}abstime ok${nl}" -- "$LBVM" run "$E/clock" "$(date +%s)"
check "signals: siginfo, sigaltstack, SIGSEGV handler, fork COW, wait statuses, EINTR, vfork+exec" 0 "handler: 10001 on altstack 1${nl}segv at 0x1234${nl}cow: parent sees parent, child saw child${nl}wait: exited 1 status 7${nl}wait: signaled 1 sig 15${nl}read: -1 EINTR, got SIGCHLD 1${nl}vfork+exec: 127${nl}" \
	-- "$LBVM" run "$E/signals"
check "poll and select on pipes" 0 "poll empty: 0 after the timeout${nl}poll data: 1 revents 1${nl}select: 1 isset 1${nl}poll hup: 1 revents 16${nl}" \
	-- "$LBVM" run "$E/poll"
# epoll, eventfd, timerfd, signalfd, memfd; the expected text is what each program prints natively on Linux.
want_epoll=$(cat <<'EOF'
create1: 0 ok
add: 0
add again: -1 File exists
empty: 0
lt: 1 events 0x1 data 0x1234
lt again: 1
lt drained: 0
timeout: 0 after 50 ms
et: 1
et again: 0
et new data: 1 fd ok 1
et drained: 0
mod: 0
oneshot: 1
oneshot again: 0
rearmed: 1 data 7
del: 0
del again: -1 No such file or directory
mod missing: -1 No such file or directory
hup: 1 events 0x10
out: 1 events 0x4
no reader: 1 events 0xc
ebadf: -1 Bad file descriptor
self: -1 Invalid argument
not epoll: -1 Invalid argument
bad op: -1 Invalid argument
wait bad max: -1 Invalid argument
wait not epoll: -1 Invalid argument
wait ebadf: -1 Bad file descriptor
create 0: -1 Invalid argument
create1 bad flags: -1 Invalid argument
exclusive add: 0
exclusive mod: -1 Invalid argument
regular file: -1 Operation not permitted
nested: 2
eintr: -1 Interrupted system call
eintr (SA_RESTART): -1 Interrupted system call
pwait masked: 0
EOF
)$nl
check "epoll: level and edge triggered, one-shot, epoll_ctl errors, timeouts, EINTR" 0 "$want_epoll" -- "$LBVM" run "$E/epoll"
want_eventfd=$(cat <<'EOF'
write 4: 8 ok
read: 8 ok
value 7
read empty: -1 Resource temporarily unavailable
short read: -1 Invalid argument
write max: -1 Invalid argument
write to the ceiling: 8 ok
write past it: -1 Resource temporarily unavailable
read: 8 ok
sem read 0: 8 1 ok
sem read 1: 8 1 ok
sem read 2: -1 0 Resource temporarily unavailable
bad flags: -1 Invalid argument
timerfd bad clock: -1 Invalid argument
timerfd bad flags: -1 Invalid argument
read unarmed: -1 Resource temporarily unavailable
settime bad: -1 Invalid argument
settime on eventfd: -1 Invalid argument
settime ebadf: -1 Bad file descriptor
gettime: armed 1 interval 0
epoll: 1 which 1 after 30 ms
read one-shot: 8 ok
expirations 1
read again: -1 Resource temporarily unavailable
epoll eventfd: 1 which 2
interval: 5 expirations
settime abstime: 0 ok
blocking read: 8 ok
abstime: 1 after 40 ms
disarm: old interval 20000000
disarmed: 0 0
eventfd read: -1 Interrupted system call value 0 alarms 1
eventfd read (SA_RESTART): 8 ok value 42 alarms 2
EOF
)$nl
check "eventfd and timerfd, alone and in one epoll set" 0 "$want_eventfd" -- "$LBVM" run "$E/eventfd"
want_sigfd=$(cat <<'EOF'
empty: -1 Resource temporarily unavailable
short: -1 Invalid argument
poll: 1 revents 1
read: 128 ok
signo 10 code 0 from self 1
again: -1 Resource temporarily unavailable
child poll: 1 revents 1
read chld: 128 ok
signo 17 child 1
bad size: -1 Invalid argument
not signalfd: -1 Invalid argument
modify: 0 ok
still here after a blocked SIGTERM
memfd write: 11 ok
mmap: hello memfd
ftruncate: 0 ok
size 8192 regular 1
pread: 5 ok
read back: memfd
link: /memfd:buf (deleted)
memfd bad flags: -1 Invalid argument
EOF
)$nl
check "signalfd, blocked default signals, memfd" 143 "$want_sigfd" -- "$LBVM" run "$E/sigfd"
# Natively this machine has more CPUs: the expected text says 1 where Linux here says its own count.
want_procinfo=$(cat <<'EOF'
set name: 0 ok
name: worker-name-lon
Name:	worker-name-lon
stat comm: (worker-name-lon)
Threads:	1
State:	R (running)
status pid ok 1
status vmrss 1
pdeathsig: 0 ok
pdeathsig 15
get dumpable: 1 ok
set dumpable 0: 0 ok
get dumpable: 0 ok
set dumpable 5: -1 Invalid argument
get no_new_privs: 0 ok
set no_new_privs: 0 ok
get no_new_privs: 1 ok
NoNewPrivs:	1
unknown option: -1 Invalid argument
getaffinity: 0 ok
cpus in mask 1, sysconf agrees 1
setaffinity: 0 ok
online: starts with cpu 0
setrlimit nofile 64: 0 ok
nofile now 64
soft above hard: -1 Invalid argument
bad resource: -1 Invalid argument
dup until No file descriptors available, last fd 63
child core 1234 5678
child name: worker-name-lon
child pdeathsig 0
maps: stack 1 program 1
auxv pagesz 4096
stat: cpu 1 btime 1 processes 1 procs_running 1
EOF
)$nl
check "prctl, resource limits across fork, one CPU, /proc/self/status, maps, auxv, /proc/stat" 0 "$want_procinfo" -- "$LBVM" run "$E/procinfo"
# The same with glibc static (its sysconf reads /sys/devices/system/cpu/online; its strerror words EMFILE its own way).
check "glibc static: prctl, limits, one CPU, /proc" 0 "${want_procinfo/No file descriptors available/Too many open files}" -- "$LBVM" run "$E/procinfo-glibc"
check "glibc static: epoll" 0 "$want_epoll" -- "$LBVM" run "$E/epoll-glibc"
check "a long timer and short timeouts alternating do not fill the I/O queue" 0 "400 rounds, 0 events, no stall$nl" -- "$LBVM" run "$E/timerchurn"
want_pollshare=$(cat <<'EOF'
child: 1, fds are b and c 1, b 0 c 1
parent: 1, fd is a 1 revents 1
select on b: 0
EOF
)$nl
check "two processes in poll at once keep their own sets" 0 "$want_pollshare" -- "$LBVM" run "$E/pollshare"
check "alarm set and cleared 1000 times, then setitimer ticks" 0 "1000 alarms set and cleared, then 5 interval ticks$nl" -- "$LBVM" run "$E/alarmchurn"
check "nanosleep: a timeout, then 300 sleeps cut short with EINTR and the time left" 0 "sleep 50ms: 0 after 50 ms${nl}300 interrupted 10 s sleeps: EINTR, rem about 10 s$nl" -- "$LBVM" run "$E/sleepintr"
check "epoll, poll and sleep timeouts end on time beside a process computing without syscalls" 0 "epoll_wait: 0 on time${nl}poll: 0 on time${nl}usleep: on time$nl" -- "$LBVM" run "$E/busytimeout"
want_locks=$(cat <<'EOF'
parent write lock 0..9: 0 ok
parent read lock 20..: 0 ok
child getlk 5..6: 0 type write start 0 len 10 by the other
child getlk read 30..: 0 type unlocked start 30 len 0 by -
child getlk write 30..: 0 type read start 20 len 0 by the other
child getlk 10..19: 0 type unlocked start 10 len 10 by -
child setlk 5: -1 Resource temporarily unavailable
child read lock 25: 0 ok
child write lock 12..15: 0 ok
parent getlk 12..15: 0 type write start 12 len 4 by the other
parent setlk 13: -1 Resource temporarily unavailable
child setlkw 3: 0 ok
child setlkw 8: 0 ok
parent unlock 0..4: 0 ok
parent getlk 8: 0 type write start 8 len 1 by the other
after the child exits: 0 type unlocked start 0 len 0 by -
bad type: -1 Invalid argument
bad whence: -1 Invalid argument
write lock on read-only fd: -1 Bad file descriptor
ebadf: -1 Bad file descriptor
flock a sh: 0 ok
flock b sh: 0 ok
flock b ex nb: -1 Resource temporarily unavailable
flock a un: 0 ok
flock b ex nb: 0 ok
flock a sh nb: -1 Resource temporarily unavailable
flock a sh nb, b still open by dup: -1 Resource temporarily unavailable
after the child closed its copy: -1 Resource temporarily unavailable
after the last close: 0 ok
flock bad op: -1 Invalid argument
flock ebadf: -1 Bad file descriptor
EOF
)$nl
check "fcntl record locks between parent and child, flock" 0 "$want_locks" -- "$LBVM" run "$E/locks"
want_statx=$(cat <<'EOF'
statx path: 0 ok
size 5 regular 1 perm 640 basic 1
statx fd: 0 ok
same inode as fstat 1
statx pipe: 0 ok
fifo 1
statx missing: -1 No such file or directory
statx ebadf: -1 Bad file descriptor
statx empty path without the flag: -1 No such file or directory
/proc/self lists status, maps, stat, fd: 1
EOF
)$nl
check "statx by path, by fd and on a pipe, its errors; getdents64 of /proc/self" 0 "$want_statx" -- "$LBVM" run "$E/statx"
# Stop and continue; the expected text is what the program prints natively on Linux 6.18.
check "stop/continue: SIGSTOP, SIGTSTP, SIGCONT, WUNTRACED, WCONTINUED, waitid, a stopped read restarts" 0 \
	"stopped: 1 sig Stopped (signal)${nl}nohang while stopped: 0${nl}continued: 1${nl}exited: 1 status 7${nl}SIGCHLD codes: stopped 1 continued 1 exited 1${nl}waitid stopped: 1 code 1 status Stopped${nl}waitid continued: 1 code 1${nl}waitid WNOWAIT: 1 code 1 status 3${nl}waitid reaps: 1 status 3${nl}then: -1 No child process${nl}killed while stopped: 1 code 1 sig 9${nl}nohang: 0 pid 0${nl}bad options: -1 Invalid argument${nl}" \
	-- "$LBVM" run "$E/stopcont"
check "alarm and a periodic ITIMER_REAL deliver SIGALRM" 0 "alarm: 1 tick after about a second${nl}itimer: 4 ticks${nl}alarm(0) after cancel: 0${nl}" \
	-- "$LBVM" run "$E/alarm"
check_err "SIGALRM with no handler: 142" 142 'SIGALRM' -- "$LBVM" run "$E/alarm" x
check "preemption: a busy child does not starve its parent" 0 "parent ran while the child spins${nl}child killed: 9${nl}" \
	-- "$LBVM" run "$E/spin"
check "SIGPIPE: handler, ignored, then the default kills (141)" 141 "handler: write -1 EPIPE, got 13${nl}ignored: write -1 EPIPE${nl}" \
	-- "$LBVM" run "$E/sigpipe"
check "getrandom" 0 "getrandom ok${nl}" -- "$LBVM" run "$E/random"
check "vector registers (xmm, ymm, zmm, k) survive 1000 switches; process names stay intact" 0 "parent registers: kept${nl}child registers: kept${nl}names: child right, parent right${nl}" -- "$LBVM" run "$E/fpu"
check "identity is the guest's: pid 1, nodename lbvm" 0 "pid=1 ppid=0 uid=0${nl}sysname=Linux nodename=lbvm machine=x86_64${nl}" -- "$LBVM" run "$E/pid"
check "bad pointers: EFAULT, then SIGSEGV on a read-only page" 139 "write(bad) = -1 EFAULT${nl}getrandom(into text) = -1 EFAULT${nl}still readable 1${nl}" -- "$LBVM" run "$E/faults"
check_err "memory past --mem: killed, out of memory" 137 'out of memory' -- "$LBVM" run --mem 48M "$E/bigmem"

# --- Debian's busybox-static: a static glibc program ---
BB=/bin/busybox
if [ -x $BB ]; then
	check "busybox echo" 0 "hello world${nl}" -- "$LBVM" run $BB echo hello world
	if vm_check "busybox uname -a"; then
		timeout 60 "$LBVM" run $BB uname -a >"$T/out" 2>"$T/err"; st=$?
		if [ $st = 0 ] && grep -q '^Linux lbvm ' "$T/out"; then ok "busybox uname -a"; else bad "busybox uname -a" "status $st: $(cat "$T/out" "$T/err")"; fi
	fi
	check "busybox true" 0 "" -- "$LBVM" run $BB true
	check "busybox false" 1 "" -- "$LBVM" run $BB false
	check "busybox nproc: one CPU" 0 "1$nl" -- "$LBVM" run $BB nproc
	check "busybox cat /sys/devices/system/cpu/online and possible" 0 "0${nl}0$nl" -- "$LBVM" run $BB cat /sys/devices/system/cpu/online /sys/devices/system/cpu/possible
	if vm_check "busybox cat /proc/self/maps: the program's text and the stack"; then
		timeout 60 "$LBVM" run $BB cat /proc/self/maps >"$T/out" 2>"$T/err"
		if grep -Eq "^[0-9a-f]+-[0-9a-f]+ r-xp .* $(readlink -f $BB)\$" "$T/out" && grep -Eq '^[0-9a-f]+-[0-9a-f]+ rw-p .* \[stack\]$' "$T/out"; then
			ok "busybox cat /proc/self/maps: the program's text and the stack"
		else
			bad "busybox cat /proc/self/maps: the program's text and the stack" "$(head -c 600 "$T/out" "$T/err")"
		fi
	fi
	check "busybox printf" 0 "abc-42${nl}" -- "$LBVM" run $BB printf '%s-%d\n' abc 42
	check "busybox seq 1 1000" 0 "$(seq 1 1000)$nl" -- "$LBVM" run $BB seq 1 1000
	seq 1 60000 >"$T/in"
	if vm_check "busybox cat < 330 KB file"; then
		if timeout 60 "$LBVM" run $BB cat <"$T/in" >"$T/out" 2>"$T/err" && cmp -s "$T/in" "$T/out"; then
			ok "busybox cat < 330 KB file"
		else
			bad "busybox cat < 330 KB file" "$(cmp "$T/in" "$T/out" 2>&1) $(head -c 300 "$T/err")"
		fi
	fi
	if vm_check "echo hi | busybox cat"; then
		if [ "$(echo hi | timeout 60 "$LBVM" run $BB cat)" = hi ]; then ok "echo hi | busybox cat"; else bad "echo hi | busybox cat"; fi
	fi
	# Interactive: on a terminal, each line comes back as soon as it is typed.
	name="busybox cat on a terminal echoes each line"
	if ! vm_check "$name"; then
		:
	elif command -v script >/dev/null; then
		# (the sleep after ^D keeps script(1) relaying output until lbvm has exited: it stops once its stdin closes)
		(echo line1; sleep 1; echo line2; sleep 1; printf '\004'; sleep 2) |
			timeout 30 script -qfec "$LBVM run $BB cat; echo status=\$?" /dev/null >"$T/tty" 2>&1
		if [ "$(tr -d '\r' <"$T/tty" | grep -c '^line[12]$')" = 4 ] && tr -d '\r' <"$T/tty" | grep -q '^status=0$'; then
			ok "$name"
		else
			bad "$name" "$(cat -A "$T/tty" | head)"
		fi
	else
		bad "$name" "script(1) from util-linux is missing"
	fi
else
	bad "busybox tests" "/bin/busybox is missing: apt-get install busybox-static"
fi

# --- errors for the user: given before /dev/kvm is opened, so they need no VM ---
host_check_err "PROG missing: 127" 127 'nonexistent.*no such file' -- "$LBVM_BIN" run "$T/nonexistent"
printf 'just text\n' >"$T/text"; chmod +x "$T/text"
host_check_err "not an ELF: 126" 126 'not an ELF' -- "$LBVM_BIN" run "$T/text"
cp "$E/hello" "$T/arm"; printf '\267\000' | dd of="$T/arm" bs=1 seek=18 conv=notrunc status=none
host_check_err "not x86-64: 126" 126 'x86-64' -- "$LBVM_BIN" run "$T/arm"
host_check_err "dynamically linked: 126" 126 'dynamically linked' -- "$LBVM_BIN" run /bin/true
host_check_err "--mem too small: 125" 125 '--mem' -- "$LBVM_BIN" run --mem 1M "$E/hello"
host_check_err "--mem not a size: 125" 125 '--mem' -- "$LBVM_BIN" run --mem lots "$E/hello"
host_check_err "unknown option: 125" 125 'unknown option --bogus' -- "$LBVM_BIN" run --bogus "$E/hello"
host_check_err "--env without =: 125" 125 '--env' -- "$LBVM_BIN" run --env FOO "$E/hello"
host_check_err "a directory: 126" 126 'not a regular file' -- "$LBVM_BIN" run /tmp

# --- the program runs in the VM, never on the host ---
name="the host never execve()s PROG; it sees pid 1"
if ! vm_check "$name"; then
	:
elif command -v strace >/dev/null; then
	timeout 60 strace -f -qq -e trace=execve,execveat -o "$T/strace" "$LBVM" run "$E/pid" >"$T/out" 2>&1
	n=$(grep -c 'execve' "$T/strace")
	if [ "$n" = 1 ] && grep -q "execve(\"$LBVM\"" "$T/strace" && grep -q '^pid=1 ' "$T/out"; then
		ok "$name"
	else
		bad "$name" "$n execve calls:" "$(cat "$T/strace")" "$(cat "$T/out")"
	fi
else
	bad "$name" "strace is missing: apt-get install strace"
fi

# --- --trace and --verbose ---
name="--trace reports syscalls strace-style on stderr"
if vm_check "$name"; then
	timeout 60 "$LBVM" run --trace "$E/hello" >"$T/out" 2>"$T/err"
	if grep -Eq '^writev?\(1, .*\) = 16$' "$T/err" && grep -q '^exit_group(0) = ?$' "$T/err" &&
		[ "$(cat "$T/out")" = "hello from lbvm" ]; then
		ok "$name"
	else
		bad "$name" "$(head -c 800 "$T/err")"
	fi
fi
name="--trace reports unimplemented syscalls"
if vm_check "$name"; then
	timeout 60 "$LBVM" run --trace "$BB" sh -c 'exit 3' >"$T/out" 2>"$T/err"
	if grep -Eq '= -1 ENOSYS .*not implemented' "$T/err"; then ok "$name"; else bad "$name" "$(tail -5 "$T/err")"; fi
fi
check_err "--verbose names the CPU mode" 0 'CPU mode: (pvm|ring0)' -- "$LBVM" run --verbose "$E/hello"

# --- the VMM's seccomp filter: the docs list exactly the allowlist (what it stops: tests/unit/test_seccomp.c) ---
HERE_DOCS=$(dirname "$0")/../../docs/security.md
doc_list=$(sed -n '/<!-- seccomp:begin -->/,/<!-- seccomp:end -->/p' "$HERE_DOCS" | grep -o '^| `[a-z_0-9]*`' | tr -d '|` ' | sort)
bin_list=$("$LBVM" seccomp-list | cut -f1 | sort)
if [ -n "$bin_list" ] && [ "$doc_list" = "$bin_list" ] && grep -q "$(echo "$bin_list" | wc -l) system calls" "$HERE_DOCS"; then
	ok "docs/security.md lists the filter's $(echo "$bin_list" | wc -l) system calls, and says how many"
else
	bad "docs/security.md and the seccomp filter disagree" "$(diff <(echo "$doc_list") <(echo "$bin_list") | head -10)"
fi

# --- app images (tests/e2e/images.sh prints its own lines and a summary) ---
"$HERE/images.sh" "$LBVM_BIN" "$E" >"$T/images.log" 2>&1
tally "$T/images.log"
if ! grep -q '^images: ' "$T/images.log"; then
	bad "images.sh did not finish" "$(tail -5 "$T/images.log")"
fi

summary e2e
