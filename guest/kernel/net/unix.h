/* unix.h: AF_UNIX sockets: the socket object shared by unix.c (objects, addresses, connections), unix_data.c (queues, send, receive) and sys_net.c (the syscalls). */
#ifndef GUEST_NET_UNIX_H
#define GUEST_NET_UNIX_H

#include "kernel/proc/proc.h"

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_SEQPACKET 5
#define SOCK_NONBLOCK O_NONBLOCK
#define SOCK_CLOEXEC O_CLOEXEC

#define MSG_OOB 0x1
#define MSG_PEEK 0x2
#define MSG_CTRUNC 0x8
#define MSG_TRUNC 0x20
#define MSG_DONTWAIT 0x40
#define MSG_EOR 0x80
#define MSG_WAITALL 0x100
#define MSG_NOSIGNAL 0x4000
#define MSG_CMSG_CLOEXEC 0x40000000

#define UNIX_BUF 212992          /* bytes a receive queue holds: Linux's default socket buffer */
#define UNIX_MAX_FDS 253         /* SCM_MAX_FD */
#define SUN_PATH_MAX 108

struct sockaddr_un_k {
	uint16_t family;
	char path[SUN_PATH_MAX];
};

struct ucred_k {
	int32_t pid;
	uint32_t uid, gid;
};

/* A user iovec array walked in place (or one buffer): nothing is copied in up front. */
struct uio {
	uint64_t uiov, cnt, i;   /* the array, its length, the next entry to fetch */
	uint64_t base, left;     /* the current entry's unused part */
	uint64_t resid;          /* bytes left in all entries */
};
int uio_init(struct uio *u, uint64_t uiov, uint64_t cnt);
void uio_single(struct uio *u, uint64_t buf, uint64_t len);

/* One message (or one write's worth of a stream) in a receive queue. */
struct umsg {
	struct umsg *next;
	uint32_t len, off;         /* bytes, and how many a stream reader has taken */
	uint32_t npg;
	uint8_t **pg;              /* data, a page each (or one small allocation) */
	struct file **fds;         /* SCM_RIGHTS in flight: references held */
	uint32_t nfds;
	struct ucred_k cred;       /* the sender's */
	struct sockaddr_un_k from; /* the sender's address (datagrams) */
	uint32_t fromlen;
};

enum usock_state { US_UNCONNECTED, US_LISTENING, US_CONNECTED };

struct usock {
	int refs;                  /* the vnode, peers pointing here, queues holding it */
	int type;
	enum usock_state state;
	int dead;                  /* its last file is closed */
	struct usock *peer;        /* connected: the other end; datagrams: the default destination */
	struct umsg *q, **qtail;   /* the receive queue */
	uint32_t qbytes;
	int rcv_shut, snd_shut;
	int err;                   /* SO_ERROR: reported once */
	int passcred;
	int backlog, nembryo;      /* listening: the limit and the connections waiting for accept */
	struct usock *embryo, **embryo_tail; /* linked by next_embryo */
	struct usock *next_embryo;
	struct ucred_k cred;       /* its own, taken at socket/listen/connect */
	struct ucred_k peercred;   /* SO_PEERCRED */
	struct sockaddr_un_k addr; /* bound address; addrlen 0: unbound */
	uint32_t addrlen;
	struct tnode *key;         /* bound to a path: the file system node (a reference) */
	struct usock *next_bound;
	uint32_t sndbuf, rcvbuf;
	int64_t rcvtimeo, sndtimeo;  /* SO_RCVTIMEO, SO_SNDTIMEO in ns; 0: none; < 0: time out at once */
	struct vnode *vn;
	struct file *file;         /* its one open file description, once it has one (not a reference) */
	/* unix_gc.c: SCM_RIGHTS references to file held by messages in queues, and the collector's marks */
	uint32_t inflight;
	struct usock *inflight_next, **inflight_pprev;   /* on the list of sockets in flight */
	uint32_t gc_refs;          /* during a collection: in-flight references from outside the candidates */
	int gc_state;
	struct usock *gc_work;
};

struct usock *usock_new(int type);
void usock_get(struct usock *s);
void usock_put(struct usock *s);
struct file *usock_file(struct usock *s, uint32_t flags);   /* a vnode and file for s (takes s's reference) */
struct usock *sock_of(struct file *f);                     /* NULL if f is not a socket */
void usock_changed(struct usock *s);
struct ucred_k usock_mycred(void);
void usock_pair(struct usock *a, struct usock *b);

int usock_bind(struct usock *s, const struct sockaddr_un_k *a, uint32_t len);
int usock_lookup(const struct sockaddr_un_k *a, uint32_t len, struct usock **out);  /* a bound socket, referenced */
int usock_connect(struct usock *s, const struct sockaddr_un_k *a, uint32_t len, int nonblock);
int usock_accept(struct usock *s, int nonblock, struct usock **out);
void usock_shutdown(struct usock *s, int how);

/* unix.c */
int64_t usock_deadline(int64_t timeo_ns);           /* INT64_MAX: no timeout */
int usock_wait(const void *chan, int64_t deadline);  /* 0: look again; -EINTR; -EAGAIN past the deadline */

/* unix_gc.c: descriptors in flight, and the collector of cycles among them */
void usock_inflight_add(struct file *f);             /* f was put into a message (sockets only count) */
void usock_inflight_del(struct file *f);             /* f left its message: received or freed */
void usock_queued(struct usock *r, struct umsg *m);  /* m, carrying descriptors, was queued on r */
void usock_gc(void);
void usock_gc_maybe(void);                           /* collect if many sockets are in flight */

/* unix_data.c */
uint32_t msg_charge(uint32_t len);                   /* what a message costs its receiver's buffer */
void msg_free(struct umsg *m);                       /* closes the descriptors it carried */
struct umsg *q_pop(struct usock *s);

struct recv_ctl {
	uint64_t control, controllen;  /* IN: the user's control buffer */
	uint64_t ctl_written;          /* OUT */
	int msg_flags;                 /* OUT */
	struct sockaddr_un_k from;     /* OUT */
	uint32_t fromlen;
};
long usock_send(struct usock *s, struct file *f, struct uio *u, int flags, struct usock *to,
		struct file **fds, uint32_t nfds);
long usock_recv(struct usock *s, struct file *f, struct uio *u, int flags, struct recv_ctl *rc);

#endif
