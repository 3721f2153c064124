/* hostnet.c: the guest's host sockets (--net): each LBVM_IO_NET_* request checked, then run as one io_uring operation. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "hostnet.h"
#include "log.h"
#include "netpolicy.h"

#define FD_FREE (-1)
#define FD_MAKING (-2)   /* a SOCKET in flight holds the slot */

struct hostnet {
	const struct net_policy *pol;
	int fd[LBVM_NET_MAX];
	uint8_t family[LBVM_NET_MAX];
	uint8_t type[LBVM_NET_MAX];
	unsigned open;               /* slots not free */
	int lfd[NET_PUBLISH_MAX];    /* --publish: the host listeners, in the policy's order */
	uint64_t made;               /* sockets the host made for this VM */
};

const uint8_t hostnet_uring_ops[] = {
	IORING_OP_SOCKET, IORING_OP_CONNECT, IORING_OP_SEND, IORING_OP_RECV, IORING_OP_SHUTDOWN, IORING_OP_CLOSE,
	IORING_OP_ACCEPT, IORING_OP_SENDMSG, IORING_OP_RECVMSG,
};
const unsigned hostnet_uring_nops = sizeof(hostnet_uring_ops);

int hostnet_create(const struct net_policy *p, struct hostnet **out)
{
	struct hostnet *hn = calloc(1, sizeof(*hn));
	if (!hn)
		return -ENOMEM;
	hn->pol = p;
	for (unsigned i = 0; i < LBVM_NET_MAX; i++)
		hn->fd[i] = FD_FREE;
	for (unsigned i = 0; i < NET_PUBLISH_MAX; i++)
		hn->lfd[i] = -1;
	*out = hn;
	return 0;
}

