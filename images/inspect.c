/* inspect.c: open an app image for lbvm run (map, check, read its manifest), and `lbvm inspect IMAGE`. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "guest/lib/erofs.h"
#include "images/image.h"
#include "images/manifest.h"
#include "images/sha256.h"
#include "vmm/log.h"

#define EROFS_SUPER_OFFSET 1024
#define EROFS_MAGIC 0xE0F5E1E2u

#define ST_ERROR 125
#define ST_CANNOT_READ 126
#define ST_NOT_FOUND 127

/* Walk path from the root one component at a time; symlinks are not followed (the manifest must be a plain file). */
static int lookup_path(const struct erofs_fs *fs, const char *path, struct erofs_inode *out)
{
	int r = erofs_iget(fs, fs->root_nid, out);
	while (!r && *path) {
		while (*path == '/')
			path++;
		if (!*path)
			break;
		size_t len = strcspn(path, "/");
		uint64_t nid;
		uint8_t ft;
		r = erofs_lookup(fs, out, path, len, &nid, &ft);
		if (!r)
			r = erofs_iget(fs, nid, out);
		path += len;
	}
	return r;
}

/* Read and parse the manifest into img->m. 0 or an exit status after a message. */
static int read_manifest(const char *path, struct image *img)
{
	struct erofs_inode ino;
	int r = lookup_path(&img->fs, MANIFEST_PATH, &ino);
	if (r == -EROFS_ENOENT || r == -EROFS_ENOTDIR) {
		log_err("%s: not an lbvm image (no %s); pack it with lbvm pack, or add the manifest (see docs/images.md)",
			path, MANIFEST_PATH);
		return ST_ERROR;
	}
	if (r) {
		log_err("%s: corrupt image: cannot look up %s (bad EROFS metadata); rebuild it with lbvm pack",
			path, MANIFEST_PATH);
		return ST_ERROR;
	}
	if ((ino.mode & S_IFMT) != S_IFREG) {
		log_err("%s: %s is not a regular file; rebuild the image with lbvm pack", path, MANIFEST_PATH);
		return ST_ERROR;
	}
	if (ino.size > MANIFEST_MAX) {
		log_err("%s: %s is %llu bytes, more than the %d allowed; shorten it", path, MANIFEST_PATH,
			(unsigned long long)ino.size, MANIFEST_MAX);
		return ST_ERROR;
	}
	char *text = malloc(MANIFEST_MAX + 1);
	if (!text) {
		log_err("%s: out of memory reading the manifest", path);
		return ST_ERROR;
	}
	long n = erofs_read(&img->fs, &ino, 0, text, ino.size);
	if (n < 0 || (uint64_t)n != ino.size) {
		log_err("%s: corrupt image: cannot read %s (bad EROFS data); rebuild it with lbvm pack", path, MANIFEST_PATH);
		free(text);
		return ST_ERROR;
	}
	const char *why;
	int line;
	r = manifest_parse(&img->m, text, (size_t)n, &why, &line);
	free(text);
	if (r) {
		log_err("%s: %s line %d: %s; fix the manifest and pack the image again", path, MANIFEST_PATH, line, why);
		return ST_ERROR;
	}
	return 0;
}

/*
 * Map the image at a 2 MiB-aligned address with huge pages allowed: where the
 * page cache holds the file in 2 MiB folios, the host maps it with 2 MiB
 * entries and KVM gives the guest 2 MiB mappings too. Otherwise the guest
 * takes a fault (~15 us here) for every 4 KiB page it touches first.
 */
