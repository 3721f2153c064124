/* sys_net.c: the socket syscalls: arguments copied in and checked, then handed to the AF_UNIX sockets (or, by family, to inet.c). */
#include "kernel/syscall.h"
#include "inet.h"
#include "unix.h"

#define SOL_SOCKET 1
#define SCM_RIGHTS 1
#define SCM_CREDENTIALS 2
#define SO_REUSEADDR 2
#define SO_TYPE 3
#define SO_ERROR 4
#define SO_BROADCAST 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_LINGER 13
#define SO_REUSEPORT 15
#define SO_PASSCRED 16
#define SO_PEERCRED 17
#define SO_RCVLOWAT 18
#define SO_SNDLOWAT 19
#define SO_RCVTIMEO 20
#define SO_SNDTIMEO 21
#define SO_ACCEPTCONN 30
#define SO_SNDBUFFORCE 32
#define SO_RCVBUFFORCE 33
#define SO_PROTOCOL 38
#define SO_DOMAIN 39

struct msghdr_k {
	uint64_t name;
	uint32_t namelen, pad0;
	uint64_t iov, iovlen, control, controllen;
	int32_t flags, pad1;
};
_Static_assert(sizeof(struct msghdr_k) == 56, "struct msghdr on x86-64");

/* fd if it is an AF_INET or AF_INET6 socket, referenced while the call may sleep; else NULL. */
static struct file *inet_file(uint64_t fd)
{
	struct file *f = fd_get((int)fd);
	return inet_is(f) ? file_get(f) : NULL;
}

static long inet_done(struct file *f, long ret)
{
	file_put(f);
	return ret;
}

static long sock_fd(uint64_t fd, struct file **f, struct usock **s)
{
	*f = fd_get((int)fd);
	if (!*f)
		return -EBADF;
	*s = sock_of(*f);
	return *s ? 0 : -ENOTSOCK;
}

static long get_addr(uint64_t uaddr, uint64_t len, struct sockaddr_un_k *a)
{
	if (len > sizeof(*a) || len < 2)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	if (copy_from_user(a, uaddr, len))
		return -EFAULT;
	return 0;
}

/* Write an address out as Linux does: at most *ulen bytes, and the full length back into *ulen. */
static long put_addr(uint64_t uaddr, uint64_t ulen, const struct sockaddr_un_k *a, uint32_t len)
{
	if (!uaddr)
		return 0;
	int32_t have;
	if (copy_from_user(&have, ulen, 4))
		return -EFAULT;
	if (have < 0)
		return -EINVAL;
	struct sockaddr_un_k tmp;
	if (len < 2) {   /* unnamed: the family only */
		memset(&tmp, 0, sizeof(tmp));
		tmp.family = AF_UNIX;
		a = &tmp;
		len = 2;
	}
	uint32_t n = (uint32_t)have < len ? (uint32_t)have : len;
	if (copy_to_user(uaddr, a, n) || copy_to_user(ulen, &len, 4))
		return -EFAULT;
	return 0;
}

static long install(struct usock *s, uint32_t flags)
{
	struct file *f = usock_file(s, flags);
	if (!f)
		return -ENFILE;
	return fd_install(f, 0, (flags & SOCK_CLOEXEC) != 0);
}

