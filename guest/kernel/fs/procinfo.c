/* procinfo.c: generated /proc text: a process's status, maps and auxv, the system's /proc/stat, /sys's CPU lists. */
#include "arch/cpu.h"
#include "kernel/proc/proc.h"
#include "vfs.h"

enum { INFO_STATUS, INFO_MAPS, INFO_AUXV, INFO_PSTAT, INFO_CPUS };

#define APPEND(...) do { if (n < (long)size) n += ksnprintf(buf + n, size - (size_t)n, __VA_ARGS__); } while (0)

static uint64_t vm_bytes(const struct proc *p, int resident)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < p->mm->nvma; i++) {
		const struct vma *v = &p->mm->vma[i];
		uint64_t len = v->end - v->start;
		if (resident && (v->flags & VMA_STACK) && len > STACK_EAGER)
			len = STACK_EAGER;   /* the stack's lazy part is mostly untouched: an estimate */
		total += len;
	}
	return total;
}

static long status_text(struct proc *p, char *buf, size_t size)
{
	long n = 0;
	char comm[16];
	proc_comm(p, comm);
	const char *state = p->stopped || p->stop_sig ? "T (stopped)" : p->state == P_ZOMBIE ? "Z (zombie)" :
			    p->state == P_BLOCKED ? "S (sleeping)" : "R (running)";
	uint64_t ign = 0, cgt = 0;
	for (int s = 1; s <= NSIG; s++) {
		if (p->sigact[s - 1].handler == SIG_IGN)
			ign |= 1ull << (s - 1);
		else if (p->sigact[s - 1].handler != SIG_DFL)
			cgt |= 1ull << (s - 1);
	}
	APPEND("Name:\t%s\nUmask:\t%04o\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n"
	       "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\nGroups:\t\n",
	       comm, p->umask, state, p->pid, p->pid, p->ppid, NFD);
	APPEND("VmSize:\t%8lu kB\nVmRSS:\t%8lu kB\nVmData:\t%8lu kB\nVmStk:\t%8lu kB\nThreads:\t1\n",
	       (unsigned long)(vm_bytes(p, 0) >> 10), (unsigned long)(vm_bytes(p, 1) >> 10),
	       (unsigned long)((p->mm->brk - p->mm->brk_start) >> 10), (unsigned long)(STACK_EAGER >> 10));
	APPEND("SigPnd:\t0000000000000000\nShdPnd:\t%016lx\nSigBlk:\t%016lx\nSigIgn:\t%016lx\nSigCgt:\t%016lx\n",
	       (unsigned long)p->sigpending, (unsigned long)p->sigmask, (unsigned long)ign, (unsigned long)cgt);
	APPEND("NoNewPrivs:\t%d\nCpus_allowed:\t1\nCpus_allowed_list:\t0\n", p->no_new_privs);
	return n;
}

/*
 * Regions carry no file: those below the program break that are neither
 * stack nor heap are the program's own segments, and named after it.
 */
static long maps_text(struct proc *p, char *buf, size_t size)
{
	long n = 0;
	for (unsigned i = 0; i < p->mm->nvma; i++) {
		const struct vma *v = &p->mm->vma[i];
		const char *name = (v->flags & VMA_STACK) ? "[stack]" : (v->flags & VMA_HEAP) ? "[heap]" :
				   v->end <= p->mm->brk_start ? p->exe : "";
		long start = n;
		APPEND("%08lx-%08lx %c%c%cp 00000000 00:00 0", (unsigned long)v->start, (unsigned long)v->end,
		       v->prot & PROT_READ ? 'r' : '-', v->prot & PROT_WRITE ? 'w' : '-', v->prot & PROT_EXEC ? 'x' : '-');
		if (*name) {
			while (n - start < 73 && n < (long)size)
				buf[n++] = ' ';
			APPEND("%s", name);
		}
		APPEND("\n");
	}
	return n;
}

static long pstat_text(char *buf, size_t size)
{
	long n = 0;
	int64_t up = (time_monotonic_ns() - boot.boot_monotonic_ns) / 10000000;  /* USER_HZ ticks */
	int running = 0, maxpid = 0;
	for (int i = 0; i < NPROC; i++) {
		if (procs[i].state == P_RUNNABLE)
			running++;
		if (procs[i].state != P_FREE && procs[i].pid > maxpid)
			maxpid = procs[i].pid;
	}
	/* The one CPU's time all counts as user time: the guest does not account it further. */
	APPEND("cpu  %ld 0 0 0 0 0 0 0 0 0\ncpu0 %ld 0 0 0 0 0 0 0 0 0\nintr 0\nctxt 0\nbtime %ld\n"
	       "processes %d\nprocs_running %d\nprocs_blocked 0\n",
	       (long)up, (long)up, (long)(boot.boot_realtime_ns / 1000000000), maxpid, running ? running : 1);
	return n;
}

long procinfo_text(unsigned which, struct proc *p, char *buf, size_t size)
{
	switch (which) {
	case INFO_STATUS:
		return status_text(p, buf, size);
	case INFO_MAPS:
		return maps_text(p, buf, size);
	case INFO_AUXV: {
		unsigned i = 0;
		while (i + 2 <= ARRAY_SIZE(p->auxv) && p->auxv[i])
			i += 2;
		size_t len = (i + 2) * sizeof(uint64_t);
		if (len > size)
			len = size;
		memcpy(buf, p->auxv, len);
		return (long)len;
	}
	case INFO_PSTAT:
		return pstat_text(buf, size);
	default:
		return ksnprintf(buf, size, "0\n");
	}
}
