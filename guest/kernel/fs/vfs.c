/* vfs.c: the image as the root file system, path resolution, open files and the descriptor table. */
#include "kernel/mm/mm.h"
#include "kernel/ktimer.h"
#include "kernel/proc/proc.h"
#include "lock.h"
#include "tmpfs.h"
#include "vfs.h"

struct erofs_fs image_fs;
int have_image;
static struct vnode *root;

struct vnode *vn_get(struct vnode *vn)
{
	if (vn)
		vn->refs++;
	return vn;
}

void vn_put(struct vnode *vn)
{
	if (!vn || --vn->refs > 0)
		return;
	if (vn->ops->release)
		vn->ops->release(vn);
	vn_put(vn->parent);
	if (vn->name)
		kfree(vn->name, strlen(vn->name) + 1);
	kfree(vn, sizeof(*vn));
}

/* A vnode named name under parent (which it holds), with one reference; NULL when memory is short. */
struct vnode *vn_new_named(const struct vnode_ops *ops, struct vnode *parent, const char *name, size_t len)
{
	struct vnode *vn = kmalloc(sizeof(*vn));
	char *nm = kmalloc(len + 1);
	if (!vn || !nm) {
		kfree(vn, sizeof(*vn));
		kfree(nm, len + 1);
		return NULL;
	}
	memcpy(nm, name, len);
	nm[len] = 0;
	vn->ops = ops;
	vn->refs = 1;
	vn->name = nm;
	vn->parent = vn_get(parent);
	return vn;
}

/* ---- the root: the image, with /dev and /proc laid over it ---- */

static struct vnode *tmp_mount;

static struct vnode *mount_over(struct vnode *dir, const char *name, size_t len)
{
	if (dir != root)
		return NULL;
	if (len == 3 && !memcmp(name, "tmp", 3))
		return vn_get(tmp_mount);
	if (len == 3 && !memcmp(name, "dev", 3))
		return devfs_root(vn_get(root));
	if (len == 4 && !memcmp(name, "proc", 4))
		return procfs_root(vn_get(root));
	if (len == 3 && !memcmp(name, "sys", 3))
		return sysfs_root(vn_get(root));
	return NULL;
}

static int step(struct vnode *dir, const char *name, size_t len, struct vnode **out);

/* mkdir -p of an absolute canonical path, at boot. */
static void make_dirs(const char *path)
{
	struct vnode *cur = vn_get(root);
	const char *p = path;
	while (cur && *p) {
		while (*p == '/')
			p++;
		size_t len = 0;
		while (p[len] && p[len] != '/')
			len++;
		if (!len)
			break;
		struct vnode *nx = NULL;
		if (step(cur, p, len, &nx) == -ENOENT && ovl_create(cur, p, len, S_IFDIR | 0755, NULL, &nx))
			nx = NULL;
		vn_put(cur);
		cur = nx;
		p += len;
	}
	vn_put(cur);
}

void vfs_init(void)
{
	struct erofs_inode lower, *lp = NULL;
	if (boot.image_size) {
		int err = erofs_mount(&image_fs, pa_to_kva(boot.image_gpa), boot.image_size);
		if (!err)
			err = erofs_iget(&image_fs, image_fs.root_nid, &lower);
		if (err)
			panic("the image is not a valid EROFS file system (%d)", err);
		if (!S_ISDIR(lower.mode))
			panic("the image's root is not a directory");
		lp = &lower;
		have_image = 1;
		ovl_image_writable = (boot.flags & LBVM_BOOT_OVERLAY) != 0;
	}
	/* The root: the image with a tmpfs layer (without an image, a tmpfs alone), and a tmpfs at /tmp. */
	root = ovl_root(lp);
	tmp_mount = root ? ovl_mount_tmpfs(root, "tmp") : NULL;
	if (!tmp_mount)
		panic("out of memory at boot");
	/* Each host mount's directory exists, made in the writable layer where the image lacks it. */
	int saved = ovl_image_writable;
	ovl_image_writable = 1;
	for (unsigned i = 0; i < hostfs_nmounts(); i++)
		make_dirs(hostfs_mount_path(i));
	ovl_image_writable = saved;
}

/* ---- path resolution ---- */

static int canon_push(char *canon, const char *name, size_t len)
{
	size_t n = strlen(canon);
	if (n + 1 + len + 1 > PATH_MAX)
		return -ENAMETOOLONG;
	if (n > 1 || canon[0] != '/')
		canon[n++] = '/';
	memcpy(canon + n, name, len);
	canon[n + len] = 0;
	return 0;
}

static void canon_pop(char *canon)
{
	char *s = strrchr(canon, '/');
	if (s == canon)
		canon[1] = 0;
	else if (s)
		*s = 0;
}

