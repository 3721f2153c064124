/* main.c: the guest kernel's boot path, panic and exit. */
#include <stdarg.h>
#include "arch/cpu.h"
#include "kernel.h"
#include "kernel/fs/hostfs.h"
#include "kernel/proc/proc.h"
#include "guest/lib/fdt.h"

struct boot_params boot;
volatile struct lbvm_boot_shared *const boot_shared = (void *)(LBVM_KTEXT_BASE + LBVM_GPA_BOOT_SHARED);
static struct percpu percpu0;
struct percpu *this_cpu = &percpu0;
static uint8_t kstack0[32768] __attribute__((aligned(16)));

long lbvm_hcall(uint32_t nr, uint64_t a, uint64_t b, uint64_t c)
{
	long ret;
	__asm__ volatile("outl %%eax, %w1"
			 : "=a"(ret)
			 : "Nd"(LBVM_HC_PORT), "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "memory");
	return ret;
}

/*
 * The VMM completes every queued write to stdout and stderr before it acts
 * on the exit; writes to host mounts still collecting in the guest (and
 * pages written through shared mappings of host files) go first.
 */
NORETURN void vm_exit(uint32_t status, uint64_t fault_addr)
{
	static int exiting;
	if (!exiting++)
		hostfs_exit_flush();
	for (;;)
		lbvm_hcall(LBVM_HC_EXIT, status, fault_addr, 0);
}

NORETURN void panic(const char *fmt, ...)
{
	static char msg[256];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	for (;;)
		lbvm_hcall(LBVM_HC_PANIC, kva_to_pa(msg), (uint64_t)n, 0);
}

void kprintf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (n > 0)
		io_write(LBVM_H_STDERR, buf, (size_t)n);
}

extern char __kernel_end[];

NORETURN void kmain(void);
NORETURN void kmain(void)
{
	boot_shared->tsc_kernel_start = cpu_rdtsc();
	/* Nothing can be reported through the I/O queue yet: a bad tree is a panic, which the VMM prints. */
	const char *what = "";
	int err = bootparams_parse(&boot, (void *)(LBVM_KTEXT_BASE + LBVM_GPA_FDT), LBVM_FDT_MAX, &what);
	if (err)
		panic("boot FDT: %s: %s", what, fdtr_strerror(err));

	percpu0.kstack_top = (uint64_t)(kstack0 + sizeof(kstack0));
	percpu0.self = (uint64_t)&percpu0;
	cpu_init(&boot, &percpu0);
#ifdef LBVM_TEST_BROKEN_IDT
	/* make check-broken only: the page-fault gate marked not present, which the test suites must notice. */
	((volatile uint64_t *)(LBVM_KTEXT_BASE + LBVM_GPA_IDT))[14 * 2] &= ~(1ull << 47);
#endif

	if (kva_to_pa(__kernel_end) > boot.kernel_end)
		panic("boot FDT: kernel end %#lx below the image's own end", (unsigned long)boot.kernel_end);
	pmem_init(ALIGN_UP(boot.kernel_end, PAGE_SIZE), boot.ram_size);
	time_init();
	random_init();
	io_init();
	proc_start_init();
}
