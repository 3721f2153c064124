/* threads.c: pthreads on the guest: mutex, condvar, barrier, join values, TLS, futex errors, thread-directed signals, exit paths, execve from a thread. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NT 4
/* linux/futex.h: not among musl-gcc's headers */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define FUTEX_WAIT_BITSET_PRIVATE 137
#define FUTEX_BITSET_MATCH_ANY 0xffffffff
#define FUTEX_REQUEUE_PRIVATE 131
#define FUTEX_CMP_REQUEUE_PRIVATE 132
#define FUTEX_WAKE_OP_PRIVATE 133

static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }
static long futex(volatile int *a, int op, int val, const struct timespec *ts, int val3)
{
	return syscall(SYS_futex, a, op, val, ts, NULL, val3);
}
/* Names, not strerror's text: musl and glibc word them differently. */
static const char *ename(long e)
{
	switch (e) {
	case 0: return "";
	case EAGAIN: return "EAGAIN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EINVAL: return "EINVAL";
	case EINTR: return "EINTR";
	case ESRCH: return "ESRCH";
	case ENOSYS: return "ENOSYS";
	default: return "other";
	}
}
static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread int tls_val;
static pid_t main_pid;
static volatile int ids_bad;

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	tls_val = i + 1;
	if (getpid() != main_pid || tid() == main_pid)
		ids_bad = 1;
	for (int k = 0; k < 20000; k++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
		if (k % 5000 == 0)
			sched_yield();
	}
	if (tls_val != i + 1)
		ids_bad = 2;
	return (void *)(intptr_t)(i * 10);
}

static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds;

