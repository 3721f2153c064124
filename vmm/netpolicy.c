/* netpolicy.c: --net none|host|allow=ADDR[/LEN][:PORT]: parsing, and the check made on each guest connect. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "log.h"
#include "netpolicy.h"

static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

#define USAGE "use --net none, --net host, or --net allow=ADDR[/LEN][:PORT] (IPv6 in brackets: allow=[::1]:8080)"

/* A decimal number in [lo, hi] that is all of s. */
static int parse_num(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	if (!*s || strlen(s) > 5)
		return -1;
	unsigned v = 0;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		v = v * 10 + (unsigned)(*c - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* ADDR[/LEN][:PORT], IPv6 as [ADDR][/LEN][:PORT] or a bare ADDR[/LEN]. */
static int parse_rule(const char *spec, struct net_rule *r)
{
	char buf[128], *addr = buf, *len = NULL, *port = NULL;
	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	int v6;
	if (buf[0] == '[') {
		char *end = strchr(buf, ']');
		if (!end)
			return -1;
		*end = 0;
		addr = buf + 1;
		char *rest = end + 1;
		if (*rest == '/') {
			len = rest + 1;
			rest = strchr(len, ':');
			if (rest)
				*rest++ = 0;
		} else if (*rest == ':') {
			rest++;
		} else if (*rest) {
			return -1;
		}
		if (rest && *rest)
			port = rest;
		else if (rest && rest != end + 1)
			return -1;   /* a ':' with no port after it */
		v6 = 1;
	} else {
		char *c1 = strchr(buf, ':');
		v6 = c1 && strchr(c1 + 1, ':');   /* two colons: a bare IPv6 address, no port */
		char *slash = strchr(buf, '/');
		if (slash) {
			*slash = 0;
			len = slash + 1;
		}
		if (!v6) {
			char *colon = strchr(len ? len : buf, ':');
			if (colon) {
				*colon = 0;
				port = colon + 1;
			}
		}
	}
	memset(r, 0, sizeof(*r));
	if (v6) {
		if (inet_pton(AF_INET6, addr, r->addr) != 1)
			return -1;
		r->prefix = 128;
	} else {
		memcpy(r->addr, v4_prefix, 12);
		if (inet_pton(AF_INET, addr, r->addr + 12) != 1)
			return -1;
		r->prefix = 32;
	}
	unsigned v;
	if (len) {
		if (parse_num(len, 0, r->prefix, &v))
			return -1;
		r->prefix = v;
	}
	if (!v6)
		r->prefix += 96;   /* over the v4-mapped form */
	if (port) {
		if (parse_num(port, 1, 65535, &v))
			return -1;
		r->port = (uint16_t)v;
	}
	return 0;
}

int netpolicy_parse(struct net_policy *p, const char *arg)
{
	if (!strcmp(arg, "none") || !strcmp(arg, "host")) {
		enum net_mode m = arg[0] == 'n' ? NET_NONE : NET_HOST;
		if (p->mode == NET_ALLOW || (p->mode != NET_NONE && p->mode != m)) {
			log_err("--net %s: conflicts with an earlier --net; give either none, host, or allow= rules", arg);
			return -1;
		}
		p->mode = m;
		return 0;
	}
	if (strncmp(arg, "allow=", 6)) {
		log_err("--net %s: unknown; " USAGE, arg);
		return -1;
	}
	if (p->mode == NET_HOST) {
		log_err("--net %s: conflicts with --net host, which already allows every address", arg);
		return -1;
	}
	if (p->n >= NET_RULES_MAX) {
		log_err("--net %s: at most %u allow rules", arg, NET_RULES_MAX);
		return -1;
	}
	struct net_rule *r = &p->rules[p->n];
	if (parse_rule(arg + 6, r)) {
		log_err("--net %s: not ADDR[/LEN][:PORT] (e.g. allow=127.0.0.1:8080, allow=10.0.0.0/8, allow=[::1]:443); "
			"the length is 0-32 for IPv4, 0-128 for IPv6, the port 1-65535", arg);
		return -1;
	}
	r->arg = arg;
	p->n++;
	p->mode = NET_ALLOW;
	return 0;
}

int netpolicy_parse_publish(struct net_policy *p, const char *arg)
{
	char buf[128], *s = buf;
	if (p->npub >= NET_PUBLISH_MAX) {
		log_err("--publish %s: at most %u", arg, NET_PUBLISH_MAX);
		return -1;
	}
	struct net_publish *pb = &p->pub[p->npub];
	memset(pb, 0, sizeof(*pb));
	if (strlen(arg) >= sizeof(buf))
		goto bad;
	strcpy(buf, arg);
	char *proto = strchr(s, '/');
	if (proto) {
		*proto++ = 0;
		if (!strcmp(proto, "udp")) {
			log_err("--publish %s: UDP is not supported yet; publish TCP ports (/tcp, the default)", arg);
			return -1;
		}
		if (strcmp(proto, "tcp"))
			goto bad;
	}
	/* From the right: GUESTPORT, HOSTPORT, then what is left is the address. */
	char *c2 = strrchr(s, ':');
	if (!c2)
		goto bad;
	*c2 = 0;
	char *c1 = strrchr(s, ':');
	const char *hport = c1 ? c1 + 1 : s;
	unsigned hp, gp;
	if (parse_num(c2 + 1, 1, 65535, &gp) || parse_num(hport, 1, 65535, &hp))
		goto bad;
	pb->family = AF_INET;
	pb->addr[0] = 127;
	pb->addr[3] = 1;
	if (c1) {
		*c1 = 0;
		size_t n = strlen(s);
		if (n > 2 && s[0] == '[' && s[n - 1] == ']') {
			s[n - 1] = 0;
			if (inet_pton(AF_INET6, s + 1, pb->addr) != 1)
				goto bad;
			pb->family = AF_INET6;
		} else if (inet_pton(AF_INET, s, pb->addr) != 1) {
			goto bad;
		}
	}
	for (unsigned i = 0; i < p->npub; i++) {
		if (p->pub[i].guest_port == gp) {
			log_err("--publish %s: guest port %u is already published by --publish %s", arg, gp, p->pub[i].arg);
			return -1;
		}
	}
	pb->host_port = (uint16_t)hp;
	pb->guest_port = (uint16_t)gp;
	pb->arg = arg;
	p->npub++;
	return 0;
bad:
	log_err("--publish %s: not [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp] (e.g. --publish 8080:80, --publish "
		"0.0.0.0:8080:80, --publish [::1]:8080:80); ports 1-65535, the host address 127.0.0.1 by default", arg);
	return -1;
}

static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole))
		return 0;
	if (!rest)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

int netpolicy_allows(const struct net_policy *p, int family, const uint8_t *addr, uint16_t port)
{
	if (p->mode == NET_HOST)
		return 1;
	if (p->mode != NET_ALLOW || port == 0)
		return 0;
	uint8_t a[16];
	if (family == AF_INET) {
		memcpy(a, v4_prefix, 12);
		memcpy(a + 12, addr, 4);
	} else if (family == AF_INET6) {
		memcpy(a, addr, 16);
	} else {
		return 0;
	}
	for (unsigned i = 0; i < p->n; i++) {
		const struct net_rule *r = &p->rules[i];
		if ((!r->port || r->port == port) && prefix_match(a, r->addr, r->prefix))
			return 1;
	}
	return 0;
}

void netpolicy_format(int family, const uint8_t *addr, uint16_t port, char *buf, unsigned size)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (family == AF_INET6 && !memcmp(addr, v4_prefix, 12)) {
		family = AF_INET;
		addr += 12;
	}
	inet_ntop(family == AF_INET ? AF_INET : AF_INET6, addr, a, sizeof(a));
	snprintf(buf, size, family == AF_INET ? "%s:%u" : "[%s]:%u", a, port);
}
