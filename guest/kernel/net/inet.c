/* inet.c: AF_INET and AF_INET6 sockets: the socket object and its file, addresses and ports, loopback connections between the VM's own processes. */
#include "kernel/syscall.h"
#include "inet.h"

static struct isock *bound_list;   /* every socket holding a port */
static uint64_t next_ino = 1u << 30;

/* ---- addresses ---- */

static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int inet_is_v4(const struct inaddr *a)
{
	return !memcmp(a->a, v4_prefix, 12);
}

static int is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* 0.0.0.0 or :: */
int inet_is_any(const struct inaddr *a)
{
	return inet_is_v4(a) ? is_zero(a->a + 12, 4) : is_zero(a->a, 16);
}

/* 127.0.0.0/8 or ::1: the only addresses the VM has of its own. */
int inet_is_loopback(const struct inaddr *a)
{
	if (inet_is_v4(a))
		return a->a[12] == 127;
	return is_zero(a->a, 15) && a->a[15] == 1;
}

void inet_set_loopback(struct inaddr *a, int v4)
{
	memset(a->a, 0, 16);
	if (v4) {
		memcpy(a->a, v4_prefix, 12);
		a->a[12] = 127;
		a->a[15] = 1;
	} else {
		a->a[15] = 1;
	}
}

static void set_any(struct inaddr *a, int family)
{
	memset(a->a, 0, 16);
	if (family == AF_INET)
		memcpy(a->a, v4_prefix, 12);
}

/*
 * A user sockaddr for socket s, copied in and checked as Linux does: a short
 * address is EINVAL, another family EAFNOSUPPORT. AF_UNSPEC with a zero
 * address binds an AF_INET socket to the wildcard, as Linux allows.
 */
int inet_parse(const struct isock *s, uint64_t uaddr, uint64_t len, struct inaddr *out)
{
	uint8_t b[28];
	uint16_t fam;
	if (len < 2 || len > 128)
		return -EINVAL;
	memset(b, 0, sizeof(b));
	if (copy_from_user(b, uaddr, len < sizeof(b) ? len : sizeof(b)))
		return -EFAULT;
	memcpy(&fam, b, 2);
	memset(out, 0, sizeof(*out));
	if (s->family == AF_INET) {
		if (len < 16)
			return -EINVAL;
		if (fam != AF_INET && !(fam == 0 && is_zero(b + 4, 4)))
			return -EAFNOSUPPORT;
		memcpy(out->a, v4_prefix, 12);
		memcpy(out->a + 12, b + 4, 4);
	} else {
		if (len < 24)
			return -EINVAL;
		if (fam != AF_INET6)
			return -EAFNOSUPPORT;
		memcpy(out->a, b + 8, 16);
	}
	out->port = (uint16_t)(b[2] << 8 | b[3]);
	return 0;
}

/* a as a sockaddr of s's family, into out->from and out->fromlen. */
void inet_format(const struct isock *s, const struct inaddr *a, struct recv_ctl *out)
{
	uint8_t b[28];
	memset(b, 0, sizeof(b));
	uint16_t fam = (uint16_t)s->family;
	memcpy(b, &fam, 2);
	b[2] = (uint8_t)(a->port >> 8);
	b[3] = (uint8_t)a->port;
	if (s->family == AF_INET) {
		memcpy(b + 4, a->a + 12, 4);
		out->fromlen = 16;
	} else {
		memcpy(b + 8, a->a, 16);
		out->fromlen = 28;
	}
	memcpy(&out->from, b, out->fromlen);
}

/* ---- ports ---- */

/* o's binding takes in address x (of its port). */
static int covers(const struct isock *o, const struct inaddr *x)
{
	if (!inet_is_any(&o->local))
		return !memcmp(o->local.a, x->a, 16);
	if (inet_is_v4(&o->local))
		return inet_is_v4(x);
	return !inet_is_v4(x) || !o->v6only;
}

