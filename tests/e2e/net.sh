#!/bin/bash
# net.sh: end-to-end tests of networking: TCP and UDP inside one VM over 127.0.0.1 and ::1, and (with --net) to the host.
# usage: tests/e2e/net.sh LBVM E2E_BUILD_DIR   (called by run.sh; prints ok/not ok/skip lines and a summary)
# All traffic stays on this machine's loopback.
set -u
LBVM=$(realpath "$1")
E=$(realpath "$2")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$(realpath "$0")")/../lib.sh"
nl=$'\n'

# What tests/e2e/progs/inet.c prints natively on Linux (musl, Debian 12's kernel).
want_inet=$(cat <<'END'
127.0.0.1 listener: SO_ACCEPTCONN 1, listener: local 127.0.0.1 port ephemeral, peer: ENOTCONN
accept4: from 127.0.0.1 port ephemeral, nonblock 1 cloexec 1
client and accepted ports agree: 1
client: local 127.0.0.1 port ephemeral, peer 127.0.0.1 port ephemeral
accepted: local 127.0.0.1 port ephemeral, peer 127.0.0.1 port ephemeral
recv with nothing there: -1 EAGAIN
recv MSG_DONTWAIT: -1 EAGAIN
send: 5 ok
poll with data: 1 revents 0x5
peek: 5 <hello>
recv 3: 3 <hel>
read the rest: 2 <lo>
shutdown(SHUT_WR): 0 ok
poll after the peer's SHUT_WR: 1 revents 0x2005
read at the half-close: 0 ok
send after SHUT_WR, MSG_NOSIGNAL: -1 EPIPE
the other way still works: 3 ok
client reads <bye> then the end
read after the close: 0 ok
::1 listener: SO_ACCEPTCONN 1, listener: local [::1] port ephemeral, peer: ENOTCONN
accept4: from [::1] port ephemeral, nonblock 1 cloexec 1
client and accepted ports agree: 1
client: local [::1] port ephemeral, peer [::1] port ephemeral
accepted: local [::1] port ephemeral, peer [::1] port ephemeral
recv with nothing there: -1 EAGAIN
recv MSG_DONTWAIT: -1 EAGAIN
send: 5 ok
poll with data: 1 revents 0x5
peek: 5 <hello>
recv 3: 3 <hel>
read the rest: 2 <lo>
shutdown(SHUT_WR): 0 ok
poll after the peer's SHUT_WR: 1 revents 0x2005
read at the half-close: 0 ok
send after SHUT_WR, MSG_NOSIGNAL: -1 EPIPE
the other way still works: 3 ok
client reads <bye> then the end
read after the close: 0 ok
connect to a closed port: -1 ECONNREFUSED
nonblocking connect to a closed port: EINPROGRESS or ECONNREFUSED
  poll: POLLOUT 1 POLLERR 1
  SO_ERROR ECONNREFUSED, then ok
nonblocking connect to a listener: poll 1 POLLOUT 1, SO_ERROR ok
connect again: 0 ok
after the peer closed unread: POLLERR 1 POLLHUP 1
recv after a reset: -1 ECONNRESET
bind a port in use: -1 EADDRINUSE
bind an address not on this machine: -1 EADDRNOTAVAIL
SO_REUSEPORT on both: bind: 0 ok
bind twice: -1 EINVAL
send unconnected, MSG_NOSIGNAL: -1 EPIPE
recv unconnected: -1 ENOTCONN
shutdown unconnected: -1 ENOTCONN
listen on a UDP socket: -1 EOPNOTSUPP
connect an AF_INET socket to AF_INET6: -1 EAFNOSUPPORT
connect with a short address: -1 EINVAL
socketpair(AF_INET): -1 EOPNOTSUPP
defaults: SO_TYPE 1 SO_PROTOCOL 6 SO_DOMAIN 2 TCP_NODELAY 0 SO_KEEPALIVE 0 SO_REUSEADDR 0 SO_ERROR 0
set: TCP_NODELAY 1 SO_KEEPALIVE 1 SO_REUSEADDR 1 SO_RCVBUF 131072 SO_SNDBUF 131072
udp6: SO_TYPE 2 SO_PROTOCOL 17 SO_DOMAIN 10 IPV6_V6ONLY 0, TCP_NODELAY on UDP 1
dual-stack accept: from [::ffff:127.0.0.1] port ephemeral
dual-stack accepted: local [::ffff:127.0.0.1] port ephemeral, peer [::ffff:127.0.0.1] port ephemeral
v4 connect to a V6ONLY listener: -1 ECONNREFUSED
epoll on the listener: 1 events 0x1 data 7
epoll on the connection: 1 data 9
bulk: 1048576 bytes, sum 133692960, wrong 0, writer exit 0
udp sendto from an unbound socket: 3 ok
udp sendto again: 4 ok
udp peek: 3 <one> from 127.0.0.1 port ephemeral
udp sender autobound, ports agree: 1
udp recv: 3 <one>
udp recvmsg into 2: 2 <tw> MSG_TRUNC 1 namelen ok 1
udp recv, nothing there, MSG_DONTWAIT: -1 EAGAIN
udp send unconnected: -1 EDESTADDRREQ
udp errno is EDESTADDRREQ: 1
udp connect: 0 ok
udp connected send: 5 ok
udp reply: 5 <reply>
udp connected: local 127.0.0.1 port ephemeral, peer 127.0.0.1 port ephemeral
udp sendto a closed port: 4 ok
udp recv after that on the connected socket: -1 ECONNREFUSED
udp recv again: -1 EAGAIN
udp sendto from an unbound socket: 3 ok
udp sendto again: 4 ok
udp peek: 3 <one> from [::1] port ephemeral
udp sender autobound, ports agree: 1
udp recv: 3 <one>
udp recvmsg into 2: 2 <tw> MSG_TRUNC 1 namelen ok 1
udp recv, nothing there, MSG_DONTWAIT: -1 EAGAIN
udp send unconnected: -1 EDESTADDRREQ
udp errno is EDESTADDRREQ: 1
udp connect: 0 ok
udp connected send: 5 ok
udp reply: 5 <reply>
udp connected: local [::1] port ephemeral, peer [::1] port ephemeral
udp sendto a closed port: 4 ok
udp recv after that on the connected socket: -1 ECONNREFUSED
udp recv again: -1 EAGAIN
END
)$nl
check "inet: TCP and UDP between the VM's processes over 127.0.0.1 and ::1: addresses, ephemeral ports, accept4 flags, MSG_PEEK/DONTWAIT/WAITALL/NOSIGNAL, half-close, ECONNREFUSED (blocking, and nonblocking through SO_ERROR), ECONNRESET, EADDRINUSE, SO_REUSEPORT, options, v4-mapped, IPV6_V6ONLY, poll, epoll, 1 MiB through full buffers" 0 \
	"$want_inet" -- "$LBVM" run --net none "$E/inet"
