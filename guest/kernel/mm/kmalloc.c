/* kmalloc.c: small kernel objects in power-of-two size classes carved from whole pages. */
#include "kernel/kernel.h"

#define MIN_SHIFT 5   /* 32 bytes */
#define MAX_SHIFT 11  /* 2048 bytes; larger requests take whole pages */
#define NCLASS (MAX_SHIFT - MIN_SHIFT + 1)

struct free_obj {
	struct free_obj *next;
};

static struct free_obj *free_list[NCLASS];

static unsigned class_of(size_t n)
{
	unsigned c = 0;
	while (((size_t)1 << (c + MIN_SHIFT)) < n)
		c++;
	return c;
}

void *kmalloc(size_t n)
{
	if (n == 0 || n > PAGE_SIZE)
		return NULL;
	if (n > (1u << MAX_SHIFT)) {
		uint64_t pa = pmem_alloc();
		return pa ? pa_to_kva(pa) : NULL;
	}
	unsigned c = class_of(n);
	if (!free_list[c]) {
		uint64_t pa = pmem_alloc();
		if (!pa)
			return NULL;
		uint8_t *page = pa_to_kva(pa);
		size_t sz = (size_t)1 << (c + MIN_SHIFT);
		for (size_t off = 0; off + sz <= PAGE_SIZE; off += sz) {
			struct free_obj *o = (struct free_obj *)(page + off);
			o->next = free_list[c];
			free_list[c] = o;
		}
	}
	struct free_obj *o = free_list[c];
	free_list[c] = o->next;
	memset(o, 0, (size_t)1 << (c + MIN_SHIFT));
	return o;
}

/* Objects are freed with their size: the class is not stored beside them. */
void kfree(void *p, size_t n)
{
	if (!p)
		return;
	if (n > (1u << MAX_SHIFT)) {
		pmem_free(kva_to_pa(p));
		return;
	}
	struct free_obj *o = p;
	unsigned c = class_of(n);
	o->next = free_list[c];
	free_list[c] = o;
}
