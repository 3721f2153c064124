/* busytimeout.c: timeouts of epoll_wait, poll and nanosleep end on time while another process computes without a syscall. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long ms_since(struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (long)((b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000);
}

int main(void)
{
	pid_t kid = fork();
	if (kid == 0)
		for (volatile unsigned long i = 0;; i++)
			;   /* no syscall: only the preemption tick takes the CPU back */
	int ep = epoll_create1(0), p[2];
	pipe(p);
	struct epoll_event ev = { EPOLLIN, { 0 } }, out[1];
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	struct timespec a;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int r = epoll_wait(ep, out, 1, 50);
	long ms = ms_since(&a);
	printf("epoll_wait: %d %s\n", r, ms >= 50 && ms < 2000 ? "on time" : "late");
	struct pollfd f = { p[0], POLLIN, 0 };
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = poll(&f, 1, 50);
	ms = ms_since(&a);
	printf("poll: %d %s\n", r, ms >= 50 && ms < 2000 ? "on time" : "late");
	clock_gettime(CLOCK_MONOTONIC, &a);
	usleep(50000);
	ms = ms_since(&a);
	printf("usleep: %s\n", ms >= 50 && ms < 2000 ? "on time" : "late");
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	return 0;
}
