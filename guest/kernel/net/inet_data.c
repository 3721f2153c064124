/* inet_data.c: AF_INET and AF_INET6 data and options: send and receive through the socket's queues (unix_data.c), socket options, readiness. */
#include "kernel/syscall.h"
#include "inet.h"

#define SOL_SOCKET 1
#define SO_REUSEADDR 2
#define SO_TYPE 3
#define SO_ERROR 4
#define SO_BROADCAST 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_OOBINLINE 10
#define SO_LINGER 13
#define SO_REUSEPORT 15
#define SO_RCVLOWAT 18
#define SO_SNDLOWAT 19
#define SO_RCVTIMEO 20
#define SO_SNDTIMEO 21
#define SO_ACCEPTCONN 30
#define SO_SNDBUFFORCE 32
#define SO_RCVBUFFORCE 33
#define SO_PROTOCOL 38
#define SO_DOMAIN 39

#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#define TCP_CORK 3
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_DEFER_ACCEPT 9
#define TCP_QUICKACK 12
#define TCP_USER_TIMEOUT 18
#define TCP_FASTOPEN 23
#define TCP_NOTSENT_LOWAT 25

#define IPV6_V6ONLY 26

/* ---- data ---- */

static long pipe_error(uint64_t flags)
{
	if (!(flags & MSG_NOSIGNAL)) {
		struct ksiginfo si = { SI_USER, current->pid, 0, 0 };
		signal_post(current, SIGPIPE, &si);
	}
	return -EPIPE;
}

/* SO_ERROR, once: what a failed connection left. */
static int take_err(struct usock *u)
{
	int e = u->err;
	u->err = 0;
	return e;
}

/* A datagram to a socket of this VM; none bound there: it is lost, and a connected sender hears ECONNREFUSED next. */
static long udp_send_local(struct isock *s, struct file *f, struct uio *u, uint64_t flags, const struct inaddr *to)
{
	struct isock *t = inet_find(SOCK_DGRAM, to, 0);
	if (!t) {
		if (s->connected && !memcmp(&s->remote, to, sizeof(*to))) {
			s->u->err = ECONNREFUSED;   /* what the ICMP port-unreachable does on Linux */
			usock_changed(s->u);
		}
		return (long)u->resid;
	}
	/* The sender's address travels in the message: its own, or the loopback address it sends from. */
	struct inaddr from = s->local;
	if (inet_is_any(&from))
		inet_set_loopback(&from, inet_is_v4(to));
	memcpy(&s->u->addr, &from, sizeof(from));
	s->u->addrlen = sizeof(from);
	struct usock *tu = t->u;
	usock_get(tu);
	long r = usock_send(s->u, f, u, (int)flags, tu, NULL, 0);
	usock_put(tu);
	return r;
}

long inet_send(struct file *f, struct uio *u, uint64_t flags, uint64_t uaddr, uint64_t alen)
{
	struct isock *s = isock_of(f);
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (s->type == SOCK_STREAM) {
		/* A destination on a stream is ignored, as Linux's TCP does. */
		int e = take_err(s->u);
		if (e)
			return -e;
		if (!s->connected)
			return pipe_error(flags);
		if (s->host)
			return inet_host_send(s, f, u, flags);
		return usock_send(s->u, f, u, (int)flags, NULL, NULL, 0);
	}
	struct inaddr to;
	if (uaddr && alen) {
		int err = inet_parse(s, uaddr, alen, &to);
		if (err)
			return err;
	} else if (s->connected) {
		to = s->remote;
	} else {
		return -EDESTADDRREQ;
	}
	if (inet_is_any(&to))
		inet_set_loopback(&to, inet_is_v4(&to));   /* 0.0.0.0 and :: mean this machine */
	if (s->host && s->connected) {   /* a datagram socket connected through the host: to that address only */
		if (memcmp(&to, &s->remote, sizeof(to)))
			return -EISCONN;
		return inet_host_send(s, f, u, flags);
	}
	if (u->resid > (inet_is_v4(&to) ? 65507u : 65527u))
		return -EMSGSIZE;
	if (s->u->snd_shut)
		return pipe_error(flags);
	/* As for connect: the VM's own sockets first; then the host, when --net lets the VMM decide. */
	int local = inet_is_loopback(&to);
	int err = inet_autobind(s, NULL);
	if (err)
		return err;
	if (!(s->connected && !s->host) && inet_host_enabled() && !(local && inet_find(SOCK_DGRAM, &to, 0)))
		return inet_host_sendto(s, f, u, flags, &to);
	if (!local)
		return -ENETUNREACH;   /* the VM has no other network */
	return udp_send_local(s, f, u, flags, &to);
}