check "inet with --net host: the same, the VM's own listeners still take its loopback connections" 0 \
	"$want_inet" -- "$LBVM" run --net host "$E/inet"

# --- connections that leave the VM (--net), to a python3 http.server on this machine's 127.0.0.1 ---
WWW=$T/www
mkdir -p "$WWW"
head -c 300000 /dev/urandom >"$WWW/blob"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
OTHER=$((PORT == 65535 ? PORT - 1 : PORT + 1))
(cd "$WWW" && exec python3 -m http.server --bind 127.0.0.1 "$PORT") >"$T/http.log" 2>&1 &
HTTP_PID=$!
trap 'kill $HTTP_PID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break
	sleep 0.1
done
# What the client prints natively, on the host itself.
want_get=$("$E/netclient" 127.0.0.1 "$PORT" /blob)$nl
refused="connect: Connection refused$nl"
check "--net allow=127.0.0.1:PORT: an HTTP GET from the VM to the host's server, blocking, as natively" 0 "$want_get" \
	-- "$LBVM" run --net "allow=127.0.0.1:$PORT" "$E/netclient" 127.0.0.1 "$PORT" /blob
check "--net allow=127.0.0.0/8: the same GET nonblocking with poll (as curl does)" 0 "$want_get" \
	-- "$LBVM" run --net allow=127.0.0.0/8 "$E/netclient" 127.0.0.1 "$PORT" /blob poll
check "--net host: the same GET" 0 "$want_get" -- "$LBVM" run --net host "$E/netclient" 127.0.0.1 "$PORT" /blob
check "no --net: refused (ECONNREFUSED)" 1 "$refused" -- "$LBVM" run "$E/netclient" 127.0.0.1 "$PORT" /blob
check "--net none: refused" 1 "$refused" -- "$LBVM" run --net none "$E/netclient" 127.0.0.1 "$PORT" /blob
check "--net none: refused, nonblocking (SO_ERROR)" 1 "$refused" -- "$LBVM" run --net none "$E/netclient" 127.0.0.1 "$PORT" /blob poll
check "--net allow for another port: refused" 1 "$refused" \
	-- "$LBVM" run --net "allow=127.0.0.1:$OTHER" "$E/netclient" 127.0.0.1 "$PORT" /blob
