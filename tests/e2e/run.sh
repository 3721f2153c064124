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
# File mappings of a tmpfs file through PROT_NONE, MADV_DONTNEED, fork, msync and munmap: the same as natively on Linux.
"$E/mmapkeep" shared "$T/mmapkeep" private "$T/mmapkeep" exit "$T/mmapkeep" rofd "$T/mmapkeep" >"$T/mmapkeep.native" 2>&1
check "mmap of a tmpfs file: contents through PROT_NONE and MADV_DONTNEED, shared across fork and with read/write" 0 \
	"$(cat "$T/mmapkeep.native")$nl" -- "$LBVM" run "$E/mmapkeep" shared /tmp/f private /tmp/f exit /tmp/f rofd /tmp/f
# Shared anonymous memory across fork (a tmpfs file with no name, as Linux's shmem): the same as natively on Linux.
check "MAP_SHARED|MAP_ANONYMOUS: shared with fork's children both ways, through MADV_DONTNEED, a process-shared semaphore" 0 \
	"$("$E/mmapanon")$nl" -- "$LBVM" run "$E/mmapanon"
check "clocks advance across nanosleep" 0 "slept ok${nl}realtime ok${nl}gettimeofday ok${nl}res ok${nl}abstime ok${nl}" -- "$LBVM" run "$E/clock" "$(date +%s)"
check "signals: siginfo, sigaltstack, SIGSEGV handler, fork COW, wait statuses, EINTR, vfork+exec" 0 "handler: 10001 on altstack 1${nl}segv at 0x1234${nl}cow: parent sees parent, child saw child${nl}wait: exited 1 status 7${nl}wait: signaled 1 sig 15${nl}read: -1 EINTR, got SIGCHLD 1${nl}vfork+exec: 127${nl}" \
	-- "$LBVM" run "$E/signals"
# Threads, with musl and with glibc (static); the expected text is what both print natively on Linux.
thr_all="join: 0 10 20 30${nl}counter 80000${nl}ids and tls ok${nl}condvar rounds 500${nl}barrier serial 3${nl}"
thr_all+="futex mismatch: -1 EAGAIN${nl}futex timeout: -1 ETIMEDOUT${nl}futex bitset deadline: -1 ETIMEDOUT${nl}futex empty bitset: -1 EINVAL${nl}"
thr_all+="futex unaligned: -1 EINVAL${nl}futex wake nobody: 0${nl}futex signal: -1 EINTR, handler in waiter 1${nl}"
thr_all+="futex SA_RESTART: still waiting after handler 1, then 0${nl}"
thr_all+="cmp_requeue mismatch: -1 EAGAIN${nl}requeue: 2, woken 1${nl}wake the first address again: 0${nl}"
thr_all+="wake the second address: 1, woken 2${nl}wake_op: 0, w2 8${nl}"
thr_all+="tgkill: handler in target 1${nl}tgkill wrong group: -1 ESRCH${nl}"
thr_all+="kill: handled by the unblocking thread 1${nl}"
thr_all+="kill while every thread blocks it: pending 1, then taken by the thread that unblocks 1${nl}still pending for the process: 0${nl}"
thr_all+="child forked by a thread, reaped by main: 1, exited 5${nl}child with threads killed: 1, signal 15${nl}"
thr_all+="setsid in a thread: the process's session and group 1${nl}"
mkdir -p "$T/thr"
cp "$E/threads" "$E/threads-glibc" "$T/thr/"
"$LBVM" pack "$T/thr" -o "$T/thr.img" --entry /threads >/dev/null
for v in threads threads-glibc; do
	check "$v: mutex, condvar, barrier, join values, TLS, futex errors, restarts, requeue, wake_op, tgkill, per-thread masks, shared pending signals, fork and wait across threads" 0 "$thr_all" \
		-- "$LBVM" run "$E/$v"
	check_err "$v: a fault in a thread kills the whole process (139)" 139 'killed by SIGSEGV \(fault address 0x10\)' \
		-- "$LBVM" run "$E/$v" fault
	check "$v: exit() in a thread ends the process with its status" 42 "thread calls exit(42)${nl}" -- "$LBVM" run "$E/$v" exit
	check "$v: pthread_exit in main waits for the other threads" 0 "worker done after main's pthread_exit${nl}" \
		-- "$LBVM" run "$E/$v" mainexit
	check "$v: execve from a thread ends its siblings and keeps the pid" 3 \
		"after execve from a thread: same pid 1, tid is pid 1${nl}" -- "$LBVM" run --entry "/$v" "$T/thr.img" exec "/$v"
	check "$v: /proc/self/task lists the threads" 0 "tasks 4${nl}" -- "$LBVM" run "$E/$v" tasks
	check "$v: a robust mutex whose owner died: EOWNERDEAD" 0 "robust lock after owner died: EOWNERDEAD${nl}" \
		-- "$LBVM" run "$E/$v" robust
