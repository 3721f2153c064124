/* unix_dgram.c: AF_UNIX datagrams and seqpackets: message boundaries, MSG_TRUNC, MSG_PEEK, sender addresses, readv/writev, SCM_RIGHTS with a pipe, SCM_CREDENTIALS. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int send_fd(int s, int fd, const char *msg)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = { (void *)msg, strlen(msg) };
	struct msghdr m = { 0 };
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return (int)sendmsg(s, &m, 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int sv[2];
	char buf[64];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	send(sv[0], "one", 3, 0);
	send(sv[0], "two!", 4, 0);
	send(sv[0], "three", 5, 0);
	ssize_t n = recv(sv[1], buf, sizeof(buf), 0);
	printf("dgram 1: %zd <%.*s>\n", n, (int)n, buf);
	n = recv(sv[1], buf, sizeof(buf), MSG_PEEK);
	printf("dgram peek: %zd <%.*s>\n", n, (int)n, buf);
	n = recv(sv[1], buf, 2, MSG_TRUNC);
	printf("dgram 2 into 2 bytes with MSG_TRUNC: %zd <%.*s>\n", n, 2, buf);
	struct iovec iov = { buf, 3 };
	struct msghdr m = { 0 };
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	n = recvmsg(sv[1], &m, 0);
	printf("dgram 3 into 3 bytes: %zd <%.*s> flags MSG_TRUNC %d\n", n, (int)n, buf, (m.msg_flags & MSG_TRUNC) != 0);
	n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	printf("empty: %zd %s\n", n, strerror(errno));
	struct iovec wv[3] = { { "ab", 2 }, { "cd", 2 }, { "ef", 2 } };
	writev(sv[0], wv, 3);
	n = read(sv[1], buf, sizeof(buf));
	printf("writev is one datagram: %zd <%.*s>\n", n, (int)n, buf);
	close(sv[0]);
	close(sv[1]);

	/* bound datagram sockets: the receiver sees who sent */
	unlink("/tmp/dg-a");
	unlink("/tmp/dg-b");
	struct sockaddr_un a = { AF_UNIX, "/tmp/dg-a" }, b = { AF_UNIX, "/tmp/dg-b" }, from;
	int sa = socket(AF_UNIX, SOCK_DGRAM, 0), sb = socket(AF_UNIX, SOCK_DGRAM, 0);
	bind(sa, (struct sockaddr *)&a, sizeof(a));
	bind(sb, (struct sockaddr *)&b, sizeof(b));
	sendto(sb, "to a", 4, 0, (struct sockaddr *)&a, sizeof(a));
	socklen_t fl = sizeof(from);
	n = recvfrom(sa, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	printf("recvfrom: %zd <%.*s> from <%s> len %d\n", n, (int)n, buf, from.sun_path, (int)fl);
	connect(sa, (struct sockaddr *)&b, sizeof(b));
	send(sa, "reply", 5, 0);
	n = recv(sb, buf, sizeof(buf), 0);
	printf("connected send: %zd <%.*s>\n", n, (int)n, buf);
	close(sb);
	n = send(sa, "lost", 4, 0);
	printf("send to a closed peer: %zd %s\n", n, strerror(errno));
	n = sendto(sa, "lost", 4, 0, (struct sockaddr *)&b, sizeof(b));
	printf("sendto a closed peer: %zd %s\n", n, strerror(errno));
	close(sa);
	unlink("/tmp/dg-a");
	unlink("/tmp/dg-b");

	/* seqpacket keeps boundaries over a connection */
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	send(sv[0], "packet-1", 8, 0);
	send(sv[0], "p2", 2, 0);
	n = recv(sv[1], buf, 6, 0);
	printf("seqpacket 1 into 6: %zd <%.*s>\n", n, (int)n, buf);
	n = recv(sv[1], buf, sizeof(buf), 0);
	printf("seqpacket 2: %zd <%.*s>\n", n, (int)n, buf);
	close(sv[0]);
	n = recv(sv[1], buf, sizeof(buf), 0);
	printf("seqpacket after close: %zd\n", n);
	close(sv[1]);

	/* SCM_RIGHTS: the child gets a pipe's read end and reads through it */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec v = { buf, sizeof(buf) };
		struct msghdr mm = { 0 };
		mm.msg_iov = &v;
		mm.msg_iovlen = 1;
		mm.msg_control = cbuf;
		mm.msg_controllen = sizeof(cbuf);
		ssize_t k = recvmsg(sv[1], &mm, MSG_CMSG_CLOEXEC);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mm);
		int fd = -1;
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
		printf("child: %zd bytes <%.*s>, got an fd %d, cloexec %d\n", k, (int)k, buf, fd >= 0,
		       fd >= 0 ? (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0 : -1);
		k = read(fd, buf, sizeof(buf));
		printf("child: read through it: <%.*s>\n", (int)k, buf);
		_exit(0);
	}
	close(sv[1]);
	printf("sendmsg with the pipe: %d\n", send_fd(sv[0], p[0], "here"));
	close(p[0]);
	write(p[1], "through the pipe", 16);
	close(p[1]);
	int st;
	waitpid(pid, &st, 0);
	printf("child exit %d\n", WEXITSTATUS(st));
	/* a descriptor sent and never received is closed with the socket: the pipe's writer sees EPIPE */
	pipe(p);
	signal(SIGPIPE, SIG_IGN);
	int sv2[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv2);
	send_fd(sv2[0], p[0], "x");
	close(p[0]);
	n = write(p[1], "a", 1);
	printf("write while the read end is in flight: %zd\n", n);
	close(sv2[1]);
	n = write(p[1], "a", 1);
	printf("write after the receiver closed unread: %zd %s\n", n, strerror(errno));
	close(sv2[0]);
	close(p[1]);

	/* two descriptors, room for one: MSG_CTRUNC, and the other is closed */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	pipe(p);
	{
		char cb[CMSG_SPACE(2 * sizeof(int))];
		memset(cb, 0, sizeof(cb));
		struct iovec v1 = { "2", 1 };
		struct msghdr m2 = { 0 };
		m2.msg_iov = &v1;
		m2.msg_iovlen = 1;
		m2.msg_control = cb;
		m2.msg_controllen = sizeof(cb);
		struct cmsghdr *c2 = CMSG_FIRSTHDR(&m2);
		c2->cmsg_level = SOL_SOCKET;
		c2->cmsg_type = SCM_RIGHTS;
		c2->cmsg_len = CMSG_LEN(2 * sizeof(int));
		int two[2] = { p[1], p[0] };
		memcpy(CMSG_DATA(c2), two, sizeof(two));
		printf("sendmsg with two fds: %zd\n", sendmsg(sv[0], &m2, 0));
		close(p[0]);
		union { char b[CMSG_LEN(sizeof(int))]; struct cmsghdr align; } smallu;
		char *small = smallu.b;
		struct iovec v2 = { buf, sizeof(buf) };
		struct msghdr r2 = { 0 };
		r2.msg_iov = &v2;
		r2.msg_iovlen = 1;
		r2.msg_control = small;
		r2.msg_controllen = sizeof(smallu.b);
		n = recvmsg(sv[1], &r2, 0);
		struct cmsghdr *rc2 = CMSG_FIRSTHDR(&r2);
		int wfd = -1;
		if (rc2 && rc2->cmsg_type == SCM_RIGHTS)
			memcpy(&wfd, CMSG_DATA(rc2), sizeof(int));
		printf("recvmsg with room for one: %zd, MSG_CTRUNC %d, fds %d\n", n, (r2.msg_flags & MSG_CTRUNC) != 0,
		       rc2 ? (int)((rc2->cmsg_len - CMSG_LEN(0)) / sizeof(int)) : 0);
		close(p[1]);
		n = write(wfd, "x", 1);
		printf("the read end went with the truncation: write %zd %s\n", n, n < 0 ? strerror(errno) : "ok");
		close(wfd);
		close(sv[0]);
		close(sv[1]);
	}

	/* sendmmsg and recvmmsg: several datagrams a call */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	{
		struct mmsghdr mv[4];
		struct iovec iv[4];
		char rb[4][16];
		const char *words[3] = { "alpha", "be", "gamma!" };
		memset(mv, 0, sizeof(mv));
		for (int i = 0; i < 3; i++) {
			iv[i].iov_base = (void *)words[i];
			iv[i].iov_len = strlen(words[i]);
			mv[i].msg_hdr.msg_iov = &iv[i];
			mv[i].msg_hdr.msg_iovlen = 1;
		}
		int k = sendmmsg(sv[0], mv, 3, 0);
		printf("sendmmsg: %d, lengths %u %u %u\n", k, mv[0].msg_len, mv[1].msg_len, mv[2].msg_len);
		memset(mv, 0, sizeof(mv));
		for (int i = 0; i < 4; i++) {
			iv[i].iov_base = rb[i];
			iv[i].iov_len = sizeof(rb[i]);
			mv[i].msg_hdr.msg_iov = &iv[i];
			mv[i].msg_hdr.msg_iovlen = 1;
		}
		k = recvmmsg(sv[1], mv, 4, MSG_WAITFORONE, NULL);
		printf("recvmmsg of 4 with 3 there, MSG_WAITFORONE: %d:", k);
		for (int i = 0; i < k; i++)
			printf(" <%.*s>", (int)mv[i].msg_len, rb[i]);
		printf("\n");
	}
	close(sv[0]);
	close(sv[1]);

	/* SCM_CREDENTIALS with SO_PASSCRED */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	int on = 1;
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
	send(sv[0], "cred", 4, 0);
	char cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec v = { buf, sizeof(buf) };
	struct msghdr mm = { 0 };
	mm.msg_iov = &v;
	mm.msg_iovlen = 1;
	mm.msg_control = cbuf;
	mm.msg_controllen = sizeof(cbuf);
	n = recvmsg(sv[1], &mm, 0);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mm);
	struct ucred cr = { 0 };
	if (c && c->cmsg_type == SCM_CREDENTIALS)
		memcpy(&cr, CMSG_DATA(c), sizeof(cr));
	printf("SCM_CREDENTIALS: %d pid %s uid %s\n", c && c->cmsg_type == SCM_CREDENTIALS,
	       cr.pid == getpid() ? "mine" : "other", cr.uid == getuid() ? "ok" : "bad");
	return 0;
}
