/* proc.c: processes: the table, kernel stacks, the scheduler, fork, wait and exit. */
#include "arch/cpu.h"
#include "kernel/ktimer.h"
#include "proc.h"

#define CLONE_VM             0x00000100
#define CLONE_FS             0x00000200
#define CLONE_FILES          0x00000400
#define CLONE_SIGHAND        0x00000800
#define CLONE_VFORK          0x00004000
#define CLONE_THREAD         0x00010000
#define CLONE_SYSVSEM        0x00040000
#define CLONE_SETTLS         0x00080000
#define CLONE_PARENT_SETTID  0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_CHILD_SETTID   0x01000000
#define WNOHANG 1

struct proc procs[NPROC];
/* What a thread group shares, one set per group (see struct proc). */
static struct fdtable fdtables[NPROC];
static struct mm mms[NPROC];
static struct k_sigaction sighands[NPROC][NSIG];
static uint8_t res_used[NPROC];
static int next_pid = 1;
static uint64_t kstack_cache[NPROC];
static unsigned nkstack_cache;

struct uregs *proc_uregs(struct proc *p)
{
	return (struct uregs *)((uint8_t *)pa_to_kva(p->kstack) + KSTACK_PAGES * PAGE_SIZE) - 1;
}

static uint64_t kstack_top(struct proc *p)
{
	return (uint64_t)pa_to_kva(p->kstack) + KSTACK_PAGES * PAGE_SIZE;
}

/* A set of group resources: a fresh mm, an empty fd table, default handlers; -1 if none is free. */
static int res_alloc(void)
{
	for (int i = 0; i < NPROC; i++) {
		if (res_used[i])
			continue;
		res_used[i] = 1;
		mm_init(&mms[i], 0);
		memset(&fdtables[i], 0, sizeof(fdtables[i]));
		memset(sighands[i], 0, sizeof(sighands[i]));
		return i;
	}
	return -1;
}

/*
 * An exited thread's slot and kernel stack, once it is off the CPU. With one
 * CPU any thread but the current one is; several CPUs will need an "on CPU"
 * flag cleared after the switch away.
 */
static void reap_dead_threads(void)
{
	for (int i = 0; i < NPROC; i++) {
		struct proc *t = &procs[i];
		if (t->state == P_DEAD && t != current) {
			kstack_cache[nkstack_cache++] = t->kstack;
			t->state = P_FREE;
		}
	}
}

struct proc *proc_alloc(void)
{
	reap_dead_threads();
	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];
		if (p->state != P_FREE)
			continue;
		if (!p->scratch) {
			uint64_t sp = pmem_alloc_contig(KSCRATCH_PAGES);
			if (!sp)
				return NULL;
			p->scratch = pa_to_kva(sp);
		}
		uint64_t ks = nkstack_cache ? kstack_cache[--nkstack_cache] : pmem_alloc_contig(KSTACK_PAGES);
		if (!ks)
			return NULL;
		int res = res_alloc();
		if (res < 0) {
			kstack_cache[nkstack_cache++] = ks;
			return NULL;
		}
		memset(p, 0, __builtin_offsetof(struct proc, scratch));
		p->kstack = ks;
		p->pid = p->tgid = p->fs_id = next_pid++;
		p->leader = p;
		p->nthreads = 1;
		p->res = res;
		p->mm = &mms[res];
		p->fds = &fdtables[res];
		p->sigact = sighands[res];
		p->state = P_BLOCKED; /* not runnable until its creator says so */
		return p;
	}
	return NULL;
}

void proc_switch_mm(struct proc *p)
{
	cpu_load_pgtable(p->mm->pml4_pa);
	p->mm->tlb_dirty = 0;   /* a page-table load flushes (non-global) translations */
	cpu_set_fs_base(p->fs_base);
}

/*
 * The state components xsave may write: those XCR0 enables whose place in
 * the standard layout (CPUID leaf 0xD) ends inside FPU_AREA. A component
 * left out (none on today's CPUs but AMX tiles, which nobody enables here)
 * is not preserved across a switch; the kernel's memory always is.
 */
