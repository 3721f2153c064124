/* erofs.h: a reader of uncompressed EROFS images that treats every byte of the image as hostile. */
#ifndef GUEST_LIB_EROFS_H
#define GUEST_LIB_EROFS_H

#include <stddef.h>
#include <stdint.h>

/* Errors are negative Linux errno values. */
#define EROFS_ENOENT       2
#define EROFS_EIO          5
#define EROFS_ENOTDIR      20
#define EROFS_EINVAL       22
#define EROFS_ENAMETOOLONG 36

#define EROFS_NAME_MAX 255

/* File types as in dirents (and Linux's DT_* after conversion by the caller). */
enum { EROFS_FT_UNKNOWN, EROFS_FT_REG, EROFS_FT_DIR, EROFS_FT_CHR, EROFS_FT_BLK, EROFS_FT_FIFO, EROFS_FT_SOCK, EROFS_FT_SYMLINK };

struct erofs_fs {
	const uint8_t *img;
	uint64_t size;          /* bytes of the image that exist */
	uint32_t blkszbits;     /* 12: only 4 KiB blocks are accepted */
	uint64_t meta_off;      /* byte offset of the inode area (meta_blkaddr << blkszbits) */
	uint64_t root_nid;
	uint64_t inos;          /* inode count from the superblock (informational) */
	uint64_t build_time;
	uint32_t build_time_nsec;
};

struct erofs_inode {
	uint64_t nid;
	uint16_t mode;          /* S_IF* | permission bits */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t mtime;
	uint32_t mtime_nsec;
	uint32_t rdev;
	uint64_t ino;           /* the inode number reported to programs */
	uint8_t layout;         /* 0 FLAT_PLAIN, 2 FLAT_INLINE (others refused with -EIO at iget) */
	uint64_t data_off;      /* FLAT_*: byte offset of block-aligned data in the image */
	uint64_t tail_off;      /* FLAT_INLINE: byte offset of the inline tail in the image */
};

/*
 * Validate the superblock. 0, or -EIO for a bad image (too small, bad magic,
 * block size, any incompat feature bit, root not a valid directory).
 */
int erofs_mount(struct erofs_fs *fs, const void *img, uint64_t size);

/*
 * Read and validate inode nid: in range, its header inside the image, a known
 * format and layout, all its data (blocks and inline tail) inside the image.
 * 0, or -EIO.
 */
int erofs_iget(const struct erofs_fs *fs, uint64_t nid, struct erofs_inode *out);

/*
 * Where byte `off` of the file lives in the image: *img_off, and how many
 * bytes from there are contiguous and belong to the file (*len, at most
 * size - off). 0, or -EINVAL if off >= size, or -EIO.
 */
int erofs_map(const struct erofs_fs *fs, const struct erofs_inode *ino, uint64_t off, uint64_t *img_off, uint64_t *len);

/* Copy up to len bytes from offset off. Returns bytes copied (0 at or past end), or -EIO. */
long erofs_read(const struct erofs_fs *fs, const struct erofs_inode *ino, uint64_t off, void *buf, uint64_t len);

/* Look name (namelen bytes, no NUL needed) up in directory dir. 0 with *nid and *ftype, -ENOENT, -ENOTDIR, -ENAMETOOLONG or -EIO. */
int erofs_lookup(const struct erofs_fs *fs, const struct erofs_inode *dir, const char *name, size_t namelen,
		 uint64_t *nid, uint8_t *ftype);

struct erofs_dirent {
	uint64_t nid;
	uint8_t ftype;
	uint16_t namelen;
	char name[EROFS_NAME_MAX + 1];  /* NUL-terminated copy */
};

/*
 * Iterate a directory, "." and ".." included, in on-disk order. *pos is an
 * opaque cursor: start at 0. Returns 1 with *out filled and *pos advanced, 0
 * at the end, or -ENOTDIR / -EIO. Names with '/' or NUL, empty names, and
 * names past the block are -EIO. Any *pos value is safe (it may come from a
 * program's lseek): it yields an entry or the end.
 */
int erofs_readdir(const struct erofs_fs *fs, const struct erofs_inode *dir, uint64_t *pos, struct erofs_dirent *out);

/* Read a symlink's target into buf (NUL-terminated). Length, or -EINVAL (not a symlink), -ENAMETOOLONG, -EIO. */
long erofs_readlink(const struct erofs_fs *fs, const struct erofs_inode *ino, char *buf, size_t size);

#endif
