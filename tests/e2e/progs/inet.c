/* inet.c: TCP and UDP over 127.0.0.1 and ::1 between the program's own processes: addresses, ephemeral ports, options, half-close, refusals, resets, poll and epoll, a bulk transfer; its output is what it prints natively on Linux. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e)
{
	switch (e) {
	case EAGAIN: return "EAGAIN";
	case EINPROGRESS: return "EINPROGRESS";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ENOTCONN: return "ENOTCONN";
	case EPIPE: return "EPIPE";
	case EINVAL: return "EINVAL";
	case EISCONN: return "EISCONN";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case 0: return "ok";
	default: return strerror(e);
	}
}

static void rep(const char *what, long r)
{
	printf("%s: %ld %s\n", what, r, r < 0 ? en(errno) : "ok");
}

/* An address and port as text, whichever the family. */
static const char *show(const struct sockaddr_storage *ss, socklen_t len)
{
	static char out[128];
	char a[64];
	if (ss->ss_family == AF_INET && len == sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const void *)ss;
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(out, sizeof(out), "%s port %s", a, ntohs(s->sin_port) >= 32768 && ntohs(s->sin_port) <= 60999 ? "ephemeral" : "other");
	} else if (ss->ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const void *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(out, sizeof(out), "[%s] port %s", a, ntohs(s->sin6_port) >= 32768 && ntohs(s->sin6_port) <= 60999 ? "ephemeral" : "other");
	} else {
		snprintf(out, sizeof(out), "family %d len %u", ss->ss_family, (unsigned)len);
	}
	return out;
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &l);
	return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port) : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static socklen_t mk(struct sockaddr_storage *ss, int fam, const char *addr, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (fam == AF_INET) {
		struct sockaddr_in *s = (void *)ss;
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &s->sin_addr);
		return sizeof(*s);
	}
	struct sockaddr_in6 *s = (void *)ss;
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((uint16_t)port);
	inet_pton(AF_INET6, addr, &s->sin6_addr);
	return sizeof(*s);
}

static int listener(int fam, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t l = mk(&ss, fam, addr, 0);
	int s = socket(fam, SOCK_STREAM, 0);
	if (bind(s, (struct sockaddr *)&ss, l) < 0 || listen(s, 8) < 0)
		printf("listener on %s: %s\n", addr, strerror(errno));
	return s;
}

static int dial(int fam, const char *addr, int port, int flags)
{
	struct sockaddr_storage ss;
	socklen_t l = mk(&ss, fam, addr, port);
	int c = socket(fam, SOCK_STREAM | flags, 0);
	int r = connect(c, (struct sockaddr *)&ss, l);
	if (r < 0 && !(flags & SOCK_NONBLOCK))
		printf("dial %s: %s\n", addr, en(errno));
	return c;
}

static void names(const char *who, int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &l);
	printf("%s: local %s", who, show(&ss, l));
	l = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &l) == 0)
		printf(", peer %s\n", show(&ss, l));
	else
		printf(", peer: %s\n", en(errno));
}

static int geti(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);
	if (getsockopt(fd, level, name, &v, &l) < 0)
		return -errno;
	return v;
}

