/* mm.c: user address spaces: 4-level page tables reached through the direct map, regions, eager mapping. */
#include "arch/cpu.h"
#include "mm.h"
#include "kernel/proc/proc.h"

#define PTE_P     (1ull << 0)
#define PTE_W     (1ull << 1)
#define PTE_U     (1ull << 2)   /* set on every present entry: kvm-pvm requires it, and ring 0 ignores nothing it needs */
#define PTE_A     (1ull << 5)
#define PTE_D     (1ull << 6)
#define PTE_OWNED (1ull << 9)   /* software bit: the frame came from pmem_alloc and is freed with the mapping */
#define PTE_SHARED (1ull << 10) /* software bit: a file's page in a MAP_SHARED mapping: written in place, never copied */
#define PTE_KEPT  (1ull << 11)  /* software bit, not present: a page of a PROT_NONE region, kept for when access returns */
#define PTE_HELD  (PTE_P | PTE_KEPT)
#define PTE_NX    (1ull << 63)
#define PTE_ADDR  0x000ffffffffff000ull

/*
 * Accessed is set in every entry we write, and dirty in every writable page
 * we map. A shadow MMU (kvm-pvm) then has no bits to write back into our
 * tables, fills the neighbours of a faulting page in the same exit (it
 * prefetches only entries marked accessed), maps a writable page writable
 * at once, and keeps its copy of an entry through a resync as long as the
 * entry's frame and rights stay the same. Fork reads the dirty bit as
 * "written lately" (fork_entry).
 */
#define PTE_TABLE (PTE_P | PTE_W | PTE_U | PTE_A)   /* an entry that points at a lower table */

/* Eager mapping saves a ~50 us fault per page; past this size a region is filled on demand. */
#define EAGER_MAX (256ull << 20)
/* A fault in a file region maps the aligned window around it: one file read instead of sixteen. */
#define FILE_WINDOW (64ull << 10)

static uint64_t *table_of(uint64_t entry)
{
	return pa_to_kva(entry & PTE_ADDR);
}

/* A new, empty table under entry i of t; the top level is mirrored into the user half of the KPTI pair. */
static uint64_t *link_table(struct mm *mm, uint64_t *t, unsigned i, int top)
{
	uint64_t pa = pmem_alloc();
	if (!pa)
		return NULL;
	mm->ntables++;
	t[i] = pa | PTE_TABLE;
	if (top)
		((uint64_t *)pa_to_kva(mm->pml4_pa + PAGE_SIZE))[i] = t[i];
	return pa_to_kva(pa);
}

/* The PTE for va, allocating intermediate tables when create is set. NULL if absent or out of memory. */
static uint64_t *pte_get(struct mm *mm, uint64_t va, int create)
{
	uint64_t *t = pa_to_kva(mm->pml4_pa);
	for (int shift = 39; shift > 12; shift -= 9) {
		unsigned i = (va >> shift) & 511;
		if (!(t[i] & PTE_P)) {
			if (!create)
				return NULL;
			if (!link_table(mm, t, i, shift == 39))
				return NULL;
		}
		t = table_of(t[i]);
	}
	return &t[(va >> 12) & 511];
}

static uint64_t pte_flags(uint32_t prot)
{
	uint64_t f = PTE_P | PTE_U | PTE_A;
	if (prot & PROT_WRITE)
		f |= PTE_W | PTE_D;
	if (!(prot & PROT_EXEC))
		f |= PTE_NX;
	return f;
}

static uint64_t mm_gens;

/* A new program in mm (or none): what its children taught fork no longer applies. */
static void mm_renew(struct mm *mm)
{
	mm->gen = ++mm_gens;
	mm->forked_from = NULL;
	mm->nhint = 0;
	mm->nforks = 0;
}

void mm_init(struct mm *mm, uint64_t pml4_pa)
{
	/* Not a memset: the region array is 24 KiB, and each page touched first costs a shadow-paging fault. */
	mm->pml4_pa = pml4_pa;
	mm->ntables = 0;
	mm_renew(mm);
	mm->nvma = 0;
	mm->brk_start = mm->brk = 0;
	mm->tlb_dirty = 0;
}

struct vma *mm_find(struct mm *mm, uint64_t va)
{
	for (unsigned i = 0; i < mm->nvma; i++) {
		if (va < mm->vma[i].start)
			return NULL;
		if (va < mm->vma[i].end)
			return &mm->vma[i];
	}
	return NULL;
}

static void unmap_page(struct mm *mm, uint64_t va)
{
	uint64_t *pte = pte_get(mm, va, 0);
	if (!pte || !(*pte & PTE_HELD))
		return;
	if (*pte & PTE_OWNED)
		pmem_free(*pte & PTE_ADDR);
	if (*pte & PTE_P)
		mm->tlb_dirty = 1;
	*pte = 0;
}

