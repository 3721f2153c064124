/* pipe.c: pipes: a 64 KiB ring between a read end and a write end, with blocking, EOF and EPIPE. */
#include "kernel/proc/proc.h"
#include "kernel/syscall.h"

#define PIPE_BUF_SIZE 65536

#define PIPE_PAGES ((int)(PIPE_BUF_SIZE / PAGE_SIZE))

struct pipe {
	uint8_t *pg[PIPE_PAGES]; /* the ring's bytes, page by page */
	uint32_t head, len;
	int readers, writers;
	int named;               /* a FIFO in the file system: it outlives its ends, freed with its node */
	unsigned opens[2];       /* FIFO opens so far, readers and writers: an open waits for the other side's */
};

void pipe_free(struct pipe *p)
{
	for (int i = 0; i < PIPE_PAGES; i++)
		if (p->pg[i])
			pmem_free(kva_to_pa(p->pg[i]));
	kfree(p, sizeof(*p));
}

static struct pipe *pipe_new(void)
{
	struct pipe *p = kmalloc(sizeof(*p));
	if (!p)
		return NULL;
	for (int i = 0; i < PIPE_PAGES; i++) {
		uint64_t pa = pmem_alloc();
		if (!pa) {
			pipe_free(p);
			return NULL;
		}
		p->pg[i] = pa_to_kva(pa);
	}
	return p;
}

/* The pipe's state moved: wake its blocked readers and writers, and anyone polling. */
static void pipe_changed(struct pipe *p)
{
	sched_wakeup(p);
	poll_wake();
}

static long pipe_read(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)off;
	struct pipe *p = (struct pipe *)f->vn->priv;
	while (p->len == 0) {
		if (p->writers == 0)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		sched_sleep(p);
		if (signal_pending())
			return -EINTR;
	}
	uint64_t done = 0;
	while (done < len && p->len) {
		uint32_t n = PAGE_SIZE - p->head % PAGE_SIZE;
		if (n > p->len)
			n = p->len;
		if (n > len - done)
			n = (uint32_t)(len - done);
		if (copy_to_user(ubuf + done, p->pg[p->head / PAGE_SIZE] + p->head % PAGE_SIZE, n))
			return done ? (long)done : -EFAULT;
		p->head = (p->head + n) % PIPE_BUF_SIZE;
		p->len -= n;
		done += n;
	}
	pipe_changed(p);
	return (long)done;
}

static long pipe_write(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)off;
	struct pipe *p = (struct pipe *)f->vn->priv;
	uint64_t done = 0;
	while (done < len) {
		if (p->readers == 0) {
			/* SIGPIPE as any signal: its default ends the writer on the way out, a handler runs, ignored does nothing. */
			struct ksiginfo si = { SI_USER, current->pid, 0, 0 };
			signal_post(current, SIGPIPE, &si);
			return done ? (long)done : -EPIPE;
		}
		if (p->len == PIPE_BUF_SIZE) {
			if (f->flags & O_NONBLOCK)
				return done ? (long)done : -EAGAIN;
			pipe_changed(p);
			sched_sleep(p);
			if (signal_pending())
				return done ? (long)done : -EINTR;
			continue;
		}
		uint32_t tail = (p->head + p->len) % PIPE_BUF_SIZE;
		uint32_t n = PAGE_SIZE - tail % PAGE_SIZE;   /* to the end of tail's page... */
		if (n > PIPE_BUF_SIZE - p->len)              /* ...within the free space */
			n = PIPE_BUF_SIZE - p->len;
		if (n > len - done)
			n = (uint32_t)(len - done);
		if (copy_from_user(p->pg[tail / PAGE_SIZE] + tail % PAGE_SIZE, ubuf + done, n))
			return done ? (long)done : -EFAULT;
		p->len += n;
		done += n;
	}
	pipe_changed(p);
	return (long)done;
}