static void *map_aligned(int fd, uint64_t map_size)
{
	const uint64_t huge = 2ull << 20;
	uint8_t *area = mmap(NULL, map_size + huge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		return MAP_FAILED;
	uint8_t *at = (uint8_t *)(((uintptr_t)area + huge - 1) & ~(uintptr_t)(huge - 1));
	void *map = mmap(at, map_size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	if (map == MAP_FAILED) {
		munmap(area, map_size + huge);
		return MAP_FAILED;
	}
	if (at > area)
		munmap(area, (size_t)(at - area));
	munmap(at + map_size, (size_t)(area + huge - at));
	madvise(map, map_size, MADV_HUGEPAGE);
	return map;
}

int image_open(const char *path, struct image *img)
{
	img->fd = -1;
	img->map = NULL;
	img->size = img->map_size = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR) {
			log_err("%s: no such file; give the path of an image made by lbvm pack", path);
			return ST_NOT_FOUND;
		}
		log_err("%s: cannot open: %s%s", path, strerror(e), e == EACCES ? "; make it readable" : "");
		return e == EACCES ? ST_CANNOT_READ : ST_ERROR;
	}
	struct stat st;
	if (fstat(fd, &st)) {
		log_err("%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return ST_ERROR;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err("%s: not a regular file; give an image made by lbvm pack", path);
		close(fd);
		return ST_ERROR;
	}
	if (st.st_size < EROFS_SUPER_OFFSET + 128) {
		log_err("%s: not an lbvm image (not EROFS: bad superblock)", path);
		close(fd);
		return ST_ERROR;
	}
	uint64_t size = (uint64_t)st.st_size;
	uint64_t map_size = (size + 4095) & ~4095ull;
	void *map = map_aligned(fd, map_size);
	if (map == MAP_FAILED) {
		log_err("%s: cannot map %llu bytes: %s", path, (unsigned long long)size, strerror(errno));
		close(fd);
		return ST_ERROR;
	}
	img->fd = fd;
	img->map = map;
	img->size = size;
	img->map_size = map_size;
	if (erofs_mount(&img->fs, img->map, img->size)) {
		log_err("%s: not an lbvm image (not EROFS: bad superblock)", path);
		image_close(img);
		return ST_ERROR;
	}
	int r = read_manifest(path, img);
	if (r)
		image_close(img);
	return r;
}

void image_close(struct image *img)
{
	if (img->map)
		munmap((void *)img->map, img->map_size);
	if (img->fd >= 0)
		close(img->fd);
	img->map = NULL;
	img->fd = -1;
	img->size = img->map_size = 0;
}

int image_is_erofs(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	uint8_t b[4];
	ssize_t n = pread(fd, b, sizeof(b), EROFS_SUPER_OFFSET);
	close(fd);
	if (n != (ssize_t)sizeof(b))
		return 0;
	uint32_t magic = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return magic == EROFS_MAGIC;
}

/* A set of nids, so a hostile image whose directories link back to their ancestors is walked once, not forever. */
struct nidset {
	uint64_t *slot;   /* value + 1, 0 = empty */
	size_t cap, n;
};

/* 1 added, 0 already there, -1 out of memory. */
static int nidset_add(struct nidset *s, uint64_t nid)
{
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		uint64_t *slot = calloc(cap, sizeof(*slot));
		if (!slot)
			return -1;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slot[i])
				continue;
			size_t j = (size_t)((s->slot[i] - 1) * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
			while (slot[j])
				j = (j + 1) & (cap - 1);
			slot[j] = s->slot[i];
		}
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	size_t j = (size_t)(nid * 0x9E3779B97F4A7C15ull >> 20) & (s->cap - 1);
	while (s->slot[j]) {
		if (s->slot[j] == nid + 1)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->slot[j] = nid + 1;
	s->n++;
	return 1;
}

struct counts {
	uint64_t reg, dir, lnk, other;
};

/* Most entries a walk visits before it calls the image hostile: far beyond any real tree, but bounded. */
#define WALK_MAX_ENTRIES (1ull << 26)

/* Breadth-first over directories with an explicit queue: no recursion, so depth costs no stack. 0, or -1 after a message. */
static int count_files(const char *path, const struct erofs_fs *fs, struct counts *c)
{
	struct nidset seen = { 0 };
	uint64_t *queue = NULL;
	size_t qcap = 0, qhead = 0, qtail = 0;
	uint64_t entries = 0;
	int ret = -1;
	const char *what = "out of memory";
	memset(c, 0, sizeof(*c));

	if (nidset_add(&seen, fs->root_nid) < 0)
		goto out;
	qcap = 256;
	queue = malloc(qcap * sizeof(*queue));
	if (!queue)
		goto out;
	queue[qtail++] = fs->root_nid;
	c->dir = 1;
	while (qhead < qtail) {
		uint64_t dnid = queue[qhead++];
		struct erofs_inode dir;
		what = "bad directory inode";
		if (erofs_iget(fs, dnid, &dir))
			goto out;
		uint64_t pos = 0;
		struct erofs_dirent de;
		int r;
		while ((r = erofs_readdir(fs, &dir, &pos, &de)) == 1) {
			if (!strcmp(de.name, ".") || !strcmp(de.name, ".."))
				continue;
			what = "more entries than any real tree has (directories loop?)";
			if (++entries > WALK_MAX_ENTRIES)
				goto out;
			struct erofs_inode ino;
			what = "bad inode in a directory";
			if (erofs_iget(fs, de.nid, &ino))
				goto out;
			switch (ino.mode & S_IFMT) {
			case S_IFREG: c->reg++; break;
			case S_IFLNK: c->lnk++; break;
			case S_IFDIR: {
				c->dir++;
				what = "out of memory";
				int added = nidset_add(&seen, de.nid);
				if (added < 0)
					goto out;
				if (!added)
					break; /* a second name for a directory: hostile, and already walked */
				if (qtail == qcap) {
					/* Reclaim the consumed head before growing. */
					memmove(queue, queue + qhead, (qtail - qhead) * sizeof(*queue));
					qtail -= qhead;
					qhead = 0;
					if (qtail == qcap) {
						uint64_t *q = realloc(queue, 2 * qcap * sizeof(*queue));
						if (!q)
							goto out;
						queue = q;
						qcap *= 2;
					}
				}
				queue[qtail++] = de.nid;
				break;
			}
			default: c->other++; break;
			}
		}
		what = "bad directory data";
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret)
		log_err("%s: corrupt image: walking the tree failed: %s; rebuild it with lbvm pack (fsck.erofs %s says more)",
			path, what, path);
	free(seen.slot);
	free(queue);
	return ret;
}

static const char inspect_usage[] =
	"usage: lbvm inspect IMAGE\n"
	"Prints IMAGE's manifest, its size, how many files it holds, and its SHA-256.\n";

int inspect_main(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(inspect_usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--") && i + 1 < argc && !path) {
			path = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			log_err("inspect: unknown option %s; usage: lbvm inspect IMAGE", argv[i]);
			return ST_ERROR;
		} else if (path) {
			log_err("inspect: one image at a time (got %s and %s); usage: lbvm inspect IMAGE", path, argv[i]);
			return ST_ERROR;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		log_err("inspect: no image given; usage: lbvm inspect IMAGE");
		return ST_ERROR;
	}

	/* Large (the manifest's storage): static rather than on the stack. */
	static struct image img;
	int st = image_open(path, &img);
	if (st)
		return st;

	st = ST_ERROR;
	char *text = malloc(MANIFEST_MAX + 1);
	if (!text) {
		log_err("%s: out of memory", path);
		goto out;
	}
	long n = manifest_format(&img.m, text, MANIFEST_MAX + 1);
	if (n < 0) {
		/* Only a manifest within a few bytes of the limit and lacking a workdir line gets here. */
		log_err("%s: the manifest is too close to the %d-byte limit to print in canonical form; shorten it",
			path, MANIFEST_MAX);
		goto out;
	}
	struct counts c;
	if (count_files(path, &img.fs, &c))
		goto out;
	uint8_t digest[SHA256_DIGEST];
	char hex[SHA256_HEX];
	sha256(img.map, img.size, digest);
	sha256_hex(digest, hex);

	fwrite(text, 1, (size_t)n, stdout);
	printf("size: %llu bytes\n", (unsigned long long)img.size);
	printf("files: %llu regular, %llu directories, %llu symlinks", (unsigned long long)c.reg,
	       (unsigned long long)c.dir, (unsigned long long)c.lnk);
	if (c.other)
		printf(", %llu other", (unsigned long long)c.other);
	printf("\nsha256: %s\n", hex);
	if (fflush(stdout)) {
		log_err("inspect: cannot write to stdout: %s", strerror(errno));
		goto out;
	}
	st = 0;
out:
	free(text);
	image_close(&img);
	return st;
}