check "--net allow for another address: refused, nonblocking" 1 "$refused" \
	-- "$LBVM" run --net "allow=127.0.0.2:$PORT" "$E/netclient" 127.0.0.1 "$PORT" /blob poll
check_err "--net allow for another port, --verbose: one line names the address and the fix" 1 \
	"connect to 127.0.0.1:$PORT was refused .*add --net allow=127.0.0.1:$PORT" \
	-- "$LBVM" run --verbose --net "allow=127.0.0.1:$OTHER" "$E/netclient" 127.0.0.1 "$PORT" /blob
# IPv6: a server of this script on ::1, reached from the VM with an IPv6 rule (and refused with an IPv4 one).
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	P6=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])')
	(cd "$WWW" && exec python3 -m http.server --bind ::1 "$P6") >"$T/http6.log" 2>&1 &
	HTTP6_PID=$!
	for _ in $(seq 50); do
		python3 -c "import socket; socket.create_connection(('::1', $P6), 1)" 2>/dev/null && break
		sleep 0.1
	done
	check "--net allow=[::1]:PORT: the GET over IPv6 to the host" 0 "$("$E/netclient" ::1 "$P6" /blob)$nl" \
		-- "$LBVM" run --net "allow=[::1]:$P6" "$E/netclient" ::1 "$P6" /blob
	check "--net allow=127.0.0.1:PORT does not allow [::1]:PORT" 1 "$refused" \
		-- "$LBVM" run --net "allow=127.0.0.1:$P6" "$E/netclient" ::1 "$P6" /blob
	kill "$HTTP6_PID" 2>/dev/null
else
	skip "--net allow=[::1]:PORT: the GET over IPv6 to the host" "no IPv6 loopback on this machine"
fi

# A host peer that resets the connection: the program's read gets ECONNRESET.
RPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c 'import socket, struct, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
s.settimeout(60)
open(sys.argv[2], "w").close()
c, _ = s.accept()
c.recv(100)
time.sleep(0.2)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()' "$RPORT" "$T/rst.ready" 2>/dev/null &
RST_PID=$!
for _ in $(seq 100); do [ -e "$T/rst.ready" ] && break; sleep 0.05; done
check "a host peer's reset: the program's read gets ECONNRESET" 1 "read: Connection reset by peer$nl" \
	-- "$LBVM" run --net "allow=127.0.0.1:$RPORT" "$E/netclient" 127.0.0.1 "$RPORT" /x
kill "$RST_PID" 2>/dev/null

# Debian's busybox wget, in an image packed here as images.sh does.
printf 'hello from the host\n' >"$WWW/hi.txt"
if "$(dirname "$(realpath "$0")")/../../images/mktree-busybox.sh" "$T/bb" >/dev/null 2>&1 &&
	"$LBVM_BIN" pack "$T/bb" -o "$T/bb.img" --entry /bin/busybox --arg sh >/dev/null 2>&1; then
	check "busybox wget in the VM fetches from the host with --net allow=127.0.0.1:PORT" 0 "hello from the host$nl" \
		-- "$LBVM" run --net "allow=127.0.0.1:$PORT" "$T/bb.img" wget -qO- "http://127.0.0.1:$PORT/hi.txt"
	check_err "busybox wget without --net: refused" 1 "can't connect to remote host \(127\.0\.0\.1\): Connection refused" \
		-- "$LBVM" run "$T/bb.img" wget -qO- "http://127.0.0.1:$PORT/hi.txt"
else
	bad "busybox image for wget" "images/mktree-busybox.sh or lbvm pack failed"
fi
# Debian's python3 (the cached tree of images/debian-tree.sh, as debian.sh uses it): urllib to the host, a threaded
# server and client on ::1 inside the VM.
TREE=$("$(dirname "$(realpath "$0")")/../../images/debian-tree.sh" 2>/dev/null)
if [ -n "$TREE" ] && [ -x "$TREE/usr/bin/python3" ] && "$LBVM_BIN" pack "$TREE" -o "$T/deb.img" --entry /bin/bash >/dev/null 2>&1; then
	py_get='import sys, urllib.request, hashlib
try:
    d = urllib.request.urlopen(sys.argv[1], timeout=10).read()
    print(len(d), hashlib.sha256(d).hexdigest())
