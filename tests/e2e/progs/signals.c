/* signals.c: signal handlers with siginfo, sigaltstack, SA_RESTART against EINTR, fork with copy-on-write, wait statuses. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static volatile uintptr_t fault_addr;
static volatile int on_alt;
static char altstack[65536];
static sigjmp_buf jb;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got = sig * 1000 + (si->si_pid == getpid());
	char probe;
	on_alt = (uintptr_t)&probe >= (uintptr_t)altstack && (uintptr_t)&probe < (uintptr_t)altstack + sizeof(altstack);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	fault_addr = (uintptr_t)si->si_addr;
	siglongjmp(jb, 1);
}

static void on_chld(int sig)
{
	got = sig;
}

/* Whether the parent is asleep: the state letter after the name in /proc/<ppid>/stat. */
static int parent_sleeps(void)
{
	char path[32], text[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)getppid());
	FILE *f = fopen(path, "r");
	if (!f)
		return 1; /* no /proc: fall back to exiting at once */
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	char *paren = strrchr(text, ')');
	return paren && paren[1] == ' ' && paren[2] == 'S';
}

int main(void)
{
	/* A handler with siginfo, on the alternate stack. */
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	sigaltstack(&ss, NULL);
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	sigaction(SIGUSR1, &sa, NULL);
	kill(getpid(), SIGUSR1);
	printf("handler: %d on altstack %d\n", got, on_alt);

	/* A synchronous SIGSEGV reaches its handler with the address. */
	struct sigaction sv = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	sigaction(SIGSEGV, &sv, NULL);
	if (!sigsetjmp(jb, 1))
		*(volatile int *)(uintptr_t)0x1234 = 1;
	printf("segv at %#lx\n", (unsigned long)fault_addr);

	/* fork: parent and child see their own writes to the same page. */
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	strcpy(page, "parent");
	int fds[2];
	pipe(fds);
	pid_t c = fork();
	if (c == 0) {
		strcpy(page, "child");
		write(fds[1], page, 6);
		_exit(7);
	}
	char buf[8] = { 0 };
	read(fds[0], buf, 6);
	int st;
	waitpid(c, &st, 0);
	printf("cow: parent sees %s, child saw %s\n", page, buf);
	printf("wait: exited %d status %d\n", WIFEXITED(st), WEXITSTATUS(st));

	/* A child killed by a signal. */
	c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	kill(c, SIGTERM);
	waitpid(c, &st, 0);
	printf("wait: signaled %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));

	/* SIGCHLD handler; a read interrupted without SA_RESTART fails with EINTR. */
	struct sigaction sc = { .sa_handler = on_chld };
	sigaction(SIGCHLD, &sc, NULL);
	int p2[2];
	pipe(p2);
	/*
	 * The child exits only once the parent sleeps in read: a SIGCHLD that came
	 * before the read would be handled first, and the read would then wait
	 * for ever (on Linux too). The parent's state is in /proc/<ppid>/stat.
	 */
	got = 0;
	c = fork();
	if (c == 0) {
		while (!parent_sleeps())
			sched_yield();
		_exit(0);
	}
	errno = 0;
	ssize_t n = read(p2[0], buf, 1);
	printf("read: %zd %s, got SIGCHLD %d\n", n, errno == EINTR ? "EINTR" : strerror(errno), got == SIGCHLD);
	waitpid(c, &st, 0);

	/* vfork + execve of a missing program: the child's failure, the parent resumes. */
	c = vfork();
	if (c == 0) {
		execl("/nonexistent", "x", (char *)NULL);
		_exit(127);
	}
	waitpid(c, &st, 0);
	printf("vfork+exec: %d\n", WEXITSTATUS(st));
	return 0;
}
