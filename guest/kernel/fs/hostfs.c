/*
 * hostfs.c: host directories (--mount) as guest file systems. Every node is
 * a VMM handle; every operation is a request on the I/O queue. To keep exits
 * rare, file data moves in windows of up to 1 MiB: reads fill a window and
 * the next one is fetched ahead while the program consumes the first; writes
 * collect in a buffer that goes to the host when full, when the program jumps
 * elsewhere in the file, or before anything else looks at the mount (any
 * other request, close, fsync, exit), so programs in the VM always see their
 * own writes. A write the host refused is reported by the next write, fsync
 * or close of that file.
 */
#include "hostfs.h"
#include "kernel/proc/proc.h"
#include "vfs.h"

#define WIN_MAX LBVM_IO_MAX_LEN     /* bytes per data request */
#define WIN_MIN (16u << 10)
#define NCLASS 7                    /* window sizes 16 KiB .. 1 MiB */
#define RDIR_BUF 32768u

struct window {
	struct hfile *owner;
	uint8_t *buf;
	uint32_t cap;
	uint64_t off;
	uint32_t len;
	int busy;                   /* a request on it is in flight */
	int valid;                  /* reads: holds [off, off + len) of the file */
	int discard;                /* reads: the file changed while this fetch was in flight */
};

struct hfile {
	struct hfile *next;         /* every open host file, for hostfs_sync_all */
	struct vnode *vn;
	uint32_t fh;                /* the VMM's handle for this open */
	int can_read, can_write;
	struct window rw[2];        /* read-ahead */
	struct window ww[2];        /* write-behind; cur collects, the other may be in flight */
	int wcur;
	int64_t werr;               /* the host refused a write: reported once, by the next call */
	int64_t rerr;               /* the host refused a read-ahead */
	int borrowed_fh;            /* fh is the vnode's created_fh: the vnode closes it */
	uint64_t written, readn;    /* bytes so far: windows grow with them */
	int users;                  /* flushes of other processes in progress: close waits for them */
	int dirty;                  /* data in ww[] not yet sent */
};

static struct hfile *open_files;
static int ndirty;

const struct vnode_ops hostfs_ops;

static struct hostnode *hn(struct vnode *vn)
{
	return vn->host;
}

/* ---- the mount table and the mount roots ---- */

static const struct lbvm_mount *mount_table(void)
{
	return boot.mounts;
}

static struct vnode *node_new(struct vnode *parent, const char *name, size_t len, const struct lbvm_io_attr *a,
			      unsigned mount)
{
	struct hostnode *h = kmalloc(sizeof(*h));
	struct vnode *vn = h ? vn_new_named(&hostfs_ops, parent, name, len) : NULL;
	if (!vn) {
		kfree(h, sizeof(*h));
		return NULL;
	}
	vn->mode = a->mode;
	vn->ino = a->ino;
	vn->host = h;
	h->a = *a;
	h->h = a->handle;
	h->mount = mount;
	h->size = a->size;
	return vn;
}

/* The root of mount i, entered from the directory parent (where ".." leads). */
static struct vnode *mount_root(unsigned i, struct vnode *parent, const char *name, size_t len)
{
	static struct lbvm_io_attr root_attr[LBVM_MOUNTS_MAX];
	static uint8_t have_attr[LBVM_MOUNTS_MAX];
	const struct lbvm_mount *m = &mount_table()[i];
	if (!have_attr[i]) {
		/* Asked once: crossing into a mount is part of every path below it. */
		if (io_host(LBVM_IO_GETATTR, m->root, 0, 0, NULL, 0, &root_attr[i], sizeof(root_attr[i])) < 0)
			memset(&root_attr[i], 0, sizeof(root_attr[i]));
		have_attr[i] = 1;
	}
	struct lbvm_io_attr a = root_attr[i];
	a.mode = S_IFDIR | (a.mode & 07777);
	a.handle = m->root;
	struct vnode *vn = node_new(parent, name, len, &a, i);
	if (vn)
		vn->host->is_root = 1;
	return vn;
}

unsigned hostfs_nmounts(void)
{
	return boot.nmounts <= LBVM_MOUNTS_MAX ? boot.nmounts : 0;
}

const char *hostfs_mount_path(unsigned i)
{
	return mount_table()[i].path;
}

/* If canon is a mount's guest path, a fresh vnode for its root; else NULL. */
struct vnode *hostfs_cross(const char *canon, struct vnode *parent, const char *name, size_t len)
{
	for (unsigned i = 0; i < hostfs_nmounts(); i++)
		if (!strcmp(mount_table()[i].path, canon))
			return mount_root(i, parent, name, len);
	return NULL;
}

int hostfs_mount_readonly(unsigned i)
{
	return (mount_table()[i].flags & LBVM_MOUNT_RO) != 0;
}

int hostfs_readonly(struct vnode *vn)
{
	return vn->ops == &hostfs_ops && (mount_table()[vn->host->mount].flags & LBVM_MOUNT_RO);
}

/* ---- write-behind ---- */

static void write_done(void *arg, int64_t result)
{
	struct window *w = arg;
	if (result < 0)
		w->owner->werr = result;
	else if ((uint64_t)result < w->len)
		w->owner->werr = -ENOSPC; /* a short write to a regular file: the host's disk is full */
	w->len = 0;
	w->busy = 0;
}