/* Two bindings of one port meet somewhere. */
static int overlap(const struct isock *s, const struct inaddr *a, const struct isock *o)
{
	if (!inet_is_any(a))
		return covers(o, a);
	if (!inet_is_any(&o->local)) {
		struct isock tmp = *s;
		tmp.local = *a;
		return covers(&tmp, &o->local);
	}
	int s4 = inet_is_v4(a), o4 = inet_is_v4(&o->local);
	if (s4 == o4)
		return 1;
	return s4 ? !o->v6only : !s->v6only;
}

static int conflicts(const struct isock *s, const struct inaddr *a)
{
	for (struct isock *o = bound_list; o; o = o->next_bound) {
		if (o == s || o->type != s->type || o->local.port != a->port || !overlap(s, a, o))
			continue;
		if (s->reuseport && o->reuseport)
			continue;
		if (s->reuseaddr && o->reuseaddr && (s->type == SOCK_DGRAM || !o->listening))
			continue;
		return 1;
	}
	return 0;
}

/* Bind s to a; port 0 takes a free ephemeral port. */
static int bind_port(struct isock *s, const struct inaddr *a)
{
	static uint32_t next;
	struct inaddr t = *a;
	if (!t.port) {
		uint32_t span = EPHEMERAL_HI - EPHEMERAL_LO + 1, i;
		if (!next)
			random_fill(&next, sizeof(next));
		for (i = 0; i < span; i++) {
			t.port = (uint16_t)(EPHEMERAL_LO + next++ % span);
			if (!conflicts(s, &t))
				break;
		}
		if (i == span)
			return -EADDRINUSE;
	} else if (conflicts(s, &t)) {
		return -EADDRINUSE;
	}
	s->local = t;
	s->bound = 1;
	s->next_bound = bound_list;
	bound_list = s;
	return 0;
}

static void unbind(struct isock *s)
{
	for (struct isock **pp = &bound_list; *pp; pp = &(*pp)->next_bound) {
		if (*pp == s) {
			*pp = s->next_bound;
			break;
		}
	}
	s->bound = 0;
}

/*
 * Give s a port if it has none; toward (a connect's destination) also fixes
 * a wildcard local address to the loopback address the VM sends from.
 */
int inet_autobind(struct isock *s, const struct inaddr *toward)
{
	if (!s->bound) {
		struct inaddr any;
		memset(&any, 0, sizeof(any));
		set_any(&any, s->family);
		int err = bind_port(s, &any);
		if (err)
			return err;
	}
	if (toward && inet_is_any(&s->local))
		inet_set_loopback(&s->local, inet_is_v4(toward));
	return 0;
}

/* The socket that takes what is sent to address to: a listener for a stream, any bound socket for datagrams. */
struct isock *inet_find(int type, const struct inaddr *to, int listening)
{
	struct isock *wild = NULL;
	for (struct isock *o = bound_list; o; o = o->next_bound) {
		if (o->type != type || o->local.port != to->port || (listening && !o->listening) || !covers(o, to))
			continue;
		if (!inet_is_any(&o->local))
			return o;   /* a specific address wins over a wildcard, as Linux scores them */
		if (!wild)
			wild = o;
	}
	return wild;
}

/* ---- the socket object and its file ---- */

void inet_changed(struct isock *s)
{
	sched_wakeup(s);
	poll_wake();
}

static struct isock *isock_new(int family, int type)
{
	struct isock *s = kmalloc(sizeof(*s));
	if (!s)
		return NULL;
	s->u = usock_new(type);
	if (!s->u) {
		kfree(s, sizeof(*s));
		return NULL;
	}
	s->family = family;
	s->type = type;
	s->acceptq_tail = &s->acceptq;
	set_any(&s->local, family);
	set_any(&s->remote, family);
	return s;
}

/* The data side goes: the peer sees the end, or a reset when data was left unread (or reset is set). */
static void data_close(struct usock *u, int reset)
{
	u->dead = 1;
	struct usock *p = u->peer;
	if (p) {
		p->rcv_shut = p->snd_shut = 1;
		if (reset || u->q)
			p->err = ECONNRESET;
		u->peer = NULL;
		usock_changed(p);
		usock_put(p);
	}
	struct umsg *m;
	while ((m = q_pop(u)))
		msg_free(m);
	usock_changed(u);
	usock_put(u);
}

