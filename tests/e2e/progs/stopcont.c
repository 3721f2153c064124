/* stopcont.c: stop and continue: SIGSTOP/SIGTSTP/SIGCONT default actions, wait4 WUNTRACED/WCONTINUED, waitid,
 * SIGCHLD's CLD_STOPPED/CLD_CONTINUED, and a blocking read that a stop interrupts and SIGCONT restarts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld_codes[8];
static volatile sig_atomic_t nchld;
static volatile sig_atomic_t tstp_seen;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (nchld < 8)
		chld_codes[nchld++] = si->si_code;
}

static void on_tstp(int sig)
{
	(void)sig;
	tstp_seen = 1;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);

	/* A child blocked in read: the stop interrupts it, SIGCONT restarts it, the data arrives after. */
	int p[2];
	if (pipe(p))
		return 1;
	pid_t c = fork();
	if (c == 0) {
		char buf[16];
		ssize_t n = read(p[0], buf, sizeof(buf));
		_exit(n == 5 && memcmp(buf, "hello", 5) == 0 ? 7 : 100 + (n < 0 ? errno : 0));
	}
	usleep(50000);
	kill(c, SIGSTOP);
	int st = 0;
	pid_t w = waitpid(c, &st, WUNTRACED);
	printf("stopped: %d sig %s\n", w == c && WIFSTOPPED(st), strsignal(WSTOPSIG(st)));
	/* A stopped child does not run: nothing it would do happens, WNOHANG sees no change. */
	printf("nohang while stopped: %d\n", waitpid(c, &st, WNOHANG | WUNTRACED));
	kill(c, SIGCONT);
	w = waitpid(c, &st, WCONTINUED);
	printf("continued: %d\n", w == c && WIFCONTINUED(st));
	usleep(50000); /* the child's CLD_CONTINUED arrives before it can exit: one SIGCHLD each */
	write(p[1], "hello", 5); /* the restarted read is waiting for it */
	w = waitpid(c, &st, 0);
	printf("exited: %d status %d\n", w == c && WIFEXITED(st), WEXITSTATUS(st));
	printf("SIGCHLD codes: stopped %d continued %d exited %d\n", nchld > 0 && chld_codes[0] == CLD_STOPPED,
	       nchld > 1 && chld_codes[1] == CLD_CONTINUED, nchld > 2 && chld_codes[2] == CLD_EXITED);

	/* SIGTSTP with a handler does not stop; by default it does. waitid reports both ends. */
	c = fork();
	if (c == 0) {
		signal(SIGTSTP, on_tstp);
		raise(SIGTSTP);
		signal(SIGTSTP, SIG_DFL);
		if (tstp_seen)
			raise(SIGTSTP); /* stops here until the parent continues it */
		usleep(100000); /* still alive when the parent asks about the continue */
		_exit(tstp_seen ? 3 : 4);
	}
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	int r = waitid(P_PID, c, &si, WSTOPPED);
	printf("waitid stopped: %d code %d status %s\n", r == 0 && si.si_pid == c, si.si_code == CLD_STOPPED,
	       strsignal(si.si_status));
	kill(c, SIGCONT);
	memset(&si, 0, sizeof(si));
	r = waitid(P_ALL, 0, &si, WCONTINUED);
	printf("waitid continued: %d code %d\n", r == 0 && si.si_pid == c, si.si_code == CLD_CONTINUED);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	printf("waitid WNOWAIT: %d code %d status %d\n", r == 0 && si.si_pid == c, si.si_code == CLD_EXITED, si.si_status);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, c, &si, WEXITED);
	printf("waitid reaps: %d status %d\n", r == 0 && si.si_pid == c, si.si_status);
	r = waitid(P_ALL, 0, &si, WEXITED);
	printf("then: %d %s\n", r, strerror(errno));

	/* SIGKILL ends a stopped process; waitid says it was killed. */
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	kill(c, SIGSTOP);
	waitpid(c, &st, WUNTRACED);
	kill(c, SIGKILL);
	memset(&si, 0, sizeof(si));
	r = waitid(P_PID, c, &si, WEXITED);
	printf("killed while stopped: %d code %d sig %d\n", r == 0, si.si_code == CLD_KILLED, si.si_status);
	/* WNOHANG with a running child: waitid returns 0 with si_pid 0 */
	c = fork();
	if (c == 0) {
		usleep(100000);
		_exit(0);
	}
	si.si_pid = 12345;
	r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
	printf("nohang: %d pid %d\n", r, si.si_pid);
	r = waitid(P_ALL, 0, &si, 0);
	printf("bad options: %d %s\n", r, strerror(errno));
	waitpid(c, &st, 0);
	return 0;
}