static void send_window(struct hfile *f, struct window *w)
{
	if (!w->len)
		return;
	w->busy = 1;
	io_host_async(LBVM_IO_WRITE, f->fh, w->off, 0, w->buf, w->len, NULL, 0, write_done, w);
}

static void wait_idle(struct window *w)
{
	io_wait_zero(&w->busy);
}

/* Send what f has collected and wait until the host has it all. Returns the error the host reported, once. */
static int64_t file_flush(struct hfile *f)
{
	if (f->dirty) {
		f->dirty = 0;
		ndirty--;
	}
	send_window(f, &f->ww[f->wcur]);
	wait_idle(&f->ww[0]);
	wait_idle(&f->ww[1]);
	int64_t e = f->werr;
	f->werr = 0;
	return e;
}

static int is_file(const struct hfile *o, uint16_t mount, uint64_t ino)
{
	return hn(o->vn)->mount == mount && hn(o->vn)->a.ino == ino;
}

static void drop_kread_windows(uint16_t mount, uint64_t ino);

/* The file changed: what any open of it (and exec or mmap) read ahead is stale. */
void hostfs_drop_reads(uint16_t mount, uint64_t ino)
{
	for (struct hfile *o = open_files; o; o = o->next) {
		if (!is_file(o, mount, ino))
			continue;
		for (int i = 0; i < 2; i++) {
			o->rw[i].discard = o->rw[i].busy; /* a fetch in flight: its data is stale when it lands */
			o->rw[i].valid = 0;
		}
	}
	drop_kread_windows(mount, ino);
}

static void invalidate_reads(struct hfile *f)
{
	hostfs_drop_reads(hn(f->vn)->mount, hn(f->vn)->a.ino);
}

/*
 * Flush every open file with data collecting that is of the file (all: of
 * any). A flush waits, and meanwhile other processes may open and close
 * files: the walk starts over after each one, and the file is pinned
 * (users) so that a close elsewhere does not free it under the flush.
 */
static void sync_matching(int all, uint16_t mount, uint64_t ino)
{
	while (ndirty) {
		struct hfile *o = open_files;
		while (o && !(o->dirty && (all || is_file(o, mount, ino))))
			o = o->next;
		if (!o)
			return;
		o->users++;
		o->werr = file_flush(o); /* still the file's to report, by its next write, fsync or close */
		o->users--;
	}
}

/* Before a file is read: writes to it still collecting in the VM (through any open) reach the host. */
void hostfs_sync_ino(uint16_t mount, uint64_t ino)
{
	sync_matching(0, mount, ino);
}

static void sync_file(struct hfile *f)
{
	hostfs_sync_ino(hn(f->vn)->mount, hn(f->vn)->a.ino);
}

/* Before anything looks at a mount: every program's buffered writes reach the host. */
void hostfs_sync_all(void)
{
	sync_matching(1, 0, 0);
}

void hostfs_exit_flush(void)
{
	hostfs_share_flush_all();
	hostfs_sync_all();
}

/*
 * Window buffers must be physically contiguous (the host reads and writes
 * them whole), and contiguous memory is only had once from the page
 * allocator: so buffers are kept for reuse, by size class, never freed.
 */
struct freebuf {
	struct freebuf *next;
};
static struct freebuf *free_bufs[NCLASS];

static unsigned class_of(uint32_t want)
{
	unsigned c = 0;
	while (c + 1 < NCLASS && (WIN_MIN << c) < want)
		c++;
	return c;
}

static void buf_put(void *buf, uint32_t cap)
{
	struct freebuf *fb = buf;
	unsigned c = class_of(cap);
	fb->next = free_bufs[c];
	free_bufs[c] = fb;
}

/* A buffer of at least want bytes (16 KiB .. 1 MiB) for w, unless it has one big enough. */
static int window_alloc(struct window *w, struct hfile *f, uint32_t want)
{
	unsigned c = class_of(want);
	if (w->buf && w->cap >= (WIN_MIN << c))
		return 0;
	if (w->buf && w->busy)
		return 0; /* growing must wait: keep using the smaller one */
	for (;; c--) {
		void *buf = free_bufs[c];
		if (buf) {
			free_bufs[c] = free_bufs[c]->next;
		} else {
			uint64_t pa = pmem_alloc_contig((WIN_MIN << c) / PAGE_SIZE);
			buf = pa ? pa_to_kva(pa) : NULL;
		}
		if (buf) {
			if (w->buf)
				buf_put(w->buf, w->cap);
			w->buf = buf;
			w->cap = WIN_MIN << c;
			w->owner = f;
			w->valid = 0;
			return 0;
		}
		if (w->buf)
			return 0; /* keep the one it has */
		if (c == 0)
			return -ENOMEM;
	}
}

void *hostfs_bounce_get(uint32_t len)
{
	struct window w = { 0 };
	if (window_alloc(&w, NULL, len))
		return NULL;
	if (w.cap < len) { /* only a smaller one was to be had */
		buf_put(w.buf, w.cap);
		return NULL;
	}
	return w.buf;
}

void hostfs_bounce_put(void *buf, uint32_t len)
{
	buf_put(buf, WIN_MIN << class_of(len));
}

