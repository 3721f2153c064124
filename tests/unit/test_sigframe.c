/* test_sigframe.c: the rt_sigframe of guest/kernel/proc/signal.c read back at the Linux x86-64 offsets a libc relies on, and rt_sigreturn. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "guest/arch/cpu.h"
#include "guest/kernel/proc/proc.h"
#include "tests/unit/kshim.h"

/* Linux's sigaction flags (asm-generic/signal.h, x86). */
#define SA_SIGINFO   0x00000004u
#define SA_RESTORER  0x04000000u
#define SA_ONSTACK   0x08000000u
#define SA_RESTART   0x10000000u
#define SA_NODEFER   0x40000000u
#define SA_RESETHAND 0x80000000u
#define SIGUSR2      12

/* Linux x86-64 offsets: siginfo_t, ucontext_t (uc_stack at 16, uc_mcontext at 40, uc_sigmask at 296). */
#define SI_SIGNO   0
#define SI_ERRNO   4
#define SI_CODE    8
#define SI_ADDR    16
#define SI_PID     16
#define SI_UID     20
#define SI_STATUS  24
#define UC_SS_SP     16
#define UC_SS_FLAGS  24
#define UC_SS_SIZE   32
#define UC_MCONTEXT  40
#define UC_SIGMASK   (40 + 256)
/* struct sigcontext: gregs in this order, then cs gs fs ss (16-bit), err, trapno, oldmask, cr2, fpstate. */
enum { R8, R9, R10, R11, R12, R13, R14, R15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP, RIP, EFL };
#define MC(i)        (UC_MCONTEXT + 8 * (i))
#define MC_CS        (UC_MCONTEXT + 144)
#define MC_SS        (UC_MCONTEXT + 150)
#define MC_ERR       (UC_MCONTEXT + 152)
#define MC_TRAPNO    (UC_MCONTEXT + 160)
#define MC_OLDMASK   (UC_MCONTEXT + 168)
#define MC_CR2       (UC_MCONTEXT + 176)
#define MC_FPSTATE   (UC_MCONTEXT + 184)
#define FRAME_BYTES  (8 + 304 + 128)        /* pretcode, ucontext, siginfo */

#define HANDLER   0x0000000000401234ull
#define RESTORER  0x0000000000402000ull
#define FAULTADDR 0x00000000dead0000ull

/* The user stack: [UBASE, UBASE + USIZE) is mapped, nothing else is. */
#define UBASE 0x00007ffff0000000ull
#define USIZE (64u << 10)
static uint8_t umem[USIZE] __attribute__((aligned(4096)));

static int in_user(uint64_t ua, uint64_t n)
{
	return ua >= UBASE && n <= USIZE && ua - UBASE <= USIZE - n;
}

int copy_to_user(uint64_t udst, const void *src, uint64_t len)
{
	if (!in_user(udst, len))
		return -EFAULT;
	memcpy(umem + (udst - UBASE), src, len);
	return 0;
}

int copy_from_user(void *dst, uint64_t usrc, uint64_t len)
{
	if (!in_user(usrc, len))
		return -EFAULT;
	memcpy(dst, umem + (usrc - UBASE), len);
	return 0;
}

static uint64_t rd(uint64_t ua, unsigned n)
{
	assert_true(in_user(ua, n));
	uint64_t v = 0;
	memcpy(&v, umem + (ua - UBASE), n);
	return v;
}

static void wr64(uint64_t ua, uint64_t v)
{
	assert_true(in_user(ua, 8));
	memcpy(umem + (ua - UBASE), &v, 8);
}

static uint64_t bit(int sig) { return 1ull << (sig - 1); }

static struct proc proc;
static struct k_sigaction handlers[NSIG];   /* the process's handlers (struct proc points to them) */
static struct uregs orig;