/* Region i becomes [start, at) and, as region i + 1, [at, end); a file region's second part holds its own reference. */
static int split_vma(struct mm *mm, unsigned i, uint64_t at)
{
	if (mm->nvma >= VMA_MAX)
		return -ENOMEM;
	struct vma *v = &mm->vma[i];
	memmove(v + 1, v, (mm->nvma - i) * sizeof(*v));
	mm->nvma++;
	v[1].start = at;
	v[1].off = v->off + (at - v->start);
	v->end = at;
	if (v->file)
		filemap_hold(v->file);
	return 0;
}

static void unmap_range(struct mm *mm, uint64_t start, uint64_t end)
{
	for (uint64_t va = start; va < end; va += PAGE_SIZE)
		unmap_page(mm, va);
}

/* Region i goes with its pages; its file (to be let go by the caller, which may wait) is returned. */
static struct vnode *remove_vma(struct mm *mm, unsigned i)
{
	struct vma *v = &mm->vma[i];
	struct vnode *file = v->file;
	unmap_range(mm, v->start, v->end);
	memmove(v, v + 1, (mm->nvma - i - 1) * sizeof(*v));
	mm->nvma--;
	return file;
}

/* Regions i and i + 1 are one if they touch and are alike (the same file, at following offsets). */
static int mergeable(const struct vma *a, const struct vma *b)
{
	return a->end == b->start && a->prot == b->prot && a->flags == b->flags && a->file == b->file &&
	       (!a->file || a->off + (a->end - a->start) == b->off);
}

/* Join the regions that touch [start, end) where they are alike; a merged file region keeps one reference. */
static void merge_around(struct mm *mm, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i + 1 < mm->nvma;) {
		struct vma *v = &mm->vma[i];
		if (v->end < start || v->start > end || !mergeable(v, v + 1)) {
			i++;
			continue;
		}
		struct vnode *file = v->file;
		v->end = v[1].end;
		memmove(v + 1, v + 2, (mm->nvma - i - 2) * sizeof(*v));
		mm->nvma--;
		if (file)
			filemap_release(file);   /* the merged region still holds one: never the last */
	}
}

/*
 * Cut [start, end) out of the region list, unmapping its pages. Shared file
 * pages reach their files first, and files are let go last: both may wait
 * for the host, when another thread may change the list, so it is walked
 * again after each.
 */
static int carve(struct mm *mm, uint64_t start, uint64_t end)
{
	int err = mm_sync(mm, start, end - start);
	if (err)
		return err;
	for (unsigned i = 0; i < mm->nvma;) {
		struct vma *v = &mm->vma[i];
		if (v->end <= start) {
			i++;
			continue;
		}
		if (v->start >= end)
			break;
		if (v->start < start && v->end > end) { /* a hole in the middle: the second part is trimmed next */
			if (split_vma(mm, i, start))
				return -ENOMEM;
			i++;
			continue;
		}
		if (v->start < start) {                 /* trim the tail */
			unmap_range(mm, start, v->end);
			v->end = start;
			i++;
			continue;
		}
		if (v->end > end) {                     /* trim the head */
			unmap_range(mm, v->start, end);
			v->off += end - v->start;
			v->start = end;
			break;
		}
		struct vnode *file = remove_vma(mm, i);
		if (file) {
			filemap_release(file);
			i = 0;
		}
	}
	return 0;
}

/* Add region r (its file reference is taken here), growing the neighbour instead when they are alike: keeps brk and stack one region. */
static int insert(struct mm *mm, const struct vma *r)
{
	unsigned i = 0;
	while (i < mm->nvma && mm->vma[i].start < r->start)
		i++;
	if (i > 0 && mergeable(&mm->vma[i - 1], r)) {
		mm->vma[i - 1].end = r->end;
		return 0;
	}
	if (mm->nvma >= VMA_MAX)
		return -ENOMEM;
	memmove(&mm->vma[i + 1], &mm->vma[i], (mm->nvma - i) * sizeof(struct vma));
	mm->vma[i] = *r;
	mm->nvma++;
	if (r->file)
		filemap_hold(r->file);
	return 0;
}

static int populate(struct mm *mm, uint64_t start, uint64_t end, uint32_t prot)
{
	uint64_t f = pte_flags(prot) | PTE_OWNED;
	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t *pte = pte_get(mm, va, 1);
		if (!pte)
			return -ENOMEM;
		if (*pte & PTE_HELD)
			continue;
		uint64_t pa = pmem_alloc();
		if (!pa)
			return -ENOMEM;
		*pte = pa | f;
	}
	return 0;
}

