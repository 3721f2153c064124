/* vfs.h: vnodes, open files, file descriptors and path resolution, over the image and the synthetic trees. */
#ifndef GUEST_VFS_H
#define GUEST_VFS_H

#include "guest/lib/erofs.h"
#include "kernel/kernel.h"
#include "hostfs.h"

#define S_IFMT   0170000
#define S_IFSOCK 0140000
#define S_IFLNK  0120000
#define S_IFREG  0100000
#define S_IFBLK  0060000
#define S_IFDIR  0040000
#define S_IFCHR  0020000
#define S_IFIFO  0010000
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)

#define O_ACCMODE  3
#define O_RDONLY   0
#define O_WRONLY   1
#define O_RDWR     2
#define O_CREAT    0100
#define O_EXCL     0200
#define O_NOCTTY   0400
#define O_TRUNC    01000
#define O_APPEND   02000
#define O_NONBLOCK 04000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define O_CLOEXEC  02000000
#define O_PATH     010000000

#define PATH_MAX 4096
#define NAME_MAX 255
#define SYMLOOP_MAX 40
#define NFD 1024

struct vnode;
struct file;

struct kstat {
	uint64_t dev, ino, nlink, rdev, size, blocks;
	uint32_t mode, uid, gid, blksize;
	int64_t mtime, mtime_nsec;
};

/* Linux getdents64 record header; the name follows. */
struct dirent64_k {
	uint64_t ino;
	int64_t off;
	uint16_t reclen;
	uint8_t type;
	char name[];
};

struct vnode_ops {
	long (*read)(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off);      /* into user memory */
	long (*write)(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off);     /* from user memory */
	int (*lookup)(struct vnode *dir, const char *name, size_t len, struct vnode **out);
	/* Next entry at cursor *pos: 1 and fills name/ino/type, 0 at the end, or -errno. */
	int (*readdir)(struct vnode *dir, uint64_t *pos, char *name, size_t size, uint64_t *ino, uint8_t *type);
	long (*readlink)(struct vnode *vn, char *buf, size_t size);
	long (*kread)(struct vnode *vn, void *buf, uint64_t len, uint64_t off);       /* into kernel memory (mmap, exec) */
	void (*getattr)(struct vnode *vn, struct kstat *st);
	/* Guest-physical address of file page off (4 KiB aligned), if it can be mapped as it is; else 0. */
	uint64_t (*page_gpa)(struct vnode *vn, uint64_t off);
	/*
	 * Shared mappings (MAP_SHARED): the file's own page at off (4 KiB
	 * aligned), which the file system keeps (the mapping takes a reference
	 * of its own), or 0 when memory is short. write: the mapping may write
	 * it. NULL: the file cannot be mapped shared and writable.
	 */
	uint64_t (*share_page)(struct vnode *vn, uint64_t off, int write);
	/* Shared mappings: what they wrote in [off, off + len) reaches the file (NULL: it is there already). */
	int (*writeback)(struct vnode *vn, uint64_t off, uint64_t len);
	int (*ioctl)(struct file *f, uint64_t req, uint64_t arg);
	void (*release)(struct vnode *vn);
	/* File systems that keep per-open state or change the tree themselves (host mounts); NULL elsewhere. */
	int (*open)(struct file *f, uint32_t flags);
	int (*close)(struct file *f);                                   /* the last reference went: 0 or the error to report */
	int (*fsync)(struct file *f);
	int (*create)(struct vnode *dir, const char *name, size_t len, uint32_t mode, const char *target, struct vnode **out);
	int (*remove)(struct vnode *dir, const char *name, size_t len, int isdir);
	int (*rename)(struct vnode *odir, const char *oname, size_t olen, struct vnode *ndir, const char *nname,
		      size_t nlen, uint32_t flags);
	int (*link)(struct vnode *src, struct vnode *ndir, const char *name, size_t len);
	int (*setattr)(struct vnode *vn, struct file *f, const struct lbvm_io_setattr *sa);  /* f: the open file, if any */
	int (*fallocate)(struct file *f, uint64_t off, uint64_t len);
	int (*statfs)(struct vnode *vn, struct lbvm_io_statfs *out);
	/*
	 * Readiness as poll(2) reports it (POLL* below). An object whose
	 * readiness can change calls poll_wake() when it does; without this op a
	 * file is always ready for reading and writing (regular files, devices).
	 */
	unsigned (*poll)(struct file *f);
};

struct vnode {
	const struct vnode_ops *ops;
	int refs;
	uint32_t mode;
	uint64_t ino;
	int stream;                   /* no offsets: pread/lseek give ESPIPE */
	struct vnode *parent;         /* synthetic directories: where ".." goes */
	struct vnode *jump;           /* magic links (/proc/self/fd/N): following one lands here */
	const void *priv;             /* synthetic nodes: their table entry */
	uint32_t handle;              /* stdio nodes: the VMM handle */
	int pid;                      /* /proc/<pid> nodes: whose */
	struct erofs_inode ei;        /* the image's node below, when has_lower */
	int has_lower;
	struct tnode *upper;          /* the writable layer's node, if any */
	char *name;                   /* root file system and mount nodes: the name in the parent */
	struct hostnode *host;        /* nodes of a host mount */
};