done
check "poll and select on pipes" 0 "poll empty: 0 after the timeout${nl}poll data: 1 revents 1${nl}select: 1 isset 1${nl}poll hup: 1 revents 16${nl}" \
	-- "$LBVM" run "$E/poll"
# AF_UNIX sockets; the expected text is what each program prints natively on Linux.
check "unix stream: socketpair through fork, a server on /tmp/sock with two clients, abstract names, SO_PEERCRED, fstat, 4 MiB through a full buffer, FIONREAD, poll woken by another process" 0 \
	"socketpair echo: <HELLO SOCKET>${nl}socketpair peercred: pid mine uid ok gid ok len 12${nl}after shutdown(SHUT_WR) the child sees EOF and exits; read: 0${nl}child exited 0${nl}stat /tmp/sock: socket 1${nl}fstat of the socket: socket 1${nl}/proc/self/fd: socket:[ino]${nl}getsockname: </tmp/sock> len 12${nl}client first got <hi first>${nl}server: read <first>; peer pid is the client 1${nl}server: getpeername len 2 (unnamed)${nl}client second got <hi second>${nl}server: read <second>; peer pid is the client 1${nl}server: getpeername len 2 (unnamed)${nl}client abstract got <ok>${nl}abstract server: read <abstract>${nl}accepted getsockname: abstract 1 len 12 name <lbvm-test>${nl}read after the client closed: 0${nl}bulk: 4194304 bytes, sum 453771264, writer exit 0, FIONREAD while full in range${nl}poll on the listener: 1 revents 0x1${nl}poll on the connection: 1 revents 0x1, read 4${nl}poll at the hang-up: 1 revents 0x2011${nl}" \
	-- "$LBVM" run "$E/unix_stream"
check "unix dgram and seqpacket: boundaries, MSG_TRUNC, MSG_PEEK, addresses, SCM_RIGHTS with a pipe, SCM_CREDENTIALS, sendmmsg/recvmmsg" 0 \
	"dgram 1: 3 <one>${nl}dgram peek: 4 <two!>${nl}dgram 2 into 2 bytes with MSG_TRUNC: 4 <tw>${nl}dgram 3 into 3 bytes: 3 <thr> flags MSG_TRUNC 1${nl}empty: -1 Resource temporarily unavailable${nl}writev is one datagram: 6 <abcdef>${nl}recvfrom: 4 <to a> from </tmp/dg-b> len 12${nl}connected send: 5 <reply>${nl}send to a closed peer: -1 Connection refused${nl}sendto a closed peer: -1 Connection refused${nl}seqpacket 1 into 6: 6 <packet>${nl}seqpacket 2: 2 <p2>${nl}seqpacket after close: 0${nl}sendmsg with the pipe: 4${nl}child: 4 bytes <here>, got an fd 1, cloexec 1${nl}child: read through it: <through the pipe>${nl}child exit 0${nl}write while the read end is in flight: 1${nl}write after the receiver closed unread: -1 Broken pipe${nl}sendmsg with two fds: 1${nl}recvmsg with room for one: 1, MSG_CTRUNC 1, fds 1${nl}the read end went with the truncation: write -1 Broken pipe${nl}sendmmsg: 3, lengths 5 2 6${nl}recvmmsg of 4 with 3 there, MSG_WAITFORONE: 3: <alpha> <be> <gamma!>${nl}SCM_CREDENTIALS: 1 pid mine uid ok${nl}" \
	-- "$LBVM" run "$E/unix_dgram"
