/*
 * hostfs.c: host directories in the guest (--mount). The guest names
 * directories and files by handles; each handle is a file descriptor of the
 * VMM's, reached from the mount's root one component at a time with openat2
 * (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS, and
 * RESOLVE_NO_XDEV unless the mount says xdev). The host never follows a
 * symlink for the guest: the guest reads links and resolves them in its own
 * namespace. Every field of a request is checked on the copy the caller
 * made; writes to a read-only mount are refused here, whatever the guest
 * kernel believes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "hostfs.h"
#include "log.h"
#include "size.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

enum { HK_FREE, HK_NODE, HK_FILE };

struct handle {
	uint8_t kind;
	uint8_t is_dir;
	uint8_t can_read, can_write;
	uint16_t mount;
	int fd;                   /* O_PATH for nodes; opened for I/O for files */
	int rfd;                  /* directories: an O_RDONLY descriptor for getdents64, opened on first READDIR */
	int closing;              /* the guest closed it: unusable, closed when no request in flight uses it */
	unsigned inflight;        /* queued io_uring operations that name fd: it stays open until they end */
	uint64_t mnt_id;          /* the host mount it is on (STATX_MNT_ID, or st_dev where that is missing) */
};

struct hmount {
	struct mount_spec spec;
	uint32_t root;
	uint64_t written;         /* bytes written or reserved by writes in flight, against spec.max_bytes */
};

struct hostfs {
	unsigned nmounts;
	int procfd;               /* /proc/self/fd (O_PATH): reopens a checked O_PATH descriptor for I/O */
	struct hmount m[LBVM_MOUNTS_MAX];
	struct handle h[LBVM_H_MAX];
	unsigned hint;            /* where the search for a free slot starts */
};

/*
 * The one path string the VMM passes to a path system call after setup:
 * READLINK and SETATTR act on a handle's own descriptor (AT_EMPTY_PATH), and
 * the seccomp filter allows readlinkat, fchmodat2 and utimensat only with
 * this pointer. It lives in read-only memory.
 */
const char hostfs_empty_path[1] = "";

const uint8_t hostfs_uring_ops[] = {
	IORING_OP_OPENAT2, IORING_OP_STATX, IORING_OP_FSYNC, IORING_OP_FALLOCATE,
	IORING_OP_MKDIRAT, IORING_OP_UNLINKAT, IORING_OP_RENAMEAT, IORING_OP_SYMLINKAT, IORING_OP_LINKAT,
};
const unsigned hostfs_uring_nops = sizeof(hostfs_uring_ops);

/* ---- the command line ---- */

/* A guest path for a mount: absolute, canonical, not / and not over the kernel's own trees. */
static int guest_path_ok(const char *p)
{
	if (p[0] != '/' || !p[1])
		return 0;
	for (const char *s = p; *s; s++) {
		if (*s != '/')
			continue;
		const char *c = s + 1;
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
	}
	static const char *const reserved[] = { "/proc", "/dev" };
	for (unsigned i = 0; i < 2; i++) {
		size_t n = strlen(reserved[i]);
		if (!strncmp(p, reserved[i], n) && (p[n] == 0 || p[n] == '/'))
			return 0;
	}
	return 1;
}

int hostfs_parse_spec(const char *arg, struct mount_spec *out)
{
	memset(out, 0, sizeof(*out));
	out->arg = arg;
	char buf[8192];
	if (strlen(arg) >= sizeof(buf)) {
		log_err("--mount %.40s...: too long", arg);
		return -1;
	}
	strcpy(buf, arg);
	char *save = NULL, *host = strtok_r(buf, ":", &save), *guest = strtok_r(NULL, ":", &save);
	if (!host || !guest) {
		log_err("--mount %s: expected HOSTDIR:GUESTDIR[:ro|:rw][:xdev][:max=SIZE]", arg);
		return -1;
	}
	if (strlen(host) >= sizeof(out->host)) {
		log_err("--mount %s: the host directory's path is too long", arg);
		return -1;
	}
	strcpy(out->host, host);
	if (strlen(guest) >= sizeof(out->guest) || !guest_path_ok(guest)) {
		log_err("--mount %s: the guest directory '%s' must be an absolute path without '.', '..' or '//', "
			"shorter than %zu bytes, and not /, /proc or /dev",
			arg, guest, sizeof(out->guest));
		return -1;
	}
	strcpy(out->guest, guest);
	out->ro = 1;
	for (char *opt; (opt = strtok_r(NULL, ":", &save));) {
		if (!strcmp(opt, "ro")) {
			out->ro = 1;
		} else if (!strcmp(opt, "rw")) {
			out->ro = 0;
		} else if (!strcmp(opt, "xdev")) {
			out->xdev = 1;
		} else if (!strncmp(opt, "max=", 4)) {
			if (size_parse(opt + 4, &out->max_bytes) || out->max_bytes == 0) {
				log_err("--mount %s: max=%s is not a size; use e.g. max=1G", arg, opt + 4);
				return -1;
			}
		} else {
			log_err("--mount %s: unknown option '%s'; the options are ro, rw, xdev and max=SIZE", arg, opt);
			return -1;
		}
	}
	return 0;
}

