/* fuzz_erofs.c: libFuzzer harness mounting the input as an EROFS image and walking it through every reader entry point. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/lib/erofs.h"

#define FUZZ_MAX_INODES 256
#define FUZZ_MAX_READ   (1u << 20)  /* bytes read per input: keeps each run fast whatever the image claims */

/* A wrong answer is as much a finding as a crash. */
#define FUZZ_CHECK(c) do { if (!(c)) abort(); } while (0)

static uint8_t fuzz_buf[65536];

static void fuzz_data(const struct erofs_fs *fs, const struct erofs_inode *ino, uint64_t *budget)
{
	uint64_t off = 0, img_off, len;
	long n;

	while (*budget) {
		uint64_t want = *budget < sizeof(fuzz_buf) ? *budget : sizeof(fuzz_buf);
		n = erofs_read(fs, ino, off, fuzz_buf, want);
		FUZZ_CHECK(n >= -EROFS_EIO && (n < 0 ? n == -EROFS_EIO : (uint64_t)n <= want));
		if (n <= 0)
			break;
		FUZZ_CHECK(erofs_map(fs, ino, off, &img_off, &len) == 0);
		FUZZ_CHECK(len >= 1 && len <= ino->size - off && img_off <= fs->size && len <= fs->size - img_off);
		FUZZ_CHECK(memcmp(fs->img + img_off, fuzz_buf, len < (uint64_t)n ? len : (uint64_t)n) == 0);
		off += (uint64_t)n;
		*budget -= (uint64_t)n;
	}
	/* A mid-file position too, where the body and the inline tail meet. */
	if (ino->size > 4096)
		(void)erofs_read(fs, ino, ino->size - 4097, fuzz_buf, 8192);
	FUZZ_CHECK(erofs_map(fs, ino, ino->size, &img_off, &len) == -EROFS_EINVAL);
}

static void fuzz_dir(const struct erofs_fs *fs, const struct erofs_inode *dir, uint64_t *queue, size_t *tail)
{
	struct erofs_dirent d;
	uint64_t pos = 0, prev = 0, nid;
	uint8_t ft;
	int rc, steps = 0;

	while (steps++ < 4096 && (rc = erofs_readdir(fs, dir, &pos, &d)) == 1) {
		FUZZ_CHECK(pos > prev);
		prev = pos;
		FUZZ_CHECK(d.namelen >= 1 && d.namelen <= EROFS_NAME_MAX && strlen(d.name) == d.namelen);
		FUZZ_CHECK(!memchr(d.name, '/', d.namelen) && d.ftype <= EROFS_FT_SYMLINK);
		FUZZ_CHECK(erofs_lookup(fs, dir, d.name, d.namelen, &nid, &ft) == 0);
		if (*tail < FUZZ_MAX_INODES && strcmp(d.name, ".") && strcmp(d.name, ".."))
			queue[(*tail)++] = d.nid;
	}
	rc = erofs_lookup(fs, dir, "missing", 7, &nid, &ft);
	FUZZ_CHECK(rc == -EROFS_ENOENT || rc == -EROFS_EIO);
	/* Arbitrary cursors, as lseek on a directory can produce. */
	for (uint64_t p = 5; p < dir->size + 4096 && p < 65536; p += 1021) {
		pos = p;
		rc = erofs_readdir(fs, dir, &pos, &d);
		FUZZ_CHECK(rc == 0 || rc == -EROFS_EIO || (rc == 1 && pos > p));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct erofs_fs fs;
	struct erofs_inode ino;
	uint64_t queue[FUZZ_MAX_INODES], budget = FUZZ_MAX_READ;
	size_t head = 0, tail = 0;
	char link[4096];

	if (erofs_mount(&fs, data, size))
		return 0;
	queue[tail++] = fs.root_nid;
	while (head < tail) {
		int rc = erofs_iget(&fs, queue[head++], &ino);
		uint64_t nid, pos = 0;
		uint8_t ft;
		struct erofs_dirent d;
		long n;

		FUZZ_CHECK(rc == 0 || rc == -EROFS_EIO);
		if (rc)
			continue;
		FUZZ_CHECK(ino.layout == 0 || ino.layout == 2);
		if ((ino.mode & 0170000) == 0040000) {
			fuzz_dir(&fs, &ino, queue, &tail);
		} else {
			FUZZ_CHECK(erofs_lookup(&fs, &ino, "x", 1, &nid, &ft) == -EROFS_ENOTDIR);
			FUZZ_CHECK(erofs_readdir(&fs, &ino, &pos, &d) == -EROFS_ENOTDIR);
		}
		n = erofs_readlink(&fs, &ino, link, sizeof(link));
		if ((ino.mode & 0170000) == 0120000)
			FUZZ_CHECK(n == -EROFS_EIO || (n >= 1 && n <= 4095 && strlen(link) == (size_t)n));
		else
			FUZZ_CHECK(n == -EROFS_EINVAL);
		fuzz_data(&fs, &ino, &budget);
	}
	return 0;
}