check "unix dgram and seqpacket, glibc static" 0 \
	"dgram 1: 3 <one>${nl}dgram peek: 4 <two!>${nl}dgram 2 into 2 bytes with MSG_TRUNC: 4 <tw>${nl}dgram 3 into 3 bytes: 3 <thr> flags MSG_TRUNC 1${nl}empty: -1 Resource temporarily unavailable${nl}writev is one datagram: 6 <abcdef>${nl}recvfrom: 4 <to a> from </tmp/dg-b> len 12${nl}connected send: 5 <reply>${nl}send to a closed peer: -1 Connection refused${nl}sendto a closed peer: -1 Connection refused${nl}seqpacket 1 into 6: 6 <packet>${nl}seqpacket 2: 2 <p2>${nl}seqpacket after close: 0${nl}sendmsg with the pipe: 4${nl}child: 4 bytes <here>, got an fd 1, cloexec 1${nl}child: read through it: <through the pipe>${nl}child exit 0${nl}write while the read end is in flight: 1${nl}write after the receiver closed unread: -1 Broken pipe${nl}sendmsg with two fds: 1${nl}recvmsg with room for one: 1, MSG_CTRUNC 1, fds 1${nl}the read end went with the truncation: write -1 Broken pipe${nl}sendmmsg: 3, lengths 5 2 6${nl}recvmmsg of 4 with 3 there, MSG_WAITFORONE: 3: <alpha> <be> <gamma!>${nl}SCM_CREDENTIALS: 1 pid mine uid ok${nl}" \
	-- "$LBVM" run "$E/unix_dgram-glibc"
check "unix errors and readiness: EAGAIN, ECONNREFUSED, ENOENT, EADDRINUSE, ENOTCONN, EPIPE, SIGPIPE, ECONNRESET, poll, EINTR, SA_RESTART, ENXIO, EMSGSIZE, SO_RCVTIMEO" 0 \
	"connect to a missing path: -1 ENOENT${nl}listen unbound: -1 EINVAL${nl}bind: 0 ok${nl}connect before listen: -1 ECONNREFUSED${nl}bind the same path again: -1 EADDRINUSE${nl}bind a bound socket: -1 EINVAL${nl}send unconnected: -1 ENOTCONN${nl}getpeername unconnected: -1 ENOTCONN${nl}shutdown unconnected: 0 ok${nl}listen: 0 ok${nl}accept with nobody waiting: -1 EAGAIN${nl}poll listener, nobody waiting: 0 ok${nl}nonblocking connect 1: 0 ok${nl}nonblocking connect 2, backlog full: -1 EAGAIN${nl}connect again: -1 EAGAIN${nl}poll listener, one waiting: 1 ok${nl}  revents 0x1${nl}accept4: ok, nonblock 1 cloexec 1${nl}recv with nothing there: -1 EAGAIN${nl}recv MSG_DONTWAIT: -1 EAGAIN${nl}poll idle pair: 0x4 0x4${nl}poll after a write: 0x5 0x4${nl}recv: 4 ok${nl}filled: between 100 KB and 1 MB, then EAGAIN${nl}poll full: 0x5 0${nl}poll drained: 0x4 0x4${nl}shutdown(SHUT_WR): 0 ok${nl}poll after SHUT_WR: 0x2005 0x4${nl}read after the peer's SHUT_WR: 0 ok${nl}send after SHUT_WR, MSG_NOSIGNAL: -1 EPIPE${nl}poll after the peer closed: 0x2015${nl}read after the peer closed: 0 ok${nl}send to a closed peer, MSG_NOSIGNAL: -1 EPIPE${nl}write to a closed peer: -1 EPIPE${nl}  signal 13${nl}child killed by signal 13${nl}recv interrupted: -1 EINTR${nl}  signal 14${nl}recv restarted, then data: 4 ok${nl}  signal 14${nl}SO_TYPE 1, SO_ERROR 0${nl}socket(AF_UNIX, 99): -1 EINVAL${nl}getsockopt on a pipe: -1 ENOTSOCK${nl}send on a pipe: -1 ENOTSOCK${nl}open the socket's path: -1 ENXIO${nl}mknod S_IFSOCK: 0 ok${nl}connect to it: -1 ECONNREFUSED${nl}read after an empty write: 1 ok${nl}recvfrom an unnamed sender: 1 ok${nl}  addrlen 0${nl}datagram bigger than the buffer: -1 EMSGSIZE${nl}poll after a reset: 0x19${nl}read after a reset: -1 ECONNRESET${nl}read again: 0 ok${nl}SO_RCVTIMEO: 0 ok${nl}  reads back 0.15 s, len 16${nl}recv with a timeout: -1 EAGAIN${nl}  after the timeout${nl}" \
	-- "$LBVM" run "$E/unix_errors"