static uint64_t fpu_mask(void)
{
	static uint64_t mask;
	if (mask)
		return mask;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	uint64_t xcr0 = (uint64_t)hi << 32 | lo, m = 3; /* x87 and SSE: the legacy 512 bytes */
	for (unsigned i = 2; i < 63; i++) {
		if (!(xcr0 & (1ull << i)))
			continue;
		uint32_t size, off, c, d;
		__asm__ volatile("cpuid" : "=a"(size), "=b"(off), "=c"(c), "=d"(d) : "a"(0xd), "c"(i));
		if (size && off >= 576 && off + size <= FPU_AREA)
			m |= 1ull << i;
	}
	mask = m;
	return mask;
}

static void fpu_save(uint8_t *area)
{
	uint64_t m = fpu_mask();
	__asm__ volatile("xsave64 (%0)" : : "r"(area), "a"((uint32_t)m), "d"((uint32_t)(m >> 32)) : "memory");
}

static void fpu_restore(const uint8_t *area)
{
	uint64_t m = fpu_mask();
	__asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"((uint32_t)m), "d"((uint32_t)(m >> 32)) : "memory");
}

/* Run next instead of the current process. */
static void switch_to(struct proc *next)
{
	struct proc *prev = current;
	if (next == prev)
		return;
	sched_update_tick();
	prev->fs_base = cpu_get_fs_base();
	/* The kernel never touches the FPU itself, so the live state is prev's user state. */
	/* xsave: a preempted process may be in the middle of AVX code. */
	fpu_save(prev->fpu);
	fpu_restore(next->fpu);
	current = next;
	cpu_set_kernel_stack(this_cpu, kstack_top(next));
	proc_switch_mm(next);
	cpu_switch(&prev->ksp, next->ksp);
	/* back in prev, on its own stack, when someone switches to it */
}

/* Preemption ticks while more than one process can run (the cpu ops know how: the VMM, or the APIC timer). */
void sched_update_tick(void)
{
	int n = 0;
	for (int i = 0; i < NPROC && n < 2; i++)
		if (procs[i].state == P_RUNNABLE)
			n++;
	/* One runnable process and a kernel timer armed: ticks let its expiry be seen while the process computes. */
	cpu_tick_want(n > 1 || (n == 1 && ktimer_pending()));
}

/* The next runnable process after the current one, round robin; NULL if none. */
static struct proc *pick(void)
{
	int start = (int)(current - procs);
	for (int k = 1; k <= NPROC; k++) {
		struct proc *p = &procs[(start + k) % NPROC];
		if (p->state == P_RUNNABLE)
			return p;
	}
	return NULL;
}

int sched_yield_other(void)
{
	struct proc *next = pick();
	if (!next || next == current)
		return 0;
	switch_to(next);
	return 1;
}

/*
 * Block until woken; an interruptible sleep also ends when a signal is to be
 * acted on. With nothing else runnable, wait for the VMM: a completion may
 * wake someone (a sleeper, a stdin reader polling the ring).
 */
static void sched_block(const void *chan, int interruptible)
{
	current->state = P_BLOCKED;
	current->wchan = chan;
	for (;;) {
		if (current->state == P_RUNNABLE || (interruptible && signal_pending()))
			break;
		struct proc *next = pick();
		if (next) {
			switch_to(next);
			continue;
		}
		if (io_pending()) {
			io_idle(); /* a timer or a read may wake someone */
			continue;
		}
		panic("every process is blocked or stopped and none waits for I/O: a deadlock in the program (pid %d waits on %p)",
		      current->pid, current->wchan);
	}
	current->state = P_RUNNABLE;
	current->wchan = NULL;
}

void sched_sleep(const void *chan)
{
	sched_block(chan, 1);
}

void kmutex_lock(struct kmutex *m)
{
	while (m->locked)
		sched_block(m, 0);
	m->locked = 1;
	m->owner = current;
	current->holding = m;
}

void kmutex_unlock(struct kmutex *m)
{
	if (m->owner)
		m->owner->holding = NULL;
	m->locked = 0;
	m->owner = NULL;
	sched_wakeup(m);
}

void sched_wakeup(const void *chan)
{
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state == P_BLOCKED && procs[i].wchan == chan)
			procs[i].state = P_RUNNABLE;
	sched_update_tick();
}

/* Give back a group's resources after its last thread is gone and off the CPU. */
static void res_free(struct proc *leader)
{
	mm_release(leader->mm);
	res_used[leader->res] = 0;
}

