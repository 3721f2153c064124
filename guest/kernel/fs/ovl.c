/* ovl.c: the root file system: a writable tmpfs layer over the read-only image, copied up on first write. */
#include "kernel/proc/proc.h"
#include "tmpfs.h"
#include "vfs.h"

#define RDIR_UPPER_BASE 2ull            /* readdir cursors: 0 ".", 1 "..", then upper entries */
#define RDIR_LOWER_BASE (1ull << 40)    /* then the image's entries, by their own cursor */

const struct vnode_ops ovl_ops;
int ovl_image_writable;

static struct vnode *ovl_node(struct vnode *parent, const char *name, size_t len, struct tnode *upper,
			      const struct erofs_inode *lower)
{
	struct vnode *vn = vn_new_named(&ovl_ops, parent, name, len);
	if (!vn)
		return NULL;
	if (upper) {
		tmp_get(upper);
		vn->upper = upper;
		vn->mode = upper->mode;
		vn->ino = upper->ino;
	}
	if (lower) {
		vn->ei = *lower;
		vn->has_lower = 1;
		if (!upper) {
			vn->mode = lower->mode;
			vn->ino = lower->ino;
		}
	}
	return vn;
}

/* A tmpfs of its own (nothing below), named name under parent: /tmp. */
struct vnode *ovl_mount_tmpfs(struct vnode *parent, const char *name)
{
	struct tnode *t = tmp_new(S_IFDIR | 01777);
	if (!t)
		return NULL;
	t->nlink = 2;
	struct vnode *vn = ovl_node(parent, name, strlen(name), t, NULL);
	tmp_put(t);
	return vn;
}

struct vnode *ovl_root(const struct erofs_inode *lower)
{
	struct tnode *t = tmp_new(S_IFDIR | 0755);
	if (!t)
		return NULL;
	t->nlink = 2;
	struct vnode *vn = ovl_node(NULL, "", 0, t, lower);
	tmp_put(t);
	return vn;
}

static const uint8_t *image_at(uint64_t off)
{
	return (const uint8_t *)pa_to_kva(boot.image_gpa) + off;
}

