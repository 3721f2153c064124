/* procinfo.c: prctl (name, pdeathsig, dumpable, no_new_privs), resource limits across fork, one CPU, /proc/self/{status,stat,maps,auxv}, /proc/stat, /sys CPU lists. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHOW(what, call) do { long r_ = (call); printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerror(errno) : "ok"); } while (0)

static char text[65536];

static const char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	long n = 0, r;
	if (fd < 0)
		return "";
	while ((r = read(fd, text + n, sizeof(text) - 1 - n)) > 0)
		n += r;
	text[n] = 0;
	close(fd);
	return text;
}

static void line_of(const char *path, const char *key)
{
	const char *t = slurp(path), *p = strstr(t, key);
	if (!p) {
		printf("%s: no %s\n", path, key);
		return;
	}
	const char *e = strchr(p, '\n');
	printf("%.*s\n", (int)(e ? e - p : (long)strlen(p)), p);
}

int main(int argc, char **argv)
{
	(void)argc;
	char name[32] = { 0 };
	SHOW("set name", prctl(PR_SET_NAME, "worker-name-long-cut"));
	prctl(PR_GET_NAME, name);
	printf("name: %s\n", name);
	line_of("/proc/self/status", "Name:");
	slurp("/proc/self/stat");
	printf("stat comm: %.*s\n", (int)(strchr(text, ')') - strchr(text, '(') + 1), strchr(text, '('));
	line_of("/proc/self/status", "Threads:");
	line_of("/proc/self/status", "State:");
	char want[64];
	snprintf(want, sizeof(want), "Pid:\t%d\n", getpid());
	printf("status pid ok %d\n", strstr(slurp("/proc/self/status"), want) != NULL);
	printf("status vmrss %d\n", strstr(text, "VmRSS:") != NULL);

	SHOW("pdeathsig", prctl(PR_SET_PDEATHSIG, SIGTERM));
	int sig = 0;
	prctl(PR_GET_PDEATHSIG, &sig);
	printf("pdeathsig %d\n", sig);
	SHOW("get dumpable", prctl(PR_GET_DUMPABLE));
	SHOW("set dumpable 0", prctl(PR_SET_DUMPABLE, 0));
	SHOW("get dumpable", prctl(PR_GET_DUMPABLE));
	SHOW("set dumpable 5", prctl(PR_SET_DUMPABLE, 5));
	SHOW("get no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	SHOW("set no_new_privs", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	SHOW("get no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	line_of("/proc/self/status", "NoNewPrivs:");
	SHOW("unknown option", prctl(9999, 0, 0, 0, 0));

	/* one CPU */
	cpu_set_t set;
	CPU_ZERO(&set);
	SHOW("getaffinity", sched_getaffinity(0, sizeof(set), &set) == 0 ? 0 : -1);
	printf("cpus in mask %d, sysconf agrees %d\n", CPU_COUNT(&set), sysconf(_SC_NPROCESSORS_ONLN) == CPU_COUNT(&set));
	SHOW("setaffinity", sched_setaffinity(0, sizeof(set), &set));
	printf("online: %s", slurp("/sys/devices/system/cpu/online")[0] == '0' ? "starts with cpu 0\n" : "wrong\n");

	/* limits: kept, inherited, checked */
	struct rlimit rl, old;
	getrlimit(RLIMIT_NOFILE, &old);
	rl.rlim_cur = 64;
	rl.rlim_max = old.rlim_max;
	SHOW("setrlimit nofile 64", setrlimit(RLIMIT_NOFILE, &rl));
	getrlimit(RLIMIT_NOFILE, &rl);
	printf("nofile now %lu\n", (unsigned long)rl.rlim_cur);
	rl.rlim_cur = rl.rlim_max + 1;
	SHOW("soft above hard", setrlimit(RLIMIT_NOFILE, &rl));
	SHOW("bad resource", setrlimit(99, &rl));
	int fd, last = -1;
	while ((fd = dup(0)) >= 0)
		last = fd;
	printf("dup until %s, last fd %d\n", strerror(errno), last);
	for (int i = 3; i < 64; i++)
		close(i);
	struct rlimit core = { 1234, 5678 };
	setrlimit(RLIMIT_CORE, &core);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		struct rlimit r;
		getrlimit(RLIMIT_CORE, &r);
		printf("child core %lu %lu\n", (unsigned long)r.rlim_cur, (unsigned long)r.rlim_max);
		prctl(PR_GET_NAME, name);
		printf("child name: %s\n", name);
		int s2 = -1;
		prctl(PR_GET_PDEATHSIG, &s2);
		printf("child pdeathsig %d\n", s2);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);

	/* maps, auxv, /proc/stat */
	const char *m = slurp("/proc/self/maps");
	printf("maps: stack %d program %d\n", strstr(m, "[stack]") != NULL, strstr(m, argv[0] + (argv[0][0] == '.')) != NULL);
	slurp("/proc/self/auxv");
	unsigned long *av = (unsigned long *)text, pagesz = 0;
	for (int i = 0; av[i]; i += 2)
		if (av[i] == 6)
			pagesz = av[i + 1];
	printf("auxv pagesz %lu\n", pagesz);
	const char *st = slurp("/proc/stat");
	printf("stat: cpu %d btime %d processes %d procs_running %d\n", strncmp(st, "cpu ", 4) == 0,
	       strstr(st, "\nbtime ") != NULL, strstr(st, "\nprocesses ") != NULL, strstr(st, "\nprocs_running ") != NULL);
	return 0;
}