/*
 * CLONE_FS: threads and processes cloned with it share the working directory
 * and umask. Each keeps its own copy (the file syscalls read current's), and
 * a change goes to every copy at once; with one CPU nobody sees them differ.
 */
static int fs_sharer(const struct proc *t)
{
	return t->fs_id == current->fs_id && t->cwd && (t->state == P_RUNNABLE || t->state == P_BLOCKED);
}

void proc_set_cwd(struct vnode *vn, const char *canon)
{
	for (int i = 0; i < NPROC; i++) {
		struct proc *t = &procs[i];
		if (!fs_sharer(t))
			continue;
		vn_put(t->cwd);
		t->cwd = vn_get(vn);
		strlcpy(t->cwd_path, canon, sizeof(t->cwd_path));
	}
	vn_put(vn);
}

uint32_t proc_set_umask(uint32_t mask)
{
	uint32_t old = current->umask;
	for (int i = 0; i < NPROC; i++)
		if (fs_sharer(&procs[i]))
			procs[i].umask = mask;
	return old;
}

/*
 * clone: a new process (a copy-on-write copy of the caller), or with
 * CLONE_THREAD a new thread of the caller's process that shares its address
 * space, descriptors and handlers.
 */
long proc_fork(struct uregs *r, uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid, uint64_t tls)
{
	int thread = (flags & CLONE_THREAD) != 0;
	/* Linux's rules: a thread shares the handlers, and shared handlers need a shared address space. */
	if ((thread && !(flags & CLONE_SIGHAND)) || ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM)))
		return -EINVAL;
	if (thread && (flags & CLONE_VFORK))
		return -EINVAL;
	if (thread && (~flags & (CLONE_VM | CLONE_FILES)))
		return -ENOSYS; /* a thread with its own descriptors: not yet */
	if (!thread && (flags & CLONE_VM) && !(flags & CLONE_VFORK))
		return -ENOSYS; /* a process sharing memory without being a thread: not yet */
	struct proc *parent = current, *c = proc_alloc();
	if (!c)
		return -EAGAIN;
	if (thread) {
		/* The new thread uses the group's set, not the one proc_alloc gave it. */
		res_used[c->res] = 0;
		struct proc *l = parent->leader;
		c->tgid = l->tgid;
		c->leader = l;
		c->res = -1;
		c->mm = parent->mm;
		c->fds = parent->fds;
		c->sigact = parent->sigact;
		c->nthreads = 0;
		l->nthreads++;
		c->ppid = parent->ppid;
		c->stop_sig = l->group_stop && !l->group_stopped ? l->group_stop : 0;  /* a group stop in progress takes it too */
	} else {
		/* CLONE_VM with CLONE_VFORK (posix_spawn) gets a copy too: the parent waits either way. */
		int err = mm_fork(c->mm, parent->mm);
		if (err) {
			res_free(c);
			c->state = P_FREE;
			kstack_cache[nkstack_cache++] = c->kstack;
			return err;
		}
		c->ppid = parent->tgid;
		memcpy(c->sigact, parent->sigact, NSIG * sizeof(struct k_sigaction));
		for (int fd = 0; fd < NFD; fd++) {
			if (parent->fds->fd[fd]) {
				c->fds->fd[fd] = file_get(parent->fds->fd[fd]);
				c->fds->cloexec[fd] = parent->fds->cloexec[fd];
			}
		}
	}
	c->pgid = parent->pgid;
	c->umask = parent->umask;
	if (flags & CLONE_FS)
		c->fs_id = parent->fs_id; /* else a copy: its own id from proc_alloc */
	c->sid = parent->sid;
	fpu_save(c->fpu);
	c->fs_base = (flags & CLONE_SETTLS) ? tls : cpu_get_fs_base();
	c->sigmask = parent->sigmask;
	if (!thread) {
		c->ss_sp = parent->ss_sp;
		c->ss_size = parent->ss_size;
		c->ss_flags = parent->ss_flags;
	}
	memcpy(c->comm, parent->comm, sizeof(c->comm));
	c->no_new_privs = parent->no_new_privs;
	c->undumpable = parent->undumpable;
	c->rlim_set = parent->rlim_set;
	memcpy(c->rlim, parent->rlim, sizeof(c->rlim));
	memcpy(c->auxv, parent->auxv, sizeof(c->auxv));
	strlcpy(c->exe, parent->exe, sizeof(c->exe));
	strlcpy(c->cwd_path, parent->cwd_path, sizeof(c->cwd_path));
	c->cwd = vn_get(parent->cwd);
	if (flags & CLONE_CHILD_CLEARTID)
		c->clear_child_tid = ctid;

	/* The child returns from the same syscall with 0, on its own kernel stack. */
	struct uregs *cr = proc_uregs(c);
	*cr = *r;
	cr->rax = 0;
	if (newsp)
		cr->rsp = newsp;
	uint64_t *sp = (uint64_t *)cr;
	*--sp = (uint64_t)cpu_fork_ret;
	*--sp = 0;                 /* rbp */
	*--sp = 0;                 /* rbx */
	*--sp = (uint64_t)cr;      /* r12: the frame cpu_fork_ret enters */
	*--sp = 0;                 /* r13 */
	*--sp = 0;                 /* r14 */
	*--sp = 0;                 /* r15 */
	c->ksp = (uint64_t)sp;

	if (flags & CLONE_PARENT_SETTID)
		copy_to_user(ptid, &c->pid, sizeof(int));
	if (flags & CLONE_CHILD_SETTID)
		mm_copy_out(c->mm, ctid, &c->pid, sizeof(int)); /* into the child's copy, through its tables */
	mm_commit(parent->mm);
	c->state = P_RUNNABLE;
	sched_update_tick();
	int pid = c->pid;
	if (flags & CLONE_VFORK) {
		c->vfork_parent = parent;
		while (c->vfork_parent == parent && !parent->killed)
			sched_block(c, 0); /* other signals wait until the child has let go of the parent */
	}
	return pid;
}

