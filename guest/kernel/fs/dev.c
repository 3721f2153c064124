/* dev.c: the synthetic trees: stdio, /dev (null, zero, full, urandom, tty, std*), /proc/self. */
#include "arch/cpu.h"
#include "kernel/proc/proc.h"
#include "vfs.h"

/* ---- synthetic directories and symlinks ---- */

static int synth_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	const struct synth_entry *tab = dir->priv;
	for (uint32_t i = 0; i < dir->handle; i++) {
		if (strlen(tab[i].name) == len && !memcmp(tab[i].name, name, len)) {
			if (!tab[i].make)
				return -ENOENT;
			*out = tab[i].make(dir, &tab[i]);
			return *out ? 0 : -ENOMEM;
		}
	}
	return -ENOENT;
}

static int synth_readdir(struct vnode *dir, uint64_t *pos, char *name, size_t size, uint64_t *ino, uint8_t *type)
{
	const struct synth_entry *tab = dir->priv;
	if (*pos < 2) {
		strlcpy(name, *pos ? ".." : ".", size);
		*ino = dir->ino;
		*type = 4;
		(*pos)++;
		return 1;
	}
	while (*pos - 2 < dir->handle) {
		const struct synth_entry *e = &tab[*pos - 2];
		(*pos)++;
		if (!e->make)
			continue;
		struct vnode *vn = e->make(dir, e);
		if (!vn)
			return -ENOMEM;
		strlcpy(name, e->name, size);
		*ino = vn->ino;
		*type = (uint8_t)((vn->mode & S_IFMT) >> 12);
		vn_put(vn);
		return 1;
	}
	return 0;
}

const struct vnode_ops synth_dir_ops = { .lookup = synth_lookup, .readdir = synth_readdir };

static struct vnode *vn_new(const struct vnode_ops *ops, uint32_t mode, uint64_t ino)
{
	struct vnode *vn = kmalloc(sizeof(*vn));
	if (vn) {
		vn->ops = ops;
		vn->refs = 1;
		vn->mode = mode;
		vn->ino = ino;
	}
	return vn;
}

struct vnode *synth_dir(struct vnode *parent, const struct synth_entry *tab, unsigned n, uint64_t ino)
{
	struct vnode *vn = vn_new(&synth_dir_ops, S_IFDIR | 0555, ino);
	if (!vn) {
		vn_put(parent);
		return NULL;
	}
	vn->parent = parent;
	vn->priv = tab;
	vn->handle = n;
	return vn;
}

static long symlink_readlink(struct vnode *vn, char *buf, size_t size)
{
	size_t n = strlen(vn->priv);
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(buf, vn->priv, n + 1);
	return (long)n;
}

static const struct vnode_ops symlink_ops = { .readlink = symlink_readlink };

/* target must outlive the node: a string literal or process-lifetime storage */
struct vnode *synth_symlink(const char *target, uint64_t ino)
{
	struct vnode *vn = vn_new(&symlink_ops, S_IFLNK | 0777, ino);
	if (vn)
		vn->priv = target;
	return vn;
}

/* ---- stdio: lbvm's own stdin, stdout and stderr ---- */

#define TCGETS     0x5401
#define TCSETS     0x5402
#define TCSETSW    0x5403
#define TCSETSF    0x5404
#define TIOCGPGRP  0x540f
#define TIOCGWINSZ 0x5413

/* Readers and writers of lbvm's stdio queue on these; a process that waits for the host holds one. */
static struct kmutex stdin_lock, stdout_lock;

/*
 * lbvm's stdin: at most one host read in flight, into a buffer of the
 * kernel's, not the reader's. A reader that a signal interrupts returns
 * EINTR and leaves the read going; whoever reads next gets what it brings
 * (and the rest of it, if it brought more than one reader asked for). Input
 * is never dropped, and the host never writes into memory a later read uses.
 */
static struct {
	uint8_t buf[65536];
	uint32_t off, len;      /* bytes held, from a completed read, not yet taken */
	int inflight;           /* a host read is on its way into buf */
	int64_t end;            /* a completed read's 0 (end of input) or -errno, for the next reader, once */
	int has_end;
} stdin_q;

static void stdin_done(void *arg, int64_t result)
{
	(void)arg;
	if (result > 0) {
		stdin_q.off = 0;
		stdin_q.len = (uint32_t)result;
	} else {
		stdin_q.end = result;
		stdin_q.has_end = 1;
	}
	stdin_q.inflight = 0;
	poll_wake();
}

