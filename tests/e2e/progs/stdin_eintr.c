/* stdin_eintr.c: a stdin read cut short by a signal (EINTR) loses nothing: the input that then arrives reaches the next read. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: the read returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 0 }, { 0, 300000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	char buf[64];
	ssize_t n = read(0, buf, sizeof(buf));
	printf("first read: %s\n", n < 0 && errno == EINTR ? "EINTR" : n < 0 ? strerror(errno) : "data too early");
	fflush(stdout);
	/* Input arrives now, while nobody reads: it must wait for the next read, as in a pipe. */
	struct timespec ts = { 1, 500000000 };
	nanosleep(&ts, NULL);
	/* The rest, read by read, until the end: every line the host sent must come, once, in order. */
	do {
		n = read(0, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			printf("read: %s", buf);
		} else {
			printf("read: %zd\n", n);
		}
	} while (n > 0);
	return 0;
}