static long check_type(uint64_t domain, uint64_t type, uint64_t proto)
{
	if (domain != AF_UNIX)
		return -EAFNOSUPPORT;
	if (type & ~(uint64_t)(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	int t = (int)(type & 0xf);
	if (t != SOCK_STREAM && t != SOCK_DGRAM && t != SOCK_SEQPACKET)
		return -ESOCKTNOSUPPORT;
	if (proto != 0 && proto != AF_UNIX)
		return -EPROTONOSUPPORT;
	return t;
}

SYS(socket)
{
	UNUSED_ARGS();
	if (a0 == AF_INET || a0 == AF_INET6)
		return inet_socket(a0, a1, a2);
	long t = check_type(a0, a1, a2);
	if (t < 0)
		return t;
	struct usock *s = usock_new((int)t);
	if (!s)
		return -ENOBUFS;
	return install(s, (uint32_t)a1);
}

SYS(socketpair)
{
	UNUSED_ARGS();
	long t = check_type(a0, a1, a2);
	if (t < 0)
		return t == -EAFNOSUPPORT && a0 != AF_UNIX && (a0 == AF_INET || a0 == AF_INET6) ? -EOPNOTSUPP : t;
	struct usock *x = usock_new((int)t), *y = usock_new((int)t);
	if (!x || !y) {
		if (x)
			usock_put(x);
		if (y)
			usock_put(y);
		return -ENOBUFS;
	}
	usock_pair(x, y);
	x->peercred = y->cred;
	y->peercred = x->cred;
	struct file *fx = usock_file(x, (uint32_t)a1);
	struct file *fy = usock_file(y, (uint32_t)a1);
	if (!fx || !fy) {
		if (fx)
			file_put(fx);
		if (fy)
			file_put(fy);
		return -ENFILE;
	}
	int cloexec = (a1 & SOCK_CLOEXEC) != 0;
	int dx = fd_install(fx, 0, cloexec);
	if (dx < 0) {
		file_put(fy);
		return dx;
	}
	int dy = fd_install(fy, 0, cloexec);
	if (dy < 0) {
		fd_close(dx);
		return dy;
	}
	int32_t fds[2] = { dx, dy };
	if (copy_to_user(a3, fds, sizeof(fds))) {
		fd_close(dx);
		fd_close(dy);
		return -EFAULT;
	}
	return 0;
}

SYS(bind)
{
	UNUSED_ARGS();
	struct file *in = inet_file(a0);
	if (in)
		return inet_done(in, inet_bind(in, a1, a2));
	struct file *f;
	struct usock *s;
	struct sockaddr_un_k a;
	long err = sock_fd(a0, &f, &s);
	if (!err)
		err = get_addr(a1, a2, &a);
	if (err)
		return err;
	return usock_bind(s, &a, (uint32_t)a2);
}

SYS(listen)
{
	UNUSED_ARGS();
	struct file *in = inet_file(a0);
	if (in)
		return inet_done(in, inet_listen(in, (int)a1));
	struct file *f;
	struct usock *s;
	long err = sock_fd(a0, &f, &s);
	if (err)
		return err;
	if (s->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	if (s->state == US_CONNECTED || !s->addrlen)
		return -EINVAL;
	int backlog = (int)a1;
	s->backlog = backlog < 0 || backlog > 4096 ? 4096 : backlog;
	s->cred = usock_mycred();
	if (s->state != US_LISTENING) {
		s->state = US_LISTENING;
		usock_changed(s);
	}
	return 0;
}

SYS(connect)
{
	UNUSED_ARGS();
	struct file *in = inet_file(a0);
	if (in)
		return inet_done(in, inet_connect(in, a1, a2));
	struct file *f;
	struct usock *s;
	struct sockaddr_un_k a;
	long err = sock_fd(a0, &f, &s);
	if (!err)
		err = get_addr(a1, a2, &a);
	if (err)
		return err;
	file_get(f);   /* it may sleep: the socket stays while it does */
	err = usock_connect(s, &a, (uint32_t)a2, (f->flags & O_NONBLOCK) != 0);
	file_put(f);
	return err;
}

SYS(accept4)
{
	UNUSED_ARGS();
	struct file *f;
	struct usock *s, *e;
	struct file *in = inet_file(a0);
	if (in) {
		struct recv_ctl rc;
		memset(&rc, 0, sizeof(rc));
		long fd = inet_done(in, inet_accept(in, a3, &rc)), err;
		if (fd >= 0 && a1 && (err = put_addr(a1, a2, &rc.from, rc.fromlen))) {
			fd_close((int)fd);
			return err;
		}
		return fd;
	}
	if (a3 & ~(uint64_t)(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	long err = sock_fd(a0, &f, &s);
	if (err)
		return err;
	if (s->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	file_get(f);
	err = usock_accept(s, (f->flags & O_NONBLOCK) != 0, &e);
	file_put(f);
	if (err)
		return err;
	/* The client's address: its own bound name, if any. */
	struct sockaddr_un_k pa;
	uint32_t plen = 0;
	if (e->peer) {
		pa = e->peer->addr;
		plen = e->peer->addrlen;
	}
	long fd = install(e, (uint32_t)a3);
	if (fd < 0)
		return fd;
	if (a1 && (err = put_addr(a1, a2, &pa, plen))) {
		fd_close((int)fd);
		return err;
	}
	return fd;
}

SYS(accept) { UNUSED_ARGS(); return sys_accept4(a0, a1, a2, 0, 0, 0); }

SYS(getsockname)
{
	UNUSED_ARGS();
	struct file *in = inet_file(a0);
	if (in) {
		struct recv_ctl rc;
		long err = inet_done(in, inet_name(in, 0, &rc));
		return err ? err : put_addr(a1, a2, &rc.from, rc.fromlen);
	}
	struct file *f;
	struct usock *s;
	long err = sock_fd(a0, &f, &s);
	if (err)
		return err;
	return put_addr(a1, a2, &s->addr, s->addrlen);
}

SYS(getpeername)
{
	UNUSED_ARGS();
	struct file *in = inet_file(a0);
	if (in) {
		struct recv_ctl rc;
		long err = inet_done(in, inet_name(in, 1, &rc));
		return err ? err : put_addr(a1, a2, &rc.from, rc.fromlen);
	}
	struct file *f;
	struct usock *s;
	long err = sock_fd(a0, &f, &s);
	if (err)
		return err;
	if (!s->peer || (s->type != SOCK_DGRAM && s->state != US_CONNECTED))
		return -ENOTCONN;
	return put_addr(a1, a2, &s->peer->addr, s->peer->addrlen);
}

SYS(shutdown)
{
	UNUSED_ARGS();
	struct file *in = inet_file(a0);
	if (in)
		return inet_done(in, inet_shutdown(in, a1));
	struct file *f;
	struct usock *s;
	long err = sock_fd(a0, &f, &s);
	if (err)
		return err;
	if (a1 > 2)
		return -EINVAL;
	usock_shutdown(s, (int)a1);
	return 0;
}

/* SCM_RIGHTS out of a sendmsg control buffer: references to the files, or an error. */
static long take_rights(uint64_t control, uint64_t clen, struct file **fds, uint32_t *nfds)
{
	*nfds = 0;
	if (!clen)
		return 0;
	if (clen > PAGE_SIZE)
		return -ENOBUFS;
	uint8_t *buf = kmalloc(clen);
	if (!buf)
		return -ENOBUFS;
	long err = copy_from_user(buf, control, clen) ? -EFAULT : 0;
	uint64_t at = 0;
	while (!err && at + 16 <= clen) {
		uint64_t len;
		int32_t level, type;
		memcpy(&len, buf + at, 8);
		memcpy(&level, buf + at + 8, 4);
		memcpy(&type, buf + at + 12, 4);
		if (len < 16 || len > clen - at) {
			err = -EINVAL;
			break;
		}
		if (level != SOL_SOCKET) {
			err = -EINVAL;
		} else if (type == SCM_RIGHTS) {
			uint64_t n = (len - 16) / 4;
			if (*nfds + n > UNIX_MAX_FDS) {
				err = -EINVAL;
				break;
			}
			for (uint64_t i = 0; i < n; i++) {
				int32_t fd;
				memcpy(&fd, buf + at + 16 + 4 * i, 4);
				struct file *fl = fd_get(fd);
				if (!fl) {
					err = -EBADF;
					break;
				}
				fds[(*nfds)++] = file_get(fl);
			}
		} else if (type == SCM_CREDENTIALS) {
			if (len != 28)
				err = -EINVAL;
			/* The kernel's own credentials go with every message; what was asked for is not checked further. */
		} else {
			err = -EINVAL;
		}
		at += ALIGN_UP(len, 8);
	}
	kfree(buf, clen);
	if (err) {
		for (uint32_t i = 0; i < *nfds; i++)
			file_put(fds[i]);
		*nfds = 0;
	}
	return err;
}

static long do_send(uint64_t fd, struct uio *u, uint64_t flags, uint64_t uaddr, uint64_t alen,
		    uint64_t control, uint64_t clen)
{
	struct file *f;
	struct usock *s, *to = NULL;
	struct file *in = inet_file(fd);
	if (in)
		return inet_done(in, inet_send(in, u, flags, uaddr, alen));   /* no control messages on these */
	long err = sock_fd(fd, &f, &s);
	if (err)
		return err;
	if (uaddr && alen) {
		struct sockaddr_un_k a;
		err = get_addr(uaddr, alen, &a);
		if (err)
			return err;
		if (s->type != SOCK_DGRAM)
			return s->state == US_CONNECTED ? -EISCONN : -EOPNOTSUPP;
		err = usock_lookup(&a, (uint32_t)alen, &to);
		if (err)
			return err;
		if (to->type != s->type) {
			usock_put(to);
			return -EPROTOTYPE;
		}
	}
	struct file **fds = NULL;
	uint32_t nfds = 0;
	if (clen) {
		fds = kmalloc(UNIX_MAX_FDS * sizeof(struct file *));
		err = fds ? take_rights(control, clen, fds, &nfds) : -ENOBUFS;
	}
	if (!err) {
		file_get(f);
		err = usock_send(s, f, u, (int)flags, to, fds, nfds);
		file_put(f);
		if (err < 0)
			for (uint32_t i = 0; i < nfds; i++)
				file_put(fds[i]);
	}
	if (fds)
		kfree(fds, UNIX_MAX_FDS * sizeof(struct file *));
	if (to)
		usock_put(to);
	return err;
}

SYS(sendto)
{
	UNUSED_ARGS();
	struct uio u;
	uio_single(&u, a1, a2);
	return do_send(a0, &u, a3, a4, a5, 0, 0);
}

SYS(sendmsg)
{
	UNUSED_ARGS();
	struct msghdr_k m;
	struct uio u;
	if (copy_from_user(&m, a1, sizeof(m)))
		return -EFAULT;
	long err = uio_init(&u, m.iov, m.iovlen);
	if (err)
		return err;
	return do_send(a0, &u, a2, m.name, m.namelen, m.control, m.controllen);
}

static long do_recv(uint64_t fd, struct uio *u, uint64_t flags, struct recv_ctl *rc)
{
	struct file *f;
	struct usock *s;
	struct file *in = inet_file(fd);
	if (in)
		return inet_done(in, inet_recv(in, u, flags, rc));
	long err = sock_fd(fd, &f, &s);
	if (err)
		return err;
	file_get(f);
	err = usock_recv(s, f, u, (int)flags, rc);
	file_put(f);
	return err;
}

SYS(recvfrom)
{
	UNUSED_ARGS();
	struct uio u;
	struct recv_ctl rc;
	memset(&rc, 0, sizeof(rc));
	uio_single(&u, a1, a2);
	long n = do_recv(a0, &u, a3, &rc);
	if (n >= 0 && a4) {
		/* An unnamed sender (or a stream) leaves no address: the length written back is 0, as Linux. */
		uint32_t zero = 0;
		long err = rc.fromlen >= 2 ? put_addr(a4, a5, &rc.from, rc.fromlen) : copy_to_user(a5, &zero, 4) ? -EFAULT : 0;
		if (err)
			return err;
	}
	return n;
}

SYS(recvmsg)
{
	UNUSED_ARGS();
	struct msghdr_k m;
	struct uio u;
	struct recv_ctl rc;
	memset(&rc, 0, sizeof(rc));
	if (copy_from_user(&m, a1, sizeof(m)))
		return -EFAULT;
	long err = uio_init(&u, m.iov, m.iovlen);
	if (err)
		return err;
	rc.control = m.control;
	rc.controllen = m.control ? m.controllen : 0;
	long n = do_recv(a0, &u, a2, &rc);
	if (n < 0)
		return n;
	if (m.name) {
		/* The sender's address for datagrams; nothing for a connected stream. */
		uint32_t len = rc.fromlen >= 2 ? rc.fromlen : 0;
		uint32_t c = m.namelen < len ? m.namelen : len;
		if (c && copy_to_user(m.name, &rc.from, c))
			return -EFAULT;
		m.namelen = len;
	} else {
		m.namelen = 0;
	}
	m.controllen = rc.ctl_written;
	m.flags = rc.msg_flags;
	if (copy_to_user(a1 + 8, &m.namelen, 4) || copy_to_user(a1 + 40, &m.controllen, 8) ||
	    copy_to_user(a1 + 48, &m.flags, 4))
		return -EFAULT;
	return n;
}

SYS(setsockopt)
{
	UNUSED_ARGS();
	struct file *in = inet_file(a0);
	if (in)
		return inet_done(in, inet_setsockopt(in, a1, a2, a3, a4));
	struct file *f;
	struct usock *s;
	long err = sock_fd(a0, &f, &s);
	if (err)
		return err;
	if (a1 != SOL_SOCKET)
		return -EOPNOTSUPP;
	int32_t v = 0;
	if (a4 >= 4 && copy_from_user(&v, a3, 4))
		return -EFAULT;
	switch (a2) {
	case SO_PASSCRED:
		if (a4 < 4)
			return -EINVAL;
		s->passcred = v != 0;
		return 0;
	case SO_SNDBUF: case SO_RCVBUF: case SO_SNDBUFFORCE: case SO_RCVBUFFORCE: {
		if (a4 < 4)
			return -EINVAL;
		/* Linux doubles what it is given (for its bookkeeping) and keeps a floor. */
		uint64_t b = (uint64_t)(uint32_t)v * 2;
		if (b < 4608)
			b = 4608;
		if (b > 4 * UNIX_BUF)
			b = 4 * UNIX_BUF;
		if (a2 == SO_SNDBUF || a2 == SO_SNDBUFFORCE)
			s->sndbuf = (uint32_t)b;
		else
			s->rcvbuf = (uint32_t)b;
		return 0;
	}
	case SO_RCVTIMEO: case SO_SNDTIMEO: {
		int64_t tv[2];
		if (a4 < sizeof(tv))
			return -EINVAL;
		if (copy_from_user(tv, a3, sizeof(tv)))
			return -EFAULT;
		if (tv[1] < 0 || tv[1] >= 1000000)
			return -EDOM;
		/* A negative time is a timeout of zero on Linux (EAGAIN at once): -1 here; 0 is none. */
		int64_t ns = tv[0] < 0 ? -1 : tv[0] > 1000000000 ? INT64_MAX / 2 : tv[0] * 1000000000 + tv[1] * 1000;
		if (a2 == SO_RCVTIMEO)
			s->rcvtimeo = ns;
		else
			s->sndtimeo = ns;
		return 0;
	}
	case SO_REUSEADDR: case SO_REUSEPORT: case SO_KEEPALIVE: case SO_BROADCAST: case SO_LINGER:
	case SO_RCVLOWAT: case SO_SNDLOWAT:
		return 0;   /* accepted; no effect on these sockets */
	default:
		return -ENOPROTOOPT;
	}
}

SYS(getsockopt)
{
	UNUSED_ARGS();
	struct file *in = inet_file(a0);
	if (in)
		return inet_done(in, inet_getsockopt(in, a1, a2, a3, a4));
	struct file *f;
	struct usock *s;
	long err = sock_fd(a0, &f, &s);
	if (err)
		return err;
	if (a1 != SOL_SOCKET)
		return -EOPNOTSUPP;
	int32_t have;
	if (copy_from_user(&have, a4, 4))
		return -EFAULT;
	if (have < 0)
		return -EINVAL;
	int32_t v;
	int64_t tv[2];
	const void *src = &v;
	uint32_t len = 4;
	switch (a2) {
	case SO_TYPE: v = s->type; break;
	case SO_ERROR: v = s->err; s->err = 0; break;
	case SO_SNDBUF: v = (int32_t)s->sndbuf; break;
	case SO_RCVBUF: v = (int32_t)s->rcvbuf; break;
	case SO_PASSCRED: v = s->passcred; break;
	case SO_ACCEPTCONN: v = s->state == US_LISTENING; break;
	case SO_DOMAIN: v = AF_UNIX; break;
	case SO_PROTOCOL: v = 0; break;
	case SO_REUSEADDR: case SO_KEEPALIVE: case SO_BROADCAST: v = 0; break;
	case SO_PEERCRED: src = &s->peercred; len = sizeof(s->peercred); break;
	case SO_RCVTIMEO: case SO_SNDTIMEO: {
		int64_t ns = a2 == SO_RCVTIMEO ? s->rcvtimeo : s->sndtimeo;
		if (ns < 0)
			ns = 0;
		tv[0] = ns / 1000000000;
		tv[1] = ns % 1000000000 / 1000;
		src = tv;
		len = sizeof(tv);
		break;
	}
	default: return -ENOPROTOOPT;
	}
	uint32_t n = (uint32_t)have < len ? (uint32_t)have : len;
	if (copy_to_user(a3, src, n) || copy_to_user(a4, &n, 4))
		return -EFAULT;
	return 0;
}

/* struct mmsghdr: a msghdr and the length sent or received. */
#define MMSG_SIZE 64
#define MSG_WAITFORONE 0x10000

SYS(sendmmsg)
{
	UNUSED_ARGS();
	uint64_t n = a2 < 1024 ? a2 : 1024;
	for (uint64_t i = 0; i < n; i++) {
		long r = sys_sendmsg(a0, a1 + i * MMSG_SIZE, a3, 0, 0, 0);
		uint32_t len = (uint32_t)r;
		if (r < 0)
			return i ? (long)i : r;
		if (copy_to_user(a1 + i * MMSG_SIZE + 56, &len, 4))
			return i ? (long)i : -EFAULT;
	}
	return (long)n;
}

/* The timeout (a4) is not applied: each message waits as recvmsg would. */
SYS(recvmmsg)
{
	UNUSED_ARGS();
	uint64_t n = a2 < 1024 ? a2 : 1024;
	uint64_t flags = a3 & ~(uint64_t)MSG_WAITFORONE;
	for (uint64_t i = 0; i < n; i++) {
		long r = sys_recvmsg(a0, a1 + i * MMSG_SIZE, flags | (i && (a3 & MSG_WAITFORONE) ? MSG_DONTWAIT : 0), 0, 0, 0);
		uint32_t len = (uint32_t)r;
		if (r < 0)
			return i ? (long)i : r;
		if (copy_to_user(a1 + i * MMSG_SIZE + 56, &len, 4))
			return i ? (long)i : -EFAULT;
	}
	return (long)n;
}
