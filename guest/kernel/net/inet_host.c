/*
 * inet_host.c: AF_INET and AF_INET6 sockets whose connection leaves the VM
 * (--net): the VMM holds a host socket and runs each operation on it as one
 * io_uring request (LBVM_IO_NET_*); it alone decides, on its copy of the
 * address, whether the connection is allowed. A receive is always in flight
 * into a buffer of the socket's, so that poll, epoll and blocking reads just
 * look at that buffer, as they look at a loopback socket's queue.
 */
#include "kernel/syscall.h"
#include "inet.h"

struct hconn {
	uint32_t handle;
	struct isock *s;             /* NULL once the socket's last file closed */
	int busy;                    /* requests in flight that use the buffers below */
	int connecting;
	uint8_t *page;               /* what the last RECV brought: [off, len) not yet read */
	uint32_t cap;                /* the buffer's size */
	uint32_t len, off;
	int recv_busy, eof, err;     /* err: the RECV's failure (errno), reported once */
	int unconnected;             /* UDP without connect: RECVFROM, each datagram after its sender's address */
	struct inaddr from;          /* unconnected: the sender of what is in the buffer */
	struct lbvm_net_addr addr;   /* CONNECT's buffer */
};

int inet_host_enabled(void)
{
	return (boot.flags & LBVM_BOOT_NET) != 0;
}

/*
 * Buffers for host requests: 64 KiB, physically contiguous (one request
 * each way moves that much: a page at a time cost a round trip per 4 KiB),
 * kept for reuse since contiguous pages come only from memory never used
 * before; one page when none can be had.
 */
#define HBUF_SIZE (16 * PAGE_SIZE)
#define HBUF_KEEP 80
static uint8_t *hbuf_pool[HBUF_KEEP];
static unsigned hbuf_n;

static uint8_t *hbuf_get(uint32_t *cap)
{
	*cap = HBUF_SIZE;
	if (hbuf_n)
		return hbuf_pool[--hbuf_n];
	uint64_t pa = pmem_alloc_contig(HBUF_SIZE / PAGE_SIZE);
	if (!pa) {
		*cap = PAGE_SIZE;
		pa = pmem_alloc();
	}
	return pa ? pa_to_kva(pa) : NULL;
}

static void hbuf_put(uint8_t *b, uint32_t cap)
{
	if (cap == HBUF_SIZE && hbuf_n < HBUF_KEEP) {
		hbuf_pool[hbuf_n++] = b;
		return;
	}
	for (uint32_t off = 0; off < cap; off += PAGE_SIZE)
		pmem_free(kva_to_pa(b + off));
}

static void hconn_put_if_idle(struct hconn *hc)
{
	if (hc->s || hc->busy)
		return;
	hbuf_put(hc->page, hc->cap);
	kfree(hc, sizeof(*hc));
}

static void recv_done(void *arg, int64_t res);
static int uio_copy(struct uio *u, void *kbuf, uint64_t n, int to_user);

/* Keep a receive in flight while the page is empty and the stream goes on. */
static void arm_recv(struct hconn *hc)
{
	if (hc->recv_busy || hc->eof || hc->err || hc->off < hc->len || !hc->s)
		return;
	hc->recv_busy = 1;
	hc->busy++;
	hc->len = hc->off = 0;
	io_host_async(hc->unconnected ? LBVM_IO_NET_RECVFROM : LBVM_IO_NET_RECV, hc->handle, 0, 0, NULL, 0, hc->page,
		      hc->cap, recv_done, hc);
}

/* A RECVFROM's buffer: the sender, then the datagram. */
static void take_from(struct hconn *hc, uint32_t n)
{
	struct lbvm_net_addr a;
	memcpy(&a, hc->page, sizeof(a));
	memset(&hc->from, 0, sizeof(hc->from));
	hc->from.port = a.port;
	if (a.family == LBVM_NET_INET) {
		hc->from.a[10] = hc->from.a[11] = 0xff;
		memcpy(hc->from.a + 12, a.addr, 4);
	} else {
		memcpy(hc->from.a, a.addr, 16);
	}
	hc->off = sizeof(a);
	hc->len = sizeof(a) + n;
}

