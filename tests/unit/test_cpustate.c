/* test_cpustate.c: the vCPU's first long-mode state in both CPU modes, field by field: descriptors, control registers, MSRs, boot page tables, CPUID filtering. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/cpustate.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static const uint32_t pvm = LBVM_CPU_PVM, ring0 = LBVM_CPU_RING0;

static struct cpustate_in input(uint32_t mode)
{
	struct cpustate_in in = {
		.cpu_mode = mode,
		.ram_size = 512 * MIB,
		.ro_gpa = 512 * MIB,
		.ro_slot_size = 3 * MIB + 4096,   /* spans two 2 MiB pages */
		.kernel_entry = LBVM_KTEXT_BASE + LBVM_GPA_KERNEL + 0x40,
		.syscall_entry = LBVM_KTEXT_BASE + LBVM_GPA_KERNEL + 0x1230,
	};
	return in;
}

/* ---- fake KVM_GET_SUPPORTED_CPUID lists ---- */

struct cpuid_list {
	struct kvm_cpuid2 h;
	struct kvm_cpuid_entry2 e[16];
};

static void add(struct cpuid_list *c, uint32_t fn, uint32_t idx, uint32_t a, uint32_t b, uint32_t cx, uint32_t d)
{
	struct kvm_cpuid_entry2 *e = &c->e[c->h.nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->eax = a, e->ebx = b, e->ecx = cx, e->edx = d;
}

#define L1_ECX_VMX      (1u << 5)
#define L1_ECX_XSAVE    (1u << 26)
#define L1_ECX_HV       (1u << 31)
#define L1_EDX_PAE      (1u << 6)
#define L1_EDX_FXSR     (1u << 24)
#define L1_EDX_SSE      (1u << 25)
#define L7_EBX_FSGSBASE (1u << 0)
#define L7_EBX_SMEP     (1u << 7)
#define L7_EBX_SMAP     (1u << 20)
#define L7_ECX_UMIP     (1u << 2)
#define XL1_ECX_SVM     (1u << 2)
#define XL1_EDX_SYSCALL (1u << 11)
#define XL1_EDX_NX      (1u << 20)
#define XL1_EDX_LM      (1u << 29)

/* A host that offers what the state needs, nested virtualization, and leaf 7's protections as l7_ebx/l7_ecx say. */
static void host_list(struct cpuid_list *c, uint32_t l7_ebx, uint32_t l7_ecx)
{
	memset(c, 0, sizeof(*c));
	add(c, 0, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65);
	add(c, 1, 0, 0xa00f11, 0x800, 0xf6f83203 | L1_ECX_VMX | L1_ECX_XSAVE | L1_ECX_HV,
	    0x178bfbff | L1_EDX_PAE | L1_EDX_FXSR | L1_EDX_SSE);
	/* other features in leaf 7.0 beside them (AVX2, BMI, ERMS, ...), not SMEP, SMAP or UMIP */
	add(c, 7, 0, 0, L7_EBX_FSGSBASE | (0x219c01a8 & ~(L7_EBX_SMEP | L7_EBX_SMAP)) | l7_ebx,
	    (0x40069c & ~L7_ECX_UMIP) | l7_ecx, 0x10);
	add(c, 7, 1, 0, L7_EBX_SMEP | L7_EBX_SMAP, L7_ECX_UMIP, 0);  /* not leaf 7.0: must not count */
	add(c, 0xd, 0, 0x7, 0x340, 0x340, 0);
	add(c, 0x40000000, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);
	add(c, 0x40000001, 0, 0x01007efb, 0, 0, 0);
	add(c, 0x80000000, 0, 0x80000021, 0x68747541, 0x444d4163, 0x69746e65);
	add(c, 0x80000001, 0, 0xa00f11, 0, 0x75c237ff | XL1_ECX_SVM, 0x2fd3fbff | XL1_EDX_SYSCALL | XL1_EDX_NX | XL1_EDX_LM);
	add(c, 0x8000000a, 0, 1, 0x8000, 0, 0x1ebfbcff);
	add(c, 0x80000008, 0, 0x3030, 0, 0, 0);
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/* sregs as KVM_GET_SREGS might give them, with marks in the fields cpustate_sregs must leave alone */
static struct kvm_sregs sregs_for(uint32_t mode, uint32_t l7_ebx, uint32_t l7_ecx)
{
	struct cpuid_list c;
	host_list(&c, l7_ebx, l7_ecx);
	cpustate_cpuid(&c.h);
	struct cpustate_in in = input(mode);
	struct kvm_sregs sr;
	memset(&sr, 0x5a, sizeof(sr));
	sr.apic_base = 0xfee00900;
	sr.cr2 = 0x1234;
	sr.cr8 = 0;
	cpustate_sregs(&in, &c.h, &sr);
	return sr;
}

/* ---- segments and descriptor-table registers ---- */

static void test_segments(void **state)
{
	uint32_t mode = *(const uint32_t *)*state;
	struct kvm_sregs sr = sregs_for(mode, 0, 0);

	/* CS: 64-bit code (L=1, D=0), DPL 0, flat */
	assert_int_equal(sr.cs.selector, LBVM_SEL_KCS);
	assert_int_equal(sr.cs.selector & 3, 0);
	assert_int_equal(sr.cs.dpl, 0);
	assert_int_equal(sr.cs.type, 0xb);
	assert_int_equal(sr.cs.s, 1);
	assert_int_equal(sr.cs.present, 1);
	assert_int_equal(sr.cs.l, 1);
	assert_int_equal(sr.cs.db, 0);
	assert_int_equal(sr.cs.g, 1);
	assert_int_equal(sr.cs.base, 0);
	assert_int_equal(sr.cs.limit, 0xffffffff);
	assert_int_equal(sr.cs.unusable, 0);

	/* SS: writable data, DPL 0, D/B=1, not L */
	assert_int_equal(sr.ss.selector, LBVM_SEL_KDS);
	assert_int_equal(sr.ss.dpl, 0);
	assert_int_equal(sr.ss.type, 0x3);
	assert_int_equal(sr.ss.s, 1);
	assert_int_equal(sr.ss.present, 1);
	assert_int_equal(sr.ss.l, 0);
	assert_int_equal(sr.ss.db, 1);
	assert_int_equal(sr.ss.g, 1);
	assert_int_equal(sr.ss.base, 0);
	assert_int_equal(sr.ss.limit, 0xffffffff);
	assert_int_equal(sr.ss.unusable, 0);

	/* DS, ES, FS, GS and LDT: null and unusable (FS and GS bases come from the MSRs) */
	const struct kvm_segment *nul[] = { &sr.ds, &sr.es, &sr.fs, &sr.gs, &sr.ldt };
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(nul[i]->unusable, 1);
		assert_int_equal(nul[i]->selector, 0);
		assert_int_equal(nul[i]->present, 0);
		assert_int_equal(nul[i]->base, 0);
	}

	/* TR: a busy 64-bit TSS (system segment, type 0xb), 104 bytes, in the kernel image window */
	assert_int_equal(sr.tr.selector, LBVM_SEL_TSS);
	assert_int_equal(sr.tr.type, 0xb);
	assert_int_equal(sr.tr.s, 0);
	assert_int_equal(sr.tr.present, 1);
	assert_int_equal(sr.tr.dpl, 0);
	assert_int_equal(sr.tr.limit, 0x67);
	assert_int_equal(sr.tr.base, LBVM_KTEXT_BASE + LBVM_GPA_TSS);
	assert_int_equal(sr.tr.unusable, 0);

	/* GDTR covers the TSS descriptor and no more; IDTR all 256 gates */
	assert_int_equal(sr.gdt.base, LBVM_KTEXT_BASE + LBVM_GPA_GDT);
	assert_int_equal(sr.gdt.limit, LBVM_SEL_TSS + 16 - 1);
	assert_int_equal(sr.idt.base, LBVM_KTEXT_BASE + LBVM_GPA_IDT);
	assert_int_equal(sr.idt.limit, 256 * 16 - 1);

	/* what KVM_GET_SREGS gave stays */
	assert_int_equal(sr.apic_base, 0xfee00900);
	assert_int_equal(sr.cr2, 0x1234);
}

/* ---- the GDT and the TSS in guest memory ---- */

struct desc {
	uint64_t base, limit;
	unsigned type, s, dpl, p, l, db, g;
};

static struct desc decode(uint64_t d)
{
	struct desc x;
	x.limit = (d & 0xffff) | ((d >> 32) & 0xf0000);
	x.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	x.type = (d >> 40) & 0xf;
	x.s = (d >> 44) & 1;
	x.dpl = (d >> 45) & 3;
	x.p = (d >> 47) & 1;
	x.l = (d >> 53) & 1;
	x.db = (d >> 54) & 1;
	x.g = (d >> 55) & 1;
	return x;
}

static uint8_t *tables(uint32_t mode)
{
	uint8_t *low = calloc(1, CPUSTATE_LOW_SIZE);
	assert_non_null(low);
	struct cpustate_in in = input(mode);
	assert_int_equal(cpustate_tables(&in, low), 0);
	return low;
}

static void check_seg(uint64_t d, unsigned type, unsigned dpl, unsigned l, unsigned db)
{
	struct desc x = decode(d);
	assert_int_equal(x.p, 1);
	assert_int_equal(x.s, 1);
	assert_int_equal(x.type, type);
	assert_int_equal(x.dpl, dpl);
	assert_int_equal(x.l, l);
	assert_int_equal(x.db, db);
	assert_int_equal(x.g, 1);
	assert_int_equal(x.base, 0);
	assert_int_equal(x.limit, 0xfffff);
}

static void test_gdt(void **state)
{
	uint32_t mode = *(const uint32_t *)*state;
	uint8_t *low = tables(mode);
	const uint64_t *gdt = (const uint64_t *)(low + LBVM_GPA_GDT);
	struct kvm_sregs sr = sregs_for(mode, 0, 0);

	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[1], 0);
	check_seg(gdt[LBVM_SEL_KCS >> 3], 0xb, 0, 1, 0);     /* kernel code: 64-bit */
	check_seg(gdt[LBVM_SEL_KDS >> 3], 0x3, 0, 0, 1);     /* kernel data */
	check_seg(gdt[LBVM_SEL_UCS32 >> 3], 0xb, 3, 0, 1);   /* user code: 32-bit (SYSRET's STAR base) */
	check_seg(gdt[LBVM_SEL_UDS >> 3], 0x3, 3, 0, 1);     /* user data */
	check_seg(gdt[LBVM_SEL_UCS >> 3], 0xb, 3, 1, 0);     /* user code: 64-bit */
	assert_int_equal(gdt[7], 0);
	/* the user selectors carry RPL 3, the kernel's RPL 0 */
	assert_int_equal(LBVM_SEL_UCS & 3, 3);
	assert_int_equal(LBVM_SEL_UDS & 3, 3);
	assert_int_equal(LBVM_SEL_UCS32 & 3, 3);

	/* the cached CS and SS agree with their descriptors */
	struct desc kcs = decode(gdt[sr.cs.selector >> 3]), kds = decode(gdt[sr.ss.selector >> 3]);
	assert_int_equal(kcs.type, sr.cs.type);
	assert_int_equal(kcs.dpl, sr.cs.dpl);
	assert_int_equal(kcs.l, sr.cs.l);
	assert_int_equal(kcs.db, sr.cs.db);
	assert_int_equal(kds.type, sr.ss.type);
	assert_int_equal(kds.dpl, sr.ss.dpl);

	/* the TSS descriptor: 16 bytes, busy 64-bit TSS, present, DPL 0, base and limit as TR's */
	uint64_t lo = gdt[LBVM_SEL_TSS >> 3], hi = gdt[(LBVM_SEL_TSS >> 3) + 1];
	struct desc t = decode(lo);
	assert_int_equal(t.p, 1);
	assert_int_equal(t.s, 0);
	assert_int_equal(t.type, 0xb);
	assert_int_equal(t.dpl, 0);
	assert_int_equal(t.g, 0);
	assert_int_equal(t.limit, sr.tr.limit);
	assert_int_equal(t.base | (hi & 0xffffffff) << 32, sr.tr.base);
	assert_int_equal(hi >> 32, 0);

	/* nothing past the GDT limit */
	for (unsigned i = (sr.gdt.limit + 1) / 8; i < 512; i++)
		assert_int_equal(gdt[i], 0);

	/* the TSS: no I/O bitmap (its base at the limit), the stacks left for the guest to set */
	const uint8_t *tss = low + LBVM_GPA_TSS;
	uint16_t iomap;
	memcpy(&iomap, tss + 0x66, 2);
	assert_int_equal(iomap, 0x68);
	for (unsigned i = 0; i < 0x66; i++)
		assert_int_equal(tss[i], 0);
	free(low);
}