check "unix SCM_RIGHTS cycles are collected: 20,000 self, crossed, datagram and listener cycles of 32 KiB each; fds in flight and a cycle a live socket carries survive until it closes; a chain of 20,000 closes" 0 \
	"pipe in flight: <through the pipe>${nl}socket in flight: <through the socket>${nl}a cycle a live socket carries: received 1 1 1${nl}peer of a socket only in flight: poll 1, hang-up 1, read 0${nl}its peer while a live socket carries the cycle: poll 0${nl}once that socket is closed: poll 1, hang-up 1${nl}20000 cycles made and closed${nl}a chain of 20000 sockets in flight closed${nl}pipe in flight: <through the pipe>${nl}socket in flight: <through the socket>${nl}" \
	-- "$LBVM" run "$E/unix_gc"
check "unix SO_RCVTIMEO/SO_SNDTIMEO: read back, EAGAIN not before the timeout (recv, read, send, accept), EINTR despite SA_RESTART with a timeout, a negative timeout, restart without" 0 \
	"SO_RCVTIMEO unset reads back: 0 0.000000 len 16${nl}SO_RCVTIMEO 40 ms reads back: 0 0.040000 len 16${nl}SO_SNDTIMEO 1.5 s reads back: 0 1.500000 len 16${nl}recv with a 40 ms timeout: -1 EAGAIN, not before the timeout 1${nl}read with a 40 ms timeout: -1 EAGAIN, not before the timeout 1${nl}send on a full socket with a 40 ms timeout: -1 EAGAIN, not before the timeout 1${nl}accept with a 40 ms timeout: -1 EAGAIN, not before the timeout 1${nl}recv with a 2 s timeout, SA_RESTART handler: -1 EINTR, not before the timeout 1${nl}read with a 2 s timeout, SA_RESTART handler: -1 EINTR, not before the timeout 1${nl}recv with a 2 s timeout, handler without SA_RESTART: -1 EINTR, not before the timeout 1${nl}send on a full socket with a 2 s timeout, SA_RESTART handler: -1 EINTR, not before the timeout 1${nl}accept with a 2 s timeout, SA_RESTART handler: -1 EINTR, not before the timeout 1${nl}SO_RCVTIMEO -1 s reads back: 0 0.000000 len 16${nl}recv on a full socket with it: 1 ok, not before the timeout 1${nl}recv on an empty socket with it: -1 EAGAIN, not before the timeout 1${nl}SO_RCVTIMEO cleared reads back: 0 0.000000 len 16${nl}recv without a timeout, SA_RESTART handler: 1 y${nl}" \
	-- "$LBVM" run "$E/unix_timeo"
check "unix SO_RCVTIMEO/SO_SNDTIMEO, glibc static" 0 \
	"SO_RCVTIMEO unset reads back: 0 0.000000 len 16${nl}SO_RCVTIMEO 40 ms reads back: 0 0.040000 len 16${nl}SO_SNDTIMEO 1.5 s reads back: 0 1.500000 len 16${nl}recv with a 40 ms timeout: -1 EAGAIN, not before the timeout 1${nl}read with a 40 ms timeout: -1 EAGAIN, not before the timeout 1${nl}send on a full socket with a 40 ms timeout: -1 EAGAIN, not before the timeout 1${nl}accept with a 40 ms timeout: -1 EAGAIN, not before the timeout 1${nl}recv with a 2 s timeout, SA_RESTART handler: -1 EINTR, not before the timeout 1${nl}read with a 2 s timeout, SA_RESTART handler: -1 EINTR, not before the timeout 1${nl}recv with a 2 s timeout, handler without SA_RESTART: -1 EINTR, not before the timeout 1${nl}send on a full socket with a 2 s timeout, SA_RESTART handler: -1 EINTR, not before the timeout 1${nl}accept with a 2 s timeout, SA_RESTART handler: -1 EINTR, not before the timeout 1${nl}SO_RCVTIMEO -1 s reads back: 0 0.000000 len 16${nl}recv on a full socket with it: 1 ok, not before the timeout 1${nl}recv on an empty socket with it: -1 EAGAIN, not before the timeout 1${nl}SO_RCVTIMEO cleared reads back: 0 0.000000 len 16${nl}recv without a timeout, SA_RESTART handler: 1 y${nl}" \
	-- "$LBVM" run "$E/unix_timeo-glibc"
