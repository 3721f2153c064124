/* alarm.c: alarm() interrupts pause() with SIGALRM, a periodic ITIMER_REAL fires repeatedly, and a default SIGALRM kills. */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int ticks;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

int main(int argc, char **argv)
{
	if (argc > 1) { /* no handler: the default action ends the process */
		alarm(1);
		pause();
		return 0;
	}
	signal(SIGALRM, on_alarm);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	alarm(1);
	pause();
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("alarm: %d tick after %s\n", ticks, s >= 0.9 && s < 5 ? "about a second" : "a wrong time");
	struct itimerval it = { { 0, 50000 }, { 0, 50000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	while (ticks < 4)
		pause();
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("itimer: %d ticks\n", ticks);
	printf("alarm(0) after cancel: %u\n", alarm(0));
	return 0;
}
