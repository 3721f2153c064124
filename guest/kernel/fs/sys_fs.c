/* sys_fs.c: file syscalls: descriptors, reads and writes, metadata, directories, paths. */
#include "kernel/syscall.h"
#include "kernel/net/net.h"
#include "kernel/ktimer.h"
#include "lock.h"
#include "tmpfs.h"

#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_EMPTY_PATH       0x1000
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC 1
#define IOV_MAX 1024

#define pathbuf (current->scratch->path)

/* Copy a user path in. Its length, or -EFAULT / -ENAMETOOLONG; "" is allowed here (callers decide). */
static long path_in(uint64_t upath)
{
	return strncpy_from_user(pathbuf, upath, PATH_MAX);
}

static long do_read(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off, int use_pos)
{
	if ((f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_PATH))
		return -EBADF;
	if (!f->vn->ops->read)
		return S_ISDIR(f->vn->mode) ? -EISDIR : -EINVAL;
	long n = f->vn->ops->read(f, ubuf, len, use_pos ? f->pos : off);
	if (n > 0 && use_pos && !f->vn->stream)
		f->pos += (uint64_t)n;
	return n;
}

static long do_write(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off, int use_pos)
{
	if ((f->flags & O_ACCMODE) == O_RDONLY || (f->flags & O_PATH))
		return -EBADF;
	if (!f->vn->ops->write)
		return -EINVAL;
	if (!f->vn->stream && (f->flags & O_APPEND)) {
		/* Appends go to the end, pwrite included (as on Linux), and move the position there. */
		struct kstat st;
		vfs_stat(f->vn, &st);
		off = st.size;
		long n = f->vn->ops->write(f, ubuf, len, off);
		if (n > 0)
			f->pos = off + (uint64_t)n;
		return n;
	}
	long n = f->vn->ops->write(f, ubuf, len, use_pos ? f->pos : off);
	if (n > 0 && use_pos && !f->vn->stream)
		f->pos += (uint64_t)n;
	return n;
}

SYS(read)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	if ((int64_t)a2 < 0)
		return -EINVAL;
	return do_read(f, a1, a2, 0, 1);
}

SYS(write)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	if ((int64_t)a2 < 0)
		return -EINVAL;
	return do_write(f, a1, a2, 0, 1);
}

SYS(pread64)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	if (f->vn->stream)
		return -ESPIPE;
	if ((int64_t)a3 < 0 || (int64_t)a2 < 0)
		return -EINVAL;
	return do_read(f, a1, a2, a3, 0);
}

struct iovec_k {
	uint64_t base, len;
};

static long do_vec(uint64_t fd, uint64_t uiov, uint64_t cnt, int writing)
{
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	if (cnt > IOV_MAX)
		return -EINVAL;
	if (sock_is(f))
		return sock_rw_vec(f, uiov, cnt, writing);
	long total = 0;
	for (uint64_t i = 0; i < cnt; i++) {
		struct iovec_k v;
		if (copy_from_user(&v, uiov + i * sizeof(v), sizeof(v)))
			return total ? total : -EFAULT;
		if ((int64_t)v.len < 0)
			return total ? total : -EINVAL;
		if (!v.len)
			continue;
		long r = writing ? do_write(f, v.base, v.len, 0, 1) : do_read(f, v.base, v.len, 0, 1);
		if (r < 0)
			return total ? total : r;
		total += r;
		/* A short transfer ends the call: a stream read returns what there was. */
		if ((uint64_t)r < v.len)
			break;
	}
	return total;
}

SYS(readv) { UNUSED_ARGS(); return do_vec(a0, a1, a2, 0); }
SYS(writev) { UNUSED_ARGS(); return do_vec(a0, a1, a2, 1); }

SYS(close)
{
	UNUSED_ARGS();
	return fd_close((int)a0);
}

SYS(lseek)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	if (f->vn->stream)
		return -ESPIPE;
	int64_t base;
	switch (a2) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (int64_t)f->pos; break;
	case SEEK_END: {
		struct kstat st;
		vfs_stat(f->vn, &st);
		base = (int64_t)st.size;
		break;
	}
	default:
		return -EINVAL;
	}
	int64_t pos = base + (int64_t)a1;
	if (pos < 0 || ((int64_t)a1 > 0 && pos < base))
		return -EINVAL;
	/* A directory's position is a readdir cursor: only rewinding is meaningful. */
	if (S_ISDIR(f->vn->mode) && pos != 0)
		return -EINVAL;
	f->pos = (uint64_t)pos;
	return pos;
}

/* struct stat of x86-64 Linux */
struct stat_k {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	int64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
	int64_t unused[3];
};
_Static_assert(sizeof(struct stat_k) == 144, "struct stat");

