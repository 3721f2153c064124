/* cpuprobe.c: what a program must not be able to do to the guest kernel's CPU state, tried one by one under lbvm. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile int last_sig;

static void on_fault(int sig)
{
	last_sig = sig;
	siglongjmp(env, 1);
}

/* Runs f; prints "NAME: fault SIG" or "NAME: allowed". */
static void try(const char *name, void (*f)(void))
{
	last_sig = 0;
	if (!sigsetjmp(env, 1))
		f();
	if (last_sig)
		printf("%s: fault %s\n", name, last_sig == SIGSEGV ? "SIGSEGV" : last_sig == SIGILL ? "SIGILL" : "other");
	else
		printf("%s: allowed\n", name);
}

static void read_kernel_text(void) { (void)*(volatile uint64_t *)0xffffffff80100000ull; }
static void write_direct_map(void) { *(volatile uint64_t *)0xffffff0000001000ull = 0; }
static void read_boot_info(void) { (void)*(volatile uint64_t *)0xffffffff80001000ull; }
static void do_hlt(void) { __asm__ volatile("hlt"); }
static void do_cli(void) { __asm__ volatile("cli; sti"); }
static void do_out(void) { __asm__ volatile("outl %0, $0xe0" : : "a"(0)); }
static void do_rdmsr(void) { uint32_t lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000101)); }
static void do_mov_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); }
static void do_sgdt(void) { struct __attribute__((packed)) { uint16_t l; uint64_t b; } d; __asm__ volatile("sgdt %0" : "=m"(d)); }
static void do_lidt(void) { struct __attribute__((packed)) { uint16_t l; uint64_t b; } d = { 0, 0 }; __asm__ volatile("lidt %0" : : "m"(d)); }

/* popf cannot raise IOPL or clear IF from user mode: read back what it left. */
static void iopl_check(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; orq $0x3000, (%%rsp); andq $~0x200, (%%rsp); popfq; pushfq; popq %0" : "=r"(f));
	printf("popf: IOPL %d, IF %d\n", (int)((f >> 12) & 3), (int)((f >> 9) & 1));
}

/* A signal handler that returns to a non-canonical RIP, or to a kernel CS: the program dies, not the VM. */
static int mode;
static void bad_return(int sig, siginfo_t *si, void *uc_)
{
	(void)sig; (void)si;
	ucontext_t *uc = uc_;
	if (mode == 0)
		uc->uc_mcontext.gregs[REG_RIP] = 0x8000000000001000ull;
	else
		uc->uc_mcontext.gregs[REG_CSGSFS] = (uc->uc_mcontext.gregs[REG_CSGSFS] & ~0xffffull) | 0x10;
}

static void child_bad_return(const char *name, int m)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = bad_return;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGUSR1, &sa, NULL);
		signal(SIGSEGV, SIG_DFL);
		mode = m;
		raise(SIGUSR1);
		_exit(m == 0 ? 42 : 0);  /* mode 0 must not get here; mode 1 returns as user CS forced */
	}
	int st = 0;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("%s: child killed by signal %d\n", name, WTERMSIG(st));
	else
		printf("%s: child exited %d\n", name, WEXITSTATUS(st));
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	try("read kernel text", read_kernel_text);
	try("write the direct map", write_direct_map);
	try("read the boot info", read_boot_info);
	try("hlt", do_hlt);
	try("cli", do_cli);
	try("out to the hypercall port", do_out);
	try("rdmsr", do_rdmsr);
	try("mov from cr3", do_mov_cr3);
	try("lidt", do_lidt);
	try("sgdt (UMIP)", do_sgdt);
	iopl_check();
	child_bad_return("sigreturn to a non-canonical rip", 0);
	child_bad_return("sigreturn with a kernel cs", 1);
	puts("the VM survived");
	return 0;
}