/* One TCP conversation on loopback: addresses, data both ways, peek, half-close. */
static void tcp_talk(int fam, const char *addr)
{
	int s = listener(fam, addr);
	printf("%s listener: SO_ACCEPTCONN %d, ", addr, geti(s, SOL_SOCKET, SO_ACCEPTCONN));
	names("listener", s);
	int c = dial(fam, addr, port_of(s), 0);
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int a = accept4(s, (struct sockaddr *)&ss, &l, SOCK_NONBLOCK | SOCK_CLOEXEC);
	printf("accept4: from %s, nonblock %d cloexec %d\n", show(&ss, l), (fcntl(a, F_GETFL) & O_NONBLOCK) != 0,
	       (fcntl(a, F_GETFD) & FD_CLOEXEC) != 0);
	printf("client and accepted ports agree: %d\n", port_of(c) == ntohs(((struct sockaddr_in *)&ss)->sin_port));
	names("client", c);
	names("accepted", a);
	char buf[64];
	rep("recv with nothing there", recv(a, buf, sizeof(buf), 0));
	rep("recv MSG_DONTWAIT", recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	rep("send", send(c, "hello", 5, 0));
	struct pollfd p = { a, POLLIN | POLLOUT | POLLRDHUP, 0 };
	int pr = poll(&p, 1, 1000);
	printf("poll with data: %d revents 0x%x\n", pr, p.revents);
	long n = recv(a, buf, sizeof(buf), MSG_PEEK);
	printf("peek: %ld <%.*s>\n", n, (int)n, buf);
	n = recv(a, buf, 3, 0);
	printf("recv 3: %ld <%.*s>\n", n, (int)n, buf);
	n = read(a, buf, sizeof(buf));
	printf("read the rest: %ld <%.*s>\n", n, (int)n, buf);
	rep("shutdown(SHUT_WR)", shutdown(c, SHUT_WR));
	p.revents = 0;
	pr = poll(&p, 1, 1000);
	printf("poll after the peer's SHUT_WR: %d revents 0x%x\n", pr, p.revents);
	rep("read at the half-close", read(a, buf, sizeof(buf)));
	rep("send after SHUT_WR, MSG_NOSIGNAL", send(c, "x", 1, MSG_NOSIGNAL));
	rep("the other way still works", write(a, "bye", 3));
	n = recv(c, buf, 3, MSG_WAITALL);
	printf("client reads <%.*s> then the end\n", (int)n, buf);
	close(a);
	rep("read after the close", read(c, buf, sizeof(buf)));
	close(c);
	close(s);
}

static void refusals(void)
{
	int s = listener(AF_INET, "127.0.0.1");
	int port = port_of(s);
	close(s);
	struct sockaddr_storage ss;
	socklen_t l = mk(&ss, AF_INET, "127.0.0.1", port);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	rep("connect to a closed port", connect(c, (struct sockaddr *)&ss, l));
	close(c);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(c, (struct sockaddr *)&ss, l);
	printf("nonblocking connect to a closed port: %s\n", r == 0 ? "0" : r < 0 && (errno == EINPROGRESS || errno == ECONNREFUSED) ? "EINPROGRESS or ECONNREFUSED" : en(errno));
	struct pollfd p = { c, POLLOUT, 0 };
	poll(&p, 1, 1000);
	printf("  poll: POLLOUT %d POLLERR %d\n", !!(p.revents & POLLOUT), !!(p.revents & POLLERR));
	int e = geti(c, SOL_SOCKET, SO_ERROR);
	printf("  SO_ERROR %s, then %s\n", en(e), en(geti(c, SOL_SOCKET, SO_ERROR)));
	close(c);

	s = listener(AF_INET, "127.0.0.1");
	c = dial(AF_INET, "127.0.0.1", port_of(s), SOCK_NONBLOCK);
	p.fd = c;
	p.revents = 0;
	int pr = poll(&p, 1, 1000);
	printf("nonblocking connect to a listener: poll %d POLLOUT %d, SO_ERROR %s\n", pr, !!(p.revents & POLLOUT),
	       en(geti(c, SOL_SOCKET, SO_ERROR)));
	rep("connect again", connect(c, (struct sockaddr *)&ss, l));
	int a = accept(s, NULL, NULL);
	/* Unread data at the close: the peer is reset. */
	write(c, "unread", 6);
	usleep(20000);
	close(a);
	usleep(20000);
	p.events = POLLIN;
	p.revents = 0;
	poll(&p, 1, 1000);
	printf("after the peer closed unread: POLLERR %d POLLHUP %d\n", !!(p.revents & POLLERR), !!(p.revents & POLLHUP));
	char buf[8];
	rep("recv after a reset", recv(c, buf, sizeof(buf), 0));
	close(c);

	/* The same port twice; SO_REUSEPORT on both lets it. */
	int x = socket(AF_INET, SOCK_STREAM, 0), y = socket(AF_INET, SOCK_STREAM, 0);
	l = mk(&ss, AF_INET, "127.0.0.1", port_of(s));
	rep("bind a port in use", bind(x, (struct sockaddr *)&ss, l));
	l = mk(&ss, AF_INET, "10.9.8.7", 0);
	rep("bind an address not on this machine", bind(x, (struct sockaddr *)&ss, l));
	close(s);
	int one = 1;
	setsockopt(x, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(y, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	l = mk(&ss, AF_INET, "127.0.0.1", 0);
	bind(x, (struct sockaddr *)&ss, l);
	l = mk(&ss, AF_INET, "127.0.0.1", port_of(x));
	rep("SO_REUSEPORT on both: bind", bind(y, (struct sockaddr *)&ss, l));
	rep("bind twice", bind(y, (struct sockaddr *)&ss, l));
	close(x);
	close(y);
	c = socket(AF_INET, SOCK_STREAM, 0);
	rep("send unconnected, MSG_NOSIGNAL", send(c, "x", 1, MSG_NOSIGNAL));
	rep("recv unconnected", recv(c, buf, 1, 0));
	rep("shutdown unconnected", shutdown(c, SHUT_RDWR));
	rep("listen on a UDP socket", listen(socket(AF_INET, SOCK_DGRAM, 0), 1));
	l = mk(&ss, AF_INET6, "::1", 1);
	rep("connect an AF_INET socket to AF_INET6", connect(c, (struct sockaddr *)&ss, l));
	l = mk(&ss, AF_INET, "127.0.0.1", 1);
	rep("connect with a short address", connect(c, (struct sockaddr *)&ss, 8));
	rep("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){ 0, 0 }));
	close(c);
}

static void options(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1, sz = 65536;
	printf("defaults: SO_TYPE %d SO_PROTOCOL %d SO_DOMAIN %d TCP_NODELAY %d SO_KEEPALIVE %d SO_REUSEADDR %d SO_ERROR %d\n",
	       geti(s, SOL_SOCKET, SO_TYPE), geti(s, SOL_SOCKET, SO_PROTOCOL), geti(s, SOL_SOCKET, SO_DOMAIN),
	       geti(s, IPPROTO_TCP, TCP_NODELAY), geti(s, SOL_SOCKET, SO_KEEPALIVE), geti(s, SOL_SOCKET, SO_REUSEADDR),
	       geti(s, SOL_SOCKET, SO_ERROR));
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	printf("set: TCP_NODELAY %d SO_KEEPALIVE %d SO_REUSEADDR %d SO_RCVBUF %d SO_SNDBUF %d\n", geti(s, IPPROTO_TCP, TCP_NODELAY),
	       geti(s, SOL_SOCKET, SO_KEEPALIVE), geti(s, SOL_SOCKET, SO_REUSEADDR), geti(s, SOL_SOCKET, SO_RCVBUF),
	       geti(s, SOL_SOCKET, SO_SNDBUF));
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	printf("udp6: SO_TYPE %d SO_PROTOCOL %d SO_DOMAIN %d IPV6_V6ONLY %d, TCP_NODELAY on UDP %d\n", geti(u, SOL_SOCKET, SO_TYPE),
	       geti(u, SOL_SOCKET, SO_PROTOCOL), geti(u, SOL_SOCKET, SO_DOMAIN), geti(u, IPPROTO_IPV6, IPV6_V6ONLY),
	       geti(u, IPPROTO_TCP, TCP_NODELAY) == -EOPNOTSUPP || geti(u, IPPROTO_TCP, TCP_NODELAY) == -ENOPROTOOPT);
	close(u);
	close(s);
}

/* v4-mapped: a dual-stack listener on :: takes 127.0.0.1; IPV6_V6ONLY refuses it. */
static void mapped(void)
{
	int s = listener(AF_INET6, "::");
	int c = dial(AF_INET, "127.0.0.1", port_of(s), 0);
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int a = accept(s, (struct sockaddr *)&ss, &l);
	printf("dual-stack accept: from %s\n", show(&ss, l));
	names("dual-stack accepted", a);
	close(a);
	close(c);
	close(s);
	s = socket(AF_INET6, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	l = mk(&ss, AF_INET6, "::", 0);
	bind(s, (struct sockaddr *)&ss, l);
	listen(s, 1);
	l = mk(&ss, AF_INET, "127.0.0.1", port_of(s));
	c = socket(AF_INET, SOCK_STREAM, 0);
	rep("v4 connect to a V6ONLY listener", connect(c, (struct sockaddr *)&ss, l));
	close(c);
	close(s);
}

/* Blocking accept woken by another process; epoll on a listener and a connection; 1 MiB through full buffers. */
static void processes(void)
{
	int s = listener(AF_INET, "127.0.0.1");
	int port = port_of(s);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(50000);
		int c = dial(AF_INET, "127.0.0.1", port, 0);
		static char big[1 << 20];
		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (char)(i * 7 + i / 1000);
		size_t done = 0;
		while (done < sizeof(big)) {
			ssize_t n = write(c, big + done, sizeof(big) - done);
			if (n <= 0)
				_exit(2);
			done += (size_t)n;
		}
		close(c);
		_exit(0);
	}
	struct epoll_event got;
	int n = epoll_wait(ep, &got, 1, 5000);
	printf("epoll on the listener: %d events 0x%x data %u\n", n, got.events, got.data.u32);
	int a = accept(s, NULL, NULL);
	ev.data.u32 = 9;
	epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
	n = epoll_wait(ep, &got, 1, 5000);
	printf("epoll on the connection: %d data %u\n", n, got.data.u32);
	unsigned long sum = 0, total = 0, bad = 0;
	char buf[7000];
	ssize_t r;
	while ((r = read(a, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++, total++) {
			sum += (unsigned char)buf[i];
			if (buf[i] != (char)(total * 7 + total / 1000))
				bad++;
		}
	}
	int st;
	waitpid(pid, &st, 0);
	printf("bulk: %lu bytes, sum %lu, wrong %lu, writer exit %d\n", total, sum, bad, WEXITSTATUS(st));
	close(a);
	close(s);
	close(ep);
}

static void udp(int fam, const char *addr)
{
	struct sockaddr_storage ss, from;
	socklen_t l = mk(&ss, fam, addr, 0), fl;
	int a = socket(fam, SOCK_DGRAM, 0), b = socket(fam, SOCK_DGRAM, 0);
	bind(a, (struct sockaddr *)&ss, l);
	l = mk(&ss, fam, addr, port_of(a));
	char buf[64];
	rep("udp sendto from an unbound socket", sendto(b, "one", 3, 0, (struct sockaddr *)&ss, l));
	rep("udp sendto again", sendto(b, "two!", 4, 0, (struct sockaddr *)&ss, l));
	fl = sizeof(from);
	long n = recvfrom(a, buf, sizeof(buf), MSG_PEEK, (struct sockaddr *)&from, &fl);
	printf("udp peek: %ld <%.*s> from %s\n", n, (int)n, buf, show(&from, fl));
	printf("udp sender autobound, ports agree: %d\n", port_of(b) == (fam == AF_INET ? ntohs(((struct sockaddr_in *)&from)->sin_port) : ntohs(((struct sockaddr_in6 *)&from)->sin6_port)));
	n = recv(a, buf, sizeof(buf), 0);
	printf("udp recv: %ld <%.*s>\n", n, (int)n, buf);
	struct iovec iov = { buf, 2 };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1 };
	n = recvmsg(a, &m, 0);
	printf("udp recvmsg into 2: %ld <%.*s> MSG_TRUNC %d namelen ok %d\n", n, (int)n, buf, !!(m.msg_flags & MSG_TRUNC),
	       m.msg_namelen == l);
	rep("udp recv, nothing there, MSG_DONTWAIT", recv(a, buf, sizeof(buf), MSG_DONTWAIT));
	rep("udp send unconnected", send(a, "x", 1, 0));
	printf("udp errno is EDESTADDRREQ: %d\n", errno == EDESTADDRREQ);
	l = mk(&ss, fam, addr, port_of(b));
	rep("udp connect", connect(a, (struct sockaddr *)&ss, l));
	rep("udp connected send", send(a, "reply", 5, 0));
	n = recv(b, buf, sizeof(buf), 0);
	printf("udp reply: %ld <%.*s>\n", n, (int)n, buf);
	names("udp connected", a);
	close(b);
	rep("udp sendto a closed port", sendto(a, "lost", 4, 0, (struct sockaddr *)&ss, l));
	usleep(20000);
	rep("udp recv after that on the connected socket", recv(a, buf, sizeof(buf), MSG_DONTWAIT));
	rep("udp recv again", recv(a, buf, sizeof(buf), MSG_DONTWAIT));
	close(a);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	tcp_talk(AF_INET, "127.0.0.1");
	tcp_talk(AF_INET6, "::1");
	refusals();
	options();
	mapped();
	processes();
	udp(AF_INET, "127.0.0.1");
	udp(AF_INET6, "::1");
	return 0;
}
