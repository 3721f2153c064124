/* test_erofs.c: the EROFS reader against images mkfs.erofs builds from a known tree, crafted hostile images, and a corpus. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "guest/lib/erofs.h"

#define WALK_MAX 10000          /* inodes one walk may visit: a looping image must still end */
#define MANY_FULL 500
#define MANY_SMALL 80          /* with longer names: still two blocks, in a corpus-sized image */
#define CORPUS_MAX_BYTES (64 * 1024)

enum { IMG_NOINLINE, IMG_INLINE, IMG_SMALL_NOINLINE, IMG_SMALL_INLINE, IMG_COUNT };

struct built {
	const char *tag;
	int noinline;           /* built with -E noinline_data -T 0 */
	int small;
	uint8_t *buf;
	uint64_t size;
	struct erofs_fs fs;
};

static struct {
	int have_mkfs;
	int chowned;            /* running as root: uid/gid changes (and extended inodes by big ids) exist */
	char tmp[64];
	char tree[128], small[128];
	struct built img[IMG_COUNT];
} g = {
	.img = {
		{ .tag = "noinline", .noinline = 1 },
		{ .tag = "inline" },
		{ .tag = "small-noinline", .noinline = 1, .small = 1 },
		{ .tag = "small-inline", .small = 1 },
	},
};

/* ---- the tree ---- */

/* Known content: varies with the position inside and across blocks, and between files. */
static uint8_t pat(unsigned seed, uint64_t i)
{
	return (uint8_t)((i * 2654435761u >> 7) ^ (i >> 12) ^ (seed * 37u));
}

/* Varying lengths move the block boundaries around. */
static void many_name(char *out, size_t n, int i, int small)
{
	snprintf(out, n, "many/entry-%03d-%.*s", i, (small ? 40 : 0) + i % 13,
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}

static int mkpath(char *out, size_t n, const char *dir, const char *name)
{
	int r = snprintf(out, n, "%s/%s", dir, name);
	return r < 0 || (size_t)r >= n ? -1 : 0;
}

static int put_file(const char *dir, const char *name, uint64_t n, unsigned seed, mode_t mode)
{
	char p[PATH_MAX];
	if (mkpath(p, sizeof(p), dir, name))
		return -1;
	FILE *f = fopen(p, "wb");
	if (!f)
		return -1;
	for (uint64_t i = 0; i < n; i++)
		fputc(pat(seed, i), f);
	if (fclose(f))
		return -1;
	return chmod(p, mode);
}

static int put_dir(const char *dir, const char *name)
{
	char p[PATH_MAX];
	return mkpath(p, sizeof(p), dir, name) || mkdir(p, 0755) ? -1 : 0;
}

static int put_link(const char *dir, const char *name, const char *target)
{
	char p[PATH_MAX];
	return mkpath(p, sizeof(p), dir, name) || symlink(target, p) ? -1 : 0;
}

static int build_tree(const char *t, int small)
{
	char p[PATH_MAX], q[PATH_MAX], name[128];
	static const uint64_t sizes[] = { 0, 1, 4095, 4096, 4097, 100000 };
	int rc = 0;

	if (mkdir(t, 0755))
		return -1;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (small && (sizes[i] == 4095 || sizes[i] == 4096 || sizes[i] == 100000))
			continue;
		snprintf(name, sizeof(name), "f%llu", (unsigned long long)sizes[i]);
		rc |= put_file(t, name, sizes[i], i + 1, 0644);
	}
	rc |= put_dir(t, "a") | put_dir(t, "a/b") | put_dir(t, "a/b/c") | put_dir(t, "empty") | put_dir(t, "many");
	rc |= put_file(t, "a/b/c/deep", 10, 11, 0644) | put_file(t, "a/note", 100, 12, 0644);
	rc |= put_file(t, "exec", small ? 50 : 5000, 13, 0755) | put_file(t, "secret", 20, 14, 0600);
	rc |= put_file(t, "suid", 1, 15, 0644) | put_file(t, "owned", small ? 300 : 3000, 16, 0644);
	rc |= put_file(t, "bigid", 10, 17, 0644);
	rc |= put_link(t, "abs", "/etc/passwd") | put_link(t, "rel", "a/b/c/deep") | put_link(t, "dotdot", "../x/./y");
	if (!small) {
		char target[3001];
		for (int i = 0; i < 3000; i++)
			target[i] = i % 10 == 9 ? '/' : (char)('a' + i % 26);
		target[3000] = '\0';
		rc |= put_link(t, "longlink", target);
	}
	for (int i = 0; i < (small ? MANY_SMALL : MANY_FULL); i++) {
		many_name(name, sizeof(name), i, small);
		rc |= put_file(t, name, !small && i % 7 == 0 ? (uint64_t)i : 0, 100 + (unsigned)i, 0644);
	}
	rc |= mkpath(p, sizeof(p), t, "f4097") | mkpath(q, sizeof(q), t, "hard");
	rc |= link(p, q);
	rc |= mkpath(p, sizeof(p), t, "fifo") | mkfifo(p, 0640);
	/* Inline xattrs sit between the inode and its inline tail: exercise that offset on real images. */
	rc |= mkpath(p, sizeof(p), t, "f4097");
	if (!rc)
		setxattr(p, "user.lbvm", "some-value", 10, 0);
	rc |= mkpath(p, sizeof(p), t, "a");
	if (!rc)
		setxattr(p, "user.lbvm.dir", "0123456789abcdef0123", 20, 0);
	rc |= mkpath(p, sizeof(p), t, "suid") | chmod(p, 04755);
	if (geteuid() == 0) {
		/* chown clears set-id bits, so it goes before any chmod: owned has none. */
		rc |= mkpath(p, sizeof(p), t, "owned") | chown(p, 1234, 5678);
		rc |= mkpath(p, sizeof(p), t, "bigid") | chown(p, 70000, 80000);
		g.chowned = 1;
	}
	return rc ? -1 : 0;
}

static int load_file(const char *path, uint8_t **buf, uint64_t *size)
{
	FILE *f = fopen(path, "rb");
	long n;
	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -1;
	}
	/* Exactly n bytes: AddressSanitizer then catches a read one past the image. */
	*buf = malloc(n ? (size_t)n : 1);
	if (!*buf || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -1;
	}
	fclose(f);
	*size = (uint64_t)n;
	return 0;
}