/* Tell p's parent that p (a process: its leader) changed state: wake its wait4 and sigsuspend, and post SIGCHLD. */
void proc_notify_parent(struct proc *p, int code, int status)
{
	struct proc *pp = proc_find(p->ppid);
	if (!pp || pp->leader->nthreads == 0)
		return;
	pp = pp->leader;
	sched_wakeup(pp);
	pp->sig_wakeups++;
	sched_wakeup(&pp->sig_wakeups);
	if ((code == CLD_STOPPED || code == CLD_CONTINUED) && (pp->sigact[SIGCHLD - 1].flags & SA_NOCLDSTOP))
		return;
	struct ksiginfo si = { code, p->tgid, status, 0 };
	signal_post_process(pp, SIGCHLD, &si);
}

static NORETURN void vm_exit_status(int wstatus)
{
	/* The VM lives as long as its first process, as a container does. */
	if (wstatus & 0x7f)
		vm_exit(LBVM_EXIT_SIGNALED | (uint32_t)(wstatus & 0x7f), 0);
	vm_exit((uint32_t)(wstatus >> 8) & 0xff, 0);
}

/* The last thread of l's group has exited: the process ends; its memory and files go now, the parent collects the status. */
static void group_end(struct proc *l)
{
	if (l->tgid == 1)
		vm_exit_status(l->exit_status);
	if (l->alarm)
		ktimer_cancel(l->alarm);
	l->alarm = NULL;
	for (int fd = 0; fd < NFD; fd++)
		if (current->fds->fd[fd])
			fd_close(fd);
	mm_destroy(current->mm);
	for (int i = 0; i < NPROC; i++) {
		struct proc *c = &procs[i];
		if (c->state == P_FREE || c->ppid != l->tgid)
			continue;
		c->ppid = 1;
		/* PR_SET_PDEATHSIG: the child hears of its parent's end (each thread that asked for it). */
		if (c->pdeathsig && c->state != P_ZOMBIE && c->state != P_DEAD) {
			struct ksiginfo si = { SI_USER, l->tgid, 0, 0 };
			signal_post(c, c->pdeathsig, &si);
		}
	}
	int st = l->exit_status;
	proc_notify_parent(l, (st & 0x7f) ? CLD_KILLED : CLD_EXITED, (st & 0x7f) ? (st & 0x7f) : (st >> 8) & 0xff);
	sched_wakeup(&procs[0]); /* an orphan's new parent */
}

