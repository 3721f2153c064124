/*
 * memfd.c: tmpfs files with no name in any directory: memfd_create (read,
 * write, ftruncate, mmap as /tmp's files), and the memory behind
 * MAP_SHARED|MAP_ANONYMOUS, which a fork shares as Linux's shmem does.
 */
#include "kernel/proc/proc.h"
#include "kernel/syscall.h"
#include "tmpfs.h"

#define MFD_CLOEXEC 1
#define MFD_ALLOW_SEALING 2
#define MFD_HUGETLB 4

struct vnode *tmp_unnamed(const char *tag, uint32_t perm, uint64_t size)
{
	struct tnode *t = tmp_new(S_IFREG | perm);
	if (!t)
		return NULL;
	struct vnode *vn = size && tmp_truncate(t, size) ? NULL : vn_new_named(&ovl_ops, NULL, tag, strlen(tag));
	if (!vn) {
		tmp_put(t);
		return NULL;
	}
	vn->upper = t;   /* the reference tmp_new gave */
	vn->mode = t->mode;
	vn->ino = t->ino;
	return vn;
}

SYS(memfd_create)
{
	UNUSED_ARGS();
	char name[250 + 8] = "/memfd:";
	long n = strncpy_from_user(name + 7, a0, 250);
	if (n < 0)
		return n == -EFAULT ? -EFAULT : -EINVAL;
	if (n >= 250)
		return -EINVAL;
	if (a1 & ~(uint64_t)(MFD_CLOEXEC | MFD_ALLOW_SEALING))
		return a1 & MFD_HUGETLB ? -ENOTSUP : -EINVAL;
	strlcpy(name + 7 + n, " (deleted)", sizeof(name) - 7 - (size_t)n);
	struct vnode *vn = tmp_unnamed("memfd", 0777, 0);
	if (!vn)
		return -ENOMEM;
	struct file *f = file_new(vn, O_RDWR, name);
	if (!f) {
		vn_put(vn);
		return -ENOMEM;
	}
	return fd_install(f, 0, (a1 & MFD_CLOEXEC) != 0);
}