long inet_recv(struct file *f, struct uio *u, uint64_t flags, struct recv_ctl *rc)
{
	struct isock *s = isock_of(f);
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (s->type == SOCK_STREAM) {
		if (s->listening)
			return -ENOTCONN;
		if (!s->connected) {
			int e = take_err(s->u);
			return e ? -e : -ENOTCONN;
		}
		long r = s->host ? inet_host_recv(s, f, u, flags) : usock_recv(s->u, f, u, (int)flags, rc);
		rc->fromlen = 0;   /* a stream names no sender */
		return r;
	}
	if (s->host && s->connected) {
		long r = inet_host_recv(s, f, u, flags);
		if (r >= 0)
			inet_format(s, &s->remote, rc);
		return r;
	}
	long r = s->host ? inet_host_recvfrom(s, f, u, flags, rc) : usock_recv(s->u, f, u, (int)flags, rc);
	if (r >= 0 && (rc->fromlen == 16 || rc->fromlen == 28))
		return r;   /* a host datagram: its sender is already in the socket's format */
	if (r >= 0 && rc->fromlen == sizeof(struct inaddr)) {
		struct inaddr from;
		memcpy(&from, &rc->from, sizeof(from));
		inet_format(s, &from, rc);
	} else {
		rc->fromlen = 0;
	}
	return r;
}

unsigned inet_poll(struct isock *s)
{
	struct usock *u = s->u;
	unsigned m = 0;
	if (s->listening)
		return s->acceptq ? POLLIN | POLLRDNORM : 0;
	if (s->host)
		return inet_host_poll(s) | (s->type == SOCK_DGRAM && u->q ? POLLIN | POLLRDNORM : 0);
	if (u->err)
		m |= POLLERR;
	if (u->q)
		m |= POLLIN | POLLRDNORM;
	if (s->type == SOCK_DGRAM)
		return m | (u->rcv_shut ? POLLIN | POLLRDNORM : 0) | POLLOUT | POLLWRNORM;
	if (!s->connected)
		return m | POLLOUT | POLLWRNORM | POLLHUP;   /* as Linux's tcp_poll in TCP_CLOSE */
	if (u->rcv_shut)
		m |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (u->rcv_shut && u->snd_shut)
		m |= POLLHUP;
	struct usock *p = u->peer;
	int room = p && p->qbytes + msg_charge(1) <= p->rcvbuf;   /* as send decides whether to wait */
	if (!p || p->dead || u->snd_shut || room)
		m |= POLLOUT | POLLWRNORM;
	return m;
}

/* ---- options ---- */

/* A flag option: stored as 0 or 1. NULL: not one of them at this level. */
static int *flag_opt(struct isock *s, uint64_t level, uint64_t name)
{
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR: return &s->reuseaddr;
		case SO_REUSEPORT: return &s->reuseport;
		case SO_KEEPALIVE: return &s->keepalive;
		case SO_BROADCAST: return &s->broadcast;
		}
	} else if (level == IPPROTO_TCP && s->type == SOCK_STREAM && name == TCP_NODELAY) {
		return &s->nodelay;
	} else if (level == IPPROTO_IPV6 && s->family == AF_INET6 && name == IPV6_V6ONLY) {
		return &s->v6only;
	}
	return NULL;
}

/* Options taken and without effect here: there is no wire, no congestion, no timers on segments. */
static int ignored_opt(struct isock *s, uint64_t level, uint64_t name)
{
	if (level == SOL_SOCKET)
		return name == SO_LINGER || name == SO_RCVLOWAT || name == SO_SNDLOWAT || name == SO_OOBINLINE;
	if (level == IPPROTO_TCP)
		return s->type == SOCK_STREAM && (name == TCP_MAXSEG || name == TCP_CORK || name == TCP_KEEPIDLE ||
			name == TCP_KEEPINTVL || name == TCP_KEEPCNT || name == TCP_DEFER_ACCEPT || name == TCP_QUICKACK ||
			name == TCP_USER_TIMEOUT || name == TCP_FASTOPEN || name == TCP_NOTSENT_LOWAT);
	if (level == IPPROTO_IP)
		return s->family == AF_INET || s->family == AF_INET6;   /* IP_TOS, IP_TTL, IP_RECVERR and the like */
	if (level == IPPROTO_IPV6)
		return s->family == AF_INET6;
	return 0;
}