/* Every register a distinct value; the stack pointer deliberately misaligned. */
static void fill_regs(struct uregs *r, uint64_t rsp)
{
	uint64_t *w = (uint64_t *)r;
	for (unsigned i = 0; i < sizeof(*r) / 8; i++)
		w[i] = 0x1000000000000000ull * (i % 7 + 1) + 0x1111ull * (i + 1);
	r->rip = 0x0000000000400abcull;
	r->rsp = rsp;
	r->rflags = 0x246 | 0x100 | 0x400;   /* IF ZF PF, TF and DF */
	r->cs = LBVM_SEL_UCS;
	r->ss = LBVM_SEL_UDS;
	r->vec = 14;
	r->err = 6;
}

static void set_action(int sig, uint64_t flags, uint64_t mask)
{
	proc.sigact[sig - 1] = (struct k_sigaction){ HANDLER, flags, RESTORER, mask };
}

static int setup(void **state)
{
	memset(&proc, 0, sizeof(proc));
	memset(handlers, 0, sizeof(handlers));
	proc.sigact = handlers;
	proc.leader = &proc;
	proc.nthreads = 1;
	memset(umem, 0xee, sizeof(umem));
	proc.state = P_RUNNABLE;
	proc.sigmask = bit(SIGUSR2) | bit(SIGALRM);
	current = &proc;
	return 0;
}

/* A SIGSEGV for a fault, delivered and checked field by field; returns the frame's stack pointer. */
static uint64_t deliver_segv(struct uregs *r, uint64_t flags)
{
	set_action(SIGSEGV, flags, bit(SIGTERM));
	struct ksiginfo si = { SEGV_MAPERR, 0, 0, FAULTADDR };
	signal_post(&proc, SIGSEGV, &si);
	assert_true(proc.sigpending & bit(SIGSEGV));
	fill_regs(r, UBASE + USIZE - 0x200 - 3);
	orig = *r;
	assert_int_equal(signal_deliver(r), 1);
	return r->rsp;
}

static void test_deliver_layout(void **state)
{
	struct uregs r;
	uint32_t mxcsr = __builtin_ia32_stmxcsr();
	uint64_t sp = deliver_segv(&r, SA_SIGINFO | SA_RESTORER);

	/* Entry to the handler: handler(signo, &info, &uc) with the restorer as return address. */
	assert_int_equal(r.rip, HANDLER);
	assert_int_equal(r.rdi, SIGSEGV);
	assert_int_equal(r.rax, 0);
	assert_int_equal((sp + 8) % 16, 0);
	assert_int_equal(rd(sp, 8), RESTORER);
	assert_true(sp + FRAME_BYTES <= orig.rsp - 128);        /* below the red zone */
	assert_false(r.rflags & 0x100);                          /* TF */
	assert_false(r.rflags & 0x400);                          /* DF */
	assert_int_equal(proc.sigpending & bit(SIGSEGV), 0);

	uint64_t info = r.rsi, uc = r.rdx;
	assert_true(info >= sp + 8 && info + 128 <= orig.rsp - 128);
	assert_true(uc >= sp + 8 && uc + 304 <= orig.rsp - 128);
	assert_true(info >= uc + 304 || uc >= info + 128);       /* no overlap */
	assert_int_equal(rd(info + SI_SIGNO, 4), SIGSEGV);
	assert_int_equal(rd(info + SI_ERRNO, 4), 0);
	assert_int_equal(rd(info + SI_CODE, 4), SEGV_MAPERR);
	assert_int_equal(rd(info + SI_ADDR, 8), FAULTADDR);

	/* The interrupted registers in sigcontext order. */
	const uint64_t want[] = { orig.r8, orig.r9, orig.r10, orig.r11, orig.r12, orig.r13, orig.r14, orig.r15,
				  orig.rdi, orig.rsi, orig.rbp, orig.rbx, orig.rdx, orig.rax, orig.rcx, orig.rsp,
				  orig.rip, orig.rflags };
	for (int i = R8; i <= EFL; i++)
		assert_int_equal(rd(uc + MC(i), 8), want[i]);
	assert_int_equal(rd(uc + MC_CS, 2), LBVM_SEL_UCS);
	assert_int_equal(rd(uc + MC_SS, 2), LBVM_SEL_UDS);
	assert_int_equal(rd(uc + MC_ERR, 8), 6);
	assert_int_equal(rd(uc + MC_TRAPNO, 8), 14);
	assert_int_equal(rd(uc + MC_CR2, 8), FAULTADDR);
	uint64_t oldmask = bit(SIGUSR2) | bit(SIGALRM);
	assert_int_equal(rd(uc + MC_OLDMASK, 8), oldmask);
	assert_int_equal(rd(uc + UC_SIGMASK, 8), oldmask);
	assert_int_equal(rd(uc + UC_SS_FLAGS, 4), 2);              /* SS_DISABLE: no alternate stack */

	/* The FP state: an fxsave image, 64-byte aligned, inside the frame region and clear of the rest. */
	uint64_t fp = rd(uc + MC_FPSTATE, 8);
	assert_int_equal(fp % 64, 0);
	assert_true(fp >= sp + FRAME_BYTES);
	assert_true(fp + 512 <= orig.rsp - 128);
	assert_int_equal(rd(fp + 24, 4), mxcsr);

	/* In the handler: its mask added, and the signal itself. */
	assert_int_equal(proc.sigmask, oldmask | bit(SIGTERM) | bit(SIGSEGV));
	assert_int_equal(proc.sigact[SIGSEGV - 1].handler, HANDLER);
}

