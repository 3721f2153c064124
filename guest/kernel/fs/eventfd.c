/* eventfd.c: eventfd2: a 64-bit counter read and written in 8-byte units, in semaphore mode or not. */
#include "kernel/proc/proc.h"
#include "kernel/syscall.h"
#include "anon.h"

#define EFD_SEMAPHORE 1
#define EFD_MAX (~0ull - 1)   /* the counter's ceiling: a write that would pass it blocks */

struct eventfd {
	uint64_t count;
	int semaphore;
};

static void efd_changed(struct eventfd *e)
{
	sched_wakeup(e);
	poll_wake();
}

static long efd_read(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)off;
	struct eventfd *e = (struct eventfd *)f->vn->priv;
	if (len < 8)
		return -EINVAL;
	while (e->count == 0) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		sched_sleep(e);
		if (signal_pending())
			return -EINTR;
	}
	uint64_t v = e->semaphore ? 1 : e->count;
	if (copy_to_user(ubuf, &v, 8))
		return -EFAULT;
	e->count -= v;
	efd_changed(e);
	return 8;
}

static long efd_write(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)off;
	struct eventfd *e = (struct eventfd *)f->vn->priv;
	uint64_t v;
	if (len < 8)
		return -EINVAL;
	if (copy_from_user(&v, ubuf, 8))
		return -EFAULT;
	if (v == ~0ull)
		return -EINVAL;
	while (EFD_MAX - e->count < v) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		sched_sleep(e);
		if (signal_pending())
			return -EINTR;
	}
	e->count += v;
	if (v)
		efd_changed(e);
	return 8;
}

static unsigned efd_poll(struct file *f)
{
	struct eventfd *e = (struct eventfd *)f->vn->priv;
	return (e->count ? POLLIN | POLLRDNORM : 0) | (e->count < EFD_MAX ? POLLOUT | POLLWRNORM : 0);
}

static void efd_release(struct vnode *vn)
{
	kfree((void *)vn->priv, sizeof(struct eventfd));
}

static const struct vnode_ops eventfd_ops = { .read = efd_read, .write = efd_write, .poll = efd_poll, .release = efd_release };

SYS(eventfd2)
{
	UNUSED_ARGS();
	if (a1 & ~(uint64_t)(EFD_SEMAPHORE | O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	struct eventfd *e = kmalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->count = (uint32_t)a0;
	e->semaphore = (a1 & EFD_SEMAPHORE) != 0;
	return anon_fd_new(&eventfd_ops, e, (uint32_t)a1, "anon_inode:[eventfd]");
}

SYS(eventfd) { UNUSED_ARGS(); return sys_eventfd2(a0, 0, 0, 0, 0, 0); }
