/* sys_mm.c: brk and anonymous private mappings, mapped eagerly because a guest page fault costs ~50 us here. */
#include "kernel/syscall.h"
#include "kernel/fs/tmpfs.h"

#define MAP_SHARED          0x01
#define MAP_PRIVATE         0x02
#define MAP_FIXED           0x10
#define MAP_ANONYMOUS       0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE      1
#define MREMAP_FIXED        2
#define MADV_DONTNEED       4

SYS(brk)
{
	UNUSED_ARGS();
	struct mm *mm = current->mm;
	uint64_t want = a0;
	if (want < mm->brk_start || want > MMAP_TOP)
		return (long)mm->brk;
	uint64_t old_end = ALIGN_UP(mm->brk, PAGE_SIZE), new_end = ALIGN_UP(want, PAGE_SIZE);
	if (new_end > old_end) {
		for (uint64_t va = old_end; va < new_end; va += PAGE_SIZE)
			if (mm_find(mm, va))
				return (long)mm->brk;
		if (mm_map(mm, old_end, new_end - old_end, PROT_READ | PROT_WRITE, VMA_HEAP, 1))
			return (long)mm->brk;
	} else if (new_end < old_end) {
		mm_unmap(mm, new_end, old_end - new_end);
	}
	mm->brk = want;
	return (long)want;
}

/*
 * A private file mapping: whole pages of the image are mapped as they are
 * (read-only; a write fault copies), partial and packed pages are copied,
 * and pages past the end of the file are zero.
 */
static int map_file(struct mm *mm, uint64_t addr, uint64_t len, uint32_t prot, struct vnode *vn, uint64_t off)
{
	uint8_t *page = current->scratch->page;
	struct kstat st;
	vfs_stat(vn, &st);
	if (!prot)
		return 0; /* nothing to see: the region stays reserved and empty */
	for (uint64_t i = 0; i < len; i += PAGE_SIZE) {
		uint64_t fo = off + i;
		if (fo < off)
			return -EOVERFLOW;
		uint64_t gpa = vn->ops->page_gpa && fo < st.size ? vn->ops->page_gpa(vn, fo) : 0;
		int err;
		if (gpa) {
			err = mm_map_phys(mm, addr + i, gpa, prot);
		} else {
			memset(page, 0, PAGE_SIZE);
			if (fo < st.size) {
				uint64_t n = st.size - fo < PAGE_SIZE ? st.size - fo : PAGE_SIZE;
				long r = vn->ops->kread(vn, page, n, fo);
				if (r < 0)
					return (int)r;
			}
			err = mm_page_write(mm, addr + i, page, 0, PAGE_SIZE);
		}
		if (err)
			return err;
	}
	return 0;
}

/*
 * A shared mapping of a tmpfs file (or of an image file copied up into the
 * writable layer): its own pages are mapped, so writes through the mapping
 * and write(2) see each other, and fork's child shares them too. Pages past
 * the end of the file stay anonymous (Linux would raise SIGBUS there).
 */
static int map_tmpfs_shared(struct mm *mm, uint64_t addr, uint64_t len, uint32_t prot, struct tnode *t, uint64_t off)
{
	if (!prot)
		return 0;
	for (uint64_t i = 0; i < len && off + i < t->size; i += PAGE_SIZE) {
		if (off + i < off)
			return -EOVERFLOW;
		uint64_t pa = tmp_page(t, off + i);
		if (!pa)
			return -ENOMEM;
		int err = mm_map_shared(mm, addr + i, pa, prot);
		if (err)
			return err;
	}
	return 0;
}

static int is_tmpfs_file(struct vnode *vn)
{
	return vn->ops == &ovl_ops && vn->upper && S_ISREG(vn->mode);
}

SYS(mmap)
{
	UNUSED_ARGS();
	uint64_t addr = a0, len = a1, flags = a3;
	uint32_t prot = (uint32_t)a2;
	struct mm *mm = current->mm;
	if (len == 0 || (addr & (PAGE_SIZE - 1)) || (prot & ~7u))
		return -EINVAL;
	if (!(flags & (MAP_SHARED | MAP_PRIVATE)))
		return -EINVAL;
	struct file *f = NULL;
	if (!(flags & MAP_ANONYMOUS)) {
		f = fd_get((int)a4);
		if (!f)
			return -EBADF;
		if (!f->vn->ops->kread || f->vn->stream)
			return -ENODEV;
		if ((f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_PATH))
			return -EACCES;
		/*
		 * Shared writable mappings write the file: tmpfs pages are mapped in
		 * place; the image is read-only, and host mounts have no pages here to share.
		 */
		if ((flags & MAP_SHARED) && (prot & PROT_WRITE)) {
			if ((f->flags & O_ACCMODE) != O_RDWR || vfs_readonly(f->vn))
				return -EACCES;
			if (!is_tmpfs_file(f->vn))
				return -ENODEV;
		}
		if (a5 & (PAGE_SIZE - 1))
			return -EINVAL;
	}
	len = ALIGN_UP(len, PAGE_SIZE);
	if (len == 0 || len > MMAP_TOP)
		return -ENOMEM;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr + len > USER_TOP || addr + len < addr || addr < MMAP_MIN)
			return -EINVAL;
		if (flags & MAP_FIXED_NOREPLACE)
			for (uint64_t va = addr; va < addr + len; va += PAGE_SIZE)
				if (mm_find(mm, va))
					return -EEXIST;
	} else {
		addr = mm_find_free(mm, len, addr);
		if (!addr)
			return -ENOMEM;
	}
	int err = mm_map(mm, addr, len, prot, 0, f == NULL);
	if (!err && f && (flags & MAP_SHARED) && is_tmpfs_file(f->vn))
		err = map_tmpfs_shared(mm, addr, len, prot, f->vn->upper, a5);
	else if (!err && f)
		err = map_file(mm, addr, len, prot, f->vn, a5);
	if (err) {
		mm_unmap(mm, addr, len);
		return err;
	}
	return (long)addr;
}

SYS(munmap)
{
	UNUSED_ARGS();
	return mm_unmap(current->mm, a0, a1);
}

SYS(mprotect)
{
	UNUSED_ARGS();
	if (a2 & ~7ull)
		return -EINVAL;
	if (a1 == 0)
		return (a0 & (PAGE_SIZE - 1)) ? -EINVAL : 0;
	return mm_protect(current->mm, a0, a1, (uint32_t)a2);
}

SYS(mremap)
{
	UNUSED_ARGS();
	if (a3 & ~3ull || ((a3 & MREMAP_FIXED) && !(a3 & MREMAP_MAYMOVE)))
		return -EINVAL;
	return mm_remap(current->mm, a0, a1, a2, (a3 & MREMAP_MAYMOVE) != 0, (a3 & MREMAP_FIXED) != 0, a4);
}

SYS(madvise)
{
	UNUSED_ARGS();
	if (a0 & (PAGE_SIZE - 1))
		return -EINVAL;
	if (a2 == MADV_DONTNEED)
		return mm_discard(current->mm, a0, a1);
	return 0;
}

/* Shared mappings write tmpfs pages in place and the image never changes: there is nothing to write back. */
SYS(msync)
{
	UNUSED_ARGS();
	if ((a0 & (PAGE_SIZE - 1)) || (a2 & ~7ull))
		return -EINVAL;
	for (uint64_t va = a0; va < a0 + a1 && va >= a0; va += PAGE_SIZE)
		if (!mm_find(current->mm, va))
			return -ENOMEM;
	return 0;
}