static int build_image(struct built *b)
{
	char img[256], cmd[1024];
	snprintf(img, sizeof(img), "%s/%s.img", g.tmp, b->tag);
	snprintf(cmd, sizeof(cmd), "mkfs.erofs %s %s %s >%s.log 2>&1", b->noinline ?
		 "-E noinline_data -T 0 -U 00000000-0000-0000-0000-000000000000" : "", img,
		 b->small ? g.small : g.tree, img);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_erofs: failed: %s\n", cmd);
		return -1;
	}
	if (load_file(img, &b->buf, &b->size) || erofs_mount(&b->fs, b->buf, b->size)) {
		fprintf(stderr, "test_erofs: %s does not load or mount\n", img);
		return -1;
	}
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	if (system("command -v mkfs.erofs >/dev/null 2>&1") != 0)
		return 0;
	g.have_mkfs = 1;
	snprintf(g.tmp, sizeof(g.tmp), "/tmp/test_erofs.XXXXXX");
	if (!mkdtemp(g.tmp))
		return -1;
	snprintf(g.tree, sizeof(g.tree), "%s/tree", g.tmp);
	snprintf(g.small, sizeof(g.small), "%s/small", g.tmp);
	if (build_tree(g.small, 1) || build_tree(g.tree, 0)) {
		fprintf(stderr, "test_erofs: cannot build the test tree in %s\n", g.tmp);
		return -1;
	}
	for (int i = 0; i < IMG_COUNT; i++)
		if (build_image(&g.img[i]))
			return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];
	(void)state;
	for (int i = 0; i < IMG_COUNT; i++)
		free(g.img[i].buf);
	if (g.tmp[0] && strncmp(g.tmp, "/tmp/test_erofs.", 16) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g.tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "test_erofs: could not remove %s\n", g.tmp);
	}
	return 0;
}

static void need_mkfs(void)
{
	if (!g.have_mkfs) {
		print_message("mkfs.erofs is not installed (Debian: apt-get install erofs-utils): skipping image-building tests\n");
		skip();
	}
}

/* ---- helpers over the reader ---- */

static int resolve(const struct erofs_fs *fs, const char *path, struct erofs_inode *out)
{
	int rc = erofs_iget(fs, fs->root_nid, out);
	const char *p = path;
	while (!rc && *p) {
		size_t n = strcspn(p, "/");
		uint64_t nid;
		uint8_t ft;
		rc = erofs_lookup(fs, out, p, n, &nid, &ft);
		if (!rc)
			rc = erofs_iget(fs, nid, out);
		p += n;
		while (*p == '/')
			p++;
	}
	return rc;
}

static uint64_t nid_of(const struct erofs_fs *fs, const char *path)
{
	struct erofs_inode ino;
	assert_int_equal(resolve(fs, path, &ino), 0);
	return ino.nid;
}

static uint8_t ftype_of_mode(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return EROFS_FT_REG;
	case S_IFDIR: return EROFS_FT_DIR;
	case S_IFCHR: return EROFS_FT_CHR;
	case S_IFBLK: return EROFS_FT_BLK;
	case S_IFIFO: return EROFS_FT_FIFO;
	case S_IFSOCK: return EROFS_FT_SOCK;
	case S_IFLNK: return EROFS_FT_SYMLINK;
	}
	return EROFS_FT_UNKNOWN;
}

/* ---- checking an image against its tree ---- */

static void check_content(const struct built *b, const struct erofs_inode *ino, const uint8_t *want, uint64_t n)
{
	const uint64_t offs[] = { 0, 1, 2, 4094, 4095, 4096, 4097, 8191, 8192, 12288, 12345, 50000, 99999, n - 1, n, n + 1, UINT64_MAX };
	static const uint64_t lens[] = { 0, 1, 2, 3, 4095, 4096, 4097, 9000, 65536, UINT64_MAX };
	uint8_t *buf = malloc(n + 1);
	uint64_t off, img_off, len;
	int chunks = 0;

	assert_non_null(buf);
	assert_int_equal(erofs_read(&b->fs, ino, 0, buf, n + 1), (long)n);
	if (n)
		assert_memory_equal(buf, want, n);
	for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		off = offs[i];
		for (unsigned j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			uint64_t expect = off >= n ? 0 : (lens[j] < n - off ? lens[j] : n - off);
			assert_int_equal(erofs_read(&b->fs, ino, off, buf, lens[j]), (long)expect);
			if (expect)
				assert_memory_equal(buf, want + off, expect);
		}
	}
	for (off = 0; off < n; off += len, chunks++) {
		assert_int_equal(erofs_map(&b->fs, ino, off, &img_off, &len), 0);
		assert_true(len >= 1 && len <= n - off && img_off + len <= b->size);
		assert_memory_equal(b->buf + img_off, want + off, len);
	}
	/* Two chunks at most: the blocks and the inline tail. Without inline data, regular files are one aligned run. */
	assert_true(chunks <= 2);
	if (b->noinline && S_ISREG(ino->mode) && n) {
		assert_int_equal(chunks, 1);
		assert_int_equal(erofs_map(&b->fs, ino, 0, &img_off, &len), 0);
		assert_int_equal(img_off % 4096, 0);
	}
	assert_int_equal(erofs_map(&b->fs, ino, n, &img_off, &len), -EROFS_EINVAL);
	assert_int_equal(erofs_map(&b->fs, ino, UINT64_MAX, &img_off, &len), -EROFS_EINVAL);
	free(buf);
}

static uint8_t *host_read(const char *path, uint64_t n)
{
	uint8_t *buf = malloc(n + 1);
	FILE *f = fopen(path, "rb");
	assert_non_null(buf);
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, n, f), n);
	fclose(f);
	return buf;
}

struct listed {
	char name[EROFS_NAME_MAX + 1];
	uint64_t nid;
	uint8_t ftype;
	int seen;
};

static void check_dir(const struct built *b, const char *host, uint64_t nid, uint64_t parent_nid);