int mm_map_file(struct mm *mm, uint64_t start, uint64_t len, uint32_t prot, uint32_t flags, struct vnode *vn,
		uint64_t off)
{
	uint64_t end = start + len;
	if (len == 0 || end < start || end > USER_TOP || (start & (PAGE_SIZE - 1)))
		return -EINVAL;
	int err = carve(mm, start, end);
	if (err)
		return err;
	return insert(mm, &(struct vma){ start, end, prot, flags, vn, off });
}

/* Map now what [start, end) lacks: anonymous regions get zero pages, file regions their file's bytes. */
int mm_fill(struct mm *mm, uint64_t start, uint64_t end)
{
	for (uint64_t va = start; va < end;) {
		struct vma *v = mm_find(mm, va);
		if (!v)
			return -ENOMEM;
		uint64_t hi = v->end < end ? v->end : end;
		int err = 0;
		if (v->prot && v->file)
			err = filemap_fill(mm, v, va, hi);
		else if (v->prot)
			err = populate(mm, va, hi, v->prot);
		if (err)
			return err;
		va = hi;
	}
	return 0;
}

/* The shared file pages in [start, start + len) reach their files. Each region is copied out first: writing may wait. */
int mm_sync(struct mm *mm, uint64_t start, uint64_t len)
{
	uint64_t end = start + len;
	for (uint64_t va = start; va < end;) {
		unsigned i = 0;
		while (i < mm->nvma && mm->vma[i].end <= va)
			i++;
		if (i == mm->nvma || mm->vma[i].start >= end)
			break;
		struct vma v = mm->vma[i];
		uint64_t lo = v.start > va ? v.start : va, hi = v.end < end ? v.end : end;
		if (v.file && (v.flags & VMA_SHARED)) {
			int err = filemap_sync(&v, lo, hi);
			if (err)
				return err;
		}
		va = hi;
	}
	return 0;
}

int mm_map(struct mm *mm, uint64_t start, uint64_t len, uint32_t prot, uint32_t flags, int eager)
{
	uint64_t end = start + len;
	int err = mm_map_file(mm, start, len, prot, flags, NULL, 0);
	if (err)
		return err;
	if (eager && prot && len <= EAGER_MAX && len / PAGE_SIZE < pmem_free_pages()) {
		err = populate(mm, start, end, prot);
		if (err) {
			carve(mm, start, end);
			return err;
		}
	}
	return 0;
}

int mm_unmap(struct mm *mm, uint64_t start, uint64_t len)
{
	uint64_t end = start + ALIGN_UP(len, PAGE_SIZE);
	if ((start & (PAGE_SIZE - 1)) || len == 0 || end < start || end > USER_TOP)
		return -EINVAL;
	return carve(mm, start, end);
}

int mm_discard(struct mm *mm, uint64_t start, uint64_t len)
{
	uint64_t end = start + ALIGN_UP(len, PAGE_SIZE);
	if (end < start || end > USER_TOP)
		return -EINVAL;
	for (uint64_t va = start; va < end; va += PAGE_SIZE)
		unmap_page(mm, va);
	return 0;
}

/*
 * Make the page behind pte this address space's alone, so it may be written:
 * copy a frame the allocator does not own (the program's or the image's
 * bytes), or one still shared with another process after fork.
 */
static int own_page(uint64_t *pte)
{
	uint64_t old = *pte & PTE_ADDR;
	if ((*pte & PTE_OWNED) && pmem_refs(old) == 1)
		return 0;
	uint64_t pa = pmem_alloc();
	if (!pa)
		return -ENOMEM;
	memcpy(pa_to_kva(pa), pa_to_kva(old), PAGE_SIZE);
	if (*pte & PTE_OWNED)
		pmem_free(old);
	*pte = (*pte & ~PTE_ADDR) | pa | PTE_OWNED;
	return 0;
}

/* Split the regions that straddle start or end, so that [start, end) is whole regions. */
static int split_edges(struct mm *mm, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < mm->nvma; i++) {
		struct vma *v = &mm->vma[i];
		uint64_t at = v->start < start && v->end > start ? start : v->start < end && v->end > end ? end : 0;
		if (at && split_vma(mm, i, at))
			return -ENOMEM;
	}
	return 0;
}

/*
 * The entries of [lo, hi) for protection prot. Pages stay through PROT_NONE
 * (kept, not present), as Linux keeps them: a private copy must come back
 * as it was. A shared file page that becomes writable is let go and mapped
 * again by the fill, which tells its file system the page may be written.
 */
