/* unix.c: AF_UNIX sockets: receive queues, connections, the address table, readiness and blocking. */
#include "kernel/fs/tmpfs.h"
#include "kernel/syscall.h"
#include "net.h"
#include "unix.h"

static struct usock *bound_list;   /* every bound socket: paths (by node) and the abstract namespace */
static uint64_t next_ino = 10000;

/* ---- user iovecs ---- */

int uio_init(struct uio *u, uint64_t uiov, uint64_t cnt)
{
	memset(u, 0, sizeof(*u));
	if (cnt > 1024)
		return -EINVAL;
	u->uiov = uiov;
	u->cnt = cnt;
	for (uint64_t i = 0; i < cnt; i++) {
		uint64_t v[2];
		if (copy_from_user(v, uiov + i * 16, 16))
			return -EFAULT;
		if ((int64_t)v[1] < 0 || u->resid + v[1] > 0x7ffff000)
			return -EINVAL;
		u->resid += v[1];
	}
	return 0;
}

void uio_single(struct uio *u, uint64_t buf, uint64_t len)
{
	memset(u, 0, sizeof(*u));
	if (len > 0x7ffff000)
		len = 0x7ffff000;
	u->base = buf;
	u->left = u->resid = len;
}

/* Move n bytes between kbuf and the iovecs at the cursor; to_user: into the program. */
static int uio_move(struct uio *u, void *kbuf, uint64_t n, int to_user)
{
	uint8_t *k = kbuf;
	while (n) {
		while (!u->left) {
			uint64_t v[2];
			if (u->i >= u->cnt || copy_from_user(v, u->uiov + u->i * 16, 16))
				return -EFAULT;
			u->i++;
			u->base = v[0];
			u->left = v[1];
		}
		uint64_t c = n < u->left ? n : u->left;
		if (to_user ? copy_to_user(u->base, k, c) : copy_from_user(k, u->base, c))
			return -EFAULT;
		u->base += c;
		u->left -= c;
		u->resid -= c;
		k += c;
		n -= c;
	}
	return 0;
}

/* ---- messages ---- */

static uint32_t msg_charge(uint32_t len)
{
	return len + 256;   /* what a message costs its receiver's buffer, small ones included */
}

static void msg_free(struct umsg *m)
{
	for (uint32_t i = 0; i < m->nfds; i++)
		if (m->fds[i])
			file_put(m->fds[i]);
	if (m->fds)
		kfree(m->fds, m->nfds * sizeof(struct file *));
	if (m->pg) {
		if (m->len <= PAGE_SIZE / 2) {
			kfree(m->pg[0], m->len ? m->len : 1);
		} else {
			for (uint32_t i = 0; i < m->npg; i++)
				if (m->pg[i])
					pmem_free(kva_to_pa(m->pg[i]));
		}
		kfree(m->pg, m->npg * sizeof(uint8_t *));
	}
	kfree(m, sizeof(*m));
}

/* A message of len bytes taken from u, carrying fds (references passed in on success). */
static int msg_new(struct uio *u, uint32_t len, struct file **fds, uint32_t nfds, struct umsg **out)
{
	struct umsg *m = kmalloc(sizeof(*m));
	if (!m)
		return -ENOBUFS;
	m->len = len;
	m->npg = len <= PAGE_SIZE / 2 ? 1 : (uint32_t)((len + PAGE_SIZE - 1) / PAGE_SIZE);
	m->pg = kmalloc(m->npg * sizeof(uint8_t *));
	if (!m->pg) {
		kfree(m, sizeof(*m));
		return -ENOBUFS;
	}
	int err = 0;
	if (len <= PAGE_SIZE / 2) {
		m->pg[0] = kmalloc(len ? len : 1);
		if (!m->pg[0])
			err = -ENOBUFS;
	} else {
		for (uint32_t i = 0; i < m->npg && !err; i++) {
			uint64_t pa = pmem_alloc();
			if (!pa)
				err = -ENOBUFS;
			else
				m->pg[i] = pa_to_kva(pa);
		}
	}
	for (uint32_t i = 0; i < m->npg && !err; i++) {
		uint32_t n = len - i * PAGE_SIZE < PAGE_SIZE ? len - i * PAGE_SIZE : PAGE_SIZE;
		err = uio_move(u, m->pg[i], n, 0);
	}
	if (!err && nfds) {
		m->fds = kmalloc(nfds * sizeof(struct file *));
		if (!m->fds)
			err = -ENOBUFS;
	}
	if (err) {
		msg_free(m);
		return err;
	}
	for (uint32_t i = 0; i < nfds; i++)
		m->fds[i] = fds[i];
	m->nfds = nfds;
	m->cred = usock_mycred();
	*out = m;
	return 0;
}

