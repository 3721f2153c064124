/*
 * filemap.c: the pages of file regions. A private region gets the file's
 * bytes: the image's own page where it can be mapped as it is (a write
 * copies it), else a copy read from the file; past the end of the file,
 * zeros. A shared region gets the file system's own page for the offset
 * (vnode op share_page: tmpfs's data page, or a host file's page in the
 * guest's cache of it; the image's files have none and are never written,
 * so theirs are mapped as private ones), so every process that maps the file, and read and
 * write on it, see the same bytes. Pages are never tied to the region: a
 * page dropped (MADV_DONTNEED) comes back from the file at the next fault.
 */
#include "kernel/fs/vfs.h"
#include "mm.h"

void filemap_hold(struct vnode *vn)
{
	vn_get(vn);
}

void filemap_release(struct vnode *vn)
{
	vn_put(vn);
}

/* The file offset of va in region v: -EOVERFLOW past 2^64. */
static int offset_of(const struct vma *v, uint64_t va, uint64_t *fo)
{
	*fo = v->off + (va - v->start);
	return *fo < v->off ? -EOVERFLOW : 0;
}

static int private_page(struct mm *mm, const struct vma *v, uint64_t va, uint64_t fo, uint64_t size)
{
	struct vnode *vn = v->file;
	uint64_t gpa = vn->ops->page_gpa && fo < size ? vn->ops->page_gpa(vn, fo) : 0;
	if (gpa)
		return mm_set_page(mm, va, gpa, v->prot, PAGE_FOREIGN);
	uint64_t pa = pmem_alloc();
	if (!pa)
		return -ENOMEM;
	if (fo < size) {
		uint64_t n = size - fo < PAGE_SIZE ? size - fo : PAGE_SIZE;
		long r = vn->ops->kread(vn, pa_to_kva(pa), n, fo);
		if (r < 0) {
			pmem_free(pa);
			return (int)r;
		}
	}
	int err = mm_set_page(mm, va, pa, v->prot, PAGE_PRIVATE);
	if (err)
		pmem_free(pa);
	return err;
}

/*
 * The file system's own page. A file it has none of (the image's, never
 * written; mmap refuses those a writable mapping) is mapped as a private
 * one would be; a writable mapping without its page is out of memory.
 */
static int shared_page(struct mm *mm, const struct vma *v, uint64_t va, uint64_t fo, uint64_t size)
{
	uint64_t pa = v->file->ops->share_page(v->file, fo, (v->prot & PROT_WRITE) != 0);
	if (!pa)
		return (v->prot & PROT_WRITE) ? -ENOMEM : private_page(mm, v, va, fo, size);
	return mm_set_page(mm, va, pa, v->prot, PAGE_SHARED);
}

/*
 * Map the pages of [lo, hi) that region vp lacks. Reading may wait for the
 * host, and another thread may map a page meanwhile: that one stays. The
 * region is copied first for the same reason.
 */
int filemap_fill(struct mm *mm, const struct vma *vp, uint64_t lo, uint64_t hi)
{
	struct vma v = *vp;
	struct kstat st;
	vfs_stat(v.file, &st);
	int shared = (v.flags & VMA_SHARED) && v.file->ops->share_page;
	for (uint64_t va = lo; va < hi; va += PAGE_SIZE) {
		uint64_t fo;
		int err = offset_of(&v, va, &fo);
		if (err)
			return err;
		if (mm_page_held(mm, va))
			continue;
		/* Past the end a shared region has no page of the file (Linux raises SIGBUS there): it gets zeros. */
		err = shared && fo < st.size ? shared_page(mm, &v, va, fo, st.size) : private_page(mm, &v, va, fo, st.size);
		if (err && err != -EEXIST)
			return err;
	}
	return 0;
}

int filemap_sync(const struct vma *v, uint64_t lo, uint64_t hi)
{
	if (!v->file->ops->writeback || hi <= lo)
		return 0;
	return v->file->ops->writeback(v->file, v->off + (lo - v->start), hi - lo);
}
