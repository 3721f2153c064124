/* hostfs.h: host directories (--mount) in the guest's VFS. */
#ifndef GUEST_HOSTFS_H
#define GUEST_HOSTFS_H

#include "kernel/kernel.h"

struct vnode;

/* What a vnode of a mount knows about its host node. */
struct hostnode {
	uint32_t h;                 /* the VMM's node handle (0 for a file just created: created_fh stands in) */
	uint32_t created_fh;        /* O_CREAT made the file: the read-write handle of that open */
	uint32_t rh;                /* a read handle for exec and mmap, opened on first use */
	uint16_t mount;
	uint8_t is_root;            /* a mount's root: its handle is the VMM's for the VM's life */
	uint8_t stale;              /* written or changed here: fetch the attributes again before reporting them */
	struct lbvm_io_attr a;      /* as the host last said */
	uint64_t size;              /* at least a.size: includes writes still on their way */
	uint8_t *rd;                /* directories: the last batch of entries */
	uint32_t rd_len;
	int rd_valid;
	uint64_t rd_cookie;         /* the cursor the batch was read at */
	struct hshare *share;       /* the file's pages for shared mappings, once one asked (hostfs_map.c) */
};

extern const struct vnode_ops hostfs_ops;
unsigned hostfs_nmounts(void);
const char *hostfs_mount_path(unsigned i);
/* If canon is a mount's guest path, a fresh vnode for its root whose ".." is parent; else NULL. */
struct vnode *hostfs_cross(const char *canon, struct vnode *parent, const char *name, size_t len);
int hostfs_readonly(struct vnode *vn);
int hostfs_mount_readonly(unsigned i);    /* mount i is read-only */
void hostfs_sync_all(void);    /* every buffered write of the VM reaches the host */
void hostfs_exit_flush(void);  /* the VM ends: pages written through shared mappings, then buffered writes, reach the host */

/* hostfs.c, for hostfs_map.c */
void *hostfs_bounce_get(uint32_t len);            /* a physically contiguous buffer (up to 1 MiB), or NULL */
void hostfs_bounce_put(void *buf, uint32_t len);
int64_t hostfs_open_handle(struct vnode *vn, uint32_t flags, uint32_t *fh);  /* a fresh handle of vn's file */
void hostfs_sync_ino(uint16_t mount, uint64_t ino);   /* writes collecting for that file reach the host */
void hostfs_drop_reads(uint16_t mount, uint64_t ino); /* what was read ahead of that file is stale */

/* hostfs_map.c: the pages of host files mapped shared */
struct hshare;
uint64_t hostfs_share_page(struct vnode *vn, uint64_t off, int write);   /* vnode op share_page */
int hostfs_share_writeback(struct vnode *vn, uint64_t off, uint64_t len); /* vnode op writeback */
void hostfs_share_put(struct hostnode *h);
void hostfs_share_flush_all(void);
int hostfs_share_copy(const struct hostnode *h, uint64_t buf, uint64_t off, uint64_t len, int to_pages, int user);
void hostfs_share_resize(const struct hostnode *h, uint64_t size);

#endif