/* rt_sigreturn after the handler's ret: every register and the mask come back; cs and ss are forced. */
static void test_return_restores(void **state)
{
	struct uregs r;
	uint64_t sp = deliver_segv(&r, SA_SIGINFO | SA_RESTORER);
	struct uregs back;
	memset(&back, 0x5c, sizeof(back));
	back.rsp = sp + 8;                       /* the handler's ret popped the restorer */
	back.cs = 0x08;
	back.ss = 0x10;
	proc.sigmask = ~0ull;
	long ret = signal_return(&back);
	assert_int_equal(ret, (long)orig.rax);
	assert_int_equal(back.r8, orig.r8);
	assert_int_equal(back.r9, orig.r9);
	assert_int_equal(back.r10, orig.r10);
	assert_int_equal(back.r11, orig.r11);
	assert_int_equal(back.r12, orig.r12);
	assert_int_equal(back.r13, orig.r13);
	assert_int_equal(back.r14, orig.r14);
	assert_int_equal(back.r15, orig.r15);
	assert_int_equal(back.rdi, orig.rdi);
	assert_int_equal(back.rsi, orig.rsi);
	assert_int_equal(back.rbp, orig.rbp);
	assert_int_equal(back.rbx, orig.rbx);
	assert_int_equal(back.rdx, orig.rdx);
	assert_int_equal(back.rax, orig.rax);
	assert_int_equal(back.rcx, orig.rcx);
	assert_int_equal(back.rsp, orig.rsp);
	assert_int_equal(back.rip, orig.rip);
	assert_int_equal(back.rflags, orig.rflags);   /* IF ZF PF TF DF all allowed */
	assert_int_equal(back.cs, LBVM_SEL_UCS);
	assert_int_equal(back.ss, LBVM_SEL_UDS);
	assert_int_equal(proc.sigmask, bit(SIGUSR2) | bit(SIGALRM));
}

