/* unix_stream.c: AF_UNIX stream sockets: socketpair through fork, a server on /tmp/sock with two clients, the abstract namespace, shutdown, SO_PEERCRED, fstat, /proc/self/fd. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static socklen_t mkaddr(struct sockaddr_un *a, const char *path, int abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (abstract) {
		memcpy(a->sun_path + 1, path, strlen(path));
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
	}
	strcpy(a->sun_path, path);
	return sizeof(*a);
}


static void client(const char *path, int abstract, const char *msg)
{
	struct sockaddr_un a;
	socklen_t l = mkaddr(&a, path, abstract);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&a, l) < 0) {
		printf("client connect: %s\n", strerror(errno));
		_exit(1);
	}
	write(c, msg, strlen(msg));
	char buf[64];
	ssize_t n = read(c, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("client %s got <%s>\n", msg, buf);
	_exit(0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	/* socketpair: the child upper-cases what it reads */
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		char buf[64];
		ssize_t n;
		while ((n = read(sv[1], buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] >= 'a' && buf[i] <= 'z')
					buf[i] = (char)(buf[i] - 32);
			write(sv[1], buf, (size_t)n);
		}
		_exit(0);
	}
	close(sv[1]);
	char buf[256];
	write(sv[0], "hello socket", 12);
	ssize_t n = read(sv[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("socketpair echo: <%s>\n", buf);
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &cl);
	printf("socketpair peercred: pid %s uid %s gid %s len %d\n", cr.pid == getpid() ? "mine" : "other",
	       cr.uid == getuid() ? "ok" : "bad", cr.gid == getgid() ? "ok" : "bad", (int)cl);
	shutdown(sv[0], SHUT_WR);
	n = read(sv[0], buf, sizeof(buf));
	printf("after shutdown(SHUT_WR) the child sees EOF and exits; read: %zd\n", n);
	int st;
	waitpid(pid, &st, 0);
	printf("child exited %d\n", WEXITSTATUS(st));
	close(sv[0]);

	/* a server on a path, two clients */
	unlink("/tmp/sock");
	struct sockaddr_un a;
	socklen_t al = mkaddr(&a, "/tmp/sock", 0);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(s, (struct sockaddr *)&a, al) < 0 || listen(s, 4) < 0) {
		printf("bind/listen: %s\n", strerror(errno));
		return 1;
	}
	struct stat sb;
	stat("/tmp/sock", &sb);
	printf("stat /tmp/sock: socket %d\n", S_ISSOCK(sb.st_mode));
	fstat(s, &sb);
	printf("fstat of the socket: socket %d\n", S_ISSOCK(sb.st_mode));
	char link[64], want[64];
	snprintf(want, sizeof(want), "/proc/self/fd/%d", s);
	ssize_t ll = readlink(want, link, sizeof(link) - 1);
	link[ll > 0 ? ll : 0] = 0;
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)sb.st_ino);
	printf("/proc/self/fd: %s\n", strcmp(link, want) == 0 ? "socket:[ino]" : link);
	struct sockaddr_un got;
	socklen_t gl = sizeof(got);
	getsockname(s, (struct sockaddr *)&got, &gl);
	printf("getsockname: <%s> len %d\n", got.sun_path, (int)gl);
	for (int i = 0; i < 2; i++) {
		if (fork() == 0)
			client("/tmp/sock", 0, i ? "second" : "first");
		int c = accept(s, NULL, NULL);
		gl = sizeof(cr);
		getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &gl);
		n = read(c, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		char reply[300];
		snprintf(reply, sizeof(reply), "hi %s", buf);
		write(c, reply, strlen(reply));
		pid_t w = wait(&st);
		printf("server: read <%s>; peer pid is the client %d\n", buf, cr.pid == w);
		gl = sizeof(got);
		getpeername(c, (struct sockaddr *)&got, &gl);
		printf("server: getpeername len %d (unnamed)\n", (int)gl);
		close(c);
	}
	close(s);
	unlink("/tmp/sock");

	/* the abstract namespace */
	al = mkaddr(&a, "lbvm-test", 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(s, (struct sockaddr *)&a, al) < 0 || listen(s, 1) < 0) {
		printf("abstract bind: %s\n", strerror(errno));
		return 1;
	}
	if (fork() == 0)
		client("lbvm-test", 1, "abstract");
	int c = accept(s, NULL, NULL);
	n = read(c, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	write(c, "ok", 2);
	wait(&st);
	printf("abstract server: read <%s>\n", buf);
	gl = sizeof(got);
	getsockname(c, (struct sockaddr *)&got, &gl);
	printf("accepted getsockname: abstract %d len %d name <%s>\n", got.sun_path[0] == 0, (int)gl, got.sun_path + 1);
	/* the client has gone: reads give 0, the peer's end is hung up */
	n = read(c, buf, sizeof(buf));
	printf("read after the client closed: %zd\n", n);
	close(c);
	close(s);

	/* 4 MiB through a socketpair: the writer blocks on the full buffer while the reader drains it */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		static char big[65536];
		for (int i = 0; i < 64; i++) {
			memset(big, 'a' + i % 26, sizeof(big));
			if (write(sv[1], big, sizeof(big)) != (ssize_t)sizeof(big))
				_exit(1);
		}
		_exit(0);
	}
	close(sv[1]);
	long total = 0, sum = 0;
	int avail = -1;
	usleep(100000);
	ioctl(sv[0], FIONREAD, &avail);
	while ((n = read(sv[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			sum += buf[i];
		total += n;
	}
	waitpid(pid, &st, 0);
	printf("bulk: %ld bytes, sum %ld, writer exit %d, FIONREAD while full %s\n", total, sum, WEXITSTATUS(st),
	       avail > 100000 && avail <= 262144 ? "in range" : "out of range");
	close(sv[0]);

	/* poll sleeps until another process makes a socket ready: a connection, then data, then the hang-up */
	unlink("/tmp/sock2");
	al = mkaddr(&a, "/tmp/sock2", 0);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(s, (struct sockaddr *)&a, al);
	listen(s, 1);
	pid = fork();
	if (pid == 0) {
		usleep(50000);
		int k = socket(AF_UNIX, SOCK_STREAM, 0);
		connect(k, (struct sockaddr *)&a, al);
		usleep(50000);
		write(k, "late", 4);
		usleep(50000);
		_exit(0);
	}
	struct pollfd pf = { s, POLLIN, 0 };
	int r = poll(&pf, 1, -1);
	printf("poll on the listener: %d revents %#x\n", r, pf.revents);
	c = accept(s, NULL, NULL);
	pf.fd = c;
	pf.events = POLLIN | POLLRDHUP;
	r = poll(&pf, 1, -1);
	n = read(c, buf, sizeof(buf));
	printf("poll on the connection: %d revents %#x, read %zd\n", r, pf.revents, n);
	r = poll(&pf, 1, -1);
	printf("poll at the hang-up: %d revents %#x\n", r, pf.revents);
	waitpid(pid, &st, 0);
	close(c);
	close(s);
	unlink("/tmp/sock2");
	return 0;
}
