/* vfs.c: the image as the root file system, path resolution, open files and the descriptor table. */
#include "mm.h"
#include "proc.h"
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
	kfree(vn, sizeof(*vn));
}

/* ---- image vnodes ---- */

static const struct vnode_ops image_ops;

static struct vnode *image_vnode(uint64_t nid, int *err)
{
	struct vnode *vn = kmalloc(sizeof(*vn));
	if (!vn) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = erofs_iget(&image_fs, nid, &vn->ei);
	if (*err) {
		kfree(vn, sizeof(*vn));
		return NULL;
	}
	vn->ops = &image_ops;
	vn->refs = 1;
	vn->mode = vn->ei.mode;
	vn->ino = vn->ei.ino;
	return vn;
}

static const uint8_t *image_bytes(uint64_t img_off)
{
	return (const uint8_t *)pa_to_kva(boot.image_gpa) + img_off;
}

static long image_read(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	struct erofs_inode *ei = &f->vn->ei;
	if (S_ISDIR(ei->mode))
		return -EISDIR;
	uint64_t done = 0;
	while (done < len && off + done < ei->size) {
		uint64_t img_off, n;
		if (erofs_map(&image_fs, ei, off + done, &img_off, &n))
			return done ? (long)done : -EIO;
		if (n > len - done)
			n = len - done;
		if (copy_to_user(ubuf + done, image_bytes(img_off), n))
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

static long image_write(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)f, (void)ubuf, (void)len, (void)off;
	return -EROFS;
}

static int image_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	uint64_t nid;
	uint8_t ft;
	int err = erofs_lookup(&image_fs, &dir->ei, name, len, &nid, &ft);
	if (err)
		return err;
	*out = image_vnode(nid, &err);
	return err;
}

static uint8_t dtype_of(uint8_t ft)
{
	static const uint8_t map[] = { 0, 8, 4, 2, 6, 1, 12, 10 }; /* EROFS_FT_* to DT_* */
	return ft < sizeof(map) ? map[ft] : 0;
}

static int image_readdir(struct vnode *dir, uint64_t *pos, char *name, size_t size, uint64_t *ino, uint8_t *type)
{
	struct erofs_dirent d;
	int r = erofs_readdir(&image_fs, &dir->ei, pos, &d);
	if (r <= 0)
		return r;
	strlcpy(name, d.name, size);
	*ino = d.nid;
	*type = dtype_of(d.ftype);
	return 1;
}

static long image_readlink(struct vnode *vn, char *buf, size_t size)
{
	return erofs_readlink(&image_fs, &vn->ei, buf, size);
}

static void image_getattr(struct vnode *vn, struct kstat *st)
{
	const struct erofs_inode *ei = &vn->ei;
	st->dev = 0xfd00;
	st->ino = ei->ino;
	st->mode = ei->mode;
	st->nlink = ei->nlink;
	st->uid = ei->uid;
	st->gid = ei->gid;
	st->rdev = ei->rdev;
	st->size = ei->size;
	st->blksize = 4096;
	st->blocks = (ei->size + 511) / 512;
	st->mtime = (int64_t)ei->mtime;
	st->mtime_nsec = ei->mtime_nsec;
}

static uint64_t image_page_gpa(struct vnode *vn, uint64_t off)
{
	uint64_t img_off, n;
	if (erofs_map(&image_fs, &vn->ei, off, &img_off, &n) || (img_off & (PAGE_SIZE - 1)) || n < PAGE_SIZE)
		return 0;
	return boot.image_gpa + img_off;
}

static long image_kread(struct vnode *vn, void *buf, uint64_t len, uint64_t off)
{
	return erofs_read(&image_fs, &vn->ei, off, buf, len);
}

static const struct vnode_ops image_ops = {
	.kread = image_kread,
	.read = image_read, .write = image_write, .lookup = image_lookup, .readdir = image_readdir,
	.readlink = image_readlink, .getattr = image_getattr, .page_gpa = image_page_gpa,
};

/* ---- the root: the image, with /dev and /proc laid over it ---- */

static struct vnode *mount_over(struct vnode *dir, const char *name, size_t len)
{
	if (dir != root)
		return NULL;
	if (len == 3 && !memcmp(name, "dev", 3))
		return devfs_root(vn_get(root));
	if (len == 4 && !memcmp(name, "proc", 4))
		return procfs_root(vn_get(root));
	return NULL;
}

