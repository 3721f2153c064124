/* epoll.c: epoll over pipes (level and edge triggered, one-shot), the epoll_ctl errors, timeouts and EINTR. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long ms_since(struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (long)((b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000);
}

/* The call first, then errno: not both in one printf, whose arguments may go in any order. */
#define SHOW(what, call) do { int r_ = (call); printf("%s: %d %s\n", what, r_, r_ < 0 ? strerror(errno) : "ok"); } while (0)

static void on_alarm(int s) { (void)s; }

static int wait1(int ep, int timeout, struct epoll_event *ev)
{
	int r = epoll_wait(ep, ev, 8, timeout);
	return r;
}

int main(void)
{
	int p[2], q[2];
	struct epoll_event ev, out[8];
	pipe(p);
	pipe(q);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	SHOW("create1", ep >= 0 ? 0 : -1);

	/* level triggered */
	ev.events = EPOLLIN;
	ev.data.u64 = 0x1234;
	printf("add: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	SHOW("add again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	printf("empty: %d\n", wait1(ep, 0, out));
	write(p[1], "ab", 2);
	int r = wait1(ep, -1, out);
	printf("lt: %d events %#x data %#llx\n", r, out[0].events, (unsigned long long)out[0].data.u64);
	r = wait1(ep, 0, out);
	printf("lt again: %d\n", r);
	char buf[8];
	read(p[0], buf, 2);
	printf("lt drained: %d\n", wait1(ep, 0, out));

	/* timeout */
	struct timespec a;
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = wait1(ep, 50, out);
	long ms = ms_since(&a);
	printf("timeout: %d after %s\n", r, ms >= 50 && ms < 1000 ? "50 ms" : "a wrong time");

	/* edge triggered */
	ev.events = EPOLLIN | EPOLLET;
	ev.data.fd = q[0];
	epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev);
	write(q[1], "x", 1);
	printf("et: %d\n", wait1(ep, 0, out));
	printf("et again: %d\n", wait1(ep, 0, out));
	write(q[1], "y", 1);
	r = wait1(ep, 0, out);
	printf("et new data: %d fd ok %d\n", r, r == 1 && out[0].data.fd == q[0]);
	read(q[0], buf, 8);
	printf("et drained: %d\n", wait1(ep, 0, out));

	/* one-shot, then re-armed with MOD */
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.u32 = 7;
	printf("mod: %d\n", epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev));
	write(q[1], "z", 1);
	printf("oneshot: %d\n", wait1(ep, 0, out));
	printf("oneshot again: %d\n", wait1(ep, 0, out));
	epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev);
	printf("rearmed: %d data %u\n", wait1(ep, 0, out), out[0].data.u32);

	/* hang-up and write ends */
	printf("del: %d\n", epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL));
	SHOW("del again", epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL));
	SHOW("mod missing", epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev));
	close(p[1]);
	r = wait1(ep, 0, out);
	printf("hup: %d events %#x\n", r, out[0].events);
	ev.events = EPOLLOUT;
	epoll_ctl(ep, EPOLL_CTL_ADD, q[1], &ev);
	epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
	r = wait1(ep, 0, out);
	printf("out: %d events %#x\n", r, out[0].events);
	close(q[0]);
	r = wait1(ep, 0, out);
	printf("no reader: %d events %#x\n", r, out[0].events);

	/* errors */
	SHOW("ebadf", epoll_ctl(ep, EPOLL_CTL_ADD, 99, &ev));
	SHOW("self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
	SHOW("not epoll", epoll_ctl(q[1], EPOLL_CTL_ADD, q[1], &ev));
	SHOW("bad op", epoll_ctl(ep, 9, q[1], &ev));
	SHOW("wait bad max", epoll_wait(ep, out, 0, 0));
	SHOW("wait not epoll", epoll_wait(q[1], out, 1, 0));
	SHOW("wait ebadf", epoll_wait(77, out, 1, 0));
	SHOW("create 0", (int)syscall(SYS_epoll_create, 0));
	SHOW("create1 bad flags", epoll_create1(1));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	int e2 = epoll_create(1);
	int s[2];
	pipe(s);
	printf("exclusive add: %d\n", epoll_ctl(e2, EPOLL_CTL_ADD, s[0], &ev));
	SHOW("exclusive mod", epoll_ctl(e2, EPOLL_CTL_MOD, s[0], &ev));
	int reg = open("/tmp/epoll-regular", O_CREAT | O_RDWR, 0600);
	unlink("/tmp/epoll-regular");
	ev.events = EPOLLIN;
	SHOW("regular file", epoll_ctl(e2, EPOLL_CTL_ADD, reg, &ev));

	/* an epoll set inside another */
	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_ADD, e2, &ev);
	write(s[1], "n", 1);
	printf("nested: %d\n", epoll_wait(ep, out, 8, 0));

	/* a signal ends the wait with EINTR, SA_RESTART or not */
	for (int restart = 0; restart < 2; restart++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sa.sa_flags = restart ? SA_RESTART : 0;
		sigaction(SIGALRM, &sa, NULL);
		int e3 = epoll_create1(0);
		int t[2];
		pipe(t);
		ev.events = EPOLLIN;
		epoll_ctl(e3, EPOLL_CTL_ADD, t[0], &ev);
		ualarm(30000, 0);
		r = epoll_wait(e3, out, 8, 5000);
		SHOW(restart ? "eintr (SA_RESTART)" : "eintr", r);
	}
	/* epoll_pwait with SIGALRM blocked during the wait: the timeout ends it */
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGALRM);
	int e4 = epoll_create1(0);
	int u[2];
	pipe(u);
	ev.events = EPOLLIN;
	epoll_ctl(e4, EPOLL_CTL_ADD, u[0], &ev);
	ualarm(20000, 0);
	r = epoll_pwait(e4, out, 8, 100, &m);
	printf("pwait masked: %d\n", r);
	return 0;
}