/* ---- control registers and EFER ---- */

static void test_cr0_efer(void **state)
{
	uint32_t mode = *(const uint32_t *)*state;
	struct kvm_sregs sr = sregs_for(mode, 0, 0);
	/* PE PG WP NE ET MP AM, and neither CD, NW, TS nor EM */
	assert_int_equal(sr.cr0, CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG);
	assert_int_equal(sr.cr0 & (1ull << 30 | 1ull << 29 | 1ull << 3 | 1ull << 2), 0);
	assert_int_equal(sr.cr3, LBVM_GPA_PML4);
	assert_int_equal(sr.cr3 & 0x1fff, 0);   /* 8 KiB aligned: PVM's KPTI pair */
	assert_int_equal(sr.efer, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE);
}

#define CR4_BASE (CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_FSGSBASE | CR4_OSXSAVE)

/* pvm: the base set whatever the CPUID says; no PGE (the kernel uses no global pages) */
static void test_cr4_pvm(void **state)
{
	(void)state;
	assert_int_equal(sregs_for(pvm, 0, 0).cr4, CR4_BASE);
	assert_int_equal(sregs_for(pvm, L7_EBX_SMEP | L7_EBX_SMAP, L7_ECX_UMIP).cr4, CR4_BASE);
	assert_int_equal(CR4_BASE & CR4_PGE, 0);
}

