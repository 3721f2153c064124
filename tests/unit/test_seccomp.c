/* test_seccomp.c: the VMM's real filter, installed in a child process: what it must stop ends the child with 125, what lbvm needs goes through. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <linux/kvm.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "vmm/hostfs.h"
#include "vmm/seccomp.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

#define VCPU_FD 77        /* what the child passes as its vCPU fd (/dev/null behind it: KVM_RUN gets ENOTTY) */
#define PAGE 4096ul

/* What a case may use, set up in the child before the filter. */
struct ctx {
	int pipe_w;
	int file_fd;          /* a temporary regular file, read-write */
	int path_fd;          /* the same file, O_PATH */
	int dir_fd;           /* its directory, O_PATH */
	pid_t parent;         /* a process outside the child */
	char *anon;           /* two read-write anonymous pages, mapped above the image */
	char *image_page;     /* the page of lbvm's image that holds hostfs_empty_path */
	char own_empty[1];    /* an empty string that is not the VMM's */
	int futex_word;
};

static char tmp_dir[64], tmp_file[80];

typedef long (*call_fn)(struct ctx *);

struct scase {
	const char *what;
	call_fn fn;
	long nr;              /* the call the filter must stop, or -1: it must go through */
};

/* ---- calls that lbvm makes after setup: they must go through ---- */

