/* sys_mm.c: brk and anonymous private mappings, mapped eagerly because a guest page fault costs ~50 us here. */
#include "syscall.h"

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
	struct mm *mm = &current->mm;
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

SYS(mmap)
{
	UNUSED_ARGS();
	uint64_t addr = a0, len = a1, flags = a3;
	uint32_t prot = (uint32_t)a2;
	struct mm *mm = &current->mm;
	if (len == 0 || (addr & (PAGE_SIZE - 1)) || (prot & ~7u))
		return -EINVAL;
	if (!(flags & (MAP_SHARED | MAP_PRIVATE)))
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS))
		return (int64_t)a4 < 0 ? -EBADF : -ENODEV;
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
	int err = mm_map(mm, addr, len, prot, 0, 1);
	return err ? err : (long)addr;
}

SYS(munmap)
{
	UNUSED_ARGS();
	return mm_unmap(&current->mm, a0, a1);
}

SYS(mprotect)
{
	UNUSED_ARGS();
	if (a2 & ~7ull)
		return -EINVAL;
	if (a1 == 0)
		return (a0 & (PAGE_SIZE - 1)) ? -EINVAL : 0;
	return mm_protect(&current->mm, a0, a1, (uint32_t)a2);
}

SYS(mremap)
{
	UNUSED_ARGS();
	if (a3 & ~3ull || ((a3 & MREMAP_FIXED) && !(a3 & MREMAP_MAYMOVE)))
		return -EINVAL;
	return mm_remap(&current->mm, a0, a1, a2, (a3 & MREMAP_MAYMOVE) != 0, (a3 & MREMAP_FIXED) != 0, a4);
}

SYS(madvise)
{
	UNUSED_ARGS();
	if (a0 & (PAGE_SIZE - 1))
		return -EINVAL;
	if (a2 == MADV_DONTNEED)
		return mm_discard(&current->mm, a0, a1);
	return 0;
}
