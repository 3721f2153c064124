/* test_landlock.c: the VMM's real Landlock domain, applied in a child process over temporary mounts: what stays reachable, what does not, and that it fails closed. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vmm/hostfs.h"
#include "vmm/landlock.h"
#include "vmm/log.h"
#include "vmm/netpolicy.h"

/*
 * Linked with -Wl,--wrap=syscall: a kernel without Landlock is faked by
 * failing landlock_create_ruleset with fake_errno; every other call, and that
 * one when fake_errno is 0, goes to the real syscall().
 */
static int fake_errno;
long __real_syscall(long nr, ...);
long __wrap_syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a[6];
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (fake_errno && nr == SYS_landlock_create_ruleset) {
		errno = fake_errno;
		return -1;
	}
	return __real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static char dir_ro[64], dir_rw[64], outside[64];
static long abi;
static int failures;

/* One check in the child: print what went wrong and count it. */
static void expect(int ok, const char *fmt, ...)
{
	if (ok) {
		errno = 0;  /* a later check that passes its call but fails must not show this errno */
		return;
	}
	failures++;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "  child: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, errno ? " (errno %s)\n" : "\n", strerror(errno));
	va_end(ap);
	errno = 0;
}

/* open() fails with EACCES: Landlock, not a missing file, said no. */
#define DENIED(call) ((call) < 0 && errno == EACCES)

/* Run fn in a child (Landlock cannot be undone) and assert that every check in it held. */
static void in_child(void (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		failures = 0;
		fn();
		fflush(NULL);
		_exit(failures > 100 ? 100 : failures);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static struct hostfs *open_mounts(const char *const *args, unsigned n)
{
	static struct mount_spec specs[4];
	for (unsigned i = 0; i < n; i++)
		if (hostfs_parse_spec(args[i], &specs[i]) < 0)
			_exit(90);
	struct hostfs *hf = NULL;
	if (hostfs_open(specs, n, &hf) < 0)
		_exit(91);
	return hf;
}

static int read_is(int dirfd, const char *name, const char *want)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char buf[64] = { 0 };
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)n);
}

/* openat2 through /proc/self/fd, as the I/O thread reopens a handle's file: directly and through io_uring. */
static int reopen_direct(int procfd, int fd)
{
	char name[16];
	snprintf(name, sizeof(name), "%d", fd);
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC };
	int r = (int)syscall(SYS_openat2, procfd, name, &how, sizeof(how));
	if (r >= 0)
		close(r);
	return r < 0 ? -errno : 0;
}

static int reopen_uring(struct io_uring *ring, int procfd, int fd)
{
	char name[16];
	snprintf(name, sizeof(name), "%d", fd);
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC };
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	io_uring_prep_openat2(sqe, procfd, name, &how);
	struct io_uring_cqe *cqe;
	if (io_uring_submit(ring) != 1 || io_uring_wait_cqe(ring, &cqe) < 0)
		return -EIO;
	int r = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	if (r >= 0)
		close(r);
	return r < 0 ? r : 0;
}

/* Files every confined VMM must be refused, whatever its mounts. */
static void outside_is_refused_files(void)
{
	expect(DENIED(open("/etc/passwd", O_RDONLY | O_CLOEXEC)), "open /etc/passwd was not refused with EACCES");
	expect(DENIED(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)), "listing / was not refused");
	char p[96];
	snprintf(p, sizeof(p), "%s/secret", outside);
	expect(DENIED(open(p, O_RDONLY | O_CLOEXEC)), "open of a file outside the mounts was not refused");
	snprintf(p, sizeof(p), "%s/new", outside);
	expect(DENIED(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), "creating a file outside the mounts was not refused");
}

/* What every confined VMM must be refused, whatever its mounts. */
static void outside_is_refused(void)
{
	outside_is_refused_files();
	if (abi >= 4) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		expect(s >= 0 && DENIED(connect(s, (struct sockaddr *)&a, sizeof(a))), "a TCP connect was not refused");
		if (s >= 0)
			close(s);
	}
	if (abi >= 6)
		expect(kill(getppid(), 0) < 0 && errno == EPERM, "a signal to a process outside was not refused");
}

