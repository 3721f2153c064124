/* trap.c: exceptions: user page faults filled on demand, everything else a fatal signal; kernel faults panic. */
#include "arch/cpu.h"
#include "proc.h"

#define SIGILL  4
#define SIGKILL 9
#define SIGTRAP 5
#define SIGBUS  7
#define SIGFPE  8
#define SIGSEGV 11

void trap_entry_c(struct uregs *r)
{
	int user = (r->cs & 3) == 3;
	uint64_t addr = r->vec == 14 ? cpu_fault_addr() : r->rip;
	if (!user)
		panic("kernel exception %lu at rip %#lx (error %#lx, address %#lx)",
		      (unsigned long)r->vec, (unsigned long)r->rip, (unsigned long)r->err, (unsigned long)addr);
	switch (r->vec) {
	case 14: {
		int err = mm_fault(&current->mm, addr, (r->err & 2) != 0);
		if (!err) {
			mm_commit(&current->mm);
			proc_check_killed();
			return;
		}
		if (err == -ENOMEM) {
			kprintf("lbvm: out of memory: the program needs more than --mem %lu MiB; killed\n",
				(unsigned long)(boot.ram_size >> 20));
			proc_kill(SIGKILL, addr);
		}
		proc_kill(SIGSEGV, addr);
	}
	case 0:
	case 16:
	case 19:
		proc_kill(SIGFPE, r->rip);
	case 1:
	case 3:
		proc_kill(SIGTRAP, r->rip);
	case 6:
		proc_kill(SIGILL, r->rip);
	case 17:
		proc_kill(SIGBUS, r->rip);
	default:
		proc_kill(SIGSEGV, 0);
	}
}