static void check_entry(const struct built *b, const char *host, const struct erofs_inode *dir, struct listed *e)
{
	const struct erofs_fs *fs = &b->fs;
	struct erofs_inode ino;
	struct stat st;
	uint64_t nid;
	uint8_t ft;

	assert_int_equal(lstat(host, &st), 0);
	assert_int_equal(erofs_lookup(fs, dir, e->name, strlen(e->name), &nid, &ft), 0);
	assert_int_equal(nid, e->nid);
	assert_int_equal(ft, e->ftype);
	assert_int_equal(ft, ftype_of_mode(st.st_mode));
	assert_int_equal(erofs_iget(fs, nid, &ino), 0);
	assert_int_equal(ino.nid, nid);
	assert_int_equal(ino.mode, st.st_mode);
	assert_int_equal(ino.uid, st.st_uid);
	assert_int_equal(ino.gid, st.st_gid);
	assert_int_equal(ino.nlink, st.st_nlink);
	if (b->noinline) {
		assert_int_equal(ino.mtime, 0);
		assert_int_equal(ino.mtime_nsec, 0);
	} else if (ino.mtime != (uint64_t)st.st_mtim.tv_sec || ino.mtime_nsec != (uint32_t)st.st_mtim.tv_nsec) {
		assert_int_equal(ino.mtime, fs->build_time);  /* a compact inode */
		assert_int_equal(ino.mtime_nsec, fs->build_time_nsec);
	}
	if (S_ISREG(st.st_mode)) {
		uint8_t *want = host_read(host, (uint64_t)st.st_size);
		assert_int_equal(ino.size, st.st_size);
		check_content(b, &ino, want, ino.size);
		free(want);
	} else if (S_ISLNK(st.st_mode)) {
		char want[4096], got[4096];
		ssize_t n = readlink(host, want, sizeof(want) - 1);
		assert_true(n > 0);
		want[n] = '\0';
		assert_int_equal(ino.size, n);
		assert_int_equal(erofs_readlink(fs, &ino, got, sizeof(got)), n);
		assert_string_equal(got, want);
		assert_int_equal(erofs_readlink(fs, &ino, got, (size_t)n), -EROFS_ENAMETOOLONG);
		check_content(b, &ino, (const uint8_t *)want, ino.size);
	} else if (S_ISDIR(st.st_mode)) {
		check_dir(b, host, nid, dir->nid);
	} else {
		assert_int_equal(ino.size, 0);
		assert_int_equal(ino.rdev, 0);   /* the fifo */
	}
	if (!S_ISDIR(st.st_mode)) {
		uint64_t pos = 0;
		struct erofs_dirent d;
		assert_int_equal(erofs_lookup(fs, &ino, "x", 1, &nid, &ft), -EROFS_ENOTDIR);
		assert_int_equal(erofs_readdir(fs, &ino, &pos, &d), -EROFS_ENOTDIR);
	}
	if (!S_ISLNK(st.st_mode)) {
		char buf[16];
		assert_int_equal(erofs_readlink(fs, &ino, buf, sizeof(buf)), -EROFS_EINVAL);
	}
}

