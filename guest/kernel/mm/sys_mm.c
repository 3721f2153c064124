/* sys_mm.c: brk, mmap and friends; memory is mapped eagerly because a guest page fault costs ~50 us here. */
#include "kernel/fs/tmpfs.h"
#include "kernel/syscall.h"

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

/* File mappings are filled at once up to this size (a fault costs ~50 us); past it, a window at a time on demand. */
#define FILE_EAGER_MAX (64ull << 20)
#define SHARED_ANON_MAX (1ull << 30)   /* a tmpfs file's limit */

/* Why a file cannot be mapped so: 0, or Linux's errno. */
static int file_mappable(struct file *f, uint64_t flags, uint32_t prot)
{
	if (!f->vn->ops->kread || f->vn->stream)
		return -ENODEV;
	if ((f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_PATH))
		return -EACCES;
	/* A shared writable mapping writes the file: it must be open for writing, and its file system must share pages. */
	if ((flags & MAP_SHARED) && (prot & PROT_WRITE)) {
		if ((f->flags & O_ACCMODE) != O_RDWR || vfs_readonly(f->vn))
			return -EACCES;
		if (!f->vn->ops->share_page || (f->vn->ops == &ovl_ops && !f->vn->upper))
			return -ENODEV;
	}
	return 0;
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
		int err = file_mappable(f, flags, prot);
		if (err)
			return err;
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
	int err;
	if (!f && (flags & MAP_SHARED)) {
		/* Shared anonymous memory is an unnamed tmpfs file (as Linux's shmem): fork's children map its pages too. */
		if (len > SHARED_ANON_MAX)
			return -ENOMEM;
		struct vnode *vn = tmp_unnamed("dev/zero", 0600, len);
		if (!vn)
			return -ENOMEM;
		err = mm_map_file(mm, addr, len, prot, VMA_SHARED, vn, 0);
		vn_put(vn);  /* the region holds it now, or nothing does */
		if (!err && prot && len <= FILE_EAGER_MAX)
			err = mm_fill(mm, addr, addr + len);
	} else if (!f) {
		err = mm_map(mm, addr, len, prot, 0, 1);
	} else {
		err = mm_map_file(mm, addr, len, prot, (flags & MAP_SHARED) ? VMA_SHARED : 0, f->vn, a5);
		if (!err && prot && len <= FILE_EAGER_MAX)
			err = mm_fill(mm, addr, addr + len);
	}
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

/*
 * Shared mappings write tmpfs pages in place; a host file's pages written
 * through a mapping go to the host now (MS_ASYNC too: the request is
 * cheap, and nothing else would send them before munmap).
 */
SYS(msync)
{
	UNUSED_ARGS();
	if ((a0 & (PAGE_SIZE - 1)) || (a2 & ~7ull) || (a2 & 5) == 5)
		return -EINVAL;
	uint64_t end = a0 + ALIGN_UP(a1, PAGE_SIZE);
	if (end < a0)
		return -ENOMEM;
	for (uint64_t va = a0; va < end; va += PAGE_SIZE)
		if (!mm_find(current->mm, va))
			return -ENOMEM;
	return mm_sync(current->mm, a0, end - a0);
}
