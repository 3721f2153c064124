/* epoll_ident.c: an epoll item belongs to (open file description, fd): it outlives close(fd) while a dup or a child keeps the description, and goes with its last close. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int ep;

static void ctl(const char *what, int op, int fd, uint64_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };
	int r = epoll_ctl(ep, op, fd, &ev);
	printf("%s: %d %s\n", what, r, r ? strerror(errno) : "ok");
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* What a wait without blocking reports: the count and each item's data, sorted. */
static void wait_now(const char *what)
{
	struct epoll_event ev[16];
	uint64_t d[16];
	int n = epoll_wait(ep, ev, 16, 0);
	for (int i = 0; i < n; i++)
		d[i] = ev[i].data.u64;
	qsort(d, n > 0 ? (size_t)n : 0, sizeof(d[0]), cmp);
	printf("%s: %d", what, n);
	for (int i = 0; i < n; i++)
		printf(" data %llu events 0x%x", (unsigned long long)d[i], ev[0].events);
	printf("\n");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	ep = epoll_create1(0);
	int p[2], q[2];
	if (pipe(p) || pipe(q))
		return 1;
	int d = dup(p[0]);
	ctl("add the read end", EPOLL_CTL_ADD, p[0], 100);
	close(p[0]);
	if (write(p[1], "x", 1) != 1)
		return 1;
	wait_now("after close(fd) with a dup open, data written");
	ctl("mod through the closed fd", EPOLL_CTL_MOD, p[0], 101);
	ctl("del through the closed fd", EPOLL_CTL_DEL, p[0], 0);
	ctl("add the dup", EPOLL_CTL_ADD, d, 200);
	ctl("add the dup again", EPOLL_CTL_ADD, d, 201);
	wait_now("both items of the one description");
	if (dup2(q[0], p[0]) != p[0])
		return 1;
	ctl("del the old number, now another pipe", EPOLL_CTL_DEL, p[0], 0);
	ctl("add the old number for the other pipe", EPOLL_CTL_ADD, p[0], 300);
	wait_now("three items, two ready");
	struct pollfd pfd = { ep, POLLIN, 0 };
	int pr = poll(&pfd, 1, 0);
	printf("poll on the epoll fd: %d revents 0x%x\n", pr, pfd.revents);
	close(d);
	wait_now("after the description's last close");
	ctl("del the dup's number", EPOLL_CTL_DEL, d, 0);
	if (write(q[1], "y", 1) != 1)
		return 1;
	wait_now("the other pipe written");
	close(p[0]);
	wait_now("the other pipe's dup closed, its first fd still open");
	close(q[0]);
	wait_now("after its last close too");

	/* A description kept open by a child: the parent's item stays after the parent closes its fd. */
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	ctl("add a socket", EPOLL_CTL_ADD, sv[0], 400);
	int go[2];
	if (pipe(go))
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)   /* until the parent has closed its copy */
			_exit(2);
		if (send(sv[1], "z", 1, 0) != 1)
			_exit(1);
		while (read(go[0], &c, 1) > 0)   /* keep the description open until the parent has looked */
			;
		_exit(0);
	}
	close(sv[0]);
	close(go[0]);
	if (write(go[1], "g", 1) != 1)
		return 1;
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, 5000);
	printf("socket closed here, open in the child, then written: %d data %llu\n", n,
	       n == 1 ? (unsigned long long)ev.data.u64 : 0ull);
	close(go[1]);
	int st;
	waitpid(pid, &st, 0);
	printf("child exit %d\n", WEXITSTATUS(st));
	wait_now("after the child exited (the description's last reference)");
	close(sv[1]);
	return 0;
}