/* What the handler may have scribbled into the frame is checked: flags, selectors, mask, MXCSR. */
static void test_return_sanitizes(void **state)
{
	struct uregs r;
	uint64_t sp = deliver_segv(&r, SA_SIGINFO | SA_RESTORER);
	uint64_t uc = r.rdx;
	uint32_t mxcsr = __builtin_ia32_stmxcsr();
	wr64(uc + MC(EFL), 0xffffffffull);
	wr64(uc + MC_CS, 0x0010000000000008ull);   /* kernel selectors in cs and ss */
	wr64(uc + UC_SIGMASK, ~0ull);
	uint64_t fp = rd(uc + MC_FPSTATE, 8);
	wr64(fp + 24, rd(fp + 28, 4) << 32 | 0xffff1f80u);   /* MXCSR reserved bits: fxrstor would fault */
	struct uregs back;
	memset(&back, 0, sizeof(back));
	back.rsp = sp + 8;
	signal_return(&back);
	__builtin_ia32_ldmxcsr(mxcsr);
	assert_true(back.rflags & 0x200);           /* IF */
	assert_int_equal(back.rflags & 0x3000, 0);  /* IOPL 0 */
	assert_int_equal(back.rflags & 0x20000, 0); /* VM */
	assert_int_equal(back.rflags & 0x180000, 0);/* VIF VIP */
	assert_int_equal(back.rflags & 0x4000, 0);  /* NT */
	assert_true(back.rflags & 0x2);             /* the always-one bit */
	assert_true(back.rflags & 0x1);             /* CF is the program's */
	assert_int_equal(back.cs, LBVM_SEL_UCS);
	assert_int_equal(back.ss, LBVM_SEL_UDS);
	assert_int_equal(proc.sigmask, ~0ull & ~(bit(SIGKILL) | bit(SIGSTOP)));
}

/* A syscall interrupted with -EINTR and SA_RESTART runs again: rip back over the 2-byte syscall, rax its number. */
static void test_restart(void **state)
{
	struct uregs r;
	set_action(SIGTERM, SA_SIGINFO | SA_RESTORER | SA_RESTART, 0);
	struct ksiginfo si = { SI_USER, 77, 0, 0 };
	signal_post(&proc, SIGTERM, &si);
	fill_regs(&r, UBASE + USIZE - 0x100);
	r.vec = 61;                               /* wait4 */
	r.err = UREGS_ERR_SYSCALL;
	r.rax = (uint64_t)-EINTR;
	orig = r;
	assert_int_equal(signal_deliver(&r), 1);
	uint64_t uc = r.rdx;
	assert_int_equal(rd(uc + MC(RIP), 8), orig.rip - 2);
	assert_int_equal(rd(uc + MC(RAX), 8), 61);
	assert_int_equal(rd(r.rsi + SI_SIGNO, 4), SIGTERM);
	assert_int_equal(rd(r.rsi + SI_CODE, 4), SI_USER);
	assert_int_equal(rd(r.rsi + SI_PID, 4), 77);
	struct uregs back;
	memset(&back, 0, sizeof(back));
	back.rsp = r.rsp + 8;
	assert_int_equal(signal_return(&back), 61);
	assert_int_equal(back.rip, orig.rip - 2);
	assert_int_equal(back.rax, 61);
}

/* An exception frame is never taken for an interrupted syscall, whatever rax holds. */
static void test_fault_not_restarted(void **state)
{
	struct uregs r;
	set_action(SIGTERM, SA_SIGINFO | SA_RESTORER | SA_RESTART, 0);
	struct ksiginfo si = { SI_USER, 77, 0, 0 };
	signal_post(&proc, SIGTERM, &si);
	fill_regs(&r, UBASE + USIZE - 0x100);     /* vec 14, err 6: a page fault */
	r.rax = (uint64_t)-EINTR;
	orig = r;
	assert_int_equal(signal_deliver(&r), 1);
	assert_int_equal(rd(r.rdx + MC(RIP), 8), orig.rip);
	assert_int_equal(rd(r.rdx + MC(RAX), 8), (uint64_t)-EINTR);
}

