/* signal.c: signal delivery to user handlers: the x86-64 Linux rt_sigframe, rt_sigreturn, and default actions. */
#include "arch/cpu.h"
#include "kernel/net/net.h"
#include "proc.h"
#include "signal.h"

#define SA_RESTORER 0x04000000
#define SA_ONSTACK  0x08000000
#define SA_RESTART  0x10000000
#define SA_NODEFER  0x40000000
#define SA_RESETHAND 0x80000000u
#define SS_ONSTACK 1
#define ERESTARTSYS_NR 512

static uint64_t bit(int sig)
{
	return 1ull << (sig - 1);
}

/* Signals whose default action is to do nothing. */
static int default_ignored(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

/* The signals p could take now: its own pending ones and its process's shared ones, less those it blocks. */
uint64_t signal_ready(const struct proc *p)
{
	return (p->sigpending | p->leader->shared_pending) & ~p->sigmask;
}

int signal_pending(void)
{
	return current->killed || current->stop_sig || signal_ready(current) != 0;
}

static int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * Post sig to p. A handler makes it pending (and interrupts a blocking
 * call); no handler means the default action: nothing, the end of p's
 * process, or a stop of its every thread. SIGCONT resumes a stopped process
 * whatever its disposition, and stop and continue signals cancel each
 * other's pending instances, as on Linux.
 */
static void post(struct proc *p, int sig, const struct ksiginfo *info, int shared)
{
	struct proc *l = p->leader;
	uint64_t h = p->sigact[sig - 1].handler;
	if (sig == SIGCONT) {
		proc_continue(p);  /* every thread of the process, and their pending stop signals */
	} else if (is_stop_signal(sig)) {
		p->sigpending &= ~bit(SIGCONT);
		l->shared_pending &= ~bit(SIGCONT);
	}
	if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCONT && (p->sigmask & bit(sig))) {
		/*
		 * Blocked: pending whatever its disposition (it may change before unblocking), as on Linux;
		 * for the process when every thread blocks it, taken by the first thread to unblock it.
		 */
		if (shared) {
			l->shared_pending |= bit(sig);
			l->shared_info[sig - 1] = *info;
		} else {
			p->sigpending |= bit(sig);
			p->siginfo[sig - 1] = *info;
		}
		poll_wake();   /* signalfd readers and pollers */
		return;
	}
	if (sig != SIGKILL && sig != SIGSTOP && (h == SIG_IGN || (h == SIG_DFL && default_ignored(sig))))
		return;
	if (sig == SIGSTOP || (h == SIG_DFL && is_stop_signal(sig))) {
		if (p->tgid == 1)
			return; /* the VM's init, like a pid namespace's, ignores a stop it did not ask for */
		proc_group_stop(p, sig); /* wakes the blocked threads itself */
		return;
	} else if (h == SIG_DFL || sig == SIGKILL) {
		if (!p->killed)
			p->killed = sig;
	} else if (shared) {
		/* every thread blocks it: pending for the process, taken by the first thread to unblock it */
		l->shared_pending |= bit(sig);
		l->shared_info[sig - 1] = *info;
		return;
	} else {
		p->sigpending |= bit(sig);
		p->siginfo[sig - 1] = *info;
	}
	if (p->state == P_BLOCKED) {
		p->state = P_RUNNABLE; /* a stopped process goes back to sleep unless continued or killed */
		sched_update_tick();
	}
}

void signal_post(struct proc *p, int sig, const struct ksiginfo *info)
{
	post(p, sig, info, 0);
}

/*
 * A process-directed signal: to p if it does not block sig, else to another
 * live thread of p's process that does not, else into the process's shared
 * pending set until a thread unblocks it. Default actions (the end of the
 * process) act on the whole process whichever thread receives them.
 */
void signal_post_process(struct proc *p, int sig, const struct ksiginfo *info)
{
	struct proc *any = NULL, *ready = NULL;
	for (int i = 0; i < NPROC; i++) {
		struct proc *t = &procs[i];
		if (t->tgid != p->tgid || (t->state != P_RUNNABLE && t->state != P_BLOCKED))
			continue;
		if (!any || t == p)
			any = t;
		if (!(t->sigmask & bit(sig)) && (!ready || t == p))
			ready = t;
	}
	if (ready)
		post(ready, sig, info, 0);
	else if (any)
		post(any, sig, info, 1);
}

/* Linux's struct sigcontext for x86-64, inside ucontext. */
struct sigcontext_k {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved[8];
};
_Static_assert(sizeof(struct sigcontext_k) == 256, "sigcontext");

struct ucontext_k {
	uint64_t flags;
	uint64_t link;
	uint64_t ss_sp;
	int32_t ss_flags, pad;
	uint64_t ss_size;
	struct sigcontext_k mc;
	uint64_t sigmask;
};
_Static_assert(sizeof(struct ucontext_k) == 304, "ucontext");

