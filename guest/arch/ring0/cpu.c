/* cpu.c (ring0): the cpu ops on VT-x/AMD-V, where the kernel runs at hardware CPL 0 and privileged work is an instruction. */
#include "arch/cpu.h"
#include "hypercall/lbvm_abi.h"
#include "kernel/kernel.h"
#include "apic.h"

extern const uint64_t ring0_trap_table[23];
extern uint64_t ring0_cr2;
extern char ring0_spurious[];
uint64_t ring0_percpu;  /* for the NMI, #DF and #MC entries, which cannot trust GS */

/* IST stacks: NMI, #DF and #MC must not run on a stack that may be the broken one. */
#define IST_NMI 1
#define IST_DF  2
#define IST_MC  3
#define IST_STACK 8192
static uint8_t ist_stacks[3][IST_STACK] __attribute__((aligned(16)));

#define TSS ((volatile uint8_t *)(LBVM_KTEXT_BASE + LBVM_GPA_TSS))

static void tss_set(unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(TSS + off) = v;  /* the TSS's 64-bit fields are only 4-byte aligned */
}

static void idt_set(uint64_t *idt, int vec, uint64_t off, int dpl, int ist)
{
	idt[vec * 2] = (off & 0xffff) | ((uint64_t)LBVM_SEL_KCS << 16) | ((uint64_t)ist << 32) |
		       ((uint64_t)(0x8e | (dpl << 5)) << 40) | (((off >> 16) & 0xffff) << 48);
	idt[vec * 2 + 1] = off >> 32;
}

void cpu_init(const struct boot_params *bp, struct percpu *pc)
{
	(void)bp;
	/* The VMM loaded IDTR with this page and TR with this TSS; fill them in before anything can trap. */
	uint64_t *idt = (uint64_t *)(LBVM_KTEXT_BASE + LBVM_GPA_IDT);
	for (int v = 0; v < 22; v++) {
		int ist = v == 2 ? IST_NMI : v == 8 ? IST_DF : v == 18 ? IST_MC : 0;
		idt_set(idt, v, ring0_trap_table[v], v == 3 ? 3 : 0, ist);
	}
	idt_set(idt, LBVM_TICK_VECTOR, ring0_trap_table[22], 0, 0);  /* the local APIC timer (apic.c) */
	idt_set(idt, RING0_SPURIOUS_VECTOR, (uint64_t)ring0_spurious, 0, 0);
	for (int i = 0; i < 3; i++)
		tss_set(0x24 + 8 * i, (uint64_t)&ist_stacks[i][IST_STACK]);
	tss_set(4, pc->kstack_top);
	/* In the kernel GS_BASE is ours; swapgs on each crossing keeps the user's in KERNEL_GS_BASE. */
	ring0_percpu = (uint64_t)pc;
	__asm__ volatile("wrgsbase %0" : : "r"((uint64_t)pc) : "memory");
}

void cpu_load_pgtable(uint64_t pml4_pa)
{
	/* One table per address space: the user half and the supervisor-only kernel half (no KPTI pair here). */
	__asm__ volatile("mov %0, %%cr3" : : "r"(pml4_pa) : "memory");
}

void cpu_flush_tlb(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

void cpu_flush_tlb_one(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

void cpu_irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

void cpu_irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

void cpu_halt(void)
{
	/* Not hlt: with the in-kernel local APIC, KVM would keep a hlt to itself (lbvm_abi.h, LBVM_HALT_PORT). */
	cpu_outb(LBVM_HALT_PORT, 0);
}

uint64_t cpu_fault_addr(void)
{
	return ring0_cr2;  /* CR2 as the #PF entry saw it, before anything could fault again */
}

void cpu_set_kernel_stack(struct percpu *pc, uint64_t top)
{
	pc->kstack_top = top;
	tss_set(4, top);
}

const char *cpu_mode_name(void)
{
	return "ring0";
}

/* The ELF note the VMM reads before it boots us: ABI version, CPU mode, syscall entry. */
extern char ring0_syscall_entry[];
CPU_KERNEL_NOTE(LBVM_CPU_RING0, ring0_syscall_entry);