static int protect_pages(struct mm *mm, uint64_t lo, uint64_t hi, uint32_t prot, int shared_file)
{
	uint64_t f = pte_flags(prot);
	for (uint64_t p = lo; p < hi; p += PAGE_SIZE) {
		uint64_t *pte = pte_get(mm, p, 0);
		if (!pte || !(*pte & PTE_HELD))
			continue;
		if (*pte & PTE_P)
			mm->tlb_dirty = 1;
		if (!prot) {
			*pte = (*pte & (PTE_ADDR | PTE_OWNED | PTE_SHARED)) | PTE_KEPT;
			continue;
		}
		if (shared_file && (prot & PROT_WRITE) && !(*pte & PTE_W)) {
			unmap_page(mm, p);
			continue;
		}
		if ((prot & PROT_WRITE) && !(*pte & PTE_SHARED) && own_page(pte))
			return -ENOMEM;
		*pte = (*pte & (PTE_ADDR | PTE_OWNED | PTE_SHARED)) | f;
	}
	return 0;
}

int mm_protect(struct mm *mm, uint64_t start, uint64_t len, uint32_t prot)
{
	uint64_t end = start + ALIGN_UP(len, PAGE_SIZE);
	if ((start & (PAGE_SIZE - 1)) || end < start || end > USER_TOP)
		return -EINVAL;
	/* Every page of the range must belong to some region (Linux: ENOMEM otherwise). */
	for (uint64_t va = start; va < end;) {
		struct vma *v = mm_find(mm, va);
		if (!v)
			return -ENOMEM;
		va = v->end;
	}
	int err = split_edges(mm, start, end);
	if (err)
		return err;
	for (unsigned i = 0; i < mm->nvma && mm->vma[i].start < end; i++) {
		struct vma *v = &mm->vma[i];
		if (v->end <= start)
			continue;
		v->prot = prot;
		err = protect_pages(mm, v->start, v->end, prot, v->file && (v->flags & VMA_SHARED));
		if (err)
			return err;
	}
	merge_around(mm, start, end);
	/* Memory that became accessible is filled now rather than one fault at a time. */
	if (prot && end - start <= EAGER_MAX && (end - start) / PAGE_SIZE < pmem_free_pages())
		mm_fill(mm, start, end);
	return 0;
}

int mm_set_page(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot, int kind)
{
	uint64_t *pte = pte_get(mm, va, 1);
	if (!pte)
		return -ENOMEM;
	if (*pte & PTE_HELD)
		return -EEXIST;
	if (kind == PAGE_FOREIGN) {
		*pte = pa | pte_flags(prot & ~PROT_WRITE);
	} else if (kind == PAGE_PRIVATE) {
		*pte = pa | pte_flags(prot) | PTE_OWNED;
	} else {
		pmem_get(pa);
		*pte = pa | pte_flags(prot) | PTE_OWNED | PTE_SHARED;
	}
	return 0;
}

int mm_page_held(struct mm *mm, uint64_t va)
{
	uint64_t *pte = pte_get(mm, va, 0);
	return pte && (*pte & PTE_HELD);
}

int mm_map_phys(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot)
{
	return mm_set_page(mm, va, pa, prot, PAGE_FOREIGN);
}

/* A page of a file mapped MAP_SHARED: both share its frame (one more reference), writes land in the file. */
uint64_t mm_shared_pa(struct mm *mm, uint64_t va)
{
	uint64_t *pte = pte_get(mm, va & ~(uint64_t)(PAGE_SIZE - 1), 0);
	if (!pte || !(*pte & PTE_P) || !(*pte & PTE_SHARED))
		return 0;
	return (*pte & PTE_ADDR) | (va & (PAGE_SIZE - 1));
}

int mm_map_shared(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot)
{
	return mm_set_page(mm, va, pa, prot, PAGE_SHARED);
}

/* Write bytes into the page at va (allocating or privatising it): used by the ELF loader. */
int mm_page_write(struct mm *mm, uint64_t va, const void *src, uint64_t off, uint64_t len)
{
	struct vma *v = mm_find(mm, va);
	uint64_t *pte = pte_get(mm, va, 1);
	if (!pte || !v)
		return -ENOMEM;
	if (!(*pte & PTE_HELD)) {
		uint64_t pa = pmem_alloc();
		if (!pa)
			return -ENOMEM;
		*pte = pa | pte_flags(v->prot) | PTE_OWNED;
	} else if (own_page(pte)) {
		return -ENOMEM;
	}
	memcpy((uint8_t *)pa_to_kva(*pte & PTE_ADDR) + off, src, len);
	return 0;
}