struct siginfo_k {
	int32_t signo, errno_, code, pad;
	union {
		struct { int32_t pid; uint32_t uid; int32_t status; } kill;
		uint64_t addr;
		uint8_t bytes[112];
	} u;
};
_Static_assert(sizeof(struct siginfo_k) == 128, "siginfo");

struct rt_sigframe_k {
	uint64_t pretcode;          /* the restorer: the handler returns into rt_sigreturn */
	struct ucontext_k uc;
	struct siginfo_k info;
};

#define FXSAVE_SIZE 512

/* Calls signal(7) says a handler always interrupts with EINTR, SA_RESTART or not. */
static int never_restarted(const struct uregs *r)
{
	uint64_t nr = r->vec;
	if (sock_never_restarted(nr, r->rdi))
		return 1;   /* a socket call with SO_RCVTIMEO or SO_SNDTIMEO set */
	switch (nr) {
	case 130: case 34:            /* rt_sigsuspend, pause */
	case 7: case 23: case 270: case 271:   /* poll, select, pselect6, ppoll */
	case 232: case 281: case 441: /* epoll_wait, epoll_pwait, epoll_pwait2 */
	case 35: case 230:            /* nanosleep, clock_nanosleep */
		return 1;
	default:
		return 0;
	}
}

/* Deliver one pending, unblocked signal to the current process, rewriting r to enter its handler. */
int signal_deliver(struct uregs *r)
{
	struct proc *p = current, *l = p->leader;
	uint64_t ready = p->sigpending & ~p->sigmask;
	int shared = 0;
	if (!ready) {
		ready = l->shared_pending & ~p->sigmask;
		shared = 1;
	}
	if (!ready)
		return 0;
	int sig = 1;
	while (!(ready & bit(sig)))
		sig++;
	if (shared) {
		l->shared_pending &= ~bit(sig);
		p->siginfo[sig - 1] = l->shared_info[sig - 1];
	} else {
		p->sigpending &= ~bit(sig);
	}
	struct k_sigaction *sa = &p->sigact[sig - 1];
	if (sa->handler == SIG_DFL && !default_ignored(sig)) {
		/* Pending while blocked with no handler, now unblocked: the default action. */
		if (is_stop_signal(sig)) {
			if (p->tgid != 1)
				proc_group_stop(p, sig);
			proc_check_killed();
			return 0;
		}
		proc_kill(sig, 0);
	}
	if (sa->handler <= SIG_IGN)
		return 0; /* ignored, or changed to default or ignore while pending and already acted on by post */
	if (!(sa->flags & SA_RESTORER)) {
		proc_kill(SIGSEGV, 0); /* no way back from the handler: Linux faults too */
	}

	/* A blocking call interrupted for this handler starts again afterwards if the handler asks. */
	int in_syscall = r->err == UREGS_ERR_SYSCALL;
	if (in_syscall && (int64_t)r->rax == -EINTR && (sa->flags & SA_RESTART) &&
	    !never_restarted(r)) {
		r->rax = r->vec;
		r->rip -= 2;
	}

	uint64_t sp = r->rsp;
	if ((sa->flags & SA_ONSTACK) && p->ss_size && !(sp > p->ss_sp && sp - p->ss_sp <= p->ss_size))
		sp = p->ss_sp + p->ss_size;
	else
		sp -= 128; /* the red zone */
	sp = ALIGN_DOWN(sp - FXSAVE_SIZE, 64);
	uint64_t fpstate = sp;
	sp = ALIGN_DOWN(sp - sizeof(struct rt_sigframe_k), 16) - 8;

	static uint8_t fx[FXSAVE_SIZE] __attribute__((aligned(64)));
	__asm__ volatile("fxsave64 %0" : "=m"(fx));

	struct rt_sigframe_k f;
	memset(&f, 0, sizeof(f));
	f.pretcode = sa->restorer;
	f.uc.ss_sp = p->ss_sp;
	f.uc.ss_size = p->ss_size;
	f.uc.ss_flags = p->ss_size ? 0 : 2;
	struct sigcontext_k *mc = &f.uc.mc;
	mc->r8 = r->r8; mc->r9 = r->r9; mc->r10 = r->r10; mc->r11 = r->r11;
	mc->r12 = r->r12; mc->r13 = r->r13; mc->r14 = r->r14; mc->r15 = r->r15;
	mc->rdi = r->rdi; mc->rsi = r->rsi; mc->rbp = r->rbp; mc->rbx = r->rbx;
	mc->rdx = r->rdx; mc->rax = r->rax; mc->rcx = r->rcx; mc->rsp = r->rsp;
	mc->rip = r->rip; mc->eflags = r->rflags;
	mc->cs = LBVM_SEL_UCS; mc->ss = LBVM_SEL_UDS;
	mc->err = in_syscall ? 0 : r->err;
	mc->trapno = in_syscall ? 0 : r->vec;
	mc->oldmask = p->restore_mask ? p->saved_mask : p->sigmask;
	mc->cr2 = p->siginfo[sig - 1].addr;
	mc->fpstate = fpstate;
	f.uc.sigmask = mc->oldmask;
	f.info.signo = sig;
	f.info.code = p->siginfo[sig - 1].code;
	if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP)
		f.info.u.addr = p->siginfo[sig - 1].addr;
	else {
		f.info.u.kill.pid = p->siginfo[sig - 1].pid;
		f.info.u.kill.status = p->siginfo[sig - 1].status;
	}
	if (copy_to_user(fpstate, fx, FXSAVE_SIZE) || copy_to_user(sp, &f, sizeof(f)))
		proc_kill(SIGSEGV, sp); /* no room for the frame: Linux kills with SIGSEGV too */

	p->sigmask = (p->restore_mask ? p->saved_mask : p->sigmask) | sa->mask | ((sa->flags & SA_NODEFER) ? 0 : bit(sig));
	p->sigmask &= ~(bit(SIGKILL) | bit(SIGSTOP));
	p->restore_mask = 0;
	if (sa->flags & SA_RESETHAND)
		memset(sa, 0, sizeof(*sa));

	r->rdi = (uint64_t)sig;
	r->rsi = sp + __builtin_offsetof(struct rt_sigframe_k, info);
	r->rdx = sp + __builtin_offsetof(struct rt_sigframe_k, uc);
	r->rax = 0;
	r->rip = sa->handler;
	r->rsp = sp;
	r->rflags &= ~(0x100ull | 0x400ull); /* TF and DF clear in the handler, as Linux does */
	return 1;
}

