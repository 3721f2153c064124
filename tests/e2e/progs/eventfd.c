/* eventfd.c: eventfd counting and semaphore modes, EAGAIN, EINVAL; timerfd one-shot, interval and absolute timers; both in one epoll set. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define SHOW(what, call) do { long r_ = (call); printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerror(errno) : "ok"); } while (0)

static long ms_since(struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (long)((b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000);
}

static int alarms;
static void on_alarm(int s) { (void)s; alarms++; }

int main(void)
{
	uint64_t v;
	/* counter mode */
	int e = eventfd(3, EFD_NONBLOCK);
	v = 4;
	SHOW("write 4", write(e, &v, 8));
	SHOW("read", read(e, &v, 8));
	printf("value %llu\n", (unsigned long long)v);
	SHOW("read empty", read(e, &v, 8));
	SHOW("short read", read(e, &v, 4));
	v = ~0ull;
	SHOW("write max", write(e, &v, 8));
	v = 0xfffffffffffffffeull;
	SHOW("write to the ceiling", write(e, &v, 8));
	v = 1;
	SHOW("write past it", write(e, &v, 8));
	SHOW("read", read(e, &v, 8));
	close(e);
	/* semaphore mode */
	e = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	for (int i = 0; i < 3; i++) {
		v = 0;
		long r = read(e, &v, 8);
		printf("sem read %d: %ld %llu %s\n", i, r, (unsigned long long)v, r < 0 ? strerror(errno) : "ok");
	}
	SHOW("bad flags", eventfd(0, 0x10));

	/* timerfd: errors, a one-shot, then an interval counted while nobody reads */
	SHOW("timerfd bad clock", timerfd_create(99, 0));
	SHOW("timerfd bad flags", timerfd_create(CLOCK_MONOTONIC, 1));
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	SHOW("read unarmed", read(t, &v, 8));
	struct itimerspec its = { { 0, 0 }, { 0, 30000000 } }, cur;
	SHOW("settime bad", timerfd_settime(t, 0, &(struct itimerspec){ { 0, 0 }, { 0, 1000000000 } }, NULL));
	SHOW("settime on eventfd", timerfd_settime(e, 0, &its, NULL));
	SHOW("settime ebadf", timerfd_settime(99, 0, &its, NULL));
	struct timespec a;
	clock_gettime(CLOCK_MONOTONIC, &a);
	timerfd_settime(t, 0, &its, NULL);
	timerfd_gettime(t, &cur);
	printf("gettime: armed %d interval %ld\n", cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 30000000, (long)cur.it_interval.tv_nsec);
	int ep = epoll_create1(0);
	int e2 = eventfd(0, 0);
	struct epoll_event ev = { EPOLLIN, { .u32 = 1 } }, out[4];
	epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev);
	ev.data.u32 = 2;
	epoll_ctl(ep, EPOLL_CTL_ADD, e2, &ev);
	int r = epoll_wait(ep, out, 4, 1000);
	long ms = ms_since(&a);
	printf("epoll: %d which %u after %s\n", r, out[0].data.u32, ms >= 30 && ms < 900 ? "30 ms" : "a wrong time");
	SHOW("read one-shot", read(t, &v, 8));
	printf("expirations %llu\n", (unsigned long long)v);
	SHOW("read again", read(t, &v, 8));
	v = 5;
	write(e2, &v, 8);
	r = epoll_wait(ep, out, 4, 0);
	printf("epoll eventfd: %d which %u\n", r, out[0].data.u32);
	read(e2, &v, 8);

	struct itimerspec iv = { { 0, 20000000 }, { 0, 20000000 } };
	timerfd_settime(t, 0, &iv, NULL);
	usleep(110000);
	read(t, &v, 8);
	printf("interval: %s\n", v >= 4 && v <= 6 ? "5 expirations" : "wrong count");
	/* blocking read on a fresh interval */
	int tb = timerfd_create(CLOCK_REALTIME, 0);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_nsec += 40000000;
	if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
	struct itimerspec ab = { { 0, 0 }, now };
	clock_gettime(CLOCK_MONOTONIC, &a);
	SHOW("settime abstime", timerfd_settime(tb, TFD_TIMER_ABSTIME, &ab, NULL));
	SHOW("blocking read", read(tb, &v, 8));
	ms = ms_since(&a);
	printf("abstime: %llu after %s\n", (unsigned long long)v, ms >= 35 && ms < 900 ? "40 ms" : "a wrong time");
	timerfd_settime(t, 0, &(struct itimerspec){ { 0, 0 }, { 0, 0 } }, &cur);
	printf("disarm: old interval %ld\n", (long)cur.it_interval.tv_nsec);
	timerfd_gettime(t, &cur);
	printf("disarmed: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_nsec);

	/* a blocking eventfd read and a signal: EINTR without SA_RESTART, restarted with it */
	for (int restart = 0; restart < 2; restart++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sa.sa_flags = restart ? SA_RESTART : 0;
		sigaction(SIGALRM, &sa, NULL);
		int eb = eventfd(0, 0);
		pid_t c = fork();
		if (c == 0) {
			usleep(80000);
			uint64_t one = 42;
			write(eb, &one, 8);
			_exit(0);
		}
		ualarm(20000, 0);
		v = 0;
		long rr = read(eb, &v, 8);
		printf("eventfd read%s: %ld %s value %llu alarms %d\n", restart ? " (SA_RESTART)" : "", rr, rr < 0 ? strerror(errno) : "ok",
		       (unsigned long long)v, alarms);
		waitpid(c, NULL, 0);
		close(eb);
	}
	return 0;
}
