/* dynclock.c: the clocks through glibc, which calls the vDSO when AT_SYSINFO_EHDR names one. */
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

int main(void)
{
	printf("vDSO %s\n", getauxval(AT_SYSINFO_EHDR) ? "mapped" : "MISSING");
	struct timespec a, b, r;
	struct timeval tv;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 1000; i++)
		clock_gettime(CLOCK_MONOTONIC, &b);
	clock_gettime(CLOCK_REALTIME, &r);
	gettimeofday(&tv, NULL);
	time_t t = time(NULL);
	long long d = (b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec);
	printf("monotonic %s\n", d > 0 && d < 1000000000ll ? "advances" : "WRONG");
	printf("realtime, gettimeofday, time %s\n",
	       r.tv_sec > 1600000000 && tv.tv_sec - r.tv_sec <= 1 && t - r.tv_sec <= 1 && t >= r.tv_sec ? "agree" : "DISAGREE");
	return 0;
}