except Exception as e:
    print(type(e).__name__, e)'
	check "python3 urllib in the VM fetches from the host with --net allow=127.0.0.1:PORT, every byte" 0 \
		"300000 $(sha256sum <"$WWW/blob" | cut -d' ' -f1)$nl" \
		-- "$LBVM" run --net "allow=127.0.0.1:$PORT" --entry /usr/bin/python3 "$T/deb.img" -c "$py_get" "http://127.0.0.1:$PORT/blob"
	check "python3 urllib with --net none: refused" 0 "URLError <urlopen error [Errno 111] Connection refused>$nl" \
		-- "$LBVM" run --net none --entry /usr/bin/python3 "$T/deb.img" -c "$py_get" "http://127.0.0.1:$PORT/blob"
	py_echo='import socket, threading
srv = socket.socket(socket.AF_INET6)
srv.bind(("::1", 0))
srv.listen()
def serve():
    c, _ = srv.accept()
    c.sendall(c.recv(100).upper())
    c.close()
t = threading.Thread(target=serve)
t.start()
c = socket.create_connection(("::1", srv.getsockname()[1]))
c.sendall(b"hello over ::1")
print(c.recv(100).decode())
t.join()'
	check "python3 in the VM: a threaded server and client over ::1, with --net none" 0 "HELLO OVER ::1$nl" \
		-- "$LBVM" run --net none --entry /usr/bin/python3 "$T/deb.img" -c "$py_echo"
	# UDP to the host: a connected socket to an echo server of this script, under allow= and refused without it.
	UPORT=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)
open(sys.argv[2], "w").close()
for _ in range(7):
    d, a = s.recvfrom(65536)
    s.sendto(d.upper(), a)' "$UPORT" "$T/udp.ready" 2>/dev/null &
	UDP_PID=$!
	for _ in $(seq 100); do [ -e "$T/udp.ready" ] && break; sleep 0.05; done
	py_udp='import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    for m in (b"one", b"two", b"x" * 3000):
        s.send(m)
        r = s.recv(65536)
        print(len(r), r[:3].decode())
except OSError as e:
    print(e)'
	check "UDP to the host with --net allow=127.0.0.1:PORT: three datagrams there and back (python3, connected socket)" 0 \
		"3 ONE${nl}3 TWO${nl}3000 XXX$nl" -- "$LBVM" run --net "allow=127.0.0.1:$UPORT" --entry /usr/bin/python3 "$T/deb.img" -c "$py_udp" "$UPORT"
	check "UDP to the host with an allow rule for another port: refused" 0 "[Errno 111] Connection refused$nl" \
		-- "$LBVM" run --net "allow=127.0.0.1:$PORT" --entry /usr/bin/python3 "$T/deb.img" -c "$py_udp" "$UPORT"
	py_udp2='import select, socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in (b"one", b"two"):
    s.sendto(m, ("127.0.0.1", port))
    r, a = s.recvfrom(100)
    print(r.decode(), a == ("127.0.0.1", port))
t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t.sendto(b"from the vm", s.getsockname())
print(select.select([s], [], [], 5)[0] == [s], s.recvfrom(100)[0].decode())
s.sendto(b"three", ("127.0.0.1", port))
print(select.select([s], [], [], 5)[0] == [s], s.recvfrom(100)[0].decode())
try:
    s.sendto(b"x", ("127.0.0.1", port + 1))
except OSError as e:
    print(e)'
	check "UDP to the host without connect: sendto/recvfrom with the sender's address, beside a datagram from the VM itself, poll; another port refused" 0 \
		"ONE True${nl}TWO True${nl}True from the vm${nl}True THREE${nl}[Errno 111] Connection refused$nl" \
		-- "$LBVM" run --net "allow=127.0.0.1:$UPORT" --entry /usr/bin/python3 "$T/deb.img" -c "$py_udp2" "$UPORT"
	# As glibc's resolver does: a nonblocking UDP socket's connect completes at once (never EINPROGRESS).
	py_udp3='import select, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK)
print(s.connect_ex(("127.0.0.1", int(sys.argv[1]))))
s.send(b"query")
print(select.select([s], [], [], 5)[0] == [s], s.recv(100).decode())'
	check "UDP to the host from a nonblocking socket: connect gives 0, as glibc's resolver needs" 0 "0${nl}True QUERY$nl" \
		-- "$LBVM" run --net "allow=127.0.0.1:$UPORT" --entry /usr/bin/python3 "$T/deb.img" -c "$py_udp3" "$UPORT"
	kill "$UDP_PID" 2>/dev/null
else
	skip "python3 urllib to the host" "no Debian tree (images/debian-tree.sh; debian.sh reports why)"