/* ring0: SMEP, SMAP and UMIP exactly when leaf 7.0 offers each */
static void test_cr4_ring0(void **state)
{
	(void)state;
	assert_int_equal(sregs_for(ring0, 0, 0).cr4, CR4_BASE);
	assert_int_equal(sregs_for(ring0, L7_EBX_SMEP | L7_EBX_SMAP, L7_ECX_UMIP).cr4, CR4_BASE | CR4_SMEP | CR4_SMAP | CR4_UMIP);
	assert_int_equal(sregs_for(ring0, L7_EBX_SMEP, 0).cr4, CR4_BASE | CR4_SMEP);
	assert_int_equal(sregs_for(ring0, L7_EBX_SMAP, 0).cr4, CR4_BASE | CR4_SMAP);
	assert_int_equal(sregs_for(ring0, 0, L7_ECX_UMIP).cr4, CR4_BASE | CR4_UMIP);

	/* no leaf 7 at all */
	struct cpustate_in in = input(ring0);
	struct cpuid_list c;
	memset(&c, 0, sizeof(c));
	add(&c, 1, 0, 0, 0, L1_ECX_XSAVE, L1_EDX_PAE);
	struct kvm_sregs sr;
	memset(&sr, 0, sizeof(sr));
	cpustate_sregs(&in, &c.h, &sr);
	assert_int_equal(sr.cr4, CR4_BASE);
}

