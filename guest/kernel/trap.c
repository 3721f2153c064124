/* trap.c: exceptions: user page faults filled on demand, everything else a fatal signal; kernel faults panic. */
#include "arch/cpu.h"
#include "kernel/proc/proc.h"


/* A fault the program caused: its handler runs if it has one and the signal is not blocked, else it dies. */
static void fault_signal(struct uregs *r, int sig, uint64_t addr)
{
	struct proc *p = current;
	uint64_t bit = 1ull << (sig - 1);
	if (p->sigact[sig - 1].handler <= SIG_IGN || (p->sigmask & bit))
		proc_kill(sig, addr);
	struct ksiginfo si = { SEGV_MAPERR, 0, 0, addr };
	signal_post(p, sig, &si);
	if (!signal_deliver(r))
		proc_kill(sig, addr);
}

void trap_entry_c(struct uregs *r)
{
	int user = (r->cs & 3) == 3;
	if (r->vec == LBVM_TICK_VECTOR) {
		/* Preemption: let another process run; a tick during the kernel's halt needs nothing. */
		cpu_tick_ack();  /* before any switch: the next tick must not wait for this process to run again */
		if (user) {
			io_check();  /* a kernel timer may have fired for a sleeper: wake it before choosing */
			sched_yield_other();
			proc_check_killed();
			signal_deliver(r);
		}
		return;
	}
	uint64_t addr = r->vec == 14 ? cpu_fault_addr() : r->rip;
	if (!user)
		panic("kernel exception %lu at rip %#lx (error %#lx, address %#lx)",
		      (unsigned long)r->vec, (unsigned long)r->rip, (unsigned long)r->err, (unsigned long)addr);
	switch (r->vec) {
	case 14: {
		int err = mm_fault(current->mm, addr, (r->err & 2) != 0);
		if (!err) {
			mm_commit(current->mm);
			proc_check_killed();
			signal_deliver(r);
			return;
		}
		if (err == -ENOMEM) {
			kprintf("lbvm: out of memory: the program needs more than --mem %lu MiB; killed\n",
				(unsigned long)(boot.ram_size >> 20));
			proc_kill(SIGKILL, addr);
		}
		fault_signal(r, SIGSEGV, addr);
		return;
	}
	case 0:
	case 16:
	case 19:
		fault_signal(r, SIGFPE, r->rip);
		return;
	case 1:
	case 3:
		fault_signal(r, SIGTRAP, r->rip);
		return;
	case 6:
		fault_signal(r, SIGILL, r->rip);
		return;
	case 17:
		fault_signal(r, SIGBUS, r->rip);
		return;
	default:
		fault_signal(r, SIGSEGV, 0);
		return;
	}
}
