/* mm.h: a process's address space: page tables, regions, and checked user access. */
#ifndef GUEST_MM_H
#define GUEST_MM_H

#include "kernel/kernel.h"

#define PROT_READ  1
#define PROT_WRITE 2
#define PROT_EXEC  4

#define USER_TOP       0x00007ffffffff000ull
#define STACK_TOP      0x00007ffffffde000ull
#define STACK_MAX      (8ull << 20)
#define STACK_EAGER    (256ull << 10)
#define MMAP_TOP       0x00007f0000000000ull
#define MMAP_MIN       0x10000ull
#define PIE_BASE       0x0000555555554000ull

#define VMA_MAX 1024

/* fork copies up front the pages both sides will likely write (see mm_fork) */
#define FORK_COPY_MAX    16   /* pages at most */
#define FORK_DIRTY_ROUND 8    /* forks between two clearings of the parent's dirty bits */
#define FORK_HINTS       8    /* pages the children wrote, remembered per parent */

struct vnode;

struct vma {
	uint64_t start, end;
	uint32_t prot;
	uint32_t flags;
	struct vnode *file;   /* a file mapping: the file (one reference per region), else NULL */
	uint64_t off;         /* the file offset of start */
};
#define VMA_STACK  1u
#define VMA_HEAP   2u
#define VMA_SHARED 4u     /* MAP_SHARED: the file's own pages are mapped, writes reach the file */

struct mm {
	uint64_t pml4_pa;            /* kernel table of the KPTI pair; the user table is +0x1000 */
	unsigned ntables;            /* tables below the pair, kept from earlier address spaces too */
	unsigned nforks;
	uint64_t gen;                /* changes when the address space is replaced: tells a stale forked_from */
	struct mm *forked_from;      /* the parent's, until this one execs: where its copy faults are noted */
	uint64_t forked_gen;
	uint64_t hint[FORK_HINTS];   /* pages this one's children wrote before exec: copied for the next child at fork */
	unsigned nhint;
	struct vma vma[VMA_MAX];     /* sorted, disjoint */
	unsigned nvma;
	uint64_t brk_start, brk;
	int tlb_dirty;               /* a present entry changed: flush before returning to user */
};

void mm_init(struct mm *mm, uint64_t pml4_pa);
struct vma *mm_find(struct mm *mm, uint64_t va);
int mm_map(struct mm *mm, uint64_t start, uint64_t len, uint32_t prot, uint32_t flags, int eager);
/* A region backed by vn from offset off (takes a reference of vn); pages come in by fault or mm_fill. */
int mm_map_file(struct mm *mm, uint64_t start, uint64_t len, uint32_t prot, uint32_t flags, struct vnode *vn,
		uint64_t off);
int mm_fill(struct mm *mm, uint64_t start, uint64_t end);  /* map what is not yet mapped in [start, end) now */
int mm_sync(struct mm *mm, uint64_t start, uint64_t len);   /* shared file pages in the range reach their files */
int mm_unmap(struct mm *mm, uint64_t start, uint64_t len);
int mm_discard(struct mm *mm, uint64_t start, uint64_t len);  /* drop pages, keep the region: zeros or the file's bytes again */
int mm_protect(struct mm *mm, uint64_t start, uint64_t len, uint32_t prot);
int mm_map_phys(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot);  /* a page not owned by the allocator */
int mm_map_shared(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot);  /* a file's page, MAP_SHARED */
uint64_t mm_shared_pa(struct mm *mm, uint64_t va);  /* va's physical address if it is on such a page (present), else 0 */
int mm_page_write(struct mm *mm, uint64_t va, const void *src, uint64_t off, uint64_t len);
uint64_t mm_find_free(struct mm *mm, uint64_t len, uint64_t hint);
int mm_fault(struct mm *mm, uint64_t va, int write);
long mm_remap(struct mm *mm, uint64_t old, uint64_t old_len, uint64_t new_len, int may_move, int fixed, uint64_t new_addr);
void mm_commit(struct mm *mm);   /* flush the TLB if needed */
int mm_fork(struct mm *dst, struct mm *src);   /* copy-on-write copy of src's user half */
void mm_destroy(struct mm *mm);                /* free all user pages; the tables stay for reuse */
void mm_release(struct mm *mm);                /* give back the table pair and its tables (after switching away) */
uint64_t mm_new_pgd(void);                     /* a fresh table pair with the kernel half, or 0 */
uint64_t mm_reclaim(void);                     /* free the tables cached with released pairs; pages freed */
uint64_t mm_cached_pages(void);                /* how many pages that would free */

/*
 * filemap.c: the pages of file regions. Private regions get the file's
 * bytes (the image's own pages where they can be mapped as they are, a copy
 * elsewhere); shared regions get the file system's page for that offset
 * (vnode op share_page), so every process mapping the file sees one page.
 */
int filemap_fill(struct mm *mm, const struct vma *v, uint64_t lo, uint64_t hi);
int filemap_sync(const struct vma *v, uint64_t lo, uint64_t hi);  /* shared: [lo, hi) to the file */
void filemap_hold(struct vnode *vn);
void filemap_release(struct vnode *vn);
/* mm.c, for filemap.c: put one page at va (which must be empty) */
int mm_set_page(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot, int kind);
int mm_page_held(struct mm *mm, uint64_t va);   /* va has a page (present, or kept through PROT_NONE) */
#define PAGE_FOREIGN 0    /* not the allocator's (the image): copied on write, never freed */
#define PAGE_PRIVATE 1    /* a fresh page of the allocator, this address space's alone (takes the reference) */
#define PAGE_SHARED  2    /* a file's page for a shared region (one more reference is taken) */

/* ../vdso.c: map the vDSO into mm; its address, or 0 when it cannot */
uint64_t vdso_map(struct mm *mm);

/* Checked access to user memory: page by page through the page tables and the direct map. */
int copy_from_user(void *dst, uint64_t usrc, uint64_t len);
int copy_to_user(uint64_t udst, const void *src, uint64_t len);
int mm_copy_out(struct mm *mm, uint64_t udst, const void *src, uint64_t len);  /* copy_to_user into mm, current or not */
long strncpy_from_user(char *dst, uint64_t usrc, uint64_t size); /* length, or -EFAULT / -ENAMETOOLONG */

#endif