static long stat_out(struct vnode *vn, uint64_t ust)
{
	struct kstat k;
	vfs_stat(vn, &k);
	struct stat_k st = {
		.dev = k.dev, .ino = k.ino, .nlink = k.nlink, .mode = k.mode, .uid = k.uid, .gid = k.gid,
		.rdev = k.rdev, .size = (int64_t)k.size, .blksize = k.blksize, .blocks = (int64_t)k.blocks,
		.atime = k.mtime, .atime_ns = k.mtime_nsec, .mtime = k.mtime, .mtime_ns = k.mtime_nsec,
		.ctime = k.mtime, .ctime_ns = k.mtime_nsec,
	};
	return copy_to_user(ust, &st, sizeof(st)) ? -EFAULT : 0;
}

/* The node a *at() call names: dirfd + path, or dirfd itself with AT_EMPTY_PATH and "". */
static long at_node(uint64_t dirfd, uint64_t upath, uint64_t flags, struct vnode **out)
{
	long n = path_in(upath);
	if (n < 0)
		return n;
	if (n == 0) {
		if (!(flags & AT_EMPTY_PATH))
			return -ENOENT;
		if ((int)dirfd == AT_FDCWD) {
			*out = vn_get(current->cwd);
			return 0;
		}
		struct file *f = fd_get((int)dirfd);
		if (!f)
			return -EBADF;
		*out = vn_get(f->vn);
		return 0;
	}
	return vfs_resolve((int)dirfd, pathbuf, !(flags & AT_SYMLINK_NOFOLLOW), out, NULL);
}

SYS(fstat)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	return f ? stat_out(f->vn, a1) : -EBADF;
}

SYS(newfstatat)
{
	UNUSED_ARGS();
	if (a3 & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 /* AT_NO_AUTOMOUNT */))
		return -EINVAL;
	struct vnode *vn;
	long err = at_node(a0, a1, a3, &vn);
	if (err)
		return err;
	err = stat_out(vn, a2);
	vn_put(vn);
	return err;
}

SYS(stat) { UNUSED_ARGS(); return sys_newfstatat((uint64_t)AT_FDCWD, a0, a1, 0, 0, 0); }
SYS(lstat) { UNUSED_ARGS(); return sys_newfstatat((uint64_t)AT_FDCWD, a0, a1, AT_SYMLINK_NOFOLLOW, 0, 0); }

struct statx_ts {
	int64_t sec;
	uint32_t nsec;
	int32_t pad;
};

struct statx_k {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad1;
	uint64_t ino, size, blocks, attributes_mask;
	struct statx_ts atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};
_Static_assert(sizeof(struct statx_k) == 256, "struct statx");

SYS(statx)
{
	UNUSED_ARGS();
	struct vnode *vn;
	long err = at_node(a0, a1, a2, &vn);
	if (err)
		return err;
	struct kstat k;
	vfs_stat(vn, &k);
	vn_put(vn);
	struct statx_k sx = {
		.mask = 0x7ff & ~0x800u, /* STATX_BASIC_STATS */
		.blksize = k.blksize, .nlink = (uint32_t)k.nlink, .uid = k.uid, .gid = k.gid,
		.mode = (uint16_t)k.mode, .ino = k.ino, .size = k.size, .blocks = k.blocks,
		.atime = { k.mtime, (uint32_t)k.mtime_nsec, 0 }, .ctime = { k.mtime, (uint32_t)k.mtime_nsec, 0 },
		.mtime = { k.mtime, (uint32_t)k.mtime_nsec, 0 },
		.rdev_major = (uint32_t)(k.rdev >> 8), .rdev_minor = (uint32_t)(k.rdev & 0xff),
		.dev_major = (uint32_t)(k.dev >> 8), .dev_minor = (uint32_t)(k.dev & 0xff),
	};
	return copy_to_user(a4, &sx, sizeof(sx)) ? -EFAULT : 0;
}

#define W_OK 2

SYS(faccessat)
{
	UNUSED_ARGS();
	if (a2 & ~7ull)
		return -EINVAL;
	struct vnode *vn;
	long err = at_node(a0, a1, a3 & AT_SYMLINK_NOFOLLOW, &vn);
	if (err)
		return err;
	/* The program is root in its VM: only the read-only image says no, to writing. */
	int ro = vfs_readonly(vn);
	vn_put(vn);
	return (a2 & W_OK) && ro ? -EROFS : 0;
}

SYS(access) { UNUSED_ARGS(); return sys_faccessat((uint64_t)AT_FDCWD, a0, a1, 0, 0, 0); }

SYS(openat)
{
	UNUSED_ARGS();
	long n = path_in(a1);
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	struct file *f;
	int err = vfs_open((int)a0, pathbuf, (uint32_t)a2, (uint32_t)a3, &f);
	if (err)
		return err;
	return fd_install(f, 0, (a2 & O_CLOEXEC) != 0);
}

SYS(open) { UNUSED_ARGS(); return sys_openat((uint64_t)AT_FDCWD, a0, a1, a2, 0, 0); }