static long ovl_read(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	struct vnode *vn = f->vn;
	if (S_ISDIR(vn->mode))
		return -EISDIR;
	if (vn->upper)
		return tmp_read_user(vn->upper, ubuf, len, off);
	uint64_t done = 0;
	while (done < len && off + done < vn->ei.size) {
		uint64_t img_off, n;
		if (erofs_map(&image_fs, &vn->ei, off + done, &img_off, &n))
			return done ? (long)done : -EIO;
		if (n > len - done)
			n = len - done;
		if (copy_to_user(ubuf + done, image_at(img_off), n))
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

static long ovl_write(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	struct vnode *vn = f->vn;
	if (!vn->upper)
		return -EROFS;
	return tmp_write_user(vn->upper, ubuf, len, off);
}

static long ovl_kread(struct vnode *vn, void *buf, uint64_t len, uint64_t off)
{
	if (vn->upper)
		return tmp_read(vn->upper, buf, len, off);
	return erofs_read(&image_fs, &vn->ei, off, buf, len);
}

static int ovl_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	struct tnode *u = NULL;
	if (dir->upper) {
		struct tdirent *d = tmp_find(dir->upper, name, len);
		if (d && !d->node)
			return -ENOENT;          /* whiteout: deleted from the image */
		if (d)
			u = d->node;
	}
	struct erofs_inode lower, *lp = NULL;
	int lower_ok = dir->has_lower && (!dir->upper || !dir->upper->opaque);
	if (lower_ok && (!u || S_ISDIR(u->mode))) {
		uint64_t nid;
		uint8_t ft;
		int err = erofs_lookup(&image_fs, &dir->ei, name, len, &nid, &ft);
		if (!err)
			err = erofs_iget(&image_fs, nid, &lower);
		if (!err && (!u || S_ISDIR(lower.mode)))
			lp = &lower;
		else if (err && err != -ENOENT && !u)
			return err;
	}
	if (!u && !lp)
		return -ENOENT;
	*out = ovl_node(dir, name, len, u, lp);
	return *out ? 0 : -ENOMEM;
}

static uint8_t dtype_of_mode(uint32_t mode)
{
	return (uint8_t)((mode & S_IFMT) >> 12);
}

static int ovl_readdir(struct vnode *dir, uint64_t *pos, char *name, size_t size, uint64_t *ino, uint8_t *type)
{
	if (*pos < RDIR_UPPER_BASE) {
		strlcpy(name, *pos ? ".." : ".", size);
		*ino = *pos || !dir->parent ? dir->ino : dir->parent->ino;
		*type = 4;
		(*pos)++;
		return 1;
	}
	if (*pos < RDIR_LOWER_BASE && dir->upper) {
		uint64_t i = RDIR_UPPER_BASE;
		for (struct tdirent *d = dir->upper->children; d; d = d->next, i++) {
			if (i < *pos || !d->node)
				continue;
			uint64_t n = d->len < size - 1 ? d->len : size - 1;
			memcpy(name, d->name, n);
			name[n] = 0;
			*ino = d->node->ino;
			*type = dtype_of_mode(d->node->mode);
			*pos = i + 1;
			return 1;
		}
	}
	if (*pos < RDIR_LOWER_BASE)
		*pos = RDIR_LOWER_BASE;
	if (!dir->has_lower || (dir->upper && dir->upper->opaque))
		return 0;
	for (;;) {
		uint64_t lpos = *pos - RDIR_LOWER_BASE;
		struct erofs_dirent d;
		int r = erofs_readdir(&image_fs, &dir->ei, &lpos, &d);
		if (r <= 0)
			return r;
		*pos = RDIR_LOWER_BASE + lpos;
		if ((d.namelen == 1 && d.name[0] == '.') || (d.namelen == 2 && d.name[0] == '.' && d.name[1] == '.'))
			continue;
		if (dir->upper && tmp_find(dir->upper, d.name, d.namelen))
			continue;  /* replaced or deleted above */
		strlcpy(name, d.name, size);
		*ino = d.nid;
		static const uint8_t map[] = { 0, 8, 4, 2, 6, 1, 12, 10 };
		*type = d.ftype < sizeof(map) ? map[d.ftype] : 0;
		return 1;
	}
}

static long ovl_readlink(struct vnode *vn, char *buf, size_t size)
{
	if (vn->upper) {
		size_t n = vn->upper->target ? strlen(vn->upper->target) : 0;
		if (n >= size)
			return -ENAMETOOLONG;
		memcpy(buf, vn->upper->target ? vn->upper->target : "", n + 1);
		return (long)n;
	}
	return erofs_readlink(&image_fs, &vn->ei, buf, size);
}

static void ovl_getattr(struct vnode *vn, struct kstat *st)
{
	if (vn->upper) {
		struct tnode *t = vn->upper;
		st->dev = 0xfd01;
		st->ino = t->ino;
		st->mode = t->mode;
		st->nlink = t->nlink;
		st->uid = t->uid;
		st->gid = t->gid;
		st->size = S_ISDIR(t->mode) ? 4096 : t->size;
		st->blocks = ALIGN_UP(st->size, 512) / 512;
		st->mtime = t->mtime;
		st->mtime_nsec = t->mtime_nsec;
		return;
	}
	const struct erofs_inode *ei = &vn->ei;
	st->dev = 0xfd00;
	st->ino = ei->ino;
	st->mode = ei->mode;
	st->nlink = ei->nlink;
	st->uid = ei->uid;
	st->gid = ei->gid;
	st->rdev = ei->rdev;
	st->size = ei->size;
	st->blocks = (ei->size + 511) / 512;
	st->mtime = (int64_t)ei->mtime;
	st->mtime_nsec = ei->mtime_nsec;
}

static uint64_t ovl_page_gpa(struct vnode *vn, uint64_t off)
{
	uint64_t img_off, n;
	if (vn->upper || !vn->has_lower)
		return 0;
	if (erofs_map(&image_fs, &vn->ei, off, &img_off, &n) || (img_off & (PAGE_SIZE - 1)) || n < PAGE_SIZE)
		return 0;
	return boot.image_gpa + img_off;
}

/* A file of the writable layer is mapped shared through its own data pages; the image's files are never written. */
static uint64_t ovl_share_page(struct vnode *vn, uint64_t off, int write)
{
	(void)write;
	return vn->upper ? tmp_page(vn->upper, off) : 0;
}

static void ovl_release(struct vnode *vn)
{
	tmp_put(vn->upper);
}

const struct vnode_ops ovl_ops = {
	.read = ovl_read, .write = ovl_write, .kread = ovl_kread, .lookup = ovl_lookup, .readdir = ovl_readdir,
	.readlink = ovl_readlink, .getattr = ovl_getattr, .page_gpa = ovl_page_gpa, .release = ovl_release,
	.share_page = ovl_share_page,
};

/* Copy one node whose parent already has an upper layer: attributes, and a file's bytes or a link's target. */
static int copy_up_one(struct vnode *vn)
{
	/* Another vnode of the same node may have copied it up already: share that copy. */
	struct tdirent *d = tmp_find(vn->parent->upper, vn->name, strlen(vn->name));
	if (d && d->node) {
		tmp_get(d->node);
		vn->upper = d->node;
		vn->ino = d->node->ino;
		return 0;
	}
	const struct erofs_inode *ei = &vn->ei;
	struct tnode *t = tmp_new(ei->mode);
	if (!t)
		return -ENOSPC;
	t->uid = ei->uid;
	t->gid = ei->gid;
	t->mtime = (int64_t)ei->mtime;
	t->mtime_nsec = ei->mtime_nsec;
	if (S_ISREG(ei->mode)) {
		static uint8_t buf[65536];
		for (uint64_t off = 0; off < ei->size;) {
			long n = erofs_read(&image_fs, ei, off, buf, sizeof(buf));
			if (n <= 0 || tmp_write(t, buf, (uint64_t)n, off) != n) {
				tmp_put(t);
				return n < 0 ? -EIO : -ENOSPC;
			}
			off += (uint64_t)n;
		}
		t->mtime = (int64_t)ei->mtime;
	} else if (S_ISLNK(ei->mode)) {
		t->target = kmalloc(PATH_MAX);
		if (!t->target || erofs_readlink(&image_fs, ei, t->target, PATH_MAX) < 0) {
			tmp_put(t);
			return -EIO;
		}
	}
	int err = tmp_link(vn->parent->upper, vn->name, strlen(vn->name), t);
	if (!err) {
		vn->upper = t; /* the reference tmp_new gave */
		vn->ino = t->ino;
	} else {
		tmp_put(t);
	}
	return err;
}

/* Give vn (and every ancestor) an upper layer, top-down, without recursion. */
int ovl_copy_up(struct vnode *vn)
{
	if (vn->ops != &ovl_ops || (vn->has_lower && !vn->upper && !ovl_image_writable))
		return -EROFS;
	while (!vn->upper) {
		struct vnode *a = vn;
		while (a->parent && !a->parent->upper)
			a = a->parent;
		if (!a->parent)
			return -EROFS;
		int err = copy_up_one(a);
		if (err)
			return err;
	}
	return 0;
}

/* A new node named name in dir: t is linked in, and the new vnode returned. */
int ovl_create(struct vnode *dir, const char *name, size_t len, uint32_t mode, const char *target, struct vnode **out)
{
	if (dir->ops != &ovl_ops)
		return -EACCES;
	if (dir->has_lower && !ovl_image_writable)
		return -EROFS;
	int err = ovl_copy_up(dir);
	if (err)
		return err;
	struct tnode *t = tmp_new(mode);
	if (!t)
		return -ENOSPC;
	if (target) {
		t->target = kmalloc(PATH_MAX);
		if (!t->target) {
			tmp_put(t);
			return -ENOSPC;
		}
		strlcpy(t->target, target, PATH_MAX);
		t->size = strlen(target);
	}
	/* A new directory where the image had one (since deleted) must not show the old contents. */
	struct tdirent *old = tmp_find(dir->upper, name, len);
	if (S_ISDIR(mode) && ((old && !old->node) || dir->has_lower))
		t->opaque = 1;
	err = tmp_link(dir->upper, name, len, t);
	if (!err && out) {
		*out = ovl_node(dir, name, len, t, NULL);
		if (!*out)
			err = -ENOMEM;
	}
	tmp_put(t);
	return err;
}

/* Remove name from dir: the upper entry goes, and a whiteout hides the image's. */
int ovl_remove(struct vnode *dir, struct vnode *victim)
{
	if ((dir->has_lower || victim->has_lower) && !ovl_image_writable)
		return -EROFS;
	int err = ovl_copy_up(dir);
	if (err)
		return err;
	size_t len = strlen(victim->name);
	if (victim->has_lower)
		return tmp_link(dir->upper, victim->name, len, NULL);
	struct tdirent *d = tmp_find(dir->upper, victim->name, len);
	if (d)
		tmp_unlink(dir->upper, d);
	return 0;
}

int ovl_is_empty_dir(struct vnode *vn)
{
	uint64_t pos = RDIR_UPPER_BASE, ino;
	char name[NAME_MAX + 1];
	uint8_t type;
	return ovl_readdir(vn, &pos, name, sizeof(name), &ino, &type) == 0;
}

/* Link node (copied up) into dir under name, replacing what is there. */
int ovl_link(struct vnode *dir, const char *name, size_t len, struct vnode *node)
{
	if (dir->has_lower && !ovl_image_writable)
		return -EROFS;
	int err = ovl_copy_up(node);
	if (!err)
		err = ovl_copy_up(dir);
	if (err)
		return err;
	return tmp_link(dir->upper, name, len, node->upper);
}