static long stdin_read(uint32_t handle, uint64_t ubuf, uint64_t len)
{
	long n;
	kmutex_lock(&stdin_lock);
	for (;;) {
		if (stdin_q.off < stdin_q.len) {
			n = (long)(len < stdin_q.len - stdin_q.off ? len : stdin_q.len - stdin_q.off);
			if (copy_to_user(ubuf, stdin_q.buf + stdin_q.off, (uint64_t)n)) {
				n = -EFAULT;
				break;
			}
			stdin_q.off += (uint32_t)n;
			break;
		}
		if (stdin_q.has_end) {
			stdin_q.has_end = 0;
			n = (long)stdin_q.end;
			break;
		}
		if (!stdin_q.inflight) {
			/* Ask the host for no more than this reader wants: what lbvm reads is gone from its stdin. */
			stdin_q.inflight = 1;
			io_host_async(LBVM_IO_READ, handle, LBVM_IO_STREAM, 0, NULL, 0, stdin_q.buf,
				      (uint32_t)(len < sizeof(stdin_q.buf) ? len : sizeof(stdin_q.buf)), stdin_done, NULL);
		}
		n = io_wait_zero_intr(&stdin_q.inflight);
		if (n < 0)
			break;
	}
	kmutex_unlock(&stdin_lock);
	return n;
}

static long stdio_read(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)off;
	if (len == 0)
		return 0;
	return stdin_read(f->vn->handle, ubuf, len);
}

static long stdio_write(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	static uint8_t bounce[65536];
	(void)off;
	uint64_t done = 0;
	long err = 0;
	kmutex_lock(&stdout_lock);
	while (done < len) {
		uint64_t chunk = len - done > sizeof(bounce) ? sizeof(bounce) : len - done;
		if (copy_from_user(bounce, ubuf + done, chunk)) {
			err = -EFAULT;
			break;
		}
		long r = io_write(f->vn->handle, bounce, chunk);
		if (r < 0) {
			err = r;
			break;
		}
		done += chunk;
	}
	kmutex_unlock(&stdout_lock);
	return done ? (long)done : err;
}

