/*
 * timerchurn.c: a long timer and a short timeout, alternating: each short one
 * makes the kernel ask the host for an earlier timer. Before host timers were
 * capped (ktimer.c) the long ones piled up in the I/O queue and the program
 * stalled for 10 s once the queue was full; this checks it no longer does.
 */
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	int ep = epoll_create1(0);
	int t = timerfd_create(CLOCK_MONOTONIC, 0);
	struct epoll_event ev = { EPOLLIN, { 0 } }, out[1];
	epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int fired = 0;
	for (int i = 0; i < 400; i++) {
		struct itimerspec its = { { 0, 0 }, { 10, 0 } };
		timerfd_settime(t, 0, &its, NULL);
		fired += epoll_wait(ep, out, 1, 0);   /* the 10 s timer is now the host's */
		fired += epoll_wait(ep, out, 1, 1);   /* an earlier deadline */
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
	printf("400 rounds, %d events, %s\n", fired, ms < 8000 ? "no stall" : "stalled");
	return 0;
}