static void window_free(struct window *w)
{
	wait_idle(w);
	if (w->buf)
		buf_put(w->buf, w->cap);
	w->buf = NULL;
}

/* Buffers grow with what the file has seen: small files take small windows, long streams 1 MiB ones. */
static uint32_t want_for(uint64_t bytes)
{
	return bytes >= WIN_MAX ? WIN_MAX : bytes < WIN_MIN ? WIN_MIN : (uint32_t)bytes;
}

static long host_write(struct file *file, uint64_t ubuf, uint64_t len, uint64_t off)
{
	struct hfile *f = file->priv;
	if (!f)
		return -EBADF;
	if (f->werr) {
		int64_t e = f->werr;
		f->werr = 0;
		return (long)e;
	}
	if (off + len < off || off + len > (1ull << 62))
		return -EFBIG;
	invalidate_reads(f);
	uint64_t done = 0;
	uint32_t want = want_for(2 * (f->written + len));
	while (done < len) {
		struct window *w = &f->ww[f->wcur];
		if (!w->len && window_alloc(w, f, want))
			return done ? (long)done : -ENOMEM;
		if (w->len && (off + done != w->off + w->len || w->len == w->cap)) {
			send_window(f, w);
			f->wcur ^= 1;
			w = &f->ww[f->wcur];
			wait_idle(w);
			if (window_alloc(w, f, want))
				return done ? (long)done : -ENOMEM;
			if (f->werr)
				break;
		}
		if (!w->len)
			w->off = off + done;
		uint64_t n = w->cap - w->len;
		if (n > len - done)
			n = len - done;
		if (copy_from_user(w->buf + w->len, ubuf + done, n))
			return done ? (long)done : -EFAULT;
		w->len += (uint32_t)n;
		done += n;
		if (!f->dirty) {
			f->dirty = 1;
			ndirty++;
		}
	}
	if (!done && f->werr) {
		int64_t e = f->werr;
		f->werr = 0;
		return (long)e;
	}
	struct hostnode *h = hn(file->vn);
	if (off + done > h->size)
		h->size = off + done;
	h->stale = 1;
	f->written += done;
	hostfs_share_copy(h, ubuf, off, done, 1, 1);  /* shared mappings of the file see it at once */
	return (long)done;
}

/* ---- read-ahead ---- */

static void read_done(void *arg, int64_t result)
{
	struct window *w = arg;
	if (result < 0) {
		w->valid = 0;
		w->owner->rerr = result;
	} else {
		w->len = (uint32_t)result;
		w->valid = !w->discard;
	}
	w->discard = 0;
	w->busy = 0;
}

static void fetch(struct hfile *f, struct window *w, uint64_t off)
{
	w->off = off;
	w->len = 0;
	w->valid = 0;
	w->busy = 1;
	io_host_async(LBVM_IO_READ, f->fh, off, 0, NULL, 0, w->buf, w->cap, read_done, w);
}

static long read_windows(struct file *file, uint64_t ubuf, uint64_t len, uint64_t off)
{
	struct hfile *f = file->priv;
	if (!f)
		return -EBADF;
	if (S_ISDIR(file->vn->mode))
		return -EISDIR;
	sync_file(f);
	uint64_t done = 0;
	while (done < len) {
		uint64_t at = off + done;
		struct window *w = NULL;
		for (int i = 0; i < 2; i++) {
			struct window *c = &f->rw[i];
			if (c->buf && (c->busy || c->valid) && at >= c->off && at < c->off + (c->busy ? c->cap : c->len))
				w = c;
		}
		if (!w) {
			/* Not in a window: fetch it into the one not just used. */
			w = &f->rw[0];
			if (f->rw[0].buf && (f->rw[0].busy || (f->rw[0].valid && f->rw[1].buf == NULL)))
				w = &f->rw[1];
			else if (f->rw[1].buf && !f->rw[1].busy && f->rw[0].valid && f->rw[1].off < f->rw[0].off)
				w = &f->rw[1];
			wait_idle(w);
			uint64_t size = hn(file->vn)->size, start = at & ~(uint64_t)(PAGE_SIZE - 1);
			uint64_t want = size > start ? size - start : 0;
			if (want < f->readn + len)
				want = f->readn + len; /* the size may be stale: read as far as the program goes */
			if (window_alloc(w, f, want_for(want)))
				return done ? (long)done : -ENOMEM;
			fetch(f, w, start);
			/* A file longer than the window: its next part is on its way too. */
			struct window *o = &f->rw[w == &f->rw[0]];
			if (size > start + w->cap && !o->busy && !window_alloc(o, f, w->cap))
				fetch(f, o, start + w->cap);
		}
		wait_idle(w);
		if (!w->valid && !f->rerr) {
			fetch(f, w, at & ~(uint64_t)(PAGE_SIZE - 1)); /* discarded while in flight: again */
			wait_idle(w);
		}
		if (f->rerr) {
			int64_t e = f->rerr;
			f->rerr = 0;
			return done ? (long)done : (long)e;
		}
		if (!w->valid || at >= w->off + w->len)
			break; /* end of file */
		uint64_t n = w->off + w->len - at;
		if (n > len - done)
			n = len - done;
		/* Reading on towards the window's end: fetch the next one first, so the host fills it while we copy. */
		if (w->len == w->cap && at + n >= w->off + w->len / 2) {
			struct window *o = &f->rw[w == &f->rw[0]];
			uint64_t next = w->off + w->len;
			if (!o->busy && !(o->valid && o->off == next) && !window_alloc(o, f, w->cap))
				fetch(f, o, next);
		}
		if (copy_to_user(ubuf + done, w->buf + (at - w->off), n))
			return done ? (long)done : -EFAULT;
		done += n;
		f->readn += n;
		if (w->len < w->cap && at + n >= w->off + w->len)
			break; /* the window was short: that was the end */
	}
	return (long)done;
}

