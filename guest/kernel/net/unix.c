/* unix.c: AF_UNIX sockets: the socket object and its file, the address table, connections, readiness. */
#include "kernel/fs/tmpfs.h"
#include "kernel/ktimer.h"
#include "kernel/syscall.h"
#include "net.h"
#include "unix.h"

static struct usock *bound_list;   /* every bound socket: paths (by node) and the abstract namespace */
static uint64_t next_ino = 10000;

/* ---- the socket object and its file ---- */

struct ucred_k usock_mycred(void)
{
	struct ucred_k c = { current->pid, 0, 0 };   /* the guest runs everything as uid 0, gid 0 (getuid) */
	return c;
}

struct usock *usock_new(int type)
{
	struct usock *s = kmalloc(sizeof(*s));
	if (!s)
		return NULL;
	s->refs = 1;
	s->type = type;
	s->qtail = &s->q;
	s->embryo_tail = &s->embryo;
	s->cred = usock_mycred();
	s->peercred.pid = 0;
	s->peercred.uid = s->peercred.gid = (uint32_t)-1;
	s->sndbuf = s->rcvbuf = UNIX_BUF;
	return s;
}

void usock_get(struct usock *s)
{
	s->refs++;
}

void usock_put(struct usock *s)
{
	if (--s->refs > 0)
		return;
	struct umsg *m;
	while ((m = q_pop(s)))
		msg_free(m);
	kfree(s, sizeof(*s));
}

/* Something about s moved: wake whoever sleeps on it, and every poller. */
void usock_changed(struct usock *s)
{
	sched_wakeup(s);
	poll_wake();
}

/* timeo_ns: 0 none; < 0 already passed (a negative SO_RCVTIMEO, as Linux's timeout of zero). */
int64_t usock_deadline(int64_t timeo_ns)
{
	if (timeo_ns < 0)
		return 0;
	return timeo_ns > 0 ? time_monotonic_ns() + timeo_ns : INT64_MAX;
}

static void wait_timeout(struct ktimer *t)
{
	sched_wakeup(t->arg);
}

/*
 * Sleep until chan is woken or, with a deadline (SO_RCVTIMEO, SO_SNDTIMEO),
 * until a kernel timer wakes it then, as poll_wait_until does. 0: look
 * again; -EINTR; -EAGAIN once the deadline has passed, as Linux reports a
 * timeout.
 */
int usock_wait(const void *chan, int64_t deadline)
{
	if (deadline == INT64_MAX) {
		sched_sleep(chan);
	} else {
		if (time_monotonic_ns() >= deadline)
			return -EAGAIN;
		struct ktimer t = { 0 };
		ktimer_arm(&t, deadline, wait_timeout, (void *)chan);
		sched_sleep(chan);
		ktimer_cancel(&t);
	}
	return signal_pending() ? -EINTR : 0;
}

/*
 * A socket call interrupted by a handler is not restarted, SA_RESTART or
 * not, when the socket has a timeout for that direction (signal(7); Linux's
 * sock_intr_errno). nr and fd are the interrupted call's.
 */
int sock_never_restarted(uint64_t nr, uint64_t fd)
{
	struct usock *s = sock_of(fd_get((int)fd));
	if (!s)
		return 0;
	switch (nr) {
	case 0: case 19: case 43: case 45: case 47: case 288: case 299:   /* read, readv, accept, recv*, accept4 */
		return s->rcvtimeo != 0;
	case 1: case 20: case 42: case 44: case 46: case 307:             /* write, writev, connect, send* */
		return s->sndtimeo != 0;
	default:
		return 0;
	}
}

void usock_pair(struct usock *a, struct usock *b)
{
	usock_get(b);
	a->peer = b;
	usock_get(a);
	b->peer = a;
	a->state = b->state = US_CONNECTED;
}

static void unbind(struct usock *s)
{
	for (struct usock **pp = &bound_list; *pp; pp = &(*pp)->next_bound) {
		if (*pp == s) {
			*pp = s->next_bound;
			break;
		}
	}
	if (s->key)
		tmp_put(s->key);
	s->key = NULL;
}

