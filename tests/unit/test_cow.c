/* test_cow.c: copy-on-write page tables of guest/kernel/mm/mm.c (fork, write faults, unmap/protect/remap, destroy) on fake guest RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "guest/kernel/mm/mm.h"
#include "guest/kernel/proc/proc.h"
#include "tests/unit/kshim.h"

/* The entry bits mm.c writes: the hardware's, and its software bit for frames it owns. */
#define PTE_P     (1ull << 0)
#define PTE_W     (1ull << 1)
#define PTE_U     (1ull << 2)
#define PTE_A     (1ull << 5)
#define PTE_D     (1ull << 6)
#define PTE_OWNED (1ull << 9)
#define PTE_KEPT  (1ull << 11)   /* not present: a page kept through PROT_NONE */
#define PTE_NX    (1ull << 63)
#define PTE_ADDR  0x000ffffffffff000ull

#define PS        PAGE_SIZE
#define NPAGES    (KSHIM_PHYS_SIZE / PAGE_SIZE)
#define PMEM_LO   (1ull << 20)           /* the allocator's range: above the boot tables */
#define NPAIRS    8                       /* page-table pairs made before the tests, then reused */
#define KSLOT     300                     /* a kernel-half entry of the boot table */
#define KTABLE    0x4000ull              /* the page it points at: outside the allocator */

#define VA        0x0000000010000000ull  /* the test regions */
#define VB        0x0000000020000000ull
#define RW        (PROT_READ | PROT_WRITE)

static struct proc procs_[4];
static struct mm mms_[4];      /* each process's address space (struct proc points to it) */
static uint64_t baseline;                 /* free pages when the test started */
static uint16_t counted[NPAGES];
static uint8_t seen[NPAGES];
static uint64_t drained[NPAGES];

/* ---- reading the tables the way the MMU does ---- */

static uint64_t *pte_ptr(struct mm *mm, uint64_t va)
{
	uint64_t *t = pa_to_kva(mm->pml4_pa);
	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t e = t[(va >> shift) & 511];
		if (!(e & PTE_P))
			return NULL;
		t = pa_to_kva(e & PTE_ADDR);
	}
	return &t[(va >> 12) & 511];
}

static uint64_t pte(struct mm *mm, uint64_t va)
{
	uint64_t *p = pte_ptr(mm, va);
	return p ? *p : 0;
}

static uint64_t frame(struct mm *mm, uint64_t va)
{
	uint64_t e = pte(mm, va);
	assert_true(e & PTE_P);
	return e & PTE_ADDR;
}

static uint8_t *bytes(struct mm *mm, uint64_t va)
{
	return (uint8_t *)pa_to_kva(frame(mm, va)) + (va & (PS - 1));
}

/* What the CPU does for a user access: fault when the entry does not allow it, then touch the byte. */
static void user_write(struct mm *mm, uint64_t va, uint8_t v, uint64_t n)
{
	uint64_t e = pte(mm, va);
	if (!(e & PTE_P) || !(e & PTE_W)) {
		assert_int_equal(mm_fault(mm, va, 1), 0);
		assert_true(pte(mm, va) & PTE_W);
	}
	memset(bytes(mm, va), v, n);
}

