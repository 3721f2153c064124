/* cpustate.c: the vCPU's first long-mode state in each CPU mode: boot page tables, GDT, TSS, registers, MSRs, CPUID. */
#include <errno.h>
#include <string.h>
#include "cpustate.h"

/* The GDT's descriptors (Linux's layout); test_cpustate.c decodes them field by field. */
#define DESC_KCS   0x00af9b000000ffffull  /* 64-bit code, DPL 0 */
#define DESC_KDS   0x00cf93000000ffffull  /* data, DPL 0 */
#define DESC_UCS32 0x00cffb000000ffffull  /* 32-bit code, DPL 3 */
#define DESC_UDS   0x00cff3000000ffffull  /* data, DPL 3 */
#ifndef LBVM_TEST_BROKEN_GDT
#define DESC_UCS   0x00affb000000ffffull  /* 64-bit code, DPL 3 */
#else
/* make check-broken: the user code descriptor not present, which the test suites must notice. */
#define DESC_UCS   (0x00affb000000ffffull & ~(1ull << 47))
#endif
#define GDT_LIMIT  (LBVM_SEL_TSS + 16 - 1)  /* the TSS descriptor (16 bytes) is the last */
#define TSS_LIMIT  0x67

static uint64_t *page(uint8_t *low, uint64_t gpa)
{
	memset(low + gpa, 0, LBVM_PAGE_SIZE);
	return (uint64_t *)(void *)(low + gpa);
}

/*
 * PML4[511] -> the kernel image at -2 GiB: 2 MiB pages over the first GiB of RAM;
 * PML4[LBVM_DMAP_SLOT] -> all RAM and the read-only slot, no-execute. Nothing else.
 */
static void build_page_tables(const struct cpustate_in *in, uint8_t *low, uint64_t gpa_top)
{
	uint64_t *pml4 = page(low, LBVM_GPA_PML4);
	uint64_t *pdpt_k = page(low, LBVM_GPA_PDPT_KTEXT);
	uint64_t *pd_k = page(low, LBVM_GPA_PD_KTEXT);
	uint64_t *pdpt_d = page(low, LBVM_GPA_PDPT_DMAP);
	const uint64_t f = PTE_P | PTE_W | (in->cpu_mode == LBVM_CPU_PVM ? PTE_U : 0);

	pml4[511] = LBVM_GPA_PDPT_KTEXT | f;
	pdpt_k[510] = LBVM_GPA_PD_KTEXT | f;
	for (uint64_t i = 0; i < 512 && (i << 21) < in->ram_size; i++)
		pd_k[i] = (i << 21) | f | PTE_PS;

	pml4[LBVM_DMAP_SLOT] = LBVM_GPA_PDPT_DMAP | f;
	uint64_t gib = (gpa_top + (1ull << 30) - 1) >> 30;
	for (uint64_t g = 0; g < LBVM_DMAP_MAX_GIB; g++) {
		uint64_t pd_gpa = LBVM_GPA_PD_DMAP + g * LBVM_PAGE_SIZE;
		uint64_t *pd = page(low, pd_gpa);
		if (g >= gib)
			continue;
		pdpt_d[g] = pd_gpa | f;
		for (uint64_t i = 0; i < 512; i++) {
			uint64_t pa = (g << 30) | (i << 21);
			int in_ram = pa < in->ram_size;
			int in_ro = pa >= in->ro_gpa && pa < in->ro_gpa + in->ro_slot_size;
			if (in_ram || in_ro)
				pd[i] = pa | f | PTE_PS | PTE_NX;
		}
	}
}

static void build_gdt_tss(uint8_t *low)
{
	uint64_t *gdt = page(low, LBVM_GPA_GDT);
	gdt[LBVM_SEL_KCS >> 3] = DESC_KCS;
	gdt[LBVM_SEL_KDS >> 3] = DESC_KDS;
	gdt[LBVM_SEL_UCS32 >> 3] = DESC_UCS32;
	gdt[LBVM_SEL_UDS >> 3] = DESC_UDS;
	gdt[LBVM_SEL_UCS >> 3] = DESC_UCS;
	/* A 64-bit TSS takes two slots: present, busy (type 0xb, as TR is loaded), base in the kernel image window. */
	uint64_t tss = LBVM_KTEXT_BASE + LBVM_GPA_TSS;
	gdt[LBVM_SEL_TSS >> 3] = TSS_LIMIT | ((tss & 0xffffff) << 16) | (0x8bull << 40) | (((tss >> 24) & 0xff) << 56);
	gdt[(LBVM_SEL_TSS >> 3) + 1] = tss >> 32;
	uint8_t *t = (uint8_t *)page(low, LBVM_GPA_TSS);
	uint16_t iomap = TSS_LIMIT + 1;  /* no I/O permission bitmap: in and out from user mode fault */
	memcpy(t + 0x66, &iomap, 2);
}

int cpustate_tables(const struct cpustate_in *in, uint8_t *low)
{
	uint64_t gpa_top = in->ro_gpa + in->ro_slot_size;
	if (in->ro_gpa < in->ram_size || gpa_top < in->ro_gpa || gpa_top > (LBVM_DMAP_MAX_GIB << 30) ||
	    in->ram_size > (LBVM_DMAP_MAX_GIB << 30))
		return -ERANGE;
	build_page_tables(in, low, gpa_top);
	build_gdt_tss(low);
	return 0;
}

