/*
 * epoll.c: epoll_create1, epoll_ctl, epoll_wait and the pwait variants, over
 * any file's poll op. Nothing is queued when readiness changes: a wait looks
 * at each item's file (one CPU and small sets make that cheap) and sleeps in
 * poll_wait_until when nothing is ready.
 *
 * Edge-triggered items report a rising edge: bits that were not set at the
 * item's last report, or the same bits again after a poll_wake anywhere
 * since (poll_generation), which is how a second write to a pipe already
 * readable is reported again as on Linux. The generation is global, so an
 * edge-triggered item that stays ready may be reported again after activity
 * on another object (or after a partial read of its own file); programs
 * written for edge triggering read until EAGAIN and are not bothered.
 *
 * An item is keyed by (file, fd) as on Linux: the open file description
 * and the descriptor number it was added with. Closing that fd while a dup
 * (or a forked child) keeps the description open keeps the item, which goes
 * on reporting with its data; the item goes only when the description's last
 * reference is closed (file_put calls epoll_file_released, for files that
 * f->epitems says are watched). A dup added under its own fd is an item of
 * its own. EPOLL_CTL_MOD and DEL name the item by the fd's current file.
 */
#include "kernel/ktimer.h"
#include "kernel/proc/proc.h"
#include "kernel/syscall.h"
#include "anon.h"

#define EPOLLIN        0x001
#define EPOLLPRI       0x002
#define EPOLLOUT       0x004
#define EPOLLERR       0x008
#define EPOLLHUP       0x010
#define EPOLLRDNORM    0x040
#define EPOLLRDBAND    0x080
#define EPOLLWRNORM    0x100
#define EPOLLWRBAND    0x200
#define EPOLLMSG       0x400
#define EPOLLRDHUP     0x2000
#define EPOLLEXCLUSIVE (1u << 28)
#define EPOLLWAKEUP    (1u << 29)
#define EPOLLONESHOT   (1u << 30)
#define EPOLLET        (1u << 31)
#define EP_PRIVATE     (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_EXCLUSIVE_OK (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE | \
			 EPOLLRDNORM | EPOLLWRNORM | EPOLLRDBAND | EPOLLWRBAND)
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3
#define EP_MAX_EVENTS (0x7fffffff / 12)

struct epoll_event_k {
	uint32_t events;
	uint64_t data;
} __attribute__((packed));

struct epitem {
	struct epitem *next;
	int fd;
	struct file *file;            /* not a reference: epoll_file_released drops the item when the file goes */
	uint32_t events;              /* as asked, EP_PRIVATE bits included; ONESHOT clears the rest once reported */
	uint64_t data;
	unsigned last;                /* edge-triggered: the bits of the last report, less those gone since */
	unsigned gen;                 /* edge-triggered: poll_generation at the last report */
};

struct epoll {
	struct epitem *items;
	struct epoll *next, **pprev;  /* every epoll set, for epoll_file_released */
};

static struct epoll *all_sets;

static const struct vnode_ops epoll_ops;

/* The bits an item reports now (before edge and one-shot rules). */
static unsigned ep_ready(struct epitem *it)
{
	unsigned want = (it->events & ~EP_PRIVATE) | EPOLLERR | EPOLLHUP;
	if (!(it->events & ~EP_PRIVATE))
		return 0; /* a one-shot item disabled until EPOLL_CTL_MOD */
	return file_poll(it->file) & want;
}

static void ep_free_item(struct epitem *it)
{
	it->file->epitems--;
	kfree(it, sizeof(*it));
}

/* The last reference to f is going: it leaves every set that watches it, as on Linux. */
void epoll_file_released(struct file *f)
{
	for (struct epoll *ep = all_sets; ep && f->epitems; ep = ep->next) {
		for (struct epitem **pp = &ep->items; *pp;) {
			struct epitem *it = *pp;
			if (it->file == f) {
				*pp = it->next;
				ep_free_item(it);
			} else {
				pp = &it->next;
			}
		}
	}
}

