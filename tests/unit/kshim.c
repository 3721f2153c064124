/* kshim.c: host stand-ins for what guest/kernel/mm/mm.c and proc/signal.c call outside themselves (memory, panic, TLB, proc_kill). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/arch/cpu.h"
#include "guest/kernel/proc/proc.h"
#include "tests/unit/kshim.h"

uint8_t *lbvm_test_phys;
struct proc *current;
struct proc procs[NPROC];   /* signal_post_process looks for the process's threads here */
unsigned kshim_tlb_flushes;
jmp_buf kshim_kill_jmp;
volatile int kshim_kill_armed;
volatile int kshim_killed_sig;
volatile uint64_t kshim_killed_addr;

void kshim_phys_init(void)
{
	if (lbvm_test_phys)
		return;
	/* 2 MiB aligned, like guest RAM, and zero, as never-used guest pages are. */
	void *p = aligned_alloc(2u << 20, KSHIM_PHYS_SIZE);
	if (!p) {
		fprintf(stderr, "kshim: no memory for the fake guest RAM\n");
		exit(1);
	}
	memset(p, 0, KSHIM_PHYS_SIZE);
	lbvm_test_phys = p;
}

void cpu_flush_tlb(void)
{
	kshim_tlb_flushes++;
}

/* signal.c tells the scheduler when a process becomes runnable; no scheduler here. */
void sched_update_tick(void)
{
}

/* SIGCONT: the real one cancels the process's stop, wakes every thread and tells the parent; here a stopped p is counted. */
unsigned kshim_continues;
void proc_continue(struct proc *p)
{
	uint64_t stops = (1ull << (SIGSTOP - 1)) | (1ull << (SIGTSTP - 1)) | (1ull << (SIGTTIN - 1)) | (1ull << (SIGTTOU - 1));
	p->sigpending &= ~stops;
	p->leader->shared_pending &= ~stops;
	p->stop_sig = 0;
	if (p->stopped) {
		p->stopped = 0;
		kshim_continues++;
	}
}

/* A stop signal's default action: the real one stops every thread of the process; here only p is marked. */
void proc_group_stop(struct proc *p, int sig)
{
	p->stop_sig = sig;
}

/* A blocked signal became pending: the real one wakes signalfd readers and pollers; here it is counted. */
unsigned kshim_poll_wakes;
void poll_wake(void)
{
	kshim_poll_wakes++;
}

/* The socket layer's say on restarts: here one fd (kshim_sock_timeo_fd) is a socket with a timeout. */
int kshim_sock_timeo_fd = -1;
int sock_never_restarted(uint64_t nr, uint64_t fd)
{
	(void)nr;
	return (int64_t)fd == kshim_sock_timeo_fd;
}

/* A stop signal unblocked with no handler: the real one stops the process; none here. */
int proc_check_killed(void)
{
	return 0;
}

void panic(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fail_msg("kernel panic: %s", msg);
	abort();
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void proc_kill(int sig, uint64_t addr)
{
	if (kshim_kill_armed) {
		kshim_killed_sig = sig;
		kshim_killed_addr = addr;
		kshim_kill_armed = 0;
		longjmp(kshim_kill_jmp, 1);
	}
	fail_msg("unexpected proc_kill(%d, %#llx)", sig, (unsigned long long)addr);
	abort();
}

/* The unit tests map no files: mm.c's calls into filemap.c for file regions are never made. */
int filemap_fill(struct mm *mm, const struct vma *v, uint64_t lo, uint64_t hi)
{
	(void)mm, (void)v, (void)lo, (void)hi;
	return -ENODEV;
}

int filemap_sync(const struct vma *v, uint64_t lo, uint64_t hi)
{
	(void)v, (void)lo, (void)hi;
	return 0;
}

void filemap_hold(struct vnode *vn)
{
	(void)vn;
}

void filemap_release(struct vnode *vn)
{
	(void)vn;
}
