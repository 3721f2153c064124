/*
 * seccomp.c: after setup the VMM confines itself. The filter allows the
 * system calls the run loop, the I/O thread, the ticker, the timeout and the
 * exit path make, with arguments checked where a wider use would matter:
 * ioctl only on the vCPU descriptor and only with the four requests the loop
 * issues, mmap and mprotect never executable, clone only for the teardown
 * reaper. Anything else raises SIGSYS, whose handler names the call and
 * ends lbvm with 125. docs/security.md lists the same calls; `lbvm
 * seccomp-list` prints them, and a test compares the two.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "log.h"
#include "seccomp.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

enum check { PLAIN, IOCTL_VCPU, NO_EXEC, CLONE_REAPER };

struct rule {
	int nr;
	const char *name;
	enum check check;
	const char *why;
};

#define R(n, c, w) { SYS_##n, #n, c, w }
static const struct rule rules[] = {
	R(ioctl, IOCTL_VCPU, "KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_INTERRUPT on the vCPU fd only"),
	R(io_uring_enter, PLAIN, "the I/O thread submits and waits on the (restricted) ring"),
	R(futex, PLAIN, "the mutex and condition variable between the vCPU and I/O threads"),
	R(read, PLAIN, "the doorbell eventfd"),
	R(write, PLAIN, "the doorbell eventfd, log lines on stderr"),
	R(close, PLAIN, "handles the guest closes; stdio at exit"),
	R(openat, PLAIN, "READDIR opens \".\" below a directory handle (getdents needs a readable descriptor)"),
	R(getdents64, PLAIN, "READDIR"),
	R(lseek, PLAIN, "READDIR's cookie"),
	R(readlinkat, PLAIN, "READLINK (empty path on a handle)"),
	R(newfstatat, PLAIN, "stdio buffering"),
	R(fstat, PLAIN, "SETATTR checks the owner (fstat proper, on the handle)"),
	R(fchmod, PLAIN, "SETATTR on a file handle"),
	R(fchmodat2, PLAIN, "SETATTR on a node handle (AT_EMPTY_PATH)"),
	R(utimensat, PLAIN, "SETATTR times"),
	R(ftruncate, PLAIN, "SETATTR size"),
	R(fstatfs, PLAIN, "STATFS"),
	R(rt_sigreturn, PLAIN, "return from the preemption-tick signal handler"),
	R(rt_sigprocmask, PLAIN, "glibc masks signals around thread exit and raise"),
	R(tgkill, PLAIN, "the ticker kicks the vCPU thread out of KVM_RUN"),
	R(getpid, PLAIN, "pthread_kill names the process"),
	R(gettid, PLAIN, "glibc's thread bookkeeping"),
	R(clock_nanosleep, PLAIN, "the ticker's period and --timeout"),
	R(nanosleep, PLAIN, "the teardown reaper"),
	R(clock_gettime, PLAIN, "timings (when the vDSO is not used)"),
	R(getrusage, PLAIN, "peak RSS for --verbose"),
	R(mmap, NO_EXEC, "malloc; never executable"),
	R(munmap, PLAIN, "free"),
	R(mprotect, NO_EXEC, "malloc arenas; never executable"),
	R(madvise, PLAIN, "free"),
	R(brk, PLAIN, "malloc"),
	R(clone, CLONE_REAPER, "the teardown reaper: CLONE_VM | CLONE_FILES | CLONE_FS only"),
	R(getppid, PLAIN, "the reaper waits for lbvm to exit"),
	R(rseq, PLAIN, "a thread that was still starting when the filter came registers itself"),
	R(set_robust_list, PLAIN, "the same, glibc's thread start"),
	R(exit, PLAIN, "a thread ends"),
	R(exit_group, PLAIN, "lbvm ends"),
};
#undef R

#define NRULES (sizeof(rules) / sizeof(rules[0]))
#define REAPER_FLAGS (CLONE_VM | CLONE_FILES | CLONE_FS)

unsigned seccomp_count(void)
{
	return NRULES;
}

void seccomp_print(FILE *out)
{
	for (unsigned i = 0; i < NRULES; i++)
		fprintf(out, "%s\t%s\n", rules[i].name, rules[i].why);
}

static const char *name_of(long nr)
{
	for (unsigned i = 0; i < NRULES; i++)
		if (rules[i].nr == nr)
			return rules[i].name;
	return "a call outside the allowlist";
}

/* SIGSYS: a forbidden call. Say which, with async-signal-safe calls only, and end. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	char msg[200];
	int n = snprintf(msg, sizeof(msg),
			 "lbvm: seccomp: the VMM made a forbidden system call %d (%s); lbvm stopped "
			 "(a bug in lbvm: please report it)\n",
			 si->si_syscall, name_of(si->si_syscall));
	if (n > 0 && write(2, msg, (size_t)n) < 0)
		n = 0;
	syscall(SYS_exit_group, 125);
}

#define STMT(c, v) ((struct sock_filter){ .code = (uint16_t)(c), .jt = 0, .jf = 0, .k = (uint32_t)(v) })
#define JUMP(c, v, t, e) ((struct sock_filter){ .code = (uint16_t)(c), .jt = (uint8_t)(t), .jf = (uint8_t)(e), .k = (uint32_t)(v) })
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)

int seccomp_confine(int vcpu_fd)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		log_err("seccomp: cannot install the SIGSYS handler: %s", strerror(errno));
		return -1;
	}
	static const uint32_t vcpu_ioctls[] = { KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_INTERRUPT };
	struct sock_filter f[16 + NRULES * 16];
	unsigned n = 0;
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	for (unsigned i = 0; i < NRULES; i++) {
		const struct rule *r = &rules[i];
		/* Each rule: reload the number, skip the rule's body unless it matches. */
		unsigned body;
		switch (r->check) {
		case PLAIN: body = 1; break;
		case IOCTL_VCPU: body = 4 + 2 * (unsigned)(sizeof(vcpu_ioctls) / sizeof(vcpu_ioctls[0])); break;
		case NO_EXEC: body = 4; break;
		default: body = 6; break;
		}
		f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
		f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0, (uint8_t)body);
		switch (r->check) {
		case PLAIN:
			f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
			break;
		case IOCTL_VCPU: {
			unsigned k = sizeof(vcpu_ioctls) / sizeof(vcpu_ioctls[0]);
			f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0));
			f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)vcpu_fd, 0, (uint8_t)(2 * k + 1));
			f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1));
			for (unsigned j = 0; j < k; j++) {
				f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, vcpu_ioctls[j], 0, 1);
				f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
			}
			f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
			break;
		}
		case NO_EXEC:
			f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2));
			f[n++] = JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1);
			f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
			f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
			break;
		case CLONE_REAPER:
			f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(0));
			f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3);
			f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0));
			f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, REAPER_FLAGS, 0, 1);
			f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
			f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
			break;
		}
	}
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("seccomp: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	/* Every thread of lbvm at once: the I/O thread, the ticker and the timeout are already running. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
		log_err("seccomp: cannot install the VMM's filter: %s; run without it with LBVM_NO_SECCOMP=1 "
			"(less safe)", strerror(errno));
		return -1;
	}
	/* The test hook: a forbidden call on purpose, to see the filter end lbvm (tests/e2e/run.sh). */
	if (getenv("LBVM_TEST_FORBIDDEN_SYSCALL"))
		syscall(SYS_socket, 1, 1, 0);
	return 0;
}