SYS(readlinkat)
{
	UNUSED_ARGS();
	char *target = current->scratch->target;
	if ((int64_t)a3 <= 0)
		return -EINVAL;
	struct vnode *vn;
	long err = at_node(a0, a1, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &vn);
	if (err)
		return err;
	long n = S_ISLNK(vn->mode) && vn->ops->readlink ? vn->ops->readlink(vn, target, PATH_MAX) : -EINVAL;
	vn_put(vn);
	if (n < 0)
		return n;
	if ((uint64_t)n > a3)
		n = (long)a3;
	return copy_to_user(a2, target, (uint64_t)n) ? -EFAULT : n;
}

SYS(readlink) { UNUSED_ARGS(); return sys_readlinkat((uint64_t)AT_FDCWD, a0, a1, a2, 0, 0); }

SYS(getcwd)
{
	UNUSED_ARGS();
	uint64_t n = strlen(current->cwd_path) + 1;
	if (a1 < n)
		return -ERANGE;
	return copy_to_user(a0, current->cwd_path, n) ? -EFAULT : (long)n;
}

static long set_cwd(struct vnode *vn, const char *canon)
{
	if (!S_ISDIR(vn->mode)) {
		vn_put(vn);
		return -ENOTDIR;
	}
	proc_set_cwd(vn, canon);  /* and for the threads that share it (CLONE_FS) */
	return 0;
}

SYS(chdir)
{
	UNUSED_ARGS();
	char *canon = current->scratch->canon;
	long n = path_in(a0);
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	struct vnode *vn;
	int err = vfs_resolve(AT_FDCWD, pathbuf, 1, &vn, canon);
	return err ? err : set_cwd(vn, canon);
}

SYS(fchdir)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	return set_cwd(vn_get(f->vn), f->path);
}

static long dup_to(int oldfd, int newfd, int cloexec)
{
	struct file *f = fd_get(oldfd);
	if (!f)
		return -EBADF;
	if (newfd < 0 || newfd >= NFD)
		return -EBADF;
	if (oldfd == newfd)
		return newfd;
	file_get(f);
	if (fd_get(newfd))
		fd_close(newfd);
	current->fds->fd[newfd] = f;
	current->fds->cloexec[newfd] = (uint8_t)(cloexec != 0);
	return newfd;
}

SYS(dup)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	return f ? fd_install(file_get(f), 0, 0) : -EBADF;
}

SYS(dup2)
{
	UNUSED_ARGS();
	if ((int)a0 == (int)a1)
		return fd_get((int)a0) ? (long)(int)a1 : -EBADF;
	return dup_to((int)a0, (int)a1, 0);
}

SYS(dup3)
{
	UNUSED_ARGS();
	if ((int)a0 == (int)a1 || (a2 & ~(uint64_t)O_CLOEXEC))
		return -EINVAL;
	return dup_to((int)a0, (int)a1, (a2 & O_CLOEXEC) != 0);
}

SYS(fcntl)
{
	UNUSED_ARGS();
	int fd = (int)a0;
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	switch (a1) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (a2 >= NFD)
			return -EINVAL;
		return fd_install(file_get(f), (int)a2, a1 == F_DUPFD_CLOEXEC);
	case F_GETFD:
		return current->fds->cloexec[fd] ? FD_CLOEXEC : 0;
	case F_SETFD:
		current->fds->cloexec[fd] = (a2 & FD_CLOEXEC) != 0;
		return 0;
	case F_GETFL:
		return f->flags;
	case F_SETFL:
		/* Only the status flags may change; the access mode stays. */
		f->flags = (f->flags & ~(uint32_t)(O_APPEND | O_NONBLOCK)) | ((uint32_t)a2 & (O_APPEND | O_NONBLOCK));
		return 0;
	case 5: case 6: case 7: /* F_GETLK, F_SETLK, F_SETLKW */
		return lock_fcntl(f, a1, a2);
	default:
		return -EINVAL;
	}
}

SYS(ioctl)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	return f->vn->ops->ioctl ? f->vn->ops->ioctl(f, a1, a2) : -ENOTTY;
}

SYS(getdents64)
{
	UNUSED_ARGS();
	char *name = current->scratch->dname;
	uint8_t *rec = current->scratch->drec;
	const size_t name_size = sizeof(current->scratch->dname);
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	if (!S_ISDIR(f->vn->mode) || !f->vn->ops->readdir)
		return -ENOTDIR;
	uint64_t done = 0;
	for (;;) {
		uint64_t pos = f->pos, ino;
		uint8_t type;
		int r = f->vn->ops->readdir(f->vn, &pos, name, name_size, &ino, &type);
		if (r < 0)
			return done ? (long)done : r;
		if (r == 0)
			break;
		size_t nlen = strlen(name);
		uint16_t reclen = (uint16_t)ALIGN_UP(sizeof(struct dirent64_k) + nlen + 1, 8);
		if (done + reclen > a2) {
			if (!done)
				return -EINVAL;
			break;
		}
		struct dirent64_k *d = (struct dirent64_k *)rec;
		memset(rec, 0, reclen);
		d->ino = ino;
		d->off = (int64_t)pos;
		d->reclen = reclen;
		d->type = type;
		memcpy(d->name, name, nlen);
		if (copy_to_user(a1 + done, rec, reclen))
			return done ? (long)done : -EFAULT;
		done += reclen;
		f->pos = pos;
	}
	return (long)done;
}