static void pipe_release(struct vnode *vn)
{
	struct pipe *p = (struct pipe *)vn->priv;
	if (vn->handle)
		p->writers--;
	else
		p->readers--;
	pipe_changed(p);
	if (p->readers == 0 && p->writers == 0 && !p->named)
		pipe_free(p);
}

static unsigned pipe_poll(struct file *f)
{
	struct pipe *p = (struct pipe *)f->vn->priv;
	if (f->vn->handle) /* the write end */
		return (p->readers == 0 ? POLLERR : 0) | (p->len < PIPE_BUF_SIZE ? POLLOUT : 0);  /* both, as Linux */
	return (p->len ? POLLIN : 0) | (p->writers == 0 ? POLLHUP : 0);
}

static const struct vnode_ops pipe_ops = { .read = pipe_read, .write = pipe_write, .release = pipe_release, .poll = pipe_poll };

static struct vnode *pipe_end(struct pipe *p, int writer)
{
	struct vnode *vn = kmalloc(sizeof(*vn));
	if (!vn)
		return NULL;
	vn->ops = &pipe_ops;
	vn->refs = 1;
	vn->mode = S_IFIFO | 0600;
	vn->ino = 0x60000 + (kva_to_pa(p) >> 5);
	vn->stream = 1;
	vn->priv = p;
	vn->handle = (uint32_t)writer;
	if (writer)
		p->writers++;
	else
		p->readers++;
	return vn;
}

SYS(pipe2)
{
	UNUSED_ARGS();
	if (a1 & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	struct pipe *p = pipe_new();
	if (!p)
		return -ENFILE;
	struct vnode *r = pipe_end(p, 0), *w = pipe_end(p, 1);
	struct file *fr = r ? file_new(r, O_RDONLY | (uint32_t)(a1 & O_NONBLOCK), "pipe:") : NULL;
	struct file *fw = w ? file_new(w, O_WRONLY | (uint32_t)(a1 & O_NONBLOCK), "pipe:") : NULL;
	if (!fr || !fw) {
		if (fr)
			file_put(fr);
		else if (r)
			vn_put(r);
		if (fw)
			file_put(fw);
		else if (w)
			vn_put(w);
		return -ENFILE;
	}
	int rfd = fd_install(fr, 0, (a1 & O_CLOEXEC) != 0);
	if (rfd < 0) {
		file_put(fw);
		return rfd;
	}
	int wfd = fd_install(fw, 0, (a1 & O_CLOEXEC) != 0);
	if (wfd < 0) {
		fd_close(rfd);
		return wfd;
	}
	int32_t fds[2] = { rfd, wfd };
	if (copy_to_user(a0, fds, sizeof(fds))) {
		fd_close(rfd);
		fd_close(wfd);
		return -EFAULT;
	}
	return 0;
}

SYS(pipe) { UNUSED_ARGS(); return sys_pipe2(a0, 0, 0, 0, 0, 0); }



/*
 * Open a FIFO of the file system: its pipe is made on first use and kept in
 * its node; as on Linux, opening one end waits until the other end is open.
 */
int fifo_open(struct pipe **slot, int writer, int nonblock, struct vnode **out)
{
	if (!*slot) {
		*slot = pipe_new();
		if (!*slot)
			return -ENFILE;
		(*slot)->named = 1;
	}
	struct pipe *p = *slot;
	if (nonblock && writer && p->readers == 0)
		return -ENXIO;
	struct vnode *vn = pipe_end(p, writer);
	if (!vn)
		return -ENFILE;
	p->opens[writer]++;
	pipe_changed(p);
	/* The other side counts as there once it has opened, even if it has closed again since. */
	unsigned seen = p->opens[!writer];
	int other_now = writer ? p->readers : p->writers;
	while (!nonblock && !other_now && p->opens[!writer] == seen) {
		sched_sleep(p);
		if (signal_pending()) {
			vn_put(vn);
			return -EINTR;
		}
	}
	*out = vn;
	return 0;
}