static void group_stop_check(struct proc *l);

/*
 * The calling thread ends: its own part goes (the kernel stack once it is
 * off the CPU). The leader stays as a zombie while its process lives; the
 * last thread ends the process.
 */
static NORETURN void thread_exit(int wstatus)
{
	struct proc *p = current, *l = p->leader;
	if (p->holding)
		kmutex_unlock(p->holding); /* died in execve, say: the others may go on */
	futex_exit(p);
	if (p->vfork_parent) {
		sched_wakeup(p);
		p->vfork_parent = NULL;
	}
	vn_put(p->cwd);
	p->cwd = NULL;
	if (p == l && !l->group_exit)
		l->exit_status = wstatus; /* the process's status unless exit_group or a signal sets it */
	l->nthreads--;
	sched_wakeup(&l->nthreads);
	if (l->nthreads == 0)
		group_end(l);
	p->state = p == l ? P_ZOMBIE : P_DEAD;
	if (l->nthreads)
		group_stop_check(l); /* the others may all have stopped already */
	sched_update_tick();
	struct proc *next;
	while (!(next = pick())) {
		if (!io_pending())
			panic("every process is blocked after pid %d exited: a deadlock in the program", p->pid);
		io_idle();
	}
	switch_to(next);
	panic("a dead process was scheduled");
}

/* Every other thread of the caller's process is to die at its next return to user mode. */
void proc_group_kill(int how)
{
	struct proc *l = current->leader;
	l->group_exit = how;
	for (int i = 0; i < NPROC; i++) {
		struct proc *t = &procs[i];
		if (t == current || t->tgid != l->tgid || (t->state != P_RUNNABLE && t->state != P_BLOCKED))
			continue;
		t->killed = SIGKILL;
		if (t->state == P_BLOCKED)
			t->state = P_RUNNABLE;
	}
	sched_update_tick();
}

/* exit_group, or a fatal signal (wstatus: the signal): every thread ends, and wstatus is the process's status. */
static NORETURN void group_exit(int wstatus, uint64_t addr)
{
	struct proc *l = current->leader;
	if (l->group_exit)
		thread_exit(0); /* already ending, with its status set */
	if (l->tgid == 1) {
		if (wstatus & 0x7f)
			vm_exit(LBVM_EXIT_SIGNALED | (uint32_t)(wstatus & 0x7f), addr);
		vm_exit_status(wstatus);
	}
	l->exit_status = wstatus;
	proc_group_kill(1);
	thread_exit(wstatus);
}

NORETURN void proc_exit(int code)
{
	group_exit((code & 0xff) << 8, 0);
}

NORETURN void proc_thread_exit(int code)
{
	if (current->leader->group_exit)
		thread_exit(0);
	thread_exit((code & 0xff) << 8);
}

NORETURN void proc_kill(int sig, uint64_t addr)
{
	group_exit(sig & 0x7f, addr);
}

/*
 * execve in a process with several threads: the others end first, and an
 * exec'ing thread that is not the leader takes the process's pid (and the
 * leader's slot goes), as on Linux.
 */
int proc_exec_take_over(void)
{
	struct proc *p = current, *l = p->leader;
	if (l->nthreads == 1 && p == l)
		return 0;
	if (l->group_exit)
		return -EINTR; /* exit_group or another execve got there first: this thread dies too */
	proc_group_kill(2);
	while (l->nthreads > 1 && !p->killed)
		sched_block(&l->nthreads, 0);
	if (p->killed)
		return -EINTR;
	l->group_exit = 0;
	if (p == l)
		return 0;
	reap_dead_threads();
	if (l->alarm)
		ktimer_cancel(l->alarm); /* not carried over to the new leader: see docs/architecture.md */
	l->alarm = NULL;
	p->pid = l->tgid;
	p->leader = p;
	p->nthreads = 1;
	p->res = l->res;
	p->ppid = l->ppid;
	p->pgid = l->pgid;
	p->sid = l->sid;
	p->wait_report = 0;
	p->sig_wakeups = l->sig_wakeups;
	p->shared_pending = l->shared_pending;
	memcpy(p->shared_info, l->shared_info, sizeof(p->shared_info));
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state != P_FREE && procs[i].leader == l)
			procs[i].leader = p;
	kstack_cache[nkstack_cache++] = l->kstack;
	l->state = P_FREE;
	return 0;
}

