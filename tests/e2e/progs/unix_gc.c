/* unix_gc.c: SCM_RIGHTS cycles are collected once nothing outside them is left; descriptors legitimately in flight are not. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PAYLOAD 32768   /* each cycle holds this much too, so a leak runs out of memory well before 20,000 */

static char payload[PAYLOAD];

static void die(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	exit(1);
}

/* Send fd over via with len bytes of data in the same message. */
static void send_fd(int via, int fd, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { payload, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(via, &mh, 0) != (ssize_t)len)
		die("sendmsg with a descriptor");
}

/* Receive one message of len bytes and the descriptor it carries. */
static int recv_fd(int via, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	static char buf[PAYLOAD];
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	if (recvmsg(via, &mh, MSG_WAITALL) != (ssize_t)len)
		die("recvmsg of a descriptor");
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static void pair(int type, int sv[2])
{
	if (socketpair(AF_UNIX, type, 0, sv))
		die("socketpair");
}

/* A socket that carries itself: b's queue holds b. */
static void cycle_self(int type, size_t len)
{
	int sv[2];
	pair(type, sv);
	send_fd(sv[0], sv[1], len);
	close(sv[0]);
	close(sv[1]);
}

/* Two pairs, each carrying the other's receiving end. */
static void cycle_cross(size_t len)
{
	int a[2], b[2];
	pair(SOCK_STREAM, a);
	pair(SOCK_STREAM, b);
	send_fd(a[0], b[1], len);
	send_fd(b[0], a[1], len);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

/* A listener carried by a connection it has not accepted yet. */
static void cycle_listener(size_t len)
{
	static int n;   /* a fresh name each time: the last one may still wait for the collector */
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t sl = offsetof(struct sockaddr_un, sun_path) + 1 +
		       (socklen_t)snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "lbvm-gc-%d-%d", (int)getpid(), n++);
	int l = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || c < 0)
		die("socket");
	if (bind(l, (struct sockaddr *)&sa, sl) || listen(l, 4))
		die("bind and listen");
	if (connect(c, (struct sockaddr *)&sa, sl))
		die("connect");
	send_fd(c, l, len);
	close(c);
	close(l);
}

/* A descriptor in flight after its sender closed its own copy still arrives and works. */
static void legit(void)
{
	int s[2], p[2], q[2];
	pair(SOCK_STREAM, s);
	pair(SOCK_STREAM, q);
	if (pipe(p))
		die("pipe");
	send_fd(s[0], p[0], 5);
	send_fd(s[0], q[1], 7);
	close(p[0]);
	close(q[1]);
	for (int i = 0; i < 100; i++)   /* collections run meanwhile */
		cycle_self(SOCK_STREAM, 1);
	int r = recv_fd(s[1], 5), t = recv_fd(s[1], 7);
	char buf[32] = { 0 };
	if (write(p[1], "through the pipe", 16) != 16 || read(r, buf, sizeof(buf) - 1) != 16)
		die("the pipe in flight");
	printf("pipe in flight: <%s>\n", buf);
	memset(buf, 0, sizeof(buf));
	if (write(q[0], "through the socket", 18) != 18 || read(t, buf, sizeof(buf) - 1) != 18)
		die("the socket in flight");
	printf("socket in flight: <%s>\n", buf);
	close(r);
	close(t);
	close(p[1]);
	close(q[0]);
	close(s[0]);
	close(s[1]);
}

/* A last close of a unix socket, carrying nothing: the collector runs (if a cycle may exist). */
static void trigger(void)
{
	int sv[2];
	pair(SOCK_STREAM, sv);
	close(sv[0]);
	close(sv[1]);
}

/* A cycle (x1 carries y1, y1 carries x1) that a live socket also carries is no garbage: it is received intact. */
static void reachable_cycle(void)
{
	int s[2], x[2], y[2];
	pair(SOCK_STREAM, s);
	pair(SOCK_STREAM, x);
	pair(SOCK_STREAM, y);
	send_fd(x[0], y[1], 3);
	send_fd(y[0], x[1], 4);
	send_fd(s[0], x[1], 5);
	close(x[0]);
	close(x[1]);
	close(y[0]);
	close(y[1]);
	for (int i = 0; i < 100; i++)   /* collections run meanwhile */
		cycle_self(SOCK_STREAM, 1);
	int x1 = recv_fd(s[1], 5);
	int y1 = x1 >= 0 ? recv_fd(x1, 3) : -1;
	int x1b = y1 >= 0 ? recv_fd(y1, 4) : -1;
	printf("a cycle a live socket carries: received %d %d %d\n", x1 >= 0, y1 >= 0, x1b >= 0);
	close(x1);
	close(y1);
	close(x1b);
	close(s[0]);
	close(s[1]);
}

/* b carries itself and is closed: its peer sees the hang-up once the collector ran. */
static void unreachable(void)
{
	int s[2];
	pair(SOCK_STREAM, s);
	send_fd(s[0], s[1], 1);
	close(s[1]);
	trigger();
	struct pollfd pfd = { s[0], POLLIN, 0 };
	int n = poll(&pfd, 1, 10000);
	char c;
	printf("peer of a socket only in flight: poll %d, hang-up %d, read %zd\n", n, (pfd.revents & POLLHUP) != 0,
	       n == 1 ? read(s[0], &c, 1) : (ssize_t)-2);
	close(s[0]);

	/* A cycle (x1, y1) a live socket carried becomes garbage when that socket closes: x1's peer sees the hang-up. */
	int l[2], x[2], y[2];
	pair(SOCK_STREAM, l);
	pair(SOCK_STREAM, x);
	pair(SOCK_STREAM, y);
	send_fd(x[0], y[1], 1);
	send_fd(y[0], x[1], 1);
	send_fd(l[0], x[1], 1);
	close(x[1]);
	close(y[0]);
	close(y[1]);
	trigger();
	pfd.fd = x[0];
	pfd.revents = 0;
	printf("its peer while a live socket carries the cycle: poll %d\n", poll(&pfd, 1, 0));
	close(l[0]);
	close(l[1]);
	trigger();
	n = poll(&pfd, 1, 10000);
	printf("once that socket is closed: poll %d, hang-up %d\n", n, (pfd.revents & POLLHUP) != 0);
	close(x[0]);
}

/* A chain: each new pair's receiving end carries the previous one, which carries the one before... Closing it all must not recurse as deep. */
static void chain(int n)
{
	int prev[2];
	pair(SOCK_STREAM, prev);
	for (int i = 0; i < n; i++) {
		int sv[2];
		pair(SOCK_STREAM, sv);
		send_fd(sv[0], prev[1], 1);
		close(prev[0]);
		close(prev[1]);
		prev[0] = sv[0];
		prev[1] = sv[1];
	}
	close(prev[0]);
	close(prev[1]);
	printf("a chain of %d sockets in flight closed\n", n);
}

int main(int argc, char **argv)
{
	int cycles = argc > 1 ? atoi(argv[1]) : 20000;
	legit();
	reachable_cycle();
	unreachable();
	for (int i = 0; i < cycles; i++) {
		switch (i % 4) {
		case 0: cycle_self(SOCK_STREAM, PAYLOAD); break;
		case 1: cycle_cross(PAYLOAD / 2); break;
		case 2: cycle_self(SOCK_DGRAM, PAYLOAD); break;
		case 3: cycle_listener(PAYLOAD); break;
		}
	}
	printf("%d cycles made and closed\n", cycles);
	chain(cycles);
	legit();
	return 0;
}
