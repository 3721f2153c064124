/* clonefs.c: CLONE_FS: threads (pthreads pass it) share the working directory and umask, so a chdir or umask in
 * one is seen by the others; a thread cloned without it, and a forked child, change only their own; a process cloned
 * with it (no shared memory) changes its parent's. Prints what Linux prints. */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char cwd_buf[PATH_MAX];

static const char *cwd(void)
{
	if (!getcwd(cwd_buf, sizeof(cwd_buf)))
		strcpy(cwd_buf, "(getcwd failed)");
	return cwd_buf;
}

/* /proc/self/cwd, the other view of the same thing */
static const char *proc_cwd(void)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/cwd", buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = 0;
	return buf;
}

static mode_t get_umask(void)
{
	mode_t m = umask(0);
	umask(m);
	return m;
}

static void *pthread_body(void *arg)
{
	(void)arg;
	if (chdir("/tmp"))
		return (void *)1;
	umask(077);
	return NULL;
}

/* A thread without CLONE_FS: raw system calls only, as it has no TLS of its own. */
static volatile int raw_done;
static char raw_cwd[PATH_MAX];
static int raw_body(void *arg)
{
	(void)arg;
	syscall(SYS_chdir, "/dev");
	syscall(SYS_umask, 027);
	syscall(SYS_getcwd, raw_cwd, sizeof(raw_cwd));
	raw_done = 1;
	syscall(SYS_exit, 0);
	return 0;
}

/* A process sharing its parent's fs (CLONE_FS without CLONE_VM). */
static int proc_body(void *arg)
{
	(void)arg;
	if (chdir("/proc"))
		_exit(1);
	umask(0);
	_exit(0);
}

int main(void)
{
	static char stack[2][64 * 1024] __attribute__((aligned(16)));
	if (chdir("/"))
		return 1;
	umask(022);

	pthread_t t;
	void *ret;
	pthread_create(&t, NULL, pthread_body, NULL);
	pthread_join(t, &ret);
	printf("after a thread's chdir and umask: cwd %s (/proc/self/cwd %s), umask %03o, thread %s\n", cwd(), proc_cwd(),
	       get_umask(), ret ? "failed" : "ok");

	/* The Go runtime's flag set less CLONE_FS, with what pthreads add. */
	int flags = CLONE_VM | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
	if (clone(raw_body, stack[0] + sizeof(stack[0]), flags, NULL) < 0)
		perror("clone");
	struct timespec ms = { 0, 1000000 };
	for (int i = 0; i < 5000 && !raw_done; i++)
		nanosleep(&ms, NULL);
	printf("a thread without CLONE_FS: its cwd %s, ours still %s, umask %03o\n", raw_done ? raw_cwd : "(never ran)", cwd(),
	       get_umask());

	pid_t c = fork();
	if (c == 0) {
		_exit(chdir("/dev") ? 1 : 0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("after a forked child's chdir: %s (child %d)\n", cwd(), WEXITSTATUS(st));

	c = clone(proc_body, stack[1] + sizeof(stack[1]), CLONE_FS | SIGCHLD, NULL);
	waitpid(c, &st, 0);
	printf("after a CLONE_FS child process's chdir and umask: cwd %s, umask %03o (child %d)\n", cwd(), get_umask(),
	       WEXITSTATUS(st));
	/* and the other way round: the relative path works from the shared directory */
	printf("relative open from there: %s\n", access("self", F_OK) == 0 ? "ok" : "missing");
	return 0;
}