static int stdio_ioctl(struct file *f, uint64_t req, uint64_t arg)
{
	struct lbvm_tty *t = &boot.tty[f->vn->handle];
	if (!t->is_tty)
		return -ENOTTY;
	switch (req) {
	case TCGETS:
		return copy_to_user(arg, t->termios, sizeof(t->termios)) ? -EFAULT : 0;
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		/* Recorded for TCGETS; the host terminal itself stays as the user left it. */
		return copy_from_user(t->termios, arg, sizeof(t->termios)) ? -EFAULT : 0;
	case TIOCGWINSZ: {
		uint16_t ws[4] = { t->ws_row, t->ws_col, 0, 0 };
		return copy_to_user(arg, ws, sizeof(ws)) ? -EFAULT : 0;
	}
	case TIOCGPGRP: {
		int32_t pg = current->pid;
		return copy_to_user(arg, &pg, sizeof(pg)) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}

static void stdio_getattr(struct vnode *vn, struct kstat *st)
{
	const struct lbvm_tty *t = &boot.tty[vn->handle];
	st->dev = 0x16;
	st->mode = t->st_mode ? t->st_mode : (S_IFIFO | 0600); /* a pipe when the VMM could not tell */
	st->rdev = t->is_tty ? 0x8800 : 0;
}

static const struct vnode_ops stdio_ops = {
	.read = stdio_read, .write = stdio_write, .ioctl = stdio_ioctl, .getattr = stdio_getattr,
};

struct vnode *stdio_vnode(uint32_t handle)
{
	uint32_t mode = boot.tty[handle].st_mode ? boot.tty[handle].st_mode : (S_IFIFO | 0600);
	struct vnode *vn = vn_new(&stdio_ops, mode, 0x10000 + handle);
	if (vn) {
		vn->handle = handle;
		vn->stream = 1;
	}
	return vn;
}

/* ---- /dev ---- */

enum { DEV_NULL, DEV_ZERO, DEV_FULL, DEV_URANDOM };

static long dev_read(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	static uint8_t buf[4096];
	(void)off;
	if (f->vn->handle == DEV_NULL)
		return 0;
	uint64_t done = 0;
	while (done < len) {
		uint64_t n = len - done > sizeof(buf) ? sizeof(buf) : len - done;
		if (f->vn->handle == DEV_URANDOM)
			random_fill(buf, n);
		else
			memset(buf, 0, n);
		if (copy_to_user(ubuf + done, buf, n))
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

static long dev_write(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)ubuf, (void)off;
	return f->vn->handle == DEV_FULL ? -ENOSPC : (long)len;
}

static void dev_getattr(struct vnode *vn, struct kstat *st)
{
	static const uint32_t rdev[] = { 0x103, 0x105, 0x107, 0x109 }; /* 1:3 null, 1:5 zero, 1:7 full, 1:9 urandom */
	st->dev = 0x5;
	st->rdev = rdev[vn->handle];
}

static const struct vnode_ops dev_ops = { .read = dev_read, .write = dev_write, .getattr = dev_getattr };

static struct vnode *make_dev(struct vnode *dir, const struct synth_entry *e)
{
	(void)dir;
	struct vnode *vn = vn_new(&dev_ops, S_IFCHR | 0666, 0x20000 + e->arg);
	if (vn) {
		vn->handle = e->arg;
		vn->stream = 1;
	}
	return vn;
}

static struct vnode *make_stdio_link(struct vnode *dir, const struct synth_entry *e)
{
	(void)dir;
	static const char *const targets[] = { "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2", "/proc/self/fd" };
	return synth_symlink(targets[e->arg], 0x30000 + e->arg);
}

/* /dev/shm: POSIX shared memory and semaphores (shm_open, sem_open) live in the guest's tmpfs, as on Linux. */
static struct vnode *make_shm_link(struct vnode *dir, const struct synth_entry *e)
{
	(void)dir, (void)e;
	return synth_symlink("/tmp", 0x30010);
}

static struct vnode *make_tty(struct vnode *dir, const struct synth_entry *e)
{
	(void)dir, (void)e;
	/* The controlling terminal is lbvm's: the first stdio handle that is one. */
	for (uint32_t h = 0; h < LBVM_STDIO_HANDLES; h++)
		if (boot.tty[h].is_tty)
			return stdio_vnode(h);
	return NULL;
}

static const struct synth_entry dev_tab[] = {
	{ "null", make_dev, DEV_NULL },
	{ "zero", make_dev, DEV_ZERO },
	{ "full", make_dev, DEV_FULL },
	{ "random", make_dev, DEV_URANDOM },
	{ "urandom", make_dev, DEV_URANDOM },
	{ "tty", make_tty, 0 },
	{ "stdin", make_stdio_link, 0 },
	{ "stdout", make_stdio_link, 1 },
	{ "stderr", make_stdio_link, 2 },
	{ "fd", make_stdio_link, 3 },
	{ "shm", make_shm_link, 0 },
};

struct vnode *devfs_root(struct vnode *parent)
{
	return synth_dir(parent, dev_tab, ARRAY_SIZE(dev_tab), 0x20100);
}

/* ---- /proc ---- */

/* The process a /proc/<pid> node speaks of; the current one if it has gone. */
static struct proc *proc_of(const struct vnode *vn)
{
	struct proc *p = vn->pid ? proc_find(vn->pid) : NULL;
	return p ? p : current;
}

static struct vnode *make_exe(struct vnode *dir, const struct synth_entry *e)
{
	(void)e;
	return synth_symlink(proc_of(dir)->exe, 0x40001);
}

static struct vnode *make_cwd(struct vnode *dir, const struct synth_entry *e)
{
	(void)e;
	return synth_symlink(proc_of(dir)->cwd_path, 0x40002);
}

/*
 * /proc/self/fd/N: readlink gives what the file was opened as; following it
 * reaches the open file's own node (a "magic link", as on Linux), so
 * /dev/stdout -> /proc/self/fd/1 does not loop back to /dev/stdout.
 */
static void fdlink_release(struct vnode *vn)
{
	kfree((void *)vn->priv, PATH_MAX);
	vn_put(vn->jump);
}

static const struct vnode_ops fdlink_ops = { .readlink = symlink_readlink, .release = fdlink_release };

static int fdlink_new(struct file *f, struct vnode **out)
{
	char *path = kmalloc(PATH_MAX);
	struct vnode *vn = path ? vn_new(&fdlink_ops, S_IFLNK | 0700, 0x50000) : NULL;
	if (!vn) {
		kfree(path, PATH_MAX);
		return -ENOMEM;
	}
	strlcpy(path, f->path, PATH_MAX);
	vn->priv = path;
	vn->jump = vn_get(f->vn);
	*out = vn;
	return 0;
}

/* /proc/self/fd: one magic link per open descriptor. */
static int fddir_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	(void)dir;
	int fd = 0;
	if (len == 0 || len > 4)
		return -ENOENT;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -ENOENT;
		fd = fd * 10 + (name[i] - '0');
	}
	struct file *f = fd_get(fd);
	if (!f)
		return -ENOENT;
	return fdlink_new(f, out);
}

static int fddir_readdir(struct vnode *dir, uint64_t *pos, char *name, size_t size, uint64_t *ino, uint8_t *type)
{
	if (*pos < 2) {
		strlcpy(name, *pos ? ".." : ".", size);
		*ino = dir->ino;
		*type = 4;
		(*pos)++;
		return 1;
	}
	while (*pos - 2 < NFD) {
		int fd = (int)(*pos - 2);
		(*pos)++;
		if (fd_get(fd)) {
			ksnprintf(name, size, "%d", fd);
			*ino = 0x50000 + (uint64_t)fd;
			*type = 10;
			return 1;
		}
	}
	return 0;
}

static const struct vnode_ops fddir_ops = { .lookup = fddir_lookup, .readdir = fddir_readdir };

static struct vnode *make_fddir(struct vnode *dir, const struct synth_entry *e)
{
	(void)e;
	struct vnode *vn = vn_new(&fddir_ops, S_IFDIR | 0500, 0x40003);
	if (vn)
		vn->parent = vn_get(dir);
	return vn;
}

/* ---- generated text files: /proc/self/stat, /proc/meminfo, /proc/cpuinfo ---- */

enum { GEN_STAT, GEN_MEMINFO, GEN_CPUINFO, GEN_MOUNTS, GEN_STATUS, GEN_MAPS, GEN_AUXV, GEN_PSTAT, GEN_CPUS };

static long gen_text(const struct vnode *vn, char *buf, size_t size)
{
	struct proc *p = proc_of(vn);
	uint32_t which = vn->handle;
	if (which >= GEN_STATUS)
		return procinfo_text(which - GEN_STATUS, p, buf, size);
	switch (which) {
	case GEN_STAT: {
		char comm[16];
		proc_comm(p, comm);
		int64_t ticks = (time_monotonic_ns() - boot.boot_monotonic_ns) / 10000000;
		char state = p->stopped || p->stop_sig ? 'T' : p->state == P_ZOMBIE ? 'Z' : p->state == P_BLOCKED ? 'S' : 'R';
		return ksnprintf(buf, size,
				 "%d (%s) %c %d %d %d 0 -1 4194304 0 0 0 0 %ld 0 0 0 20 0 1 0 0 %lu %lu 18446744073709551615 "
				 "0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
				 p->pid, comm, state, p->ppid, p->pgid, p->sid, (long)ticks,
				 (unsigned long)(p->mm->brk - p->mm->brk_start), 0ul);
	}
	case GEN_MEMINFO: {
		unsigned long total = (unsigned long)(pmem_total_pages() * 4), free = (unsigned long)(pmem_free_pages() * 4);
		return ksnprintf(buf, size,
				 "MemTotal:       %8lu kB\nMemFree:        %8lu kB\nMemAvailable:   %8lu kB\n"
				 "Buffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n",
				 total, free, free);
	}
	case GEN_MOUNTS: {
		/* What df and mount(8) read: the root, the kernel's trees, and each host directory. */
		long n = ksnprintf(buf, size, "%s / %s %s 0 0\ntmpfs /tmp tmpfs rw 0 0\nproc /proc proc rw 0 0\n"
				   "dev /dev devtmpfs rw 0 0\n",
				   have_image ? "image" : "tmpfs", have_image ? "overlay" : "tmpfs",
				   have_image && !ovl_image_writable ? "ro" : "rw");
		for (unsigned i = 0; i < hostfs_nmounts() && n >= 0 && (size_t)n < size; i++)
			n += ksnprintf(buf + n, size - (size_t)n, "hostfs %s hostfs %s 0 0\n", hostfs_mount_path(i),
				       hostfs_mount_readonly(i) ? "ro" : "rw");
		return n;
	}
	default:
		return ksnprintf(buf, size,
				 "processor\t: 0\nvendor_id\t: lbvm\nmodel name\t: lbvm virtual CPU (%s mode)\n"
				 "cpu MHz\t\t: %lu.000\ncpu cores\t: 1\nflags\t\t: fpu sse sse2 fsgsbase\n\n",
				 cpu_mode_name(), (unsigned long)(boot.tsc_khz / 1000));
	}
}

static long gen_read(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	static char buf[8192];
	long n = gen_text(f->vn, buf, sizeof(buf));
	if (n > (long)sizeof(buf))
		n = sizeof(buf);
	if (n < 0 || off >= (uint64_t)n)
		return 0;
	if (len > (uint64_t)n - off)
		len = (uint64_t)n - off;
	return copy_to_user(ubuf, buf + off, len) ? -EFAULT : (long)len;
}

static const struct vnode_ops gen_ops = { .read = gen_read };

static struct vnode *make_gen(struct vnode *dir, const struct synth_entry *e)
{
	struct vnode *vn = vn_new(&gen_ops, S_IFREG | 0444, 0x41000 + e->arg);
	if (vn) {
		vn->handle = e->arg;
		vn->pid = dir->pid;
	}
	return vn;
}

/* A thread's directory in /proc/<pid>/task, and another process's: no fd (descriptors are looked up in the caller's table). */
static const struct synth_entry pid_tab[] = {
	{ "stat", make_gen, GEN_STAT },
	{ "status", make_gen, GEN_STATUS },
	{ "maps", make_gen, GEN_MAPS },
	{ "exe", make_exe, 0 },
	{ "cwd", make_cwd, 0 },
};

static int live_thread_of(const struct proc *t, int tgid)
{
	return t->tgid == tgid && (t->state == P_RUNNABLE || t->state == P_BLOCKED);
}

/* /proc/<pid>/task: one directory per live thread of the process. */
static int task_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	int tid = 0;
	for (size_t i = 0; i < len && tid >= 0; i++)
		tid = name[i] >= '0' && name[i] <= '9' && tid < 100000000 ? tid * 10 + (name[i] - '0') : -1;
	struct proc *t = len && tid > 0 ? proc_find(tid) : NULL;
	if (!t || !live_thread_of(t, dir->pid))
		return synth_dir_ops.lookup(dir, name, len, out);
	*out = synth_dir(vn_get(dir), pid_tab, ARRAY_SIZE(pid_tab), 0x50000 + (uint64_t)tid);
	if (!*out)
		return -ENOMEM;
	(*out)->pid = tid;
	return 0;
}