static long c_write_pipe(struct ctx *c) { return syscall(SYS_write, c->pipe_w, "x", 1); }
static long c_futex(struct ctx *c) { return syscall(SYS_futex, &c->futex_word, FUTEX_WAKE, 1, NULL, NULL, 0); }
static long c_ioctl_run(struct ctx *c) { (void)c; return syscall(SYS_ioctl, VCPU_FD, KVM_RUN, 0); }
static long c_ioctl_getregs(struct ctx *c)
{
	(void)c;
	struct kvm_regs r;
	return syscall(SYS_ioctl, VCPU_FD, KVM_GET_REGS, &r);
}
static long c_fstat(struct ctx *c)
{
	struct stat st;
	return syscall(SYS_fstat, c->file_fd, &st);
}
static long c_readlink_empty(struct ctx *c)
{
	char buf[64];
	return syscall(SYS_readlinkat, c->path_fd, hostfs_empty_path, buf, sizeof(buf));
}
static long c_fchmodat2_empty(struct ctx *c)
{
	return syscall(SYS_fchmodat2, c->path_fd, hostfs_empty_path, 0600, AT_EMPTY_PATH);
}
static long c_utimensat_empty(struct ctx *c)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	return syscall(SYS_utimensat, c->path_fd, hostfs_empty_path, ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
}
static long c_getdents(struct ctx *c)
{
	char buf[512];
	return syscall(SYS_getdents64, c->dir_fd, buf, sizeof(buf));
}
static long f_openat_readdir(struct ctx *c) { return syscall(SYS_openat, c->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); }
static long c_fchmod(struct ctx *c) { return syscall(SYS_fchmod, c->file_fd, 0600); }
static long c_ftruncate(struct ctx *c) { return syscall(SYS_ftruncate, c->file_fd, 0); }
static long c_tgkill_self(struct ctx *c)
{
	(void)c;
	return syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), 0);
}
static long c_mmap_rw(struct ctx *c)
{
	(void)c;
	return (long)syscall(SYS_mmap, 0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static long c_mmap_fixed_above(struct ctx *c)
{
	return (long)syscall(SYS_mmap, c->anon, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}
static long c_mprotect_above(struct ctx *c) { return syscall(SYS_mprotect, c->anon, PAGE, PROT_READ); }
static long c_munmap_above(struct ctx *c) { return syscall(SYS_munmap, c->anon + PAGE, PAGE); }
static long c_madvise_above(struct ctx *c) { return syscall(SYS_madvise, c->anon, PAGE, MADV_DONTNEED); }
static long c_malloc_free(struct ctx *c)
{
	(void)c;
	char *p = malloc(1 << 20);  /* past the mmap threshold: mmap and munmap */
	if (p)
		p[0] = 1;
	free(p);
	return 0;
}
static int reaper_fn(void *arg) { (void)arg; return 0; }
static long c_clone_reaper(struct ctx *c)
{
	(void)c;
	static char stack[16384] __attribute__((aligned(16)));
	return clone(reaper_fn, stack + sizeof(stack), CLONE_VM | CLONE_FILES | CLONE_FS, NULL);
}
static long c_time(struct ctx *c)
{
	(void)c;
	struct timespec ts = { 0, 1000 };
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	syscall(SYS_getppid);
	return syscall(SYS_nanosleep, &(struct timespec){ 0, 1000 }, NULL);
}

static const struct scase allowed[] = {
	{ "write to a pipe", c_write_pipe, -1 },
	{ "futex wake", c_futex, -1 },
	{ "ioctl KVM_RUN on the vCPU fd", c_ioctl_run, -1 },
	{ "ioctl KVM_GET_REGS on the vCPU fd", c_ioctl_getregs, -1 },
	{ "fstat (nr 5)", c_fstat, -1 },
	{ "readlinkat(fd, hostfs_empty_path)", c_readlink_empty, -1 },
	{ "fchmodat2(fd, hostfs_empty_path, AT_EMPTY_PATH)", c_fchmodat2_empty, -1 },
	{ "utimensat(fd, hostfs_empty_path, AT_EMPTY_PATH)", c_utimensat_empty, -1 },
	{ "getdents64 on a directory descriptor", c_getdents, -1 },
	{ "fchmod", c_fchmod, -1 },
	{ "ftruncate", c_ftruncate, -1 },
	{ "tgkill of its own thread, signal 0", c_tgkill_self, -1 },
	{ "mmap read-write", c_mmap_rw, -1 },
	{ "mmap MAP_FIXED above the image", c_mmap_fixed_above, -1 },
	{ "mprotect read-only above the image", c_mprotect_above, -1 },
	{ "munmap above the image", c_munmap_above, -1 },
	{ "madvise above the image", c_madvise_above, -1 },
	{ "malloc and free of 1 MiB", c_malloc_free, -1 },
	{ "clone of the teardown reaper", c_clone_reaper, -1 },
	{ "clock_gettime, getppid, nanosleep", c_time, -1 },
};

/* ---- file calls a compromised VMM could use to reach the host's files ---- */

static long f_openat_passwd(struct ctx *c) { (void)c; return syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY); }
static long f_openat_rw(struct ctx *c) { return syscall(SYS_openat, c->dir_fd, ".", O_RDWR | O_DIRECTORY | O_CLOEXEC); }
static long f_openat_cwd(struct ctx *c) { (void)c; return syscall(SYS_openat, AT_FDCWD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); }
static long f_open(struct ctx *c) { (void)c; return syscall(SYS_open, "/etc/passwd", O_RDONLY); }
static long f_readlink_other(struct ctx *c)
{
	char buf[64];
	return syscall(SYS_readlinkat, c->path_fd, c->own_empty, buf, sizeof(buf));
}
static long f_readlink_cwd(struct ctx *c)
{
	(void)c;
	char buf[64];
	return syscall(SYS_readlinkat, AT_FDCWD, hostfs_empty_path, buf, sizeof(buf));
}
static long f_readlink_high(struct ctx *c)
{
	/* The right low 32 bits, another upper half: the filter must compare all 64. */
	char buf[64];
	return syscall(SYS_readlinkat, c->path_fd, (uintptr_t)hostfs_empty_path ^ (1ull << 40), buf, sizeof(buf));
}
static long f_fchmodat2_other(struct ctx *c) { return syscall(SYS_fchmodat2, c->path_fd, c->own_empty, 0600, AT_EMPTY_PATH); }
static long f_fchmodat2_noflag(struct ctx *c) { return syscall(SYS_fchmodat2, c->dir_fd, hostfs_empty_path, 0600, 0); }
static long f_fchmodat2_cwd(struct ctx *c)
{
	(void)c;
	return syscall(SYS_fchmodat2, AT_FDCWD, hostfs_empty_path, 0600, AT_EMPTY_PATH);
}
static long f_fchmodat_path(struct ctx *c) { return syscall(SYS_fchmodat, c->dir_fd, "f", 0600); }
static long f_utimensat_other(struct ctx *c) { return syscall(SYS_utimensat, c->path_fd, c->own_empty, NULL, AT_EMPTY_PATH); }
static long f_utimensat_null(struct ctx *c) { return syscall(SYS_utimensat, c->file_fd, NULL, NULL, 0); }
static long f_utimensat_noflag(struct ctx *c) { return syscall(SYS_utimensat, c->path_fd, hostfs_empty_path, NULL, 0); }
static long f_newfstatat(struct ctx *c)
{
	struct stat st;
	return syscall(SYS_newfstatat, c->path_fd, hostfs_empty_path, &st, AT_EMPTY_PATH);
}
static long f_newfstatat_other(struct ctx *c)
{
	struct stat st;
	return syscall(SYS_newfstatat, AT_FDCWD, "/etc/passwd", &st, 0);
}
static long f_ioctl_other_fd(struct ctx *c) { return syscall(SYS_ioctl, c->pipe_w, KVM_RUN, 0); }
static long f_ioctl_other_req(struct ctx *c)
{
	(void)c;
	struct kvm_userspace_memory_region r;
	memset(&r, 0, sizeof(r));
	return syscall(SYS_ioctl, VCPU_FD, KVM_SET_USER_MEMORY_REGION, &r);
}
static long f_io_uring_setup(struct ctx *c)
{
	(void)c;
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	return syscall(SYS_io_uring_setup, 8, &p);
}

static const struct scase files[] = {
	{ "openat of /etc/passwd", f_openat_passwd, SYS_openat },
	{ "openat of \".\" below a directory (READDIR opens through io_uring now)", f_openat_readdir, SYS_openat },
	{ "openat of a directory for writing", f_openat_rw, SYS_openat },
	{ "openat of \".\" relative to AT_FDCWD", f_openat_cwd, SYS_openat },
	{ "open", f_open, SYS_open },
	{ "readlinkat with another empty string", f_readlink_other, SYS_readlinkat },
	{ "readlinkat(AT_FDCWD, hostfs_empty_path)", f_readlink_cwd, SYS_readlinkat },
	{ "readlinkat with hostfs_empty_path's low half only", f_readlink_high, SYS_readlinkat },
	{ "fchmodat2 with another empty string", f_fchmodat2_other, SYS_fchmodat2 },
	{ "fchmodat2 without AT_EMPTY_PATH", f_fchmodat2_noflag, SYS_fchmodat2 },
	{ "fchmodat2(AT_FDCWD, hostfs_empty_path)", f_fchmodat2_cwd, SYS_fchmodat2 },
	{ "fchmodat with a name", f_fchmodat_path, SYS_fchmodat },
	{ "utimensat with another empty string", f_utimensat_other, SYS_utimensat },
	{ "utimensat with a NULL path", f_utimensat_null, SYS_utimensat },
	{ "utimensat without AT_EMPTY_PATH", f_utimensat_noflag, SYS_utimensat },
	{ "newfstatat with hostfs_empty_path", f_newfstatat, SYS_newfstatat },
	{ "newfstatat of /etc/passwd", f_newfstatat_other, SYS_newfstatat },
	{ "ioctl KVM_RUN on another fd", f_ioctl_other_fd, SYS_ioctl },
	{ "ioctl KVM_SET_USER_MEMORY_REGION on the vCPU fd", f_ioctl_other_req, SYS_ioctl },
	{ "io_uring_setup", f_io_uring_setup, SYS_io_uring_setup },
};

/* ---- memory calls that would run code or change lbvm's own image ---- */

static long m_mmap_exec(struct ctx *c)
{
	(void)c;
	return (long)syscall(SYS_mmap, 0, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static long m_mprotect_exec(struct ctx *c) { return syscall(SYS_mprotect, c->anon, PAGE, PROT_READ | PROT_EXEC); }
static long m_mprotect_image(struct ctx *c) { return syscall(SYS_mprotect, c->image_page, PAGE, PROT_READ | PROT_WRITE); }
static long m_munmap_image(struct ctx *c) { return syscall(SYS_munmap, c->image_page, PAGE); }
static long m_madvise_image(struct ctx *c) { return syscall(SYS_madvise, c->image_page, PAGE, MADV_DONTNEED); }
static long m_mmap_fixed_image(struct ctx *c)
{
	return (long)syscall(SYS_mmap, c->image_page, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}
static long m_mmap_noreplace_image(struct ctx *c)
{
	return (long)syscall(SYS_mmap, c->image_page, PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
}
static long m_mprotect_image_high(struct ctx *c)
{
	/* An address whose upper half is below the image's end but whose lower half is above it. */
	uintptr_t hi = (uintptr_t)c->image_page >> 32;
	uintptr_t a = hi ? ((hi - 1) << 32) | 0xfffff000u : PAGE;
	return syscall(SYS_mprotect, a, PAGE, PROT_READ);
}
static long m_mremap(struct ctx *c) { return syscall(SYS_mremap, c->anon, PAGE, 2 * PAGE, MREMAP_MAYMOVE); }

static const struct scase memory[] = {
	{ "mmap PROT_EXEC", m_mmap_exec, SYS_mmap },
	{ "mprotect PROT_EXEC", m_mprotect_exec, SYS_mprotect },
	{ "mprotect of hostfs_empty_path's page read-write", m_mprotect_image, SYS_mprotect },
	{ "munmap of hostfs_empty_path's page", m_munmap_image, SYS_munmap },
	{ "madvise of hostfs_empty_path's page", m_madvise_image, SYS_madvise },
	{ "mmap MAP_FIXED over hostfs_empty_path's page", m_mmap_fixed_image, SYS_mmap },
	{ "mmap MAP_FIXED_NOREPLACE at hostfs_empty_path's page", m_mmap_noreplace_image, SYS_mmap },
	{ "mprotect below the image by its upper half", m_mprotect_image_high, SYS_mprotect },
	{ "mremap", m_mremap, SYS_mremap },
};

/* ---- processes, signals, sockets ---- */

static long p_tgkill_parent(struct ctx *c) { return syscall(SYS_tgkill, c->parent, c->parent, 0); }
static long p_tgkill_high(struct ctx *c)
{
	(void)c;
	/* The kernel would read the low half (its own pid): the filter must not. */
	return syscall(SYS_tgkill, (1ull << 32) | (uint32_t)getpid(), (pid_t)syscall(SYS_gettid), 0);
}
static long p_kill(struct ctx *c) { return syscall(SYS_kill, c->parent, 0); }
static long p_fork(struct ctx *c) { (void)c; return syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0); }
static long p_clone_thread(struct ctx *c)
{
	(void)c;
	static char stack[16384] __attribute__((aligned(16)));
	return clone(reaper_fn, stack + sizeof(stack), CLONE_VM | CLONE_FILES | CLONE_FS | CLONE_SIGHAND | CLONE_THREAD, NULL);
}
static long p_clone3(struct ctx *c) { (void)c; return syscall(SYS_clone3, NULL, 0); }
static long p_execve(struct ctx *c)
{
	(void)c;
	char *argv[] = { "/bin/true", NULL };
	return syscall(SYS_execve, "/bin/true", argv, NULL);
}
static long p_ptrace(struct ctx *c) { (void)c; return syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); }
static long p_socket(struct ctx *c) { (void)c; return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); }
static long p_connect(struct ctx *c)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, "/nonexistent");
	return syscall(SYS_connect, c->pipe_w, &a, sizeof(a));
}
static long p_unshare(struct ctx *c) { (void)c; return syscall(SYS_unshare, CLONE_NEWUSER); }
static long p_x32(struct ctx *c) { (void)c; return syscall(__X32_SYSCALL_BIT | SYS_getpid); }

static const struct scase processes[] = {
	{ "tgkill of another process, signal 0", p_tgkill_parent, SYS_tgkill },
	{ "tgkill with its own pid in the low half only", p_tgkill_high, SYS_tgkill },
	{ "kill", p_kill, SYS_kill },
	{ "clone as fork", p_fork, SYS_clone },
	{ "clone of a thread", p_clone_thread, SYS_clone },
	{ "clone3", p_clone3, SYS_clone3 },
	{ "execve", p_execve, SYS_execve },
	{ "ptrace", p_ptrace, SYS_ptrace },
	{ "socket", p_socket, SYS_socket },
	{ "connect", p_connect, SYS_connect },
	{ "unshare", p_unshare, SYS_unshare },
	{ "x32 numbering of an allowed call", p_x32, __X32_SYSCALL_BIT | SYS_getpid },
};

/* The child: set up, confine as vcpu_run does, make the one call, and exit 0 if it came back. */
static void child(const struct scase *k, int err_w)
{
	struct ctx c;
	memset(&c, 0, sizeof(c));
	dup2(err_w, 2);
	int p[2];
	int nul = open("/dev/null", O_RDWR);
	if (pipe(p) < 0 || nul < 0 || dup2(nul, VCPU_FD) < 0)
		_exit(3);
	c.pipe_w = p[1];
	c.file_fd = open(tmp_file, O_RDWR);
	c.path_fd = open(tmp_file, O_PATH);
	c.dir_fd = open(tmp_dir, O_PATH | O_DIRECTORY);
	c.parent = getppid();
	c.anon = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	c.image_page = (char *)((uintptr_t)hostfs_empty_path & ~(PAGE - 1));
	if (c.file_fd < 0 || c.path_fd < 0 || c.dir_fd < 0 || c.anon == MAP_FAILED)
		_exit(3);
	if (seccomp_confine(VCPU_FD) < 0)
		_exit(4);
	k->fn(&c);
	_exit(0);
}

/* Run each case in its own child; every mismatch is printed, and the test fails if there was one. */
static void run_cases(const struct scase *cases, unsigned n)
{
	unsigned failed = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct scase *k = &cases[i];
		int ep[2];
		assert_int_equal(pipe(ep), 0);
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(ep[0]);
			child(k, ep[1]);
		}
		close(ep[1]);
		char err[1024];
		size_t len = 0;
		ssize_t r;
		while (len + 1 < sizeof(err) && (r = read(ep[0], err + len, sizeof(err) - 1 - len)) > 0)
			len += (size_t)r;
		while (len && err[len - 1] == '\n')
			len--;  /* the message's own newline: print_message adds one */
		err[len] = 0;
		close(ep[0]);
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		char want[64];
		snprintf(want, sizeof(want), "forbidden system call %ld ", k->nr);
		int good = k->nr < 0 ? WIFEXITED(st) && WEXITSTATUS(st) == 0
				     : WIFEXITED(st) && WEXITSTATUS(st) == 125 && strstr(err, want);
		if (!good) {
			failed++;
			if (WIFEXITED(st))
				print_message("  %s: want %s, child exited %d; stderr: %s\n", k->what,
					      k->nr < 0 ? "it to go through" : "the filter to stop it", WEXITSTATUS(st),
					      len ? err : "(nothing)");
			else
				print_message("  %s: want %s, child killed by signal %d\n", k->what,
					      k->nr < 0 ? "it to go through" : "the filter to stop it", WTERMSIG(st));
		}
	}
	if (failed)
		fail_msg("%u of %u cases wrong", failed, n);
}

