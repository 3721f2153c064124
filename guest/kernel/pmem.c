/* pmem.c: the guest-physical page allocator: never-used pages first (already zero), then freed ones. */
#include "kernel.h"

static uint64_t bump, limit;      /* [bump, limit): pages never handed out, still zero */
static uint64_t free_head;        /* freed pages, linked through their first word */
static uint64_t nfree_list, total;

void pmem_init(uint64_t start, uint64_t end)
{
	bump = ALIGN_UP(start, PAGE_SIZE);
	limit = ALIGN_DOWN(end, PAGE_SIZE);
	total = limit > bump ? (limit - bump) / PAGE_SIZE : 0;
}

uint64_t pmem_alloc(void)
{
	if (free_head) {
		uint64_t pa = free_head;
		uint64_t *p = pa_to_kva(pa);
		free_head = p[0];
		nfree_list--;
		memset(p, 0, PAGE_SIZE);
		return pa;
	}
	if (bump < limit) {
		uint64_t pa = bump;
		bump += PAGE_SIZE;
		return pa;
	}
	return 0;
}

void pmem_free(uint64_t pa)
{
	uint64_t *p = pa_to_kva(pa);
	p[0] = free_head;
	free_head = pa;
	nfree_list++;
}

uint64_t pmem_free_pages(void)
{
	return nfree_list + (limit - bump) / PAGE_SIZE;
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
	return pa;
}