static void *ponger(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (int k = 0; k < 500; k++) {
		while (turn != 1)
			pthread_cond_wait(&cv, &mu);
		turn = 0;
		rounds++;
		pthread_cond_broadcast(&cv);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

static pthread_barrier_t bar;
static int serial;
static void *barrier_worker(void *arg)
{
	(void)arg;
	for (int k = 0; k < 3; k++)
		if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD)
			__atomic_add_fetch(&serial, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static volatile pid_t handler_tid;
static volatile int handler_runs;
static void on_sig(int sig)
{
	(void)sig;
	handler_tid = tid();
	handler_runs++;
}

static volatile int fw, waiting;
static volatile long wait_ret, wait_errno;
static void *futex_waiter(void *arg)
{
	(void)arg;
	waiting = 1;
	long r = futex(&fw, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
	wait_errno = r ? errno : 0;
	wait_ret = r;
	return NULL;
}

static volatile int fa, fb, nwaiting, nwoke;
static void *requeue_waiter(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&nwaiting, 1, __ATOMIC_SEQ_CST);
	if (futex(&fa, FUTEX_WAIT_PRIVATE, 0, NULL, 0) == 0)
		__atomic_add_fetch(&nwoke, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* REQUEUE, CMP_REQUEUE and WAKE_OP, which musl and glibc use less than they used to. */
static void futex_requeue(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, requeue_waiter, NULL);
	while (nwaiting < 2)
		msleep(1);
	msleep(30);
	long r = syscall(SYS_futex, &fa, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, &fb, 7);
	printf("cmp_requeue mismatch: %ld %s\n", r, ename(r ? errno : 0));
	r = syscall(SYS_futex, &fa, FUTEX_REQUEUE_PRIVATE, 1, (void *)1L, &fb, 0);
	msleep(10);
	printf("requeue: %ld, woken %d\n", r, nwoke);
	r = futex(&fa, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
	printf("wake the first address again: %ld\n", r);
	r = futex(&fb, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("wake the second address: %ld, woken %d\n", r, nwoke);
	volatile int w2 = 5;
	/* FUTEX_OP(ADD, 3, CMP_EQ, 5): w2 += 3, and wake on w2 if it was 5 */
	r = syscall(SYS_futex, &fa, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &w2, (1 << 28) | (0 << 24) | (3 << 12) | 5);
	printf("wake_op: %ld, w2 %d\n", r, w2);
}

static volatile int go;
static volatile pid_t target_tid;
static void *sig_target(void *arg)
{
	int unblock = (int)(intptr_t)arg;
	if (unblock) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGUSR2);
		pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	}
	target_tid = tid();
	while (!handler_runs && !go)
		msleep(1);
	return NULL;
}

static void install(int sig, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sa.sa_flags = flags;
	sigaction(sig, &sa, NULL);
}

static void basics(void)
{
	pthread_t t[NT];
	main_pid = getpid();
	for (int i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	printf("join:");
	for (int i = 0; i < NT; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		printf(" %d", (int)(intptr_t)rv);
	}
	printf("\ncounter %ld\nids and tls %s\n", counter, ids_bad ? "bad" : "ok");

	pthread_t p;
	pthread_create(&p, NULL, ponger, NULL);
	pthread_mutex_lock(&mu);
	for (int k = 0; k < 500; k++) {
		turn = 1;
		pthread_cond_broadcast(&cv);
		while (turn != 0)
			pthread_cond_wait(&cv, &mu);
	}
	pthread_mutex_unlock(&mu);
	pthread_join(p, NULL);
	printf("condvar rounds %d\n", rounds);

	pthread_barrier_init(&bar, NULL, NT);
	for (int i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, barrier_worker, NULL);
	for (int i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	printf("barrier serial %d\n", serial);
}

static void futex_errors(void)
{
	volatile int w = 0;
	long r = futex(&w, FUTEX_WAIT_PRIVATE, 1, NULL, 0);
	printf("futex mismatch: %ld %s\n", r, ename(r ? errno : 0));
	struct timespec ts = { 0, 30 * 1000000 };
	r = futex(&w, FUTEX_WAIT_PRIVATE, 0, &ts, 0);
	printf("futex timeout: %ld %s\n", r, ename(r ? errno : 0));
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now.tv_nsec += 20 * 1000000;
	if (now.tv_nsec >= 1000000000) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000;
	}
	r = futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, &now, FUTEX_BITSET_MATCH_ANY);
	printf("futex bitset deadline: %ld %s\n", r, ename(r ? errno : 0));
	r = futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, 0);
	printf("futex empty bitset: %ld %s\n", r, ename(r ? errno : 0));
	r = futex((volatile int *)((char *)&w + 1), FUTEX_WAKE_PRIVATE, 1, NULL, 0);
	printf("futex unaligned: %ld %s\n", r, ename(r ? errno : 0));
	r = futex(&w, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
	printf("futex wake nobody: %ld\n", r);

	/* A signal without SA_RESTART interrupts the wait; with it the wait goes on. */
	pthread_t t;
	install(SIGUSR1, 0);
	pthread_create(&t, NULL, futex_waiter, NULL);
	while (!waiting)
		msleep(1);
	msleep(30);
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	printf("futex signal: %ld %s, handler in waiter %d\n", wait_ret, ename(wait_errno),
	       handler_tid != main_pid);
	install(SIGUSR1, SA_RESTART);
	waiting = 0;
	handler_runs = 0;
	wait_ret = wait_errno = 0;
	pthread_create(&t, NULL, futex_waiter, NULL);
	while (!waiting)
		msleep(1);
	msleep(30);
	pthread_kill(t, SIGUSR1);
	msleep(30);
	int still = handler_runs == 1 && wait_ret == 0 && !wait_errno; /* not returned yet */
	fw = 1;
	futex(&fw, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
	pthread_join(t, NULL);
	printf("futex SA_RESTART: still waiting after handler %d, then %ld\n", still, wait_ret);
}

static void signals(void)
{
	/* tgkill: the handler runs in the thread named. */
	pthread_t t;
	install(SIGUSR2, 0);
	handler_runs = 0;
	target_tid = 0;
	pthread_create(&t, NULL, sig_target, (void *)0);
	while (!target_tid)
		msleep(1);
	syscall(SYS_tgkill, getpid(), target_tid, SIGUSR2);
	pthread_join(t, NULL);
	printf("tgkill: handler in target %d\n", handler_tid == target_tid);
	long r = syscall(SYS_tgkill, getpid() + 1000, target_tid, 0);
	printf("tgkill wrong group: %ld %s\n", r, ename(r ? errno : 0));

	/* A process-directed signal goes to the thread that does not block it. */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	handler_runs = 0;
	target_tid = 0;
	pthread_create(&t, NULL, sig_target, (void *)1);
	while (!target_tid)
		msleep(1);
	kill(getpid(), SIGUSR2);
	pthread_join(t, NULL);
	printf("kill: handled by the unblocking thread %d\n", handler_tid == target_tid);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}

static volatile int unblock_now;
static void *late_unblocker(void *arg)
{
	(void)arg;
	target_tid = tid();
	while (!unblock_now)
		msleep(1);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL); /* the pending signal is delivered on the way out */
	return NULL;
}

/* Every thread blocks the signal when it comes: it waits for the process, and the first thread to unblock it takes it. */
static void shared_pending(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	handler_runs = 0;
	handler_tid = 0;
	target_tid = 0;
	pthread_t t;
	pthread_create(&t, NULL, late_unblocker, NULL);
	while (!target_tid)
		msleep(1);
	kill(getpid(), SIGUSR2);
	msleep(20);
	int before = handler_runs;
	unblock_now = 1;
	pthread_join(t, NULL);
	printf("kill while every thread blocks it: pending %d, then taken by the thread that unblocks %d\n",
	       before == 0, handler_runs == 1 && handler_tid == target_tid);
	sigpending(&s);
	printf("still pending for the process: %d\n", sigismember(&s, SIGUSR2));
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}

static void *exiter(void *arg)
{
	(void)arg;
	msleep(20);
	printf("thread calls exit(42)\n");
	fflush(stdout);
	exit(42);
}

static void *late(void *arg)
{
	(void)arg;
	msleep(50);
	printf("worker done after main's pthread_exit\n");
	fflush(stdout);
	return NULL;
}

static char *self;
static void *execer(void *arg)
{
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)(intptr_t)arg);
	char *argv[] = { self, "execd", pid, NULL };
	execv(self, argv);
	printf("execv failed: %s\n", strerror(errno));
	exit(1);
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		msleep(1000);
	return NULL;
}

static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static volatile pid_t forked;
static void *forker(void *arg)
{
	(void)arg;
	pid_t c = fork();
	if (c == 0) {
		pthread_t t;
		for (int i = 0; i < 2; i++)
			pthread_create(&t, NULL, sleeper, NULL);
		msleep(20);
		_exit(5); /* exit_group: the sleepers go too */
	}
	forked = c;
	return NULL;
}

/* Processes with threads as children: waited for from another thread, and killed whole. */
static void fork_wait(void)
{
	pthread_t t;
	pthread_create(&t, NULL, forker, NULL);
	pthread_join(t, NULL);
	int st;
	pid_t w = waitpid(-1, &st, 0);
	printf("child forked by a thread, reaped by main: %d, exited %d\n", w == forked, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	pid_t c = fork();
	if (c == 0) {
		pthread_t s;
		for (int i = 0; i < 3; i++)
			pthread_create(&s, NULL, sleeper, NULL);
		for (;;)
			pause();
	}
	msleep(30);
	kill(c, SIGTERM);
	w = waitpid(c, &st, 0);
	printf("child with threads killed: %d, signal %d\n", w == c, WIFSIGNALED(st) ? WTERMSIG(st) : -1);
}

static void *setsid_thread(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)setsid();
}

/* setsid in a thread: the session and the process group are the process's, so the main thread sees them. */
static void setsid_in_thread(void)
{
	pid_t c = fork();
	if (c == 0) {
		pthread_t t;
		void *r;
		pthread_create(&t, NULL, setsid_thread, NULL);
		pthread_join(t, &r);
		_exit((int)(intptr_t)r == getpid() && getsid(0) == getpid() && getpgid(0) == getpid() ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	printf("setsid in a thread: the process's session and group %d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void *faulter(void *arg)
{
	(void)arg;
	static int *volatile bad = (int *)16;
	msleep(10);
	*bad = 1;
	return NULL;
}

static pthread_mutex_t rmu;
static void *robust_owner(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&rmu);
	return NULL; /* dies holding it */
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	self = argv[0];
	const char *mode = argc > 1 ? argv[1] : "all";
	if (!strcmp(mode, "all")) {
		basics();
		futex_errors();
		futex_requeue();
		signals();
		shared_pending();
		fork_wait();
		setsid_in_thread();
		return 0;
	}
	if (!strcmp(mode, "fault")) {
		pthread_t t;
		pthread_create(&t, NULL, faulter, NULL);
		pthread_join(t, NULL);
		printf("not reached\n");
		return 0;
	}
	if (!strcmp(mode, "exit")) {
		pthread_t t;
		pthread_create(&t, NULL, exiter, NULL);
		pthread_join(t, NULL);
		printf("join returned\n");
		return 1;
	}
	if (!strcmp(mode, "mainexit")) {
		pthread_t t;
		pthread_create(&t, NULL, late, NULL);
		pthread_exit(NULL);
	}
	if (!strcmp(mode, "exec")) {
		if (argc > 2)
			self = argv[2]; /* where the guest sees this program */
		pthread_t t;
		pthread_create(&t, NULL, sleeper, NULL);
		pthread_create(&t, NULL, execer, (void *)(intptr_t)getpid());
		for (;;)
			msleep(1000);
	}
	if (!strcmp(mode, "execd")) {
		printf("after execve from a thread: same pid %d, tid is pid %d\n", atoi(argv[2]) == getpid(), tid() == getpid());
		return 3;
	}
	if (!strcmp(mode, "tasks")) {
		pthread_t t[3];
		for (int i = 0; i < 3; i++)
			pthread_create(&t[i], NULL, sleeper, NULL);
		printf("tasks %d\n", count_tasks());
		return 0;
	}
	if (!strcmp(mode, "robust")) {
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		pthread_mutex_init(&rmu, &a);
		pthread_t t;
		pthread_create(&t, NULL, robust_owner, NULL);
		pthread_join(t, NULL);
		int r = pthread_mutex_lock(&rmu);
		printf("robust lock after owner died: %s\n", r == EOWNERDEAD ? "EOWNERDEAD" : strerror(r));
		pthread_mutex_consistent(&rmu);
		pthread_mutex_unlock(&rmu);
		return 0;
	}
	return 2;
}