static const struct synth_entry empty_root[] = {
	{ "dev", NULL, 0 },
	{ "proc", NULL, 0 },
};

void vfs_init(void)
{
	int err = 0;
	if (boot.image_size) {
		err = erofs_mount(&image_fs, pa_to_kva(boot.image_gpa), boot.image_size);
		if (err)
			panic("the image is not a valid EROFS file system (%d)", err);
		root = image_vnode(image_fs.root_nid, &err);
		if (!root)
			panic("the image's root directory is unreadable (%d)", err);
		if (!S_ISDIR(root->mode))
			panic("the image's root is not a directory");
		have_image = 1;
	} else {
		/* No image: a root holding only the synthetic trees. */
		root = synth_dir(NULL, empty_root, ARRAY_SIZE(empty_root), 1);
		if (!root)
			panic("out of memory at boot");
	}
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
	static char work[2 * PATH_MAX + 2], link[PATH_MAX];
	static char canon[PATH_MAX];
	size_t plen = strnlen(path, PATH_MAX);
	if (plen == 0)
		return -ENOENT;
	if (plen >= PATH_MAX)
		return -ENAMETOOLONG;

	struct vnode *cur;
	if (path[0] == '/') {
		cur = vn_get(root);
		strlcpy(canon, "/", sizeof(canon));
	} else if (dirfd == AT_FDCWD) {
		cur = vn_get(current->cwd);
		strlcpy(canon, current->cwd_path, sizeof(canon));
	} else {
		struct file *f = fd_get(dirfd);
		if (!f)
			return -EBADF;
		if (!S_ISDIR(f->vn->mode))
			return -ENOTDIR;
		cur = vn_get(f->vn);
		strlcpy(canon, f->path, sizeof(canon));
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
				long n = nx->ops->readlink(nx, canon, sizeof(canon));
				vn_put(nx);
				if (n < 0)
					strlcpy(canon, "/", sizeof(canon));
				vn_put(cur);
				cur = to;
				at = next;
				continue;
			}
			long n = nx->ops->readlink ? nx->ops->readlink(nx, link, sizeof(link)) : -EINVAL;
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
			if ((size_t)n + 1 + rest + 1 > sizeof(work)) {
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
				strlcpy(canon, "/", sizeof(canon));
			}
			continue;
		}
		if (len == 2 && name[0] == '.' && name[1] == '.')
			canon_pop(canon);
		else if (!(len == 1 && name[0] == '.'))
			err = canon_push(canon, name, len);
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

void file_put(struct file *f)
{
	if (--f->refs > 0)
		return;
	vn_put(f->vn);
	kfree(f, sizeof(*f) + strlen(f->path) + 1);
}

int vfs_open(int dirfd, const char *path, uint32_t flags, struct file **out)
{
	static char canon[PATH_MAX];
	struct vnode *vn;
	int err = vfs_resolve(dirfd, path, !(flags & O_NOFOLLOW), &vn, canon);
	if (err == -ENOENT && (flags & O_CREAT))
		return have_image ? -EROFS : -EACCES;
	if (err)
		return err;
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
	uint32_t acc = flags & O_ACCMODE;
	if (S_ISDIR(vn->mode) && (acc != O_RDONLY || (flags & O_TRUNC))) {
		vn_put(vn);
		return -EISDIR;
	}
	if ((acc != O_RDONLY || (flags & O_TRUNC)) && vn->ops == &image_ops) {
		vn_put(vn);
		return -EROFS;
	}
	struct file *f = file_new(vn, flags, canon);
	if (!f) {
		vn_put(vn);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

/* ---- descriptors ---- */

struct file *fd_get(int fd)
{
	if (fd < 0 || fd >= NFD)
		return NULL;
	return current->fds->fd[fd];
}

int fd_install(struct file *f, int min, int cloexec)
{
	struct fdtable *t = current->fds;
	for (int fd = min < 0 ? 0 : min; fd < NFD; fd++) {
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
	file_put(f);
	return 0;
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
	return vn->ops == &image_ops;
}

struct vnode *vfs_root(void)
{
	return root;
}