SYS(utimensat)
{
	UNUSED_ARGS();
	struct vnode *vn;
	long err;
	if (!a1) { /* futimens: the descriptor itself */
		struct file *f = fd_get((int)a0);
		if (!f)
			return -EBADF;
		vn = vn_get(f->vn);
	} else {
		err = at_node(a0, a1, a3 & AT_SYMLINK_NOFOLLOW, &vn);
		if (err)
			return err;
	}
	if (vn->ops->setattr) {
		/* The host keeps the times: pass atime and mtime, with UTIME_NOW and UTIME_OMIT. */
		struct { int64_t sec, nsec; } ts[2] = { { 0, (1l << 30) - 1 }, { 0, (1l << 30) - 1 } };
		struct lbvm_io_setattr sa = { 0 };
		if (a2 && copy_from_user(ts, a2, sizeof(ts)))
			err = -EFAULT;
		else
			err = 0;
		for (int i = 0; i < 2 && !err; i++) {
			if (ts[i].nsec == (1l << 30) - 2)
				continue; /* UTIME_OMIT */
			if (ts[i].nsec != (1l << 30) - 1 && (ts[i].nsec < 0 || ts[i].nsec >= 1000000000)) {
				err = -EINVAL;
				break;
			}
			int64_t sec = ts[i].nsec == (1l << 30) - 1 ? LBVM_TIME_NOW : ts[i].sec;
			uint32_t ns = ts[i].nsec == (1l << 30) - 1 ? 0 : (uint32_t)ts[i].nsec;
			if (i == 0) {
				sa.valid |= LBVM_SETATTR_ATIME;
				sa.atime = sec;
				sa.atime_ns = ns;
			} else {
				sa.valid |= LBVM_SETATTR_MTIME;
				sa.mtime = sec;
				sa.mtime_ns = ns;
			}
		}
		if (!err && sa.valid)
			err = vn->ops->setattr(vn, NULL, &sa);
		vn_put(vn);
		return err;
	}
	/* Times are kept on the writable layer; UTIME_NOW (and NULL) is now, UTIME_OMIT keeps. */
	err = vn->ops == &ovl_ops ? ovl_copy_up(vn) : -EPERM;
	if (!err) {
		struct { int64_t sec, nsec; } ts[2];
		int64_t now = time_realtime_ns();
		if (a2 && copy_from_user(ts, a2, sizeof(ts)))
			err = -EFAULT;
		else if (!a2 || ts[1].nsec == ((1l << 30) - 1)) {
			vn->upper->mtime = now / 1000000000;
			vn->upper->mtime_nsec = now % 1000000000;
		} else if (ts[1].nsec != ((1l << 30) - 2)) {
			if (ts[1].nsec < 0 || ts[1].nsec >= 1000000000)
				err = -EINVAL;
			else {
				vn->upper->mtime = ts[1].sec;
				vn->upper->mtime_nsec = ts[1].nsec;
			}
		}
	}
	vn_put(vn);
	return err;
}

/* ---- changing the tree: creation, removal, renaming, links, metadata ---- */

#define AT_REMOVEDIR 0x200
#define RENAME_NOREPLACE 1

#define pathbuf2 (current->scratch->path2)

/* The parent directory and last name of a user path (copied into buf). */
static long parent_of(uint64_t dirfd, uint64_t upath, char *buf, struct vnode **dir, const char **name, size_t *len)
{
	long n = strncpy_from_user(buf, upath, PATH_MAX);
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	int err = vfs_resolve_parent((int)dirfd, buf, dir, name, len, NULL);
	if (err == -EISDIR)
		return -EEXIST;
	if (err)
		return err;
	if (!S_ISDIR((*dir)->mode)) {
		vn_put(*dir);
		return -ENOTDIR;
	}
	return 0;
}

static long make_node(uint64_t dirfd, uint64_t upath, uint32_t mode, const char *target)
{
	struct vnode *dir, *existing;
	const char *name;
	size_t len;
	long err = parent_of(dirfd, upath, pathbuf, &dir, &name, &len);
	if (err)
		return err;
	if (!dir->ops->create && dir->ops->lookup && dir->ops->lookup(dir, name, len, &existing) == 0) {
		vn_put(existing);
		vn_put(dir);
		return -EEXIST;
	}
	err = dir->ops->create ? dir->ops->create(dir, name, len, mode, target, NULL) : ovl_create(dir, name, len, mode, target, NULL);
	vn_put(dir);
	return err;
}

SYS(mkdirat) { UNUSED_ARGS(); return make_node(a0, a1, S_IFDIR | ((uint32_t)a2 & 07777 & ~current->umask), NULL); }
SYS(mkdir) { UNUSED_ARGS(); return sys_mkdirat((uint64_t)AT_FDCWD, a0, a1, 0, 0, 0); }

SYS(symlinkat)
{
	UNUSED_ARGS();
	char *target = current->scratch->target;
	long n = strncpy_from_user(target, a0, PATH_MAX);
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	return make_node(a1, a2, S_IFLNK | 0777, target);
}

