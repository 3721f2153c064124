/*
 * seccomp.c: after setup the VMM confines itself. The filter allows the
 * system calls the run loop, the I/O thread, the ticker, the timeout and the
 * exit path make, with arguments checked wherever a wider use would reach
 * beyond the VM: ioctl only on the vCPU descriptor with the four requests the
 * loop issues; tgkill only inside lbvm's own process; the path calls only with
 * the VMM's own read-only empty path (so they act on a descriptor, never on a
 * name); memory calls never executable and never on lbvm's own image (so that
 * empty path stays what it is); clone only for the teardown reaper. Anything
 * else raises SIGSYS, whose handler names the call and ends lbvm with 125.
 * docs/security.md lists the same calls; `lbvm seccomp-list` prints them, and
 * a test compares the two.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "hostfs.h"
#include "log.h"
#include "seccomp.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

enum check {
	PLAIN,
	IOCTL_VCPU,     /* arg0 the vCPU fd, arg1 one of vcpu_ioctls */
	OWN_PROCESS,    /* arg0 (tgid) is lbvm's pid, all 64 bits */
	EMPTY_PATH,     /* arg0 not AT_FDCWD, arg1 is hostfs_empty_path */
	EMPTY_PATH_AT,  /* the same, and arg3 has AT_EMPTY_PATH */
	MMAP_SAFE,      /* arg2 not PROT_EXEC; with MAP_FIXED(_NOREPLACE), arg0 above the image */
	MPROTECT_SAFE,  /* arg2 not PROT_EXEC, arg0 above the image */
	ABOVE_IMAGE,    /* arg0 above the image */
	CLONE_REAPER,   /* arg0 exactly REAPER_FLAGS */
};

struct rule {
	int nr;
	const char *name;
	enum check check;
	const char *why;
};