static struct epitem *ep_find(struct epoll *ep, struct file *f, int fd)
{
	for (struct epitem *it = ep->items; it; it = it->next)
		if (it->file == f && it->fd == fd)
			return it;
	return NULL;
}

/*
 * Collect up to max ready items into out. Reported items move to the end
 * of the list, so that a small max does not starve the others.
 */
static int ep_scan(struct epoll *ep, struct epoll_event_k *out, int max)
{
	struct epitem *done = NULL, **done_tail = &done;
	int n = 0;
	for (struct epitem **pp = &ep->items; *pp && n < max;) {
		struct epitem *it = *pp;
		unsigned r = ep_ready(it);
		if ((it->events & EPOLLET) && r) {
			it->last &= r;
			if (!(r & ~it->last) && it->gen == poll_generation)
				r = 0;
		} else if (it->events & EPOLLET) {
			it->last = 0;
		}
		if (!r) {
			pp = &it->next;
			continue;
		}
		out[n++] = (struct epoll_event_k){ r, it->data };
		it->last = r;
		it->gen = poll_generation;
		if (it->events & EPOLLONESHOT)
			it->events &= EP_PRIVATE;
		*pp = it->next;
		it->next = NULL;
		*done_tail = it;
		done_tail = &it->next;
	}
	struct epitem **tail = &ep->items;
	while (*tail)
		tail = &(*tail)->next;
	*tail = done;
	return n;
}

/* An epoll set inside another, or in poll: readable when an item is ready (level-wise). */
static unsigned epoll_poll(struct file *f)
{
	static int depth;
	struct epoll *ep = (struct epoll *)f->vn->priv;
	unsigned r = 0;
	if (depth > 4)
		return 0;
	depth++;
	for (struct epitem *it = ep->items; it && !r; it = it->next)
		if (ep_ready(it))
			r = POLLIN | POLLRDNORM;
	depth--;
	return r;
}

static void epoll_release(struct vnode *vn)
{
	struct epoll *ep = (struct epoll *)vn->priv;
	while (ep->items) {
		struct epitem *it = ep->items;
		ep->items = it->next;
		ep_free_item(it);
	}
	*ep->pprev = ep->next;
	if (ep->next)
		ep->next->pprev = ep->pprev;
	kfree(ep, sizeof(*ep));
}

static const struct vnode_ops epoll_ops = { .poll = epoll_poll, .release = epoll_release };

