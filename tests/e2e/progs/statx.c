/* statx.c: statx by path, by descriptor (AT_EMPTY_PATH) and on a pipe; its errors; getdents64 over /proc/self. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Linux's struct statx, declared here: musl's headers do not have it. */
struct statx_ts { int64_t sec; uint32_t nsec; int32_t pad; };
struct sx {
	uint32_t stx_mask, stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink, stx_uid, stx_gid;
	uint16_t stx_mode, pad1;
	uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct statx_ts atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};
#define STATX_TYPE 1u
#define STATX_BASIC_STATS 0x7ffu
#define statx(d, p, f, m, b) syscall(SYS_statx, d, p, f, m, b)

#define SHOW(what, call) do { long r_ = (call); printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerror(errno) : "ok"); } while (0)

int main(void)
{
	struct sx sx;
	int fd = open("/tmp/statx-test", O_CREAT | O_RDWR | O_TRUNC, 0640);
	write(fd, "hello", 5);
	memset(&sx, 0, sizeof(sx));
	SHOW("statx path", statx(AT_FDCWD, "/tmp/statx-test", 0, STATX_BASIC_STATS, &sx));
	printf("size %llu regular %d perm %o basic %d\n", (unsigned long long)sx.stx_size, S_ISREG(sx.stx_mode),
	       sx.stx_mode & 0777, (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
	struct stat st;
	fstat(fd, &st);
	memset(&sx, 0, sizeof(sx));
	SHOW("statx fd", statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
	printf("same inode as fstat %d\n", sx.stx_ino == st.st_ino);
	int p[2];
	pipe(p);
	SHOW("statx pipe", statx(p[0], "", AT_EMPTY_PATH, STATX_TYPE, &sx));
	printf("fifo %d\n", S_ISFIFO(sx.stx_mode));
	SHOW("statx missing", statx(AT_FDCWD, "/tmp/no-such-file", 0, STATX_BASIC_STATS, &sx));
	SHOW("statx ebadf", statx(99, "x", 0, STATX_BASIC_STATS, &sx));
	SHOW("statx empty path without the flag", statx(fd, "", 0, STATX_BASIC_STATS, &sx));
	unlink("/tmp/statx-test");

	DIR *d = opendir("/proc/self");
	int seen = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		seen += !strcmp(e->d_name, "status") + !strcmp(e->d_name, "maps") + !strcmp(e->d_name, "stat") + !strcmp(e->d_name, "fd");
	closedir(d);
	printf("/proc/self lists status, maps, stat, fd: %d\n", seen == 4);
	return 0;
}