#define R(n, c, w) { SYS_##n, #n, c, w }
static const struct rule rules[] = {
	R(ioctl, IOCTL_VCPU, "KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_INTERRUPT, on the vCPU fd only"),
	R(io_uring_enter, PLAIN, "the I/O thread submits and waits on the (restricted) ring"),
	R(futex, PLAIN, "the mutex and condition variable between the vCPU and I/O threads"),
	R(read, PLAIN, "the doorbell eventfd"),
	R(write, PLAIN, "the doorbell eventfd, log lines on stderr"),
	R(close, PLAIN, "handles the guest closes; stdio at exit"),
	R(getdents64, PLAIN, "READDIR"),
	R(lseek, PLAIN, "READDIR's cookie"),
	R(readlinkat, EMPTY_PATH, "READLINK on a handle: only the VMM's own empty path, never AT_FDCWD"),
	R(fstat, PLAIN, "SETATTR checks the owner (fstat proper; glibc's fstat would be newfstatat, a path call)"),
	R(fchmod, PLAIN, "SETATTR mode on a file handle"),
	R(fchmodat2, EMPTY_PATH_AT, "SETATTR mode on a node handle: only the VMM's own empty path with "
				    "AT_EMPTY_PATH, never AT_FDCWD"),
	R(utimensat, EMPTY_PATH_AT, "SETATTR times: only the VMM's own empty path with AT_EMPTY_PATH, never AT_FDCWD"),
	R(ftruncate, PLAIN, "SETATTR size"),
	R(fstatfs, PLAIN, "STATFS"),
	R(rt_sigreturn, PLAIN, "return from the preemption-tick signal handler"),
	R(rt_sigprocmask, PLAIN, "glibc masks signals around thread exit and pthread_kill"),
	R(tgkill, OWN_PROCESS, "the ticker kicks the vCPU thread out of KVM_RUN: threads of lbvm's own process only"),
	R(getpid, PLAIN, "pthread_kill names the process"),
	R(gettid, PLAIN, "glibc's thread bookkeeping"),
	R(clock_nanosleep, PLAIN, "the ticker's period and --timeout"),
	R(nanosleep, PLAIN, "the teardown reaper"),
	R(clock_gettime, PLAIN, "timings (when the vDSO is not used)"),
	R(getrusage, PLAIN, "peak RSS for --verbose"),
	R(mmap, MMAP_SAFE, "malloc: never executable; MAP_FIXED only above lbvm's own image"),
	R(munmap, ABOVE_IMAGE, "free: only above lbvm's own image"),
	R(mprotect, MPROTECT_SAFE, "malloc arenas: never executable, only above lbvm's own image"),
	R(madvise, ABOVE_IMAGE, "free: only above lbvm's own image"),
	R(brk, PLAIN, "malloc (the kernel keeps the heap above the image)"),
	R(clone, CLONE_REAPER, "the teardown reaper: CLONE_VM, CLONE_FILES and CLONE_FS exactly"),
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

/*
 * A small assembler for classic BPF. Each rule is: load the number; if it is
 * not this rule's, skip the rule; otherwise the rule's checks, each of which
 * jumps to the rule's own trap when it fails, then allow. A failing check's
 * jump is emitted with the TO_TRAP placeholder and patched once the rule's
 * length is known (classic BPF jumps are forward-only and 8 bits wide).
 */
#define FILTER_MAX 1024
#define TO_TRAP 0xff

struct bpf {
	struct sock_filter f[FILTER_MAX];
	unsigned n;
	int overflow;
};

static void emit(struct bpf *b, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (b->n >= FILTER_MAX) {
		b->overflow = 1;
		return;
	}
	b->f[b->n++] = (struct sock_filter){ .code = code, .jt = jt, .jf = jf, .k = k };
}

#define ARG_LO(i) ((uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i)))
#define ARG_HI(i) (ARG_LO(i) + 4)

static void load(struct bpf *b, uint32_t off)
{
	emit(b, BPF_LD | BPF_W | BPF_ABS, off, 0, 0);
}

/* Go on when A op k holds, else trap. */
static void need(struct bpf *b, uint16_t op, uint32_t k)
{
	emit(b, BPF_JMP | op | BPF_K, k, 0, TO_TRAP);
}

/* Trap when A op k holds, else go on. */
static void refuse(struct bpf *b, uint16_t op, uint32_t k)
{
	emit(b, BPF_JMP | op | BPF_K, k, TO_TRAP, 0);
}

/* Argument i, all 64 bits, equals v. */
static void need_eq64(struct bpf *b, unsigned i, uint64_t v)
{
	load(b, ARG_HI(i));
	need(b, BPF_JEQ, (uint32_t)(v >> 32));
	load(b, ARG_LO(i));
	need(b, BPF_JEQ, (uint32_t)v);
}

#define GE64_LEN 5
/* Argument i, all 64 bits, is at least v (emits GE64_LEN instructions). */
static void need_ge64(struct bpf *b, unsigned i, uint64_t v)
{
	load(b, ARG_HI(i));
	emit(b, BPF_JMP | BPF_JGT | BPF_K, (uint32_t)(v >> 32), 3, 0); /* a higher word: no need to look further */
	need(b, BPF_JEQ, (uint32_t)(v >> 32));
	load(b, ARG_LO(i));
	need(b, BPF_JGE, (uint32_t)v);
}

/* The descriptor argument i (an int to the kernel) is not AT_FDCWD: the call acts on a descriptor. */
static void need_not_cwd(struct bpf *b, unsigned i)
{
	load(b, ARG_LO(i));
	refuse(b, BPF_JEQ, (uint32_t)AT_FDCWD);
}

struct limits {
	int vcpu_fd;
	pid_t pid;
	uint64_t image_end;
};

static void emit_checks(struct bpf *b, enum check c, const struct limits *l)
{
	static const uint32_t vcpu_ioctls[] = { KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_INTERRUPT };
	const unsigned nio = sizeof(vcpu_ioctls) / sizeof(vcpu_ioctls[0]);
	switch (c) {
	case PLAIN:
		break;
	case IOCTL_VCPU:
		/* The kernel takes fd and request as 32-bit values: the low words are the whole story. */
		load(b, ARG_LO(0));
		need(b, BPF_JEQ, (uint32_t)l->vcpu_fd);
		load(b, ARG_LO(1));
		for (unsigned j = 0; j + 1 < nio; j++) {
			emit(b, BPF_JMP | BPF_JEQ | BPF_K, vcpu_ioctls[j], 0, 1);
			emit(b, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
		}
		need(b, BPF_JEQ, vcpu_ioctls[nio - 1]);
		break;
	case OWN_PROCESS:
		need_eq64(b, 0, (uint64_t)(uint32_t)l->pid);
		break;
	case EMPTY_PATH:
	case EMPTY_PATH_AT:
		need_not_cwd(b, 0);
		need_eq64(b, 1, (uint64_t)(uintptr_t)hostfs_empty_path);
		if (c == EMPTY_PATH_AT) {
			load(b, ARG_LO(3));
			need(b, BPF_JSET, AT_EMPTY_PATH);
		}
		break;
	case MMAP_SAFE:
		load(b, ARG_LO(2));
		refuse(b, BPF_JSET, PROT_EXEC);
		load(b, ARG_LO(3));
		emit(b, BPF_JMP | BPF_JSET | BPF_K, MAP_FIXED | MAP_FIXED_NOREPLACE, 0, GE64_LEN);
		need_ge64(b, 0, l->image_end);
		break;
	case MPROTECT_SAFE:
		load(b, ARG_LO(2));
		refuse(b, BPF_JSET, PROT_EXEC);
		need_ge64(b, 0, l->image_end);
		break;
	case ABOVE_IMAGE:
		need_ge64(b, 0, l->image_end);
		break;
	case CLONE_REAPER:
		need_eq64(b, 0, REAPER_FLAGS);
		break;
	}
}

/* Point the rule's TO_TRAP jumps (from index start on) at its trap; -1 if one is out of reach. */
static int patch_traps(struct bpf *b, unsigned start, unsigned trap)
{
	for (unsigned i = start; i < trap; i++) {
		struct sock_filter *s = &b->f[i];
		if (BPF_CLASS(s->code) != BPF_JMP || (s->jt != TO_TRAP && s->jf != TO_TRAP))
			continue;
		if (trap - (i + 1) >= TO_TRAP)
			return -1;
		if (s->jt == TO_TRAP)
			s->jt = (uint8_t)(trap - (i + 1));
		if (s->jf == TO_TRAP)
			s->jf = (uint8_t)(trap - (i + 1));
	}
	return 0;
}

/* lbvm links statically and not as PIE: its code and data end at _end, and nothing of it lies above. */
extern char _end[];

static int build(struct bpf *b, const struct limits *l)
{
	b->n = 0;
	b->overflow = 0;
	load(b, offsetof(struct seccomp_data, arch));
	emit(b, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	emit(b, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
	for (unsigned i = 0; i < NRULES; i++) {
		load(b, offsetof(struct seccomp_data, nr));
		unsigned skip = b->n;
		emit(b, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)rules[i].nr, 0, 0);
		unsigned start = b->n;
		emit_checks(b, rules[i].check, l);
		int checked = b->n > start;
		emit(b, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
		if (checked) {
			if (b->overflow || patch_traps(b, start, b->n) < 0)
				return -1;
			emit(b, BPF_RET | BPF_K, SECCOMP_RET_TRAP, 0, 0);
		}
		if (b->overflow || b->n - (skip + 1) > 255)
			return -1;
		b->f[skip].jf = (uint8_t)(b->n - (skip + 1));
	}
	emit(b, BPF_RET | BPF_K, SECCOMP_RET_TRAP, 0, 0);
	return b->overflow ? -1 : 0;
}

int seccomp_confine(int vcpu_fd)
{
	static struct bpf b;
	struct limits l = {
		.vcpu_fd = vcpu_fd,
		.pid = getpid(),
		.image_end = ((uint64_t)(uintptr_t)_end + 4095) & ~(uint64_t)4095,
	};
	if (build(&b, &l) < 0) {
		log_err("seccomp: the VMM's filter does not fit classic BPF's limits (a bug in lbvm: please report it)");
		return -1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		log_err("seccomp: cannot install the SIGSYS handler: %s", strerror(errno));
		return -1;
	}
	struct sock_fprog prog = { .len = (unsigned short)b.n, .filter = b.f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("seccomp: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	/* Every thread of lbvm at once: the I/O thread, the ticker and the timeout are already running. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
		log_err("seccomp: cannot install the VMM's filter: %s; lbvm does not run a VM without it "
			"(a kernel with CONFIG_SECCOMP_FILTER is needed)", strerror(errno));
		return -1;
	}
	return 0;
}