/* The last file of s is closed: its peer sees the end, queued descriptors are closed. */
static void usock_close(struct usock *s)
{
	s->dead = 1;
	if (s->addrlen)
		unbind(s);
	/* Connections nobody accepted are closed as well; their clients see the end. */
	while (s->embryo) {
		struct usock *e = s->embryo;
		s->embryo = e->next_embryo;
		usock_close(e);
		usock_put(e);
	}
	s->nembryo = 0;
	struct usock *p = s->peer;
	if (p) {
		if (s->type != SOCK_DGRAM) {
			p->rcv_shut = p->snd_shut = 1;
			if (s->q)
				p->err = ECONNRESET;   /* it closed with data unread, as Linux reports */
		}
		s->peer = NULL;
		usock_changed(p);
		usock_put(p);
	}
	/* Descriptors in flight to s are closed now: this may close other sockets in turn. */
	struct umsg *m;
	while ((m = q_pop(s)))
		msg_free(m);
	usock_changed(s);
}

static unsigned usock_poll_op(struct file *f)
{
	struct usock *s = sock_of(f);
	unsigned m = 0;
	if (s->state == US_LISTENING)
		return s->embryo ? POLLIN | POLLRDNORM : 0;
	if (s->err)
		m |= POLLERR;
	if (s->q)
		m |= POLLIN | POLLRDNORM;
	if (s->rcv_shut)
		m |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (s->rcv_shut && s->snd_shut)
		m |= POLLHUP;
	if (s->type != SOCK_DGRAM && s->state == US_UNCONNECTED)
		m |= POLLHUP;
	struct usock *p = s->peer;
	int room = p && p->qbytes + msg_charge(1) <= p->rcvbuf;   /* as send decides whether to wait */
	if (s->type == SOCK_DGRAM) {
		if (!p || p->dead || room)
			m |= POLLOUT | POLLWRNORM;
	} else if (s->state != US_CONNECTED || !p || p->dead || s->snd_shut || room) {
		m |= POLLOUT | POLLWRNORM;
	}
	return m;
}

static long usock_read_op(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)off;
	struct uio u;
	struct recv_ctl rc;
	memset(&rc, 0, sizeof(rc));
	uio_single(&u, ubuf, len);
	return usock_recv(sock_of(f), f, &u, 0, &rc);
}

static long usock_write_op(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)off;
	struct uio u;
	uio_single(&u, ubuf, len);
	return usock_send(sock_of(f), f, &u, 0, NULL, NULL, 0);
}

/* A file of the socket goes (an O_PATH one through /proc/self/fd may be another than s->file). */
static int usock_close_op(struct file *f)
{
	struct usock *s = sock_of(f);
	if (s->file == f)
		s->file = NULL;
	return 0;
}

static void usock_release_op(struct vnode *vn)
{
	struct usock *s = (struct usock *)vn->priv;
	usock_close(s);
	usock_put(s);
	usock_gc();   /* a cycle of sockets in flight may have lost its last way in */
}

static void usock_getattr_op(struct vnode *vn, struct kstat *st)
{
	st->size = 0;
	st->blksize = 4096;
	st->nlink = 1;
	(void)vn;
}

#define FIONREAD 0x541b
#define FIONBIO  0x5421

static int usock_ioctl_op(struct file *f, uint64_t req, uint64_t arg)
{
	struct usock *s = sock_of(f);
	int32_t v = 0;
	switch (req) {
	case FIONREAD:   /* a stream: all unread bytes; otherwise the next message's size */
		if (s->state == US_LISTENING)
			return -EINVAL;
		for (struct umsg *m = s->q; m; m = m->next) {
			v += (int32_t)(m->len - m->off);
			if (s->type != SOCK_STREAM)
				break;
		}
		return copy_to_user(arg, &v, 4) ? -EFAULT : 0;
	case FIONBIO:
		if (copy_from_user(&v, arg, 4))
			return -EFAULT;
		if (v)
			f->flags |= O_NONBLOCK;
		else
			f->flags &= ~(uint32_t)O_NONBLOCK;
		return 0;
	default:
		return -ENOTTY;
	}
}

static const struct vnode_ops usock_ops = {
	.read = usock_read_op, .write = usock_write_op, .release = usock_release_op,
	.getattr = usock_getattr_op, .poll = usock_poll_op, .ioctl = usock_ioctl_op,
	.close = usock_close_op,
};