static int step(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (len == 1 && name[0] == '.') {
		*out = vn_get(dir);
		return 0;
	}
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		if (dir == root) {
			*out = vn_get(root);
			return 0;
		}
		if (dir->parent) {
			*out = vn_get(dir->parent);
			return 0;
		}
	}
	struct vnode *m = mount_over(dir, name, len);
	if (m) {
		*out = m;
		return 0;
	}
	if (!dir->ops->lookup)
		return -ENOENT;
	return dir->ops->lookup(dir, name, len, out);
}

/*
 * Resolve iteratively: a work buffer holds the rest of the path, and a
 * symlink's target is spliced in front of it, so there is no recursion and
 * at most SYMLOOP_MAX links are followed.
 */
int vfs_resolve(int dirfd, const char *path, int follow_last, struct vnode **out, char *canon_out)
{
	char *work = current->scratch->work, *link = current->scratch->link;
	char *canon = current->scratch->rcanon;
	const size_t work_size = sizeof(current->scratch->work), link_size = PATH_MAX, canon_size = PATH_MAX;
	size_t plen = strnlen(path, PATH_MAX);
	if (plen == 0)
		return -ENOENT;
	if (plen >= PATH_MAX)
		return -ENAMETOOLONG;

	struct vnode *cur;
	if (path[0] == '/') {
		cur = vn_get(root);
		strlcpy(canon, "/", canon_size);
	} else if (dirfd == AT_FDCWD) {
		cur = vn_get(current->cwd);
		strlcpy(canon, current->cwd_path, canon_size);
	} else {
		struct file *f = fd_get(dirfd);
		if (!f)
			return -EBADF;
		if (!S_ISDIR(f->vn->mode))
			return -ENOTDIR;
		cur = vn_get(f->vn);
		strlcpy(canon, f->path, canon_size);
	}
	memcpy(work, path, plen + 1);
	size_t at = 0, links = 0;
	int err = 0;
	for (;;) {
		while (work[at] == '/')
			at++;
		if (!work[at])
			break;
		size_t len = 0;
		while (work[at + len] && work[at + len] != '/')
			len++;
		if (len > NAME_MAX) {
			err = -ENAMETOOLONG;
			break;
		}
		const char *name = work + at;
		size_t next = at + len;
		int last = 1;
		for (size_t k = next; work[k]; k++)
			if (work[k] != '/') {
				last = 0;
				break;
			}
		struct vnode *nx;
		err = step(cur, name, len, &nx);
		if (err)
			break;
		if (S_ISLNK(nx->mode) && (!last || follow_last || work[next] == '/')) {
			if (++links > SYMLOOP_MAX) {
				vn_put(nx);
				err = -ELOOP;
				break;
			}
			if (nx->jump) {
				struct vnode *to = vn_get(nx->jump);
				long n = nx->ops->readlink(nx, canon, canon_size);
				vn_put(nx);
				if (n < 0)
					strlcpy(canon, "/", canon_size);
				vn_put(cur);
				cur = to;
				at = next;
				continue;
			}
			long n = nx->ops->readlink ? nx->ops->readlink(nx, link, link_size) : -EINVAL;
			vn_put(nx);
			if (n < 0) {
				err = (int)n;
				break;
			}
			if (n == 0) {
				err = -ENOENT;
				break;
			}
			size_t rest = strlen(work + next);
			if ((size_t)n + 1 + rest + 1 > work_size) {
				err = -ENAMETOOLONG;
				break;
			}
			/* work := target + "/" + rest (the slash keeps a directory target a directory) */
			memmove(work + n + 1, work + next, rest + 1);
			memcpy(work, link, (size_t)n);
			work[n] = rest ? '/' : 0;
			at = 0;
			if (link[0] == '/') {
				vn_put(cur);
				cur = vn_get(root);
				strlcpy(canon, "/", canon_size);
			}
			continue;
		}
		if (len == 2 && name[0] == '.' && name[1] == '.') {
			canon_pop(canon);
		} else if (!(len == 1 && name[0] == '.')) {
			err = canon_push(canon, name, len);
			/* A host directory mounted here covers what the image has. */
			struct vnode *m = !err && hostfs_nmounts() ? hostfs_cross(canon, cur, name, len) : NULL;
			if (m) {
				vn_put(nx);
				nx = m;
			}
		}
		vn_put(cur);
		cur = nx;
		if (err)
			break;
		at = next;
	}
	if (err) {
		vn_put(cur);
		return err;
	}
	/* "file/" names a directory or nothing. */
	if (path[plen - 1] == '/' && !S_ISDIR(cur->mode)) {
		vn_put(cur);
		return -ENOTDIR;
	}
	if (canon_out)
		strlcpy(canon_out, canon, PATH_MAX);
	*out = cur;
	return 0;
}

