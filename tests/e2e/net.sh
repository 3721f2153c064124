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
	"$want_inet" -- "$LBVM" run "$E/inet"

summary net