int hostnet_listen(struct hostnet *hn)
{
	for (unsigned i = 0; i < hn->pol->npub; i++) {
		const struct net_publish *pb = &hn->pol->pub[i];
		union {
			struct sockaddr_in v4;
			struct sockaddr_in6 v6;
		} sa;
		memset(&sa, 0, sizeof(sa));
		socklen_t len;
		if (pb->family == AF_INET) {
			sa.v4.sin_family = AF_INET;
			sa.v4.sin_port = htons(pb->host_port);
			memcpy(&sa.v4.sin_addr, pb->addr, 4);
			len = sizeof(sa.v4);
		} else {
			sa.v6.sin6_family = AF_INET6;
			sa.v6.sin6_port = htons(pb->host_port);
			memcpy(&sa.v6.sin6_addr, pb->addr, 16);
			len = sizeof(sa.v6);
		}
		int one = 1, fd = socket(pb->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 128) < 0) {
			char where[64];
			netpolicy_format(pb->family, pb->addr, pb->host_port, where, sizeof(where));
			log_err("--publish %s: cannot listen on %s: %s; choose a free host port, or an address of this machine",
				pb->arg, where, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		hn->lfd[i] = fd;
	}
	return 0;
}

void hostnet_destroy(struct hostnet *hn)
{
	if (!hn)
		return;
	for (unsigned i = 0; i < LBVM_NET_MAX; i++)
		if (hn->fd[i] >= 0)
			close(hn->fd[i]);
	for (unsigned i = 0; i < NET_PUBLISH_MAX; i++)
		if (hn->lfd[i] >= 0)
			close(hn->lfd[i]);
	free(hn);
}

unsigned hostnet_open_count(const struct hostnet *hn)
{
	return hn ? hn->open : 0;
}

uint64_t hostnet_made(const struct hostnet *hn)
{
	return hn ? hn->made : 0;
}

static void release(struct hostnet *hn, uint32_t h)
{
	hn->fd[h] = FD_FREE;
	hn->open--;
}

/* The guest's address, copied once and checked: its socket's family, a port, nothing in the padding. */
static int64_t build_addr(struct hostnet *hn, struct netreq *r)
{
	struct lbvm_net_addr a;
	if (!r->in || r->inlen < sizeof(a) || (r->op == LBVM_IO_NET_CONNECT && r->inlen != sizeof(a)))
		return -EINVAL;
	memcpy(&a, r->in, sizeof(a));
	int fam = hn->family[r->handle];
	if (a.family != fam || a.pad != 0)
		return -EAFNOSUPPORT;
	if (a.port == 0)
		return -EINVAL;
	memset(&r->sa, 0, sizeof(r->sa));
	if (fam == AF_INET) {
		for (unsigned i = 4; i < 16; i++)
			if (a.addr[i])
				return -EINVAL;
		r->sa.v4.sin_family = AF_INET;
		r->sa.v4.sin_port = htons(a.port);
		memcpy(&r->sa.v4.sin_addr, a.addr, 4);
	} else {
		r->sa.v6.sin6_family = AF_INET6;
		r->sa.v6.sin6_port = htons(a.port);
		memcpy(&r->sa.v6.sin6_addr, a.addr, 16);
	}
	if (!netpolicy_allows(hn->pol, fam, a.addr, a.port)) {
		char where[64];
		netpolicy_format(fam, a.addr, a.port, where, sizeof(where));
		log_debug("--net: the program's %s to %s was refused (ECONNREFUSED): the policy does not allow it; "
			  "add --net allow=%s to let it", r->op == LBVM_IO_NET_SENDTO ? "datagram" : "connect", where, where);
		return -ECONNREFUSED;
	}
	return 0;
}

/* Check r against its operation and the table; 0 when it may run. */
static int64_t check(struct hostnet *hn, struct netreq *r)
{
	int need_in = r->op == LBVM_IO_NET_CONNECT || r->op == LBVM_IO_NET_SEND || r->op == LBVM_IO_NET_SENDTO;
	int need_out = r->op == LBVM_IO_NET_RECV || r->op == LBVM_IO_NET_ACCEPT || r->op == LBVM_IO_NET_RECVFROM;
	if (!!r->in != need_in || !!r->out != need_out)
		return -EINVAL;
	if (r->op == LBVM_IO_NET_ACCEPT) {
		if (r->outlen != sizeof(struct lbvm_net_addr) || r->arg == 0 || r->arg > 65535)
			return -EINVAL;
		for (r->pub = 0; r->pub < hn->pol->npub; r->pub++)
			if (hn->pol->pub[r->pub].guest_port == r->arg && hn->lfd[r->pub] >= 0)
				return 0;
		return -ENOENT;   /* no --publish for that port: the guest need not ask again */
	}
	if (r->op == LBVM_IO_NET_SOCKET) {
		uint64_t type = r->arg & 0xff, fam = r->arg >> 8;
		if ((type != LBVM_NET_TCP && type != LBVM_NET_UDP) || (fam != LBVM_NET_INET && fam != LBVM_NET_INET6))
			return -EINVAL;
		return 0;
	}
	if (r->handle >= LBVM_NET_MAX || hn->fd[r->handle] < 0)
		return -EBADF;
	r->fd = hn->fd[r->handle];
	switch (r->op) {
	case LBVM_IO_NET_SEND: case LBVM_IO_NET_RECV:
		return r->arg & ~(uint64_t)LBVM_NET_DONTWAIT ? -EINVAL : 0;
	case LBVM_IO_NET_SHUTDOWN:
		return r->arg > SHUT_RDWR ? -EINVAL : 0;
	case LBVM_IO_NET_CLOSE:
		return r->arg ? -EINVAL : 0;
	case LBVM_IO_NET_CONNECT:
		return r->arg ? -EINVAL : build_addr(hn, r);
	case LBVM_IO_NET_SENDTO:
		if (hn->type[r->handle] != LBVM_NET_UDP || r->arg & ~(uint64_t)LBVM_NET_DONTWAIT)
			return -EINVAL;
		return build_addr(hn, r);
	case LBVM_IO_NET_RECVFROM:
		if (hn->type[r->handle] != LBVM_NET_UDP || r->arg & ~(uint64_t)LBVM_NET_DONTWAIT ||
		    r->outlen <= sizeof(struct lbvm_net_addr))
			return -EINVAL;
		return 0;
	}
	return -ENOSYS;
}

int hostnet_start(struct hostnet *hn, struct io_uring *ring, uint64_t tag, struct netreq *r)
{
	r->result = check(hn, r);
	if (r->result)
		return 0;
	uint32_t h = 0;
	if (r->op == LBVM_IO_NET_SOCKET || r->op == LBVM_IO_NET_ACCEPT) {
		while (h < LBVM_NET_MAX && hn->fd[h] != FD_FREE)
			h++;
		if (h == LBVM_NET_MAX) {
			r->result = -EMFILE;   /* the per-VM bound */
			return 0;
		}
	}
	/* From here an SQE is queued, whatever the operation: an SQE taken and left unprepared would run as well. */
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	int flags = MSG_NOSIGNAL | (r->arg & LBVM_NET_DONTWAIT ? MSG_DONTWAIT : 0);
	switch (r->op) {
	case LBVM_IO_NET_SOCKET: {
		hn->fd[h] = FD_MAKING;
		hn->open++;
		r->handle = h;
		hn->family[h] = (uint8_t)(r->arg >> 8);
		hn->type[h] = (uint8_t)(r->arg & 0xff);
		/* Only these two kinds are ever made: never raw or packet sockets. */
		io_uring_prep_socket(sqe, hn->family[h], (hn->type[h] == LBVM_NET_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC,
				     0, 0);
		break;
	}
	case LBVM_IO_NET_ACCEPT:
		hn->fd[h] = FD_MAKING;
		hn->open++;
		r->handle = h;
		hn->family[h] = (uint8_t)hn->pol->pub[r->pub].family;
		hn->type[h] = LBVM_NET_TCP;
		r->salen = sizeof(r->sa);
		io_uring_prep_accept(sqe, hn->lfd[r->pub], (struct sockaddr *)&r->sa, &r->salen, SOCK_CLOEXEC);
		break;
	case LBVM_IO_NET_CONNECT:
		io_uring_prep_connect(sqe, r->fd, (struct sockaddr *)&r->sa,
				      r->sa.v4.sin_family == AF_INET ? sizeof(r->sa.v4) : sizeof(r->sa.v6));
		break;
	case LBVM_IO_NET_SEND:
		io_uring_prep_send(sqe, r->fd, r->in, r->inlen, flags);
		break;
	case LBVM_IO_NET_SENDTO:
		r->iov.iov_base = (void *)(r->in + sizeof(struct lbvm_net_addr));
		r->iov.iov_len = r->inlen - sizeof(struct lbvm_net_addr);
		memset(&r->msg, 0, sizeof(r->msg));
		r->msg.msg_name = &r->sa;
		r->msg.msg_namelen = r->sa.v4.sin_family == AF_INET ? sizeof(r->sa.v4) : sizeof(r->sa.v6);
		r->msg.msg_iov = &r->iov;
		r->msg.msg_iovlen = 1;
		io_uring_prep_sendmsg(sqe, r->fd, &r->msg, (unsigned)flags);
		break;
	case LBVM_IO_NET_RECVFROM:
		r->flags = flags;
		r->iov.iov_base = r->out + sizeof(struct lbvm_net_addr);
		r->iov.iov_len = r->outlen - sizeof(struct lbvm_net_addr);
		memset(&r->msg, 0, sizeof(r->msg));
		r->msg.msg_name = &r->sa;
		r->msg.msg_namelen = sizeof(r->sa);
		r->msg.msg_iov = &r->iov;
		r->msg.msg_iovlen = 1;
		io_uring_prep_recvmsg(sqe, r->fd, &r->msg, (unsigned)flags);
		break;
	case LBVM_IO_NET_RECV:
		io_uring_prep_recv(sqe, r->fd, r->out, r->outlen, flags);
		break;
	case LBVM_IO_NET_SHUTDOWN:
		io_uring_prep_shutdown(sqe, r->fd, (int)r->arg);
		break;
	case LBVM_IO_NET_CLOSE:
		/* The handle is gone now; a RECV still in flight ends with the shutdown, then the socket closes. */
		release(hn, r->handle);
		io_uring_prep_shutdown(sqe, r->fd, SHUT_RDWR);
		break;
	}
	io_uring_sqe_set_data64(sqe, tag);
	return 1;
}

int hostnet_step(struct hostnet *hn, struct io_uring *ring, uint64_t tag, struct netreq *r, int res)
{
	switch (r->op) {
	case LBVM_IO_NET_SOCKET:
		if (res < 0) {
			release(hn, r->handle);
			r->result = res;
		} else {
			hn->fd[r->handle] = res;
			hn->made++;
			r->result = r->handle;
		}
		return 0;
	case LBVM_IO_NET_ACCEPT: {
		if (res < 0) {
			release(hn, r->handle);
			r->result = res;
			return 0;
		}
		hn->fd[r->handle] = res;
		hn->made++;
		struct lbvm_net_addr a;
		memset(&a, 0, sizeof(a));
		if (r->sa.v4.sin_family == AF_INET) {
			a.family = LBVM_NET_INET;
			a.port = ntohs(r->sa.v4.sin_port);
			memcpy(a.addr, &r->sa.v4.sin_addr, 4);
		} else {
			a.family = LBVM_NET_INET6;
			a.port = ntohs(r->sa.v6.sin6_port);
			memcpy(a.addr, &r->sa.v6.sin6_addr, 16);
		}
		memcpy(r->out, &a, sizeof(a));
		r->written = sizeof(a);
		r->result = r->handle;
		return 0;
	}
	case LBVM_IO_NET_CLOSE:
		if (r->stage++ == 0) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
			if (!sqe) {
				io_uring_submit(ring);
				sqe = io_uring_get_sqe(ring);
			}
			io_uring_prep_close(sqe, r->fd);
			io_uring_sqe_set_data64(sqe, tag);
			return 1;
		}
		r->result = res;
		return 0;
	case LBVM_IO_NET_RECV:
		r->written = res > 0 ? (uint32_t)res : 0;
		break;
	case LBVM_IO_NET_RECVFROM:
		if (res >= 0) {
			struct lbvm_net_addr a;
			memset(&a, 0, sizeof(a));
			if (r->sa.v4.sin_family == AF_INET) {
				a.family = LBVM_NET_INET;
				a.port = ntohs(r->sa.v4.sin_port);
				memcpy(a.addr, &r->sa.v4.sin_addr, 4);
			} else {
				a.family = LBVM_NET_INET6;
				a.port = ntohs(r->sa.v6.sin6_port);
				memcpy(a.addr, &r->sa.v6.sin6_addr, 16);
			}
			if (!netpolicy_allows(hn->pol, a.family, a.addr, a.port)) {
				/* From an address the program may not reach: dropped, as if it never came. Wait for the next. */
				struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
				if (!sqe) {
					io_uring_submit(ring);
					sqe = io_uring_get_sqe(ring);
				}
				r->msg.msg_namelen = sizeof(r->sa);
				io_uring_prep_recvmsg(sqe, r->fd, &r->msg, (unsigned)r->flags);
				io_uring_sqe_set_data64(sqe, tag);
				return 1;
			}
			memcpy(r->out, &a, sizeof(a));
			r->written = sizeof(a) + (uint32_t)res;
		}
		break;
	}
	r->result = res;
	return 0;
}