static int task_readdir(struct vnode *dir, uint64_t *pos, char *name, size_t size, uint64_t *ino, uint8_t *type)
{
	if (*pos < 2)
		return synth_dir_ops.readdir(dir, pos, name, size, ino, type);
	while (*pos - 2 < NPROC) {
		struct proc *t = &procs[*pos - 2];
		(*pos)++;
		if (!live_thread_of(t, dir->pid))
			continue;
		ksnprintf(name, size, "%d", t->pid);
		*ino = 0x50000 + (uint64_t)t->pid;
		*type = 4;
		return 1;
	}
	return 0;
}

static const struct vnode_ops task_ops = { .lookup = task_lookup, .readdir = task_readdir };

static struct vnode *make_task(struct vnode *dir, const struct synth_entry *e)
{
	(void)e;
	struct vnode *vn = synth_dir(vn_get(dir), NULL, 0, 0x48000 + (uint64_t)dir->pid);
	if (vn) {
		vn->ops = &task_ops;
		vn->pid = dir->pid;
	}
	return vn;
}

static const struct synth_entry self_tab[] = {
	{ "stat", make_gen, GEN_STAT },
	{ "status", make_gen, GEN_STATUS },
	{ "maps", make_gen, GEN_MAPS },
	{ "auxv", make_gen, GEN_AUXV },
	{ "exe", make_exe, 0 },
	{ "cwd", make_cwd, 0 },
	{ "fd", make_fddir, 0 },
	{ "task", make_task, 0 },
};

