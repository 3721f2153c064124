/* sys_io.c: file-descriptor syscalls over lbvm's stdin, stdout and stderr, and the few paths that exist. */
#include "syscall.h"

#define NFD 3
#define AT_FDCWD (-100)
#define AT_EMPTY_PATH 0x1000

static int fd_closed[NFD];
static uint8_t kbuf[65536];

static int fd_ok(uint64_t fd)
{
	return fd < NFD && !fd_closed[fd];
}

SYS(read)
{
	UNUSED_ARGS();
	if (!fd_ok(a0))
		return -EBADF;
	if ((int64_t)a2 < 0)
		return -EINVAL;
	if (a2 > sizeof(kbuf))
		a2 = sizeof(kbuf);
	long n = io_read((uint32_t)a0, kbuf, a2);
	if (n > 0 && copy_to_user(a1, kbuf, (uint64_t)n))
		return -EFAULT;
	return n;
}

static long write_user(uint64_t fd, uint64_t ubuf, uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		uint64_t chunk = len - done > sizeof(kbuf) ? sizeof(kbuf) : len - done;
		if (copy_from_user(kbuf, ubuf + done, chunk))
			return done ? (long)done : -EFAULT;
		long r = io_write((uint32_t)fd, kbuf, chunk);
		if (r < 0)
			return done ? (long)done : r;
		done += chunk;
	}
	return (long)done;
}

SYS(write)
{
	UNUSED_ARGS();
	if (!fd_ok(a0))
		return -EBADF;
	if ((int64_t)a2 < 0)
		return -EINVAL;
	return write_user(a0, a1, a2);
}

struct iovec_k {
	uint64_t base, len;
};

SYS(writev)
{
	UNUSED_ARGS();
	if (!fd_ok(a0))
		return -EBADF;
	if (a2 > 1024)
		return -EINVAL;
	long total = 0;
	for (uint64_t i = 0; i < a2; i++) {
		struct iovec_k v;
		if (copy_from_user(&v, a1 + i * sizeof(v), sizeof(v)))
			return total ? total : -EFAULT;
		if ((int64_t)v.len < 0)
			return -EINVAL;
		long r = write_user(a0, v.base, v.len);
		if (r < 0)
			return total ? total : r;
		total += r;
		if ((uint64_t)r < v.len)
			break;
	}
	return total;
}

SYS(readv)
{
	UNUSED_ARGS();
	if (!fd_ok(a0))
		return -EBADF;
	if (a2 > 1024)
		return -EINVAL;
	/* One read, spread over the vectors: a stream read returns what is there. */
	for (uint64_t i = 0; i < a2; i++) {
		struct iovec_k v;
		if (copy_from_user(&v, a1 + i * sizeof(v), sizeof(v)))
			return -EFAULT;
		if (v.len == 0)
			continue;
		return sys_read(a0, v.base, v.len, 0, 0, 0);
	}
	return 0;
}

SYS(pread64)
{
	UNUSED_ARGS();
	return fd_ok(a0) ? -ESPIPE : -EBADF;
}

SYS(close)
{
	UNUSED_ARGS();
	if (!fd_ok(a0))
		return -EBADF;
	fd_closed[a0] = 1;
	return 0;
}

SYS(lseek)
{
	UNUSED_ARGS();
	return fd_ok(a0) ? -ESPIPE : -EBADF;
}

/* struct stat of x86-64 Linux */
struct stat_k {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	uint64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
	int64_t unused[3];
};
_Static_assert(sizeof(struct stat_k) == 144, "struct stat");

static long stat_fd(uint64_t fd, uint64_t ust)
{
	if (!fd_ok(fd))
		return -EBADF;
	struct stat_k st;
	memset(&st, 0, sizeof(st));
	const struct lbvm_tty *t = &boot.tty[fd];
	st.dev = 0x16;
	st.ino = fd + 3;
	st.nlink = 1;
	st.mode = t->st_mode ? t->st_mode : 0010600; /* a pipe when the VMM could not tell */
	st.rdev = t->is_tty ? 0x8800 : 0;
	st.blksize = 4096;
	uint64_t now = (uint64_t)(time_realtime_ns() / 1000000000);
	st.atime = st.mtime = st.ctime = now;
	return copy_to_user(ust, &st, sizeof(st)) ? -EFAULT : 0;
}