uint64_t mm_find_free(struct mm *mm, uint64_t len, uint64_t hint)
{
	if (hint && hint >= MMAP_MIN && hint + len <= MMAP_TOP && hint + len > hint) {
		int clash = 0;
		for (unsigned i = 0; i < mm->nvma; i++)
			if (mm->vma[i].start < hint + len && mm->vma[i].end > hint)
				clash = 1;
		if (!clash)
			return hint;
	}
	/* Top-down below MMAP_TOP, like Linux's default layout. */
	uint64_t top = MMAP_TOP;
	for (int i = (int)mm->nvma - 1; i >= -1; i--) {
		uint64_t lo = i >= 0 ? mm->vma[i].end : MMAP_MIN;
		if (i >= 0 && mm->vma[i].start >= top)
			continue;
		if (top >= lo + len && top - len >= lo)
			return top - len;
		if (i >= 0 && mm->vma[i].start < top)
			top = mm->vma[i].start;
	}
	return 0;
}

/*
 * A child that writes a page shared with its parent before it execs will
 * likely do the same next time: the parent's next fork copies that page for
 * its child up front (copy_level) rather than through a fault.
 */
static void note_child_write(struct mm *mm, uint64_t va)
{
	struct mm *par = mm->forked_from;
	if (!par || par->gen != mm->forked_gen)
		return;
	va = ALIGN_DOWN(va, PAGE_SIZE);
	for (unsigned i = 0; i < par->nhint && i < FORK_HINTS; i++)
		if (par->hint[i] == va)
			return;
	par->hint[par->nhint++ % FORK_HINTS] = va;
}

static int is_hint(const struct mm *mm, uint64_t va)
{
	for (unsigned i = 0; i < mm->nhint && i < FORK_HINTS; i++)
		if (mm->hint[i] == va)
			return 1;
	return 0;
}

/*
 * A user access to va faulted. Only va's own entry changes (or entries that
 * were not present), so no flush is needed: the fault itself drops the
 * stale translation of va, and a shadow MMU refills it from the new entry.
 */
int mm_fault(struct mm *mm, uint64_t va, int write)
{
	struct vma *v = mm_find(mm, va);
	if (!v || !v->prot || (write && !(v->prot & PROT_WRITE)))
		return -EFAULT;
	uint64_t *pte = pte_get(mm, va, 1);
	if (!pte)
		return -ENOMEM;
	if (*pte & PTE_P) {
		if (write && !(*pte & PTE_W) && (*pte & PTE_SHARED)) {
			*pte |= PTE_W | PTE_D;
		} else if (write && !(*pte & PTE_W)) {
			if ((*pte & PTE_OWNED) && pmem_refs(*pte & PTE_ADDR) > 1)
				note_child_write(mm, va);
			if (own_page(pte))
				return -ENOMEM;
			*pte |= PTE_W | PTE_D;
		}
		return 0;
	}
	/* Fill a little ahead: the next faults in a region are likely neighbours. */
	uint64_t lo = ALIGN_DOWN(va, PAGE_SIZE), hi = lo + 16 * PAGE_SIZE;
	if (v->file) {
		lo = ALIGN_DOWN(va, FILE_WINDOW);
		hi = lo + FILE_WINDOW;
		lo = lo > v->start ? lo : v->start;
	}
	if (hi > v->end)
		hi = v->end;
	if (!v->file)
		return populate(mm, lo, hi, v->prot);
	int err = filemap_fill(mm, v, lo, hi);
	if (err)
		return err;
	/* A file's page may come read-only (the image's own, or a shared one): a write copies or marks it now. */
	pte = pte_get(mm, va, 0);
	if (write && pte && (*pte & PTE_P) && !(*pte & PTE_W))
		return mm_fault(mm, va, write);
	return 0;
}