/* ---- MSRs and general registers ---- */

static uint64_t msr(const uint32_t *idx, const uint64_t *val, int n, uint32_t which, int *found)
{
	*found = 0;
	uint64_t v = 0;
	for (int i = 0; i < n; i++) {
		if (idx[i] == which) {
			(*found)++;
			v = val[i];
		}
	}
	return v;
}

static void test_msrs(void **state)
{
	uint32_t mode = *(const uint32_t *)*state;
	struct cpustate_in in = input(mode);
	uint32_t idx[CPUSTATE_MSRS_MAX];
	uint64_t val[CPUSTATE_MSRS_MAX];
	int n = cpustate_msrs(&in, idx, val), f;
	assert_int_equal(n, mode == pvm ? 7 : 6);

	uint64_t star = msr(idx, val, n, MSR_STAR, &f);
	assert_int_equal(f, 1);
	assert_int_equal(star & 0xffffffff, 0);                 /* the legacy SYSCALL EIP */
	assert_int_equal((star >> 32) & 0xffff, LBVM_SEL_KCS);   /* SYSCALL: CS */
	assert_int_equal(((star >> 32) & 0xfffc) + 8, LBVM_SEL_KDS);         /* SYSCALL: SS */
	assert_int_equal(((star >> 48) & 0xffff) + 16, LBVM_SEL_UCS);        /* SYSRET to 64-bit: CS */
	assert_int_equal((((star >> 48) & 0xffff) + 8) | 3, LBVM_SEL_UDS);   /* SYSRET: SS */
	assert_int_equal(star, 0x0023001000000000ull);

	assert_int_equal(msr(idx, val, n, MSR_LSTAR, &f), in.syscall_entry);
	assert_int_equal(f, 1);
	/* SFMASK: TF, IF, DF, IOPL, NT and AC cleared on SYSCALL */
	assert_int_equal(msr(idx, val, n, MSR_SYSCALL_MASK, &f), 1u << 8 | 1u << 9 | 1u << 10 | 3u << 12 | 1u << 14 | 1u << 18);
	assert_int_equal(f, 1);
	assert_int_equal(msr(idx, val, n, MSR_FS_BASE, &f), 0);
	assert_int_equal(f, 1);
	assert_int_equal(msr(idx, val, n, MSR_GS_BASE, &f), 0);
	assert_int_equal(f, 1);
	assert_int_equal(msr(idx, val, n, MSR_KERNEL_GS_BASE, &f), 0);
	assert_int_equal(f, 1);
	uint64_t vif = msr(idx, val, n, MSR_PVM_VIF, &f);
	if (mode == pvm) {
		assert_int_equal(f, 1);
		assert_int_equal(vif & ~0xfffull, LBVM_GPA_VIF);
		assert_int_equal(vif & 0xfff, PVM_VIF_FLAGS | PVM_VIF_START_SUPERVISOR);
	} else {
		assert_int_equal(f, 0);
	}
}

