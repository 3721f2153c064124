/* erofs.c: reader of uncompressed EROFS images (erofs-utils 1.5 layout) that bounds-checks every byte it touches. */
#include <stddef.h>
#include <stdint.h>
#include "erofs.h"

/* On-disk constants of the format (private: no kernel headers here). */
#define EROFS_SB_OFF       1024u
#define EROFS_SB_SIZE      128u
#define EROFS_MAGIC        0xE0F5E1E2u
#define EROFS_BLKBITS      12u
#define EROFS_BLKSZ        4096u
#define EROFS_SLOT         32u    /* nid granularity in the inode area */
#define EROFS_ICOMPACT     32u
#define EROFS_IEXTENDED    64u
#define EROFS_DIRENT       12u
#define EROFS_SYMLINK_MAX  4095u
#define EROFS_NSEC_MAX     999999999u

/*
 * No incompat feature is supported: plain mkfs.erofs 1.5 images carry none
 * (only the compat SB_CHKSUM|MTIME bits, which a reader may ignore), and every
 * incompat bit (zero padding/compression, chunks, device tables, ...) changes
 * how data is found.
 */
#define EROFS_INCOMPAT_SUPPORTED 0u

#define EROFS_LAYOUT_FLAT_PLAIN  0u
#define EROFS_LAYOUT_FLAT_INLINE 2u
#define EROFS_FORMAT_KNOWN_BITS  0xFu /* version (bit 0) and data layout (bits 1-3) */

#define EROFS_S_IFMT   0170000u
#define EROFS_S_IFSOCK 0140000u
#define EROFS_S_IFLNK  0120000u
#define EROFS_S_IFREG  0100000u
#define EROFS_S_IFBLK  0060000u
#define EROFS_S_IFDIR  0040000u
#define EROFS_S_IFCHR  0020000u
#define EROFS_S_IFIFO  0010000u

/* Byte-wise little-endian loads: the image may sit at any alignment, and the format is LE whatever the host is. */
static uint16_t erofs_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static uint32_t erofs_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t erofs_le64(const uint8_t *p)
{
	return (uint64_t)erofs_le32(p) | (uint64_t)erofs_le32(p + 4) << 32;
}

/* [off, off+len) lies inside the image; written so that no sum can wrap. */
static int erofs_in_image(const struct erofs_fs *fs, uint64_t off, uint64_t len)
{
	return off <= fs->size && len <= fs->size - off;
}

/*
 * The empty asm hides the index from the optimiser, so gcc cannot turn the
 * loop into a memcpy call: the freestanding kernel object must not depend on
 * a libc symbol.
 */
static void erofs_copy(uint8_t *d, const uint8_t *s, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		__asm__("" : "+r"(i));
		d[i] = s[i];
	}
}

static int erofs_is_dir(const struct erofs_inode *ino)
{
	return (ino->mode & EROFS_S_IFMT) == EROFS_S_IFDIR;
}

/* Bytes of the file kept in whole blocks at data_off; the rest (FLAT_INLINE only) is the inline tail. */
static uint64_t erofs_body_len(const struct erofs_inode *ino)
{
	if (ino->layout == EROFS_LAYOUT_FLAT_INLINE)
		return ino->size & ~(uint64_t)(EROFS_BLKSZ - 1);
	return ino->size;
}

int erofs_mount(struct erofs_fs *fs, const void *img, uint64_t size)
{
	struct erofs_inode root;
	const uint8_t *sb;

	fs->img = NULL;
	fs->size = 0;
	if (!img || size < EROFS_SB_OFF + EROFS_SB_SIZE)
		return -EROFS_EIO;
	sb = (const uint8_t *)img + EROFS_SB_OFF;
	if (erofs_le32(sb) != EROFS_MAGIC || sb[12] != EROFS_BLKBITS)
		return -EROFS_EIO;
	if (erofs_le32(sb + 80) & ~EROFS_INCOMPAT_SUPPORTED)
		return -EROFS_EIO;
	fs->img = img;
	fs->size = size;
	fs->blkszbits = EROFS_BLKBITS;
	fs->root_nid = erofs_le16(sb + 14);
	fs->inos = erofs_le64(sb + 16);
	fs->build_time = erofs_le64(sb + 24);
	fs->build_time_nsec = erofs_le32(sb + 32);
	fs->meta_off = (uint64_t)erofs_le32(sb + 40) << EROFS_BLKBITS;
	/* Compact inodes report build_time: a bogus nanosecond count would reach stat() unchecked. */
	if (fs->meta_off >= size || fs->build_time_nsec > EROFS_NSEC_MAX)
		goto bad;
	if (erofs_iget(fs, fs->root_nid, &root) || !erofs_is_dir(&root))
		goto bad;
	return 0;
bad:
	fs->img = NULL;
	fs->size = 0;
	return -EROFS_EIO;
}