/* Every name of the host directory once, plus "." and "..", in strictly increasing order; then each entry checked. */
static void check_dir(const struct built *b, const char *host, uint64_t nid, uint64_t parent_nid)
{
	const struct erofs_fs *fs = &b->fs;
	struct erofs_inode dir;
	struct erofs_dirent d;
	struct listed *ents = calloc(MANY_FULL + 8, sizeof(*ents));
	struct stat st;
	struct dirent *he;
	uint64_t pos = 0, prev_pos = 0, got_nid;
	uint8_t ft;
	int n = 0, host_n = 0, rc;
	DIR *dh;

	assert_non_null(ents);
	assert_int_equal(erofs_iget(fs, nid, &dir), 0);
	assert_int_equal(lstat(host, &st), 0);
	assert_int_equal(dir.mode, st.st_mode);
	while ((rc = erofs_readdir(fs, &dir, &pos, &d)) == 1) {
		assert_true(n < MANY_FULL + 8);
		assert_true(pos > prev_pos);
		prev_pos = pos;
		assert_int_equal(d.namelen, strlen(d.name));
		if (n)
			assert_true(strcmp(ents[n - 1].name, d.name) < 0);
		memcpy(ents[n].name, d.name, d.namelen + 1);
		ents[n].nid = d.nid;
		ents[n].ftype = d.ftype;
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(erofs_readdir(fs, &dir, &pos, &d), 0);

	for (int i = 0; i < n; i++) {
		if (!strcmp(ents[i].name, ".")) {
			assert_int_equal(ents[i].nid, nid);
			ents[i].seen++;
		} else if (!strcmp(ents[i].name, "..")) {
			assert_int_equal(ents[i].nid, parent_nid);
			ents[i].seen++;
		}
	}
	dh = opendir(host);
	assert_non_null(dh);
	while ((he = readdir(dh))) {
		char p[PATH_MAX];
		int found = -1;
		if (!strcmp(he->d_name, ".") || !strcmp(he->d_name, ".."))
			continue;
		host_n++;
		for (int i = 0; i < n; i++)
			if (!strcmp(ents[i].name, he->d_name))
				found = i;
		assert_true(found >= 0);
		ents[found].seen++;
		assert_int_equal(mkpath(p, sizeof(p), host, he->d_name), 0);
		check_entry(b, p, &dir, &ents[found]);
	}
	closedir(dh);
	assert_int_equal(n, host_n + 2);
	for (int i = 0; i < n; i++)
		assert_int_equal(ents[i].seen, 1);
	assert_int_equal(erofs_lookup(fs, &dir, "no-such-name", 12, &got_nid, &ft), -EROFS_ENOENT);
	assert_int_equal(erofs_lookup(fs, &dir, "zzzzzzzz", 8, &got_nid, &ft), -EROFS_ENOENT);
	assert_int_equal(erofs_lookup(fs, &dir, "", 0, &got_nid, &ft), -EROFS_ENOENT);
	free(ents);
}

static void test_tree(struct built *b)
{
	const struct erofs_fs *fs = &b->fs;
	struct erofs_inode root, ino;
	uint64_t nid;
	uint8_t ft;
	char longname[EROFS_NAME_MAX + 2], name[128];

	assert_int_equal(fs->blkszbits, 12);
	assert_int_equal(erofs_iget(fs, fs->root_nid, &root), 0);
	assert_true(S_ISDIR(root.mode));
	check_dir(b, b->small ? g.small : g.tree, fs->root_nid, fs->root_nid);

	/* Component by component from the root, as a path walk does. */
	assert_int_equal(resolve(fs, "a/b/c/deep", &ino), 0);
	assert_int_equal(ino.size, 10);
	many_name(name, sizeof(name), MANY_SMALL - 1, b->small);
	assert_int_equal(resolve(fs, name, &ino), 0);
	assert_int_equal(resolve(fs, "a/b/c/missing", &ino), -EROFS_ENOENT);
	assert_int_equal(resolve(fs, "f1/x", &ino), -EROFS_ENOTDIR);
	assert_int_equal(resolve(fs, "a/./b/../b/c/deep", &ino), 0);
	assert_int_equal(ino.size, 10);

	/* The hard link: one inode under two names. */
	assert_int_equal(nid_of(fs, "hard"), nid_of(fs, "f4097"));
	assert_int_equal(resolve(fs, "hard", &ino), 0);
	assert_int_equal(ino.nlink, 2);

	assert_int_equal(resolve(fs, "suid", &ino), 0);
	assert_int_equal(ino.mode, S_IFREG | 04755);
	assert_int_equal(resolve(fs, "secret", &ino), 0);
	assert_int_equal(ino.mode, S_IFREG | 0600);
	assert_int_equal(resolve(fs, "exec", &ino), 0);
	assert_int_equal(ino.mode, S_IFREG | 0755);
	if (g.chowned) {
		assert_int_equal(resolve(fs, "owned", &ino), 0);
		assert_int_equal(ino.uid, 1234);
		assert_int_equal(ino.gid, 5678);
		assert_int_equal(resolve(fs, "bigid", &ino), 0);
		assert_int_equal(ino.uid, 70000);
		assert_int_equal(ino.gid, 80000);
	}

	/* The big directory really spans blocks. */
	assert_int_equal(resolve(fs, "many", &ino), 0);
	assert_true(ino.size > 4096);

	memset(longname, 'n', sizeof(longname));
	assert_int_equal(erofs_lookup(fs, &root, longname, EROFS_NAME_MAX + 1, &nid, &ft), -EROFS_ENAMETOOLONG);
	assert_int_equal(erofs_lookup(fs, &root, longname, EROFS_NAME_MAX, &nid, &ft), -EROFS_ENOENT);
	assert_int_equal(erofs_lookup(fs, &root, "f1/", 3, &nid, &ft), -EROFS_ENOENT);
	assert_int_equal(erofs_iget(fs, UINT64_MAX, &ino), -EROFS_EIO);
	assert_int_equal(erofs_iget(fs, b->size / 32, &ino), -EROFS_EIO);
}

static void test_tree_noinline(void **state) { (void)state; need_mkfs(); test_tree(&g.img[IMG_NOINLINE]); }
static void test_tree_inline(void **state) { (void)state; need_mkfs(); test_tree(&g.img[IMG_INLINE]); }
static void test_tree_small(void **state)
{
	(void)state;
	need_mkfs();
	test_tree(&g.img[IMG_SMALL_NOINLINE]);
	test_tree(&g.img[IMG_SMALL_INLINE]);
}

/* Any cursor value, as lseek on a directory may produce, yields entries or the end, never an error or a loop. */
static void test_readdir_any_pos(void **state)
{
	(void)state;
	need_mkfs();
	for (int i = 0; i < 2; i++) {
		const struct erofs_fs *fs = &g.img[i].fs;
		struct erofs_inode dir;
		struct erofs_dirent d;
		assert_int_equal(resolve(fs, "many", &dir), 0);
		for (uint64_t p = 0; p < dir.size + 8192; p += 7) {
			uint64_t pos = p;
			int rc = erofs_readdir(fs, &dir, &pos, &d);
			assert_true(rc == 0 || rc == 1);
			if (rc == 1)
				assert_true(pos > p);
		}
		uint64_t pos = UINT64_MAX;
		assert_int_equal(erofs_readdir(fs, &dir, &pos, &d), 0);
		pos = 1ull << 63;
		assert_int_equal(erofs_readdir(fs, &dir, &pos, &d), 0);
	}
}

/* ---- the bounded walk: every entry point on every inode reachable, each answer an error or valid ---- */

struct walk {
	unsigned errors, inodes;
	int limit;
	uint64_t digest;
};

static void dig(struct walk *w, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		w->digest = (w->digest ^ b[i]) * 0x100000001b3ull;
}

static void walk_data(const struct erofs_fs *fs, const struct erofs_inode *ino, struct walk *w)
{
	static uint8_t buf[65536];
	uint64_t off = 0, img_off, len;
	long n;

	/* Sizes were bounded by the image at iget: at most size/64K + 2 rounds. */
	for (;;) {
		n = erofs_read(fs, ino, off, buf, sizeof(buf));
		if (n < 0) {
			assert_int_equal(n, -EROFS_EIO);
			w->errors++;
			return;
		}
		if (n == 0)
			break;
		assert_true((uint64_t)n <= sizeof(buf) && off + (uint64_t)n <= ino->size);
		assert_int_equal(erofs_map(fs, ino, off, &img_off, &len), 0);
		assert_true(len >= 1 && len <= ino->size - off && img_off <= fs->size && len <= fs->size - img_off);
		assert_memory_equal(fs->img + img_off, buf, len < (uint64_t)n ? len : (uint64_t)n);
		dig(w, buf, (size_t)n);
		off += (uint64_t)n;
	}
	assert_int_equal(off, ino->size);
	assert_int_equal(erofs_map(fs, ino, off, &img_off, &len), -EROFS_EINVAL);
}

static void walk_dir(const struct erofs_fs *fs, const struct erofs_inode *dir, struct walk *w, uint64_t *queue,
		     size_t *tail)
{
	struct erofs_dirent d;
	uint64_t pos = 0, prev = 0, nid, steps = 0, bound = (dir->size / 4096 + 1) * 342 + 2;
	uint8_t ft;
	int rc;

	while ((rc = erofs_readdir(fs, dir, &pos, &d)) == 1) {
		assert_true(++steps < bound);
		assert_true(pos > prev);
		prev = pos;
		assert_true(d.namelen >= 1 && d.namelen <= EROFS_NAME_MAX);
		assert_int_equal(strlen(d.name), d.namelen);
		assert_null(strchr(d.name, '/'));
		assert_true(d.ftype <= EROFS_FT_SYMLINK);
		dig(w, d.name, d.namelen);
		dig(w, &d.nid, sizeof(d.nid));
		/* Everything up to this entry has been validated, so its first occurrence is found. */
		assert_int_equal(erofs_lookup(fs, dir, d.name, d.namelen, &nid, &ft), 0);
		if (!strcmp(d.name, ".") || !strcmp(d.name, ".."))
			continue;
		if (*tail < WALK_MAX)
			queue[(*tail)++] = d.nid;
		else
			w->limit = 1;
	}
	if (rc < 0) {
		assert_int_equal(rc, -EROFS_EIO);
		w->errors++;
	}
	rc = erofs_lookup(fs, dir, "\001missing", 8, &nid, &ft);
	assert_true(rc == -EROFS_ENOENT || rc == -EROFS_EIO);
}

static void walk_image(const uint8_t *img, uint64_t size, struct walk *w)
{
	struct erofs_fs fs;
	struct erofs_inode ino;
	uint64_t *queue;
	size_t head = 0, tail = 0;
	int rc;

	memset(w, 0, sizeof(*w));
	w->digest = 0xcbf29ce484222325ull;
	rc = erofs_mount(&fs, img, size);
	if (rc) {
		assert_int_equal(rc, -EROFS_EIO);
		w->errors++;
		return;
	}
	queue = malloc(WALK_MAX * sizeof(*queue));
	assert_non_null(queue);
	queue[tail++] = fs.root_nid;
	while (head < tail) {
		uint64_t nid = queue[head++], cnid;
		uint8_t ft;
		char link[4096];
		struct erofs_dirent d;
		uint64_t pos = 0;

		rc = erofs_iget(&fs, nid, &ino);
		if (rc) {
			assert_int_equal(rc, -EROFS_EIO);
			w->errors++;
			continue;
		}
		w->inodes++;
		assert_true(ino.layout == 0 || ino.layout == 2);
		dig(w, &ino.mode, sizeof(ino.mode));
		dig(w, &ino.size, sizeof(ino.size));
		dig(w, &ino.uid, sizeof(ino.uid));
		dig(w, &ino.gid, sizeof(ino.gid));
		dig(w, &ino.nlink, sizeof(ino.nlink));
		dig(w, &ino.ino, sizeof(ino.ino));
		dig(w, &ino.mtime, sizeof(ino.mtime));
		dig(w, &ino.rdev, sizeof(ino.rdev));
		if (S_ISDIR(ino.mode)) {
			walk_dir(&fs, &ino, w, queue, &tail);
		} else {
			assert_int_equal(erofs_lookup(&fs, &ino, "a", 1, &cnid, &ft), -EROFS_ENOTDIR);
			assert_int_equal(erofs_readdir(&fs, &ino, &pos, &d), -EROFS_ENOTDIR);
		}
		if (S_ISLNK(ino.mode)) {
			long n = erofs_readlink(&fs, &ino, link, sizeof(link));
			if (n < 0) {
				assert_int_equal(n, -EROFS_EIO);
				w->errors++;
			} else {
				assert_true(n >= 1 && n <= 4095);
				assert_int_equal(strlen(link), n);
				dig(w, link, (size_t)n);
			}
		} else {
			assert_int_equal(erofs_readlink(&fs, &ino, link, sizeof(link)), -EROFS_EINVAL);
		}
		if (S_ISREG(ino.mode) || S_ISLNK(ino.mode) || S_ISDIR(ino.mode))
			walk_data(&fs, &ino, w);
		else
			assert_int_equal(ino.size, 0);
	}
	free(queue);
}

/* ---- hostile images crafted from good ones ---- */

static void put16(uint8_t *p, uint16_t v) { for (int i = 0; i < 2; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

enum expect { EX_NA, EX_MOUNT, EX_IGET, EX_DIR, EX_READLINK, EX_LOOP };

struct mctx {
	uint8_t *b;                 /* copy of the image being patched */
	uint64_t size;
	const struct erofs_fs *fs;  /* the good image, to find what to patch */
	uint64_t nid;               /* the inode the check looks at */
	const char *loop_path;      /* EX_LOOP: a path that runs round the loop */
};

static uint8_t *inode_at(struct mctx *m, const char *path)
{
	if (path[0] == '\0')
		m->nid = m->fs->root_nid;
	else
		m->nid = nid_of(m->fs, path);
	return m->b + m->fs->meta_off + m->nid * 32;
}

/* Image offset of directory block blk of path. */
static uint8_t *dir_block(struct mctx *m, const char *path, uint64_t blk)
{
	struct erofs_inode dir;
	uint64_t off, len;
	assert_int_equal(resolve(m->fs, path, &dir), 0);
	assert_int_equal(erofs_map(m->fs, &dir, blk * 4096, &off, &len), 0);
	m->nid = dir.nid;
	return m->b + off;
}

/* Image offset of the dirent called name in directory path (the readdir cursor is the dirent's offset). */
static uint8_t *dirent_of(struct mctx *m, const char *path, const char *name)
{
	struct erofs_inode dir;
	struct erofs_dirent d;
	uint64_t pos = 0, at = 0, off, len;
	assert_int_equal(resolve(m->fs, path, &dir), 0);
	while (erofs_readdir(m->fs, &dir, &at, &d) == 1) {
		if (!strcmp(d.name, name)) {
			assert_int_equal(erofs_map(m->fs, &dir, pos & ~4095ull, &off, &len), 0);
			m->nid = dir.nid;
			return m->b + off + (pos & 4095);
		}
		pos = at;
	}
	fail_msg("no %s in %s", name, path);
	return NULL;
}

static int m_bad_magic(struct mctx *m) { m->b[1024] ^= 0x55; return EX_MOUNT; }
static int m_blkszbits_9(struct mctx *m) { m->b[1024 + 12] = 9; return EX_MOUNT; }
static int m_blkszbits_16(struct mctx *m) { m->b[1024 + 12] = 16; return EX_MOUNT; }
static int m_root_nid_range(struct mctx *m) { put16(m->b + 1024 + 14, 0xffff); return EX_MOUNT; }
static int m_root_nid_file(struct mctx *m) { put16(m->b + 1024 + 14, (uint16_t)nid_of(m->fs, "f1")); return EX_MOUNT; }
static int m_incompat_lz4(struct mctx *m) { m->b[1024 + 80] |= 1; return EX_MOUNT; }
static int m_incompat_chunked(struct mctx *m) { m->b[1024 + 80] |= 4; return EX_MOUNT; }
static int m_meta_past_end(struct mctx *m) { put32(m->b + 1024 + 40, 0xffffffffu); return EX_MOUNT; }
static int m_build_nsec(struct mctx *m) { put32(m->b + 1024 + 32, 2000000000u); return EX_MOUNT; }
static int m_root_layout_4(struct mctx *m) { uint8_t *p = inode_at(m, ""); p[0] = (uint8_t)((p[0] & 1) | 4 << 1); return EX_MOUNT; }

static int m_blkaddr_past_end(struct mctx *m)
{
	struct erofs_inode ino;
	uint8_t *p = inode_at(m, "f4097");
	uint64_t body;
	assert_int_equal(erofs_iget(m->fs, m->nid, &ino), 0);
	body = ino.layout == 2 ? ino.size / 4096 * 4096 : ino.size;
	/* One block past the last start at which the data would still fit. */
	put32(p + 16, (uint32_t)(m->size / 4096 - (body + 4095) / 4096 + 1));
	return EX_IGET;
}

static int m_size_huge(struct mctx *m)
{
	uint8_t *p = inode_at(m, "f1");
	if (p[0] & 1)
		put64(p + 8, 1ull << 63);
	else
		put32(p + 8, 0xffffffffu);
	return EX_IGET;
}

static int m_size_2e63(struct mctx *m)
{
	uint8_t *p;
	if (!g.chowned)
		return EX_NA;
	p = inode_at(m, "bigid");    /* ids past 16 bits need the extended inode and its 64-bit size */
	assert_true(p[0] & 1);
	put64(p + 8, 1ull << 63);
	return EX_IGET;
}

static int set_layout(struct mctx *m, unsigned layout)
{
	uint8_t *p = inode_at(m, "f4097");
	p[0] = (uint8_t)((p[0] & 1) | layout << 1);
	return EX_IGET;
}

static int m_layout_1(struct mctx *m) { return set_layout(m, 1); }
static int m_layout_3(struct mctx *m) { return set_layout(m, 3); }
static int m_layout_4(struct mctx *m) { return set_layout(m, 4); }
static int m_layout_7(struct mctx *m) { return set_layout(m, 7); }
static int m_format_bits(struct mctx *m) { inode_at(m, "f4097")[0] |= 0x20; return EX_IGET; }
static int m_mode_type_0(struct mctx *m) { put16(inode_at(m, "f1") + 4, 0644); return EX_IGET; }
static int m_fifo_size(struct mctx *m) { inode_at(m, "fifo")[8] = 10; return EX_IGET; }
static int m_dir_size_huge(struct mctx *m) { put32(inode_at(m, "many") + 8, 0x7ffff000u); return EX_IGET; }
static int m_inline_aligned(struct mctx *m)
{
	uint8_t *p = inode_at(m, "a/b");
	assert_int_equal((p[0] >> 1) & 7, 2);
	put32(p + 8, 4096);
	return EX_IGET;
}

static int m_nameoff_0(struct mctx *m) { put16(dir_block(m, "many", 0) + 8, 0); return EX_DIR; }
static int m_nameoff_13(struct mctx *m) { put16(dir_block(m, "many", 0) + 8, 13); return EX_DIR; }
static int m_nameoff_past(struct mctx *m) { put16(dir_block(m, "many", 0) + 8, 4104); return EX_DIR; }
static int m_nameoff_block1(struct mctx *m) { put16(dir_block(m, "many", 1) + 8, 0); return EX_DIR; }
static int m_root_nameoff_0(struct mctx *m) { put16(dir_block(m, "", 0) + 8, 0); return EX_DIR; }
static int m_nameoff_root_past(struct mctx *m)
{
	uint8_t *p = dir_block(m, "", 0);
	put16(p + 12 + 8, 0xfff0);
	return EX_DIR;
}

static int m_nameoff_decreasing(struct mctx *m)
{
	uint8_t *p = dir_block(m, "many", 0);
	put16(p + 2 * 12 + 8, (uint16_t)(get16(p + 1 * 12 + 8) - 1));
	return EX_DIR;
}

static int m_name_slash(struct mctx *m)
{
	uint8_t *p = dir_block(m, "many", 0);
	p[get16(p + 3 * 12 + 8) + 2] = '/';
	return EX_DIR;
}

static int m_name_nul(struct mctx *m)
{
	uint8_t *p = dir_block(m, "many", 0);
	p[get16(p + 3 * 12 + 8) + 4] = 0;
	return EX_DIR;
}

static int m_ftype_bad(struct mctx *m) { dir_block(m, "many", 0)[3 * 12 + 10] = 200; return EX_DIR; }

static int m_loop_parent(struct mctx *m)
{
	uint64_t a = nid_of(m->fs, "a");
	put64(dirent_of(m, "a/b", "c"), a);
	m->loop_path = "a/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b/c/b";
	return EX_LOOP;
}

static int m_loop_self(struct mctx *m)
{
	uint64_t a = nid_of(m->fs, "a");
	put64(dirent_of(m, "a", "b"), a);
	m->loop_path = "a/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b/b";
	return EX_LOOP;
}

static int m_dirent_nid_range(struct mctx *m)
{
	put64(dirent_of(m, "", "f1"), 1ull << 40);
	m->nid = 1ull << 40;
	return EX_IGET;
}

/* Just enough xattr slots that the inline tail starts in the block but ends past it, still inside the image. */
static int m_xattr_tail_past_block(struct mctx *m)
{
	struct erofs_inode dir;
	uint8_t *p = inode_at(m, "a/b");
	uint64_t off = (uint64_t)(p - m->b), isize = (p[0] & 1) ? 64 : 32, tail, blk_end, start, slots;
	assert_int_equal(erofs_iget(m->fs, m->nid, &dir), 0);
	assert_int_equal(dir.layout, 2);
	tail = dir.size % 4096;
	blk_end = (off | 4095) + 1;
	start = off + isize + 12;
	slots = (blk_end - tail + 1 - start + 3) / 4;
	assert_true(start + slots * 4 + tail > blk_end && start + slots * 4 < blk_end && start + slots * 4 + tail <= m->size);
	put16(p + 2, (uint16_t)(slots + 1));
	return EX_IGET;
}

/* The most xattr slots there are: on a small image that moves the tail past the end (on a large one it stays inside). */
static int m_xattr_max(struct mctx *m)
{
	uint8_t *p = inode_at(m, "a/b");
	if ((uint64_t)(p - m->b) + 64 + 12 + 0xfffeull * 4 + 4096 <= m->size)
		return EX_NA;
	put16(p + 2, 0xffff);
	return EX_IGET;
}
static int m_symlink_5000(struct mctx *m) { put32(inode_at(m, "rel") + 8, 5000); return EX_IGET; }
static int m_symlink_empty(struct mctx *m) { put32(inode_at(m, "rel") + 8, 0); return EX_IGET; }

static int m_symlink_nul(struct mctx *m)
{
	struct erofs_inode ino;
	uint64_t off, len;
	assert_int_equal(resolve(m->fs, "rel", &ino), 0);
	assert_int_equal(erofs_map(m->fs, &ino, 3, &off, &len), 0);
	m->b[off] = 0;
	m->nid = ino.nid;
	return EX_READLINK;
}

static const struct hostile {
	const char *name;
	int (*mutate)(struct mctx *m);
} hostile[] = {
	{ "bad-magic", m_bad_magic },
	{ "blkszbits-9", m_blkszbits_9 },
	{ "blkszbits-16", m_blkszbits_16 },
	{ "root-nid-range", m_root_nid_range },
	{ "root-nid-file", m_root_nid_file },
	{ "incompat-lz4", m_incompat_lz4 },
	{ "incompat-chunked", m_incompat_chunked },
	{ "meta-past-end", m_meta_past_end },
	{ "build-time-nsec", m_build_nsec },
	{ "root-layout-4", m_root_layout_4 },
	{ "blkaddr-past-end", m_blkaddr_past_end },
	{ "size-huge", m_size_huge },
	{ "size-2e63", m_size_2e63 },
	{ "layout-1", m_layout_1 },
	{ "layout-3", m_layout_3 },
	{ "layout-4", m_layout_4 },
	{ "layout-7", m_layout_7 },
	{ "format-unknown-bits", m_format_bits },
	{ "mode-type-0", m_mode_type_0 },
	{ "fifo-with-size", m_fifo_size },
	{ "dir-size-huge", m_dir_size_huge },
	{ "inline-block-aligned", m_inline_aligned },
	{ "nameoff-0", m_nameoff_0 },
	{ "nameoff-13", m_nameoff_13 },
	{ "nameoff-past-block", m_nameoff_past },
	{ "nameoff-0-second-block", m_nameoff_block1 },
	{ "root-nameoff-0", m_root_nameoff_0 },
	{ "root-nameoff-past-tail", m_nameoff_root_past },
	{ "nameoff-decreasing", m_nameoff_decreasing },
	{ "name-slash", m_name_slash },
	{ "name-nul", m_name_nul },
	{ "ftype-bad", m_ftype_bad },
	{ "loop-parent", m_loop_parent },
	{ "loop-self", m_loop_self },
	{ "dirent-nid-range", m_dirent_nid_range },
	{ "xattr-tail-past-block", m_xattr_tail_past_block },
	{ "xattr-count-max", m_xattr_max },
	{ "symlink-5000", m_symlink_5000 },
	{ "symlink-empty", m_symlink_empty },
	{ "symlink-nul", m_symlink_nul },
};

static void check_hostile(const uint8_t *b, uint64_t size, int expect, uint64_t nid, const char *loop_path)
{
	struct erofs_fs fs;
	struct erofs_inode ino;
	struct erofs_dirent d;
	struct walk w;
	uint64_t pos = 0, got;
	uint8_t ft;
	char link[4096];
	int rc = 0, steps = 0;

	switch (expect) {
	case EX_MOUNT:
		assert_int_equal(erofs_mount(&fs, b, size), -EROFS_EIO);
		break;
	case EX_IGET:
		assert_int_equal(erofs_mount(&fs, b, size), 0);
		assert_int_equal(erofs_iget(&fs, nid, &ino), -EROFS_EIO);
		break;
	case EX_DIR:
		assert_int_equal(erofs_mount(&fs, b, size), 0);
		assert_int_equal(erofs_iget(&fs, nid, &ino), 0);
		while (steps++ < 10000 && (rc = erofs_readdir(&fs, &ino, &pos, &d)) == 1)
			;
		assert_int_equal(rc, -EROFS_EIO);
		assert_int_equal(erofs_lookup(&fs, &ino, "zzzz", 4, &got, &ft), -EROFS_EIO);
		break;
	case EX_READLINK:
		assert_int_equal(erofs_mount(&fs, b, size), 0);
		assert_int_equal(erofs_iget(&fs, nid, &ino), 0);
		assert_int_equal(erofs_readlink(&fs, &ino, link, sizeof(link)), -EROFS_EIO);
		break;
	case EX_LOOP:
		assert_int_equal(erofs_mount(&fs, b, size), 0);
		/* Each lookup is a bounded scan; the loop only shows as a path that never ends. */
		assert_int_equal(resolve(&fs, loop_path, &ino), 0);
		assert_true(S_ISDIR(ino.mode));
		(void)nid;
		break;
	}
	walk_image(b, size, &w);
	assert_true(w.errors > 0 || w.limit);
	if (expect == EX_LOOP)
		assert_true(w.limit && w.errors == 0);
}

/* Applies each mutation to a copy of image b; with dir set, also keeps the results there as a corpus. */
static void run_hostile(const struct built *b, const char *dir)
{
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct mctx m = { .size = b->size, .fs = &b->fs };
		int expect;
		m.b = malloc(b->size);
		assert_non_null(m.b);
		memcpy(m.b, b->buf, b->size);
		expect = hostile[i].mutate(&m);
		if (expect != EX_NA) {
			if (getenv("EROFS_VERBOSE"))
				print_message("  %s/%s\n", b->tag, hostile[i].name);
			check_hostile(m.b, m.size, expect, m.nid, m.loop_path);
			if (dir) {
				char p[PATH_MAX];
				FILE *f;
				assert_true(m.size < CORPUS_MAX_BYTES);
				snprintf(p, sizeof(p), "%s/%s.img", dir, hostile[i].name);
				f = fopen(p, "wb");
				assert_non_null(f);
				assert_int_equal(fwrite(m.b, 1, m.size, f), m.size);
				fclose(f);
			}
		}
		free(m.b);
	}
}

static void test_hostile(void **state)
{
	(void)state;
	need_mkfs();
	for (int i = 0; i < IMG_COUNT; i++)
		run_hostile(&g.img[i], NULL);
}

/* Every prefix: an error, or (when only padding was cut) exactly what the whole image shows. */
static void test_truncated(void **state)
{
	(void)state;
	need_mkfs();
	for (int i = 0; i < IMG_COUNT; i++) {
		const struct built *b = &g.img[i];
		struct walk full, w;
		walk_image(b->buf, b->size, &full);
		assert_int_equal(full.errors, 0);
		assert_int_equal(full.limit, 0);
		for (uint64_t k = 0;; k++) {
			uint64_t n = k < 3 ? (uint64_t[]){ 0, 1, 1100 }[k] : (k - 2) * 512;
			if (n > b->size)
				n = b->size;
			uint8_t *t = malloc(n ? n : 1);
			assert_non_null(t);
			memcpy(t, b->buf, n);
			walk_image(t, n, &w);
			if (n < b->size)
				assert_true(w.errors > 0 || w.digest == full.digest);
			else
				assert_int_equal(w.digest, full.digest);
			if (n <= 1100)
				assert_true(w.errors > 0);
			free(t);
			if (n >= b->size)
				break;
		}
	}
}

static void test_api_edges(void **state)
{
	struct erofs_fs fs;
	static uint8_t zero[8192];
	(void)state;
	assert_int_equal(erofs_mount(&fs, NULL, 8192), -EROFS_EIO);
	assert_int_equal(erofs_mount(&fs, zero, 0), -EROFS_EIO);
	assert_int_equal(erofs_mount(&fs, zero, sizeof(zero)), -EROFS_EIO);
	/* A superblock that is only a superblock: the root inode does not exist. */
	put32(zero + 1024, 0xE0F5E1E2u);
	zero[1024 + 12] = 12;
	assert_int_equal(erofs_mount(&fs, zero, 1024 + 128), -EROFS_EIO);
	assert_int_equal(erofs_mount(&fs, zero, 1024 + 127), -EROFS_EIO);
}

/* Writes the corpus from the small inline image: run with EROFS_CORPUS_WRITE=tests/unit/erofs-corpus. */
static void test_write_corpus(void **state)
{
	const char *dir = getenv("EROFS_CORPUS_WRITE");
	(void)state;
	if (!dir)
		return;   /* an ordinary run: nothing to write */
	need_mkfs();
	run_hostile(&g.img[IMG_SMALL_INLINE], dir);
	for (int i = IMG_SMALL_NOINLINE; i <= IMG_SMALL_INLINE; i++) {
		char p[PATH_MAX];
		FILE *f;
		snprintf(p, sizeof(p), "%s/good-%s.img", dir, g.img[i].tag + 6);
		f = fopen(p, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(g.img[i].buf, 1, g.img[i].size, f), g.img[i].size);
		fclose(f);
	}
	static const uint64_t cuts[] = { 1100, 4096, 8192, 12288 };
	for (unsigned i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		char p[PATH_MAX];
		FILE *f;
		struct walk w;
		walk_image(g.img[IMG_SMALL_INLINE].buf, cuts[i], &w);
		if (!w.errors)
			continue;   /* only padding was cut: nothing hostile to keep */
		snprintf(p, sizeof(p), "%s/truncated-%llu.img", dir, (unsigned long long)cuts[i]);
		f = fopen(p, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(g.img[IMG_SMALL_INLINE].buf, 1, cuts[i], f), cuts[i]);
		fclose(f);
	}
}

/*
 * The kept corpus, whether or not mkfs.erofs is here: good-*.img walk clean,
 * other *.img show an error or the walk limit, and every file gets only
 * errors or valid answers.
 */
static void test_corpus(void **state)
{
	const char *dir = getenv("EROFS_CORPUS");
	struct dirent *e;
	DIR *dh;
	int n = 0;
	(void)state;
	if (!dir)
		dir = "tests/unit/erofs-corpus";
	dh = opendir(dir);
	if (!dh)
		fail_msg("cannot open the corpus %s (%s): run from the repository root or set EROFS_CORPUS", dir,
			 strerror(errno));
	while ((e = readdir(dh))) {
		char p[PATH_MAX];
		uint8_t *buf;
		uint64_t size;
		struct walk w;
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		assert_int_equal(load_file(p, &buf, &size), 0);
		walk_image(buf, size, &w);
		if (!strncmp(e->d_name, "good-", 5)) {
			assert_int_equal(w.errors, 0);
			assert_int_equal(w.limit, 0);
			assert_true(w.inodes > 10);
		} else if (strstr(e->d_name, ".img") && !(w.errors > 0 || w.limit)) {
			/* Our crafted images must show what they break; libFuzzer's additions (hex names) need only not crash. */
			fail_msg("%s: walked without an error", p);
		}
		free(buf);
		n++;
	}
	closedir(dh);
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_edges),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_tree_noinline),
		cmocka_unit_test(test_tree_inline),
		cmocka_unit_test(test_tree_small),
		cmocka_unit_test(test_readdir_any_pos),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_write_corpus),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