static void recv_done(void *arg, int64_t res)
{
	struct hconn *hc = arg;
	hc->recv_busy = 0;
	hc->busy--;
	if (!hc->s) {
		hconn_put_if_idle(hc);
		return;
	}
	int dgram = hc->s->type == SOCK_DGRAM;
	if (res == 0 && dgram) {
		arm_recv(hc);   /* an empty datagram: nothing to hand on */
		return;
	}
	if (res > 0 && hc->unconnected) {
		take_from(hc, (uint32_t)res);
	} else if (res > 0) {
		hc->len = (uint32_t)res;
		hc->off = 0;
	} else if (res == 0) {
		hc->eof = 1;
	} else if (res == -EAGAIN || res == -EINTR || (dgram && res == -ECONNREFUSED && hc->unconnected)) {
		arm_recv(hc);
		return;
	} else {
		hc->err = (int)-res;
		if (!dgram)
			hc->eof = 1;
	}
	inet_changed(hc->s);
	usock_changed(hc->s->u);   /* a datagram socket's reader may sleep on its loopback queue */
}

static void connect_done(void *arg, int64_t res)
{
	struct hconn *hc = arg;
	hc->connecting = 0;
	hc->busy--;
	struct isock *s = hc->s;
	if (!s) {
		hconn_put_if_idle(hc);
		return;
	}
	if (res < 0) {
		/* As a refused loopback connect: SO_ERROR says why, and the socket may try again. */
		s->u->err = (int)-res;
		s->connected = 0;
		s->host = NULL;
		hc->s = NULL;
		io_host_async(LBVM_IO_NET_CLOSE, hc->handle, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
		hconn_put_if_idle(hc);
	} else {
		arm_recv(hc);
	}
	inet_changed(s);
}

/*
 * A connection through the host to to. The socket counts as connected at
 * once (its remote address set) and a blocking caller waits here; what the
 * VMM answers lands in SO_ERROR, as for a nonblocking connect on Linux.
 */
long inet_host_connect(struct file *f, struct isock *s, const struct inaddr *to)
{
	int v4 = s->family == AF_INET;
	uint64_t kind = (s->type == SOCK_STREAM ? LBVM_NET_TCP : LBVM_NET_UDP) |
			(uint64_t)(v4 ? LBVM_NET_INET : LBVM_NET_INET6) << 8;
	int64_t h = io_host(LBVM_IO_NET_SOCKET, 0, 0, kind, NULL, 0, NULL, 0);
	if (h < 0)
		return h == -EMFILE ? -ENOBUFS : h;
	struct hconn *hc = kmalloc(sizeof(*hc));
	uint8_t *buf = hc ? hbuf_get(&hc->cap) : NULL;
	if (!buf) {
		if (hc)
			kfree(hc, sizeof(*hc));
		io_host_async(LBVM_IO_NET_CLOSE, (uint32_t)h, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
		return -ENOBUFS;
	}
	hc->page = buf;
	hc->handle = (uint32_t)h;
	hc->s = s;
	hc->addr.family = (uint16_t)(v4 ? LBVM_NET_INET : LBVM_NET_INET6);
	hc->addr.port = to->port;
	memcpy(hc->addr.addr, v4 ? to->a + 12 : to->a, v4 ? 4 : 16);
	int err = inet_autobind(s, to);
	if (err) {
		hc->s = NULL;
		io_host_async(LBVM_IO_NET_CLOSE, hc->handle, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
		hconn_put_if_idle(hc);
		return err;
	}
	s->host = hc;
	s->connected = 1;
	s->remote = *to;
	s->u->err = 0;
	hc->connecting = 1;
	hc->busy++;
	io_host_async(LBVM_IO_NET_CONNECT, hc->handle, 0, 0, &hc->addr, sizeof(hc->addr), NULL, 0, connect_done, hc);
	if ((f->flags & O_NONBLOCK) && s->type == SOCK_STREAM) {   /* a datagram socket's connect never waits long */
		s->nb_connect = 1;
		return -EINPROGRESS;
	}
	while (s->host == hc && hc->connecting) {   /* a failure frees hc and clears s->host */
		err = usock_wait(s, INT64_MAX);
		if (err)
			return err;   /* EINTR: the attempt goes on, as on Linux */
	}
	if (!s->connected) {
		int e = s->u->err;
		s->u->err = 0;
		return -e;
	}
	return 0;
}

/* ---- --publish: the VMM accepts on the host, the guest's listener on the port takes the connection ---- */

#define PUB_MAX 16

static struct pubwait {
	uint16_t port;               /* 0: free */
	int busy;                    /* an ACCEPT (or the pause before the next) in flight */
	struct lbvm_net_addr peer;   /* ACCEPT's buffer */
} pubs[PUB_MAX];

static void accept_done(void *arg, int64_t res);

static void arm_accept(void *arg)
{
	struct pubwait *p = arg;
	p->busy = 1;
	io_host_async(LBVM_IO_NET_ACCEPT, 0, 0, p->port, NULL, 0, &p->peer, sizeof(p->peer), accept_done, p);
}

/* A listener appeared on port: one ACCEPT per port stays in flight while the VMM publishes it. */
void inet_host_listen(uint16_t port)
{
	struct pubwait *spare = NULL;
	for (unsigned i = 0; i < PUB_MAX; i++) {
		if (pubs[i].port == port) {
			if (!pubs[i].busy)
				arm_accept(&pubs[i]);
			return;
		}
		if (!pubs[i].port && !spare)
			spare = &pubs[i];
	}
	if (spare) {
		spare->port = port;
		arm_accept(spare);
	}
}

static void accept_done(void *arg, int64_t res)
{
	struct pubwait *p = arg;
	p->busy = 0;
	if (res == -ENOENT) {   /* not published: ask again only at the next listen */
		p->port = 0;
		return;
	}
	if (res < 0) {   /* the table is full (EMFILE), say: try again shortly */
		p->busy = 1;
		io_timer_start(100000000, arm_accept, p);
		return;
	}
	struct isock *l = inet_find_listener(p->port);
	struct hconn *hc = l ? kmalloc(sizeof(*hc)) : NULL;
	uint32_t cap = 0;
	uint8_t *buf = hc ? hbuf_get(&cap) : NULL;
	struct inaddr peer;
	memset(&peer, 0, sizeof(peer));
	peer.port = p->peer.port;
	if (p->peer.family == LBVM_NET_INET) {
		peer.a[10] = peer.a[11] = 0xff;
		memcpy(peer.a + 12, p->peer.addr, 4);
	} else {
		memcpy(peer.a, p->peer.addr, 16);
	}
	struct isock *e = buf ? inet_new_accepted(l, &peer) : NULL;
	if (!e) {
		/* Nobody listens any more (or no memory): the host's client sees the connection close. */
		if (buf)
			hbuf_put(buf, cap);
		if (hc)
			kfree(hc, sizeof(*hc));
		io_host_async(LBVM_IO_NET_CLOSE, (uint32_t)res, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
		if (!l) {
			p->port = 0;
			return;
		}
	} else {
		hc->handle = (uint32_t)res;
		hc->page = buf;
		hc->cap = cap;
		hc->s = e;
		e->host = hc;
		arm_recv(hc);
	}
	arm_accept(p);
}

/* ---- UDP to the host without connect ---- */

/* The host side of an unconnected datagram socket, made at its first datagram out of the VM. */
static long host_udp_open(struct isock *s)
{
	uint64_t kind = LBVM_NET_UDP | (uint64_t)(s->family == AF_INET ? LBVM_NET_INET : LBVM_NET_INET6) << 8;
	int64_t h = io_host(LBVM_IO_NET_SOCKET, 0, 0, kind, NULL, 0, NULL, 0);
	if (h < 0)
		return h == -EMFILE ? -ENOBUFS : h;
	struct hconn *hc = kmalloc(sizeof(*hc));
	uint8_t *buf = hc ? hbuf_get(&hc->cap) : NULL;
	if (!buf) {
		if (hc)
			kfree(hc, sizeof(*hc));
		io_host_async(LBVM_IO_NET_CLOSE, (uint32_t)h, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
		return -ENOBUFS;
	}
	hc->page = buf;
	hc->handle = (uint32_t)h;
	hc->unconnected = 1;
	hc->s = s;
	s->host = hc;
	return 0;
}

long inet_host_sendto(struct isock *s, struct file *f, struct uio *u, uint64_t flags, const struct inaddr *to)
{
	if (!s->host) {
		long err = host_udp_open(s);
		if (err)
			return err;
	}
	struct hconn *hc = s->host;
	int v4 = s->family == AF_INET;
	if (v4 && !inet_is_v4(to))
		return -EAFNOSUPPORT;
	uint32_t cap;
	uint8_t *buf = hbuf_get(&cap);
	if (!buf)
		return -ENOBUFS;
	struct lbvm_net_addr a;
	memset(&a, 0, sizeof(a));
	a.family = (uint16_t)(v4 ? LBVM_NET_INET : LBVM_NET_INET6);
	a.port = to->port;
	memcpy(a.addr, v4 ? to->a + 12 : to->a, v4 ? 4 : 16);
	long ret;
	uint64_t n = u->resid;
	if (n > cap - sizeof(a)) {
		ret = -EMSGSIZE;
	} else {
		memcpy(buf, &a, sizeof(a));
		ret = uio_copy(u, buf + sizeof(a), n, 0);
		if (!ret) {
			uint64_t arg = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT) ? LBVM_NET_DONTWAIT : 0;
			int64_t r = io_host(LBVM_IO_NET_SENDTO, hc->handle, 0, arg, buf, (uint32_t)(sizeof(a) + n), NULL, 0);
			ret = r < 0 ? (long)r : (long)n;
		}
	}
	hbuf_put(buf, cap);
	arm_recv(hc);   /* replies may come now */
	return ret;
}

/*
 * Receive on an unconnected datagram socket with a host side: a datagram
 * from the host or one from the VM's own processes, whichever is there.
 */
long inet_host_recvfrom(struct isock *s, struct file *f, struct uio *u, uint64_t flags, struct recv_ctl *rc)
{
	struct hconn *hc = s->host;
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	int64_t deadline = usock_deadline(s->u->rcvtimeo);
	for (;;) {
		if (hc->off < hc->len) {
			struct inaddr from = hc->from;
			long r = inet_host_recv(s, f, u, flags);
			if (r >= 0)
				inet_format(s, &from, rc);
			return r;
		}
		if (s->u->q)
			return usock_recv(s->u, f, u, (int)(flags | MSG_DONTWAIT), rc);
		if (s->u->err) {
			int e = s->u->err;
			s->u->err = 0;
			return -e;
		}
		if (nonblock)
			return -EAGAIN;
		int err = usock_wait(s->u, deadline);
		if (err)
			return err;
	}
}

/* The socket's last file closed: the host socket goes (ending a RECV in flight); the buffers once nothing uses them. */
void inet_host_close(struct isock *s)
{
	struct hconn *hc = s->host;
	s->host = NULL;
	hc->s = NULL;
	io_host_async(LBVM_IO_NET_CLOSE, hc->handle, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
	hconn_put_if_idle(hc);
}

/* n bytes between kbuf and the iovecs at the cursor. */
static int uio_copy(struct uio *u, void *kbuf, uint64_t n, int to_user)
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

long inet_host_send(struct isock *s, struct file *f, struct uio *u, uint64_t flags)
{
	struct hconn *hc = s->host;
	if (hc->connecting)
		return (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT) ? -EAGAIN : -ENOTCONN;
	uint64_t arg = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT) ? LBVM_NET_DONTWAIT : 0;
	uint64_t done = 0;
	uint32_t cap;
	uint8_t *buf = hbuf_get(&cap);
	if (!buf)
		return -ENOBUFS;
	long ret = 0;
	while (u->resid) {
		uint32_t n = u->resid < cap ? (uint32_t)u->resid : cap;
		if (s->type == SOCK_DGRAM && u->resid > cap) {
			ret = -EMSGSIZE;   /* one datagram is one request: at most the buffer */
			break;
		}
		ret = uio_copy(u, buf, n, 0);
		if (ret)
			break;
		uint32_t sent = 0;
		while (sent < n) {
			int64_t r = io_host(LBVM_IO_NET_SEND, hc->handle, 0, arg, buf + sent, n - sent, NULL, 0);
			if (r <= 0) {
				ret = r ? (long)r : -EIO;
				goto out;
			}
			sent += (uint32_t)r;
			done += (uint64_t)r;
			if (arg)
				goto out;   /* nonblocking: what went, went */
		}
	}
out:
	hbuf_put(buf, cap);
	if (done)
		return (long)done;
	if (ret == -EPIPE && !(flags & MSG_NOSIGNAL)) {
		struct ksiginfo si = { SI_USER, current->pid, 0, 0 };
		signal_post(current, SIGPIPE, &si);
	}
	return ret;
}

long inet_host_recv(struct isock *s, struct file *f, struct uio *u, uint64_t flags)
{
	struct hconn *hc = s->host;
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	int64_t deadline = usock_deadline(s->u->rcvtimeo);
	while (hc->off >= hc->len) {
		if (hc->err) {
			int e = hc->err;
			hc->err = 0;
			return -e;
		}
		if (hc->eof || s->u->rcv_shut)
			return 0;
		if (nonblock)
			return -EAGAIN;
		int err = usock_wait(s, deadline);
		if (err)
			return err;
	}
	uint32_t avail = hc->len - hc->off;
	uint32_t n = u->resid < avail ? (uint32_t)u->resid : avail;
	int err = uio_copy(u, hc->page + hc->off, n, 1);
	if (err)
		return err;
	if (!(flags & MSG_PEEK)) {
		hc->off += n;
		if (s->type == SOCK_DGRAM)
			hc->off = hc->len;   /* the rest of a datagram is lost, as on Linux */
		arm_recv(hc);
	}
	return (s->type == SOCK_DGRAM && (flags & MSG_TRUNC)) ? (long)avail : (long)n;
}

unsigned inet_host_poll(struct isock *s)
{
	struct hconn *hc = s->host;
	if (hc->connecting)
		return 0;
	unsigned m = POLLOUT | POLLWRNORM;   /* a send waits in the VMM, never here */
	if (hc->off < hc->len)
		m |= POLLIN | POLLRDNORM;
	if (hc->err)
		m |= POLLERR;
	if (hc->eof)
		m |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (hc->eof && s->u->snd_shut)
		m |= POLLHUP;
	return m;
}

long inet_host_shutdown(struct isock *s, uint64_t how)
{
	struct hconn *hc = s->host;
	if (hc->connecting)
		return -ENOTCONN;
	if (how != 1)
		s->u->rcv_shut = 1;
	if (how != 0)
		s->u->snd_shut = 1;
	int64_t r = io_host(LBVM_IO_NET_SHUTDOWN, hc->handle, 0, how, NULL, 0, NULL, 0);
	inet_changed(s);
	return r < 0 ? (long)r : 0;
}

uint32_t inet_host_pending(struct isock *s)
{
	struct hconn *hc = s->host;
	return hc->len - hc->off;
}
