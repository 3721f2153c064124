/* clock.c: clocks advance across a nanosleep and agree with the host's time. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static double sec(struct timespec t) { return (double)t.tv_sec + (double)t.tv_nsec / 1e9; }

int main(int argc, char **argv)
{
	long host = argc > 1 ? atol(argv[1]) : 0;
	struct timespec m0, m1, r0, res;
	clock_gettime(CLOCK_MONOTONIC, &m0);
	clock_gettime(CLOCK_REALTIME, &r0);
	struct timespec d = { 0, 50 * 1000 * 1000 };
	if (nanosleep(&d, NULL))
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &m1);
	double slept = sec(m1) - sec(m0);
	puts(slept >= 0.050 && slept < 5 ? "slept ok" : "slept BAD");
	puts(labs((long)r0.tv_sec - host) < 86400 ? "realtime ok" : "realtime BAD");
	struct timeval tv;
	gettimeofday(&tv, NULL);
	time_t t = time(NULL);
	puts(labs(tv.tv_sec - r0.tv_sec) <= 2 && labs(t - r0.tv_sec) <= 2 ? "gettimeofday ok" : "gettimeofday BAD");
	puts(clock_getres(CLOCK_MONOTONIC, &res) == 0 ? "res ok" : "res BAD");
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 20 * 1000 * 1000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
	clock_gettime(CLOCK_MONOTONIC, &m1);
	puts(sec(m1) >= sec(abs) ? "abstime ok" : "abstime BAD");
	return 0;
}