SYS(symlink) { UNUSED_ARGS(); return sys_symlinkat(a0, (uint64_t)AT_FDCWD, a1, 0, 0, 0); }

SYS(mknodat)
{
	UNUSED_ARGS();
	uint32_t type = (uint32_t)a2 & S_IFMT;
	if (type != S_IFREG && type != 0 && type != S_IFIFO && type != S_IFSOCK)
		return -EPERM; /* devices cannot be made here */
	return make_node(a0, a1, (type ? type : S_IFREG) | ((uint32_t)a2 & 07777 & ~current->umask), NULL);
}

SYS(unlinkat)
{
	UNUSED_ARGS();
	if (a2 & ~(uint64_t)AT_REMOVEDIR)
		return -EINVAL;
	struct vnode *dir, *victim;
	const char *name;
	size_t len;
	long err = parent_of(a0, a1, pathbuf, &dir, &name, &len);
	if (err)
		return err == -EEXIST ? ((a2 & AT_REMOVEDIR) ? -EINVAL : -EISDIR) : err;
	if (dir->ops->remove) {
		err = dir->ops->remove(dir, name, len, (a2 & AT_REMOVEDIR) != 0);
		vn_put(dir);
		return err;
	}
	err = dir->ops->lookup ? dir->ops->lookup(dir, name, len, &victim) : -ENOENT;
	if (!err) {
		if (victim->ops != &ovl_ops)
			err = -EBUSY;  /* the synthetic trees */
		else if (a2 & AT_REMOVEDIR)
			err = !S_ISDIR(victim->mode) ? -ENOTDIR : !ovl_is_empty_dir(victim) ? -ENOTEMPTY : ovl_remove(dir, victim);
		else
			err = S_ISDIR(victim->mode) ? -EISDIR : ovl_remove(dir, victim);
		vn_put(victim);
	}
	vn_put(dir);
	return err;
}

SYS(unlink) { UNUSED_ARGS(); return sys_unlinkat((uint64_t)AT_FDCWD, a0, 0, 0, 0, 0); }
SYS(rmdir) { UNUSED_ARGS(); return sys_unlinkat((uint64_t)AT_FDCWD, a0, AT_REMOVEDIR, 0, 0, 0); }

SYS(renameat2)
{
	UNUSED_ARGS();
	if (a4 & ~(uint64_t)RENAME_NOREPLACE)
		return -EINVAL;
	struct vnode *odir, *ndir, *src, *dst = NULL;
	const char *oname, *nname;
	size_t olen, nlen;
	long err = parent_of(a0, a1, pathbuf, &odir, &oname, &olen);
	if (err)
		return err == -EEXIST ? -EBUSY : err;
	err = parent_of(a2, a3, pathbuf2, &ndir, &nname, &nlen);
	if (err) {
		vn_put(odir);
		return err == -EEXIST ? -EBUSY : err;
	}
	if (odir->ops->rename) {
		err = odir->ops->rename(odir, oname, olen, ndir, nname, nlen, (uint32_t)a4);
		goto out;
	}
	err = odir->ops->lookup ? odir->ops->lookup(odir, oname, olen, &src) : -ENOENT;
	if (err)
		goto out;
	if (ndir->ops->lookup && ndir->ops->lookup(ndir, nname, nlen, &dst) != 0)
		dst = NULL;
	if (dst && (a4 & RENAME_NOREPLACE))
		err = -EEXIST;
	else if (src->ops != &ovl_ops || ndir->ops != &ovl_ops)
		err = -EXDEV;
	else if (S_ISDIR(src->mode) && src->has_lower)
		err = -EXDEV;   /* moving an image directory would mean copying its tree, as overlayfs says */
	else if (dst && S_ISDIR(dst->mode) && !S_ISDIR(src->mode))
		err = -EISDIR;
	else if (dst && !S_ISDIR(dst->mode) && S_ISDIR(src->mode))
		err = -ENOTDIR;
	else if (dst && S_ISDIR(dst->mode) && !ovl_is_empty_dir(dst))
		err = -ENOTEMPTY;
	else if (dst && dst->upper && dst->upper == src->upper)
		err = 0;        /* the same file: nothing to do */
	else {
		/* Link under the new name first, then drop the old one: never a moment without the file. */
		err = ovl_link(ndir, nname, nlen, src);
		if (!err && (odir != ndir || olen != nlen || memcmp(oname, nname, olen)))
			err = ovl_remove(odir, src);
	}
	vn_put(src);
	vn_put(dst);
out:
	vn_put(odir);
	vn_put(ndir);
	return err;
}

SYS(renameat) { UNUSED_ARGS(); return sys_renameat2(a0, a1, a2, a3, 0, 0); }
SYS(rename) { UNUSED_ARGS(); return sys_renameat2((uint64_t)AT_FDCWD, a0, (uint64_t)AT_FDCWD, a1, 0, 0); }