static void test_regs(void **state)
{
	uint32_t mode = *(const uint32_t *)*state;
	struct cpustate_in in = input(mode);
	struct kvm_regs r, zero;
	memset(&r, 0xa5, sizeof(r));
	cpustate_regs(&in, &r);
	assert_int_equal(r.rip, in.kernel_entry);
	assert_int_equal(r.rflags, 0x2);    /* interrupts off, no TF, DF, AC */
	memset(&zero, 0, sizeof(zero));
	zero.rip = r.rip;
	zero.rflags = r.rflags;
	assert_memory_equal(&r, &zero, sizeof(r));
}

/* ---- the boot page tables ---- */

#define ADDR(e) ((e) & 0x000ffffffffff000ull)

static const uint64_t *table(const uint8_t *low, uint64_t pa)
{
	assert_true(pa + 4096 <= CPUSTATE_LOW_SIZE);
	return (const uint64_t *)(const void *)(low + pa);
}

/*
 * Walk va as the MMU would: the physical address, or ~0 when it is not
 * mapped; *flags gets the AND of P, W, U and the OR of NX down the walk.
 */
static uint64_t walk(const uint8_t *low, uint64_t va, uint64_t *flags)
{
	uint64_t e = table(low, LBVM_GPA_PML4)[(va >> 39) & 511];
	uint64_t f = PTE_P | PTE_W | PTE_U;
	if (!(e & PTE_P))
		return ~0ull;
	assert_int_equal(e & PTE_PS, 0);
	f &= e;
	f |= e & PTE_NX;
	e = table(low, ADDR(e))[(va >> 30) & 511];
	if (!(e & PTE_P))
		return ~0ull;
	assert_int_equal(e & PTE_PS, 0);   /* no 1 GiB pages */
	f = (f & (e | PTE_NX)) | (e & PTE_NX);
	e = table(low, ADDR(e))[(va >> 21) & 511];
	if (!(e & PTE_P))
		return ~0ull;
	assert_int_equal(e & PTE_PS, PTE_PS);  /* 2 MiB pages */
	assert_int_equal(e & 0x1fe000, 0);     /* reserved bits of a 2 MiB entry */
	f = (f & (e | PTE_NX)) | (e & PTE_NX);
	*flags = f;
	return ADDR(e) + (va & (2 * MIB - 1));
}

/* every present entry: P, W, and U exactly in pvm */
static void check_entry_flags(uint64_t e, uint32_t mode)
{
	if (!e)
		return;
	assert_int_equal(e & PTE_P, PTE_P);
	assert_int_equal(e & PTE_W, PTE_W);
	assert_int_equal(e & PTE_U, mode == pvm ? PTE_U : 0);
	assert_int_equal(ADDR(e) >> 52, 0);
}