static long host_read(struct file *file, uint64_t ubuf, uint64_t len, uint64_t off)
{
	long n = read_windows(file, ubuf, len, off);
	if (n > 0 && hostfs_share_copy(hn(file->vn), ubuf, off, (uint64_t)n, 0, 1))
		return -EFAULT;
	return n;
}

/* ---- opening and closing ---- */

static uint32_t open_flags_of(uint32_t flags)
{
	uint32_t acc = flags & O_ACCMODE, f = 0;
	if (acc == O_RDONLY || acc == O_RDWR)
		f |= LBVM_OPEN_READ;
	if (acc == O_WRONLY || acc == O_RDWR)
		f |= LBVM_OPEN_WRITE;
	if (flags & O_TRUNC)
		f |= LBVM_OPEN_TRUNC;
	return f;
}

static int host_open(struct file *file, uint32_t flags)
{
	struct vnode *vn = file->vn;
	struct hostnode *h = hn(vn);
	if (!S_ISREG(vn->mode) || (flags & O_PATH))
		return 0; /* directories read through the node handle; O_PATH needs nothing */
	hostfs_sync_all();
	struct hfile *f = kmalloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	uint32_t of = open_flags_of(flags);
	if (h->created_fh && !(of & LBVM_OPEN_TRUNC)) {
		/* Just made by O_CREAT: the handle from that open serves (read and write); the vnode keeps it. */
		f->fh = h->created_fh;
		f->borrowed_fh = 1;
	} else {
		struct lbvm_io_attr a;
		struct vnode *dir = vn->parent;
		if (!dir || dir->ops != &hostfs_ops) {
			kfree(f, sizeof(*f));
			return -EIO;
		}
		size_t nlen = strlen(vn->name);
		int64_t r = io_host(LBVM_IO_OPEN, hn(dir)->h, 0, of, vn->name, (uint32_t)nlen, &a, sizeof(a));
		if (r < 0) {
			kfree(f, sizeof(*f));
			return (int)r;
		}
		f->fh = a.handle;
		h->size = a.size;
		h->a = a;
		h->a.handle = h->h;
		if (of & LBVM_OPEN_TRUNC) {
			hostfs_drop_reads(h->mount, a.ino);
			hostfs_share_resize(h, 0);
		}
	}
	f->vn = vn;
	f->can_read = (of & LBVM_OPEN_READ) != 0;
	f->can_write = (of & LBVM_OPEN_WRITE) != 0;
	f->next = open_files;
	open_files = f;
	file->priv = f;
	return 0;
}