static int all_bytes(const uint8_t *p, uint8_t v, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* ---- allocator checks ---- */

static void count_level(uint64_t *t, int shift, int top)
{
	for (int i = 0; i < (top ? 256 : 512); i++) {
		uint64_t e = t[i];
		if (!(e & (shift == 12 ? PTE_P | PTE_KEPT : PTE_P)))
			continue;
		assert_true((e & PTE_U) || (e & PTE_KEPT));
		uint64_t pa = e & PTE_ADDR;
		assert_true(pa < KSHIM_PHYS_SIZE);
		if (shift == 12) {
			if (e & PTE_OWNED)
				counted[pa / PS]++;
			else
				assert_false(e & PTE_W);   /* a frame not owned is never written in place */
			continue;
		}
		assert_int_equal(counted[pa / PS], 0);   /* a table belongs to one place of one tree */
		counted[pa / PS] = 1;
		count_level(pa_to_kva(pa), shift - 9, 0);
	}
}

static void check_writable(uint64_t *t, int shift, int top)
{
	for (int i = 0; i < (top ? 256 : 512); i++) {
		uint64_t e = t[i];
		if (!(e & PTE_P))
			continue;
		if (shift > 12)
			check_writable(pa_to_kva(e & PTE_ADDR), shift - 9, 0);
		else if ((e & PTE_OWNED) && counted[(e & PTE_ADDR) / PS] > 1)
			assert_false(e & PTE_W);            /* a shared frame is writable nowhere */
	}
}

/*
 * The invariants between the live address spaces and the allocator: every
 * table and owned frame has exactly as many references as entries point at
 * it, a frame with two is writable nowhere, the user table of each pair
 * mirrors its kernel table, and no count has gone below zero (a uint16 wrap).
 */
static void audit(struct mm **mms, int n)
{
	memset(counted, 0, sizeof(counted));
	for (int k = 0; k < n; k++) {
		uint64_t *kt = pa_to_kva(mms[k]->pml4_pa), *ut = pa_to_kva(mms[k]->pml4_pa + PS);
		for (int i = 0; i < 256; i++)
			assert_true(ut[i] == kt[i]);
		count_level(kt, 39, 1);
	}
	for (int k = 0; k < n; k++)
		check_writable(pa_to_kva(mms[k]->pml4_pa), 39, 1);
	for (uint64_t pa = PMEM_LO; pa < KSHIM_PHYS_SIZE; pa += PS) {
		unsigned r = pmem_refs(pa);
		assert_true(r < 0x8000);
		if (counted[pa / PS])
			assert_int_equal(r, counted[pa / PS]);
	}
}

static void audit1(struct mm *a) { audit(&a, 1); }
static void audit2(struct mm *a, struct mm *b) { struct mm *m[2] = { a, b }; audit(m, 2); }

/*
 * No leak and no double free: the free count is back where the test began,
 * and taking every free page out of the allocator gives each page once
 * (a page freed twice would be on the free list twice).
 */
static void check_no_leak(void)
{
	assert_int_equal(pmem_free_pages(), baseline);
	memset(seen, 0, sizeof(seen));
	uint64_t n = 0, pa;
	while ((pa = pmem_alloc()) != 0) {
		assert_true(pa >= PMEM_LO && pa < KSHIM_PHYS_SIZE && !(pa & (PS - 1)));
		assert_false(seen[pa / PS]);
		seen[pa / PS] = 1;
		assert_int_equal(pmem_refs(pa), 1);
		drained[n++] = pa;
	}
	assert_int_equal(n, baseline);
	for (uint64_t i = 0; i < n; i++)
		pmem_free(drained[i]);
	assert_int_equal(pmem_free_pages(), baseline);
	for (uint64_t p = PMEM_LO; p < KSHIM_PHYS_SIZE; p += PS)
		assert_true(pmem_refs(p) < 0x8000);
}

/* ---- address spaces ---- */

static struct mm *new_mm(int i)
{
	struct mm *mm = procs_[i].mm;
	uint64_t pgd = mm_new_pgd();
	assert_true(pgd != 0);
	mm_init(mm, pgd);
	return mm;
}

static void put_mm(struct mm *mm)
{
	mm_destroy(mm);
	mm_release(mm);
}

static void clean_level(uint64_t *t, int shift, int top)
{
	for (int i = 0; i < (top ? 256 : 512); i++) {
		if (!(t[i] & PTE_P))
			continue;
		if (shift > 12)
			clean_level(pa_to_kva(t[i] & PTE_ADDR), shift - 9, 0);
		else
			t[i] &= ~PTE_D;
	}
}

/*
 * Forget what fork learns from: no page written since the last round of
 * dirty bits (fresh pages start dirty), no page written by a child. Fork
 * then shares every page, which is what most tests here look at.
 */
static void fresh_history(struct mm *mm)
{
	clean_level(pa_to_kva(mm->pml4_pa), 39, 1);
	mm->nhint = 0;
}

static struct mm *forked(int i, struct mm *src)
{
	struct mm *mm = procs_[i].mm;
	fresh_history(src);
	assert_int_equal(mm_fork(mm, src), 0);
	return mm;
}

/* A region of n eagerly mapped writable pages, page k filled with seed + k. */
static void map_filled(struct mm *mm, uint64_t va, unsigned n, uint8_t seed)
{
	assert_int_equal(mm_map(mm, va, n * PS, RW, 0, 1), 0);
	for (unsigned k = 0; k < n; k++) {
		uint64_t e = pte(mm, va + k * PS);
		assert_true((e & (PTE_P | PTE_W | PTE_U | PTE_OWNED | PTE_NX)) == (PTE_P | PTE_W | PTE_U | PTE_OWNED | PTE_NX));
		user_write(mm, va + k * PS, (uint8_t)(seed + k), PS);
	}
}

static int setup_all(void **state)
{
	kshim_phys_init();
	memset(pa_to_kva(KTABLE), 0x77, PS);
	uint64_t *boot = pa_to_kva(LBVM_GPA_PML4);
	boot[KSLOT] = KTABLE | PTE_P | PTE_W;
	pmem_init(PMEM_LO, KSHIM_PHYS_SIZE);
	/* Pairs come from the never-used range and are kept by mm_release: make them before any count. */
	uint64_t pairs[NPAIRS];
	for (int i = 0; i < NPAIRS; i++) {
		pairs[i] = mm_new_pgd();
		if (!pairs[i] || (pairs[i] & (2 * PS - 1)))
			return -1;
	}
	procs_[0].mm = &mms_[0];
	for (int i = 0; i < NPAIRS; i++) {
		mm_init(procs_[0].mm, pairs[i]);
		mm_release(procs_[0].mm);
	}
	return 0;
}

static int setup(void **state)
{
	memset(procs_, 0, sizeof(procs_));
	for (int i = 0; i < 4; i++)
		procs_[i].mm = &mms_[i];
	current = NULL;
	baseline = pmem_free_pages();
	return 0;
}

/* ---- tests ---- */

/* fork shares every leaf frame with a second reference and takes write away on both sides. */
static void test_fork_shares_read_only(void **state)
{
	struct mm *par = new_mm(0);
	map_filled(par, VA, 4, 0x10);
	par->brk_start = 0x600000;
	par->brk = 0x601000;
	uint64_t fr[4];
	for (int k = 0; k < 4; k++)
		fr[k] = frame(par, VA + k * PS);
	par->tlb_dirty = 0;

	struct mm *ch = forked(1, par);
	assert_true(par->tlb_dirty);
	assert_true(ch->pml4_pa != par->pml4_pa);
	assert_int_equal(ch->nvma, par->nvma);
	assert_memory_equal(ch->vma, par->vma, par->nvma * sizeof(struct vma));
	assert_int_equal(ch->brk_start, 0x600000);
	assert_int_equal(ch->brk, 0x601000);
	for (int k = 0; k < 4; k++) {
		uint64_t va = VA + k * PS, ep = pte(par, va), ec = pte(ch, va);
		assert_int_equal(ep & PTE_ADDR, fr[k]);
		assert_int_equal(ec & PTE_ADDR, fr[k]);
		assert_false(ep & PTE_W);
		assert_false(ec & PTE_W);
		assert_true((ec & (PTE_P | PTE_U | PTE_OWNED | PTE_NX)) == (PTE_P | PTE_U | PTE_OWNED | PTE_NX));
		assert_int_equal(pmem_refs(fr[k]), 2);
		assert_true(pte_ptr(ch, va) != pte_ptr(par, va));   /* tables copied, frames shared */
		assert_true(all_bytes(bytes(ch, va), (uint8_t)(0x10 + k), PS));
	}
	/* The kernel half comes from the boot table, not from the parent, and is left alone. */
	uint64_t *kc = pa_to_kva(ch->pml4_pa);
	assert_int_equal(kc[KSLOT], KTABLE | PTE_P | PTE_W);
	audit2(par, ch);

	put_mm(ch);
	assert_int_equal(kc[KSLOT], KTABLE | PTE_P | PTE_W);
	assert_true(all_bytes(pa_to_kva(KTABLE), 0x77, PS));
	for (int k = 0; k < 4; k++) {
		assert_int_equal(pmem_refs(fr[k]), 1);
		assert_false(pte(par, VA + k * PS) & PTE_W);   /* write comes back only through a fault */
	}
	/* The last owner's fault gives write back without a copy. */
	uint64_t free0 = pmem_free_pages();
	for (int k = 0; k < 4; k++) {
		assert_int_equal(mm_fault(par, VA + k * PS, 1), 0);
		assert_int_equal(pte(par, VA + k * PS) & PTE_ADDR, fr[k]);
		assert_true(pte(par, VA + k * PS) & PTE_W);
		assert_true(all_bytes(bytes(par, VA + k * PS), (uint8_t)(0x10 + k), PS));
	}
	assert_int_equal(pmem_free_pages(), free0);
	audit1(par);
	put_mm(par);
	check_no_leak();
}

/* The child's write copies; the parent keeps its frame and bytes, and its own write later copies nothing. */
static void test_child_write_copies(void **state)
{
	struct mm *par = new_mm(0);
	map_filled(par, VA, 2, 0x40);
	struct mm *ch = forked(1, par);
	uint64_t old = frame(par, VA), old2 = frame(par, VA + PS);

	uint64_t free0 = pmem_free_pages();
	ch->tlb_dirty = 0;
	assert_int_equal(mm_fault(ch, VA + 5, 1), 0);
	assert_false(ch->tlb_dirty);   /* the faulting access itself drops the stale translation */
	uint64_t nf = frame(ch, VA);
	assert_true(nf != old);
	assert_int_equal(pmem_free_pages(), free0 - 1);
	assert_int_equal(pmem_refs(nf), 1);
	assert_int_equal(pmem_refs(old), 1);
	assert_true((pte(ch, VA) & (PTE_W | PTE_OWNED | PTE_NX)) == (PTE_W | PTE_OWNED | PTE_NX));
	assert_true(all_bytes(bytes(ch, VA), 0x40, PS));          /* the copy has the old contents */
	assert_int_equal(frame(par, VA), old);
	assert_false(pte(par, VA) & PTE_W);                         /* not writable until its own fault */

	memset(bytes(ch, VA), 0xcc, PS);
	assert_true(all_bytes(pa_to_kva(old), 0x40, PS));
	assert_true(all_bytes(bytes(par, VA), 0x40, PS));
	/* The page neither touched is still shared. */
	assert_int_equal(frame(ch, VA + PS), old2);
	assert_int_equal(pmem_refs(old2), 2);
	audit2(par, ch);

	uint64_t free1 = pmem_free_pages();
	assert_int_equal(mm_fault(par, VA, 1), 0);
	assert_int_equal(frame(par, VA), old);
	assert_true(pte(par, VA) & PTE_W);
	assert_int_equal(pmem_refs(old), 1);
	assert_int_equal(pmem_free_pages(), free1);
	assert_true(all_bytes(bytes(par, VA), 0x40, PS));
	assert_true(all_bytes(bytes(ch, VA), 0xcc, PS));

	/* A read fault on a shared page changes nothing. */
	assert_int_equal(mm_fault(par, VA + PS, 0), 0);
	assert_false(pte(par, VA + PS) & PTE_W);
	assert_int_equal(pmem_refs(old2), 2);
	audit2(par, ch);

	put_mm(par);
	assert_int_equal(pmem_refs(old2), 1);
	assert_true(all_bytes(bytes(ch, VA + PS), 0x41, PS));
	put_mm(ch);
	check_no_leak();
}

/* Three holders: the first two writers copy, the last one keeps the frame (refcount > 1 decides). */
static void test_three_holders(void **state)
{
	struct mm *a = new_mm(0);
	map_filled(a, VA, 1, 0x21);
	struct mm *b = forked(1, a);
	b->tlb_dirty = 0;
	struct mm *c = forked(2, b);
	assert_true(b->tlb_dirty);
	uint64_t f = frame(a, VA);
	assert_int_equal(frame(c, VA), f);
	assert_int_equal(pmem_refs(f), 3);
	struct mm *all[3] = { a, b, c };
	audit(all, 3);

	user_write(a, VA, 0xa0, 1);
	assert_true(frame(a, VA) != f);
	assert_int_equal(pmem_refs(f), 2);
	user_write(c, VA, 0xc0, 1);
	assert_true(frame(c, VA) != f && frame(c, VA) != frame(a, VA));
	assert_int_equal(pmem_refs(f), 1);
	uint64_t free0 = pmem_free_pages();
	user_write(b, VA, 0xb0, 1);
	assert_int_equal(frame(b, VA), f);
	assert_int_equal(pmem_free_pages(), free0);
	assert_int_equal(bytes(a, VA)[0], 0xa0);
	assert_int_equal(bytes(b, VA)[0], 0xb0);
	assert_int_equal(bytes(c, VA)[0], 0xc0);
	assert_int_equal(bytes(c, VA)[1], 0x21);
	audit(all, 3);

	put_mm(b);
	put_mm(a);
	put_mm(c);
	check_no_leak();
}

/* A frame the allocator does not own (mm_map_phys): shared by fork without a reference, copied on write, never freed. */
static void test_map_phys_never_freed(void **state)
{
	uint64_t ph = pmem_alloc();
	assert_true(ph != 0);
	memset(pa_to_kva(ph), 0x5a, PS);

	struct mm *par = new_mm(0);
	assert_int_equal(mm_map(par, VA, 2 * PS, RW, 0, 0), 0);
	assert_int_equal(mm_map_phys(par, VA, ph, RW), 0);
	assert_int_equal(mm_map_phys(par, VA, ph, RW), -EEXIST);
	uint64_t e = pte(par, VA);
	assert_int_equal(e & PTE_ADDR, ph);
	assert_false(e & PTE_W);
	assert_false(e & PTE_OWNED);
	assert_int_equal(pmem_refs(ph), 1);

	struct mm *ch = forked(1, par);
	assert_int_equal(pte(ch, VA), e);
	assert_int_equal(pmem_refs(ph), 1);
	audit2(par, ch);

	uint64_t free0 = pmem_free_pages();
	assert_int_equal(mm_fault(ch, VA, 1), 0);
	uint64_t cf = frame(ch, VA);
	assert_true(cf != ph);
	assert_true((pte(ch, VA) & (PTE_W | PTE_OWNED)) == (PTE_W | PTE_OWNED));
	assert_int_equal(pmem_free_pages(), free0 - 1);
	assert_true(all_bytes(pa_to_kva(cf), 0x5a, PS));
	memset(pa_to_kva(cf), 0x11, PS);
	assert_true(all_bytes(pa_to_kva(ph), 0x5a, PS));
	assert_int_equal(pte(par, VA), e);
	assert_int_equal(pmem_refs(ph), 1);

	/* Even the only mapping of it is copied: the frame is not the process's to write. */
	assert_int_equal(mm_fault(par, VA, 1), 0);
	assert_true(frame(par, VA) != ph && frame(par, VA) != cf);
	assert_true(pte(par, VA) & PTE_OWNED);
	assert_true(all_bytes(bytes(par, VA), 0x5a, PS));
	assert_int_equal(pmem_refs(ph), 1);
	audit2(par, ch);

	/* Unmapping it, and destroying a space that maps it, leave it alone. */
	assert_int_equal(mm_map_phys(par, VA + PS, ph, PROT_READ), 0);
	struct mm *ch2 = forked(2, par);
	assert_int_equal(mm_unmap(par, VA + PS, PS), 0);
	assert_int_equal(pte(par, VA + PS) & PTE_P, 0);
	assert_int_equal(pmem_refs(ph), 1);
	put_mm(ch2);
	put_mm(ch);
	put_mm(par);
	assert_int_equal(pmem_refs(ph), 1);
	assert_true(all_bytes(pa_to_kva(ph), 0x5a, PS));
	pmem_free(ph);
	check_no_leak();
}

/* mm_unmap and mm_discard free what is owned alone and drop one reference of what is shared. */
static void test_unmap_frees(void **state)
{
	struct mm *par = new_mm(0);
	assert_int_equal(mm_unmap(par, VA + 1, PS), -EINVAL);
	map_filled(par, VA, 8, 0x60);
	uint64_t fr[8];
	for (int k = 0; k < 8; k++)
		fr[k] = frame(par, VA + k * PS);

	uint64_t free0 = pmem_free_pages();
	assert_int_equal(mm_unmap(par, VA + 2 * PS, 2 * PS), 0);
	assert_int_equal(pmem_free_pages(), free0 + 2);
	assert_int_equal(pmem_refs(fr[2]), 0);
	assert_int_equal(pmem_refs(fr[3]), 0);
	assert_int_equal(pte(par, VA + 2 * PS) & PTE_P, 0);
	assert_int_equal(par->nvma, 2);                            /* split around the hole */
	assert_null(mm_find(par, VA + 3 * PS));
	assert_int_equal(mm_fault(par, VA + 2 * PS, 0), -EFAULT);
	audit1(par);

	struct mm *ch = forked(1, par);
	free0 = pmem_free_pages();
	assert_int_equal(mm_unmap(par, VA, 2 * PS), 0);
	assert_int_equal(pmem_free_pages(), free0);                /* still the child's */
	assert_int_equal(pmem_refs(fr[0]), 1);
	assert_int_equal(pmem_refs(fr[1]), 1);
	assert_true(all_bytes(bytes(ch, VA), 0x60, PS));
	user_write(ch, VA, 0x99, PS);                               /* the child's alone now: no copy */
	assert_int_equal(frame(ch, VA), fr[0]);
	assert_int_equal(pmem_free_pages(), free0);
	audit2(par, ch);

	/* discard: the child's page goes (one reference less), a read gives a zero page. */
	assert_int_equal(mm_discard(ch, VA + 4 * PS, PS), 0);
	assert_int_equal(pte(ch, VA + 4 * PS) & PTE_P, 0);
	assert_int_equal(pmem_refs(fr[4]), 1);
	assert_int_equal(frame(par, VA + 4 * PS), fr[4]);
	assert_int_equal(mm_fault(ch, VA + 4 * PS, 0), 0);
	assert_true(frame(ch, VA + 4 * PS) != fr[4]);
	assert_true(all_bytes(bytes(ch, VA + 4 * PS), 0, PS));
	assert_true(all_bytes(bytes(par, VA + 4 * PS), 0x64, PS));
	audit2(par, ch);

	free0 = pmem_free_pages();
	assert_int_equal(mm_unmap(ch, VA, 2 * PS), 0);
	assert_int_equal(pmem_free_pages(), free0 + 2);             /* fr[0] (alone) and fr[1] (alone since the parent unmapped) */
	audit2(par, ch);

	put_mm(par);
	put_mm(ch);
	check_no_leak();
}

/* mm_protect: read-only refuses write faults; making a shared page writable copies it first. */
static void test_protect(void **state)
{
	struct mm *par = new_mm(0);
	current = &procs_[0];
	map_filled(par, VA, 2, 0x30);
	uint64_t f0 = frame(par, VA), f1 = frame(par, VA + PS);

	assert_int_equal(mm_protect(par, VA, 2 * PS, PROT_READ), 0);
	assert_int_equal(mm_find(par, VA)->prot, PROT_READ);
	assert_false(pte(par, VA) & PTE_W);
	assert_int_equal(mm_fault(par, VA, 1), -EFAULT);
	assert_false(pte(par, VA) & PTE_W);
	assert_int_equal(mm_fault(par, VA, 0), 0);
	assert_int_equal(copy_to_user(VA + 10, "x", 1), -EFAULT);
	assert_true(all_bytes(bytes(par, VA), 0x30, PS));
	assert_int_equal(mm_protect(par, VA + 3 * PS, PS, RW), -ENOMEM);   /* not all mapped */

	uint64_t free0 = pmem_free_pages();
	assert_int_equal(mm_protect(par, VA, 2 * PS, RW), 0);       /* alone: same frames, writable again */
	assert_int_equal(frame(par, VA), f0);
	assert_true(pte(par, VA) & PTE_W);
	assert_int_equal(pmem_free_pages(), free0);

	struct mm *ch = forked(1, par);
	free0 = pmem_free_pages();
	assert_int_equal(mm_protect(ch, VA, PS, RW), 0);            /* shared: the child gets its copy */
	assert_true(frame(ch, VA) != f0);
	assert_true(pte(ch, VA) & PTE_W);
	assert_true(all_bytes(bytes(ch, VA), 0x30, PS));
	assert_int_equal(pmem_free_pages(), free0 - 1);
	assert_int_equal(frame(par, VA), f0);
	assert_false(pte(par, VA) & PTE_W);
	assert_int_equal(pmem_refs(f0), 1);
	audit2(par, ch);

	/* PROT_NONE keeps the child's page, not present (as Linux does); access coming back finds the same bytes. */
	assert_int_equal(mm_protect(ch, VA + PS, PS, 0), 0);
	assert_int_equal(pte(ch, VA + PS) & PTE_P, 0);
	assert_int_equal(pmem_refs(f1), 2);
	assert_int_equal(mm_fault(ch, VA + PS, 0), -EFAULT);
	assert_int_equal(ch->nvma, 2);
	audit2(par, ch);
	assert_int_equal(mm_protect(ch, VA + PS, PS, RW), 0);       /* still shared with the parent: copied now */
	assert_true(frame(ch, VA + PS) != f1);
	assert_true(all_bytes(bytes(ch, VA + PS), 0x31, PS));
	assert_int_equal(pmem_refs(f1), 1);
	assert_int_equal(ch->nvma, 1);                               /* alike again: one region */
	audit2(par, ch);

	put_mm(ch);
	put_mm(par);
	check_no_leak();
}

/* copy_to_user through a shared page copies it first, across a page boundary too; reads copy nothing. */
static void test_copy_to_user_shared(void **state)
{
	struct mm *par = new_mm(0);
	map_filled(par, VA, 2, 0xa0);
	struct mm *ch = forked(1, par);
	uint64_t f0 = frame(par, VA), f1 = frame(par, VA + PS);
	current = &procs_[1];

	uint8_t buf[8];
	assert_int_equal(copy_from_user(buf, VA + PS - 4, 8), 0);
	assert_memory_equal(buf, "\xa0\xa0\xa0\xa0\xa1\xa1\xa1\xa1", 8);
	assert_int_equal(frame(ch, VA), f0);
	assert_int_equal(pmem_refs(f0), 2);

	assert_int_equal(copy_to_user(VA + PS - 3, "abcdef", 6), 0);
	uint64_t c0 = frame(ch, VA), c1 = frame(ch, VA + PS);
	assert_true(c0 != f0 && c1 != f1);
	assert_int_equal(pmem_refs(f0), 1);
	assert_int_equal(pmem_refs(f1), 1);
	assert_true(all_bytes(pa_to_kva(c0), 0xa0, PS - 3));
	assert_memory_equal((uint8_t *)pa_to_kva(c0) + PS - 3, "abc", 3);
	assert_memory_equal(pa_to_kva(c1), "def", 3);
	assert_true(all_bytes((uint8_t *)pa_to_kva(c1) + 3, 0xa1, PS - 3));
	assert_true(all_bytes(pa_to_kva(f0), 0xa0, PS));
	assert_true(all_bytes(pa_to_kva(f1), 0xa1, PS));
	assert_false(pte(par, VA) & PTE_W);
	audit2(par, ch);

	char s[16];
	assert_int_equal(strncpy_from_user(s, VA + PS - 3, sizeof(s)), -ENAMETOOLONG);
	assert_int_equal(copy_to_user(VA + 8 * PS, "x", 1), -EFAULT);       /* no region */
	assert_int_equal(copy_to_user(USER_TOP - 1, "xy", 2), -EFAULT);
	assert_int_equal(copy_to_user(~0ull - 1, "xyz", 3), -EFAULT);

	put_mm(ch);
	put_mm(par);
	check_no_leak();
}

/* mm_remap moves frames (not bytes), shared ones included, and frees what a shrink cuts off. */
static void test_remap_moves_frames(void **state)
{
	struct mm *par = new_mm(0);
	map_filled(par, VA, 2, 0x70);
	assert_int_equal(mm_map(par, VA + 2 * PS, PS, PROT_READ, 0, 1), 0);   /* no room to grow in place */
	uint64_t f0 = frame(par, VA), f1 = frame(par, VA + PS);

	long r = mm_remap(par, VA, 2 * PS, 4 * PS, 0, 0, 0);
	assert_int_equal(r, -ENOMEM);
	r = mm_remap(par, VA, 2 * PS, 4 * PS, 1, 0, 0);
	assert_true(r > 0 && (uint64_t)r != VA);
	uint64_t na = (uint64_t)r;
	assert_int_equal(frame(par, na), f0);
	assert_int_equal(frame(par, na + PS), f1);
	assert_int_equal(pmem_refs(f0), 1);
	assert_true(pte(par, na) & PTE_W);
	assert_true(all_bytes(bytes(par, na + PS), 0x71, PS));
	assert_true(all_bytes(bytes(par, na + 3 * PS), 0, PS));
	assert_null(mm_find(par, VA));
	assert_int_equal(pte(par, VA) & PTE_P, 0);
	assert_int_equal(pte(par, VA + PS) & PTE_P, 0);
	audit1(par);

	/* Shrink: the pages cut off are freed. */
	uint64_t free0 = pmem_free_pages();
	assert_int_equal(mm_remap(par, na, 4 * PS, PS, 0, 0, 0), (long)na);
	assert_int_equal(pmem_free_pages(), free0 + 3);
	assert_int_equal(pmem_refs(f1), 0);
	audit1(par);

	/* Grow in place: the frame stays. */
	assert_int_equal(mm_remap(par, na, PS, 2 * PS, 0, 0, 0), (long)na);
	assert_int_equal(frame(par, na), f0);

	/* A shared frame moved by the parent stays shared and read-only; the child keeps it where it was. */
	struct mm *ch = forked(1, par);
	assert_int_equal(mm_remap(par, na, PS, PS, 1, 1, VB), (long)VB);
	assert_int_equal(frame(par, VB), f0);
	assert_false(pte(par, VB) & PTE_W);
	assert_int_equal(pmem_refs(f0), 2);
	assert_int_equal(frame(ch, na), f0);
	audit2(par, ch);
	user_write(par, VB, 0xee, PS);
	assert_true(frame(par, VB) != f0);
	assert_true(all_bytes(pa_to_kva(f0), 0x70, PS));
	assert_int_equal(pmem_refs(f0), 1);
	audit2(par, ch);

	put_mm(par);
	put_mm(ch);
	check_no_leak();
}

/* Many regions, demand faults, writes on both sides; either destruction order gives every page back once. */
static void workload(struct mm **pp, struct mm **cp)
{
	struct mm *par = new_mm(0);
	map_filled(par, VA, 6, 0x01);
	assert_int_equal(mm_map(par, VB, 64 * PS, RW, 0, 0), 0);   /* lazy: faults fill 16 at a time */
	user_write(par, VB + 3 * PS, 0x33, 100);
	user_write(par, VB + 40 * PS, 0x44, 100);
	/* Across a page-table boundary (2 MiB), so several tables are copied. */
	assert_int_equal(mm_map(par, 0x3ff000, 2 * PS, RW, 0, 1), 0);
	struct mm *ch = forked(1, par);
	user_write(ch, VA, 0xc1, PS);
	user_write(par, VA + PS, 0xd1, PS);
	user_write(ch, VB + 3 * PS, 0xc2, 10);
	assert_int_equal(mm_unmap(ch, VA + 4 * PS, PS), 0);
	assert_int_equal(mm_protect(par, VA + 5 * PS, PS, PROT_READ), 0);
	user_write(ch, 0x400000, 0xc3, 1);
	audit2(par, ch);
	assert_int_equal(bytes(par, VB + 3 * PS)[0], 0x33);
	assert_int_equal(bytes(ch, VB + 3 * PS)[0], 0xc2);
	assert_int_equal(bytes(ch, VB + 40 * PS)[0], 0x44);
	*pp = par;
	*cp = ch;
}

static void test_destroy_parent_first(void **state)
{
	struct mm *par, *ch;
	workload(&par, &ch);
	uint64_t f = frame(ch, VB + 40 * PS);
	assert_int_equal(pmem_refs(f), 2);
	put_mm(par);
	assert_int_equal(pmem_refs(f), 1);
	assert_int_equal(bytes(ch, VB + 40 * PS)[0], 0x44);
	audit1(ch);
	put_mm(ch);
	check_no_leak();
}

static void test_destroy_child_first(void **state)
{
	struct mm *par, *ch;
	workload(&par, &ch);
	put_mm(ch);
	audit1(par);
	assert_int_equal(bytes(par, VA)[0], 0x01);
	put_mm(par);
	check_no_leak();
}

/* A fork that runs out of memory half way gives back all it took; the parent goes on as the only owner. */
static void test_fork_out_of_memory(void **state)
{
	struct mm *par = new_mm(0);
	map_filled(par, 0x3fe000, 4, 0x50);        /* two leaf tables: the child needs four tables */
	static uint64_t hog[NPAGES];
	uint64_t nhog = 0;
	while (pmem_free_pages() > 3)        /* enough for the first leaf table, not the second */
		hog[nhog++] = pmem_alloc();
	struct mm *ch = procs_[1].mm;
	fresh_history(par);
	assert_int_equal(mm_fork(ch, par), -ENOMEM);
	mm_release(ch);
	for (uint64_t i = 0; i < nhog; i++)
		pmem_free(hog[i]);
	for (int k = 0; k < 4; k++)
		assert_int_equal(pmem_refs(frame(par, 0x3fe000 + k * PS)), 1);
	assert_false(pte(par, 0x3fe000) & PTE_W);   /* shared before the failure */
	assert_true(pte(par, 0x400000) & PTE_W);    /* never reached */
	audit1(par);
	uint64_t free0 = pmem_free_pages();
	user_write(par, 0x3fe000, 0x51, PS);       /* read-only now, but its own: no copy */
	assert_int_equal(pmem_free_pages(), free0);
	put_mm(par);
	check_no_leak();
}

/* Pages written since the last round are copied at fork, not shared: same bytes, a frame each, both writable. */
static void test_fork_copies_dirty_pages(void **state)
{
	struct mm *par = new_mm(0);
	map_filled(par, VA, 2, 0x80);                 /* fresh pages count as written */
	uint64_t f0 = frame(par, VA), f1 = frame(par, VA + PS);
	assert_true(pte(par, VA) & PTE_D);
	uint64_t free0 = pmem_free_pages();
	struct mm *ch = procs_[1].mm;
	assert_int_equal(mm_fork(ch, par), 0);
	for (int k = 0; k < 2; k++) {
		uint64_t va = VA + k * PS;
		assert_int_equal(frame(par, va), k ? f1 : f0);
		assert_true(frame(ch, va) != frame(par, va));
		assert_int_equal(pmem_refs(frame(par, va)), 1);
		assert_int_equal(pmem_refs(frame(ch, va)), 1);
		assert_true((pte(par, va) & (PTE_W | PTE_D)) == (PTE_W | PTE_D));   /* not a new round yet */
		assert_true((pte(ch, va) & (PTE_W | PTE_OWNED | PTE_NX)) == (PTE_W | PTE_OWNED | PTE_NX));
		assert_true(all_bytes(bytes(ch, va), (uint8_t)(0x80 + k), PS));
	}
	assert_true(pmem_free_pages() < free0 - 1);
	audit2(par, ch);
	/* Each side writes its own frame, no fault and no copy. */
	memset(bytes(ch, VA), 0xc0, PS);
	assert_true(all_bytes(bytes(par, VA), 0x80, PS));
	put_mm(ch);

	/* Every FORK_DIRTY_ROUND-th fork clears the parent's dirty bits: what it no longer writes is shared again. */
	for (int n = 2; n <= FORK_DIRTY_ROUND; n++) {
		assert_int_equal(mm_fork(ch, par), 0);
		put_mm(ch);
	}
	assert_false(pte(par, VA) & PTE_D);
	assert_true(pte(par, VA) & PTE_W);
	assert_int_equal(mm_fork(ch, par), 0);
	assert_int_equal(frame(ch, VA), f0);
	assert_int_equal(pmem_refs(f0), 2);
	assert_false(pte(par, VA) & PTE_W);
	audit2(par, ch);
	put_mm(ch);
	put_mm(par);
	check_no_leak();
}

/* However much the parent wrote, a fork copies at most FORK_COPY_MAX pages; the rest is shared. */
static void test_fork_copy_is_bounded(void **state)
{
	enum { N = 4 * FORK_COPY_MAX };
	struct mm *par = new_mm(0);
	map_filled(par, VA, N, 0x01);
	struct mm *ch = procs_[1].mm;
	assert_int_equal(mm_fork(ch, par), 0);
	unsigned copied = 0, shared = 0;
	for (int k = 0; k < N; k++) {
		uint64_t va = VA + k * PS;
		if (frame(ch, va) == frame(par, va)) {
			shared++;
			assert_int_equal(pmem_refs(frame(par, va)), 2);
			assert_false(pte(par, va) & PTE_W);
		} else {
			copied++;
			assert_true(all_bytes(bytes(ch, va), (uint8_t)(0x01 + k), PS));
		}
	}
	assert_int_equal(copied, FORK_COPY_MAX);
	assert_int_equal(shared, N - FORK_COPY_MAX);
	audit2(par, ch);
	put_mm(ch);
	put_mm(par);
	check_no_leak();
}

/* A page the child wrote before exec is copied for the parent's next child; the parent's own entry stays as it was. */
static void test_fork_learns_child_writes(void **state)
{
	struct mm *par = new_mm(0);
	map_filled(par, VA, 3, 0x20);
	struct mm *ch = forked(1, par);
	user_write(ch, VA + PS, 0x99, 1);             /* a copy-on-write fault in the child */
	put_mm(ch);                                   /* it exits (or execs: the same for its parent) */
	uint64_t f1 = frame(par, VA + PS);
	assert_int_equal(pmem_refs(f1), 1);
	assert_false(pte(par, VA + PS) & PTE_W);

	clean_level(pa_to_kva(par->pml4_pa), 39, 1);
	assert_int_equal(mm_fork(ch, par), 0);
	assert_true(frame(ch, VA + PS) != f1);        /* copied up front */
	assert_true(pte(ch, VA + PS) & PTE_W);
	assert_true(all_bytes(bytes(ch, VA + PS), 0x21, PS));
	assert_int_equal(frame(par, VA + PS), f1);    /* the parent's entry is untouched */
	assert_false(pte(par, VA + PS) & PTE_W);
	assert_int_equal(pmem_refs(f1), 1);
	assert_int_equal(frame(ch, VA), frame(par, VA)); /* the others are shared */
	audit2(par, ch);
	put_mm(ch);

	/* A page of a read-only region is copied read-only. */
	assert_int_equal(mm_protect(par, VA + PS, PS, PROT_READ), 0);
	assert_int_equal(mm_fork(ch, par), 0);
	assert_false(pte(ch, VA + PS) & PTE_W);
	assert_int_equal(mm_fault(ch, VA + PS, 1), -EFAULT);
	audit2(par, ch);
	put_mm(ch);

	/* A child of an address space that has since been replaced teaches nothing. */
	struct mm *ch2 = forked(1, par), *ch3 = forked(2, par);
	mm_destroy(par);
	assert_int_equal(mm_map(par, VA, 3 * PS, RW, 0, 1), 0);
	assert_int_equal(pmem_refs(frame(ch2, VA + 2 * PS)), 2);   /* still shared, with ch3 */
	user_write(ch2, VA + 2 * PS, 0x11, 1);
	assert_int_equal(par->nhint, 0);
	put_mm(ch2);
	put_mm(ch3);
	put_mm(par);
	check_no_leak();
}

/* An address space's tables outlive it: the next one on the pair reuses them, and they count as free memory. */
static void test_tables_are_reused(void **state)
{
	struct mm *par = new_mm(0);
	map_filled(par, VA, 2, 0x30);
	struct mm *ch = forked(1, par);
	uint64_t pair = ch->pml4_pa, *slot = pte_ptr(ch, VA);
	unsigned ntables = ch->ntables;
	assert_true(ntables >= 3);
	uint64_t free0 = pmem_free_pages();
	put_mm(ch);
	assert_int_equal(pmem_free_pages(), free0 + mm_cached_pages());   /* the tables count as free */
	assert_true(mm_cached_pages() >= ntables);

	ch = forked(1, par);
	assert_int_equal(ch->pml4_pa, pair);
	assert_true(pte_ptr(ch, VA) == slot);          /* the same leaf table, filled again */
	assert_int_equal(ch->ntables, ntables);
	assert_int_equal(frame(ch, VA), frame(par, VA));
	audit2(par, ch);

	/* exec: the pages go, the tables stay, and what is mapped again lands in them. */
	mm_destroy(ch);
	assert_int_equal(pte(ch, VA), 0);
	assert_true(pte_ptr(ch, VA) == slot);
	assert_int_equal(pmem_refs(frame(par, VA)), 1);
	assert_int_equal(mm_map(ch, VA, PS, RW, 0, 1), 0);
	assert_true(pte_ptr(ch, VA) == slot);
	assert_int_equal(ch->ntables, ntables);
	audit2(par, ch);
	put_mm(ch);
	put_mm(par);
	check_no_leak();                              /* draining the allocator takes the cached tables back */
}

/* A user fault needs no flush (the faulting access drops the stale entry); the kernel writing through a read-only entry does. */
static void test_flush_only_when_needed(void **state)
{
	struct mm *par = new_mm(0);
	map_filled(par, VA, 2, 0x50);
	struct mm *ch = forked(1, par);
	current = &procs_[1];
	ch->tlb_dirty = 0;
	assert_int_equal(mm_fault(ch, VA, 1), 0);
	assert_false(ch->tlb_dirty);
	assert_int_equal(copy_to_user(VA + PS, "k", 1), 0);
	assert_true(ch->tlb_dirty);
	ch->tlb_dirty = 0;
	assert_int_equal(mm_fault(ch, VA + 8 * PS, 0), -EFAULT);
	assert_false(ch->tlb_dirty);

	/* mm_copy_out writes into an address space that is not the current one, copying a shared page first. */
	current = &procs_[0];
	uint64_t f = frame(par, VA);
	int v = 1234;
	assert_int_equal(mm_copy_out(ch, VA + 16, &v, sizeof(v)), 0);
	assert_int_equal(*(int *)bytes(ch, VA + 16), 1234);
	assert_int_equal(frame(par, VA), f);
	assert_true(all_bytes(bytes(par, VA), 0x50, PS));
	audit2(par, ch);
	put_mm(ch);
	put_mm(par);
	check_no_leak();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fork_shares_read_only, setup),
		cmocka_unit_test_setup(test_child_write_copies, setup),
		cmocka_unit_test_setup(test_three_holders, setup),
		cmocka_unit_test_setup(test_map_phys_never_freed, setup),
		cmocka_unit_test_setup(test_unmap_frees, setup),
		cmocka_unit_test_setup(test_protect, setup),
		cmocka_unit_test_setup(test_copy_to_user_shared, setup),
		cmocka_unit_test_setup(test_remap_moves_frames, setup),
		cmocka_unit_test_setup(test_destroy_parent_first, setup),
		cmocka_unit_test_setup(test_destroy_child_first, setup),
		cmocka_unit_test_setup(test_fork_out_of_memory, setup),
		cmocka_unit_test_setup(test_fork_copies_dirty_pages, setup),
		cmocka_unit_test_setup(test_fork_copy_is_bounded, setup),
		cmocka_unit_test_setup(test_fork_learns_child_writes, setup),
		cmocka_unit_test_setup(test_tables_are_reused, setup),
		cmocka_unit_test_setup(test_flush_only_when_needed, setup),
	};
	return cmocka_run_group_tests(tests, setup_all, NULL);
}