static void check_page_tables(uint32_t mode, const struct cpustate_in *in)
{
	uint8_t *low = calloc(1, CPUSTATE_LOW_SIZE);
	assert_non_null(low);
	assert_int_equal(cpustate_tables(in, low), 0);
	uint64_t top = in->ro_gpa + in->ro_slot_size, gib = (top + GIB - 1) / GIB;

	/* PML4: the kernel image (511) and the direct map (510) only; the user half and slot 256 empty */
	const uint64_t *pml4 = table(low, LBVM_GPA_PML4);
	for (unsigned i = 0; i < 512; i++) {
		if (i == 511)
			assert_int_equal(ADDR(pml4[i]), LBVM_GPA_PDPT_KTEXT);
		else if (i == LBVM_DMAP_SLOT)
			assert_int_equal(ADDR(pml4[i]), LBVM_GPA_PDPT_DMAP);
		else
			assert_int_equal(pml4[i], 0);
		check_entry_flags(pml4[i], mode);
		assert_int_equal(pml4[i] & PTE_NX, 0);
	}
	assert_int_equal(pml4[256], 0);
	assert_int_equal(LBVM_DMAP_BASE >> 39 & 511, LBVM_DMAP_SLOT);
	/* the KPTI pair's user half is the guest's business */
	const uint64_t *pml4u = table(low, LBVM_GPA_PML4_USER);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(pml4u[i], 0);

	/* the kernel image: -2 GiB, 2 MiB pages over RAM up to 1 GiB, executable */
	const uint64_t *pdpt_k = table(low, LBVM_GPA_PDPT_KTEXT);
	for (unsigned i = 0; i < 512; i++) {
		if (i == 510)
			assert_int_equal(ADDR(pdpt_k[i]), LBVM_GPA_PD_KTEXT);
		else
			assert_int_equal(pdpt_k[i], 0);
		check_entry_flags(pdpt_k[i], mode);
	}
	assert_int_equal(LBVM_KTEXT_BASE >> 30 & 511, 510);
	const uint64_t *pd_k = table(low, LBVM_GPA_PD_KTEXT);
	for (uint64_t i = 0; i < 512; i++) {
		if ((i << 21) < in->ram_size) {
			assert_int_equal(pd_k[i], (i << 21) | PTE_P | PTE_W | (mode == pvm ? PTE_U : 0) | PTE_PS);
		} else {
			assert_int_equal(pd_k[i], 0);
		}
	}

	/* the direct map: RAM and the read-only slot, never executable; nothing else */
	const uint64_t *pdpt_d = table(low, LBVM_GPA_PDPT_DMAP);
	for (uint64_t g = 0; g < 512; g++) {
		if (g < gib)
			assert_int_equal(ADDR(pdpt_d[g]), LBVM_GPA_PD_DMAP + g * 4096);
		else
			assert_int_equal(pdpt_d[g], 0);
		check_entry_flags(pdpt_d[g], mode);
	}
	for (uint64_t g = 0; g < LBVM_DMAP_MAX_GIB; g++) {
		const uint64_t *pd = table(low, LBVM_GPA_PD_DMAP + g * 4096);
		for (uint64_t i = 0; i < 512; i++) {
			uint64_t pa = g * GIB + i * 2 * MIB;
			int mapped = g < gib && (pa < in->ram_size || (pa >= in->ro_gpa && pa < top));
			if (mapped)
				assert_int_equal(pd[i], pa | PTE_P | PTE_W | (mode == pvm ? PTE_U : 0) | PTE_PS | PTE_NX);
			else
				assert_int_equal(pd[i], 0);
		}
	}

	/* the same through a walk */
	uint64_t f;
	assert_int_equal(walk(low, LBVM_KTEXT_BASE + LBVM_GPA_KERNEL + 0x123, &f), LBVM_GPA_KERNEL + 0x123);
	assert_int_equal(f, PTE_P | PTE_W | (mode == pvm ? PTE_U : 0));
	assert_int_equal(walk(low, LBVM_KTEXT_BASE + LBVM_GPA_IDT, &f), LBVM_GPA_IDT);
	assert_int_equal(walk(low, LBVM_DMAP_BASE + in->ram_size - 1, &f), in->ram_size - 1);
	assert_int_equal(f, PTE_P | PTE_W | (mode == pvm ? PTE_U : 0) | PTE_NX);
	assert_int_equal(walk(low, LBVM_DMAP_BASE + in->ro_gpa, &f), in->ro_gpa);
	assert_int_equal(walk(low, LBVM_DMAP_BASE + top - 1, &f), top - 1);
	/* past the read-only slot's last 2 MiB page; the user half; the rest of the kernel half */
	assert_int_equal(walk(low, LBVM_DMAP_BASE + ((top + 2 * MIB - 1) & ~(2 * MIB - 1)), &f), ~0ull);
	assert_int_equal(walk(low, 0x400000, &f), ~0ull);
	assert_int_equal(walk(low, 0, &f), ~0ull);
	assert_int_equal(walk(low, 0xffff800000000000ull, &f), ~0ull);
	assert_int_equal(walk(low, LBVM_KTEXT_BASE - 4096, &f), ~0ull);
	if (in->ram_size < GIB)
		assert_int_equal(walk(low, LBVM_KTEXT_BASE + in->ram_size, &f), ~0ull);
	free(low);
}