SYS(linkat)
{
	UNUSED_ARGS();
	struct vnode *src, *dir, *existing;
	const char *name;
	size_t len;
	long err = at_node(a0, a1, (a4 & 0x400 /* AT_SYMLINK_FOLLOW */) ? 0 : AT_SYMLINK_NOFOLLOW, &src);
	if (err)
		return err;
	if (S_ISDIR(src->mode)) {
		vn_put(src);
		return -EPERM;
	}
	err = parent_of(a2, a3, pathbuf2, &dir, &name, &len);
	if (!err && (dir->ops->link || src->ops->link)) {
		err = dir->ops->link ? dir->ops->link(src, dir, name, len) : -EXDEV;
		vn_put(dir);
	} else if (!err) {
		if (dir->ops->lookup && dir->ops->lookup(dir, name, len, &existing) == 0) {
			vn_put(existing);
			err = -EEXIST;
		} else if (src->ops != &ovl_ops || dir->ops != &ovl_ops) {
			err = -EXDEV;
		} else {
			err = ovl_link(dir, name, len, src);
		}
		vn_put(dir);
	}
	vn_put(src);
	return err;
}

SYS(link) { UNUSED_ARGS(); return sys_linkat((uint64_t)AT_FDCWD, a0, (uint64_t)AT_FDCWD, a1, 0, 0); }

/* Metadata changes go to the writable layer (copying the node up). */
static long set_attr(struct vnode *vn, int chmod_, uint32_t mode, int chown_, uint32_t uid, uint32_t gid)
{
	if (vn->ops->setattr) {
		struct lbvm_io_setattr sa = { .valid = (chmod_ ? LBVM_SETATTR_MODE : 0) | (chown_ ? LBVM_SETATTR_OWNER : 0),
					      .mode = mode & 07777, .uid = uid, .gid = gid };
		return vn->ops->setattr(vn, NULL, &sa);
	}
	if (vn->ops != &ovl_ops)
		return -EPERM;
	int err = ovl_copy_up(vn);
	if (err)
		return err;
	if (chmod_)
		vn->upper->mode = (vn->upper->mode & S_IFMT) | (mode & 07777);
	if (chown_) {
		if (uid != 0xffffffffu)
			vn->upper->uid = uid;
		if (gid != 0xffffffffu)
			vn->upper->gid = gid;
	}
	vn->mode = vn->upper->mode;
	return 0;
}

SYS(fchmodat)
{
	UNUSED_ARGS();
	struct vnode *vn;
	long err = at_node(a0, a1, 0, &vn);
	if (err)
		return err;
	err = set_attr(vn, 1, (uint32_t)a2, 0, 0, 0);
	vn_put(vn);
	return err;
}

SYS(chmod) { UNUSED_ARGS(); return sys_fchmodat((uint64_t)AT_FDCWD, a0, a1, 0, 0, 0); }

SYS(fchmod)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	return f ? set_attr(f->vn, 1, (uint32_t)a1, 0, 0, 0) : -EBADF;
}

SYS(fchownat)
{
	UNUSED_ARGS();
	struct vnode *vn;
	long err = at_node(a0, a1, a4 & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), &vn);
	if (err)
		return err;
	err = set_attr(vn, 0, 0, 1, (uint32_t)a2, (uint32_t)a3);
	vn_put(vn);
	return err;
}

SYS(chown) { UNUSED_ARGS(); return sys_fchownat((uint64_t)AT_FDCWD, a0, a1, a2, 0, 0); }
SYS(lchown) { UNUSED_ARGS(); return sys_fchownat((uint64_t)AT_FDCWD, a0, a1, a2, AT_SYMLINK_NOFOLLOW, 0); }

SYS(fchown)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	return f ? set_attr(f->vn, 0, 0, 1, (uint32_t)a1, (uint32_t)a2) : -EBADF;
}

SYS(umask)
{
	UNUSED_ARGS();
	return proc_set_umask((uint32_t)a0 & 0777);
}

static long truncate_node(struct vnode *vn, struct file *f, int64_t len)
{
	if (len < 0)
		return -EINVAL;
	if (S_ISDIR(vn->mode))
		return -EISDIR;
	if (vn->ops->setattr && S_ISREG(vn->mode)) {
		struct lbvm_io_setattr sa = { .valid = LBVM_SETATTR_SIZE, .size = (uint64_t)len };
		return vn->ops->setattr(vn, f, &sa);
	}
	if (!S_ISREG(vn->mode) || vn->ops != &ovl_ops)
		return -EINVAL;
	int err = ovl_copy_up(vn);
	return err ? err : tmp_truncate(vn->upper, (uint64_t)len);
}

SYS(ftruncate)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EINVAL;
	return truncate_node(f->vn, f, (int64_t)a1);
}

SYS(truncate)
{
	UNUSED_ARGS();
	struct vnode *vn;
	long err = at_node((uint64_t)AT_FDCWD, a0, 0, &vn);
	if (err)
		return err;
	err = truncate_node(vn, NULL, (int64_t)a1);
	vn_put(vn);
	return err;
}