long inet_setsockopt(struct file *f, uint64_t level, uint64_t name, uint64_t uval, uint64_t len)
{
	struct isock *s = isock_of(f);
	int32_t v = 0;
	if (len >= 4 && copy_from_user(&v, uval, 4))
		return -EFAULT;
	int *flag = flag_opt(s, level, name);
	if (flag) {
		if (len < 4)
			return -EINVAL;
		if (flag == &s->v6only && s->bound)
			return -EINVAL;
		*flag = v != 0;
		return 0;
	}
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_SNDBUF: case SO_RCVBUF: case SO_SNDBUFFORCE: case SO_RCVBUFFORCE: {
			if (len < 4)
				return -EINVAL;
			/* Linux doubles what it is given (for its bookkeeping) and keeps a floor. */
			uint64_t b = (uint64_t)(uint32_t)v * 2;
			b = b < 4608 ? 4608 : b > 4 * UNIX_BUF ? 4 * UNIX_BUF : b;
			if (name == SO_SNDBUF || name == SO_SNDBUFFORCE)
				s->u->sndbuf = (uint32_t)b;
			else
				s->u->rcvbuf = (uint32_t)b;
			return 0;
		}
		case SO_RCVTIMEO: case SO_SNDTIMEO: {
			int64_t tv[2];
			if (len < sizeof(tv))
				return -EINVAL;
			if (copy_from_user(tv, uval, sizeof(tv)))
				return -EFAULT;
			if (tv[1] < 0 || tv[1] >= 1000000)
				return -EDOM;
			int64_t ns = tv[0] < 0 ? 0 : tv[0] > 1000000000 ? INT64_MAX / 2 : tv[0] * 1000000000 + tv[1] * 1000;
			if (name == SO_RCVTIMEO)
				s->u->rcvtimeo = ns;
			else
				s->u->sndtimeo = ns;
			return 0;
		}
		}
	}
	if (ignored_opt(s, level, name))
		return 0;
	return level == SOL_SOCKET || level == IPPROTO_TCP || level == IPPROTO_IP || level == IPPROTO_IPV6 ||
	       level == IPPROTO_UDP ? -ENOPROTOOPT : -EOPNOTSUPP;
}

long inet_getsockopt(struct file *f, uint64_t level, uint64_t name, uint64_t uval, uint64_t ulen)
{
	struct isock *s = isock_of(f);
	int32_t have;
	if (copy_from_user(&have, ulen, 4))
		return -EFAULT;
	if (have < 0)
		return -EINVAL;
	int32_t v = 0;
	int64_t tv[2];
	const void *src = &v;
	uint32_t len = 4;
	int *flag = flag_opt(s, level, name);
	if (flag) {
		v = *flag;
	} else if (level == SOL_SOCKET) {
		switch (name) {
		case SO_TYPE: v = s->type; break;
		case SO_ERROR: v = take_err(s->u); break;
		case SO_SNDBUF: v = (int32_t)s->u->sndbuf; break;
		case SO_RCVBUF: v = (int32_t)s->u->rcvbuf; break;
		case SO_ACCEPTCONN: v = s->listening; break;
		case SO_DOMAIN: v = s->family; break;
		case SO_PROTOCOL: v = s->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP; break;
		case SO_LINGER: len = 8; tv[0] = 0; src = tv; break;
		case SO_RCVTIMEO: case SO_SNDTIMEO: {
			int64_t ns = name == SO_RCVTIMEO ? s->u->rcvtimeo : s->u->sndtimeo;
			tv[0] = ns / 1000000000;
			tv[1] = ns % 1000000000 / 1000;
			src = tv;
			len = sizeof(tv);
			break;
		}
		default:
			if (!ignored_opt(s, level, name))
				return -ENOPROTOOPT;
		}
	} else if (!ignored_opt(s, level, name)) {
		return level == IPPROTO_TCP || level == IPPROTO_IP || level == IPPROTO_IPV6 || level == IPPROTO_UDP
		       ? -ENOPROTOOPT : -EOPNOTSUPP;
	}
	uint32_t n = (uint32_t)have < len ? (uint32_t)have : len;
	if (copy_to_user(uval, src, n) || copy_to_user(ulen, &n, 4))
		return -EFAULT;
	return 0;
}
