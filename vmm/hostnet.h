/* hostnet.h: host sockets for the guest (--net): the VM's socket table and one request's state. */
#ifndef VMM_HOSTNET_H
#define VMM_HOSTNET_H

#include <liburing.h>
#include <netinet/in.h>
#include <stdint.h>
#include "hypercall/lbvm_abi.h"

struct net_policy;
struct hostnet;

/* The state of one guest LBVM_IO_NET_* request while it is in flight. */
struct netreq {
	uint16_t op;
	int stage;
	uint32_t handle;              /* validated against the table (SOCKET: the one reserved) */
	uint64_t arg;
	const uint8_t *in;            /* checked translations of the guest's buffers */
	uint32_t inlen;
	uint8_t *out;
	uint32_t outlen;
	int fd;                       /* the socket it acts on */
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} sa;                         /* CONNECT: built from the checked copy of the guest's address; ACCEPT: the peer */
	socklen_t salen;
	struct msghdr msg;            /* SENDTO/RECVFROM */
	struct iovec iov;
	unsigned pub;                 /* ACCEPT: which --publish */
	int flags;                    /* RECVFROM: MSG_* for each try */
	int64_t result;
	uint32_t written;             /* bytes put into out */
};

/* A socket table for one VM under policy p (kept, not copied). 0 or -errno. */
int hostnet_create(const struct net_policy *p, struct hostnet **out);
/* Listen on every --publish host address (before the VMM confines itself). 0, or -1 after a message. */
int hostnet_listen(struct hostnet *hn);
/* Close every socket still open and free the table. */
void hostnet_destroy(struct hostnet *hn);

/*
 * Start r (op, handle, arg and buffers set by the caller from the checked
 * request). 0 when it completed at once (r->result holds the outcome), 1 when
 * an SQE tagged tag was queued.
 */
int hostnet_start(struct hostnet *hn, struct io_uring *ring, uint64_t tag, struct netreq *r);
/* The CQE for r came: 0 when done, 1 when the next stage was queued. */
int hostnet_step(struct hostnet *hn, struct io_uring *ring, uint64_t tag, struct netreq *r, int res);

/* Sockets open now, and made since the VM started: for --verbose and tests. */
unsigned hostnet_open_count(const struct hostnet *hn);
uint64_t hostnet_made(const struct hostnet *hn);

/* The io_uring opcodes hostnet uses: the ring allows them only with --net. */
extern const uint8_t hostnet_uring_ops[];
extern const unsigned hostnet_uring_nops;

#endif