static int msg_copy_out(struct umsg *m, uint32_t off, uint32_t n, struct uio *u)
{
	while (n) {
		uint32_t pi = m->len <= PAGE_SIZE / 2 ? 0 : off / PAGE_SIZE;
		uint32_t po = m->len <= PAGE_SIZE / 2 ? off : off % PAGE_SIZE;
		uint32_t c = (m->len <= PAGE_SIZE / 2 ? m->len : PAGE_SIZE) - po;
		if (c > n)
			c = n;
		int err = uio_move(u, m->pg[pi] + po, c, 1);
		if (err)
			return err;
		off += c;
		n -= c;
	}
	return 0;
}

static void q_push(struct usock *s, struct umsg *m)
{
	m->next = NULL;
	*s->qtail = m;
	s->qtail = &m->next;
	s->qbytes += msg_charge(m->len);
}

static struct umsg *q_pop(struct usock *s)
{
	struct umsg *m = s->q;
	if (m) {
		s->q = m->next;
		if (!s->q)
			s->qtail = &s->q;
		s->qbytes -= msg_charge(m->len);
	}
	return m;
}

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

static int64_t deadline_of(int64_t timeo_ns)
{
	return timeo_ns > 0 ? time_monotonic_ns() + timeo_ns : INT64_MAX;
}

/*
 * Sleep until chan is woken; with a deadline (SO_RCVTIMEO, SO_SNDTIMEO), in
 * slices of at most 10 ms, as poll does. 0: look again; -EINTR; -EAGAIN once
 * the deadline has passed, as Linux reports a timeout.
 */