#define CPUID_1_ECX_VMX         (1u << 5)
#define CPUID_80000001_ECX_SVM  (1u << 2)
#define CPUID_SVM_LEAF          0x8000000au

/*
 * No nested virtualization: the guest kernel never uses VMX or SVM, and with
 * the bits gone KVM refuses CR4.VMXE and EFER.SVME, so a guest that took over
 * its kernel cannot reach KVM's nested code either. Everything else the host
 * supports is passed on as it is (the hypervisor bit and KVM's own leaves too).
 */
void cpustate_cpuid(struct kvm_cpuid2 *cpuid)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 e = cpuid->entries[i];
		if (e.function == CPUID_SVM_LEAF)
			continue;
		if (e.function == 1)
			e.ecx &= ~CPUID_1_ECX_VMX;
		if (e.function == 0x80000001)
			e.ecx &= ~CPUID_80000001_ECX_SVM;
		cpuid->entries[n++] = e;
	}
	cpuid->nent = n;
}

/*
 * Ring 0's protections where the CPU offers them: SMEP and SMAP (the kernel
 * never executes or touches a user address: user memory is reached through
 * the direct map, so SMAP needs no stac/clac), and UMIP (sgdt and friends
 * from user mode fault).
 */
static uint64_t ring0_cr4(const struct kvm_cpuid2 *c)
{
	uint64_t cr4 = 0;
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function != 7 || e->index != 0)
			continue;
		if (e->ebx & (1u << 7))
			cr4 |= CR4_SMEP;
		if (e->ebx & (1u << 20))
			cr4 |= CR4_SMAP;
		if (e->ecx & (1u << 2))
			cr4 |= CR4_UMIP;
	}
	return cr4;
}

void cpustate_sregs(const struct cpustate_in *in, const struct kvm_cpuid2 *cpuid, struct kvm_sregs *sr)
{
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = LBVM_SEL_KCS, .type = 0xb,
				    .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment data = code;
	data.selector = LBVM_SEL_KDS;
	data.type = 0x3;
	data.l = 0;
	data.db = 1;
	struct kvm_segment unusable = { .unusable = 1 };
	sr->cs = code;
	sr->ss = data;
	sr->ds = sr->es = sr->fs = sr->gs = unusable;
	memset(&sr->tr, 0, sizeof(sr->tr));
	sr->tr.selector = LBVM_SEL_TSS;
	sr->tr.base = LBVM_KTEXT_BASE + LBVM_GPA_TSS;
	sr->tr.limit = TSS_LIMIT;
	sr->tr.type = 0xb;
	sr->tr.present = 1;
	memset(&sr->ldt, 0, sizeof(sr->ldt));
	sr->ldt.unusable = 1;
	sr->gdt.base = LBVM_KTEXT_BASE + LBVM_GPA_GDT;
	sr->gdt.limit = GDT_LIMIT;
	sr->idt.base = LBVM_KTEXT_BASE + LBVM_GPA_IDT;
	sr->idt.limit = 0xfff;  /* 256 gates of 16 bytes */
	sr->cr0 = CR0_PG | CR0_AM | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
	sr->cr3 = LBVM_GPA_PML4;
	sr->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_FSGSBASE | CR4_OSXSAVE;
	sr->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	if (in->cpu_mode == LBVM_CPU_RING0)
		sr->cr4 |= ring0_cr4(cpuid);
}

void cpustate_regs(const struct cpustate_in *in, struct kvm_regs *regs)
{
	memset(regs, 0, sizeof(*regs));
	regs->rip = in->kernel_entry;
	regs->rflags = 0x2;  /* bit 1 is always set; IF clear: the kernel enables interrupts itself */
}

int cpustate_msrs(const struct cpustate_in *in, uint32_t idx[CPUSTATE_MSRS_MAX], uint64_t val[CPUSTATE_MSRS_MAX])
{
	/*
	 * STAR: SYSCALL loads CS = KCS, SS = KCS + 8; SYSRET loads CS = 0x23 + 16
	 * (UCS), SS = 0x23 + 8 (UDS). SFMASK clears TF, IF, DF, IOPL, NT and AC on entry.
	 */
	const uint64_t star = (uint64_t)LBVM_SEL_UCS32 << 48 | (uint64_t)LBVM_SEL_KCS << 32;
	int n = 0;
	idx[n] = MSR_STAR, val[n++] = star;
	idx[n] = MSR_LSTAR, val[n++] = in->syscall_entry;
	idx[n] = MSR_SYSCALL_MASK, val[n++] = 0x47700;
	idx[n] = MSR_KERNEL_GS_BASE, val[n++] = 0;
	idx[n] = MSR_GS_BASE, val[n++] = 0;
	idx[n] = MSR_FS_BASE, val[n++] = 0;
	if (in->cpu_mode == LBVM_CPU_PVM)
		idx[n] = MSR_PVM_VIF, val[n++] = LBVM_GPA_VIF | PVM_VIF_FLAGS | PVM_VIF_START_SUPERVISOR;
	return n;
}