/* Another process's directory. */
static const struct synth_entry proc_pid_tab[] = {
	{ "stat", make_gen, GEN_STAT },
	{ "status", make_gen, GEN_STATUS },
	{ "exe", make_exe, 0 },
	{ "cwd", make_cwd, 0 },
	{ "task", make_task, 0 },
};

static struct vnode *pid_dir(struct vnode *root, int pid)
{
	int self = pid == current->tgid;
	struct vnode *vn = synth_dir(vn_get(root), self ? self_tab : proc_pid_tab,
				     self ? ARRAY_SIZE(self_tab) : ARRAY_SIZE(proc_pid_tab), 0x40000 + (uint64_t)pid);
	if (vn)
		vn->pid = pid;
	return vn;
}

static struct vnode *make_self(struct vnode *dir, const struct synth_entry *e)
{
	(void)e;
	return pid_dir(dir, current->tgid);
}

static const struct synth_entry proc_tab[] = {
	{ "meminfo", make_gen, GEN_MEMINFO },
	{ "cpuinfo", make_gen, GEN_CPUINFO },
	{ "mounts", make_gen, GEN_MOUNTS },
	{ "self", make_self, 0 },
	{ "stat", make_gen, GEN_PSTAT },
};

/* /proc: the fixed entries, then one directory per live process. */
static int procfs_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	int pid = 0;
	for (size_t i = 0; i < len && pid >= 0; i++)
		pid = name[i] >= '0' && name[i] <= '9' && pid < 100000000 ? pid * 10 + (name[i] - '0') : -1;
	if (len && pid > 0) {
		struct proc *p = proc_find(pid);
		if (!p || p->leader->nthreads == 0)
			return -ENOENT;
		*out = pid_dir(dir, pid);
		return *out ? 0 : -ENOMEM;
	}
	return synth_dir_ops.lookup(dir, name, len, out);
}

