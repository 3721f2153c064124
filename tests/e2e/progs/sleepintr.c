/* sleepintr.c: nanosleep times out, and a signal cuts it short with EINTR and the time left (300 times: each once left a host timer in the I/O queue). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void on_alarm(int s)
{
	(void)s;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;   /* nanosleep is never restarted after a handler, SA_RESTART or not */
	sigaction(SIGALRM, &sa, 0);
	struct timespec a, b, req = { 0, 50000000 }, rem = { 9, 9 };
	clock_gettime(CLOCK_MONOTONIC, &a);
	int r = nanosleep(&req, &rem);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
	printf("sleep 50ms: %d after %s\n", r, ms >= 50 && ms < 500 ? "50 ms" : "wrong");
	for (int i = 0; i < 300; i++) {
		ualarm(1000, 0);
		req = (struct timespec){ 10, 0 };
		r = nanosleep(&req, &rem);
		if (r != -1 || errno != EINTR) {
			printf("not EINTR\n");
			return 1;
		}
	}
	printf("300 interrupted 10 s sleeps: EINTR, rem %s\n", rem.tv_sec >= 9 ? "about 10 s" : "wrong");
	return 0;
}