struct usock *sock_of(struct file *f)
{
	return f && f->vn->ops == &usock_ops ? (struct usock *)f->vn->priv : NULL;
}

int sock_is(struct file *f)
{
	return sock_of(f) != NULL;
}

struct file *usock_file(struct usock *s, uint32_t flags)
{
	struct vnode *vn = kmalloc(sizeof(*vn));
	if (!vn) {
		usock_close(s);
		usock_put(s);
		return NULL;
	}
	vn->ops = &usock_ops;
	vn->refs = 1;
	vn->mode = S_IFSOCK | 0777;
	vn->ino = next_ino++;
	vn->stream = 1;
	vn->priv = s;
	s->vn = vn;
	char name[32];
	ksnprintf(name, sizeof(name), "socket:[%lu]", (unsigned long)vn->ino);
	struct file *f = file_new(vn, O_RDWR | (flags & O_NONBLOCK), name);
	if (!f)
		vn_put(vn);
	else
		s->file = f;
	return f;
}

/* ---- addresses ---- */

/* The length that counts in a path address: up to its NUL, as Linux's unix_mkname. */
static uint32_t addr_norm(const struct sockaddr_un_k *a, uint32_t len)
{
	if (len > 2 && a->path[0]) {
		uint32_t n = 0;
		while (n < len - 2 && a->path[n])
			n++;
		return 2 + n + 1;
	}
	return len;
}

/* The file system node a path names, referenced; -ENOENT and the like when it does not resolve. */
static int path_node(const struct sockaddr_un_k *a, uint32_t len, struct vnode **out)
{
	char *path = current->scratch->target;
	uint32_t n = len - 2 < SUN_PATH_MAX ? len - 2 : SUN_PATH_MAX;   /* a full sun_path has no NUL */
	memcpy(path, a->path, n);
	path[n] = 0;
	return vfs_resolve(AT_FDCWD, path, 1, out, NULL);
}

int usock_bind(struct usock *s, const struct sockaddr_un_k *a, uint32_t len)
{
	if (len < 2 || len > sizeof(*a) || a->family != AF_UNIX)
		return -EINVAL;
	if (s->addrlen)
		return -EINVAL;
	struct sockaddr_un_k addr;
	memset(&addr, 0, sizeof(addr));
	memcpy(&addr, a, len);
	if (len == 2) {
		/* autobind: an abstract name of five hex digits */
		static unsigned next_auto;
		for (;;) {
			ksnprintf(addr.path + 1, 6, "%05x", next_auto++ & 0xfffff);
			addr.path[0] = 0;
			struct usock *o;
			if (usock_lookup(&addr, 8, &o) != 0)
				break;
			usock_put(o);
		}
		len = 8;
	} else if (addr.path[0]) {
		len = addr_norm(&addr, len);
		if (len > sizeof(addr))
			len = sizeof(addr);   /* all 108 bytes of sun_path, with no NUL */
		char *path = current->scratch->target;
		uint32_t n = len - 2 < SUN_PATH_MAX ? len - 2 : SUN_PATH_MAX;
		memcpy(path, addr.path, n);
		path[n] = 0;
		struct vnode *dir, *vn;
		const char *name;
		size_t nlen;
		int err = vfs_resolve_parent(AT_FDCWD, path, &dir, &name, &nlen, NULL);
		if (err)
			return err;
		if (dir->ops->lookup && dir->ops->lookup(dir, name, nlen, &vn) == 0) {
			vn_put(vn);
			vn_put(dir);
			return -EADDRINUSE;
		}
		if (dir->ops != &ovl_ops) {
			vn_put(dir);
			return -EOPNOTSUPP;   /* host mounts and synthetic trees hold no sockets */
		}
		err = ovl_create(dir, name, nlen, S_IFSOCK | (0777 & ~current->umask), NULL, &vn);
		vn_put(dir);
		if (err)
			return err == -EEXIST ? -EADDRINUSE : err;
		s->key = vn->upper;
		tmp_get(s->key);
		vn_put(vn);
	} else {
		struct usock *o;
		if (usock_lookup(&addr, len, &o) == 0) {
			usock_put(o);
			return -EADDRINUSE;
		}
	}
	s->addr = addr;
	s->addrlen = len;
	s->next_bound = bound_list;
	bound_list = s;
	return 0;
}