SYS(fallocate)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	if (a1 != 0)
		return -EOPNOTSUPP;
	if ((int64_t)a2 < 0 || (int64_t)a3 <= 0)
		return -EINVAL;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (f->vn->ops->fallocate)
		return f->vn->ops->fallocate(f, a2, a3);
	struct kstat st;
	vfs_stat(f->vn, &st);
	return a2 + a3 > st.size ? truncate_node(f->vn, f, (int64_t)(a2 + a3)) : 0;
}

SYS(fsync)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	/* A host file goes to the host's disk; everything else lives in memory: nothing to flush. */
	return f->vn->ops->fsync ? f->vn->ops->fsync(f) : 0;
}

SYS(pwrite64)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	if (f->vn->stream)
		return -ESPIPE;
	if ((int64_t)a3 < 0 || (int64_t)a2 < 0)
		return -EINVAL;
	return do_write(f, a1, a2, a3, 0);
}

struct statfs_k {
	int64_t type, bsize;
	uint64_t blocks, bfree, bavail, files, ffree;
	int32_t fsid[2];
	int64_t namelen, frsize, flags, spare[4];
};
_Static_assert(sizeof(struct statfs_k) == 120, "struct statfs");

static long statfs_out(struct vnode *vn, uint64_t ubuf)
{
	struct statfs_k s;
	memset(&s, 0, sizeof(s));
	int ro = vfs_readonly(vn);
	if (vn->ops->statfs) {
		struct lbvm_io_statfs h;
		int err = vn->ops->statfs(vn, &h);
		if (err)
			return err;
		s.type = (int64_t)h.type;
		s.bsize = s.frsize = (int64_t)h.bsize;
		s.blocks = h.blocks;
		s.bfree = h.bfree;
		s.bavail = h.bavail;
		s.files = h.files;
		s.ffree = h.ffree;
		s.namelen = (int64_t)h.namelen;
		s.flags = ro ? 1 /* ST_RDONLY */ : 0;
		return copy_to_user(ubuf, &s, sizeof(s)) ? -EFAULT : 0;
	}
	s.type = ro ? 0xE0F5E1E2 : 0x01021994;  /* EROFS_SUPER_MAGIC, TMPFS_MAGIC */
	s.bsize = s.frsize = 4096;
	s.blocks = ro ? (boot.image_size + 4095) / 4096 : pmem_total_pages();
	s.bfree = s.bavail = ro ? 0 : pmem_free_pages();
	s.files = 1 << 20;
	s.ffree = ro ? 0 : 1 << 19;
	s.namelen = NAME_MAX;
	s.flags = ro ? 1 /* ST_RDONLY */ : 0;
	return copy_to_user(ubuf, &s, sizeof(s)) ? -EFAULT : 0;
}

SYS(statfs)
{
	UNUSED_ARGS();
	struct vnode *vn;
	long err = at_node((uint64_t)AT_FDCWD, a0, 0, &vn);
	if (err)
		return err;
	err = statfs_out(vn, a1);
	vn_put(vn);
	return err;
}

SYS(fstatfs)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	return f ? statfs_out(f->vn, a1) : -EBADF;
}

/* ---- poll and select ---- */

struct pollfd_k {
	int32_t fd;
	int16_t events, revents;
};

/*
 * Check the set; if nothing is ready, sleep until readiness changes anywhere
 * (poll_wake) or the timeout passes (poll_wait_until). timeout_ns < 0: forever.
 */
static long do_poll(struct pollfd_k *fds, unsigned n, int64_t timeout_ns)
{
	int64_t deadline = deadline_after(time_monotonic_ns(), timeout_ns);
	for (;;) {
		long count = 0;
		for (unsigned i = 0; i < n; i++) {
			if (fds[i].fd < 0) {
				fds[i].revents = 0;
				continue;
			}
			struct file *f = fd_get(fds[i].fd);
			unsigned r = f ? file_poll(f) : POLLNVAL;
			fds[i].revents = (int16_t)(r & ((unsigned)(uint16_t)fds[i].events | POLLERR | POLLHUP | POLLNVAL));
			if (fds[i].revents)
				count++;
		}
		if (count || timeout_ns == 0)
			return count;
		if (signal_pending())
			return -EINTR;
		int64_t now = time_monotonic_ns();
		if (now >= deadline)
			return 0;
		poll_wait_until(deadline);
	}
}

/* Copy the pollfd array in, poll, copy the results out. */
static long poll_user(uint64_t ufds, uint64_t n, int64_t timeout_ns)
{
	/* Per process: a poll sleeps, and another process may poll meanwhile. */
	struct pollfd_k *fds = (struct pollfd_k *)current->scratch->pollfds;
	if (n > NFD)
		return -EINVAL;
	_Static_assert(sizeof(struct pollfd_k) == sizeof(current->scratch->pollfds[0]), "pollfd");
	if (copy_from_user(fds, ufds, n * sizeof(fds[0])))
		return -EFAULT;
	long r = do_poll(fds, (unsigned)n, timeout_ns);
	if (r >= 0 && copy_to_user(ufds, fds, n * sizeof(fds[0])))
		return -EFAULT;
	return r;
}