#define WSTOPPED   2
#define WEXITED    4
#define WCONTINUED 8
#define WNOWAIT    0x01000000
#define WALL_FLAGS 0xe0000000u /* __WNOTHREAD, __WALL, __WCLONE: one kind of child here */

/* What c has to report to a waiter with these options; 0 if nothing. */
static int wait_collect(struct proc *c, uint64_t options, struct wait_result *res)
{
	if (c->state == P_ZOMBIE && c->nthreads == 0 && (options & WEXITED)) {
		int st = c->exit_status;
		*res = (struct wait_result){ c->pid, st, (st & 0x7f) ? CLD_KILLED : CLD_EXITED,
					     (st & 0x7f) ? (st & 0x7f) : (st >> 8) & 0xff };
		if (!(options & WNOWAIT)) {
			res_free(c);
			kstack_cache[nkstack_cache++] = c->kstack;
			c->state = P_FREE;
		}
		return 1;
	}
	int rep = c->wait_report;
	if ((rep == 0xffff && (options & WCONTINUED)) || (rep && rep != 0xffff && (options & WSTOPPED))) {
		*res = (struct wait_result){ c->pid, rep, rep == 0xffff ? CLD_CONTINUED : CLD_STOPPED,
					     rep == 0xffff ? SIGCONT : rep >> 8 };
		if (!(options & WNOWAIT))
			c->wait_report = 0;
		return 1;
	}
	return 0;
}

/*
 * wait4 and waitid: a child of the caller that matches (idtype, id) and has
 * something the options ask for. Blocks unless WNOHANG; res->pid 0 then.
 */
long proc_wait(int idtype, int id, uint64_t options, struct wait_result *res)
{
	if (options & ~(uint64_t)(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | WALL_FLAGS))
		return -EINVAL;
	if (!(options & (WSTOPPED | WEXITED | WCONTINUED)))
		return -EINVAL;
	*res = (struct wait_result){ 0, 0, 0, 0 };
	for (;;) {
		int have = 0;
		for (int i = 0; i < NPROC; i++) {
			struct proc *c = &procs[i];
			if (c->state == P_FREE || c->ppid != current->tgid || c->pid != c->tgid || c->tgid == current->tgid)
				continue;
			if (idtype == WAIT_P_PID && c->pid != id)
				continue;
			if (idtype == WAIT_P_PGID && c->pgid != id)
				continue;
			have = 1;
			if (wait_collect(c, options, res))
				return res->pid;
		}
		if (!have)
			return -ECHILD;
		if (options & WNOHANG)
			return 0;
		sched_sleep(current->leader);
		if (signal_pending())
			return -EINTR;
	}
}

/* pid > 0: that process; pid < -1: every process of group -pid. */
int proc_signal(int pid, int sig)
{
	int found = 0;
	struct ksiginfo si = { SI_USER, current->tgid, 0, 0 };
	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];
		if (p->state == P_FREE || p->state == P_DEAD || p->leader->nthreads == 0)
			continue;
		/* kill with a thread's id reaches its process too, as on Linux */
		if (pid > 0 ? p->pid != pid : (p->pid != p->tgid || p->pgid != -pid))
			continue;
		found = 1;
		if (sig)
			signal_post_process(p, sig, &si);
	}
	return found ? 0 : -ESRCH;
}

/* tgkill and tkill: a signal for one thread. */
int proc_tkill(int tgid, int tid, int sig)
{
	if (tid <= 0 || tgid < 0 || sig < 0 || sig > NSIG)
		return -EINVAL;
	struct proc *t = proc_find(tid);
	if (!t || (t->state != P_RUNNABLE && t->state != P_BLOCKED) || (tgid && t->tgid != tgid))
		return -ESRCH;
	struct ksiginfo si = { -6 /* SI_TKILL */, current->tgid, 0, 0 };
	if (sig)
		signal_post(t, sig, &si);
	return 0;
}