struct file {
	struct vnode *vn;
	uint64_t pos;
	uint32_t flags;               /* O_* as opened, less O_CLOEXEC */
	int refs;
	void *priv;                   /* the file system's per-open state (host mounts) */
	unsigned epitems;             /* epoll items watching it (epoll.c) */
	char path[];                  /* what it was opened as, for /proc/self/fd */
};

struct fdtable {
	struct file *fd[NFD];
	uint8_t cloexec[NFD];
};

/* vfs.c */
void vfs_init(void);
struct vnode *vn_get(struct vnode *vn);
void vn_put(struct vnode *vn);                  /* frees it at the last reference: release, parent, name */
struct vnode *vn_new_named(const struct vnode_ops *ops, struct vnode *parent, const char *name, size_t len);
extern struct erofs_fs image_fs;
extern int have_image;

/*
 * Resolve a user-supplied path (already copied in) relative to dirfd
 * (AT_FDCWD or an open directory). follow_last: follow a final symlink.
 * On success *out holds a reference and canon (if non-NULL, PATH_MAX bytes)
 * the absolute path without symlinks, "." or "..".
 */
#define AT_FDCWD (-100)
int vfs_resolve(int dirfd, const char *path, int follow_last, struct vnode **out, char *canon);
int vfs_open(int dirfd, const char *path, uint32_t flags, uint32_t mode, struct file **out);
int vfs_resolve_parent(int dirfd, const char *path, struct vnode **dir, const char **name, size_t *len, char *canon);
void vfs_stat(struct vnode *vn, struct kstat *st);
int vfs_readonly(struct vnode *vn);             /* a node of the read-only image */
struct vnode *vfs_root(void);

struct file *file_new(struct vnode *vn, uint32_t flags, const char *path);
struct file *file_get(struct file *f);
int file_put(struct file *f);                   /* 0, or the error the last close reports */
void epoll_file_released(struct file *f);       /* epoll.c: f's last reference goes; drop the items watching it */

/* fds of the current process */
struct file *fd_get(int fd);                     /* borrowed, NULL if not open */

/* Readiness bits, Linux's values. */
#define POLLIN     0x001
#define POLLPRI    0x002
#define POLLOUT    0x004
#define POLLERR    0x008
#define POLLHUP    0x010
#define POLLNVAL   0x020
#define POLLRDNORM 0x040
#define POLLWRNORM 0x100
#define POLLRDHUP  0x2000
unsigned file_poll(struct file *f);              /* f's readiness, through its poll op */
/*
 * Readiness changed somewhere: wake every process waiting in poll, select
 * (and whatever else waits on readiness). Sleepers look again; one CPU and
 * a few dozen processes make the broadcast cheaper than per-object lists.
 */
void poll_wake(void);
extern unsigned poll_generation;                 /* counts poll_wake calls: edge-triggered epoll looks at it */
void poll_wait(void);                            /* sleep until the next poll_wake (or a signal) */
void poll_wait_until(int64_t deadline);          /* the same, or until monotonic ns deadline (INT64_MAX: none) */
int fd_install(struct file *f, int min, int cloexec);  /* takes the reference; fd or -EMFILE */
int fd_close(int fd);
void fd_init_stdio(struct fdtable *t);

/* ovl.c: the root file system */
struct tnode;
extern const struct vnode_ops ovl_ops;
extern int ovl_image_writable;  /* 0 until the overlay on the image is switched on (issue 4) */
struct vnode *ovl_root(const struct erofs_inode *lower);
struct vnode *ovl_mount_tmpfs(struct vnode *parent, const char *name);
int ovl_copy_up(struct vnode *vn);
int ovl_create(struct vnode *dir, const char *name, size_t len, uint32_t mode, const char *target, struct vnode **out);
int ovl_remove(struct vnode *dir, struct vnode *victim);
int ovl_link(struct vnode *dir, const char *name, size_t len, struct vnode *node);
int ovl_is_empty_dir(struct vnode *vn);

/* pipe.c */
struct pipe;
int fifo_open(struct pipe **slot, int writer, int nonblock, struct vnode **out);

/* dev.c */
struct vnode *devfs_root(struct vnode *parent);
struct vnode *procfs_root(struct vnode *parent);
struct vnode *stdio_vnode(uint32_t handle);
struct vnode *sysfs_root(struct vnode *parent);
/* procinfo.c: /proc/<pid>/{status,maps,auxv}, /proc/stat and /sys's CPU lists, by which (0: status, ...) */
struct proc;
long procinfo_text(unsigned which, struct proc *p, char *buf, size_t size);

/* Synthetic directories: a table of children built on lookup. */
struct synth_entry {
	const char *name;
	struct vnode *(*make)(struct vnode *dir, const struct synth_entry *e);
	uint32_t arg;
};
struct vnode *synth_dir(struct vnode *parent, const struct synth_entry *tab, unsigned n, uint64_t ino);
struct vnode *synth_symlink(const char *target, uint64_t ino);
extern const struct vnode_ops synth_dir_ops;

#endif