static void lbvm_calls_go_through(void **state) { (void)state; run_cases(allowed, sizeof(allowed) / sizeof(allowed[0])); }
static void file_calls_outside_handles_are_stopped(void **state) { (void)state; run_cases(files, sizeof(files) / sizeof(files[0])); }
static void memory_calls_on_the_image_or_executable_are_stopped(void **state)
{
	(void)state;
	run_cases(memory, sizeof(memory) / sizeof(memory[0]));
}
static void process_and_socket_calls_are_stopped(void **state)
{
	(void)state;
	run_cases(processes, sizeof(processes) / sizeof(processes[0]));
}

/* The list lbvm prints (and docs/security.md repeats) has one line per rule. */
static void the_printed_list_has_every_rule(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	seccomp_print(f);
	fclose(f);
	unsigned lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, seccomp_count());
	assert_null(strstr(buf, "\tnewfstatat"));
	assert_non_null(strstr(buf, "fstat\t"));
	free(buf);
}

static int setup(void **state)
{
	(void)state;
	strcpy(tmp_dir, "/tmp/lbvm-seccomp.XXXXXX");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(tmp_file, sizeof(tmp_file), "%s/f", tmp_dir);
	int fd = open(tmp_file, O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(tmp_file);
	rmdir(tmp_dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lbvm_calls_go_through),
		cmocka_unit_test(file_calls_outside_handles_are_stopped),
		cmocka_unit_test(memory_calls_on_the_image_or_executable_are_stopped),
		cmocka_unit_test(process_and_socket_calls_are_stopped),
		cmocka_unit_test(the_printed_list_has_every_rule),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