SYS(poll)
{
	UNUSED_ARGS();
	return poll_user(a0, a1, (int)a2 < 0 ? -1 : (int64_t)(int)a2 * 1000000);
}

SYS(ppoll)
{
	UNUSED_ARGS();
	int64_t ts[2], t = -1;
	if (a2) {
		if (copy_from_user(ts, a2, sizeof(ts)))
			return -EFAULT;
		if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
			return -EINVAL;
		t = ts[0] > INT64_MAX / 1000000000 - 1 ? -1 : ts[0] * 1000000000 + ts[1];
	}
	if (!a3)
		return poll_user(a0, a1, t);
	uint64_t mask;
	if (a4 != 8)
		return -EINVAL;
	if (copy_from_user(&mask, a3, 8))
		return -EFAULT;
	signal_mask_push(mask);   /* the call's mask, in force while it waits (as epoll_pwait) */
	long r = poll_user(a0, a1, t);
	signal_mask_pop();
	return r;
}

/* select and pselect6 over poll: up to 1024 descriptors in three bit sets. */
static long do_select(uint64_t nfds, uint64_t urd, uint64_t uwr, uint64_t uex, int64_t timeout_ns)
{
	uint64_t rd[NFD / 64], wr[NFD / 64], ex[NFD / 64];
	struct pollfd_k *fds = (struct pollfd_k *)current->scratch->pollfds;  /* per process: it sleeps */
	if (nfds > NFD)
		return -EINVAL;
	uint64_t bytes = ALIGN_UP(nfds, 64) / 8;
	memset(rd, 0, sizeof(rd));
	memset(wr, 0, sizeof(wr));
	memset(ex, 0, sizeof(ex));
	if ((urd && copy_from_user(rd, urd, bytes)) || (uwr && copy_from_user(wr, uwr, bytes)) ||
	    (uex && copy_from_user(ex, uex, bytes)))
		return -EFAULT;
	unsigned n = 0;
	for (unsigned fd = 0; fd < nfds; fd++) {
		int16_t ev = (int16_t)(((rd[fd / 64] >> (fd % 64)) & 1 ? POLLIN : 0) | ((wr[fd / 64] >> (fd % 64)) & 1 ? POLLOUT : 0) |
				       ((ex[fd / 64] >> (fd % 64)) & 1 ? POLLPRI : 0));
		if (!ev)
			continue;
		if (!fd_get((int)fd))
			return -EBADF;
		fds[n++] = (struct pollfd_k){ (int32_t)fd, ev, 0 };
	}
	long r = do_poll(fds, n, timeout_ns);
	if (r < 0)
		return r;
	memset(rd, 0, sizeof(rd));
	memset(wr, 0, sizeof(wr));
	memset(ex, 0, sizeof(ex));
	long count = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned fd = (unsigned)fds[i].fd;
		if (fds[i].revents & (POLLIN | POLLHUP)) { rd[fd / 64] |= 1ull << (fd % 64); count++; }
		if (fds[i].revents & (POLLOUT | POLLERR)) { wr[fd / 64] |= 1ull << (fd % 64); count++; }
		if (fds[i].revents & POLLPRI) { ex[fd / 64] |= 1ull << (fd % 64); count++; }
	}
	if ((urd && copy_to_user(urd, rd, bytes)) || (uwr && copy_to_user(uwr, wr, bytes)) ||
	    (uex && copy_to_user(uex, ex, bytes)))
		return -EFAULT;
	return count;
}

SYS(select)
{
	UNUSED_ARGS();
	int64_t t = -1, tv[2];
	if (a4) {
		if (copy_from_user(tv, a4, sizeof(tv)))
			return -EFAULT;
		if (tv[0] < 0 || tv[1] < 0)
			return -EINVAL;
		t = tv[0] * 1000000000 + tv[1] * 1000;
	}
	return do_select(a0, a1, a2, a3, t);
}

SYS(pselect6)
{
	UNUSED_ARGS();
	int64_t t = -1, ts[2];
	if (a4) {
		if (copy_from_user(ts, a4, sizeof(ts)))
			return -EFAULT;
		if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
			return -EINVAL;
		t = ts[0] > INT64_MAX / 1000000000 - 1 ? -1 : ts[0] * 1000000000 + ts[1];
	}
	struct { uint64_t set, size; } sm = { 0, 0 };
	if (a5 && copy_from_user(&sm, a5, sizeof(sm)))
		return -EFAULT;
	if (!sm.set)
		return do_select(a0, a1, a2, a3, t);
	uint64_t mask;
	if (sm.size != 8)
		return -EINVAL;
	if (copy_from_user(&mask, sm.set, 8))
		return -EFAULT;
	signal_mask_push(mask);
	long r = do_select(a0, a1, a2, a3, t);
	signal_mask_pop();
	return r;
}

SYS(mknod) { UNUSED_ARGS(); return sys_mknodat((uint64_t)AT_FDCWD, a0, a1, a2, 0, 0); }