SYS(epoll_create1)
{
	UNUSED_ARGS();
	if (a0 & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	struct epoll *ep = kmalloc(sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->next = all_sets;
	ep->pprev = &all_sets;
	if (all_sets)
		all_sets->pprev = &ep->next;
	all_sets = ep;
	return anon_fd_new(&epoll_ops, ep, (uint32_t)a0, "anon_inode:[eventpoll]");
}

SYS(epoll_create)
{
	UNUSED_ARGS();
	if ((int)a0 <= 0)
		return -EINVAL;
	return sys_epoll_create1(0, 0, 0, 0, 0, 0);
}

SYS(epoll_ctl)
{
	UNUSED_ARGS();
	int op = (int)a1, fd = (int)a2;
	struct epoll_event_k ev = { 0, 0 };
	if (op != EPOLL_CTL_DEL && copy_from_user(&ev, a3, sizeof(ev)))
		return -EFAULT;
	struct file *ef = fd_get((int)a0), *tf = fd_get(fd);
	if (!ef || !tf)
		return -EBADF;
	if (!tf->vn->ops->poll && (S_ISREG(tf->vn->mode) || S_ISDIR(tf->vn->mode)))
		return -EPERM; /* Linux: regular files and directories cannot be polled this way */
	struct epoll *ep = anon_priv(ef, &epoll_ops);
	if (!ep || ef == tf)
		return -EINVAL;
	if (ev.events & EPOLLEXCLUSIVE) {
		if (op == EPOLL_CTL_MOD || (op == EPOLL_CTL_ADD && ((ev.events & ~EP_EXCLUSIVE_OK) ||
								    anon_priv(tf, &epoll_ops))))
			return -EINVAL;
	}
	struct epitem *it = ep_find(ep, tf, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			return -EEXIST;
		it = kmalloc(sizeof(*it));
		if (!it)
			return -ENOMEM;
		*it = (struct epitem){ NULL, fd, tf, ev.events, ev.data, 0, 0 };
		tf->epitems++;
		struct epitem **tail = &ep->items;
		while (*tail)
			tail = &(*tail)->next;
		*tail = it;
		break;
	case EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		if (it->events & EPOLLEXCLUSIVE)
			return -EINVAL;
		it->events = ev.events;
		it->data = ev.data;
		it->last = 0;
		break;
	case EPOLL_CTL_DEL:
		if (!it)
			return -ENOENT;
		for (struct epitem **pp = &ep->items; *pp; pp = &(*pp)->next) {
			if (*pp == it) {
				*pp = it->next;
				break;
			}
		}
		ep_free_item(it);
		break;
	default:
		return -EINVAL;
	}
	poll_wake(); /* a waiter on this set looks again */
	return 0;
}

/* Wait until something is ready, a signal, or the deadline (monotonic ns; INT64_MAX: none). */
static long ep_wait(uint64_t epfd, uint64_t uevents, uint64_t max, int64_t timeout_ns)
{
	static struct epoll_event_k out[256];
	if ((int)max <= 0 || (int)max > EP_MAX_EVENTS)
		return -EINVAL;
	struct file *ef = fd_get((int)epfd);
	if (!ef)
		return -EBADF;
	struct epoll *ep = anon_priv(ef, &epoll_ops);
	if (!ep)
		return -EINVAL;
	int n = (int)max > (int)ARRAY_SIZE(out) ? (int)ARRAY_SIZE(out) : (int)max;
	int64_t deadline = deadline_after(time_monotonic_ns(), timeout_ns);
	for (;;) {
		int got = ep_scan(ep, out, n);
		if (got) {
			if (copy_to_user(uevents, out, (uint64_t)got * sizeof(out[0])))
				return -EFAULT;
			return got;
		}
		if (timeout_ns == 0)
			return 0;
		if (signal_pending())
			return -EINTR;
		if (time_monotonic_ns() >= deadline)
			return 0;
		poll_wait_until(deadline);
	}
}

static long ms_to_ns(uint64_t ms)
{
	return (int)ms < 0 ? -1 : (int64_t)(int)ms * 1000000;
}

SYS(epoll_wait) { UNUSED_ARGS(); return ep_wait(a0, a1, a2, ms_to_ns(a3)); }

static long ep_pwait(uint64_t epfd, uint64_t uevents, uint64_t max, int64_t timeout_ns, uint64_t umask, uint64_t setsize)
{
	if (!umask)
		return ep_wait(epfd, uevents, max, timeout_ns);
	uint64_t mask;
	if (setsize != 8)
		return -EINVAL;
	if (copy_from_user(&mask, umask, 8))
		return -EFAULT;
	signal_mask_push(mask);
	long r = ep_wait(epfd, uevents, max, timeout_ns);
	signal_mask_pop();
	return r;
}

SYS(epoll_pwait) { UNUSED_ARGS(); return ep_pwait(a0, a1, a2, ms_to_ns(a3), a4, a5); }

SYS(epoll_pwait2)
{
	UNUSED_ARGS();
	int64_t t = -1, ts[2];
	if (a3) {
		if (copy_from_user(ts, a3, sizeof(ts)))
			return -EFAULT;
		if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
			return -EINVAL;
		t = ts[0] > INT64_MAX / 1000000000 - 1 ? INT64_MAX : ts[0] * 1000000000 + ts[1];
	}
	return ep_pwait(a0, a1, a2, t, a4, a5);
}
