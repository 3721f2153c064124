/* runner.c: the bench's timer: run a command N times after W warm-ups, one line per run of wall ms, peak RSS and status. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: runner [-n RUNS] [-w WARMUP] [-t TIMEOUT_S] [-x STATUS] [-o STDOUT_FILE] [-r ROOT] -- CMD ARGS...
 *
 * Each measured run prints "WALL_MS MAXRSS_KIB STATUS" on runner's stdout. WALL_MS spans fork to
 * the reaped exit, like `hyperfine -N`. MAXRSS_KIB is wait4's ru_maxrss: the largest resident set
 * of any one process in the command's tree that was waited for (the sandbox tool, its helpers, the
 * program), not their sum. STATUS is the exit status, 128+N for signal N, or "timeout".
 * The command's stdin is /dev/null, its stdout goes to STDOUT_FILE (appended; /dev/null without -o),
 * its stderr to ours. With -r, the command runs chrooted into ROOT (its working directory /), so a native
 * run from a tree like Debian's costs one chroot() in the child rather than the exec of chroot(1).
 * A warm-up run that does not end with STATUS (0 unless -x; QEMU's debug-exit gives 1) is printed
 * too and ends the cell: the measured runs would fail the same way.
 */

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* One run: returns 0 and fills the outputs, or -errno when the command could not be started. */
static int run_once(char **cmd, const char *root, int out_fd, unsigned timeout_s, double *ms, long *rss_kib, char *status, size_t status_len)
{
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Its own process group, so a timeout reaches the helpers a sandbox tool starts. */
		setpgid(0, 0);
		int null_fd = open("/dev/null", O_RDONLY);
		if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0)
			_exit(126);
		if (root && (chroot(root) < 0 || chdir("/") < 0)) {
			fprintf(stderr, "runner: cannot chroot into %s: %s\n", root, strerror(errno));
			_exit(126);
		}
		execvp(cmd[0], cmd);
		fprintf(stderr, "runner: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	alarmed = 0;
	if (timeout_s)
		alarm(timeout_s);
	int st;
	struct rusage ru;
	int timed_out = 0;
	for (;;) {
		pid_t r = wait4(pid, &st, 0, &ru);
		if (r == pid)
			break;
		if (r < 0 && errno == EINTR) {
			if (alarmed && !timed_out) {
				/* TERM first: runsc and crun clean up their sandboxes on it; KILL 3 s later. */
				timed_out = 1;
				kill(-pid, SIGTERM);
				alarm(3);
			} else if (alarmed) {
				kill(-pid, SIGKILL);
			}
			alarmed = 0;
			continue;
		}
		if (r < 0 && errno != EINTR)
			return -errno;
	}
	alarm(0);
	*ms = now_ms() - t0;
	*rss_kib = ru.ru_maxrss;
	if (timed_out)
		snprintf(status, status_len, "timeout");
	else if (WIFEXITED(st))
		snprintf(status, status_len, "%d", WEXITSTATUS(st));
	else
		snprintf(status, status_len, "%d", 128 + WTERMSIG(st));
	return 0;
}

int main(int argc, char **argv)
{
	long runs = 10, warmup = 0;
	unsigned timeout_s = 0;
	const char *out_path = "/dev/null";
	const char *want = "0";
	const char *root = NULL;
	int c;
	while ((c = getopt(argc, argv, "+n:w:t:x:o:r:")) != -1) {
		switch (c) {
		case 'n': runs = atol(optarg); break;
		case 'w': warmup = atol(optarg); break;
		case 't': timeout_s = (unsigned)atol(optarg); break;
		case 'x': want = optarg; break;
		case 'o': out_path = optarg; break;
		case 'r': root = optarg; break;
		default: goto usage;
		}
	}
	if (optind >= argc || runs < 1 || warmup < 0)
		goto usage;

	int out_fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		fprintf(stderr, "runner: cannot open %s for the command's output: %s\n", out_path, strerror(errno));
		return 2;
	}
	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: the alarm must interrupt wait4 */

	for (long i = 0; i < warmup + runs; i++) {
		double ms = 0;
		long rss = 0;
		char status[16];
		int err = run_once(argv + optind, root, out_fd, timeout_s, &ms, &rss, status, sizeof(status));
		if (err < 0) {
			fprintf(stderr, "runner: cannot run %s: %s\n", argv[optind], strerror(-err));
			return 2;
		}
		if (i >= warmup || strcmp(status, want) != 0)
			printf("%.4f %ld %s\n", ms, rss, status);
		fflush(stdout);
		if (i < warmup && strcmp(status, want) != 0)
			return 1;
	}
	return 0;
usage:
	fprintf(stderr, "usage: runner [-n RUNS] [-w WARMUP] [-t TIMEOUT_S] [-x STATUS] [-o STDOUT_FILE] [-r ROOT] -- CMD ARGS...\n");
	return 2;
}
