/* tmpfs.h: in-memory files and directories: the writable upper layer over the read-only image. */
#ifndef GUEST_TMPFS_H
#define GUEST_TMPFS_H

#include "kernel/kernel.h"

struct tnode;
struct pipe;
void pipe_free(struct pipe *p);

/* One name in a tmpfs directory. node == NULL is a whiteout: the name is deleted from the image below. */
struct tdirent {
	struct tdirent *next;
	struct tnode *node;
	uint16_t len;
	char name[];
};

struct tnode {
	uint32_t mode, uid, gid, nlink;
	int refs;                    /* open files and vnodes holding it */
	int opaque;                  /* a directory that hides the image's directory of the same path */
	uint64_t ino, size;
	int64_t mtime, mtime_nsec;
	uint64_t *index;             /* regular files: page holding up to 512 leaf pages of 512 data pages */
	struct tdirent *children;    /* directories */
	char *target;                /* symlinks, PATH_MAX bytes */
	struct pipe *fifo;           /* FIFOs: the pipe behind it, once opened */
};

struct tnode *tmp_new(uint32_t mode);
void tmp_get(struct tnode *t);
void tmp_put(struct tnode *t);
struct tdirent *tmp_find(struct tnode *dir, const char *name, size_t len);
int tmp_link(struct tnode *dir, const char *name, size_t len, struct tnode *t);   /* add or replace; t may be NULL (whiteout) */
void tmp_unlink(struct tnode *dir, struct tdirent *d);
long tmp_read(struct tnode *t, void *kbuf, uint64_t len, uint64_t off);
long tmp_read_user(struct tnode *t, uint64_t ubuf, uint64_t len, uint64_t off);
long tmp_write_user(struct tnode *t, uint64_t ubuf, uint64_t len, uint64_t off);
long tmp_write(struct tnode *t, const void *kbuf, uint64_t len, uint64_t off);
uint64_t tmp_page(struct tnode *t, uint64_t off);   /* for MAP_SHARED */
int tmp_truncate(struct tnode *t, uint64_t size);
void tmp_touch(struct tnode *t);
/* A vnode for a new tmpfs file of size bytes that no directory names (memfd, shared anonymous memory); NULL: no memory. */
struct vnode *tmp_unnamed(const char *tag, uint32_t perm, uint64_t size);

#endif
