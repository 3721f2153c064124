/* sys_xattr.c: extended attributes: no file here has any, and none can be set (ls -l and cp -a ask). */
#include "kernel/syscall.h"

/* The node a path or fd names must exist; then there is simply no attribute. */
static long xattr_node(uint64_t upath, int fd, int follow)
{
	if (fd >= 0)
		return fd_get(fd) ? 0 : -EBADF;
	char *path = current->scratch->path;
	long n = strncpy_from_user(path, upath, PATH_MAX);
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	struct vnode *vn;
	int err = vfs_resolve(AT_FDCWD, path, follow, &vn, NULL);
	if (err)
		return err;
	vn_put(vn);
	return 0;
}

static long xattr_get(uint64_t upath, int fd, int follow)
{
	long err = xattr_node(upath, fd, follow);
	return err ? err : -ENODATA;
}

static long xattr_list(uint64_t upath, int fd, int follow)
{
	return xattr_node(upath, fd, follow);  /* an empty list: length 0 */
}

static long xattr_set(uint64_t upath, int fd, int follow)
{
	long err = xattr_node(upath, fd, follow);
	return err ? err : -EOPNOTSUPP;
}

SYS(getxattr) { UNUSED_ARGS(); return xattr_get(a0, -1, 1); }
SYS(lgetxattr) { UNUSED_ARGS(); return xattr_get(a0, -1, 0); }
SYS(fgetxattr) { UNUSED_ARGS(); return xattr_get(0, (int)a0, 0); }
SYS(listxattr) { UNUSED_ARGS(); return xattr_list(a0, -1, 1); }
SYS(llistxattr) { UNUSED_ARGS(); return xattr_list(a0, -1, 0); }
SYS(flistxattr) { UNUSED_ARGS(); return xattr_list(0, (int)a0, 0); }
SYS(setxattr) { UNUSED_ARGS(); return xattr_set(a0, -1, 1); }
SYS(lsetxattr) { UNUSED_ARGS(); return xattr_set(a0, -1, 0); }
SYS(fsetxattr) { UNUSED_ARGS(); return xattr_set(0, (int)a0, 0); }
SYS(removexattr) { UNUSED_ARGS(); return xattr_set(a0, -1, 1); }
SYS(lremovexattr) { UNUSED_ARGS(); return xattr_set(a0, -1, 0); }
SYS(fremovexattr) { UNUSED_ARGS(); return xattr_set(0, (int)a0, 0); }
