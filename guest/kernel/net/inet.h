/* inet.h: AF_INET and AF_INET6 sockets: the socket object shared by inet.c (objects, ports, connections), inet_data.c (data, options) and sys_net.c (the family switch). */
#ifndef GUEST_NET_INET_H
#define GUEST_NET_INET_H

#include "unix.h"

#define IPPROTO_IP 0
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_IPV6 41

#ifndef ENETUNREACH
#define ENETUNREACH 101
#endif

#define EPHEMERAL_LO 32768   /* Linux's ip_local_port_range */
#define EPHEMERAL_HI 60999

/* An address in IPv6 form (IPv4 as ::ffff:a.b.c.d) and a port in host order. */
struct inaddr {
	uint8_t a[16];
	uint16_t port;
};

struct isock {
	struct usock *u;            /* the data: queues, peer, shutdown state, SO_ERROR, buffers, timeouts (unix_data.c) */
	int family, type;
	struct inaddr local, remote;
	int bound, connected, listening;
	int nb_connect;             /* a nonblocking connect finished: the next connect reports 0 once, as Linux */
	int reuseaddr, reuseport, keepalive, nodelay, v6only, broadcast;
	int backlog, nq;
	struct isock *acceptq, **acceptq_tail, *next_q;  /* listening: connections waiting for accept */
	struct isock *next_bound;
	struct vnode *vn;
	struct hconn *host;         /* a connection through the host (--net): inet_host.c; NULL otherwise */
};

int inet_is(struct file *f);
struct isock *isock_of(struct file *f);

/* inet.c */
long inet_socket(uint64_t family, uint64_t type, uint64_t proto);
long inet_bind(struct file *f, uint64_t uaddr, uint64_t len);
long inet_listen(struct file *f, int backlog);
long inet_connect(struct file *f, uint64_t uaddr, uint64_t len);
long inet_accept(struct file *f, uint64_t flags, struct recv_ctl *peer);
long inet_name(struct file *f, int peer, struct recv_ctl *out);
long inet_shutdown(struct file *f, uint64_t how);
int inet_parse(const struct isock *s, uint64_t uaddr, uint64_t len, struct inaddr *out);
void inet_format(const struct isock *s, const struct inaddr *a, struct recv_ctl *out);
int inet_autobind(struct isock *s, const struct inaddr *toward);
int inet_is_v4(const struct inaddr *a);
int inet_is_loopback(const struct inaddr *a);
int inet_is_any(const struct inaddr *a);
void inet_set_loopback(struct inaddr *a, int v4);
struct isock *inet_find(int type, const struct inaddr *to, int listening);

void inet_changed(struct isock *s);                 /* wake its sleepers and every poller */
struct isock *inet_find_listener(uint16_t port);     /* a TCP listener on port, any address */
struct isock *inet_new_accepted(struct isock *l, const struct inaddr *peer);  /* queued on l for accept */

/* inet_host.c: connections that leave the VM */
int inet_host_enabled(void);                         /* --net allows some: LBVM_BOOT_NET */
long inet_host_connect(struct file *f, struct isock *s, const struct inaddr *to);
void inet_host_listen(uint16_t port);                /* ask for --publish connections to port */
void inet_host_close(struct isock *s);
long inet_host_sendto(struct isock *s, struct file *f, struct uio *u, uint64_t flags, const struct inaddr *to);
long inet_host_recvfrom(struct isock *s, struct file *f, struct uio *u, uint64_t flags, struct recv_ctl *rc);
long inet_host_send(struct isock *s, struct file *f, struct uio *u, uint64_t flags);
long inet_host_recv(struct isock *s, struct file *f, struct uio *u, uint64_t flags);
unsigned inet_host_poll(struct isock *s);
long inet_host_shutdown(struct isock *s, uint64_t how);
uint32_t inet_host_pending(struct isock *s);

/* inet_data.c */
long inet_send(struct file *f, struct uio *u, uint64_t flags, uint64_t uaddr, uint64_t alen);
long inet_recv(struct file *f, struct uio *u, uint64_t flags, struct recv_ctl *rc);
long inet_setsockopt(struct file *f, uint64_t level, uint64_t name, uint64_t uval, uint64_t len);
long inet_getsockopt(struct file *f, uint64_t level, uint64_t name, uint64_t uval, uint64_t ulen);
unsigned inet_poll(struct isock *s);

#endif