static int procfs_readdir(struct vnode *dir, uint64_t *pos, char *name, size_t size, uint64_t *ino, uint8_t *type)
{
	uint64_t fixed = 2 + ARRAY_SIZE(proc_tab);
	if (*pos < fixed)
		return synth_dir_ops.readdir(dir, pos, name, size, ino, type);
	while (*pos - fixed < NPROC) {
		struct proc *p = &procs[*pos - fixed];
		(*pos)++;
		if (p->state == P_FREE || p->pid != p->tgid || p->nthreads == 0)
			continue;
		ksnprintf(name, size, "%d", p->pid);
		*ino = 0x40000 + (uint64_t)p->pid;
		*type = 4;
		return 1;
	}
	return 0;
}

static const struct vnode_ops procfs_ops = { .lookup = procfs_lookup, .readdir = procfs_readdir };

struct vnode *procfs_root(struct vnode *parent)
{
	struct vnode *vn = synth_dir(parent, proc_tab, ARRAY_SIZE(proc_tab), 0x40100);
	if (vn)
		vn->ops = &procfs_ops;
	return vn;
}

/* ---- /sys: what glibc's sysconf and nproc read about CPUs ---- */

static const struct synth_entry sys_cpu_tab[] = {
	{ "online", make_gen, GEN_CPUS },
	{ "possible", make_gen, GEN_CPUS },
	{ "present", make_gen, GEN_CPUS },
};

static struct vnode *make_sys_cpu(struct vnode *dir, const struct synth_entry *e)
{
	(void)e;
	return synth_dir(vn_get(dir), sys_cpu_tab, ARRAY_SIZE(sys_cpu_tab), 0x42003);
}

static const struct synth_entry sys_system_tab[] = { { "cpu", make_sys_cpu, 0 } };

static struct vnode *make_sys_system(struct vnode *dir, const struct synth_entry *e)
{
	(void)e;
	return synth_dir(vn_get(dir), sys_system_tab, 1, 0x42002);
}

static const struct synth_entry sys_devices_tab[] = { { "system", make_sys_system, 0 } };

static struct vnode *make_sys_devices(struct vnode *dir, const struct synth_entry *e)
{
	(void)e;
	return synth_dir(vn_get(dir), sys_devices_tab, 1, 0x42001);
}

static const struct synth_entry sys_tab[] = { { "devices", make_sys_devices, 0 } };

struct vnode *sysfs_root(struct vnode *parent)
{
	return synth_dir(parent, sys_tab, ARRAY_SIZE(sys_tab), 0x42000);
}