check "epoll items belong to (file description, fd): they outlive close(fd) while a dup or a child holds the description, a dup is an item of its own, the last close drops them" 0 \
	"add the read end: 0 ok${nl}after close(fd) with a dup open, data written: 1 data 100 events 0x1${nl}mod through the closed fd: -1 Bad file descriptor${nl}del through the closed fd: -1 Bad file descriptor${nl}add the dup: 0 ok${nl}add the dup again: -1 File exists${nl}both items of the one description: 2 data 100 events 0x1 data 200 events 0x1${nl}del the old number, now another pipe: -1 No such file or directory${nl}add the old number for the other pipe: 0 ok${nl}three items, two ready: 2 data 100 events 0x1 data 200 events 0x1${nl}poll on the epoll fd: 1 revents 0x1${nl}after the description's last close: 0${nl}del the dup's number: -1 Bad file descriptor${nl}the other pipe written: 1 data 300 events 0x1${nl}the other pipe's dup closed, its first fd still open: 1 data 300 events 0x1${nl}after its last close too: 0${nl}add a socket: 0 ok${nl}socket closed here, open in the child, then written: 1 data 400${nl}child exit 0${nl}after the child exited (the description's last reference): 0${nl}" \
	-- "$LBVM" run "$E/epoll_ident"
check "epoll items by (file description, fd), glibc static" 0 \
	"add the read end: 0 ok${nl}after close(fd) with a dup open, data written: 1 data 100 events 0x1${nl}mod through the closed fd: -1 Bad file descriptor${nl}del through the closed fd: -1 Bad file descriptor${nl}add the dup: 0 ok${nl}add the dup again: -1 File exists${nl}both items of the one description: 2 data 100 events 0x1 data 200 events 0x1${nl}del the old number, now another pipe: -1 No such file or directory${nl}add the old number for the other pipe: 0 ok${nl}three items, two ready: 2 data 100 events 0x1 data 200 events 0x1${nl}poll on the epoll fd: 1 revents 0x1${nl}after the description's last close: 0${nl}del the dup's number: -1 Bad file descriptor${nl}the other pipe written: 1 data 300 events 0x1${nl}the other pipe's dup closed, its first fd still open: 1 data 300 events 0x1${nl}after its last close too: 0${nl}add a socket: 0 ok${nl}socket closed here, open in the child, then written: 1 data 400${nl}child exit 0${nl}after the child exited (the description's last reference): 0${nl}" \
	-- "$LBVM" run "$E/epoll_ident-glibc"
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
# Group stop: the expected text is what both builds print natively on Linux.
want_gs="before: every thread moves 1${nl}"
for how in "kill STOP" "tgkill of the sleeping thread TSTP" "tgkill of the spinning thread TTIN"; do
	want_gs+="$how: stopped 1 by ${how##* }${nl}  state TT, every thread still 1${nl}  a second stop report: 0${nl}"
	want_gs+="  continued 1, a second report: 0${nl}  not stopped 1, every thread moves 1${nl}"
done
want_gs+="SIGKILL while stopped: 1 signal 9${nl}"
for v in groupstop groupstop-glibc; do
	check "$v: a stop signal stops every thread (kill or tgkill of one), one stop and one continue for waitpid, /proc says T, SIGKILL while stopped" 0 \
		"$want_gs" -- "$LBVM" run "$E/$v"
done
want_cf="after a thread's chdir and umask: cwd /tmp (/proc/self/cwd /tmp), umask 077, thread ok${nl}"
want_cf+="a thread without CLONE_FS: its cwd /dev, ours still /tmp, umask 077${nl}after a forked child's chdir: /tmp (child 0)${nl}"
want_cf+="after a CLONE_FS child process's chdir and umask: cwd /proc, umask 000 (child 0)${nl}relative open from there: ok${nl}"
for v in clonefs clonefs-glibc; do
	check "$v: CLONE_FS shares cwd and umask between threads and with a cloned process; without it, and after fork, each has its own" 0 \
		"$want_cf" -- "$LBVM" run "$E/$v"