static void test_page_tables(void **state)
{
	uint32_t mode = *(const uint32_t *)*state;
	struct cpustate_in in = input(mode);
	check_page_tables(mode, &in);
}

/* the largest guest: 8 GiB and a 1 GiB image: 9 GiB of direct map, the kernel window capped at 1 GiB */
static void test_page_tables_large(void **state)
{
	uint32_t mode = *(const uint32_t *)*state;
	struct cpustate_in in = input(mode);
	in.ram_size = in.ro_gpa = LBVM_RAM_MAX;
	in.ro_slot_size = GIB;
	check_page_tables(mode, &in);
	in.ram_size = in.ro_gpa = LBVM_RAM_MIN;
	in.ro_slot_size = 4096;
	check_page_tables(mode, &in);
	in.ro_slot_size = 4 * MIB;   /* ends on a 2 MiB boundary inside a GiB: the next page stays unmapped */
	check_page_tables(mode, &in);
}

/* only the boot pages are written; a layout past the direct map is refused */
static void test_tables_bounds(void **state)
{
	uint32_t mode = *(const uint32_t *)*state;
	uint8_t *low = malloc(CPUSTATE_LOW_SIZE);
	assert_non_null(low);
	memset(low, 0xee, CPUSTATE_LOW_SIZE);
	struct cpustate_in in = input(mode);
	assert_int_equal(cpustate_tables(&in, low), 0);
	const uint64_t owned[] = { LBVM_GPA_PML4, LBVM_GPA_PDPT_KTEXT, LBVM_GPA_PDPT_DMAP, LBVM_GPA_PD_KTEXT,
				   LBVM_GPA_GDT, LBVM_GPA_TSS };
	for (uint64_t pg = 0; pg < LBVM_GPA_PD_DMAP; pg += 4096) {
		int own = 0;
		for (unsigned i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
			own |= owned[i] == pg;
		if (own)
			continue;
		for (uint64_t b = pg; b < pg + 4096; b++)
			assert_int_equal(low[b], 0xee);   /* boot-shared page, the KPTI user half, vIF, IDT... */
	}

	memset(low, 0xee, CPUSTATE_LOW_SIZE);
	in.ram_size = in.ro_gpa = LBVM_RAM_MAX;
	in.ro_slot_size = (LBVM_DMAP_MAX_GIB << 30) - LBVM_RAM_MAX + 4096;
	assert_int_equal(cpustate_tables(&in, low), -ERANGE);
	in.ro_slot_size = ~0ull - in.ro_gpa + 4097;   /* wraps */
	assert_int_equal(cpustate_tables(&in, low), -ERANGE);
	in.ro_gpa = in.ram_size - 4096;                 /* overlaps RAM */
	in.ro_slot_size = 4096;
	assert_int_equal(cpustate_tables(&in, low), -ERANGE);
	for (uint64_t b = 0; b < CPUSTATE_LOW_SIZE; b++)
		assert_int_equal(low[b], 0xee);           /* refused: nothing written */
	free(low);
}

/* ---- CPUID filtering ---- */

static void test_cpuid_filter(void **state)
{
	(void)state;
	struct cpuid_list before, c;
	host_list(&before, L7_EBX_SMEP | L7_EBX_SMAP, L7_ECX_UMIP);
	c = before;
	cpustate_cpuid(&c.h);

	/* gone: VMX, SVM and the SVM leaf (no nested virtualization) */
	assert_int_equal(c.h.nent, before.h.nent - 1);
	assert_null(find(&c.h, 0x8000000a, 0));
	assert_int_equal(find(&c.h, 1, 0)->ecx & L1_ECX_VMX, 0);
	assert_int_equal(find(&c.h, 0x80000001, 0)->ecx & XL1_ECX_SVM, 0);
	/* kept: the hypervisor bit, KVM's leaves, and every other bit as the host gave it, in order */
	assert_int_equal(find(&c.h, 1, 0)->ecx & L1_ECX_HV, L1_ECX_HV);
	assert_non_null(find(&c.h, 0x40000000, 0));
	assert_non_null(find(&c.h, 0x40000001, 0));
	uint32_t j = 0;
	for (uint32_t i = 0; i < before.h.nent; i++) {
		struct kvm_cpuid_entry2 want = before.e[i];
		if (want.function == 0x8000000a)
			continue;
		if (want.function == 1)
			want.ecx &= ~L1_ECX_VMX;
		if (want.function == 0x80000001)
			want.ecx &= ~XL1_ECX_SVM;
		assert_memory_equal(&c.e[j], &want, sizeof(want));
		j++;
	}
	assert_int_equal(j, c.h.nent);

	/* a list without those leaves comes through whole; an empty one stays empty */
	struct cpuid_list small;
	memset(&small, 0, sizeof(small));
	add(&small, 7, 0, 0, L7_EBX_SMEP, 0, 0);
	add(&small, 0xd, 1, 0xf, 0, 0, 0);
	struct cpuid_list small0 = small;
	cpustate_cpuid(&small.h);
	assert_memory_equal(&small, &small0, sizeof(small));
	small.h.nent = 0;
	cpustate_cpuid(&small.h);
	assert_int_equal(small.h.nent, 0);
}

/*
 * KVM refuses CR4 and EFER bits whose feature the guest's CPUID lacks (ring 0;
 * kvm-pvm is laxer): the filtered list must still offer each one set.
 */
static void test_cpuid_offers_what_the_state_sets(void **state)
{
	(void)state;
	struct cpuid_list c;
	host_list(&c, L7_EBX_SMEP | L7_EBX_SMAP, L7_ECX_UMIP);
	cpustate_cpuid(&c.h);
	struct cpustate_in in = input(ring0);
	struct kvm_sregs sr;
	memset(&sr, 0, sizeof(sr));
	cpustate_sregs(&in, &c.h, &sr);
	const struct kvm_cpuid_entry2 *l1 = find(&c.h, 1, 0), *l7 = find(&c.h, 7, 0), *x1 = find(&c.h, 0x80000001, 0);
	assert_non_null(l1);
	assert_non_null(l7);
	assert_non_null(x1);
	struct { uint64_t reg, bit; uint32_t have; } need[] = {
		{ sr.cr4, CR4_PAE, l1->edx & L1_EDX_PAE },
		{ sr.cr4, CR4_OSFXSR, l1->edx & L1_EDX_FXSR },
		{ sr.cr4, CR4_OSXMMEXCPT, l1->edx & L1_EDX_SSE },
		{ sr.cr4, CR4_OSXSAVE, l1->ecx & L1_ECX_XSAVE },
		{ sr.cr4, CR4_FSGSBASE, l7->ebx & L7_EBX_FSGSBASE },
		{ sr.cr4, CR4_SMEP, l7->ebx & L7_EBX_SMEP },
		{ sr.cr4, CR4_SMAP, l7->ebx & L7_EBX_SMAP },
		{ sr.cr4, CR4_UMIP, l7->ecx & L7_ECX_UMIP },
		{ sr.efer, EFER_SCE, x1->edx & XL1_EDX_SYSCALL },
		{ sr.efer, EFER_NXE, x1->edx & XL1_EDX_NX },
		{ sr.efer, EFER_LME, x1->edx & XL1_EDX_LM },
	};
	for (unsigned i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		assert_int_equal(need[i].reg & need[i].bit, need[i].bit);
		assert_int_not_equal(need[i].have, 0);
	}
	/* the XCR0 the VMM sets is x87, SSE and AVX, within what leaf 0xd offers */
	assert_int_equal(CPUSTATE_XCR0, 7);
	assert_int_equal(CPUSTATE_XCR0 & ~(uint64_t)find(&c.h, 0xd, 0)->eax, 0);
}

#define BOTH(f) cmocka_unit_test_prestate(f, (void *)&pvm), cmocka_unit_test_prestate(f, (void *)&ring0)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_segments),
		BOTH(test_gdt),
		BOTH(test_cr0_efer),
		cmocka_unit_test(test_cr4_pvm),
		cmocka_unit_test(test_cr4_ring0),
		BOTH(test_msrs),
		BOTH(test_regs),
		BOTH(test_page_tables),
		BOTH(test_page_tables_large),
		BOTH(test_tables_bounds),
		cmocka_unit_test(test_cpuid_filter),
		cmocka_unit_test(test_cpuid_offers_what_the_state_sets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