void vfs_stat(struct vnode *vn, struct kstat *st)
{
	memset(st, 0, sizeof(*st));
	st->blksize = 4096;
	st->nlink = 1;
	st->ino = vn->ino;
	st->mode = vn->mode;
	st->mtime = boot.boot_realtime_ns / 1000000000;
	if (vn->ops->getattr)
		vn->ops->getattr(vn, st);
}

/* ---- open files ---- */

struct file *file_new(struct vnode *vn, uint32_t flags, const char *path)
{
	/* The recorded path is for /proc/self/fd only: cut it to what fits one allocation. */
	size_t plen = strlen(path) + 1;
	if (plen > PAGE_SIZE - sizeof(struct file))
		plen = PAGE_SIZE - sizeof(struct file);
	struct file *f = kmalloc(sizeof(*f) + plen);
	if (!f)
		return NULL;
	f->vn = vn;
	f->flags = flags & ~O_CLOEXEC;
	f->refs = 1;
	strlcpy(f->path, path, plen);
	return f;
}

struct file *file_get(struct file *f)
{
	f->refs++;
	return f;
}

int file_put(struct file *f)
{
	if (--f->refs > 0)
		return 0;
	if (f->epitems)
		epoll_file_released(f);
	lock_release_flock(f);
	int err = f->vn->ops->close ? f->vn->ops->close(f) : 0;
	vn_put(f->vn);
	kfree(f, sizeof(*f) + strlen(f->path) + 1);
	return err;
}

/*
 * The directory that would hold path's last component, and that component.
 * name points into path; "." and ".." and an empty last component are EEXIST
 * or EISDIR material for the caller, reported as -EISDIR here.
 */
int vfs_resolve_parent(int dirfd, const char *path, struct vnode **dir, const char **name, size_t *len, char *canon)
{
	char *dpath = current->scratch->dpath;
	size_t n = strnlen(path, PATH_MAX);
	if (n == 0)
		return -ENOENT;
	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	while (n > 1 && path[n - 1] == '/')
		n--;
	size_t s = n;
	while (s > 0 && path[s - 1] != '/')
		s--;
	*name = path + s;
	*len = n - s;
	if (*len == 0 || (*len == 1 && (*name)[0] == '.') || (*len == 2 && (*name)[0] == '.' && (*name)[1] == '.'))
		return -EISDIR;
	if (*len > NAME_MAX)
		return -ENAMETOOLONG;
	if (s == 0) {
		dpath[0] = '.';
		dpath[1] = 0;
	} else {
		memcpy(dpath, path, s);
		dpath[s] = 0;
	}
	return vfs_resolve(dirfd, dpath, 1, dir, canon);
}

