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
};

extern const struct vnode_ops hostfs_ops;
unsigned hostfs_nmounts(void);
const char *hostfs_mount_path(unsigned i);
/* If canon is a mount's guest path, a fresh vnode for its root whose ".." is parent; else NULL. */
struct vnode *hostfs_cross(const char *canon, struct vnode *parent, const char *name, size_t len);
int hostfs_readonly(struct vnode *vn);
int hostfs_mount_readonly(unsigned i);    /* mount i is read-only */
void hostfs_sync_all(void);    /* every buffered write of the VM reaches the host */

#endif