SYS(fstat)
{
	UNUSED_ARGS();
	return stat_fd(a0, a1);
}

SYS(newfstatat)
{
	UNUSED_ARGS();
	char path[256];
	long n = strncpy_from_user(path, a1, sizeof(path));
	if (n < 0)
		return n;
	if (n == 0 && (a3 & AT_EMPTY_PATH))
		return stat_fd(a0, a2);
	return n == 0 ? -ENOENT : -ENOENT;
}

SYS(stat)
{
	UNUSED_ARGS();
	char path[256];
	long n = strncpy_from_user(path, a0, sizeof(path));
	return n < 0 ? n : -ENOENT;
}

SYS(access)
{
	UNUSED_ARGS();
	char path[256];
	long n = strncpy_from_user(path, a0, sizeof(path));
	return n < 0 ? n : -ENOENT;
}

SYS(faccessat)
{
	UNUSED_ARGS();
	return sys_access(a1, a2, 0, 0, 0, 0);
}

SYS(open)
{
	UNUSED_ARGS();
	char path[256];
	long n = strncpy_from_user(path, a0, sizeof(path));
	return n < 0 ? n : -ENOENT;
}

SYS(openat)
{
	UNUSED_ARGS();
	return sys_open(a1, a2, a3, 0, 0, 0);
}

#define TCGETS     0x5401
#define TCSETS     0x5402
#define TCSETSW    0x5403
#define TCSETSF    0x5404
#define TIOCGPGRP  0x540f
#define TIOCGWINSZ 0x5413

SYS(ioctl)
{
	UNUSED_ARGS();
	if (!fd_ok(a0))
		return -EBADF;
	struct lbvm_tty *t = &boot.tty[a0];
	if (!t->is_tty)
		return -ENOTTY;
	switch (a1) {
	case TCGETS:
		return copy_to_user(a2, t->termios, sizeof(t->termios)) ? -EFAULT : 0;
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		/* Recorded for TCGETS; the host terminal itself stays as the user left it. */
		return copy_from_user(t->termios, a2, sizeof(t->termios)) ? -EFAULT : 0;
	case TIOCGWINSZ: {
		uint16_t ws[4] = { t->ws_row, t->ws_col, 0, 0 };
		return copy_to_user(a2, ws, sizeof(ws)) ? -EFAULT : 0;
	}
	case TIOCGPGRP: {
		int32_t pg = current->pid;
		return copy_to_user(a2, &pg, sizeof(pg)) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}

static long readlink_common(uint64_t upath, uint64_t ubuf, uint64_t size)
{
	char path[256];
	long n = strncpy_from_user(path, upath, sizeof(path));
	if (n < 0)
		return n;
	if ((int64_t)size <= 0)
		return -EINVAL;
	if (strcmp(path, "/proc/self/exe") && strcmp(path, "/proc/1/exe"))
		return -ENOENT;
	uint64_t len = strlen(current->exe);
	if (len > size)
		len = size;
	return copy_to_user(ubuf, current->exe, len) ? -EFAULT : (long)len;
}

SYS(readlink)
{
	UNUSED_ARGS();
	return readlink_common(a0, a1, a2);
}

SYS(readlinkat)
{
	UNUSED_ARGS();
	return readlink_common(a1, a2, a3);
}

SYS(getcwd)
{
	UNUSED_ARGS();
	if (a1 < 2)
		return -ERANGE;
	return copy_to_user(a0, "/", 2) ? -EFAULT : 2;
}

#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4

SYS(fcntl)
{
	UNUSED_ARGS();
	if (!fd_ok(a0))
		return -EBADF;
	switch (a1) {
	case F_GETFD:
		return 0;
	case F_SETFD:
		return 0;
	case F_GETFL:
		/* How lbvm's own descriptor was opened is not known here: a terminal reads and writes. */
		return boot.tty[a0].is_tty ? 02 /* O_RDWR */ : a0 == 0 ? 0 /* O_RDONLY */ : 01 /* O_WRONLY */;
	case F_SETFL:
		return 0;
	default:
		return -EINVAL;
	}
}