struct proc *proc_find(int pid)
{
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state != P_FREE && procs[i].state != P_DEAD && procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

/* The live threads of p's process: t runs, blocks or stops, and has not exited. */
static int live_sibling(const struct proc *t, const struct proc *p)
{
	return t->tgid == p->tgid && (t->state == P_RUNNABLE || t->state == P_BLOCKED);
}

/*
 * A stop signal's default action (Linux's group stop): every thread of p's
 * process stops at its next return to user mode, a blocked one after its
 * call is interrupted (it starts again after SIGCONT). The parent hears of
 * the stop once, when the last thread has stopped (group_stop_check).
 */
void proc_group_stop(struct proc *p, int sig)
{
	struct proc *l = p->leader;
	if (l->group_exit)
		return; /* dying already */
	l->group_stop = sig;
	for (int i = 0; i < NPROC; i++) {
		struct proc *t = &procs[i];
		if (!live_sibling(t, p))
			continue;
		t->sigpending &= ~(1ull << (SIGCONT - 1));
		if (!t->stopped)
			t->stop_sig = sig;
		if (t->state == P_BLOCKED)
			t->state = P_RUNNABLE; /* an uninterruptible wait goes back to sleep; a stop waits for SIGCONT */
	}
	l->shared_pending &= ~(1ull << (SIGCONT - 1));
	sched_update_tick();
}

/* After a thread of l's process stopped or exited: if every live one has stopped, the group stop is complete. */
static void group_stop_check(struct proc *l)
{
	if (!l->group_stop || l->group_stopped || l->group_exit)
		return;
	for (int i = 0; i < NPROC; i++) {
		struct proc *t = &procs[i];
		if (live_sibling(t, l) && !t->stopped)
			return;
	}
	l->group_stopped = 1;
	l->wait_report = (l->group_stop << 8) | 0x7f;
	proc_notify_parent(l, CLD_STOPPED, l->group_stop);
}

/*
 * SIGCONT: p's process cancels its group stop and its pending stop signals,
 * and every stopped thread runs again. The parent hears of the continue if
 * the process had stopped (a stop still in progress is cancelled silently).
 */
void proc_continue(struct proc *p)
{
	struct proc *l = p->leader;
	uint64_t stops = (1ull << (SIGSTOP - 1)) | (1ull << (SIGTSTP - 1)) | (1ull << (SIGTTIN - 1)) | (1ull << (SIGTTOU - 1));
	for (int i = 0; i < NPROC; i++) {
		struct proc *t = &procs[i];
		if (!live_sibling(t, p))
			continue;
		t->sigpending &= ~stops;
		t->stop_sig = 0;
		if (t->stopped) {
			t->stopped = 0;
			sched_wakeup(&t->stopped);
		}
	}
	l->shared_pending &= ~stops;
	int was_stopped = l->group_stopped;
	l->group_stop = 0;
	l->group_stopped = 0;
	if (was_stopped) {
		l->wait_report = 0xffff;
		proc_notify_parent(l, CLD_CONTINUED, SIGCONT);
	}
}

/*
 * Before a return to user mode: a fatal signal ends the process here, and a
 * stop signal stops the thread, as its part of a group stop, until SIGCONT
 * or SIGKILL. Returns 1 if it stopped, so that a system call the stop
 * interrupted can start again.
 */
int proc_check_killed(void)
{
	struct proc *p = current;
	if (p->killed)
		proc_kill(p->killed, 0);
	if (!p->stop_sig)
		return 0;
	p->stop_sig = 0;
	p->stopped = 1;
	group_stop_check(p->leader);
	while (p->stopped && !p->killed)
		sched_block(&p->stopped, 0);
	if (p->killed)
		proc_kill(p->killed, 0);
	return 1;
}

/* rt_sigsuspend and pause: wait, with mask in force, until a signal is to be acted on. */
long proc_sigsuspend(uint64_t mask)
{
	struct proc *p = current;
	p->saved_mask = p->sigmask;
	p->sigmask = mask & ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
	p->restore_mask = 1;
	/* A SIGCHLD with no handler still ends the wait: shells without job control rely on it. */
	struct proc *l = p->leader;   /* children's news is counted for the process */
	int wakeups = l->sig_wakeups;
	while (!signal_pending() && l->sig_wakeups == wakeups)
		sched_sleep(&l->sig_wakeups);
	if (!signal_ready(p)) {
		p->sigmask = p->saved_mask;
		p->restore_mask = 0;
	}
	return -EINTR;
}