static void ro_child(void)
{
	const char *args[] = { NULL };
	char arg[96];
	snprintf(arg, sizeof(arg), "%s:/m:ro", dir_ro);
	args[0] = arg;
	struct hostfs *hf = open_mounts(args, 1);
	int root = hostfs_root_fd(hf, 0);
	/* Before Landlock, as lbvm does: /proc/self/fd, the ring, handles of a file inside and one outside. */
	int procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int in_fd = openat(root, "f", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	int out_fd = open("/etc/passwd", O_PATH | O_CLOEXEC);
	struct io_uring ring;
	if (procfd < 0 || in_fd < 0 || out_fd < 0 || io_uring_queue_init(4, &ring, 0) < 0)
		_exit(92);
	expect(landlock_confine(hf, NULL, 0) == 0, "landlock_confine failed");

	expect(read_is(root, "f", "hello"), "the file under the ro mount cannot be read");
	int d = openat(root, "sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	expect(d >= 0, "a directory under the ro mount cannot be listed");
	if (d >= 0)
		close(d);
	expect(DENIED(openat(root, "f", O_WRONLY | O_CLOEXEC)), "the ro mount's file opened for writing");
	expect(DENIED(openat(root, "f", O_RDWR | O_TRUNC | O_CLOEXEC)), "the ro mount's file opened for truncating");
	expect(DENIED(openat(root, "new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), "a file created in the ro mount");
	expect(DENIED(mkdirat(root, "newdir", 0755)), "a directory created in the ro mount");
	expect(DENIED(unlinkat(root, "f", 0)), "a file removed from the ro mount");
	expect(DENIED(symlinkat("f", root, "link")), "a symlink created in the ro mount");

	expect(reopen_direct(procfd, in_fd) == 0, "openat2 of /proc/self/fd/N for a file under the mount failed");
	expect(reopen_direct(procfd, out_fd) == -EACCES, "openat2 of /proc/self/fd/N for /etc/passwd was not refused");
	expect(reopen_uring(&ring, procfd, in_fd) == 0, "io_uring OPENAT2 of /proc/self/fd/N under the mount failed");
	expect(reopen_uring(&ring, procfd, out_fd) == -EACCES, "io_uring OPENAT2 of /proc/self/fd/N for /etc/passwd was not refused");
	outside_is_refused();
}

static void ro_mount_is_read_only_and_nothing_else_opens(void **state)
{
	(void)state;
	in_child(ro_child);
}

static void rw_child(void)
{
	char a0[96], a1[96];
	snprintf(a0, sizeof(a0), "%s:/w:rw", dir_rw);
	snprintf(a1, sizeof(a1), "%s:/r:ro", dir_ro);
	const char *args[] = { a0, a1 };
	struct hostfs *hf = open_mounts(args, 2);
	int rw = hostfs_root_fd(hf, 0), ro = hostfs_root_fd(hf, 1);
	expect(landlock_confine(hf, NULL, 0) == 0, "landlock_confine failed");

	int fd = openat(rw, "f", O_RDWR | O_CLOEXEC);
	expect(fd >= 0 && write(fd, "changed", 7) == 7 && ftruncate(fd, 3) == 0,
	       "the rw mount's file cannot be written and truncated");
	if (fd >= 0)
		close(fd);
	fd = openat(rw, "new", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	expect(fd >= 0, "a file cannot be created in the rw mount");
	if (fd >= 0)
		close(fd);
	expect(mkdirat(rw, "d", 0755) == 0, "a directory cannot be made in the rw mount");
	expect(renameat(rw, "new", rw, "d/moved") == 0, "a file cannot be moved between directories of the rw mount");
	expect(linkat(rw, "d/moved", rw, "hard", 0) == 0, "a hard link cannot be made in the rw mount");
	expect(symlinkat("f", rw, "sym") == 0, "a symlink cannot be made in the rw mount");
	expect(unlinkat(rw, "hard", 0) == 0 && unlinkat(rw, "sym", 0) == 0 && unlinkat(rw, "d/moved", 0) == 0 &&
		       unlinkat(rw, "d", AT_REMOVEDIR) == 0,
	       "files cannot be removed from the rw mount");

	expect(read_is(ro, "f", "hello"), "the ro mount beside it cannot be read");
	expect(DENIED(openat(ro, "f", O_WRONLY | O_CLOEXEC)), "the ro mount beside a rw one is writable");
	expect(DENIED(openat(ro, "new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), "a file created in the ro mount beside a rw one");
	expect(DENIED(mkdirat(ro, "d", 0755)), "a directory made in the ro mount beside a rw one");
	fd = openat(rw, "x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	int r = renameat(rw, "x", ro, "x");
	expect(r < 0 && (errno == EACCES || errno == EXDEV), "a file moved from the rw mount into the ro one");
	unlinkat(rw, "x", 0);
	outside_is_refused();
}

static void rw_mount_is_writable_and_a_ro_one_beside_it_is_not(void **state)
{
	(void)state;
	in_child(rw_child);
}

static void none_child(void)
{
	char p[96];
	snprintf(p, sizeof(p), "%s/f", dir_ro);
	int procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int in_fd = open(p, O_PATH | O_CLOEXEC);
	if (procfd < 0 || in_fd < 0)
		_exit(92);
	expect(landlock_confine(NULL, NULL, 0) == 0, "landlock_confine without mounts failed");
	expect(DENIED(open(p, O_RDONLY | O_CLOEXEC)), "a file opened with no mount at all");
	expect(DENIED(open(dir_ro, O_RDONLY | O_DIRECTORY | O_CLOEXEC)), "a directory listed with no mount at all");
	expect(reopen_direct(procfd, in_fd) == -EACCES, "openat2 of /proc/self/fd/N succeeded with no mount at all");
	outside_is_refused();
}

static void with_no_mounts_nothing_opens(void **state)
{
	(void)state;
	in_child(none_child);
}

static void missing_child(void)
{
	int fd;
	log_max = LOG_SILENT;  /* the refusals' messages are expected */
	fake_errno = ENOSYS;  /* CONFIG_SECURITY_LANDLOCK=n */
	expect(landlock_confine(NULL, NULL, 0) < 0, "no Landlock (ENOSYS) and no --allow-no-landlock: not refused");
	fake_errno = EOPNOTSUPP;  /* built in but not in lsm= */
	expect(landlock_confine(NULL, NULL, 0) < 0, "no Landlock (EOPNOTSUPP) and no --allow-no-landlock: not refused");
	expect(landlock_confine(NULL, NULL, 1) == 0, "no Landlock with --allow-no-landlock: refused");
	fake_errno = EINVAL;  /* anything else is a failure, allowed or not */
	expect(landlock_confine(NULL, NULL, 1) < 0, "a failing Landlock version query (EINVAL) was let through");
	fake_errno = 0;
	fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	expect(fd >= 0, "the faked runs confined the process after all");
}

static void no_landlock_is_refused_unless_allowed(void **state)
{
	(void)state;
	in_child(missing_child);
}

static void badrule_child(void)
{
	char arg[96];
	snprintf(arg, sizeof(arg), "%s:/m:ro", dir_ro);
	const char *args[] = { arg };
	struct hostfs *hf = open_mounts(args, 1);
	log_max = LOG_SILENT;
	close(hostfs_root_fd(hf, 0));  /* the rule for this mount cannot be added now */
	expect(landlock_confine(hf, NULL, 0) < 0, "a rule that could not be added did not fail the confinement");
}

static void a_rule_that_cannot_be_added_fails_closed(void **state)
{
	(void)state;
	in_child(badrule_child);
}

/* --net and Landlock: two listeners of this test; the policy names one port. */
static int lis_a = -1, lis_b = -1;
static uint16_t port_a, port_b;

static int listener(uint16_t *port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &l) < 0)
		_exit(93);
	*port = ntohs(a.sin_port);
	return s;
}

/* connect() to 127.0.0.1:port, directly or through io_uring (as the VMM does): 0 or -errno. */
static int connect_to(uint16_t port, int uring)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int r;
	if (!uring) {
		r = connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	} else {
		struct io_uring ring;
		if (io_uring_queue_init(4, &ring, 0) < 0)
			_exit(94);
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		io_uring_prep_connect(sqe, s, (struct sockaddr *)&a, sizeof(a));
		struct io_uring_cqe *cqe;
		io_uring_submit_and_wait(&ring, 1);
		r = io_uring_peek_cqe(&ring, &cqe) == 0 ? cqe->res : -EIO;
		io_uring_queue_exit(&ring);
	}
	close(s);
	return r;
}

static void net_allow_child(void)
{
	lis_a = listener(&port_a);
	lis_b = listener(&port_b);
	static struct net_policy p;
	char rule[48];
	snprintf(rule, sizeof(rule), "allow=127.0.0.1:%u", port_a);
	expect(netpolicy_parse(&p, rule) == 0, "the rule was not parsed");
	expect(landlock_confine(NULL, &p, 0) == 0, "landlock_confine with --net allow= failed");
	expect(connect_to(port_a, 0) == 0, "a TCP connect to the allowed port was refused");
	expect(connect_to(port_a, 1) == 0, "a TCP connect through io_uring to the allowed port was refused");
	expect(connect_to(port_b, 0) == -EACCES, "a TCP connect to another port was not refused by Landlock");
	expect(connect_to(port_b, 1) == -EACCES, "a TCP connect through io_uring to another port was not refused");
	outside_is_refused_files();
}

static void net_host_child(void)
{
	lis_b = listener(&port_b);
	static struct net_policy p;
	expect(netpolicy_parse(&p, "host") == 0, "host was not parsed");
	expect(landlock_confine(NULL, &p, 0) == 0, "landlock_confine with --net host failed");
	expect(connect_to(port_b, 1) == 0, "--net host: a TCP connect through io_uring was refused");
	/* Binding a host TCP port stays refused: --publish binds before the confinement. */
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	expect(DENIED(bind(s, (struct sockaddr *)&a, sizeof(a))), "--net host: binding a TCP port was not refused");
	close(s);
}

static void landlock_backs_up_the_net_policy(void **state)
{
	(void)state;
	if (abi < 4) {
		print_message("this kernel's Landlock (ABI %ld) has no TCP rules: nothing to check\n", abi);
		return;
	}
	in_child(net_allow_child);
	in_child(net_host_child);
}

static int make_dir(char *buf, const char *tmpl, const char *file, const char *content)
{
	strcpy(buf, tmpl);
	if (!mkdtemp(buf))
		return -1;
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", buf, file);
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		return -1;
	close(fd);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		fprintf(stderr, "test_landlock: this kernel has no Landlock (%s): these tests need it\n", strerror(errno));
		return -1;
	}
	if (make_dir(dir_ro, "/tmp/lbvm-ll-ro.XXXXXX", "f", "hello") || make_dir(dir_rw, "/tmp/lbvm-ll-rw.XXXXXX", "f", "hello") ||
	    make_dir(outside, "/tmp/lbvm-ll-out.XXXXXX", "secret", "no"))
		return -1;
	char p[96];
	snprintf(p, sizeof(p), "%s/sub", dir_ro);
	return mkdir(p, 0755);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s'", dir_ro, dir_rw, outside);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ro_mount_is_read_only_and_nothing_else_opens),
		cmocka_unit_test(rw_mount_is_writable_and_a_ro_one_beside_it_is_not),
		cmocka_unit_test(with_no_mounts_nothing_opens),
		cmocka_unit_test(no_landlock_is_refused_unless_allowed),
		cmocka_unit_test(a_rule_that_cannot_be_added_fails_closed),
		cmocka_unit_test(landlock_backs_up_the_net_policy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