static int host_close(struct file *file)
{
	struct hfile *f = file->priv;
	if (!f)
		return 0;
	int64_t e = file_flush(f);
	for (struct hfile **p = &open_files; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	/* Off the list, nobody new can pin it; let the flushes of others finish before it goes. */
	while (f->users)
		if (!sched_yield_other())
			io_idle();
	for (int i = 0; i < 2; i++) {
		window_free(&f->rw[i]);
		window_free(&f->ww[i]);
	}
	if (!f->borrowed_fh)
		io_host_async(LBVM_IO_CLOSE, f->fh, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
	kfree(f, sizeof(*f));
	file->priv = NULL;
	return (int)e;
}

static int host_fsync(struct file *file)
{
	struct hfile *f = file->priv;
	if (!f)
		return 0;
	int64_t e = file_flush(f);
	if (e)
		return (int)e;
	return (int)io_host(LBVM_IO_FSYNC, f->fh, 0, 0, NULL, 0, NULL, 0);
}

/* ---- nodes ---- */

/*
 * Directories looked up are kept, by (parent handle, name): a path below a
 * mount then costs one host request for its last component, not one per
 * component. The entry holds a reference (and so the host handle) for a
 * second, as FUSE's entry timeout does, or until the guest removes or renames
 * that name: a change made on the host shows within a second. The cache
 * stops growing when full.
 */
#define DCACHE_TTL_NS 1000000000ll
#define DCACHE_SLOTS 2048u
#define DCACHE_MAX 1024u
struct dentry {
	uint32_t parent;
	uint8_t len;
	char name[NAME_MAX];
	struct vnode *vn;
	int64_t expires;            /* monotonic ns */
};
static struct dentry dcache[DCACHE_SLOTS];
static unsigned dcache_used;

static uint32_t dhash(uint32_t parent, const char *name, size_t len)
{
	uint32_t h = parent * 2654435761u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	return h % DCACHE_SLOTS;
}

static struct dentry *dcache_find(uint32_t parent, const char *name, size_t len)
{
	for (uint32_t i = dhash(parent, name, len), k = 0; k < DCACHE_SLOTS; k++, i = (i + 1) % DCACHE_SLOTS) {
		struct dentry *d = &dcache[i];
		if (!d->vn && !d->parent)
			return NULL; /* never used: the end of this probe chain */
		if (d->vn && d->parent == parent && d->len == len && !memcmp(d->name, name, len))
			return d;
	}
	return NULL;
}

static void dcache_add(uint32_t parent, const char *name, size_t len, struct vnode *vn)
{
	if (dcache_used >= DCACHE_MAX || !parent)
		return;
	for (uint32_t i = dhash(parent, name, len), k = 0; k < DCACHE_SLOTS; k++, i = (i + 1) % DCACHE_SLOTS) {
		struct dentry *d = &dcache[i];
		if (!d->vn) {
			d->parent = parent;
			d->len = (uint8_t)len;
			memcpy(d->name, name, len);
			d->vn = vn_get(vn);
			d->expires = time_monotonic_ns() + DCACHE_TTL_NS;
			dcache_used++;
			return;
		}
	}
}

/* The name changed on the host (removed, renamed): forget it; the slot stays a tombstone for probing. */
static void dcache_drop(uint32_t parent, const char *name, size_t len)
{
	struct dentry *d = dcache_find(parent, name, len);
	if (!d)
		return;
	struct vnode *vn = d->vn;
	d->vn = NULL;
	dcache_used--;
	vn_put(vn);
}

static int host_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	struct lbvm_io_attr a;
	uint32_t ph = hn(dir)->h;
	struct dentry *d = dcache_find(ph, name, len);
	if (d && d->expires > time_monotonic_ns()) {
		*out = vn_get(d->vn);
		return 0;
	}
	if (d)
		dcache_drop(ph, name, len);
	hostfs_sync_all();
	/*
	 * Most names are looked up to be stat'ed or opened, which needs no handle
	 * of the node: ask for its attributes only, and take a handle later if
	 * it is wanted (node_handle). A directory gets one now, and is cached.
	 */
	int64_t r = io_host(LBVM_IO_STATAT, ph, 0, 0, name, (uint32_t)len, &a, sizeof(a));
	if (r == 0 && S_ISDIR(a.mode))
		r = io_host(LBVM_IO_LOOKUP, ph, 0, 0, name, (uint32_t)len, &a, sizeof(a));
	if (r < 0)
		return (int)r;
	*out = node_new(dir, name, len, &a, hn(dir)->mount);
	if (!*out) {
		if (a.handle)
			io_host_async(LBVM_IO_CLOSE, a.handle, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
		return -ENOMEM;
	}
	if (S_ISDIR(a.mode))
		dcache_add(ph, name, len, *out);
	return 0;
}

/* The node's own handle, taken now if the lookup did not: 0 if the host has no such node any more. */
static uint32_t node_handle(struct vnode *vn)
{
	struct hostnode *h = hn(vn);
	if (h->h)
		return h->h;
	if (h->created_fh)
		return h->created_fh;
	struct lbvm_io_attr a;
	if (!vn->parent || vn->parent->ops != &hostfs_ops ||
	    io_host(LBVM_IO_LOOKUP, hn(vn->parent)->h, 0, 0, vn->name, (uint32_t)strlen(vn->name), &a, sizeof(a)) < 0)
		return 0;
	h->h = a.handle;
	return h->h;
}

static void host_release(struct vnode *vn)
{
	struct hostnode *h = hn(vn);
	if (!h->is_root && h->h)
		io_host_async(LBVM_IO_CLOSE, h->h, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
	if (h->created_fh)
		io_host_async(LBVM_IO_CLOSE, h->created_fh, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
	if (h->rh)
		io_host_async(LBVM_IO_CLOSE, h->rh, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
	if (h->rd)
		kfree(h->rd, PAGE_SIZE);
	hostfs_share_put(h);
	kfree(h, sizeof(*h));
}

static void host_getattr(struct vnode *vn, struct kstat *st)
{
	struct hostnode *h = hn(vn);
	if (h->stale) {
		hostfs_sync_all();
		struct lbvm_io_attr a;
		uint32_t nh = node_handle(vn);
		if (nh && io_host(LBVM_IO_GETATTR, nh, 0, 0, NULL, 0, &a, sizeof(a)) == 0) {
			a.handle = h->h;
			h->a = a;
			h->size = a.size;
			h->stale = 0;
		}
	}
	const struct lbvm_io_attr *a = &h->a;
	st->dev = mount_table()[h->mount].dev;
	st->ino = a->ino;
	st->mode = a->mode;
	st->nlink = a->nlink;
	st->uid = a->uid;
	st->gid = a->gid;
	st->rdev = a->rdev;
	st->size = h->size > a->size ? h->size : a->size;
	st->blocks = a->blocks;
	st->blksize = a->blksize ? a->blksize : 4096;
	st->mtime = a->mtime;
	st->mtime_nsec = a->mtime_ns;
}

static long host_readlink(struct vnode *vn, char *buf, size_t size)
{
	char *tmp = kmalloc(PATH_MAX);
	if (!tmp)
		return -ENOMEM;
	uint32_t nh = node_handle(vn);
	int64_t n = nh ? io_host(LBVM_IO_READLINK, nh, 0, 0, NULL, 0, tmp, PATH_MAX) : -ENOENT;
	if (n >= 0 && (size_t)n >= size)
		n = -ENAMETOOLONG;
	if (n >= 0) {
		memcpy(buf, tmp, (size_t)n);
		buf[n] = 0;
	}
	kfree(tmp, PATH_MAX);
	return (long)n;
}

/* Directory entries: batches of the host's getdents64 records, cursor = the host's d_off cookies. */
static int host_readdir(struct vnode *dir, uint64_t *pos, char *name, size_t size, uint64_t *ino, uint8_t *type)
{
	struct hostnode *h = hn(dir);
	if (!h->rd) {
		h->rd = kmalloc(PAGE_SIZE);
		if (!h->rd)
			return -ENOMEM;
	}
	for (int tries = 0; tries < 2; tries++) {
		/* The record after cursor *pos, if this batch has it. */
		if (h->rd_valid) {
			uint32_t at = 0;
			int found = *pos == h->rd_cookie;
			const size_t hdr = __builtin_offsetof(struct dirent64_k, name);
			while (at + hdr < h->rd_len) {
				const struct dirent64_k *d = (const void *)(h->rd + at);
				if (d->reclen < hdr + 2 || at + d->reclen > h->rd_len)
					break;
				if (found) {
					size_t n = strnlen(d->name, d->reclen - hdr);
					if (n >= size)
						n = size - 1;
					memcpy(name, d->name, n);
					name[n] = 0;
					*ino = d->ino;
					*type = d->type;
					*pos = (uint64_t)d->off;
					return 1;
				}
				found = (uint64_t)d->off == *pos;
				at += d->reclen;
			}
			if (found && h->rd_len == 0)
				return 0;
		}
		hostfs_sync_all();
		int64_t n = io_host(LBVM_IO_READDIR, h->h, *pos, 0, NULL, 0, h->rd, PAGE_SIZE);
		if (n < 0) {
			h->rd_valid = 0;
			return (int)n;
		}
		h->rd_len = (uint32_t)n;
		h->rd_cookie = *pos;
		h->rd_valid = 1;
		if (n == 0)
			return 0;
	}
	return -EIO;
}

int64_t hostfs_open_handle(struct vnode *vn, uint32_t flags, uint32_t *fh)
{
	struct lbvm_io_attr a;
	if (!vn->parent || vn->parent->ops != &hostfs_ops)
		return -EIO;
	int64_t r = io_host(LBVM_IO_OPEN, hn(vn->parent)->h, 0, flags, vn->name, (uint32_t)strlen(vn->name), &a,
			    sizeof(a));
	if (r < 0)
		return r;
	*fh = a.handle;
	return 0;
}

/*
 * exec and mmap read through a handle of the node's own, opened once, in
 * pieces (a segment; the pages around a fault), and often the same file
 * again soon (each program that loads a library). So they read through a
 * few windows of KWIN bytes, one request each, found by file. A window
 * holds the file as the host described it at lookup (inode, size, mtime):
 * a vnode looked up after a change on the host does not match it, and a
 * change made in the guest drops it (hostfs_drop_reads).
 */
#define KWIN (64u << 10)
#define NKWIN 8

struct kwin {
	uint16_t mount;
	uint64_t ino, size;
	int64_t mtime, mtime_ns;
	uint64_t off;
	uint32_t len;
	int valid, busy, dropped;
	uint64_t used;              /* kwin_clock at the last use: the least recent goes first */
	uint8_t *buf;
};
static struct kwin kwins[NKWIN];
static uint64_t kwin_clock;

static void drop_kread_windows(uint16_t mount, uint64_t ino)
{
	for (unsigned i = 0; i < NKWIN; i++) {
		struct kwin *w = &kwins[i];
		if (w->mount != mount || w->ino != ino)
			continue;
		w->valid = 0;
		w->dropped = w->busy;
	}
}

static int kwin_of(const struct kwin *w, const struct hostnode *h)
{
	return w->mount == h->mount && w->ino == h->a.ino && w->size == h->a.size && w->mtime == h->a.mtime &&
	       w->mtime_ns == h->a.mtime_ns;
}

static struct kwin *kwin_find(const struct hostnode *h, uint64_t at)
{
	for (unsigned i = 0; i < NKWIN; i++) {
		struct kwin *w = &kwins[i];
		if (w->valid && !w->busy && kwin_of(w, h) && at >= w->off && at - w->off < KWIN)
			return w;
	}
	return NULL;
}

/* Fill a window with the file's bytes from start; *out is NULL when every window is busy or no buffer is to be had. */
static int64_t kwin_fetch(const struct hostnode *h, uint64_t start, struct kwin **out)
{
	struct kwin *w = NULL;
	*out = NULL;
	for (unsigned i = 0; i < NKWIN; i++)
		if (!kwins[i].busy && (!w || (w->valid && (!kwins[i].valid || kwins[i].used < w->used))))
			w = &kwins[i];
	if (!w || (!w->buf && !(w->buf = hostfs_bounce_get(KWIN))))
		return 0;
	*w = (struct kwin){ .mount = h->mount, .ino = h->a.ino, .size = h->a.size, .mtime = h->a.mtime,
			    .mtime_ns = h->a.mtime_ns, .off = start, .busy = 1, .buf = w->buf };
	int64_t r;
	do {
		w->dropped = 0;
		r = io_host(LBVM_IO_READ, h->rh, start, 0, NULL, 0, w->buf, KWIN);
	} while (r >= 0 && w->dropped);  /* the file changed in the guest meanwhile: again */
	w->busy = 0;
	if (r < 0)
		return r;
	w->len = (uint32_t)r;
	w->valid = 1;
	*out = w;
	return 0;
}

/* Without a window: one page through a bounce page (the caller's buffer need not be physically contiguous). */
static long kread_direct(const struct hostnode *h, uint8_t *dst, uint64_t len, uint64_t off)
{
	uint8_t *page = kmalloc(PAGE_SIZE);
	if (!page)
		return -ENOMEM;
	uint32_t n = len > PAGE_SIZE ? PAGE_SIZE : (uint32_t)len;
	int64_t r = io_host(LBVM_IO_READ, h->rh, off, 0, NULL, 0, page, n);
	if (r > 0)
		memcpy(dst, page, (size_t)r);
	kfree(page, PAGE_SIZE);
	return (long)r;
}

/* Up to len bytes at off: how many were copied, 0 at the end of the file, or -errno. */
static long kread_some(const struct hostnode *h, uint8_t *dst, uint64_t len, uint64_t off)
{
	struct kwin *w = kwin_find(h, off);
	if (!w) {
		int64_t r = kwin_fetch(h, ALIGN_DOWN(off, KWIN), &w);
		if (r < 0)
			return (long)r;
		if (!w)
			return kread_direct(h, dst, len, off);
	}
	w->used = ++kwin_clock;
	if (off >= w->off + w->len)
		return 0;
	uint64_t n = w->off + w->len - off < len ? w->off + w->len - off : len;
	memcpy(dst, w->buf + (off - w->off), n);
	return (long)n;
}

static long host_kread(struct vnode *vn, void *buf, uint64_t len, uint64_t off)
{
	struct hostnode *h = hn(vn);
	hostfs_sync_ino(h->mount, h->a.ino);
	if (!h->rh) {
		int64_t r = hostfs_open_handle(vn, LBVM_OPEN_READ, &h->rh);
		if (r < 0)
			return (long)r;
	}
	uint64_t done = 0;
	while (done < len) {
		long n = kread_some(h, (uint8_t *)buf + done, len - done, off + done);
		if (n < 0)
			return done ? (long)done : n;
		if (n == 0)
			break;
		done += (uint64_t)n;
	}
	hostfs_share_copy(h, (uint64_t)buf, off, done, 0, 0);  /* what shared mappings wrote is the newest */
	return (long)done;
}

/* ---- changing the tree ---- */

/* NAME, or A NUL B, in a buffer the host can read. */
static uint32_t pack2(char *buf, const char *a, size_t alen, const char *b, size_t blen)
{
	memcpy(buf, a, alen);
	if (!b)
		return (uint32_t)alen;
	buf[alen] = 0;
	memcpy(buf + alen + 1, b, blen);
	return (uint32_t)(alen + 1 + blen);
}

static int host_create(struct vnode *dir, const char *name, size_t len, uint32_t mode, const char *target,
		       struct vnode **out)
{
	struct hostnode *d = hn(dir);
	hostfs_sync_all();
	int64_t r;
	struct lbvm_io_attr a;
	switch (mode & S_IFMT) {
	case S_IFREG: {
		r = io_host(LBVM_IO_OPEN, d->h, 0,
			    (uint64_t)(LBVM_OPEN_READ | LBVM_OPEN_WRITE | LBVM_OPEN_CREATE | LBVM_OPEN_EXCL) |
				    ((uint64_t)(mode & 07777) << 32),
			    name, (uint32_t)len, &a, sizeof(a));
		if (r < 0)
			return (int)r;
		uint32_t fh = a.handle;
		a.handle = 0;
		struct vnode *vn = node_new(dir, name, len, &a, d->mount);
		if (!vn) {
			io_host_async(LBVM_IO_CLOSE, fh, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
			return -ENOMEM;
		}
		vn->host->created_fh = fh;
		if (out)
			*out = vn;
		else
			vn_put(vn);
		return 0;
	}
	case S_IFDIR:
		r = io_host(LBVM_IO_MKDIR, d->h, 0, mode & 07777, name, (uint32_t)len, NULL, 0);
		break;
	case S_IFLNK: {
		size_t tlen = strlen(target);
		char *buf = kmalloc(PAGE_SIZE);
		if (!buf)
			return -ENOMEM;
		if (tlen + 1 + len > PAGE_SIZE) {
			kfree(buf, PAGE_SIZE);
			return -ENAMETOOLONG;
		}
		uint32_t n = pack2(buf, target, tlen, name, len);
		r = io_host(LBVM_IO_SYMLINK, d->h, 0, 0, buf, n, NULL, 0);
		kfree(buf, PAGE_SIZE);
		break;
	}
	default:
		return -EPERM; /* no FIFOs or devices on the host's disk */
	}
	if (r < 0)
		return (int)r;
	if (out)
		return host_lookup(dir, name, len, out);
	return 0;
}

static int host_remove(struct vnode *dir, const char *name, size_t len, int isdir)
{
	hostfs_sync_all();
	dcache_drop(hn(dir)->h, name, len);
	return (int)io_host(LBVM_IO_UNLINK, hn(dir)->h, 0, isdir ? LBVM_UNLINK_DIR : 0, name, (uint32_t)len, NULL, 0);
}

static int host_rename(struct vnode *odir, const char *oname, size_t olen, struct vnode *ndir, const char *nname,
		       size_t nlen, uint32_t flags)
{
	if (ndir->ops != &hostfs_ops || hn(ndir)->mount != hn(odir)->mount)
		return -EXDEV;
	char buf[2 * NAME_MAX + 2];
	uint32_t n = pack2(buf, oname, olen, nname, nlen);
	hostfs_sync_all();
	dcache_drop(hn(odir)->h, oname, olen);
	dcache_drop(hn(ndir)->h, nname, nlen);
	return (int)io_host(LBVM_IO_RENAME, hn(odir)->h, 0, hn(ndir)->h | ((uint64_t)flags << 32), buf, n, NULL, 0);
}

static int host_link(struct vnode *src, struct vnode *ndir, const char *name, size_t len)
{
	struct vnode *sdir = src->parent;
	if (src->ops != &hostfs_ops || ndir->ops != &hostfs_ops || hn(ndir)->mount != hn(src)->mount || !sdir ||
	    sdir->ops != &hostfs_ops || hn(src)->is_root)
		return -EXDEV;
	char buf[2 * NAME_MAX + 2];
	uint32_t n = pack2(buf, src->name, strlen(src->name), name, len);
	hostfs_sync_all();
	return (int)io_host(LBVM_IO_LINK, hn(sdir)->h, 0, hn(ndir)->h, buf, n, NULL, 0);
}

static int host_setattr(struct vnode *vn, struct file *file, const struct lbvm_io_setattr *sa)
{
	struct hostnode *h = hn(vn);
	hostfs_sync_all();
	hostfs_drop_reads(h->mount, h->a.ino);
	uint32_t handle = node_handle(vn);
	if (!handle)
		return -ENOENT;
	struct lbvm_io_setattr copy = *sa;
	if (sa->valid & LBVM_SETATTR_SIZE) {
		/* Truncation needs a handle open for writing: the caller's, or one just for this. */
		struct hfile *f = file ? file->priv : NULL;
		uint32_t wh = f && f->can_write ? f->fh : h->created_fh;
		int64_t r;
		if (!wh) {
			struct lbvm_io_attr a;
			if (!vn->parent || vn->parent->ops != &hostfs_ops)
				return -EIO;
			r = io_host(LBVM_IO_OPEN, hn(vn->parent)->h, 0, LBVM_OPEN_WRITE, vn->name,
				    (uint32_t)strlen(vn->name), &a, sizeof(a));
			if (r < 0)
				return (int)r;
			struct lbvm_io_setattr t = { .valid = LBVM_SETATTR_SIZE, .size = sa->size };
			r = io_host(LBVM_IO_SETATTR, a.handle, 0, 0, &t, sizeof(t), NULL, 0);
			io_host_async(LBVM_IO_CLOSE, a.handle, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
		} else {
			struct lbvm_io_setattr t = { .valid = LBVM_SETATTR_SIZE, .size = sa->size };
			r = io_host(LBVM_IO_SETATTR, wh, 0, 0, &t, sizeof(t), NULL, 0);
		}
		if (r < 0)
			return (int)r;
		h->size = sa->size;
		hostfs_share_resize(h, sa->size);
		copy.valid &= ~LBVM_SETATTR_SIZE;
	}
	int64_t r = copy.valid ? io_host(LBVM_IO_SETATTR, handle, 0, 0, &copy, sizeof(copy), NULL, 0) : 0;
	h->stale = 1;
	return (int)r;
}

static int host_fallocate(struct file *file, uint64_t off, uint64_t len)
{
	struct hfile *f = file->priv;
	if (!f || !f->can_write)
		return -EBADF;
	int64_t e = file_flush(f);
	if (e)
		return (int)e;
	invalidate_reads(f);
	int64_t r = io_host(LBVM_IO_FALLOCATE, f->fh, off, len, NULL, 0, NULL, 0);
	hn(file->vn)->stale = 1;
	return (int)r;
}

static int host_statfs(struct vnode *vn, struct lbvm_io_statfs *out)
{
	uint32_t nh = node_handle(vn);
	return nh ? (int)io_host(LBVM_IO_STATFS, nh, 0, 0, NULL, 0, out, sizeof(*out)) : -ENOENT;
}

const struct vnode_ops hostfs_ops = {
	.read = host_read, .write = host_write, .lookup = host_lookup, .readdir = host_readdir,
	.readlink = host_readlink, .kread = host_kread, .getattr = host_getattr, .release = host_release,
	.share_page = hostfs_share_page, .writeback = hostfs_share_writeback,
	.open = host_open, .close = host_close, .fsync = host_fsync, .create = host_create, .remove = host_remove,
	.rename = host_rename, .link = host_link, .setattr = host_setattr, .fallocate = host_fallocate,
	.statfs = host_statfs,
};