static void isock_free(struct isock *s, int reset)
{
	if (s->bound)
		unbind(s);
	/* Connections nobody accepted are reset, as Linux does when a listener closes. */
	while (s->acceptq) {
		struct isock *e = s->acceptq;
		s->acceptq = e->next_q;
		isock_free(e, 1);
	}
	s->listening = 0;
	if (s->host)
		inet_host_close(s);
	data_close(s->u, reset);
	inet_changed(s);
	kfree(s, sizeof(*s));
}

static void isock_release_op(struct vnode *vn)
{
	isock_free((struct isock *)vn->priv, 0);
}

static long isock_read_op(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)off;
	struct uio u;
	struct recv_ctl rc;
	memset(&rc, 0, sizeof(rc));
	uio_single(&u, ubuf, len);
	return inet_recv(f, &u, 0, &rc);
}

static long isock_write_op(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)off;
	struct uio u;
	uio_single(&u, ubuf, len);
	return inet_send(f, &u, 0, 0, 0);
}

static unsigned isock_poll_op(struct file *f)
{
	return inet_poll(isock_of(f));
}

static void isock_getattr_op(struct vnode *vn, struct kstat *st)
{
	st->size = 0;
	st->blksize = 4096;
	st->nlink = 1;
	(void)vn;
}

#define FIONREAD 0x541b
#define FIONBIO  0x5421