done
check "futex waits that time out beside threads in nanosleep: no kernel timer lost, no idle halt with nothing in flight" 0 \
	"futex timeouts 6000, sleeps 6000${nl}" -- "$LBVM" run "$E/timerrace"
# The Go runtime (tests/e2e/go): its output in the VM must be what it prints natively. From an image, so that
# os/exec can run /proc/self/exe.
mkdir -p "$T/go"
cp "$E/goruntime" "$T/go/"
"$LBVM" pack "$T/go" -o "$T/go.img" --entry /goruntime >/dev/null
want_go=$("$E/goruntime" </dev/null)$nl
check "Go: goroutines on 4 threads, channels, mutex and waitgroup, timers, GC of 290 MB, signal.Notify, async preemption, os/exec" 0 \
	"$want_go" -- "$LBVM" run "$T/go.img"
check "alarm and a periodic ITIMER_REAL deliver SIGALRM" 0 "alarm: 1 tick after about a second${nl}itimer: 4 ticks${nl}alarm(0) after cancel: 0${nl}" \
	-- "$LBVM" run "$E/alarm"
check_err "SIGALRM with no handler: 142" 142 'SIGALRM' -- "$LBVM" run "$E/alarm" x
check "preemption: a busy child does not starve its parent" 0 "parent ran while the child spins${nl}child killed: 9${nl}" \
	-- "$LBVM" run "$E/spin"
check "SIGPIPE: handler, ignored, then the default kills (141)" 141 "handler: write -1 EPIPE, got 13${nl}ignored: write -1 EPIPE${nl}" \
	-- "$LBVM" run "$E/sigpipe"
check "getrandom" 0 "getrandom ok${nl}" -- "$LBVM" run "$E/random"
# Input that arrives after a read was interrupted (and before the next) must wait for the next read, as in a pipe.
check "a stdin read cut short by a signal loses no input" 0 "first read: EINTR${nl}read: one${nl}read: two${nl}read: 0${nl}" \
	-- sh -c '(sleep 1; echo one; sleep 2; echo two) | "$0" run "$1"' "$LBVM" "$E/stdin_eintr"
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
host_check_err "dynamically linked: 126, naming its interpreter and how to give it" 126 \
	'/bin/true: dynamically linked \(its interpreter is /lib64/ld-linux-x86-64\.so\.2\).*needs an image or a --mount.*lbvm run --mount' \
	-- "$LBVM_BIN" run /bin/true
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
# KVM's own counters (KVM_GET_STATS_FD): a program that touches fresh pages makes KVM fill page tables.
check_err "--verbose counts the exits KVM handles itself" 0 'inside KVM: [1-9][0-9]* exits in all \(page faults: [1-9][0-9]* filled by KVM' \
	-- "$LBVM" run --verbose "$E/bigmem"

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

# --- networking (tests/e2e/net.sh) ---
"$HERE/net.sh" "$LBVM_BIN" "$E" >"$T/net.log" 2>&1
tally "$T/net.log"
if ! grep -q '^net: ' "$T/net.log"; then
	bad "net.sh did not finish" "$(tail -5 "$T/net.log")"
fi

# --- dynamically linked programs and file mappings (tests/e2e/dynamic.sh) ---
"$HERE/dynamic.sh" "$LBVM_BIN" "$E" >"$T/dynamic.log" 2>&1
tally "$T/dynamic.log"
if ! grep -q '^dynamic: ' "$T/dynamic.log"; then
	bad "dynamic.sh did not finish" "$(tail -5 "$T/dynamic.log")"
fi

# --- real Debian programs against the same run natively (tests/e2e/debian.sh; builds the cached tree once) ---
"$HERE/debian.sh" "$LBVM_BIN" "$E" >"$T/debian.log" 2>&1
tally "$T/debian.log"
if ! grep -q '^debian: ' "$T/debian.log"; then
	bad "debian.sh did not finish" "$(tail -5 "$T/debian.log")"
fi

summary e2e
