/* sys_prctl.c: prctl, resource limits, CPU affinity (one CPU), and the per-process name and auxv /proc shows. */
#include "kernel/syscall.h"
#include "ustack.h"

#define PR_SET_PDEATHSIG 1
#define PR_GET_PDEATHSIG 2
#define PR_GET_DUMPABLE 3
#define PR_SET_DUMPABLE 4
#define PR_SET_NAME 15
#define PR_GET_NAME 16
#define PR_SET_NO_NEW_PRIVS 38
#define PR_GET_NO_NEW_PRIVS 39

#define RLIM_INFINITY (~0ull)
#define RLIMIT_STACK 3
#define RLIMIT_NPROC 6
#define RLIMIT_NOFILE 7
#define RLIM_NLIMITS 16

void proc_comm(const struct proc *p, char out[16])
{
	if (p->comm[0]) {
		memcpy(out, p->comm, 16);
		return;
	}
	const char *base = strrchr(p->exe, '/');
	strlcpy(out, base ? base + 1 : p->exe, 16);
}

void proc_save_auxv(struct proc *p, const uint64_t *sp)
{
	uint64_t argc = sp[0];
	const uint64_t *w = sp + 1 + argc + 1;
	while (*w)
		w++;
	w++;
	unsigned i = 0;
	for (; i + 2 <= ARRAY_SIZE(p->auxv) - 2 && w[0] != AT_NULL; i += 2, w += 2) {
		p->auxv[i] = w[0];
		p->auxv[i + 1] = w[1];
	}
	p->auxv[i] = p->auxv[i + 1] = 0;
}

static void rlimit_default(unsigned res, uint64_t out[2])
{
	out[0] = out[1] = RLIM_INFINITY;
	if (res == RLIMIT_STACK)
		out[0] = STACK_MAX;
	else if (res == RLIMIT_NOFILE)
		out[0] = out[1] = NFD;
	else if (res == RLIMIT_NPROC)
		out[0] = out[1] = NPROC;
}

void proc_rlimit(const struct proc *p, unsigned res, uint64_t out[2])
{
	if (p->rlim_set & (1u << res)) {
		out[0] = p->rlim[res][0];
		out[1] = p->rlim[res][1];
	} else {
		rlimit_default(res, out);
	}
}

/*
 * Limits are kept per process and inherited; RLIMIT_NOFILE bounds new
 * descriptors (fd_install). The others are recorded only: the VM's --mem is
 * the limit that holds for memory. As root in its VM, a process may raise a
 * hard limit, except NOFILE past the table's size.
 */
SYS(prlimit64)
{
	UNUSED_ARGS();
	struct proc *p = a0 ? (a0 > INT32_MAX ? NULL : proc_find((int)a0)) : current;
	if (!p || p->state == P_ZOMBIE)
		return -ESRCH;
	if (a1 >= RLIM_NLIMITS)
		return -EINVAL;
	uint64_t lim[2], n[2];
	proc_rlimit(p, (unsigned)a1, lim);
	if (a2) {
		if (copy_from_user(n, a2, sizeof(n)))
			return -EFAULT;
		if (n[0] > n[1])
			return -EINVAL;
		if (a1 == RLIMIT_NOFILE && n[1] > NFD)
			return -EPERM;
	}
	if (a3 && copy_to_user(a3, lim, sizeof(lim)))
		return -EFAULT;
	if (a2) {
		p->rlim[a1][0] = n[0];
		p->rlim[a1][1] = n[1];
		p->rlim_set |= 1u << a1;
	}
	return 0;
}

SYS(getrlimit) { UNUSED_ARGS(); return sys_prlimit64(0, a0, 0, a1, 0, 0); }
SYS(setrlimit) { UNUSED_ARGS(); return sys_prlimit64(0, a0, a1, 0, 0, 0); }

/* One CPU: the mask is bit 0, as many bytes as the kernel's cpumask (8). */
SYS(sched_getaffinity)
{
	UNUSED_ARGS();
	if (a0 && (a0 > INT32_MAX || !proc_find((int)a0)))
		return -ESRCH;
	if (a1 < 8 || (a1 & 7))
		return -EINVAL;
	uint64_t mask = 1;
	return copy_to_user(a2, &mask, 8) ? -EFAULT : 8;
}

SYS(sched_setaffinity)
{
	UNUSED_ARGS();
	uint8_t first;
	if (a0 && (a0 > INT32_MAX || !proc_find((int)a0)))
		return -ESRCH;
	if (a1 == 0)
		return -EINVAL;
	if (copy_from_user(&first, a2, 1))
		return -EFAULT;
	return first & 1 ? 0 : -EINVAL;   /* a set without CPU 0 has no CPU this VM has */
}

SYS(prctl)
{
	UNUSED_ARGS();
	struct proc *p = current;
	switch (a0) {
	case PR_SET_NAME: {
		char n[16];
		long r = strncpy_from_user(n, a1, sizeof(n));
		if (r == -EFAULT)
			return r;
		n[15] = 0;
		memcpy(p->comm, n, sizeof(n));
		return 0;
	}
	case PR_GET_NAME: {
		char n[16];
		proc_comm(p, n);
		return copy_to_user(a1, n, sizeof(n)) ? -EFAULT : 0;
	}
	case PR_SET_PDEATHSIG:
		if (a1 > 64)
			return -EINVAL;
		p->pdeathsig = (int)a1;
		return 0;
	case PR_GET_PDEATHSIG: {
		int32_t v = p->pdeathsig;
		return copy_to_user(a1, &v, sizeof(v)) ? -EFAULT : 0;
	}
	case PR_SET_DUMPABLE:
		if (a1 > 1)
			return -EINVAL;
		p->undumpable = !a1;
		return 0;
	case PR_GET_DUMPABLE:
		return !p->undumpable;
	case PR_SET_NO_NEW_PRIVS:
		if (a1 != 1 || a2 || a3 || a4)
			return -EINVAL;
		p->no_new_privs = 1;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		if (a1 || a2 || a3 || a4)
			return -EINVAL;
		return p->no_new_privs;
	default:
		return -EINVAL;
	}
}