int usock_lookup(const struct sockaddr_un_k *a, uint32_t len, struct usock **out)
{
	if (len <= 2 || len > sizeof(*a) || a->family != AF_UNIX)
		return -EINVAL;
	if (!a->path[0]) {
		for (struct usock *s = bound_list; s; s = s->next_bound) {
			if (!s->key && s->addrlen == len && !memcmp(s->addr.path, a->path, len - 2)) {
				usock_get(s);
				*out = s;
				return 0;
			}
		}
		return -ECONNREFUSED;
	}
	struct vnode *vn;
	int err = path_node(a, addr_norm(a, len), &vn);
	if (err)
		return err;
	struct tnode *key = (vn->mode & S_IFMT) == S_IFSOCK ? vn->upper : NULL;
	vn_put(vn);
	for (struct usock *s = bound_list; key && s; s = s->next_bound) {
		if (s->key == key) {
			usock_get(s);
			*out = s;
			return 0;
		}
	}
	return -ECONNREFUSED;
}

/* ---- connections ---- */

int usock_connect(struct usock *s, const struct sockaddr_un_k *a, uint32_t len, int nonblock)
{
	if (len >= 2 && a->family == 0 /* AF_UNSPEC */ && s->type == SOCK_DGRAM) {
		if (s->peer) {
			usock_put(s->peer);
			s->peer = NULL;
		}
		return 0;
	}
	if (len < 2 || a->family != AF_UNIX)
		return -EINVAL;
	if (s->state == US_LISTENING)
		return -EINVAL;
	struct usock *l;
	int err = usock_lookup(a, len, &l);
	if (err)
		return err;
	if (l->type != s->type) {
		usock_put(l);
		return -EPROTOTYPE;
	}
	int64_t deadline = usock_deadline(s->sndtimeo);
	if (s->type == SOCK_DGRAM) {
		if (s->peer)
			usock_put(s->peer);
		s->peer = l;   /* the lookup's reference */
		usock_changed(s);
		return 0;
	}
	while (!l->dead && l->state == US_LISTENING && l->nembryo > l->backlog) {
		if (nonblock) {
			usock_put(l);
			return -EAGAIN;
		}
		err = usock_wait(l, deadline);
		if (err) {
			usock_put(l);
			return err;
		}
	}
	if (l->dead || l->state != US_LISTENING) {
		usock_put(l);
		return -ECONNREFUSED;
	}
	if (s->state == US_CONNECTED) {
		usock_put(l);
		return -EISCONN;
	}
	/* The server's end exists at once; accept only hands it out. Data can flow before that. */
	struct usock *e = usock_new(s->type);
	if (!e) {
		usock_put(l);
		return -ENOBUFS;
	}
	e->cred = l->cred;
	e->addr = l->addr;
	e->addrlen = l->addrlen;
	usock_pair(s, e);
	s->cred = usock_mycred();
	s->peercred = l->cred;
	e->peercred = s->cred;
	e->next_embryo = NULL;
	*l->embryo_tail = e;
	l->embryo_tail = &e->next_embryo;
	l->nembryo++;
	usock_changed(l);
	usock_changed(s);
	usock_put(l);
	return 0;
}

int usock_accept(struct usock *s, int nonblock, struct usock **out)
{
	if (s->state != US_LISTENING)
		return -EINVAL;
	int64_t deadline = usock_deadline(s->rcvtimeo);
	while (!s->embryo) {
		if (nonblock)
			return -EAGAIN;
		int err = usock_wait(s, deadline);
		if (err)
			return err;
	}
	struct usock *e = s->embryo;
	s->embryo = e->next_embryo;
	if (!s->embryo)
		s->embryo_tail = &s->embryo;
	s->nembryo--;
	usock_changed(s);
	*out = e;   /* the backlog's reference */
	return 0;
}

void usock_shutdown(struct usock *s, int how)
{
	int rd = how == 0 || how == 2, wr = how == 1 || how == 2;
	if (rd)
		s->rcv_shut = 1;
	if (wr)
		s->snd_shut = 1;
	struct usock *p = s->peer;
	if (p && s->type != SOCK_DGRAM) {
		if (rd)
			p->snd_shut = 1;
		if (wr)
			p->rcv_shut = 1;
		usock_changed(p);
	}
	usock_changed(s);
}
