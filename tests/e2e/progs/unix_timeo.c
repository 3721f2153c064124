/* unix_timeo.c: SO_RCVTIMEO and SO_SNDTIMEO: the value reads back, a timeout is EAGAIN no earlier than asked, and a handler interrupts with EINTR even with SA_RESTART (signal(7)). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void set_timeo(int fd, int opt, long sec, long usec)
{
	struct timeval tv = { sec, usec };
	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)))
		printf("setsockopt: %s\n", strerror(errno));
}

static void show_timeo(const char *what, int fd, int opt)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);
	int r = getsockopt(fd, SOL_SOCKET, opt, &tv, &len);
	printf("%s reads back: %d %ld.%06ld len %u\n", what, r, (long)tv.tv_sec, (long)tv.tv_usec, len);
}

/* Print how a call ended: its result, errno, and whether it came back no earlier than min_ns. */
static void show(const char *what, long r, long long t0, long long min_ns)
{
	int e = errno;
	const char *name = r >= 0 ? "ok" : e == EAGAIN ? "EAGAIN" : e == EINTR ? "EINTR" : strerror(e);
	printf("%s: %ld %s, not before the timeout %d\n", what, r, name,
	       now_ns() - t0 >= min_ns);
}

/* A handler for SIGALRM (with or without SA_RESTART) and a timer firing once after 50 ms. */
static void alarm_in_50ms(int restart)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0 };
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	setitimer(ITIMER_REAL, &it, NULL);
}

/* Fill s's peer until a non-blocking send would wait. */
static void fill(int s)
{
	static char buf[4096];
	while (send(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int main(void)
{
	int sv[2];
	char c;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	show_timeo("SO_RCVTIMEO unset", sv[0], SO_RCVTIMEO);
	set_timeo(sv[0], SO_RCVTIMEO, 0, 40000);
	show_timeo("SO_RCVTIMEO 40 ms", sv[0], SO_RCVTIMEO);
	set_timeo(sv[0], SO_SNDTIMEO, 1, 500000);
	show_timeo("SO_SNDTIMEO 1.5 s", sv[0], SO_SNDTIMEO);

	long long t0 = now_ns();
	show("recv with a 40 ms timeout", recv(sv[0], &c, 1, 0), t0, 40000000);
	t0 = now_ns();
	show("read with a 40 ms timeout", read(sv[0], &c, 1), t0, 40000000);

	set_timeo(sv[0], SO_SNDTIMEO, 0, 40000);
	fill(sv[0]);
	t0 = now_ns();
	show("send on a full socket with a 40 ms timeout", send(sv[0], "x", 1, 0), t0, 40000000);

	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "\0lbvm-timeo" };
	socklen_t sl = sizeof(sa.sun_family) + 1 + 10;
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&sa, sl) || listen(l, 1))
		return 1;
	set_timeo(l, SO_RCVTIMEO, 0, 40000);
	t0 = now_ns();
	show("accept with a 40 ms timeout", accept(l, NULL, NULL), t0, 40000000);

	/* With a timeout set, a handler interrupts: EINTR even with SA_RESTART. */
	set_timeo(sv[0], SO_RCVTIMEO, 2, 0);
	set_timeo(sv[0], SO_SNDTIMEO, 2, 0);
	alarm_in_50ms(1);
	t0 = now_ns();
	show("recv with a 2 s timeout, SA_RESTART handler", recv(sv[0], &c, 1, 0), t0, 0);
	alarm_in_50ms(1);
	show("read with a 2 s timeout, SA_RESTART handler", read(sv[0], &c, 1), t0, 0);
	alarm_in_50ms(0);
	show("recv with a 2 s timeout, handler without SA_RESTART", recv(sv[0], &c, 1, 0), t0, 0);
	alarm_in_50ms(1);
	show("send on a full socket with a 2 s timeout, SA_RESTART handler", send(sv[0], "x", 1, 0), t0, 0);
	set_timeo(l, SO_RCVTIMEO, 2, 0);
	alarm_in_50ms(1);
	show("accept with a 2 s timeout, SA_RESTART handler", accept(l, NULL, NULL), t0, 0);

	/* A negative time: a timeout of zero, EAGAIN at once; it reads back as 0. */
	set_timeo(sv[1], SO_RCVTIMEO, -1, 0);
	show_timeo("SO_RCVTIMEO -1 s", sv[1], SO_RCVTIMEO);
	t0 = now_ns();
	show("recv on a full socket with it", recv(sv[1], &c, 1, 0), t0, 0);
	char buf[4096];
	while (recv(sv[1], buf, sizeof(buf), 0) > 0)   /* drain what fill() queued: EAGAIN once empty */
		;
	show("recv on an empty socket with it", recv(sv[1], &c, 1, 0), t0, 0);

	/* Without a timeout, SA_RESTART restarts: the data the other end sends later arrives. */
	set_timeo(sv[1], SO_RCVTIMEO, 0, 0);
	show_timeo("SO_RCVTIMEO cleared", sv[1], SO_RCVTIMEO);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(200000);
		send(sv[0], "y", 1, 0);
		_exit(0);
	}
	alarm_in_50ms(1);
	long r = recv(sv[1], &c, 1, 0);
	printf("recv without a timeout, SA_RESTART handler: %ld %c\n", r, r == 1 ? c : '-');
	return 0;
}