int erofs_iget(const struct erofs_fs *fs, uint64_t nid, struct erofs_inode *out)
{
	uint64_t avail, off, isize, xsize, size, body, tail, data_off = 0, tail_off = 0;
	uint16_t format, icount, mode;
	uint32_t iu;
	const uint8_t *p;
	uint8_t layout;

	if (!fs->img || fs->meta_off > fs->size)
		return -EROFS_EIO;
	avail = fs->size - fs->meta_off;
	if (avail < EROFS_ICOMPACT || nid > (avail - EROFS_ICOMPACT) / EROFS_SLOT)
		return -EROFS_EIO;
	off = fs->meta_off + nid * EROFS_SLOT;
	p = fs->img + off;
	format = erofs_le16(p);
	if (format & ~EROFS_FORMAT_KNOWN_BITS)
		return -EROFS_EIO;
	isize = (format & 1) ? EROFS_IEXTENDED : EROFS_ICOMPACT;
	if (!erofs_in_image(fs, off, isize))
		return -EROFS_EIO;
	layout = (uint8_t)((format >> 1) & 7);
	if (layout != EROFS_LAYOUT_FLAT_PLAIN && layout != EROFS_LAYOUT_FLAT_INLINE)
		return -EROFS_EIO;   /* compressed (1, 3), chunk-based (4) and unknown layouts */
	icount = erofs_le16(p + 2);
	xsize = icount ? 12 + ((uint64_t)icount - 1) * 4 : 0;
	mode = erofs_le16(p + 4);
	iu = erofs_le32(p + 16);

	out->nid = nid;
	out->mode = mode;
	out->ino = erofs_le32(p + 20);
	out->layout = layout;
	out->rdev = 0;
	if (format & 1) {
		size = erofs_le64(p + 8);
		out->uid = erofs_le32(p + 24);
		out->gid = erofs_le32(p + 28);
		out->mtime = erofs_le64(p + 32);
		out->mtime_nsec = erofs_le32(p + 40);
		out->nlink = erofs_le32(p + 44);
		if (out->mtime_nsec > EROFS_NSEC_MAX)
			return -EROFS_EIO;
	} else {
		size = erofs_le32(p + 8);
		out->nlink = erofs_le16(p + 6);
		out->uid = erofs_le16(p + 24);
		out->gid = erofs_le16(p + 26);
		out->mtime = fs->build_time;
		out->mtime_nsec = fs->build_time_nsec;
	}
	out->size = size;

	switch (mode & EROFS_S_IFMT) {
	case EROFS_S_IFLNK:
		if (size == 0 || size > EROFS_SYMLINK_MAX)
			return -EROFS_EIO;
		break;
	case EROFS_S_IFREG:
	case EROFS_S_IFDIR:
		break;
	case EROFS_S_IFCHR:
	case EROFS_S_IFBLK:
	case EROFS_S_IFIFO:
	case EROFS_S_IFSOCK:
		/* i_u holds the device number here, not a block address: there is no data to map. */
		if (size != 0)
			return -EROFS_EIO;
		out->rdev = iu;
		out->data_off = 0;
		out->tail_off = 0;
		return 0;
	default:
		return -EROFS_EIO;
	}

	body = erofs_body_len(out);
	tail = size - body;
	/* mkfs only inlines a partial block: a block-aligned inline file would need a whole block after its inode. */
	if (layout == EROFS_LAYOUT_FLAT_INLINE && size != 0 && tail == 0)
		return -EROFS_EIO;
	if (body) {
		data_off = (uint64_t)iu << EROFS_BLKBITS;
		if (!erofs_in_image(fs, data_off, body))
			return -EROFS_EIO;
	}
	if (tail) {
		/* The tail follows the inode and its inline xattrs directly, and must stay within one block. */
		if (!erofs_in_image(fs, off, isize + xsize + tail))
			return -EROFS_EIO;
		tail_off = off + isize + xsize;
		if ((tail_off & (EROFS_BLKSZ - 1)) + tail > EROFS_BLKSZ)
			return -EROFS_EIO;
	}
	out->data_off = data_off;
	out->tail_off = tail_off;
	return 0;
}