/* ---- handles ---- */

static uint32_t handle_alloc(struct hostfs *hf, int fd, int kind, uint16_t mount)
{
	for (unsigned k = 0; k < LBVM_H_MAX; k++) {
		unsigned i = (hf->hint + k) % LBVM_H_MAX;
		if (hf->h[i].kind == HK_FREE) {
			hf->h[i] = (struct handle){ .kind = (uint8_t)kind, .mount = mount, .fd = fd, .rfd = -1 };
			hf->hint = i + 1;
			return i + LBVM_H_FIRST_HOST;
		}
	}
	return 0;
}

static struct handle *handle_get(struct hostfs *hf, uint32_t h)
{
	if (h < LBVM_H_FIRST_HOST || h - LBVM_H_FIRST_HOST >= LBVM_H_MAX)
		return NULL;
	struct handle *p = &hf->h[h - LBVM_H_FIRST_HOST];
	return p->kind == HK_FREE || p->closing ? NULL : p;
}

static void handle_free(struct hostfs *hf, uint32_t h)
{
	struct handle *p = &hf->h[h - LBVM_H_FIRST_HOST];
	close(p->fd);
	if (p->rfd >= 0)
		close(p->rfd);
	memset(p, 0, sizeof(*p));
}

/*
 * A queued operation holds the descriptors it names: a CLOSE in the
 * meantime only marks the handle, so that the number cannot be reused for
 * another directory (of another mount) before the operation has run.
 */
static void hold(struct hostfs *hf, const struct hostreq *r)
{
	hf->h[r->handle - LBVM_H_FIRST_HOST].inflight++;
	if (r->other)
		hf->h[r->other - LBVM_H_FIRST_HOST].inflight++;
}

static void unhold_one(struct hostfs *hf, uint32_t handle)
{
	struct handle *p = &hf->h[handle - LBVM_H_FIRST_HOST];
	if (--p->inflight == 0 && p->closing)
		handle_free(hf, handle);
}

static void unhold(struct hostfs *hf, const struct hostreq *r)
{
	unhold_one(hf, r->handle);
	if (r->other)
		unhold_one(hf, r->other);
}

/* Which host mount a statx result is on: the mount id, or the device where the kernel gave none. */
static uint64_t stx_mount(const struct statx *x)
{
	if (x->stx_mask & STATX_MNT_ID)
		return x->stx_mnt_id;
	return (1ull << 63) | ((uint64_t)x->stx_dev_major << 32) | x->stx_dev_minor;
}

