/* anon.c: anonymous files (eventfd, timerfd, signalfd, epoll), each on a vnode of its own. */
#include "kernel/proc/proc.h"
#include "anon.h"

static uint64_t next_ino = 0x70000;

int anon_fd_new(const struct vnode_ops *ops, void *priv, uint32_t flags, const char *name)
{
	struct vnode *vn = kmalloc(sizeof(*vn));
	if (!vn) {
		if (ops->release) {
			struct vnode tmp = { .ops = ops, .priv = priv };
			ops->release(&tmp);
		}
		return -ENOMEM;
	}
	vn->ops = ops;
	vn->refs = 1;
	vn->mode = 0600;   /* Linux's anonymous inode has no file type */
	vn->ino = next_ino++;
	vn->stream = 1;
	vn->priv = priv;
	struct file *f = file_new(vn, O_RDWR | (flags & O_NONBLOCK), name);
	if (!f) {
		vn_put(vn);
		return -ENOMEM;
	}
	return fd_install(f, 0, (flags & O_CLOEXEC) != 0);
}

void *anon_priv(struct file *f, const struct vnode_ops *ops)
{
	return f && f->vn->ops == ops ? (void *)f->vn->priv : NULL;
}