int erofs_map(const struct erofs_fs *fs, const struct erofs_inode *ino, uint64_t off, uint64_t *img_off, uint64_t *len)
{
	uint64_t body;

	if (off >= ino->size)
		return -EROFS_EINVAL;
	if (ino->layout != EROFS_LAYOUT_FLAT_PLAIN && ino->layout != EROFS_LAYOUT_FLAT_INLINE)
		return -EROFS_EIO;
	/* Checked again though iget did: the inode struct belongs to the caller, the bound is what keeps reads in the image. */
	body = erofs_body_len(ino);
	if (off < body) {
		if (!erofs_in_image(fs, ino->data_off, body))
			return -EROFS_EIO;
		*img_off = ino->data_off + off;
		*len = body - off;
		return 0;
	}
	if (!erofs_in_image(fs, ino->tail_off, ino->size - body))
		return -EROFS_EIO;
	*img_off = ino->tail_off + (off - body);
	*len = ino->size - off;
	return 0;
}

long erofs_read(const struct erofs_fs *fs, const struct erofs_inode *ino, uint64_t off, void *buf, uint64_t len)
{
	uint8_t *dst = buf;
	uint64_t done = 0, src, n;

	if (off >= ino->size)
		return 0;
	if (len > ino->size - off)
		len = ino->size - off;
	if (len > (uint64_t)(~0ul >> 1))
		len = ~0ul >> 1;
	/* At most two rounds: the block-aligned body, then the inline tail; each map yields at least one byte. */
	while (done < len) {
		if (erofs_map(fs, ino, off + done, &src, &n))
			return -EROFS_EIO;
		if (n > len - done)
			n = len - done;
		erofs_copy(dst + done, fs->img + src, n);
		done += n;
	}
	return (long)done;
}

/* ---- directories ---- */

struct erofs_dirblk {
	const uint8_t *p;
	uint32_t len;      /* bytes of the block that belong to the directory */
	uint32_t n;        /* dirents */
};

static uint64_t erofs_dir_blocks(const struct erofs_inode *dir)
{
	return (dir->size >> EROFS_BLKBITS) + ((dir->size & (EROFS_BLKSZ - 1)) != 0);
}

/*
 * Locate directory block blk and validate its table: the first nameoff gives
 * the entry count, and the nameoffs must rise strictly (no empty name) and
 * stay inside the block, so every name below is in bounds.
 */
static int erofs_dirblk_load(const struct erofs_fs *fs, const struct erofs_inode *dir, uint64_t blk,
			     struct erofs_dirblk *b)
{
	uint64_t img_off, n;
	uint32_t i, no, prev;

	if (erofs_map(fs, dir, blk << EROFS_BLKBITS, &img_off, &n))
		return -EROFS_EIO;
	b->p = fs->img + img_off;
	b->len = n < EROFS_BLKSZ ? (uint32_t)n : EROFS_BLKSZ;
	if (b->len < EROFS_DIRENT)
		return -EROFS_EIO;
	prev = erofs_le16(b->p + 8);
	if (prev < EROFS_DIRENT || prev % EROFS_DIRENT || prev >= b->len)
		return -EROFS_EIO;
	b->n = prev / EROFS_DIRENT;
	for (i = 1; i < b->n; i++) {
		no = erofs_le16(b->p + i * EROFS_DIRENT + 8);
		if (no <= prev || no >= b->len)
			return -EROFS_EIO;
		prev = no;
	}
	return 0;
}

/* Entry i of a validated block: its name (the last one runs to the end of the block, NUL padding trimmed). */
static int erofs_dirblk_entry(const struct erofs_dirblk *b, uint32_t i, const uint8_t **name, uint32_t *namelen,
			      uint64_t *nid, uint8_t *ftype)
{
	const uint8_t *de = b->p + i * EROFS_DIRENT;
	uint32_t start = erofs_le16(de + 8), end, k;

	if (i + 1 < b->n) {
		end = erofs_le16(de + EROFS_DIRENT + 8);
	} else {
		for (end = start; end < b->len && b->p[end]; end++)
			;
	}
	if (end - start == 0 || end - start > EROFS_NAME_MAX)
		return -EROFS_EIO;
	for (k = start; k < end; k++)
		if (b->p[k] == '/' || b->p[k] == 0)
			return -EROFS_EIO;
	if (de[10] > EROFS_FT_SYMLINK)
		return -EROFS_EIO;
	*name = b->p + start;
	*namelen = end - start;
	*nid = erofs_le64(de);
	*ftype = de[10];
	return 0;
}