int hostfs_open(const struct mount_spec *specs, unsigned n, struct hostfs **out)
{
	if (n > LBVM_MOUNTS_MAX) {
		log_err("--mount: at most %u mounts", LBVM_MOUNTS_MAX);
		return -1;
	}
	struct hostfs *hf = calloc(1, sizeof(*hf));
	if (!hf) {
		log_err("out of memory for the mount table");
		return -1;
	}
	/* OPEN reopens, through here, a descriptor whose type it has checked: it never opens by name. */
	hf->procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (hf->procfd < 0) {
		log_err("--mount: cannot open /proc/self/fd: %s; lbvm needs /proc mounted to serve host directories",
			strerror(errno));
		free(hf);
		return -1;
	}
	/* Every handle is a descriptor: make room for all of them. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < LBVM_H_MAX + 256) {
		rl.rlim_cur = rl.rlim_max < LBVM_H_MAX + 256 ? rl.rlim_max : LBVM_H_MAX + 256;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (unsigned i = 0; i < n; i++) {
		for (unsigned j = 0; j < i; j++) {
			if (!strcmp(specs[i].guest, specs[j].guest)) {
				log_err("--mount %s: %s is already the guest directory of --mount %s", specs[i].arg,
					specs[i].guest, specs[j].arg);
				free(hf);
				return -1;
			}
		}
		int fd = open(specs[i].host, O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct statx x;
		if (fd < 0 || statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID, &x) < 0) {
			log_err("--mount %s: cannot open the host directory %s: %s; give an existing directory",
				specs[i].arg, specs[i].host, strerror(errno));
			if (fd >= 0)
				close(fd);
			hf->nmounts = i;
			hostfs_close(hf);
			return -1;
		}
		hf->m[i].spec = specs[i];
		hf->m[i].root = handle_alloc(hf, fd, HK_NODE, (uint16_t)i);
		struct handle *root = &hf->h[hf->m[i].root - LBVM_H_FIRST_HOST];
		root->is_dir = 1;
		root->mnt_id = stx_mount(&x);
	}
	hf->nmounts = n;
	*out = hf;
	return 0;
}

void hostfs_close(struct hostfs *hf)
{
	if (!hf)
		return;
	for (unsigned i = 0; i < LBVM_H_MAX; i++)
		if (hf->h[i].kind != HK_FREE)
			handle_free(hf, i + LBVM_H_FIRST_HOST);
	close(hf->procfd);
	free(hf);
}

unsigned hostfs_count(const struct hostfs *hf)
{
	return hf ? hf->nmounts : 0;
}

const char *hostfs_root_path(const struct hostfs *hf, unsigned i)
{
	return hf->m[i].spec.host;
}

/* The very directory the guest's handles descend from, not its path again (which could now name another). */
int hostfs_root_fd(const struct hostfs *hf, unsigned i)
{
	return hf->h[hf->m[i].root - LBVM_H_FIRST_HOST].fd;
}

int hostfs_readonly(const struct hostfs *hf, unsigned i)
{
	return hf->m[i].spec.ro;
}

void hostfs_fill_table(const struct hostfs *hf, struct lbvm_mount *tab)
{
	for (unsigned i = 0; i < hostfs_count(hf); i++) {
		memset(&tab[i], 0, sizeof(tab[i]));
		tab[i].root = hf->m[i].root;
		tab[i].flags = hf->m[i].spec.ro ? LBVM_MOUNT_RO : 0;
		tab[i].dev = 0x800 + i;
		strcpy(tab[i].path, hf->m[i].spec.guest);
	}
}

/* ---- requests ---- */

static struct io_uring_sqe *sqe_get(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

/* One path component: 1..255 bytes, no '/' or NUL, not "." or "..". Copied NUL-terminated into out. */
static int name_ok(const uint8_t *p, size_t n, char out[256])
{
	if (n == 0 || n > 255)
		return 0;
	memcpy(out, p, n); /* guest memory is read once: the checks below look at the copy */
	out[n] = 0;
	if ((n == 1 && out[0] == '.') || (n == 2 && out[0] == '.' && out[1] == '.'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (out[i] == '/' || out[i] == 0)
			return 0;
	return 1;
}

/* "A\0B" in the in-buffer: two components (or, for SYMLINK, a target and a component). */
static int two_ok(const struct hostreq *r, char *a, size_t asize, char b[256], int a_is_target)
{
	uint8_t copy[4096 + 1 + 256];
	if (r->inlen > sizeof(copy))
		return 0;
	memcpy(copy, r->in, r->inlen); /* read once; split and check the copy */
	const uint8_t *nul = memchr(copy, 0, r->inlen);
	if (!nul)
		return 0;
	size_t alen = (size_t)(nul - copy), blen = r->inlen - alen - 1;
	if (a_is_target) {
		if (alen == 0 || alen >= asize)
			return 0;
		memcpy(a, copy, alen);
		a[alen] = 0;
	} else if (!name_ok(copy, alen, a)) {
		return 0;
	}
	return name_ok(nul + 1, blen, b);
}

static uint64_t resolve_flags(const struct hostfs *hf, const struct handle *d)
{
	uint64_t f = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
	if (!hf->m[d->mount].spec.xdev)
		f |= RESOLVE_NO_XDEV;
	return f;
}

/*
 * The one place that gives an io_uring path operation its directory
 * descriptor. The base is one of three, and the name must fit it:
 *   AT_DIR:    a live directory handle of this table, with one component
 *              (or "." for the directory itself);
 *   AT_SELF:   a live handle, or the request's own new or O_PATH descriptor, with "";
 *   AT_REOPEN: /proc/self/fd, with the number of the request's own O_PATH
 *              descriptor, whose type OPEN has checked (the name is made here).
 * No operation ever starts at AT_FDCWD or from an absolute path. A mismatch
 * is a bug in this file; the request then fails with EIO and nothing runs.
 */
enum at_base { AT_DIR, AT_SELF, AT_REOPEN };

static int at_fd(struct hostfs *hf, struct hostreq *r, enum at_base base, const struct handle *h, const char **name)
{
	int live = h && h >= hf->h && h < hf->h + LBVM_H_MAX && h->kind != HK_FREE && h->fd >= 0;
	switch (base) {
	case AT_DIR:
		if (!live || !h->is_dir || !(*name)[0] || (strcmp(*name, ".") && !name_ok((const uint8_t *)*name, strlen(*name), (char[256]){ 0 })))
			break;
		return h->fd;
	case AT_SELF:
		if ((*name)[0])
			break;
		if (!h) /* the request's own descriptor: it holds one at a time */
			return r->newfd >= 0 ? r->newfd : r->pathfd >= 0 ? r->pathfd : -1;
		return live ? h->fd : -1;
	case AT_REOPEN:
		if (r->pathfd < 0)
			break;
		snprintf(r->fdname, sizeof(r->fdname), "%d", r->pathfd);
		*name = r->fdname;
		return hf->procfd;
	}
	log_err("internal error: hostfs op %u named a path outside its handles; refused", r->op);
	return -1;
}

static int done(struct hostreq *r, int64_t result)
{
	r->result = result;
	return 0;
}

static int prep_statx(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *r, enum at_base base,
		      const struct handle *h, const char *path)
{
	int dfd = at_fd(hf, r, base, h, &path);
	if (dfd < 0)
		return done(r, -EIO);
	struct io_uring_sqe *sqe = sqe_get(ring);
	io_uring_prep_statx(sqe, dfd, path, AT_SYMLINK_NOFOLLOW | (path[0] ? 0 : AT_EMPTY_PATH),
			    STATX_BASIC_STATS | STATX_MNT_ID, &r->stx);
	io_uring_sqe_set_data64(sqe, tag);
	return 1;
}

static int prep_openat2(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *r, enum at_base base,
			const struct handle *h, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	int dfd = at_fd(hf, r, base, h, &path);
	if (dfd < 0)
		return done(r, -EIO);
	r->how = (struct open_how){ .flags = flags, .mode = mode, .resolve = resolve };
	struct io_uring_sqe *sqe = sqe_get(ring);
	io_uring_prep_openat2(sqe, dfd, path, &r->how);
	io_uring_sqe_set_data64(sqe, tag);
	return 1;
}

static void fill_attr(struct hostreq *r, uint32_t handle)
{
	struct lbvm_io_attr a;
	const struct statx *x = &r->stx;
	memset(&a, 0, sizeof(a));
	a.handle = handle;
	a.mode = x->stx_mode;
	a.ino = x->stx_ino;
	a.size = x->stx_size;
	a.blocks = x->stx_blocks;
	a.nlink = x->stx_nlink;
	a.rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
	a.uid = x->stx_uid;
	a.gid = x->stx_gid;
	a.atime = x->stx_atime.tv_sec;
	a.atime_ns = x->stx_atime.tv_nsec;
	a.mtime = x->stx_mtime.tv_sec;
	a.mtime_ns = x->stx_mtime.tv_nsec;
	a.ctime = x->stx_ctime.tv_sec;
	a.ctime_ns = x->stx_ctime.tv_nsec;
	a.blksize = x->stx_blksize;
	memcpy(r->out, &a, sizeof(a));
	r->written = sizeof(a);
}

/* The operations that change a mount: refused on a read-only one. */
static int is_write_op(const struct hostreq *r)
{
	switch (r->op) {
	case LBVM_IO_WRITE:
	case LBVM_IO_MKDIR:
	case LBVM_IO_UNLINK:
	case LBVM_IO_RENAME:
	case LBVM_IO_SYMLINK:
	case LBVM_IO_LINK:
	case LBVM_IO_SETATTR:
	case LBVM_IO_FALLOCATE:
		return 1;
	case LBVM_IO_OPEN:
		return (r->open_flags & (LBVM_OPEN_WRITE | LBVM_OPEN_CREATE | LBVM_OPEN_TRUNC)) != 0;
	default:
		return 0;
	}
}

/* Count len bytes against the mount's cap; 0, or -EDQUOT. */
static int reserve(struct hostfs *hf, struct hostreq *r, const struct handle *h, uint64_t len)
{
	struct hmount *m = &hf->m[h->mount];
	if (m->spec.max_bytes && (len > m->spec.max_bytes || m->written > m->spec.max_bytes - len))
		return -EDQUOT;
	m->written += len;
	r->reserved = len;
	return 0;
}

/* Give back what a WRITE or FALLOCATE reserved and did not use (used: bytes it did write, 0 on failure). */
static void refund(struct hostfs *hf, struct hostreq *r, const struct handle *h, uint64_t used)
{
	struct hmount *m = &hf->m[h->mount];
	uint64_t back = used < r->reserved ? r->reserved - used : 0;
	m->written = back < m->written ? m->written - back : 0;
	r->reserved = 0;
}

static int64_t do_setattr(struct hostreq *r, struct handle *h)
{
	struct lbvm_io_setattr sa;
	if (r->inlen != sizeof(sa))
		return -EINVAL;
	memcpy(&sa, r->in, sizeof(sa));
	if (sa.valid & ~(LBVM_SETATTR_MODE | LBVM_SETATTR_OWNER | LBVM_SETATTR_SIZE | LBVM_SETATTR_ATIME | LBVM_SETATTR_MTIME))
		return -EINVAL;
	if (sa.valid & LBVM_SETATTR_SIZE) {
		if (h->kind != HK_FILE || !h->can_write)
			return -EBADF;
		if (sa.size > (uint64_t)INT64_MAX)
			return -EFBIG;
		if (ftruncate(h->fd, (off_t)sa.size) < 0)
			return -errno;
	}
	if (sa.valid & LBVM_SETATTR_MODE) {
		/* No set-user-ID or set-group-ID bits on the host: a guest could leave a setuid program behind. */
		uint32_t mode = sa.mode & 01777;
		long rc = h->kind == HK_FILE ? fchmod(h->fd, mode)
					     : syscall(SYS_fchmodat2, h->fd, hostfs_empty_path, mode, AT_EMPTY_PATH);
		if (rc < 0)
			return -errno;
	}
	if (sa.valid & LBVM_SETATTR_OWNER) {
		/* Ownership on the host stays what the VMM's user made it: only a change to the same owner passes. */
		struct stat st;
		if (syscall(SYS_fstat, h->fd, &st) < 0) /* fstat proper: glibc's fstat is a path call (newfstatat) */
			return -errno;
		if ((sa.uid != UINT32_MAX && sa.uid != st.st_uid) || (sa.gid != UINT32_MAX && sa.gid != st.st_gid))
			return -EPERM;
	}
	if (sa.valid & (LBVM_SETATTR_ATIME | LBVM_SETATTR_MTIME)) {
		struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
		if (sa.valid & LBVM_SETATTR_ATIME)
			ts[0] = sa.atime == LBVM_TIME_NOW ? (struct timespec){ 0, UTIME_NOW }
							  : (struct timespec){ sa.atime, sa.atime_ns % 1000000000u };
		if (sa.valid & LBVM_SETATTR_MTIME)
			ts[1] = sa.mtime == LBVM_TIME_NOW ? (struct timespec){ 0, UTIME_NOW }
							  : (struct timespec){ sa.mtime, sa.mtime_ns % 1000000000u };
		if (utimensat(h->fd, hostfs_empty_path, ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	return 0;
}

/* READDIR once the directory has a readable descriptor (opened through io_uring, below the handle). */
static int64_t do_readdir(struct hostreq *r, struct handle *h)
{
	if (r->offset > (uint64_t)INT64_MAX || lseek(h->rfd, (off_t)r->offset, SEEK_SET) < 0)
		return -EINVAL;
	long n = syscall(SYS_getdents64, h->rfd, r->out, r->outlen);
	if (n < 0)
		return -errno;
	r->written = (uint32_t)n;
	return n;
}

/* OPEN's stages: never open by name anything but a new file; an existing one is reopened once its type is seen. */
enum { OPEN_PATH, OPEN_LOOK, OPEN_REOPEN, OPEN_CREATE, OPEN_CHECK };

/* Open flags for the host descriptor the guest will read or write through. */
static uint64_t open_io_flags(unsigned f)
{
	uint64_t flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	flags |= (f & LBVM_OPEN_READ) && (f & LBVM_OPEN_WRITE) ? O_RDWR : (f & LBVM_OPEN_WRITE) ? O_WRONLY : O_RDONLY;
	if (f & LBVM_OPEN_TRUNC)
		flags |= O_TRUNC;
	return flags;
}

/*
 * O_CREAT | O_EXCL: makes a new regular file or fails; it never opens what
 * is already there, so nothing can be swapped in under it.
 */
static int open_create(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *r, const struct handle *dir)
{
	r->stage = OPEN_CREATE;
	return prep_openat2(hf, ring, tag, r, AT_DIR, dir, r->name,
			    open_io_flags(r->open_flags) | O_CREAT | O_EXCL | O_NOFOLLOW, (r->arg >> 32) & 0777,
			    resolve_flags(hf, dir));
}

/* The first stage: an O_PATH descriptor of what the name is now, which opens nothing (no FIFO or device open). */
static int open_path(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *r, const struct handle *dir)
{
	r->stage = OPEN_PATH;
	return prep_openat2(hf, ring, tag, r, AT_DIR, dir, r->name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
			    resolve_flags(hf, dir));
}

static int step(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *r, int res);

static int start(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *r)
{
	struct handle *h = handle_get(hf, r->handle);
	if (!h)
		return done(r, -EBADF);
	struct hmount *m = &hf->m[h->mount];
	if (r->op == LBVM_IO_OPEN)
		r->open_flags = (unsigned)r->arg;
	if (is_write_op(r) && m->spec.ro)
		return done(r, -EROFS);
	int need_dir = r->op == LBVM_IO_LOOKUP || r->op == LBVM_IO_OPEN || r->op == LBVM_IO_MKDIR ||
		       r->op == LBVM_IO_UNLINK || r->op == LBVM_IO_RENAME || r->op == LBVM_IO_SYMLINK ||
		       r->op == LBVM_IO_LINK || r->op == LBVM_IO_READDIR || r->op == LBVM_IO_STATAT;
	if (need_dir && (h->kind != HK_NODE || !h->is_dir))
		return done(r, -ENOTDIR);
	struct io_uring_sqe *sqe;
	const char *name = r->name, *name2 = r->name2;
	int dfd, dfd2;
	switch (r->op) {
	case LBVM_IO_LOOKUP:
		if (!name_ok(r->in, r->inlen, r->name) || r->outlen != sizeof(struct lbvm_io_attr))
			return done(r, -EINVAL);
		return prep_openat2(hf, ring, tag, r, AT_DIR, h, r->name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
				    resolve_flags(hf, h));
	case LBVM_IO_OPEN: {
		unsigned f = r->open_flags;
		if ((r->arg >> 32) > 07777 || (f & ~(LBVM_OPEN_READ | LBVM_OPEN_WRITE | LBVM_OPEN_CREATE | LBVM_OPEN_EXCL | LBVM_OPEN_TRUNC)) ||
		    !(f & (LBVM_OPEN_READ | LBVM_OPEN_WRITE)) || ((f & LBVM_OPEN_EXCL) && !(f & LBVM_OPEN_CREATE)))
			return done(r, -EINVAL);
		if (!name_ok(r->in, r->inlen, r->name) || r->outlen != sizeof(struct lbvm_io_attr))
			return done(r, -EINVAL);
		if ((f & LBVM_OPEN_CREATE) && (f & LBVM_OPEN_EXCL))
			return open_create(hf, ring, tag, r, h);
		return open_path(hf, ring, tag, r, h);
	}
	case LBVM_IO_CLOSE:
		if (r->handle == m->root)
			return done(r, -EPERM); /* a mount's root stays for the VM's life */
		h->closing = 1;
		if (!h->inflight)
			handle_free(hf, r->handle);
		return done(r, 0);
	case LBVM_IO_GETATTR:
		if (r->outlen != sizeof(struct lbvm_io_attr))
			return done(r, -EINVAL);
		return prep_statx(hf, ring, tag, r, AT_SELF, h, "");
	case LBVM_IO_STATAT:
		/* One component below a directory handle, never followed: it cannot name anything outside. */
		if (!name_ok(r->in, r->inlen, r->name) || r->outlen != sizeof(struct lbvm_io_attr))
			return done(r, -EINVAL);
		return prep_statx(hf, ring, tag, r, AT_DIR, h, r->name);
	case LBVM_IO_READ:
		if (h->kind != HK_FILE || !h->can_read)
			return done(r, -EBADF);
		if (r->offset > (uint64_t)INT64_MAX - LBVM_IO_MAX_LEN)
			return done(r, -EINVAL);
		sqe = sqe_get(ring);
		io_uring_prep_read(sqe, h->fd, r->out, r->outlen, r->offset);
		io_uring_sqe_set_data64(sqe, tag);
		return 1;
	case LBVM_IO_WRITE: {
		if (h->kind != HK_FILE || !h->can_write)
			return done(r, -EBADF);
		if (r->offset > (uint64_t)INT64_MAX - LBVM_IO_MAX_LEN)
			return done(r, -EFBIG);
		int err = reserve(hf, r, h, r->inlen);
		if (err)
			return done(r, err);
		sqe = sqe_get(ring);
		io_uring_prep_write(sqe, h->fd, r->in, r->inlen, r->offset);
		io_uring_sqe_set_data64(sqe, tag);
		return 1;
	}
	case LBVM_IO_READDIR:
		if (h->rfd >= 0)
			return done(r, do_readdir(r, h));
		/* getdents needs a readable descriptor: "." below the handle, opened once, kept with it. */
		return prep_openat2(hf, ring, tag, r, AT_DIR, h, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
				    resolve_flags(hf, h));
	case LBVM_IO_READLINK: {
		long n = readlinkat(h->fd, hostfs_empty_path, (char *)r->out, r->outlen);
		if (n < 0)
			return done(r, -errno);
		r->written = (uint32_t)n;
		return done(r, n);
	}
	case LBVM_IO_MKDIR:
		if (!name_ok(r->in, r->inlen, r->name) || r->arg > 07777)
			return done(r, -EINVAL);
		if ((dfd = at_fd(hf, r, AT_DIR, h, &name)) < 0)
			return done(r, -EIO);
		sqe = sqe_get(ring);
		io_uring_prep_mkdirat(sqe, dfd, name, (mode_t)(r->arg & 01777));
		io_uring_sqe_set_data64(sqe, tag);
		return 1;
	case LBVM_IO_UNLINK:
		if (!name_ok(r->in, r->inlen, r->name) || (r->arg & ~(uint64_t)LBVM_UNLINK_DIR))
			return done(r, -EINVAL);
		if ((dfd = at_fd(hf, r, AT_DIR, h, &name)) < 0)
			return done(r, -EIO);
		sqe = sqe_get(ring);
		io_uring_prep_unlinkat(sqe, dfd, name, (r->arg & LBVM_UNLINK_DIR) ? AT_REMOVEDIR : 0);
		io_uring_sqe_set_data64(sqe, tag);
		return 1;
	case LBVM_IO_RENAME:
	case LBVM_IO_LINK: {
		uint32_t flags = (uint32_t)(r->arg >> 32);
		struct handle *nd = handle_get(hf, (uint32_t)r->arg);
		if (!two_ok(r, r->name, sizeof(r->name), r->name2, 0))
			return done(r, -EINVAL);
		if (!nd)
			return done(r, -EBADF);
		if (nd->kind != HK_NODE || !nd->is_dir)
			return done(r, -ENOTDIR);
		if (nd->mount != h->mount)
			return done(r, -EXDEV); /* a handle of another mount */
		r->other = (uint32_t)r->arg;
		if (r->op == LBVM_IO_LINK ? flags != 0 : (flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE)))
			return done(r, -EINVAL);
		if ((dfd = at_fd(hf, r, AT_DIR, h, &name)) < 0 || (dfd2 = at_fd(hf, r, AT_DIR, nd, &name2)) < 0)
			return done(r, -EIO);
		sqe = sqe_get(ring);
		if (r->op == LBVM_IO_RENAME)
			io_uring_prep_renameat(sqe, dfd, name, dfd2, name2, flags);
		else
			io_uring_prep_linkat(sqe, dfd, name, dfd2, name2, 0);
		io_uring_sqe_set_data64(sqe, tag);
		return 1;
	}
	case LBVM_IO_SYMLINK:
		/* The target is only stored: the host never resolves it (RESOLVE_NO_SYMLINKS everywhere). */
		if (!two_ok(r, r->target, sizeof(r->target), r->name, 1))
			return done(r, -EINVAL);
		if ((dfd = at_fd(hf, r, AT_DIR, h, &name)) < 0)
			return done(r, -EIO);
		sqe = sqe_get(ring);
		io_uring_prep_symlinkat(sqe, r->target, dfd, name);
		io_uring_sqe_set_data64(sqe, tag);
		return 1;
	case LBVM_IO_SETATTR:
		return done(r, do_setattr(r, h));
	case LBVM_IO_FSYNC:
		if (h->kind != HK_FILE)
			return done(r, 0);
		sqe = sqe_get(ring);
		io_uring_prep_fsync(sqe, h->fd, 0);
		io_uring_sqe_set_data64(sqe, tag);
		return 1;
	case LBVM_IO_FALLOCATE: {
		if (h->kind != HK_FILE || !h->can_write)
			return done(r, -EBADF);
		if (r->offset > (uint64_t)INT64_MAX || r->arg == 0 || r->arg > (uint64_t)INT64_MAX - r->offset)
			return done(r, -EINVAL);
		/* Count the whole range against the cap: an upper bound of what it allocates; refunded if it fails. */
		int err = reserve(hf, r, h, r->arg);
		if (err)
			return done(r, err);
		sqe = sqe_get(ring);
		io_uring_prep_fallocate(sqe, h->fd, 0, r->offset, r->arg);
		io_uring_sqe_set_data64(sqe, tag);
		return 1;
	}
	case LBVM_IO_STATFS: {
		struct statfs sf;
		if (r->outlen != sizeof(struct lbvm_io_statfs))
			return done(r, -EINVAL);
		if (fstatfs(h->fd, &sf) < 0)
			return done(r, -errno);
		struct lbvm_io_statfs o = { (uint64_t)sf.f_type, (uint64_t)sf.f_bsize, sf.f_blocks, sf.f_bfree,
					    sf.f_bavail, sf.f_files, sf.f_ffree, (uint64_t)sf.f_namelen };
		memcpy(r->out, &o, sizeof(o));
		r->written = sizeof(o);
		return done(r, 0);
	}
	default:
		return done(r, -ENOSYS);
	}
}

int hostfs_start(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *r)
{
	r->newfd = -1;
	r->pathfd = -1;
	r->stage = 0;
	r->retries = 0;
	r->written = 0;
	r->other = 0;
	r->reserved = 0;
	int queued = start(hf, ring, tag, r);
	if (queued)
		hold(hf, r);
	return queued;
}

int hostfs_step(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *r, int res)
{
	int more = step(hf, ring, tag, r, res);
	if (!more)
		unhold(hf, r);
	return more;
}

/*
 * The last stage of LOOKUP and OPEN (res: statx's result): the descriptor
 * becomes a handle and its attributes the answer, or it is closed.
 */
static struct handle *adopt(struct hostfs *hf, struct hostreq *r, int res, int kind, uint16_t mount)
{
	uint32_t nh = 0;
	if (res == 0) {
		nh = handle_alloc(hf, r->newfd, kind, mount);
		res = nh ? 0 : -ENFILE;
	}
	if (res < 0) {
		close(r->newfd);
		r->newfd = -1;
		done(r, res);
		return NULL;
	}
	r->newfd = -1; /* the handle owns it now */
	fill_attr(r, nh);
	done(r, 0);
	struct handle *n = &hf->h[nh - LBVM_H_FIRST_HOST];
	n->mnt_id = stx_mount(&r->stx);
	return n;
}

/* Close the request's O_PATH descriptor once it is of no more use. */
static void drop_pathfd(struct hostreq *r)
{
	if (r->pathfd >= 0)
		close(r->pathfd);
	r->pathfd = -1;
}

static int step_open(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *r, struct handle *dir, int res)
{
	switch (r->stage) {
	case OPEN_PATH:
		if (res == -ENOENT && (r->open_flags & LBVM_OPEN_CREATE))
			return open_create(hf, ring, tag, r, dir);
		if (res < 0)
			return done(r, res);
		r->pathfd = res;
		r->stage = OPEN_LOOK;
		return prep_statx(hf, ring, tag, r, AT_SELF, NULL, "") || (drop_pathfd(r), 0);
	case OPEN_LOOK:
		if (res == 0 && S_ISDIR(r->stx.stx_mode))
			res = -EISDIR;
		else if (res == 0 && S_ISLNK(r->stx.stx_mode))
			res = -ELOOP;
		else if (res == 0 && !S_ISREG(r->stx.stx_mode))
			res = -EACCES; /* a FIFO, socket or device: never opened for the guest */
		if (res < 0) {
			drop_pathfd(r);
			return done(r, res);
		}
		/* The same inode, now known to be a regular file: whatever the name points to by now. */
		r->stage = OPEN_REOPEN;
		return prep_openat2(hf, ring, tag, r, AT_REOPEN, NULL, NULL, open_io_flags(r->open_flags), 0, 0) ||
		       (drop_pathfd(r), 0);
	case OPEN_REOPEN:
		drop_pathfd(r);
		if (res >= 0 && !(r->open_flags & LBVM_OPEN_TRUNC)) {
			/* The same inode the look saw, unchanged by the open: its attributes are the answer. */
			r->newfd = res;
			r->stage = OPEN_CHECK;
			return step_open(hf, ring, tag, r, dir, 0);
		}
		/* fall through */
	case OPEN_CREATE:
		if (res == -EEXIST && r->stage == OPEN_CREATE && !(r->open_flags & LBVM_OPEN_EXCL) && r->retries++ < 3)
			return open_path(hf, ring, tag, r, dir); /* made by someone else meanwhile: open what is there */
		if (res < 0)
			return done(r, res);
		r->newfd = res;
		r->stage = OPEN_CHECK;
		if (!prep_statx(hf, ring, tag, r, AT_SELF, NULL, "")) {
			close(r->newfd);
			r->newfd = -1;
			return 0;
		}
		return 1;
	default: {
		if (res == 0 && !S_ISREG(r->stx.stx_mode))
			res = -EACCES; /* cannot happen (the inode was checked); kept as the last word */
		struct handle *n = adopt(hf, r, res, HK_FILE, dir->mount);
		if (n) {
			n->can_read = (r->open_flags & LBVM_OPEN_READ) != 0;
			n->can_write = (r->open_flags & LBVM_OPEN_WRITE) != 0;
		}
		return 0;
	}
	}
}

static int step(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *r, int res)
{
	struct handle *h = &hf->h[r->handle - LBVM_H_FIRST_HOST];
	switch (r->op) {
	case LBVM_IO_LOOKUP:
		if (r->stage == 0) {
			if (res < 0)
				return done(r, res);
			r->newfd = res;
			r->stage = 1;
			if (!prep_statx(hf, ring, tag, r, AT_SELF, NULL, "")) {
				close(r->newfd);
				r->newfd = -1;
				return 0;
			}
			return 1;
		} else {
			struct handle *n = adopt(hf, r, res, HK_NODE, h->mount);
			if (n)
				n->is_dir = S_ISDIR(r->stx.stx_mode);
			return 0;
		}
	case LBVM_IO_OPEN:
		return step_open(hf, ring, tag, r, h, res);
	case LBVM_IO_READDIR:
		if (res < 0)
			return done(r, res);
		if (h->rfd >= 0)
			close(res); /* another READDIR opened it first */
		else
			h->rfd = res;
		return done(r, do_readdir(r, h));
	case LBVM_IO_STATAT:
		/* statx crosses into a file system mounted on the name; openat2 would not, without :xdev. */
		if (res == 0 && !hf->m[h->mount].spec.xdev && stx_mount(&r->stx) != h->mnt_id)
			res = -EXDEV;
		/* fall through */
	case LBVM_IO_GETATTR:
		if (res == 0)
			fill_attr(r, 0);
		return done(r, res);
	case LBVM_IO_READ:
		if (res > 0)
			r->written = (uint32_t)res;
		return done(r, res);
	case LBVM_IO_WRITE:
	case LBVM_IO_FALLOCATE:
		/* What was not written does not count against the cap; a failed FALLOCATE counts nothing. */
		if (r->op == LBVM_IO_WRITE)
			refund(hf, r, h, res > 0 ? (uint64_t)res : 0);
		else
			refund(hf, r, h, res == 0 ? r->reserved : 0);
		return done(r, res);
	default:
		return done(r, res);
	}
}
