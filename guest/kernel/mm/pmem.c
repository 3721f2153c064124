/* pmem.c: the guest-physical page allocator: never-used pages first (already zero), then freed ones. */
#include "kernel/kernel.h"
#include "mm.h"

static uint64_t base;             /* first page the allocator manages */
static uint16_t *refs;            /* per page: how many mappings or owners hold it */
static uint64_t bump, limit;      /* [bump, limit): pages never handed out, still zero */
static uint64_t free_head;        /* freed pages, linked through their first word */
static uint64_t nfree_list, total;

void pmem_init(uint64_t start, uint64_t end)
{
	base = bump = ALIGN_UP(start, PAGE_SIZE);
	limit = ALIGN_DOWN(end, PAGE_SIZE);
	/* The reference counts live in the first pages of the range they count. */
	uint64_t n = limit > bump ? (limit - bump) / PAGE_SIZE : 0;
	refs = pa_to_kva(bump);
	bump += ALIGN_UP(n * sizeof(uint16_t), PAGE_SIZE);
	if (bump > limit)
		bump = limit;
	total = (limit - bump) / PAGE_SIZE;
}

static uint16_t *ref_of(uint64_t pa)
{
	return &refs[(pa - base) / PAGE_SIZE];
}

uint64_t pmem_alloc(void)
{
	if (!free_head && bump >= limit && !mm_reclaim())
		return 0;
	if (free_head) {
		uint64_t pa = free_head;
		uint64_t *p = pa_to_kva(pa);
		free_head = p[0];
		nfree_list--;
		memset(p, 0, PAGE_SIZE);
		*ref_of(pa) = 1;
		return pa;
	}
	if (bump < limit) {
		uint64_t pa = bump;
		bump += PAGE_SIZE;
		*ref_of(pa) = 1;
		return pa;
	}
	return 0;
}

void pmem_get(uint64_t pa)
{
	(*ref_of(pa))++;
}

unsigned pmem_refs(uint64_t pa)
{
	return *ref_of(pa);
}

/* Drop one reference; the page is free when none is left. */
void pmem_free(uint64_t pa)
{
	if (--*ref_of(pa) > 0)
		return;
	uint64_t *p = pa_to_kva(pa);
	p[0] = free_head;
	free_head = pa;
	nfree_list++;
}

/* Free, or held by a cache that gives its pages back on demand (see mm_reclaim). */
uint64_t pmem_free_pages(void)
{
	return nfree_list + (limit - bump) / PAGE_SIZE + mm_cached_pages();
}

uint64_t pmem_total_pages(void)
{
	return total;
}

/* n physically contiguous zeroed pages, from the never-used range only; 0 if it cannot. */
uint64_t pmem_alloc_contig(uint64_t n)
{
	if (n == 0 || n > (limit - bump) / PAGE_SIZE)
		return 0;
	uint64_t pa = bump;
	bump += n * PAGE_SIZE;
	for (uint64_t i = 0; i < n; i++)
		*ref_of(pa + i * PAGE_SIZE) = 1;
	return pa;
}
