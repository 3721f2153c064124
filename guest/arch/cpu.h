/* cpu.h: the cpu ops, the only interface between the kernel and its CPU mode (pvm or ring 0). */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <stdint.h>

/*
 * The register frame of a user context, saved on the kernel stack by every
 * entry (syscall, exception). Order matches the pushes in the entry code.
 */
struct uregs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi;
	uint64_t vec;    /* exception vector, or the syscall number */
	uint64_t err;    /* exception error code, or UREGS_ERR_SYSCALL */
	uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct uregs) == 22 * 8, "uregs layout is shared with the entry code");

/* A syscall frame has err == UREGS_ERR_SYSCALL and vec == the syscall number; an exception's vec is its vector. */
#define UREGS_ERR_SYSCALL (~0ull)

/* Per-CPU block at the kernel's GS base; offsets are used by the entry code. */
struct percpu {
	uint64_t kstack_top;  /* +0: kernel stack for entries from user mode */
	uint64_t user_rsp;    /* +8: scratch for the syscall entry */
	uint64_t self;        /* +16 */
};

struct boot_params;

void cpu_init(const struct boot_params *bp, struct percpu *pc);  /* IDT, TSS, GS, interrupt state */
void cpu_load_pgtable(uint64_t pml4_pa);
void cpu_flush_tlb(void);
void cpu_flush_tlb_one(uint64_t va);
void cpu_irq_disable(void);
void cpu_irq_enable(void);
void cpu_halt(void);                       /* wait for the VMM; may return spuriously */
void cpu_tick_want(int on);                /* preemption ticks wanted (more than one process can run) or not */
void cpu_tick_ack(void);                   /* first thing on a tick: end the interrupt (EOI) where one must */
uint64_t cpu_fault_addr(void);             /* address of the last #PF */
/* The user's FS base: both modes have FSGSBASE, so these are plain instructions everywhere. */
static inline void cpu_set_fs_base(uint64_t base)
{
	__asm__ volatile("wrfsbase %0" : : "r"(base) : "memory");
}

static inline uint64_t cpu_get_fs_base(void)
{
	uint64_t v;
	__asm__ volatile("rdfsbase %0" : "=r"(v));
	return v;
}
__attribute__((noreturn)) void cpu_enter_user(struct uregs *r); /* full restore from r */
const char *cpu_mode_name(void);
void cpu_set_kernel_stack(struct percpu *pc, uint64_t top);   /* entries from user mode land here */
void cpu_switch(uint64_t *prev_ksp, uint64_t next_ksp);
void cpu_fork_ret(void);                   /* first return of a new process: enter_user(r12) */

/* Called by the entry code; implemented by the kernel. */
int syscall_entry_c(struct uregs *r);      /* returns 1 when the full frame must be restored */
void trap_entry_c(struct uregs *r);

static inline uint64_t cpu_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void cpu_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

/* The ELF note the VMM reads before it boots a kernel: ABI version, CPU mode, syscall entry. */
#define CPU_KERNEL_NOTE(mode, entry)                                                                     \
	__attribute__((section(".note.lbvm"), used, aligned(4))) static const struct __attribute__((packed)) { \
		uint32_t namesz, descsz, type;                                                                 \
		char name[8];                                                                                  \
		struct lbvm_kernel_note desc;                                                                  \
	} kernel_note = { sizeof(LBVM_NOTE_NAME), sizeof(struct lbvm_kernel_note), LBVM_NOTE_ABI, LBVM_NOTE_NAME, \
			  { LBVM_ABI_VERSION, mode, (uint64_t)entry } }

#endif