/*
 * A linear scan of every block: directories are sorted, but trusting that on
 * a hostile image buys nothing, and each block is validated as it is read.
 */
int erofs_lookup(const struct erofs_fs *fs, const struct erofs_inode *dir, const char *name, size_t namelen,
		 uint64_t *nid, uint8_t *ftype)
{
	struct erofs_dirblk b;
	const uint8_t *dn;
	uint64_t blk, nblk, dnid;
	uint32_t i, dlen, k;
	uint8_t dft;

	if (!erofs_is_dir(dir))
		return -EROFS_ENOTDIR;
	if (namelen > EROFS_NAME_MAX)
		return -EROFS_ENAMETOOLONG;
	if (namelen == 0)
		return -EROFS_ENOENT;
	nblk = erofs_dir_blocks(dir);
	for (blk = 0; blk < nblk; blk++) {
		if (erofs_dirblk_load(fs, dir, blk, &b))
			return -EROFS_EIO;
		for (i = 0; i < b.n; i++) {
			if (erofs_dirblk_entry(&b, i, &dn, &dlen, &dnid, &dft))
				return -EROFS_EIO;
			if (dlen != namelen)
				continue;
			for (k = 0; k < dlen && dn[k] == (uint8_t)name[k]; k++)
				;
			if (k == dlen) {
				*nid = dnid;
				*ftype = dft;
				return 0;
			}
		}
	}
	return -EROFS_ENOENT;
}

/*
 * *pos is the byte offset of the next dirent in the directory. It may come
 * from a program's lseek, so any value is accepted: past the end is the end,
 * an index past a block's table moves on to the next block.
 */
int erofs_readdir(const struct erofs_fs *fs, const struct erofs_inode *dir, uint64_t *pos, struct erofs_dirent *out)
{
	struct erofs_dirblk b;
	const uint8_t *name;
	uint64_t blk = *pos >> EROFS_BLKBITS, nblk;
	uint32_t i = (uint32_t)(*pos & (EROFS_BLKSZ - 1)) / EROFS_DIRENT, len;

	if (!erofs_is_dir(dir))
		return -EROFS_ENOTDIR;
	nblk = erofs_dir_blocks(dir);
	if (blk >= nblk)
		return 0;
	if (erofs_dirblk_load(fs, dir, blk, &b))
		return -EROFS_EIO;
	if (i >= b.n) {
		/* A validated block has at least one entry, so one step suffices. */
		i = 0;
		if (++blk >= nblk) {
			*pos = blk << EROFS_BLKBITS;
			return 0;
		}
		if (erofs_dirblk_load(fs, dir, blk, &b))
			return -EROFS_EIO;
	}
	if (erofs_dirblk_entry(&b, i, &name, &len, &out->nid, &out->ftype))
		return -EROFS_EIO;
	erofs_copy((uint8_t *)out->name, name, len);
	out->name[len] = '\0';
	out->namelen = (uint16_t)len;
	*pos = i + 1 < b.n ? (blk << EROFS_BLKBITS) + (uint64_t)(i + 1) * EROFS_DIRENT : (blk + 1) << EROFS_BLKBITS;
	return 1;
}

long erofs_readlink(const struct erofs_fs *fs, const struct erofs_inode *ino, char *buf, size_t size)
{
	long n;
	uint64_t k;

	if ((ino->mode & EROFS_S_IFMT) != EROFS_S_IFLNK)
		return -EROFS_EINVAL;
	if (ino->size == 0 || ino->size > EROFS_SYMLINK_MAX)
		return -EROFS_EIO;
	if (size <= ino->size)
		return -EROFS_ENAMETOOLONG;
	n = erofs_read(fs, ino, 0, buf, ino->size);
	if (n < 0 || (uint64_t)n != ino->size)
		return -EROFS_EIO;
	for (k = 0; k < ino->size; k++)
		if (buf[k] == '\0')
			return -EROFS_EIO;
	buf[n] = '\0';
	return n;
}
