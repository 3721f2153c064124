/* groupstop.c: a stop signal stops every thread of a process (a group stop) and SIGCONT resumes them all: the
 * parent's waitpid sees one stop and one continue per process, /proc/<pid>/status says T, a thread that spins and
 * one that sleeps in nanosleep both stand still while stopped, whichever thread the signal went to (kill, or tgkill
 * of one thread), and SIGKILL ends a stopped process. Prints what Linux prints. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	volatile long spins, naps, mains;  /* progress of the spinning thread, the sleeping one, and main */
	volatile int spin_tid, nap_tid, ready;
};
static struct shared *sh;

static void *spinner(void *arg)
{
	(void)arg;
	sh->spin_tid = (int)syscall(SYS_gettid);
	for (;;)
		sh->spins++;
	return NULL;
}

static void *napper(void *arg)
{
	(void)arg;
	sh->nap_tid = (int)syscall(SYS_gettid);
	struct timespec ms = { 0, 1000000 };
	for (;;) {
		nanosleep(&ms, NULL);
		sh->naps++;
	}
	return NULL;
}

static void child(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, spinner, NULL);
	pthread_create(&b, NULL, napper, NULL);
	struct timespec ms = { 0, 1000000 };
	for (;;) {
		if (sh->spin_tid && sh->nap_tid)
			sh->ready = 1;
		nanosleep(&ms, NULL);
		sh->mains++;
	}
}

static const char *signame(int sig)
{
	return sig == SIGSTOP ? "STOP" : sig == SIGTSTP ? "TSTP" : sig == SIGTTIN ? "TTIN" : "other";
}

static void sleep_ms(int ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&t, NULL);
}

/* The state letter /proc/<pid>/status shows, and /proc/<pid>/stat's, as "TT"; '?' for one that cannot be read. */
static const char *proc_state(pid_t pid)
{
	static char both[3];
	char path[64], line[256];
	both[0] = both[1] = '?';
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "State:", 6))
			sscanf(line + 6, " %c", &both[0]);
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f) && strrchr(line, ')'))
		sscanf(strrchr(line, ')') + 1, " %c", &both[1]);
	if (f)
		fclose(f);
	return both;
}

/* Nothing moves in 100 ms: 1 if every counter stood still. */
static int frozen(void)
{
	long s = sh->spins, n = sh->naps, m = sh->mains;
	sleep_ms(100);
	return s == sh->spins && n == sh->naps && m == sh->mains;
}

/* Every counter moves within a second. */
static int moving(void)
{
	long s = sh->spins, n = sh->naps, m = sh->mains;
	for (int i = 0; i < 100; i++) {
		sleep_ms(10);
		if (s != sh->spins && n != sh->naps && m != sh->mains)
			return 1;
	}
	return 0;
}

/* Stop the child with sig sent by how, check everything stands still, continue it, check it moves again. */
static void round_trip(pid_t c, int sig, const char *how, int tid)
{
	if (tid)
		syscall(SYS_tgkill, c, tid, sig);
	else
		kill(c, sig);
	int st = 0;
	pid_t w = waitpid(c, &st, WUNTRACED);
	printf("%s %s: stopped %d by %s\n", how, signame(sig), w == c && WIFSTOPPED(st), signame(WSTOPSIG(st)));
	printf("  state %s, every thread still %d\n", proc_state(c), frozen());
	printf("  a second stop report: %d\n", waitpid(c, &st, WNOHANG | WUNTRACED));
	kill(c, SIGCONT);
	w = waitpid(c, &st, WCONTINUED);
	printf("  continued %d, a second report: %d\n", w == c && WIFCONTINUED(st), waitpid(c, &st, WNOHANG | WCONTINUED));
	printf("  not stopped %d, every thread moves %d\n", strchr(proc_state(c), 'T') == NULL, moving());
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* a hang shows how far it got */
	/* The counters live in a memfd mapped MAP_SHARED: the parent watches the child's threads through it. */
	int fd = memfd_create("counters", 0);
	if (fd < 0 || ftruncate(fd, sizeof(*sh)))
		return 1;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (sh == MAP_FAILED)
		return 1;
	pid_t c = fork();
	if (c == 0)
		child();
	while (!sh->ready)
		sleep_ms(1);
	printf("before: every thread moves %d\n", moving());
	round_trip(c, SIGSTOP, "kill", 0);
	round_trip(c, SIGTSTP, "tgkill of the sleeping thread", sh->nap_tid);
	round_trip(c, SIGTTIN, "tgkill of the spinning thread", sh->spin_tid);

	kill(c, SIGSTOP);
	int st = 0;
	waitpid(c, &st, WUNTRACED);
	kill(c, SIGKILL);
	pid_t w = waitpid(c, &st, 0);
	printf("SIGKILL while stopped: %d signal %d\n", w == c && WIFSIGNALED(st), WTERMSIG(st));
	return 0;
}