long mm_remap(struct mm *mm, uint64_t old, uint64_t old_len, uint64_t new_len, int may_move, int fixed, uint64_t new_addr)
{
	old_len = ALIGN_UP(old_len, PAGE_SIZE);
	new_len = ALIGN_UP(new_len, PAGE_SIZE);
	if ((old & (PAGE_SIZE - 1)) || !new_len || old + old_len < old)
		return -EINVAL;
	struct vma *v = mm_find(mm, old);
	if (!v || old + old_len > v->end)
		return -EFAULT;
	uint32_t prot = v->prot, flags = v->flags;
	struct vnode *file = v->file;
	uint64_t foff = v->off + (old - v->start);
	if (new_len <= old_len && !fixed) {
		if (new_len < old_len)
			carve(mm, old + new_len, old + old_len);
		return (long)old;
	}
	if (!fixed) {
		/* Grow in place when the space after it is free. */
		uint64_t end = old + new_len;
		int free = end > old && end <= MMAP_TOP;
		for (unsigned i = 0; free && i < mm->nvma; i++)
			if (mm->vma[i].start < end && mm->vma[i].end > old + old_len)
				free = 0;
		if (free) {
			int err = mm_map_file(mm, old + old_len, new_len - old_len, prot, flags, file, foff + old_len);
			if (!err)
				mm_fill(mm, old + old_len, old + new_len);
			return err ? err : (long)old;
		}
		if (!may_move)
			return -ENOMEM;
		new_addr = mm_find_free(mm, new_len, 0);
		if (!new_addr)
			return -ENOMEM;
	} else if ((new_addr & (PAGE_SIZE - 1)) || new_addr + new_len < new_addr || new_addr + new_len > USER_TOP) {
		return -EINVAL;
	}
	if (file)
		filemap_hold(file);   /* the old region may go while the new one is made */
	int err = mm_map_file(mm, new_addr, new_len, prot, flags, file, foff);
	if (file)
		filemap_release(file);
	if (err)
		return err;
	/* Move the frames, not the bytes. */
	uint64_t n = old_len < new_len ? old_len : new_len;
	for (uint64_t off = 0; off < n; off += PAGE_SIZE) {
		uint64_t *src = pte_get(mm, old + off, 0);
		if (!src || !(*src & PTE_HELD))
			continue;
		uint64_t *dst = pte_get(mm, new_addr + off, 1);
		if (!dst)
			return -ENOMEM;
		*dst = *src;
		*src = 0;
	}
	mm->tlb_dirty = 1;
	carve(mm, old, old + old_len);
	if (new_len > old_len)
		mm_fill(mm, new_addr + old_len, new_addr + new_len);
	return (long)new_addr;
}

void mm_commit(struct mm *mm)
{
	if (mm->tlb_dirty) {
		cpu_flush_tlb();
		mm->tlb_dirty = 0;
	}
}

/* The kernel address of user byte va of mm, faulting it in; NULL when the access is not allowed. */
static uint8_t *user_byte(struct mm *mm, uint64_t va, int write)
{
	if (va >= USER_TOP)
		return NULL;
	uint64_t *pte = pte_get(mm, va, 0);
	if (!pte || !(*pte & PTE_P) || (write && !(*pte & PTE_W))) {
		/* Not a fault of the user's: a read-only translation of va it holds must go before it runs again. */
		if (pte && (*pte & PTE_P))
			mm->tlb_dirty = 1;
		if (mm_fault(mm, va, write))
			return NULL;
		pte = pte_get(mm, va, 0);
		if (!pte)
			return NULL;
	}
	return (uint8_t *)pa_to_kva(*pte & PTE_ADDR) + (va & (PAGE_SIZE - 1));
}