int vfs_open(int dirfd, const char *path, uint32_t flags, uint32_t mode, struct file **out)
{
	char *canon = current->scratch->ocanon;
	struct vnode *vn;
	int err = vfs_resolve(dirfd, path, !(flags & O_NOFOLLOW), &vn, canon);
	if (err == -ENOENT && (flags & O_CREAT)) {
		struct vnode *dir;
		const char *name;
		size_t len;
		err = vfs_resolve_parent(dirfd, path, &dir, &name, &len, canon);
		if (err)
			return err;
		if (!S_ISDIR(dir->mode)) {
			vn_put(dir);
			return -ENOTDIR;
		}
		uint32_t m = S_IFREG | (mode & 07777 & ~current->umask);
		err = dir->ops->create ? dir->ops->create(dir, name, len, m, NULL, &vn) : ovl_create(dir, name, len, m, NULL, &vn);
		vn_put(dir);
		if (err)
			return err;
		size_t cl = strlen(canon);
		if (cl + 1 + len < PATH_MAX) {
			if (cl > 1)
				canon[cl++] = '/';
			memcpy(canon + cl, name, len);
			canon[cl + len] = 0;
		}
		flags &= ~(uint32_t)(O_TRUNC | O_EXCL);  /* made just now: O_EXCL is satisfied */
	} else if (err) {
		return err;
	}
	if ((flags & O_CREAT) && (flags & O_EXCL)) {
		vn_put(vn);
		return -EEXIST;
	}
	if (S_ISLNK(vn->mode) && !(flags & O_PATH)) {
		vn_put(vn);
		return -ELOOP;
	}
	if ((flags & O_DIRECTORY) && !S_ISDIR(vn->mode)) {
		vn_put(vn);
		return -ENOTDIR;
	}
	if ((vn->mode & S_IFMT) == S_IFSOCK && !(flags & O_PATH)) {
		vn_put(vn);
		return -ENXIO;  /* a socket's name is for connect, not open */
	}
	uint32_t acc = flags & O_ACCMODE;
	if ((vn->mode & S_IFMT) == S_IFIFO && vn->upper && !(flags & O_PATH)) {
		if (acc == O_RDWR) {
			vn_put(vn);
			return -EINVAL; /* both ends at once: not supported here */
		}
		struct vnode *end;
		err = fifo_open(&vn->upper->fifo, acc == O_WRONLY, (flags & O_NONBLOCK) != 0, &end);
		vn_put(vn);
		if (err)
			return err;
		vn = end;
	}
	if (S_ISDIR(vn->mode) && (acc != O_RDONLY || (flags & O_TRUNC))) {
		vn_put(vn);
		return -EISDIR;
	}
	if ((acc != O_RDONLY || (flags & O_TRUNC)) && hostfs_readonly(vn)) {
		vn_put(vn);
		return -EROFS;
	}
	if (acc != O_RDONLY || (flags & O_TRUNC)) {
		int e = vn->ops == &ovl_ops ? ovl_copy_up(vn) : 0;
		if (!e && (flags & O_TRUNC) && vn->upper && S_ISREG(vn->mode))
			e = tmp_truncate(vn->upper, 0);
		if (e) {
			vn_put(vn);
			return e;
		}
	}
	struct file *f = file_new(vn, flags, canon);
	if (!f) {
		vn_put(vn);
		return -ENOMEM;
	}
	if (vn->ops->open) {
		err = vn->ops->open(f, flags);
		if (err) {
			vn_put(vn);
			kfree(f, sizeof(*f) + strlen(f->path) + 1);
			return err;
		}
	}
	*out = f;
	return 0;
}

/* ---- descriptors ---- */

unsigned file_poll(struct file *f)
{
	return f->vn->ops->poll ? f->vn->ops->poll(f) : POLLIN | POLLOUT;
}

static char poll_chan; /* what poll waiters sleep on */

unsigned poll_generation;

void poll_wake(void)
{
	poll_generation++;
	sched_wakeup(&poll_chan);
}

void poll_wait(void)
{
	sched_sleep(&poll_chan);
}

static void poll_timeout(struct ktimer *t)
{
	(void)t;
	sched_wakeup(&poll_chan);
}

/*
 * The same, but no later than deadline (monotonic ns; INT64_MAX: none): a
 * kernel timer wakes the poll sleepers then, so a timeout is as fine-grained
 * as the host's timers, not sliced.
 */
void poll_wait_until(int64_t deadline)
{
	if (deadline == INT64_MAX) {
		poll_wait();
		return;
	}
	if (deadline <= time_monotonic_ns())
		return;
	struct ktimer t = { 0 };
	ktimer_arm(&t, deadline, poll_timeout, NULL);
	sched_sleep(&poll_chan);
	ktimer_cancel(&t);
}

struct file *fd_get(int fd)
{
	if (fd < 0 || fd >= NFD)
		return NULL;
	return current->fds->fd[fd];
}

int fd_install(struct file *f, int min, int cloexec)
{
	struct fdtable *t = current->fds;
	uint64_t lim[2];
	proc_rlimit(current, 7 /* RLIMIT_NOFILE */, lim);
	int top = lim[0] < NFD ? (int)lim[0] : NFD;
	for (int fd = min < 0 ? 0 : min; fd < top; fd++) {
		if (!t->fd[fd]) {
			t->fd[fd] = f;
			t->cloexec[fd] = (uint8_t)(cloexec != 0);
			return fd;
		}
	}
	file_put(f);
	return -EMFILE;
}

int fd_close(int fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	current->fds->fd[fd] = NULL;
	current->fds->cloexec[fd] = 0;
	lock_release_posix(f);
	return file_put(f);
}

void fd_init_stdio(struct fdtable *t)
{
	static const char *const names[] = { "/dev/stdin", "/dev/stdout", "/dev/stderr" };
	for (uint32_t h = 0; h < LBVM_STDIO_HANDLES; h++) {
		struct vnode *vn = stdio_vnode(h);
		struct file *f = vn ? file_new(vn, h == 0 ? O_RDONLY : O_WRONLY, names[h]) : NULL;
		if (!f)
			panic("out of memory at boot");
		t->fd[h] = f;
	}
}

int vfs_readonly(struct vnode *vn)
{
	return (vn->ops == &ovl_ops && vn->has_lower && !vn->upper && !ovl_image_writable) || hostfs_readonly(vn);
}

struct vnode *vfs_root(void)
{
	return root;
}
