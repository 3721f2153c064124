/* timerrace.c: futex waits that time out while another thread sleeps in nanosleep, thousands of times: a timed-out
 * futex wait must leave the kernel's other timers alone (the Go runtime's stop-the-world loop does this, with sysmon
 * sleeping beside it). Prints what Linux prints; a kernel that loses a timer hangs here. */
#define FUTEX_WAIT_PRIVATE 128
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 3000

static int word;

static void *waiter(void *arg)
{
	long *timeouts = arg;
	struct timespec ts = { 0, 50000 };
	for (int i = 0; i < ROUNDS; i++)
		if (syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0) == -1)
			(*timeouts)++;
	return NULL;
}

static void *sleeper(void *arg)
{
	long *sleeps = arg;
	struct timespec ts = { 0, 30000 };
	for (int i = 0; i < ROUNDS; i++)
		if (nanosleep(&ts, NULL) == 0)
			(*sleeps)++;
	return NULL;
}

int main(void)
{
	long timeouts[2] = { 0, 0 }, sleeps[2] = { 0, 0 };
	pthread_t t[4];
	pthread_create(&t[0], NULL, waiter, &timeouts[0]);
	pthread_create(&t[1], NULL, sleeper, &sleeps[0]);
	pthread_create(&t[2], NULL, waiter, &timeouts[1]);
	pthread_create(&t[3], NULL, sleeper, &sleeps[1]);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("futex timeouts %ld, sleeps %ld\n", timeouts[0] + timeouts[1], sleeps[0] + sleeps[1]);
	return 0;
}
