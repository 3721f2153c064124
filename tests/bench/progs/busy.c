/* busy.c: N processes (default 2) compute side by side for S seconds (default 2): the preemption tick's workload. */
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0, end = now() + secs;
	int n = argc > 2 ? atoi(argv[2]) : 2, child = 0;
	for (int i = 1; i < n && !child; i++) {
		pid_t c = fork();
		if (c < 0)
			return 1;
		child = c == 0;
	}
	/* Mostly user-mode work: a look at the clock (a syscall) every million iterations. */
	while (now() < end)
		for (volatile int i = 0; i < 1000000; i++)
			;
	if (child)
		_exit(0);
	int st, bad = 0;
	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	return bad;
}
