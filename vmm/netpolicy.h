/* netpolicy.h: --net: which host addresses the program inside may reach, parsed from the command line and checked on each connect. */
#ifndef VMM_NETPOLICY_H
#define VMM_NETPOLICY_H

#include <stdint.h>

enum net_mode {
	NET_NONE,    /* the default: loopback inside the VM only, no host socket ever */
	NET_HOST,    /* outbound TCP and UDP to any address */
	NET_ALLOW,   /* outbound only to the rules' addresses */
};

#define NET_RULES_MAX 64

/* One allow=ADDR[/LEN][:PORT]: IPv4 rules hold ::ffff:a.b.c.d and a prefix counted over those 128 bits. */
struct net_rule {
	uint8_t addr[16];
	unsigned prefix;     /* 0..128 */
	uint16_t port;       /* 0: any */
	const char *arg;     /* as given, for messages */
};

#define NET_PUBLISH_MAX 16

/* One --publish [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp]: the VMM listens on the host and hands connections to the guest. */
struct net_publish {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];    /* IPv4 in the first 4 bytes; 127.0.0.1 when none is given */
	uint16_t host_port, guest_port;
	const char *arg;
};

struct net_policy {
	enum net_mode mode;
	unsigned n;
	struct net_rule rules[NET_RULES_MAX];
	unsigned npub;
	struct net_publish pub[NET_PUBLISH_MAX];
};

/* Add one --net value (none, host, allow=...) to p. 0, or -1 after a message naming the value and the fix. */
int netpolicy_parse(struct net_policy *p, const char *arg);

/* Add one --publish value. 0, or -1 after a message naming the value and the fix. */
int netpolicy_parse_publish(struct net_policy *p, const char *arg);

/*
 * May the guest connect to addr:port? family is AF_INET (addr: 4 bytes) or
 * AF_INET6 (16 bytes; a v4-mapped address is judged as the IPv4 one).
 */
int netpolicy_allows(const struct net_policy *p, int family, const uint8_t *addr, uint16_t port);

/* addr:port as text ("1.2.3.4:80", "[::1]:80") for messages. */
void netpolicy_format(int family, const uint8_t *addr, uint16_t port, char *buf, unsigned size);

#endif