/* Without SA_RESTART, or for sigsuspend and pause, the call returns -EINTR where it was. */
static void test_no_restart(void **state)
{
	static const struct { uint64_t flags, vec; } cases[] = {
		{ SA_RESTORER, 61 }, { SA_RESTORER | SA_RESTART, 130 }, { SA_RESTORER | SA_RESTART, 34 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct uregs r;
		set_action(SIGTERM, cases[i].flags, 0);
		struct ksiginfo si = { SI_USER, 1, 0, 0 };
		signal_post(&proc, SIGTERM, &si);
		fill_regs(&r, UBASE + USIZE - 0x100);
		r.vec = cases[i].vec;
		r.err = UREGS_ERR_SYSCALL;
		r.rax = (uint64_t)-EINTR;
		orig = r;
		proc.sigmask = 0;
		assert_int_equal(signal_deliver(&r), 1);
		assert_int_equal(rd(r.rdx + MC(RIP), 8), orig.rip);
		assert_int_equal(rd(r.rdx + MC(RAX), 8), (uint64_t)-EINTR);
	}
}

/* A socket call on a socket with a timeout is not restarted, SA_RESTART or not (signal(7)); on another fd it is. */
static void test_socket_timeout_not_restarted(void **state)
{
	for (int fd = 3; fd <= 4; fd++) {
		struct uregs r;
		set_action(SIGTERM, SA_RESTORER | SA_RESTART, 0);
		struct ksiginfo si = { SI_USER, 1, 0, 0 };
		signal_post(&proc, SIGTERM, &si);
		fill_regs(&r, UBASE + USIZE - 0x100);
		r.vec = 45;                               /* recvfrom */
		r.rdi = (uint64_t)fd;
		r.err = UREGS_ERR_SYSCALL;
		r.rax = (uint64_t)-EINTR;
		orig = r;
		proc.sigmask = 0;
		kshim_sock_timeo_fd = 4;
		assert_int_equal(signal_deliver(&r), 1);
		kshim_sock_timeo_fd = -1;
		assert_int_equal(rd(r.rdx + MC(RIP), 8), fd == 4 ? orig.rip : orig.rip - 2);
		assert_int_equal(rd(r.rdx + MC(RAX), 8), fd == 4 ? (uint64_t)-EINTR : 45);
	}
}

/* SIGCHLD's siginfo: code, pid and status where waitid-style handlers read them. */
static void test_sigchld_info(void **state)
{
	struct uregs r;
	set_action(SIGCHLD, SA_SIGINFO | SA_RESTORER, 0);
	struct ksiginfo si = { CLD_EXITED, 42, 3, 0 };
	signal_post(&proc, SIGCHLD, &si);
	fill_regs(&r, UBASE + USIZE - 0x100);
	r.vec = 0x100;
	assert_int_equal(signal_deliver(&r), 1);
	assert_int_equal(rd(r.rsi + SI_SIGNO, 4), SIGCHLD);
	assert_int_equal(rd(r.rsi + SI_CODE, 4), CLD_EXITED);
	assert_int_equal(rd(r.rsi + SI_PID, 4), 42);
	assert_int_equal(rd(r.rsi + SI_UID, 4), 0);
	assert_int_equal(rd(r.rsi + SI_STATUS, 4), 3);
}

/* Stop signals: SIGSTOP always stops (except init); SIGTSTP stops by default, runs a handler if there is one;
 * SIGCONT resumes and cancels pending stops, and a stop cancels a pending SIGCONT. */
static void test_stop_continue(void **state)
{
	struct ksiginfo si = { SI_USER, 1, 0, 0 };
	proc.pid = 2;
	signal_post(&proc, SIGSTOP, &si);
	assert_int_equal(proc.stop_sig, SIGSTOP);
	assert_int_equal(proc.killed, 0);
	assert_true(signal_pending());             /* a blocking call returns, so the stop can happen */
	signal_post(&proc, SIGCONT, &si);          /* before the stop took effect: cancelled */
	assert_int_equal(proc.stop_sig, 0);
	assert_int_equal(kshim_continues, 0);

	proc.stopped = 1;                          /* stopped: SIGCONT resumes it even when ignored */
	set_action(SIGCONT, 0, 0);
	proc.sigact[SIGCONT - 1].handler = SIG_IGN;
	signal_post(&proc, SIGCONT, &si);
	assert_int_equal(kshim_continues, 1);
	assert_int_equal(proc.stopped, 0);

	set_action(SIGCONT, SA_RESTORER, 0);       /* with a handler: pending, then cancelled by a stop */
	signal_post(&proc, SIGCONT, &si);
	assert_true(proc.sigpending & bit(SIGCONT));
	signal_post(&proc, SIGTSTP, &si);          /* default action of SIGTSTP: stop */
	assert_int_equal(proc.stop_sig, SIGTSTP);
	assert_false(proc.sigpending & bit(SIGCONT));

	proc.stop_sig = 0;
	set_action(SIGTSTP, SA_RESTORER, 0);       /* a handler: no stop, the handler runs */
	signal_post(&proc, SIGTSTP, &si);
	assert_int_equal(proc.stop_sig, 0);
	assert_true(proc.sigpending & bit(SIGTSTP));
	signal_post(&proc, SIGCONT, &si);          /* SIGCONT drops pending stop signals */
	assert_false(proc.sigpending & bit(SIGTSTP));

	proc.sigact[SIGTTIN - 1].handler = SIG_IGN; /* ignored: nothing */
	signal_post(&proc, SIGTTIN, &si);
	assert_int_equal(proc.stop_sig, 0);

	proc.pid = proc.tgid = 1;                  /* the VM's init is not stopped */
	signal_post(&proc, SIGSTOP, &si);
	assert_int_equal(proc.stop_sig, 0);
	assert_int_equal(proc.killed, 0);
	proc.stopped = 1;                          /* SIGKILL ends a stopped process */
	signal_post(&proc, SIGKILL, &si);
	assert_int_equal(proc.killed, SIGKILL);
	assert_int_equal(kshim_continues, 1);
}

/* Mask handling: sigsuspend's saved mask is what the frame records; SA_NODEFER, SA_RESETHAND; KILL/STOP never blocked. */
static void test_masks(void **state)
{
	struct uregs r;
	set_action(SIGTERM, SA_RESTORER | SA_NODEFER | SA_RESETHAND, ~0ull);
	struct ksiginfo si = { SI_USER, 1, 0, 0 };
	signal_post(&proc, SIGTERM, &si);
	proc.saved_mask = bit(SIGUSR2);
	proc.restore_mask = 1;
	proc.sigmask = bit(SIGHUP);               /* sigsuspend's temporary mask */
	fill_regs(&r, UBASE + USIZE - 0x100);
	assert_int_equal(signal_deliver(&r), 1);
	assert_int_equal(rd(r.rdx + UC_SIGMASK, 8), bit(SIGUSR2));
	assert_int_equal(proc.restore_mask, 0);
	assert_int_equal(proc.sigmask, ~0ull & ~(bit(SIGKILL) | bit(SIGSTOP)));
	assert_int_equal(proc.sigact[SIGTERM - 1].handler, 0);      /* reset to SIG_DFL */

	set_action(SIGTERM, SA_RESTORER | SA_NODEFER, 0);
	proc.sigmask = 0;
	signal_post(&proc, SIGTERM, &si);
	assert_int_equal(signal_deliver(&r), 1);
	assert_int_equal(proc.sigmask & bit(SIGTERM), 0);

	/* Blocked: stays pending, nothing delivered. */
	proc.sigmask = bit(SIGTERM);
	signal_post(&proc, SIGTERM, &si);
	assert_int_equal(signal_deliver(&r), 0);
	assert_true(proc.sigpending & bit(SIGTERM));
}

/* SA_ONSTACK: the frame goes on the alternate stack, which the ucontext describes; nested, below the current rsp. */
static void test_altstack(void **state)
{
	struct uregs r;
	uint64_t alt = UBASE + 0x1000, altsize = 0x4000;
	proc.ss_sp = alt;
	proc.ss_size = altsize;
	set_action(SIGTERM, SA_RESTORER | SA_ONSTACK, 0);
	struct ksiginfo si = { SI_USER, 1, 0, 0 };
	signal_post(&proc, SIGTERM, &si);
	fill_regs(&r, UBASE + USIZE - 0x100);
	assert_int_equal(signal_deliver(&r), 1);
	assert_true(r.rsp >= alt && r.rsp + FRAME_BYTES + 512 <= alt + altsize);
	assert_int_equal((r.rsp + 8) % 16, 0);
	assert_int_equal(rd(r.rdx + UC_SS_SP, 8), alt);
	assert_int_equal(rd(r.rdx + UC_SS_SIZE, 8), altsize);
	assert_int_equal(rd(r.rdx + UC_SS_FLAGS, 4), 0);

	uint64_t inner = alt + 0x3000 + 5;         /* already on it: no switch back to the top */
	proc.sigmask = 0;
	signal_post(&proc, SIGTERM, &si);
	fill_regs(&r, inner);
	assert_int_equal(signal_deliver(&r), 1);
	assert_true(r.rsp + FRAME_BYTES + 512 <= inner - 128);
	assert_true(r.rsp >= alt);
}

/* A frame that cannot be written kills the process with SIGSEGV; so do a missing restorer and a bad sigreturn frame. */
static void test_unwritable_frame_kills(void **state)
{
	struct uregs r;
	set_action(SIGSEGV, SA_SIGINFO | SA_RESTORER, 0);
	struct ksiginfo si = { SEGV_MAPERR, 0, 0, FAULTADDR };
	signal_post(&proc, SIGSEGV, &si);
	fill_regs(&r, 0x0000000000100000ull);    /* the stack is not mapped */
	KSHIM_EXPECT_KILL(signal_deliver(&r));
	assert_int_equal(kshim_killed_sig, SIGSEGV);
	assert_true(kshim_killed_addr != 0 && kshim_killed_addr < 0x100000);

	/* The altstack past the end of mapped memory: same. */
	proc.ss_sp = UBASE + USIZE;
	proc.ss_size = 0x4000;
	set_action(SIGTERM, SA_RESTORER | SA_ONSTACK, 0);
	signal_post(&proc, SIGTERM, &si);
	fill_regs(&r, UBASE + USIZE - 0x100);
	KSHIM_EXPECT_KILL(signal_deliver(&r));
	assert_int_equal(kshim_killed_sig, SIGSEGV);

	set_action(SIGTERM, 0, 0);                /* a handler without a restorer: no way back */
	proc.ss_size = 0;
	proc.sigmask = 0;
	signal_post(&proc, SIGTERM, &si);
	fill_regs(&r, UBASE + USIZE - 0x100);
	KSHIM_EXPECT_KILL(signal_deliver(&r));
	assert_int_equal(kshim_killed_sig, SIGSEGV);

	struct uregs back;
	memset(&back, 0, sizeof(back));
	back.rsp = UBASE + 4;                     /* the frame would start below the mapped stack */
	KSHIM_EXPECT_KILL(signal_return(&back));
	assert_int_equal(kshim_killed_sig, SIGSEGV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_deliver_layout, setup),
		cmocka_unit_test_setup(test_return_restores, setup),
		cmocka_unit_test_setup(test_return_sanitizes, setup),
		cmocka_unit_test_setup(test_fault_not_restarted, setup),
		cmocka_unit_test_setup(test_restart, setup),
		cmocka_unit_test_setup(test_no_restart, setup),
		cmocka_unit_test_setup(test_socket_timeout_not_restarted, setup),
		cmocka_unit_test_setup(test_sigchld_info, setup),
		cmocka_unit_test_setup(test_masks, setup),
		cmocka_unit_test_setup(test_stop_continue, setup),
		cmocka_unit_test_setup(test_altstack, setup),
		cmocka_unit_test_setup(test_unwritable_frame_kills, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