/* rt_sigreturn: the handler's ret landed in the restorer; the frame is at rsp - 8. Everything from the user is checked. */
long signal_return(struct uregs *r)
{
	struct proc *p = current;
	uint64_t frame = r->rsp - 8;
	struct rt_sigframe_k f;
	if (copy_from_user(&f, frame, sizeof(f)))
		proc_kill(SIGSEGV, frame);
	const struct sigcontext_k *mc = &f.uc.mc;
	if (mc->fpstate) {
		static uint8_t fx[FXSAVE_SIZE] __attribute__((aligned(64)));
		if (copy_from_user(fx, mc->fpstate, FXSAVE_SIZE))
			proc_kill(SIGSEGV, mc->fpstate);
		/* MXCSR with reserved bits set would fault fxrstor in the kernel: clear them. */
		uint32_t mxcsr;
		memcpy(&mxcsr, fx + 24, 4);
		mxcsr &= 0xffff;
		memcpy(fx + 24, &mxcsr, 4);
		__asm__ volatile("fxrstor64 %0" : : "m"(fx));
	}
	r->r8 = mc->r8; r->r9 = mc->r9; r->r10 = mc->r10; r->r11 = mc->r11;
	r->r12 = mc->r12; r->r13 = mc->r13; r->r14 = mc->r14; r->r15 = mc->r15;
	r->rdi = mc->rdi; r->rsi = mc->rsi; r->rbp = mc->rbp; r->rbx = mc->rbx;
	r->rdx = mc->rdx; r->rax = mc->rax; r->rcx = mc->rcx; r->rsp = mc->rsp;
	r->rip = mc->rip;
	/* Only the flags a program may set: CF PF AF ZF SF TF DF OF, AC, ID; IF stays on. */
	r->rflags = (mc->eflags & 0x240dd5ull) | 0x202;
	r->cs = LBVM_SEL_UCS;
	r->ss = LBVM_SEL_UDS;
	p->sigmask = f.uc.sigmask & ~(bit(SIGKILL) | bit(SIGSTOP));
	return (long)r->rax;
}

/* Signalfd's view of the pending set (the thread's and its process's); the layout stays this file's business. */
uint64_t signal_pending_set(void)
{
	return current->sigpending | current->leader->shared_pending;
}

/* Take the lowest pending signal in mask, the thread's own first: its number and what it carries, or 0 if none. */
int signal_dequeue(uint64_t mask, struct ksiginfo *info)
{
	struct proc *p = current, *l = p->leader;
	uint64_t own = p->sigpending & mask, ready = own ? own : l->shared_pending & mask;
	if (!ready)
		return 0;
	int sig = __builtin_ctzll(ready) + 1;
	if (own) {
		p->sigpending &= ~bit(sig);
		*info = p->siginfo[sig - 1];
	} else {
		l->shared_pending &= ~bit(sig);
		*info = l->shared_info[sig - 1];
	}
	return sig;
}

/*
 * A call's temporary signal mask (epoll_pwait, as sigsuspend): in force
 * until signal_mask_pop; if a signal is then to be delivered, the old mask
 * comes back after its handler instead.
 */
void signal_mask_push(uint64_t mask)
{
	struct proc *p = current;
	p->saved_mask = p->sigmask;
	p->sigmask = mask & ~(bit(SIGKILL) | bit(SIGSTOP));
	p->restore_mask = 1;
}

void signal_mask_pop(void)
{
	struct proc *p = current;
	if (!signal_ready(p)) {
		p->sigmask = p->saved_mask;
		p->restore_mask = 0;
	}
}
