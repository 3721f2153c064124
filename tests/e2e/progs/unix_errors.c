/* unix_errors.c: AF_UNIX errors and readiness: nonblocking connect/accept/recv, ECONNREFUSED, ENOENT, EADDRINUSE, ENOTCONN, EPIPE and SIGPIPE, poll, EINTR and SA_RESTART, full buffers. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int got;
static void on_sig(int s) { got = s; }

static const char *ename(int e)
{
	switch (e) {
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EPIPE: return "EPIPE";
	case ENOTSOCK: return "ENOTSOCK";
	case EADDRINUSE: return "EADDRINUSE";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENOTCONN: return "ENOTCONN";
	case EISCONN: return "EISCONN";
	case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
	case EBADF: return "EBADF";
	case ENXIO: return "ENXIO";
	case ECONNRESET: return "ECONNRESET";
	case EMSGSIZE: return "EMSGSIZE";
	default: return "other";
	}
}

#define SHOW(what, expr) do { errno = 0; long r_ = (long)(expr); printf("%s: %ld %s\n", what, r_, r_ < 0 ? ename(errno) : "ok"); } while (0)

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sockaddr_un a = { AF_UNIX, "/tmp/err.sock" }, none = { AF_UNIX, "/tmp/nothing-here" };
	unlink(a.sun_path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	SHOW("connect to a missing path", connect(s, (struct sockaddr *)&none, sizeof(none)));
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	SHOW("listen unbound", listen(l, 0));
	SHOW("bind", bind(l, (struct sockaddr *)&a, sizeof(a)));
	SHOW("connect before listen", connect(s, (struct sockaddr *)&a, sizeof(a)));
	int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	SHOW("bind the same path again", bind(l2, (struct sockaddr *)&a, sizeof(a)));
	SHOW("bind a bound socket", bind(l, (struct sockaddr *)&none, sizeof(none)));
	SHOW("send unconnected", send(s, "x", 1, MSG_NOSIGNAL));
	SHOW("getpeername unconnected", getpeername(s, NULL, NULL));
	SHOW("shutdown unconnected", shutdown(s, SHUT_RDWR));
	SHOW("listen", listen(l, 0));
	SHOW("accept with nobody waiting", accept(l, NULL, NULL));
	struct pollfd pf = { l, POLLIN, 0 };
	SHOW("poll listener, nobody waiting", poll(&pf, 1, 0));
	int c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	SHOW("nonblocking connect 1", connect(c1, (struct sockaddr *)&a, sizeof(a)));
	SHOW("nonblocking connect 2, backlog full", connect(c2, (struct sockaddr *)&a, sizeof(a)));
	SHOW("connect again", connect(c1, (struct sockaddr *)&a, sizeof(a)));
	pf.revents = 0;
	SHOW("poll listener, one waiting", poll(&pf, 1, 0));
	printf("  revents %#x\n", pf.revents);
	int sc = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	printf("accept4: %s, nonblock %d cloexec %d\n", sc >= 0 ? "ok" : ename(errno), (fcntl(sc, F_GETFL) & O_NONBLOCK) != 0,
	       (fcntl(sc, F_GETFD) & FD_CLOEXEC) != 0);
	char buf[4096];
	SHOW("recv with nothing there", recv(sc, buf, sizeof(buf), 0));
	SHOW("recv MSG_DONTWAIT", recv(c1, buf, sizeof(buf), MSG_DONTWAIT));
	struct pollfd pp[2] = { { sc, POLLIN | POLLOUT | POLLRDHUP, 0 }, { c1, POLLIN | POLLOUT | POLLRDHUP, 0 } };
	poll(pp, 2, 0);
	printf("poll idle pair: %#x %#x\n", pp[0].revents, pp[1].revents);
	write(c1, "ping", 4);
	poll(pp, 2, 0);
	printf("poll after a write: %#x %#x\n", pp[0].revents, pp[1].revents);
	SHOW("recv", recv(sc, buf, sizeof(buf), 0));
	/* fill the buffer */
	long total = 0, k;
	while ((k = send(c1, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += k;
	printf("filled: %s, then %s\n", total > 100000 && total < 1000000 ? "between 100 KB and 1 MB" : "wrong size", ename(errno));
	poll(pp, 2, 0);
	printf("poll full: %#x %#x\n", pp[0].revents, pp[1].revents);
	while (recv(sc, buf, sizeof(buf), 0) > 0)
		;
	poll(pp, 2, 0);
	printf("poll drained: %#x %#x\n", pp[0].revents, pp[1].revents);
	SHOW("shutdown(SHUT_WR)", shutdown(c1, SHUT_WR));
	poll(pp, 2, 0);
	printf("poll after SHUT_WR: %#x %#x\n", pp[0].revents, pp[1].revents);
	SHOW("read after the peer's SHUT_WR", read(sc, buf, sizeof(buf)));
	SHOW("send after SHUT_WR, MSG_NOSIGNAL", send(c1, "x", 1, MSG_NOSIGNAL));
	close(sc);
	poll(pp + 1, 1, 0);
	printf("poll after the peer closed: %#x\n", pp[1].revents);
	SHOW("read after the peer closed", read(c1, buf, sizeof(buf)));
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	close(sv[1]);
	SHOW("send to a closed peer, MSG_NOSIGNAL", send(sv[0], "x", 1, MSG_NOSIGNAL));
	signal(SIGPIPE, on_sig);
	SHOW("write to a closed peer", write(sv[0], "x", 1));
	printf("  signal %d\n", got);
	close(sv[0]);
	/* SIGPIPE's default ends a child */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	close(sv[1]);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		send(sv[0], "x", 1, 0);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child killed by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	close(sv[0]);
	/* a blocking recv interrupted: EINTR without SA_RESTART, restarted with it */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct sigaction sa = { 0 };
	sa.sa_handler = on_sig;
	sigaction(SIGALRM, &sa, NULL);
	got = 0;
	ualarm(200000, 0);
	SHOW("recv interrupted", recv(sv[0], buf, sizeof(buf), 0));
	printf("  signal %d\n", got);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	pid = fork();
	if (pid == 0) {
		usleep(500000);
		write(sv[1], "late", 4);
		_exit(0);
	}
	got = 0;
	ualarm(200000, 0);
	SHOW("recv restarted, then data", recv(sv[0], buf, sizeof(buf), 0));
	printf("  signal %d\n", got);
	waitpid(pid, &st, 0);
	/* types and families */
	int t = 0;
	socklen_t tl = sizeof(t);
	getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &t, &tl);
	printf("SO_TYPE %d, ", t);
	getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &t, &tl);
	printf("SO_ERROR %d\n", t);
	SHOW("socket(AF_UNIX, 99)", socket(AF_UNIX, 99, 0));
	SHOW("getsockopt on a pipe", getsockopt(0, SOL_SOCKET, SO_TYPE, &t, &tl) < 0 && errno == EBADF ? 0 : -1);
	int p[2];
	pipe(p);
	SHOW("send on a pipe", send(p[1], "x", 1, 0));
	/* the socket's name in the file system: open gives ENXIO; a node made by mknod has nobody behind it */
	SHOW("open the socket's path", open(a.sun_path, O_RDONLY));
	unlink(a.sun_path);
	SHOW("mknod S_IFSOCK", mknod(a.sun_path, S_IFSOCK | 0600, 0));
	int c3 = socket(AF_UNIX, SOCK_STREAM, 0);
	SHOW("connect to it", connect(c3, (struct sockaddr *)&a, sizeof(a)));
	unlink(a.sun_path);
	/* an empty write on a stream is no end of file; an unnamed datagram sender leaves addrlen 0 */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	write(sv[0], "", 0);
	write(sv[0], "z", 1);
	SHOW("read after an empty write", read(sv[1], buf, sizeof(buf)));
	int d[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, d);
	send(d[0], "q", 1, 0);
	struct sockaddr_un from;
	socklen_t fl = sizeof(from);
	SHOW("recvfrom an unnamed sender", recvfrom(d[1], buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl));
	printf("  addrlen %d\n", (int)fl);
	char big[300000];
	memset(big, 'b', sizeof(big));
	SHOW("datagram bigger than the buffer", send(d[0], big, sizeof(big), 0));
	/* the peer closed with data it never read: ECONNRESET once, then end of file */
	int r2[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, r2);
	write(r2[0], "unread", 6);
	close(r2[1]);
	struct pollfd rp = { r2[0], POLLIN, 0 };
	poll(&rp, 1, 0);
	printf("poll after a reset: %#x\n", rp.revents);
	SHOW("read after a reset", read(r2[0], buf, sizeof(buf)));
	SHOW("read again", read(r2[0], buf, sizeof(buf)));
	close(r2[0]);
	/* SO_RCVTIMEO: a blocking recv gives up with EAGAIN */
	struct timeval tv = { 0, 150000 }, tv2 = { 0, 0 };
	SHOW("SO_RCVTIMEO", setsockopt(d[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	socklen_t tvl = sizeof(tv2);
	getsockopt(d[1], SOL_SOCKET, SO_RCVTIMEO, &tv2, &tvl);
	/* Linux rounds to its clock tick: only the neighbourhood is checked */
	printf("  reads back %s, len %d\n", tv2.tv_sec == 0 && tv2.tv_usec >= 150000 && tv2.tv_usec <= 160000 ? "0.15 s" : "something else", (int)tvl);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	SHOW("recv with a timeout", recv(d[1], buf, sizeof(buf), 0));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("  after %s\n", ms >= 140 && ms < 3000 ? "the timeout" : "a wrong time");
	return 0;
}