static int isock_ioctl_op(struct file *f, uint64_t req, uint64_t arg)
{
	struct isock *s = isock_of(f);
	int32_t v = 0;
	switch (req) {
	case FIONREAD:   /* a stream: all unread bytes; datagrams: the next one's size */
		if (s->listening)
			return -EINVAL;
		if (s->host) {
			v = (int32_t)inet_host_pending(s);
			return copy_to_user(arg, &v, 4) ? -EFAULT : 0;
		}
		for (struct umsg *m = s->u->q; m; m = m->next) {
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

static const struct vnode_ops isock_ops = {
	.read = isock_read_op, .write = isock_write_op, .release = isock_release_op,
	.getattr = isock_getattr_op, .poll = isock_poll_op, .ioctl = isock_ioctl_op,
};

struct isock *isock_of(struct file *f)
{
	return f && f->vn->ops == &isock_ops ? (struct isock *)f->vn->priv : NULL;
}

int inet_is(struct file *f)
{
	return isock_of(f) != NULL;
}

/* A descriptor for s (which it then owns), or -errno with s freed. */
static long isock_install(struct isock *s, uint64_t flags)
{
	struct vnode *vn = kmalloc(sizeof(*vn));
	if (!vn) {
		isock_free(s, 1);
		return -ENFILE;
	}
	vn->ops = &isock_ops;
	vn->refs = 1;
	vn->mode = S_IFSOCK | 0777;
	vn->ino = next_ino++;
	vn->stream = 1;
	vn->priv = s;
	s->vn = vn;
	char name[32];
	ksnprintf(name, sizeof(name), "socket:[%lu]", (unsigned long)vn->ino);
	struct file *f = file_new(vn, O_RDWR | ((uint32_t)flags & O_NONBLOCK), name);
	if (!f) {
		vn_put(vn);
		return -ENFILE;
	}
	return fd_install(f, 0, (flags & SOCK_CLOEXEC) != 0);
}

/* ---- the calls ---- */

long inet_socket(uint64_t family, uint64_t type, uint64_t proto)
{
	if (type & ~(uint64_t)(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	int t = (int)(type & 0xf);
	if (t != SOCK_STREAM && t != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;   /* raw and packet sockets: never */
	if (proto != 0 && proto != (t == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP))
		return -EPROTONOSUPPORT;
	struct isock *s = isock_new((int)family, t);
	if (!s)
		return -ENOBUFS;
	return isock_install(s, type);
}

long inet_bind(struct file *f, uint64_t uaddr, uint64_t len)
{
	struct isock *s = isock_of(f);
	struct inaddr a;
	int err = inet_parse(s, uaddr, len, &a);
	if (err)
		return err;
	if (s->bound)
		return -EINVAL;
	if (!inet_is_any(&a) && !inet_is_loopback(&a))
		return -EADDRNOTAVAIL;
	return bind_port(s, &a);
}

long inet_listen(struct file *f, int backlog)
{
	struct isock *s = isock_of(f);
	if (s->type != SOCK_STREAM)
		return -EOPNOTSUPP;
	if (s->connected)
		return -EINVAL;
	int err = inet_autobind(s, NULL);
	if (err)
		return err;
	s->backlog = backlog < 0 || backlog > 4096 ? 4096 : backlog;
	s->listening = 1;
	inet_changed(s);
	if (inet_host_enabled())
		inet_host_listen(s->local.port);   /* connections to a --publish host port for it */
	return 0;
}

struct isock *inet_find_listener(uint16_t port)
{
	for (struct isock *o = bound_list; o; o = o->next_bound)
		if (o->type == SOCK_STREAM && o->listening && o->local.port == port)
			return o;
	return NULL;
}

struct isock *inet_new_accepted(struct isock *l, const struct inaddr *peer)
{
	struct isock *e = isock_new(l->family, SOCK_STREAM);
	if (!e)
		return NULL;
	e->local = l->local;
	if (inet_is_any(&e->local))
		inet_set_loopback(&e->local, inet_is_v4(&e->local));
	e->remote = *peer;
	if (l->family == AF_INET && !inet_is_v4(peer))
		set_any(&e->remote, AF_INET);   /* an IPv6 host peer has no IPv4 name */
	e->nodelay = l->nodelay;
	e->keepalive = l->keepalive;
	e->connected = 1;
	e->next_q = NULL;
	*l->acceptq_tail = e;
	l->acceptq_tail = &e->next_q;
	l->nq++;
	inet_changed(l);
	return e;
}

/* A stream connection to a listener of this VM: its end exists at once, and accept hands it out. */
static long tcp_connect_local(struct file *f, struct isock *s, const struct inaddr *to)
{
	int nonblock = (f->flags & O_NONBLOCK) != 0;
	int64_t deadline = usock_deadline(s->u->sndtimeo);
	struct isock *l;
	for (;;) {
		l = inet_find(SOCK_STREAM, to, 1);
		if (!l) {
			if (!nonblock)
				return -ECONNREFUSED;
			/* As Linux: the attempt is under way, and SO_ERROR tells how it ended. */
			s->u->err = ECONNREFUSED;
			inet_changed(s);
			return -EINPROGRESS;
		}
		if (nonblock || l->nq <= l->backlog)
			break;
		int err = usock_wait(l, deadline);   /* a full backlog: wait for accept (then look the listener up again) */
		if (err)
			return err;
		if (s->connected)
			return -EISCONN;
	}
	int err = inet_autobind(s, to);
	if (err)
		return err;
	struct isock *e = isock_new(l->family, SOCK_STREAM);
	if (!e)
		return -ENOBUFS;
	e->local = *to;
	e->remote = s->local;
	e->nodelay = l->nodelay;
	e->keepalive = l->keepalive;
	e->u->rcvbuf = l->u->rcvbuf;
	e->u->sndbuf = l->u->sndbuf;
	e->connected = 1;
	usock_pair(s->u, e->u);
	e->next_q = NULL;
	*l->acceptq_tail = e;
	l->acceptq_tail = &e->next_q;
	l->nq++;
	s->connected = 1;
	s->remote = *to;
	inet_changed(l);
	inet_changed(s);
	if (nonblock) {
		s->nb_connect = 1;
		return -EINPROGRESS;
	}
	return 0;
}

long inet_connect(struct file *f, uint64_t uaddr, uint64_t len)
{
	struct isock *s = isock_of(f);
	uint16_t fam = 0;
	if (len >= 2 && copy_from_user(&fam, uaddr, 2))
		return -EFAULT;
	if (fam == 0 && len >= 2 && s->type == SOCK_DGRAM) {   /* AF_UNSPEC: dissolve the association */
		if (s->host)
			inet_host_close(s);
		s->connected = 0;
		set_any(&s->remote, s->family);
		return 0;
	}
	struct inaddr to;
	int err = inet_parse(s, uaddr, len, &to);
	if (err)
		return err;
	if (s->type == SOCK_DGRAM && s->host)
		inet_host_close(s);   /* a new association: the old host side goes */
	if (s->type == SOCK_STREAM) {
		if (s->listening)
			return -EISCONN;
		if (s->connected) {
			if (s->nb_connect) {
				s->nb_connect = 0;
				return 0;
			}
			return -EISCONN;
		}
		if (s->u->err)
			s->u->err = 0;   /* a new attempt after a failed one */
	}
	if (inet_is_any(&to))
		inet_set_loopback(&to, inet_is_v4(&to));   /* 0.0.0.0 and :: reach this machine, as on Linux */
	/*
	 * A listener (or bound socket) of the VM's own takes a loopback
	 * connection; anything else goes to the host when --net lets the VMM
	 * decide, and is refused like a closed port when it does not.
	 */
	int local = inet_is_loopback(&to);
	if (inet_host_enabled() && !(local && inet_find(s->type, &to, s->type == SOCK_STREAM)))
		return inet_host_connect(f, s, &to);
	if (s->type == SOCK_STREAM)
		return tcp_connect_local(f, s, &to);
	if (!local)
		return -ENETUNREACH;   /* the VM has no other network */
	err = inet_autobind(s, &to);
	if (err)
		return err;
	s->connected = 1;
	s->remote = to;
	s->u->err = 0;
	return 0;
}

long inet_accept(struct file *f, uint64_t flags, struct recv_ctl *peer)
{
	struct isock *s = isock_of(f);
	if (flags & ~(uint64_t)(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (s->type != SOCK_STREAM)
		return -EOPNOTSUPP;
	if (!s->listening)
		return -EINVAL;
	int64_t deadline = usock_deadline(s->u->rcvtimeo);
	while (!s->acceptq) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		int err = usock_wait(s, deadline);
		if (err)
			return err;
		if (!s->listening)
			return -EINVAL;
	}
	struct isock *e = s->acceptq;
	s->acceptq = e->next_q;
	if (!s->acceptq)
		s->acceptq_tail = &s->acceptq;
	s->nq--;
	inet_changed(s);   /* connects waiting on a full backlog */
	inet_format(e, &e->remote, peer);
	return isock_install(e, flags);
}

long inet_name(struct file *f, int peer, struct recv_ctl *out)
{
	struct isock *s = isock_of(f);
	if (peer && !s->connected)
		return -ENOTCONN;
	inet_format(s, peer ? &s->remote : &s->local, out);
	return 0;
}

long inet_shutdown(struct file *f, uint64_t how)
{
	struct isock *s = isock_of(f);
	if (how > 2)
		return -EINVAL;
	if (s->listening && how != 1) {   /* a listener stops: accept gives EINVAL, as Linux */
		s->listening = 0;
		while (s->acceptq) {
			struct isock *e = s->acceptq;
			s->acceptq = e->next_q;
			isock_free(e, 1);
		}
		s->acceptq_tail = &s->acceptq;
		s->nq = 0;
		inet_changed(s);
		return 0;
	}
	if (!s->connected)
		return -ENOTCONN;
	if (s->host)
		return inet_host_shutdown(s, how);
	struct usock *u = s->u;
	if (how != 1)
		u->rcv_shut = 1;
	if (how != 0) {
		u->snd_shut = 1;
		if (u->peer) {
			u->peer->rcv_shut = 1;
			usock_changed(u->peer);
		}
	}
	usock_changed(u);
	return 0;
}
