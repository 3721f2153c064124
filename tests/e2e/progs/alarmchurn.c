/* alarmchurn.c: alarm set and cleared 1000 times (each once left a host timer in the I/O queue for 10 s), then an interval timer ticking. */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

static volatile int ticks;

static void on_alarm(int s)
{
	(void)s;
	ticks++;
}

int main(void)
{
	signal(SIGALRM, on_alarm);
	for (int i = 0; i < 1000; i++) {
		alarm(10);
		alarm(0);
	}
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	setitimer(ITIMER_REAL, &it, 0);
	while (ticks < 5)
		pause();
	it = (struct itimerval){ { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &it, 0);
	printf("1000 alarms set and cleared, then %d interval ticks\n", ticks >= 5 ? 5 : ticks);
	return 0;
}