int copy_from_user(void *dst, uint64_t usrc, uint64_t len)
{
	uint8_t *d = dst;
	if (usrc + len < usrc)
		return -EFAULT;
	while (len) {
		uint64_t chunk = PAGE_SIZE - (usrc & (PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		uint8_t *s = user_byte(current->mm, usrc, 0);
		if (!s)
			return -EFAULT;
		memcpy(d, s, chunk);
		d += chunk;
		usrc += chunk;
		len -= chunk;
	}
	return 0;
}

int mm_copy_out(struct mm *mm, uint64_t udst, const void *src, uint64_t len)
{
	const uint8_t *s = src;
	if (udst + len < udst)
		return -EFAULT;
	while (len) {
		uint64_t chunk = PAGE_SIZE - (udst & (PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		uint8_t *d = user_byte(mm, udst, 1);
		if (!d)
			return -EFAULT;
		memcpy(d, s, chunk);
		s += chunk;
		udst += chunk;
		len -= chunk;
	}
	return 0;
}

int copy_to_user(uint64_t udst, const void *src, uint64_t len)
{
	return mm_copy_out(current->mm, udst, src, len);
}

long strncpy_from_user(char *dst, uint64_t usrc, uint64_t size)
{
	uint64_t n = 0;
	while (n < size) {
		uint64_t chunk = PAGE_SIZE - ((usrc + n) & (PAGE_SIZE - 1));
		uint8_t *s = user_byte(current->mm, usrc + n, 0);
		if (!s)
			return -EFAULT;
		for (uint64_t i = 0; i < chunk && n < size; i++, n++) {
			dst[n] = (char)s[i];
			if (!s[i])
				return (long)n;
		}
	}
	return -ENAMETOOLONG;
}

/*
 * Page tables outlive the address space that built them. A pair given back
 * by mm_release keeps its tree of tables (every leaf entry cleared), and the
 * next address space on the pair fills the same tables again. A shadow MMU
 * (kvm-pvm) keys its copies by table page, so the next process of the same
 * shape finds them ready instead of taking a fault per page, and no table is
 * written twice or zeroed while the host still write-protects it (each such
 * write is an exit and an emulated instruction). The tables of cached pairs
 * count as free memory, and the allocator takes them back when it runs out.
 */
#define PAIR_CACHE     64
#define TREE_KEEP_MAX  64   /* a bigger tree is freed when its address space ends */

static struct { uint64_t pa; unsigned ntables; } pair_cache[PAIR_CACHE];
static unsigned npair_cache;
static uint64_t cached_tables;   /* tables held by the trees of cached pairs */

/* Free the tables below t (user half only at the top); leaf entries must be cleared already. */
static void free_tables(uint64_t *t, int shift, int top)
{
	for (int i = 0; i < (top ? 256 : 512); i++) {
		uint64_t e = t[i];
		if (!(e & PTE_P))
			continue;
		if (shift > 21)
			free_tables(table_of(e), shift - 9, 0);
		pmem_free(e & PTE_ADDR);
	}
}

/* Give back a pair's tree; the pair is left with an empty user half. Only entries in use are written: the host may shadow these tables. */
static void free_tree(uint64_t pml4_pa)
{
	uint64_t *k = pa_to_kva(pml4_pa), *u = pa_to_kva(pml4_pa + PAGE_SIZE);
	free_tables(k, 39, 1);
	for (int i = 0; i < 256; i++) {
		if (k[i])
			k[i] = 0;
		if (u[i])
			u[i] = 0;
	}
}

/* A KPTI page-table pair: two pages, 8 KiB aligned (the user table is the kernel one | 0x1000). */
static uint64_t pgd_pair_alloc(unsigned *ntables)
{
	if (npair_cache) {
		npair_cache--;
		*ntables = pair_cache[npair_cache].ntables;
		cached_tables -= *ntables;
		return pair_cache[npair_cache].pa;
	}
	uint64_t pa = pmem_alloc_contig(3);      /* one spare page guarantees an aligned pair */
	if (!pa)
		return 0;
	if (pa & PAGE_SIZE)
		pa += PAGE_SIZE;
	/* The kernel half is the same in every address space. */
	uint64_t *boot = pa_to_kva(LBVM_GPA_PML4), *k = pa_to_kva(pa);
	for (int i = 256; i < 512; i++)
		k[i] = boot[i];
	*ntables = 0;
	return pa;
}

/* Called by the allocator when it has nothing left: the cached trees go back. The number of pages freed. */
uint64_t mm_reclaim(void)
{
	uint64_t n = cached_tables;
	for (unsigned i = 0; i < npair_cache; i++) {
		if (pair_cache[i].ntables) {
			free_tree(pair_cache[i].pa);
			pair_cache[i].ntables = 0;
		}
	}
	cached_tables = 0;
	return n;
}

uint64_t mm_cached_pages(void)
{
	return cached_tables;
}

struct fork_copy {
	struct mm *dst, *src;
	unsigned budget;      /* pages still to be copied up front */
	uint64_t keep_dirty;  /* PTE_D, or 0 when this fork starts a new round of dirty tracking */
};

/*
 * The child's entry for the parent's leaf entry e at va. A page the parent
 * wrote since the last round (dirty), or one the last child wrote before it
 * exec'd (a hint), is copied now: both would take a fault otherwise. Every
 * other page the allocator owns is shared, read-only on both sides; the
 * first write copies it (own_page).
 */
static uint64_t fork_entry(struct fork_copy *fc, uint64_t *src, uint64_t va)
{
	uint64_t e = *src, pa;
	if (!(e & PTE_HELD) || !(e & PTE_OWNED))
		return e;
	if (e & (PTE_SHARED | PTE_KEPT)) {  /* both keep the file's page itself; a kept page is copied when access returns */
		pmem_get(e & PTE_ADDR);
		return e;
	}
	int dirty = (e & (PTE_W | PTE_D)) == (PTE_W | PTE_D);
	if ((dirty || is_hint(fc->src, va)) && fc->budget && (pa = pmem_alloc())) {
		memcpy(pa_to_kva(pa), pa_to_kva(e & PTE_ADDR), PAGE_SIZE);
		fc->budget--;
		if (dirty && !fc->keep_dirty)
			*src = e & ~PTE_D;
		struct vma *v = mm_find(fc->src, va);
		if (v && (v->prot & PROT_WRITE))
			e |= PTE_W | PTE_D;
		return (e & ~PTE_ADDR) | pa;
	}
	pmem_get(e & PTE_ADDR);
	if (e & PTE_W) {
		e &= ~PTE_W;
		*src = e;
	}
	return e;
}

/*
 * Make dst's tables below this level map what src's do, reusing the tables
 * dst's pair already has (whose leaves are empty); an entry is written only
 * where it changes. base is the address entry 0 maps.
 */
static int copy_level(struct fork_copy *fc, uint64_t *dst, uint64_t *src, int shift, uint64_t base)
{
	for (int i = 0; i < (shift == 39 ? 256 : 512); i++) {
		uint64_t va = base + ((uint64_t)i << shift);
		if (shift == 12) {
			uint64_t e = fork_entry(fc, &src[i], va);
			if (dst[i] != e)
				dst[i] = e;
			continue;
		}
		if (!(src[i] & PTE_P))
			continue;
		uint64_t *t = (dst[i] & PTE_P) ? table_of(dst[i]) : link_table(fc->dst, dst, i, shift == 39);
		if (!t)
			return -ENOMEM;
		int err = copy_level(fc, t, table_of(src[i]), shift - 9, va);
		if (err)
			return err;
	}
	return 0;
}

int mm_fork(struct mm *dst, struct mm *src)
{
	unsigned ntables;
	uint64_t pgd = pgd_pair_alloc(&ntables);
	if (!pgd)
		return -ENOMEM;
	mm_init(dst, pgd);
	dst->ntables = ntables;
	memcpy(dst->vma, src->vma, src->nvma * sizeof(struct vma));
	dst->nvma = src->nvma;
	for (unsigned i = 0; i < dst->nvma; i++)
		if (dst->vma[i].file)
			filemap_hold(dst->vma[i].file);
	dst->brk_start = src->brk_start;
	dst->brk = src->brk;
	dst->forked_from = src;
	dst->forked_gen = src->gen;
	/* Dirty bits start a new round every few forks, so that a page the parent stopped writing stops being copied. */
	struct fork_copy fc = { dst, src, FORK_COPY_MAX, ++src->nforks % FORK_DIRTY_ROUND ? PTE_D : 0 };
	int err = copy_level(&fc, pa_to_kva(pgd), pa_to_kva(src->pml4_pa), 39, 0);
	src->tlb_dirty = 1;
	dst->tlb_dirty = 1;
	if (err)
		mm_destroy(dst);
	return err;
}

/* Clear every leaf entry below t, freeing the frames owned; the tables stay. */
static void clear_level(uint64_t *t, int shift, int top)
{
	for (int i = 0; i < (top ? 256 : 512); i++) {
		uint64_t e = t[i];
		if (!(e & (shift > 12 ? PTE_P : PTE_HELD)))
			continue;
		if (shift > 12) {
			clear_level(table_of(e), shift - 9, 0);
			continue;
		}
		if (e & PTE_OWNED)
			pmem_free(e & PTE_ADDR);
		t[i] = 0;
	}
}

/*
 * Unmap and free every user page; the tables stay for the next address
 * space on this pair, unless there are too many of them. The caller must
 * not be running on mm's tables any more, or must not touch user memory
 * again before a flush.
 */
void mm_destroy(struct mm *mm)
{
	mm_sync(mm, 0, USER_TOP);
	clear_level(pa_to_kva(mm->pml4_pa), 39, 1);
	mm_renew(mm);
	if (mm->ntables > TREE_KEEP_MAX) {
		free_tree(mm->pml4_pa);
		mm->ntables = 0;
	}
	/* The files go last: the last reference of one may wait for the host. */
	while (mm->nvma) {
		struct vnode *file = mm->vma[--mm->nvma].file;
		if (file)
			filemap_release(file);
	}
	mm->tlb_dirty = 1;
}

/* After mm_destroy: the pair and the tables it kept go to the cache. */
void mm_release(struct mm *mm)
{
	uint64_t pa = mm->pml4_pa;
	if (!pa || pa == LBVM_GPA_PML4)
		return;
	if (npair_cache == PAIR_CACHE) {
		free_tree(pa);
		mm->ntables = 0;
	}
	if (npair_cache < PAIR_CACHE) {
		pair_cache[npair_cache].pa = pa;
		pair_cache[npair_cache].ntables = mm->ntables;
		cached_tables += mm->ntables;
		npair_cache++;
	} else {
		pmem_free(pa);
		pmem_free(pa + PAGE_SIZE);
	}
	mm->pml4_pa = 0;
	mm->ntables = 0;
}

/* A fresh table pair with the kernel half and an empty user half (the unit tests build address spaces with it). */
uint64_t mm_new_pgd(void)
{
	unsigned ntables;
	uint64_t pa = pgd_pair_alloc(&ntables);
	if (pa && ntables)
		free_tree(pa);
	return pa;
}