fi
for bad in "allow=1.2.3.4:0" "allow=10.0.0.0/33" "everything" "allow=::1/129"; do
	host_check_err "--net $bad: 125, names the value" 125 "--net $bad: " -- "$LBVM_BIN" run --net "$bad" "$E/hello"
done

# --- --publish: the VMM listens on the host and hands connections to the program's listener ---
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
if vm_check "--publish: a C epoll echo server in the VM, 100 concurrent clients from the host, every byte checked"; then
	HP=$(free_port)
	"$LBVM" run --timeout 60s --publish "127.0.0.1:$HP:7000" "$E/echoserver" 7000 100 >"$T/echo.out" 2>&1 &
	VM_PID=$!
	got=$(timeout 90 python3 "$(dirname "$(realpath "$0")")/echoclients.py" 127.0.0.1 "$HP" 100 100000)
	wait "$VM_PID"
	st=$?
	want="100 of 100 clients got every byte back / served 100 connections, 10000000 bytes echoed, several at once: yes"
	got="$got / $(cat "$T/echo.out")"
	if [ "$st" = 0 ] && [ "$got" = "$want" ]; then
		ok "--publish: a C epoll echo server in the VM, 100 concurrent clients from the host, every byte checked"
	else
		bad "--publish: a C epoll echo server in the VM, 100 concurrent clients from the host, every byte checked" \
			"status $st, got: $got" "want: $want"
	fi
fi
if [ -f "$T/deb.img" ] && vm_check "--publish: python3 -m http.server in the VM, fetched from the host, every byte"; then
	HP=$(free_port)
	"$LBVM" run --timeout 60s --publish "127.0.0.1:$HP:8000" --mount "$WWW:/www" --entry /usr/bin/python3 "$T/deb.img" \
		-m http.server -d /www 8000 >"$T/pyhttp.out" 2>&1 &
	VM_PID=$!
	got=""
	for _ in $(seq 100); do
		got=$(python3 -c "import sys, urllib.request, hashlib; print(hashlib.sha256(urllib.request.urlopen(sys.argv[1], timeout=5).read()).hexdigest())" \
			"http://127.0.0.1:$HP/blob" 2>/dev/null) && break
		sleep 0.1
	done
	kill "$VM_PID" 2>/dev/null
	wait "$VM_PID" 2>/dev/null
	if [ "$got" = "$(sha256sum <"$WWW/blob" | cut -d' ' -f1)" ]; then
		ok "--publish: python3 -m http.server in the VM, fetched from the host, every byte"
	else
		bad "--publish: python3 -m http.server in the VM, fetched from the host, every byte" "got <$got>" \
			"server: $(head -c 300 "$T/pyhttp.out")"
	fi
fi
for bad in "8080" "0:80" "8080:70000" "8080:80/sctp" "1.2.3:8080:80" "[::1:8080:80"; do
	host_check_err "--publish $bad: 125, names the value" 125 "--publish .*: not \\[HOSTADDR:\\]HOSTPORT" -- "$LBVM_BIN" run --publish "$bad" "$E/hello"
done
host_check_err "--publish .../udp: 125, not supported yet" 125 "UDP is not supported yet" -- "$LBVM_BIN" run --publish 8080:80/udp "$E/hello"
host_check_err "--publish on a host port in use: 125, names the address" 125 "cannot listen on 127.0.0.1:$PORT: Address already in use" \
	-- "$LBVM_BIN" run --publish "$PORT:80" "$E/hello"

# host_sockets ARGS...: how many sockets lbvm holds while the program in the VM sleeps after its connect (netclient hold)
host_sockets() {
	"$LBVM" run "$@" "$E/netclient" 127.0.0.1 "$PORT" /blob hold >/dev/null 2>&1 &
	local pid=$! n=-1
	sleep 1
	[ -d "/proc/$pid/fd" ] && n=$(find "/proc/$pid/fd" -lname 'socket:*' 2>/dev/null | wc -l)
	wait "$pid"
	echo "$n"
}
if vm_check "--net none: the VMM holds no host socket (and with allow=, one: the count can fail)"; then
	none=$(host_sockets --net none)
	allowed=$(host_sockets --net "allow=127.0.0.1:$PORT")
	if [ "$none" = 0 ] && [ "$allowed" = 1 ]; then
		ok "--net none: the VMM holds no host socket (and with allow=, one: the count can fail)"
	else
		bad "--net none: the VMM holds no host socket (and with allow=, one: the count can fail)" \
			"sockets in lbvm's fd table: --net none $none (want 0), --net allow= $allowed (want 1)"
	fi
fi

summary net
