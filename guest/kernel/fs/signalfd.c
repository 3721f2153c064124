/* signalfd.c: signalfd4: pending signals of a mask read as struct signalfd_siginfo (the caller blocks them, as on Linux). */
#include "kernel/proc/proc.h"
#include "kernel/syscall.h"
#include "anon.h"

struct signalfd_siginfo_k {
	uint32_t signo;
	int32_t errno_, code;
	uint32_t pid, uid;
	int32_t fd;
	uint32_t tid, band, overrun, trapno;
	int32_t status, int_;
	uint64_t ptr, utime, stime, addr;
	uint16_t addr_lsb;
	uint8_t pad[46];
};
_Static_assert(sizeof(struct signalfd_siginfo_k) == 128, "signalfd_siginfo");

struct signalfd {
	uint64_t mask;
};

static long sfd_read(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)off;
	struct signalfd *s = (struct signalfd *)f->vn->priv;
	if (len < sizeof(struct signalfd_siginfo_k))
		return -EINVAL;
	uint64_t done = 0;
	while (done + sizeof(struct signalfd_siginfo_k) <= len) {
		struct ksiginfo ki;
		int sig = signal_dequeue(s->mask, &ki);
		if (!sig) {
			if (done)
				break;
			if (f->flags & O_NONBLOCK)
				return -EAGAIN;
			poll_wait();   /* signal_post wakes pollers when a blocked signal becomes pending */
			if (signal_pending())
				return -EINTR;
			continue;
		}
		struct signalfd_siginfo_k o = { 0 };
		o.signo = (uint32_t)sig;
		o.code = ki.code;
		o.pid = (uint32_t)ki.pid;
		o.status = ki.status;
		o.addr = ki.addr;
		if (copy_to_user(ubuf + done, &o, sizeof(o)))
			return done ? (long)done : -EFAULT;
		done += sizeof(o);
	}
	return (long)done;
}

static unsigned sfd_poll(struct file *f)
{
	struct signalfd *s = (struct signalfd *)f->vn->priv;
	return signal_pending_set() & s->mask ? POLLIN | POLLRDNORM : 0;
}

static void sfd_release(struct vnode *vn)
{
	kfree((void *)vn->priv, sizeof(struct signalfd));
}

static const struct vnode_ops signalfd_ops = { .read = sfd_read, .poll = sfd_poll, .release = sfd_release };

SYS(signalfd4)
{
	UNUSED_ARGS();
	uint64_t mask;
	if (a2 != 8)
		return -EINVAL;
	if (a3 & ~(uint64_t)(O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	if (copy_from_user(&mask, a1, 8))
		return -EFAULT;
	mask &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
	if ((int)a0 != -1) {
		struct file *f = fd_get((int)a0);
		if (!f)
			return -EBADF;
		struct signalfd *s = anon_priv(f, &signalfd_ops);
		if (!s)
			return -EINVAL;
		s->mask = mask;
		return (int)a0;
	}
	struct signalfd *s = kmalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->mask = mask;
	return anon_fd_new(&signalfd_ops, s, (uint32_t)a3, "anon_inode:[signalfd]");
}

SYS(signalfd) { UNUSED_ARGS(); return sys_signalfd4(a0, a1, a2, 0, 0, 0); }
