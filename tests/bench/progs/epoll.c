/* epoll.c: the epoll echo workload: a thread echoes every byte it reads from one end of a socketpair, waiting
 * in epoll_wait; the main thread writes a byte to the other end and waits in epoll_wait for the echo, N times;
 * prints ns per round trip. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long rounds;

/* watch FD: an epoll set watching FD for input */
static int watch(int fd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("epoll: epoll_create1/epoll_ctl");
		exit(1);
	}
	return ep;
}

/* one_byte EP FD: wait in epoll_wait until FD is readable, then read one byte */
static int one_byte(int ep, int fd, char *c)
{
	struct epoll_event ev;
	if (epoll_wait(ep, &ev, 1, -1) != 1 || read(fd, c, 1) != 1) {
		perror("epoll: epoll_wait/read");
		return -1;
	}
	return 0;
}

static void *echo(void *arg)
{
	int fd = *(int *)arg, ep = watch(fd);
	char c;
	for (long i = 0; i < rounds; i++)
		if (one_byte(ep, fd, &c) < 0 || write(fd, &c, 1) != 1)
			exit(1);
	return NULL;
}

int main(int argc, char **argv)
{
	rounds = argc > 1 ? atol(argv[1]) : 100000;
	if (rounds <= 0) {
		fprintf(stderr, "usage: epoll [ROUNDS > 0]\n");
		return 2;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("epoll: socketpair");
		return 1;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, echo, &sv[1]) != 0) {
		perror("epoll: pthread_create");
		return 1;
	}
	int ep = watch(sv[0]);
	struct timespec a, b;
	char c = 'x';
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < rounds; i++)
		if (write(sv[0], &c, 1) != 1 || one_byte(ep, sv[0], &c) < 0)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	pthread_join(t, NULL);
	double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	printf("%.1f\n", ns / (double)rounds);
	return 0;
}
