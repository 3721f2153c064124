/* sigfd.c: signalfd reads blocked SIGUSR1 and SIGCHLD with their senders, polls readable, EAGAIN when empty; memfd write, mmap, ftruncate. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHOW(what, call) do { long r_ = (call); printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerror(errno) : "ok"); } while (0)

int main(void)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGCHLD);
	sigprocmask(SIG_BLOCK, &m, NULL);
	int s = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
	struct signalfd_siginfo si;
	SHOW("empty", read(s, &si, sizeof(si)));
	SHOW("short", read(s, &si, 8));
	kill(getpid(), SIGUSR1);
	struct pollfd pf = { s, POLLIN, 0 };
	int r = poll(&pf, 1, 0);
	printf("poll: %d revents %d\n", r, pf.revents);
	SHOW("read", read(s, &si, sizeof(si)));
	printf("signo %u code %d from self %d\n", si.ssi_signo, si.ssi_code, si.ssi_pid == (unsigned)getpid());
	SHOW("again", read(s, &si, sizeof(si)));
	pid_t c = fork();
	if (c == 0)
		_exit(3);
	pf.revents = 0;
	r = poll(&pf, 1, 5000);
	printf("child poll: %d revents %d\n", r, pf.revents);
	SHOW("read chld", read(s, &si, sizeof(si)));
	printf("signo %u child %d\n", si.ssi_signo, si.ssi_pid == (unsigned)c);
	waitpid(c, NULL, 0);
	SHOW("bad size", signalfd(-1, &m, 4));
	SHOW("not signalfd", signalfd(0, &m, 0));
	SHOW("modify", signalfd(s, &m, 0) == s ? 0 : -1);
	/* blocked with no handler, then unblocked: the default action (the end of the program) only then */
	sigemptyset(&m);
	sigaddset(&m, SIGTERM);
	sigprocmask(SIG_BLOCK, &m, NULL);
	kill(getpid(), SIGTERM);
	printf("still here after a blocked SIGTERM\n");

	/* memfd */
	int f = memfd_create("buf", MFD_CLOEXEC);
	SHOW("memfd write", write(f, "hello memfd", 11));
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, f, 0);
	printf("mmap: %.11s\n", p == MAP_FAILED ? "failed" : p);
	SHOW("ftruncate", ftruncate(f, 8192));
	struct stat st;
	fstat(f, &st);
	printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
	char b[16] = { 0 };
	SHOW("pread", pread(f, b, 5, 6));
	printf("read back: %s\n", b);
	char link[64] = { 0 };
	char path[32];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f);
	readlink(path, link, sizeof(link) - 1);
	printf("link: %s\n", link);
	SHOW("memfd bad flags", memfd_create("x", 0x100));
	fflush(stdout);
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	printf("not reached\n");
	return 0;
}
