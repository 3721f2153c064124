/* cpustate.h: the vCPU's first long-mode state for each CPU mode, computed into plain structs (no ioctl here). */
#ifndef VMM_CPUSTATE_H
#define VMM_CPUSTATE_H

#include <stdint.h>
#include <linux/kvm.h>
#include "hypercall/lbvm_abi.h"

/* What the first state depends on. */
struct cpustate_in {
	uint32_t cpu_mode;        /* LBVM_CPU_PVM or LBVM_CPU_RING0 */
	uint64_t ram_size;        /* guest RAM: GPA 0 .. ram_size, a multiple of 2 MiB */
	uint64_t ro_gpa;          /* the read-only slot (program or app image) right after RAM */
	uint64_t ro_slot_size;
	uint64_t kernel_entry;    /* the guest kernel's ELF entry: the first RIP */
	uint64_t syscall_entry;   /* from the kernel's ABI note: MSR_LSTAR */
};

/* The boot pages cpustate_tables writes lie in guest-physical 0 .. CPUSTATE_LOW_SIZE. */
#define CPUSTATE_LOW_SIZE (LBVM_GPA_PD_DMAP + LBVM_DMAP_MAX_GIB * LBVM_PAGE_SIZE)

#define PTE_P  1ull
#define PTE_W  2ull
#define PTE_U  4ull   /* kvm-pvm wants U on every present entry; in ring 0 the kernel's pages are supervisor-only */
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_PG (1ull << 31)
#define CR4_PAE        (1ull << 5)
#define CR4_PGE        (1ull << 7)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_FSGSBASE   (1ull << 16)
#define CR4_OSXSAVE    (1ull << 18)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define MSR_IA32_TSC       0x10
#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_SYSCALL_MASK   0xc0000084
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_PVM_VIF        0x4b564d10
#define PVM_VIF_FLAGS      0x7full  /* KPTI pair, GS swaps, int 0x19/0x17 returns, CR2 in the vIF page */
#define PVM_VIF_START_SUPERVISOR 0x400ull

/* XCR0: x87, SSE and AVX state on, so the program may use what CPUID reports. */
#define CPUSTATE_XCR0 7ull

#define CPUSTATE_MSRS_MAX 7

/*
 * The boot page tables, the GDT and the TSS, written into low: the host view
 * of guest-physical 0 .. CPUSTATE_LOW_SIZE. Only those pages are written.
 * 0, or -ERANGE when RAM and the read-only slot pass LBVM_DMAP_MAX_GIB.
 */
int cpustate_tables(const struct cpustate_in *in, uint8_t *low);

/* Drops from KVM's supported CPUID list what the guest must not see, in place (the same in both modes). */
void cpustate_cpuid(struct kvm_cpuid2 *cpuid);

/*
 * Segments, descriptor tables and control registers of sr, given the CPUID
 * the guest gets; sr's other fields (apic_base, cr2, cr8, interrupt_bitmap)
 * keep what KVM_GET_SREGS gave.
 */
void cpustate_sregs(const struct cpustate_in *in, const struct kvm_cpuid2 *cpuid, struct kvm_sregs *sr);

void cpustate_regs(const struct cpustate_in *in, struct kvm_regs *regs);

/* The MSRs to set, in idx and val; returns how many. */
int cpustate_msrs(const struct cpustate_in *in, uint32_t idx[CPUSTATE_MSRS_MAX], uint64_t val[CPUSTATE_MSRS_MAX]);

#endif