static int usock_wait(const void *chan, int64_t deadline)
{
	if (deadline == INT64_MAX) {
		sched_sleep(chan);
	} else {
		int64_t now = time_monotonic_ns();
		if (now >= deadline)
			return -EAGAIN;
		io_sleep_ns((uint64_t)(deadline - now > 10000000 ? 10000000 : deadline - now));
	}
	return signal_pending() ? -EINTR : 0;
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

static void usock_release_op(struct vnode *vn)
{
	struct usock *s = (struct usock *)vn->priv;
	usock_close(s);
	usock_put(s);
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
	return f;
}

/* readv/writev on a socket: one message for the whole vector, as Linux does. */
long sock_rw_vec(struct file *f, uint64_t uiov, uint64_t cnt, int writing)
{
	struct uio u;
	int err = uio_init(&u, uiov, cnt);
	if (err)
		return err;
	if (writing)
		return usock_send(sock_of(f), f, &u, 0, NULL, NULL, 0);
	struct recv_ctl rc;
	memset(&rc, 0, sizeof(rc));
	return usock_recv(sock_of(f), f, &u, 0, &rc);
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
	int64_t deadline = deadline_of(s->sndtimeo);
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
	int64_t deadline = deadline_of(s->rcvtimeo);
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

/* ---- data ---- */

static long send_pipe_error(int flags)
{
	if (!(flags & MSG_NOSIGNAL)) {
		struct ksiginfo si = { SI_USER, current->pid, 0, 0 };
		signal_post(current, SIGPIPE, &si);
	}
	return -EPIPE;
}

/* fds: references the message takes over on success (the caller drops them on failure). */
long usock_send(struct usock *s, struct file *f, struct uio *u, int flags, struct usock *to,
		struct file **fds, uint32_t nfds)
{
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	uint64_t total = u->resid;
	int64_t deadline = deadline_of(s->sndtimeo);
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (s->type == SOCK_DGRAM) {
		struct usock *t = to ? to : s->peer;
		if (!t)
			return -ENOTCONN;
		if (s->snd_shut)
			return send_pipe_error(flags);
		if (total > s->sndbuf - 32)
			return -EMSGSIZE;
		usock_get(t);
		long ret;
		for (;;) {
			if (t->dead || t->rcv_shut) {
				ret = -ECONNREFUSED;
				if (t == s->peer) {   /* the default destination went away: disconnect, as Linux */
					s->peer = NULL;
					usock_put(t);
				}
				goto out;
			}
			if (!t->q || t->qbytes + msg_charge((uint32_t)total) <= t->rcvbuf)
				break;
			if (nonblock) {
				ret = -EAGAIN;
				goto out;
			}
			ret = usock_wait(t, deadline);
			if (ret)
				goto out;
		}
		struct umsg *m;
		ret = msg_new(u, (uint32_t)total, fds, nfds, &m);
		if (ret)
			goto out;
		m->from = s->addr;
		m->fromlen = s->addrlen;
		q_push(t, m);
		usock_changed(t);
		ret = (long)total;
out:
		usock_put(t);
		return ret;
	}

	if (to)
		return s->state == US_CONNECTED ? -EISCONN : -EOPNOTSUPP;
	if (s->state != US_CONNECTED)
		return -ENOTCONN;
	if (s->type == SOCK_SEQPACKET && total > s->sndbuf - 32)
		return -EMSGSIZE;
	if (s->type == SOCK_STREAM && total == 0 && nfds == 0)
		return 0;   /* nothing to queue: an empty message would read as end of file */
	uint64_t done = 0;
	int first = 1;
	while (first || done < total) {
		struct usock *p = s->peer;
		if (s->snd_shut || !p || p->dead)
			return done ? (long)done : send_pipe_error(flags);
		uint32_t want = s->type == SOCK_SEQPACKET ? (uint32_t)total : 1;
		if (p->q && p->qbytes + msg_charge(want) > p->rcvbuf) {
			if (nonblock)
				return done ? (long)done : -EAGAIN;
			usock_get(p);
			int err = usock_wait(p, deadline);
			usock_put(p);
			if (err)
				return done ? (long)done : err;
			continue;
		}
		uint64_t n = total - done;
		if (s->type == SOCK_STREAM) {
			uint64_t room = p->qbytes + 256 < p->rcvbuf ? p->rcvbuf - p->qbytes - 256 : 1;
			if (n > room)
				n = room;
			if (n > 65536)
				n = 65536;
		}
		struct umsg *m;
		int err = msg_new(u, (uint32_t)n, first ? fds : NULL, first ? nfds : 0, &m);
		if (err)
			return done ? (long)done : err;
		q_push(p, m);
		usock_changed(p);
		done += n;
		first = 0;
	}
	return (long)done;
}

/* Install the descriptors of m into the program's table and write SCM_RIGHTS (and credentials) into control. */
static void put_control(struct usock *s, struct umsg *m, int flags, int peek, struct recv_ctl *rc)
{
	uint64_t at = 0;
	if (m->nfds) {
		uint32_t fit = rc->controllen >= 16 + 4 ? (uint32_t)((rc->controllen - 16) / 4) : 0;
		if (fit > m->nfds)
			fit = m->nfds;
		if (fit < m->nfds)
			rc->msg_flags |= MSG_CTRUNC;
		int32_t fdv[UNIX_MAX_FDS];
		uint32_t got = 0;
		for (uint32_t i = 0; i < m->nfds; i++) {
			struct file *fl = m->fds[i];
			if (!peek)
				m->fds[i] = NULL;
			else
				file_get(fl);
			if (i >= fit) {
				file_put(fl);
				continue;
			}
			int fd = fd_install(fl, 0, (flags & MSG_CMSG_CLOEXEC) != 0);   /* drops fl on failure */
			if (fd < 0) {
				rc->msg_flags |= MSG_CTRUNC;
				continue;
			}
			fdv[got++] = fd;
		}
		if (got) {
			uint64_t hdr[2] = { 16 + 4ull * got, 1 /* SOL_SOCKET */ | (1ull /* SCM_RIGHTS */ << 32) };
			if (copy_to_user(rc->control, hdr, 16) || copy_to_user(rc->control + 16, fdv, 4ull * got))
				rc->msg_flags |= MSG_CTRUNC;
			at = ALIGN_UP(16 + 4ull * got, 8);
			if (at > rc->controllen)
				at = rc->controllen;
		}
	}
	if (s->passcred) {
		if (rc->controllen >= at + 28) {
			uint64_t hdr[2] = { 28, 1 | (2ull /* SCM_CREDENTIALS */ << 32) };
			if (!copy_to_user(rc->control + at, hdr, 16) && !copy_to_user(rc->control + at + 16, &m->cred, 12))
				at += 32;
			if (at > rc->controllen)
				at = rc->controllen;
		} else if (rc->control || rc->controllen) {
			rc->msg_flags |= MSG_CTRUNC;
		}
	}
	rc->ctl_written = at;
}

/* One pass: wait for the first message (unless have > 0), then take what there is. */
static long recv_once(struct usock *s, struct file *f, struct uio *u, int flags, struct recv_ctl *rc, uint64_t have,
		      int64_t deadline)
{
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	int peek = (flags & MSG_PEEK) != 0;
	while (!s->q) {
		if (s->err && !have) {
			int e = s->err;
			s->err = 0;
			return -e;
		}
		if (s->rcv_shut)
			return 0;
		if (s->type != SOCK_DGRAM && s->state != US_CONNECTED)
			return have ? 0 : s->type == SOCK_STREAM ? -EINVAL : -ENOTCONN;
		if (nonblock)
			return have ? 0 : -EAGAIN;
		int err = usock_wait(s, deadline);
		if (err)
			return have ? 0 : err;
	}
	uint64_t total = u->resid, done = 0;

	if (s->type != SOCK_STREAM) {
		struct umsg *m = s->q;
		uint32_t n = m->len < total ? m->len : (uint32_t)total;
		int err = msg_copy_out(m, 0, n, u);
		if (err)
			return err;
		if (n < m->len)
			rc->msg_flags |= MSG_TRUNC;
		rc->from = m->from;
		rc->fromlen = m->fromlen;
		put_control(s, m, flags, peek, rc);
		uint32_t len = m->len;
		if (!peek) {
			q_pop(s);
			msg_free(m);
			usock_changed(s);
		}
		return (flags & MSG_TRUNC) ? (long)len : (long)n;
	}

	/* A stream: bytes from as many messages as fit, up to one that carries descriptors. */
	struct umsg *m = s->q;
	while (m && done < total) {
		if (m->nfds && (done || have))
			break;
		uint32_t avail = m->len - m->off;
		uint32_t n = avail < total - done ? avail : (uint32_t)(total - done);
		int err = msg_copy_out(m, m->off, n, u);
		if (err)
			return done ? (long)done : err;
		done += n;
		int had_fds = m->nfds != 0;
		if (had_fds)
			put_control(s, m, flags, peek, rc);
		if (peek) {
			if (m->off + n < m->len)
				break;
			m = m->next;
		} else {
			m->off += n;
			if (m->off == m->len) {
				q_pop(s);
				msg_free(m);
			}
			m = s->q;
		}
		if (had_fds)
			break;
	}
	if (!peek)
		usock_changed(s);
	return (long)done;
}

long usock_recv(struct usock *s, struct file *f, struct uio *u, int flags, struct recv_ctl *rc)
{
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (s->state == US_LISTENING)
		return -EINVAL;
	int64_t deadline = deadline_of(s->rcvtimeo);
	long done = recv_once(s, f, u, flags, rc, 0, deadline);
	/* MSG_WAITALL on a stream: wait for the rest as for the first byte. */
	while (done > 0 && (flags & MSG_WAITALL) && !(flags & MSG_PEEK) && s->type == SOCK_STREAM && u->resid) {
		long more = recv_once(s, f, u, flags, rc, (uint64_t)done, deadline);
		if (more <= 0)
			break;
		done += more;
	}
	return done;
}
