/* cpu.c (pvm): the cpu ops on kvm-pvm, where the kernel runs at hardware CPL 3 and privileged work is a hypercall. */
#include "arch/cpu.h"
#include "hypercall/lbvm_abi.h"
#include "kernel/kernel.h"

/* kvm-pvm hypercalls: int $0x1b, number in RAX, arguments in RBX, RCX, RDX. */
#define PVM_HC_FLUSH_TLB     0x1007
#define PVM_HC_FLUSH_TLB_ONE 0x1008
#define PVM_HC_HALT          0x1009
#define PVM_HC_SET_CR3       0x1001

struct pvm_vif {
	volatile uint8_t if_;
	volatile uint8_t pending;
	uint8_t pad[6];
	volatile uint64_t cr2;
};

#define VIF ((struct pvm_vif *)(LBVM_KTEXT_BASE + LBVM_GPA_VIF))

static long pvm_hcall(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x1b" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

extern const uint64_t pvm_trap_table[23];

static void idt_set(uint64_t *idt, int vec, uint64_t off, int dpl)
{
	idt[vec * 2] = (off & 0xffff) | ((uint64_t)LBVM_SEL_KCS << 16) |
		       ((uint64_t)(0x8e | (dpl << 5)) << 40) | (((off >> 16) & 0xffff) << 48);
	idt[vec * 2 + 1] = off >> 32;
}

void cpu_init(const struct boot_params *bp, struct percpu *pc)
{
	(void)bp;
	/* The VMM loaded IDTR with this page; fill in the vectors before anything can trap. */
	uint64_t *idt = (uint64_t *)(LBVM_KTEXT_BASE + LBVM_GPA_IDT);
	for (int v = 0; v < 22; v++)
		idt_set(idt, v, pvm_trap_table[v], v == 3 ? 3 : 0);
	idt_set(idt, LBVM_TICK_VECTOR, pvm_trap_table[22], 0);
	/* TSS.RSP0: where exceptions from user mode land. */
	*(volatile uint64_t *)(LBVM_KTEXT_BASE + LBVM_GPA_TSS + 4) = pc->kstack_top;
	/* In supervisor mode GS_BASE is the kernel's; kvm-pvm swaps it with the user's on each crossing. */
	__asm__ volatile("wrgsbase %0" : : "r"((uint64_t)pc) : "memory");
	VIF->if_ = 0;
}

void cpu_load_pgtable(uint64_t pml4_pa)
{
	pvm_hcall(PVM_HC_SET_CR3, (long)pml4_pa, 0, 0);
}

void cpu_flush_tlb(void)
{
	pvm_hcall(PVM_HC_FLUSH_TLB, 0, 0, 0);
}

void cpu_flush_tlb_one(uint64_t va)
{
	pvm_hcall(PVM_HC_FLUSH_TLB_ONE, (long)va, 0, 0);
}

void cpu_irq_disable(void)
{
	VIF->if_ = 0;
	__asm__ volatile("" ::: "memory");
}

void cpu_irq_enable(void)
{
	VIF->if_ = 1;
	__asm__ volatile("" ::: "memory");
	if (VIF->pending)
		cpu_outb(0x80, 0); /* the doorbell: let the host deliver what it holds */
}

void cpu_halt(void)
{
	VIF->if_ = 1;
	pvm_hcall(PVM_HC_HALT, 0, 0, 0);
	VIF->if_ = 0;
}

/* The VMM's ticker reads want_tick; its ticks need no acknowledgement. */
void cpu_tick_want(int on)
{
	boot_shared->want_tick = on;
}

void cpu_tick_ack(void)
{
}

uint64_t cpu_fault_addr(void)
{
	return VIF->cr2;
}

void cpu_set_kernel_stack(struct percpu *pc, uint64_t top)
{
	pc->kstack_top = top;
	*(volatile uint64_t *)(LBVM_KTEXT_BASE + LBVM_GPA_TSS + 4) = top;
}

const char *cpu_mode_name(void)
{
	return "pvm";
}

/* The ELF note the VMM reads before it boots us: ABI version, CPU mode, syscall entry. */
extern char pvm_syscall_entry[];
CPU_KERNEL_NOTE(LBVM_CPU_PVM, pvm_syscall_entry);
