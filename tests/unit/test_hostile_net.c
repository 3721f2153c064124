#define _GNU_SOURCE
/*
 * test_hostile_net.c: the VMM's host sockets (LBVM_IO_NET_*) attacked directly, as a guest that took
 * over our kernel would: bad kinds, families, lengths, padding, ports and handles; addresses the
 * policy does not allow; a flood of sockets and connects; a receive left in flight at close; sockets
 * left open when the VM goes. Against the real iodev, hostnet and io_uring (harness in hostile.c), and
 * a listener of this test on 127.0.0.1.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "tests/unit/hostile.h"

#define TCP4 (LBVM_NET_TCP | LBVM_NET_INET << 8)
#define TCP6 (LBVM_NET_TCP | LBVM_NET_INET6 << 8)

static struct net_policy pol;
static int lfd = -1;     /* the test's own listener, the one address the policy allows */
static uint16_t lport;

/* Sockets in this process's descriptor table: the VMM's and the test's. */
static int count_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	struct dirent *e;
	char path[300], target[64];
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t k = readlink(path, target, sizeof(target) - 1);
		if (k > 0) {
			target[k] = 0;
			n += !strncmp(target, "socket:", 7);
		}
	}
	closedir(d);
	return n;
}

/* A listener on 127.0.0.1, and a device whose policy allows exactly it. */
static void net_up(void)
{
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 128), 0);
	socklen_t l = sizeof(a);
	getsockname(lfd, (struct sockaddr *)&a, &l);
	lport = ntohs(a.sin_port);
	memset(&pol, 0, sizeof(pol));
	char rule[64];
	static char keep[64];
	snprintf(rule, sizeof(rule), "allow=127.0.0.1:%u", lport);
	strcpy(keep, rule);
	assert_int_equal(netpolicy_parse(&pol, keep), 0);
	hostile_net = &pol;
	dev_up();
}

static struct lbvm_net_addr addr4(const char *ip, uint16_t port)
{
	struct lbvm_net_addr a;
	memset(&a, 0, sizeof(a));
	a.family = LBVM_NET_INET;
	a.port = port;
	inet_pton(AF_INET, ip, a.addr);
	return a;
}

static int64_t net_socket(uint64_t kind) { return call(LBVM_IO_NET_SOCKET, 0, 0, kind, NULL, 0, 0); }
static int64_t net_connect(uint32_t h, const void *a, uint32_t len) { return call(LBVM_IO_NET_CONNECT, h, 0, 0, a, len, 0); }

/* Without --net the device refuses every socket request, and the ring could not make one anyway. */
static void net_off_is_enosys(void **state)
{
	(void)state;
	hostile_net = NULL;
	dev_up();
	int before = count_sockets();
	assert_int_equal(net_socket(TCP4), -ENOSYS);
	struct lbvm_net_addr a = addr4("127.0.0.1", 80);
	assert_int_equal(net_connect(0, &a, sizeof(a)), -ENOSYS);
	assert_int_equal(call(LBVM_IO_NET_CLOSE, 0, 0, 0, NULL, 0, 0), -ENOSYS);
	assert_int_equal(count_sockets(), before);
	assert_false(vm_failed());
}

/* Only TCP and UDP over IPv4 and IPv6: raw, packet, unix and made-up kinds never become sockets. */
static void bad_socket_kinds(void **state)
{
	(void)state;
	net_up();
	int before = count_sockets();
	static const uint64_t bad[] = {
		0, 3, LBVM_NET_TCP, LBVM_NET_INET << 8, LBVM_NET_TCP | 1u << 8 /* AF_UNIX */, LBVM_NET_TCP | 17u << 8 /* AF_PACKET */,
		3 /* SOCK_RAW */ | LBVM_NET_INET << 8, LBVM_NET_UDP | 16u << 8 /* AF_NETLINK */, TCP4 | 1ull << 32, ~0ull,
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (net_socket(bad[i]) != -EINVAL)
			fail_msg("socket kind %#llx was not refused with EINVAL", (unsigned long long)bad[i]);
	/* A socket request with buffers is malformed. */
	assert_int_equal(call(LBVM_IO_NET_SOCKET, 0, 0, TCP4, "x", 1, 0), -EINVAL);
	assert_int_equal(call(LBVM_IO_NET_SOCKET, 0, 0, TCP4, NULL, 0, 16), -EINVAL);
	assert_int_equal(count_sockets(), before);
	assert_false(vm_failed());
}

/* Bad addresses, lengths and families are refused on the VMM's copy; the one allowed address connects. */
static void bad_connects(void **state)
{
	(void)state;
	net_up();
	int64_t h = net_socket(TCP4);
	assert_true(h >= 0 && h < LBVM_NET_MAX);
	struct lbvm_net_addr a = addr4("127.0.0.1", lport);
	assert_int_equal(net_connect((uint32_t)h, &a, sizeof(a) - 1), -EINVAL);
	assert_int_equal(net_connect((uint32_t)h, &a, sizeof(a) + 1), -EINVAL);
	assert_int_equal(call(LBVM_IO_NET_CONNECT, (uint32_t)h, 0, 0, NULL, 0, 0), -EINVAL);
	assert_int_equal(call(LBVM_IO_NET_CONNECT, (uint32_t)h, 0, 0, NULL, 0, sizeof(a)), -EINVAL);   /* an out-buffer */
	assert_int_equal(call(LBVM_IO_NET_CONNECT, (uint32_t)h, 0, 1, &a, sizeof(a), 0), -EINVAL);     /* an arg */
	struct lbvm_net_addr b = a;
	b.family = LBVM_NET_INET6;
	assert_int_equal(net_connect((uint32_t)h, &b, sizeof(b)), -EAFNOSUPPORT);
	b.family = 1;   /* AF_UNIX */
	assert_int_equal(net_connect((uint32_t)h, &b, sizeof(b)), -EAFNOSUPPORT);
	b = a;
	b.pad = 7;
	assert_int_equal(net_connect((uint32_t)h, &b, sizeof(b)), -EAFNOSUPPORT);
	b = a;
	b.port = 0;
	assert_int_equal(net_connect((uint32_t)h, &b, sizeof(b)), -EINVAL);
	b = a;
	b.addr[9] = 1;   /* bytes past an IPv4 address */
	assert_int_equal(net_connect((uint32_t)h, &b, sizeof(b)), -EINVAL);
	/* Not allowed: another port, another address, the same port elsewhere. */
	b = addr4("127.0.0.1", (uint16_t)(lport + 1));
	assert_int_equal(net_connect((uint32_t)h, &b, sizeof(b)), -ECONNREFUSED);
	b = addr4("127.0.0.2", lport);
	assert_int_equal(net_connect((uint32_t)h, &b, sizeof(b)), -ECONNREFUSED);
	b = addr4("10.0.0.1", lport);
	assert_int_equal(net_connect((uint32_t)h, &b, sizeof(b)), -ECONNREFUSED);
	/* Handles: out of range, never opened. */
	assert_int_equal(net_connect(LBVM_NET_MAX, &a, sizeof(a)), -EBADF);
	assert_int_equal(net_connect(0xffffffffu, &a, sizeof(a)), -EBADF);
	assert_int_equal(net_connect((uint32_t)(h + 1) % LBVM_NET_MAX, &a, sizeof(a)), -EBADF);
	/* An IPv6 socket to a v4-mapped address is judged as IPv4: allowed here. */
	int64_t h6 = net_socket(TCP6);
	assert_true(h6 >= 0);
	struct lbvm_net_addr m;
	memset(&m, 0, sizeof(m));
	m.family = LBVM_NET_INET6;
	m.port = lport;
	inet_pton(AF_INET6, "::ffff:127.0.0.2", m.addr);
	assert_int_equal(net_connect((uint32_t)h6, &m, sizeof(m)), -ECONNREFUSED);
	/* And the allowed one connects. */
	assert_int_equal(net_connect((uint32_t)h, &a, sizeof(a)), 0);
	assert_false(vm_failed());
}

/* Data both ways through the test's accepted end; bad flags and buffers; a receive in flight at close ends. */
static void data_and_close_in_flight(void **state)
{
	(void)state;
	net_up();
	int before = count_sockets();
	int64_t h = net_socket(TCP4);
	struct lbvm_net_addr a = addr4("127.0.0.1", lport);
	assert_int_equal(net_connect((uint32_t)h, &a, sizeof(a)), 0);
	int peer = accept(lfd, NULL, NULL);
	assert_true(peer >= 0);
	assert_int_equal(call(LBVM_IO_NET_SEND, (uint32_t)h, 0, 0, "ping", 4, 0), 4);
	char buf[8];
	assert_int_equal(read(peer, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(call(LBVM_IO_NET_SEND, (uint32_t)h, 0, 2, "ping", 4, 0), -EINVAL);
	assert_int_equal(call(LBVM_IO_NET_SEND, (uint32_t)h, 0, 0, NULL, 0, 16), -EINVAL);
	assert_int_equal(call(LBVM_IO_NET_RECV, (uint32_t)h, 0, 0, "x", 1, 0), -EINVAL);
	assert_int_equal(call(LBVM_IO_NET_RECV, (uint32_t)h, 0, LBVM_NET_DONTWAIT, NULL, 0, 16), -EAGAIN);
	assert_int_equal(call(LBVM_IO_NET_SHUTDOWN, (uint32_t)h, 0, 3, NULL, 0, 0), -EINVAL);
	assert_int_equal(write(peer, "pong", 4), 4);
	assert_int_equal(call(LBVM_IO_NET_RECV, (uint32_t)h, 0, 0, NULL, 0, 16), 4);
	assert_memory_equal(gp(SLOT_OUT(0)), "pong", 4);
	/* A blocking receive in slot 1, then the close: the receive ends, and nothing is left open. */
	uint16_t rh = slot_build(1, LBVM_IO_NET_RECV, (uint32_t)h, 0, 0, NULL, 0, 16);
	uint16_t since = used_now();
	post(rh);
	iodev_kick(io);
	usleep(30000);
	assert_false(used_has(since, rh, NULL));
	assert_int_equal(call(LBVM_IO_NET_CLOSE, (uint32_t)h, 0, 0, NULL, 0, 0), 0);
	for (int i = 0; i < 200 && !used_has(since, rh, NULL); i++)
		usleep(5000);
	assert_true(used_has(since, rh, NULL));
	assert_true(slot_result(1) <= 0);
	assert_int_equal(call(LBVM_IO_NET_SEND, (uint32_t)h, 0, 0, "x", 1, 0), -EBADF);   /* the handle is gone */
	close(peer);
	assert_int_equal(count_sockets(), before);
	assert_false(vm_failed());
}

/* --publish: ACCEPT checks its port and buffer; a host client's connection becomes a handle with the peer's address. */
static void publish_accept(void **state)
{
	(void)state;
	memset(&pol, 0, sizeof(pol));
	/* A free host port for the publish, found by binding one and letting it go. */
	int t = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(t, (struct sockaddr *)&a, sizeof(a));
	socklen_t l = sizeof(a);
	getsockname(t, (struct sockaddr *)&a, &l);
	close(t);
	static char spec[64];
	snprintf(spec, sizeof(spec), "127.0.0.1:%u:80", ntohs(a.sin_port));
	assert_int_equal(netpolicy_parse_publish(&pol, spec), 0);
	hostile_net = &pol;
	dev_up();
	assert_int_equal(hostnet_listen(vm.hostnet), 0);
	struct lbvm_net_addr peer;
	assert_int_equal(call(LBVM_IO_NET_ACCEPT, 0, 0, 81, NULL, 0, sizeof(peer)), -ENOENT);   /* not published */
	assert_int_equal(call(LBVM_IO_NET_ACCEPT, 0, 0, 0, NULL, 0, sizeof(peer)), -EINVAL);
	assert_int_equal(call(LBVM_IO_NET_ACCEPT, 0, 0, 65536, NULL, 0, sizeof(peer)), -EINVAL);
	assert_int_equal(call(LBVM_IO_NET_ACCEPT, 0, 0, 80, NULL, 0, sizeof(peer) - 1), -EINVAL);
	assert_int_equal(call(LBVM_IO_NET_ACCEPT, 0, 0, 80, &peer, sizeof(peer), 0), -EINVAL);
	/* Under this policy (no --net) the guest may not connect anywhere. */
	int64_t h = net_socket(TCP4);
	assert_true(h >= 0);
	struct lbvm_net_addr to = addr4("127.0.0.1", ntohs(a.sin_port));
	assert_int_equal(net_connect((uint32_t)h, &to, sizeof(to)), -ECONNREFUSED);
	/* A client of this test connects to the published port: ACCEPT gives it to the guest. */
	int c = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	struct sockaddr_in me;
	l = sizeof(me);
	getsockname(c, (struct sockaddr *)&me, &l);
	int64_t ah = call(LBVM_IO_NET_ACCEPT, 0, 0, 80, NULL, 0, sizeof(peer));
	assert_true(ah >= 0 && ah < LBVM_NET_MAX && ah != h);
	memcpy(&peer, gp(SLOT_OUT(0)), sizeof(peer));
	assert_int_equal(peer.family, LBVM_NET_INET);
	assert_int_equal(peer.port, ntohs(me.sin_port));
	assert_int_equal(write(c, "hi", 2), 2);
	assert_int_equal(call(LBVM_IO_NET_RECV, (uint32_t)ah, 0, 0, NULL, 0, 16), 2);
	assert_int_equal(call(LBVM_IO_NET_CLOSE, (uint32_t)ah, 0, 0, NULL, 0, 0), 0);
	char b;
	assert_int_equal(read(c, &b, 1), 0);   /* the guest's close reaches the client */
	close(c);
	assert_false(vm_failed());
}

/* UDP without connect: SENDTO checks the address in front of the datagram; RECVFROM drops what the policy does not allow. */
static void udp_sendto_recvfrom(void **state)
{
	(void)state;
	/* The test's UDP socket on the allowed port, and another on a port the policy does not name. */
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), v = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, b = a;
	assert_int_equal(bind(u, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(bind(v, (struct sockaddr *)&b, sizeof(b)), 0);
	socklen_t l = sizeof(a);
	getsockname(u, (struct sockaddr *)&a, &l);
	l = sizeof(b);
	getsockname(v, (struct sockaddr *)&b, &l);
	memset(&pol, 0, sizeof(pol));
	static char rule[48];
	snprintf(rule, sizeof(rule), "allow=127.0.0.1:%u", ntohs(a.sin_port));
	assert_int_equal(netpolicy_parse(&pol, rule), 0);
	hostile_net = &pol;
	dev_up();
	int64_t t = net_socket(TCP4), h = net_socket(LBVM_NET_UDP | LBVM_NET_INET << 8);
	assert_true(t >= 0 && h >= 0);
	uint8_t msg[24 + 5];
	struct lbvm_net_addr to = addr4("127.0.0.1", ntohs(a.sin_port));
	memcpy(msg, &to, 24);
	memcpy(msg + 24, "hello", 5);
	assert_int_equal(call(LBVM_IO_NET_SENDTO, (uint32_t)t, 0, 0, msg, sizeof(msg), 0), -EINVAL);   /* not UDP */
	assert_int_equal(call(LBVM_IO_NET_SENDTO, (uint32_t)h, 0, 0, msg, 23, 0), -EINVAL);           /* no whole address */
	assert_int_equal(call(LBVM_IO_NET_SENDTO, (uint32_t)h, 0, 4, msg, sizeof(msg), 0), -EINVAL);  /* a flag */
	struct lbvm_net_addr bad = addr4("127.0.0.1", ntohs(b.sin_port));
	uint8_t msg2[24 + 1];
	memcpy(msg2, &bad, 24);
	msg2[24] = 'x';
	assert_int_equal(call(LBVM_IO_NET_SENDTO, (uint32_t)h, 0, 0, msg2, sizeof(msg2), 0), -ECONNREFUSED);
	assert_int_equal(call(LBVM_IO_NET_SENDTO, (uint32_t)h, 0, 0, msg, sizeof(msg), 0), 5);
	char buf[64];
	struct sockaddr_in from;
	l = sizeof(from);
	assert_int_equal(recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&from, &l), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(call(LBVM_IO_NET_RECVFROM, (uint32_t)h, 0, 0, NULL, 0, 24), -EINVAL);   /* no room after the address */
	assert_int_equal(call(LBVM_IO_NET_RECVFROM, (uint32_t)t, 0, 0, NULL, 0, 64), -EINVAL);
	/* A datagram from the port the policy does not name is dropped; the allowed one's comes through. */
	assert_int_equal(sendto(v, "spoof", 5, 0, (struct sockaddr *)&from, sizeof(from)), 5);
	assert_int_equal(sendto(u, "reply", 5, 0, (struct sockaddr *)&from, sizeof(from)), 5);
	assert_int_equal(call(LBVM_IO_NET_RECVFROM, (uint32_t)h, 0, 0, NULL, 0, 64), 5);
	struct lbvm_net_addr src;
	memcpy(&src, gp(SLOT_OUT(0)), 24);
	assert_int_equal(src.port, ntohs(a.sin_port));
	assert_memory_equal((uint8_t *)gp(SLOT_OUT(0)) + 24, "reply", 5);
	assert_int_equal(call(LBVM_IO_NET_RECVFROM, (uint32_t)h, 0, LBVM_NET_DONTWAIT, NULL, 0, 64), -EAGAIN);
	/* A RECVFROM in flight when the socket closes ends too (the shutdown wakes it even unconnected). */
	uint16_t rh = slot_build(1, LBVM_IO_NET_RECVFROM, (uint32_t)h, 0, 0, NULL, 0, 64);
	uint16_t since = used_now();
	post(rh);
	iodev_kick(io);
	usleep(30000);
	assert_false(used_has(since, rh, NULL));
	assert_int_equal(call(LBVM_IO_NET_CLOSE, (uint32_t)h, 0, 0, NULL, 0, 0), 0);
	for (int i = 0; i < 200 && !used_has(since, rh, NULL); i++)
		usleep(5000);
	assert_true(used_has(since, rh, NULL));
	close(u);
	close(v);
	assert_false(vm_failed());
}

/* A flood: the table holds LBVM_NET_MAX sockets and refuses more; connects to the same port all answer; nothing leaks. */
static void flood_is_bounded(void **state)
{
	(void)state;
	net_up();
	int before = count_sockets();
	int64_t hs[LBVM_NET_MAX];
	for (unsigned i = 0; i < LBVM_NET_MAX; i++) {
		hs[i] = net_socket(TCP4);
		if (hs[i] < 0)
			fail_msg("socket %u of %u: %lld", i, LBVM_NET_MAX, (long long)hs[i]);
	}
	assert_int_equal(net_socket(TCP4), -EMFILE);
	assert_int_equal(net_socket(LBVM_NET_UDP | LBVM_NET_INET << 8), -EMFILE);
	assert_int_equal(count_sockets(), before + (int)LBVM_NET_MAX);
	/* Every one connects at once (the listener's backlog takes them), then every one closes. */
	struct lbvm_net_addr a = addr4("127.0.0.1", lport);
	uint16_t since = used_now();
	for (unsigned i = 0; i < 32; i++) {
		slot_build(i + 1, LBVM_IO_NET_CONNECT, (uint32_t)hs[i], 0, 0, &a, sizeof(a), 0);
		post((uint16_t)(4 * (i + 1)));
	}
	iodev_kick(io);
	for (unsigned i = 0; i < 32; i++) {
		for (int k = 0; k < 400 && !used_has(since, (uint16_t)(4 * (i + 1)), NULL); k++)
			usleep(5000);
		assert_true(used_has(since, (uint16_t)(4 * (i + 1)), NULL));
		assert_int_equal(slot_result(i + 1), 0);
	}
	for (unsigned i = 0; i < LBVM_NET_MAX; i++)
		assert_int_equal(call(LBVM_IO_NET_CLOSE, (uint32_t)hs[i], 0, 0, NULL, 0, 0), 0);
	assert_int_equal(count_sockets(), before);
	/* The slots are free again. */
	int64_t h = net_socket(TCP4);
	assert_true(h >= 0);
	assert_int_equal(call(LBVM_IO_NET_CLOSE, (uint32_t)h, 0, 0, NULL, 0, 0), 0);
	assert_false(vm_failed());
}

/* Sockets still open when the VM goes are closed with it. */
static void no_leak_at_vm_exit(void **state)
{
	(void)state;
	int before = count_sockets();
	net_up();
	struct lbvm_net_addr a = addr4("127.0.0.1", lport);
	for (unsigned i = 0; i < 8; i++) {
		int64_t h = net_socket(i % 2 ? TCP6 : TCP4);
		assert_true(h >= 0);
		if (!(i % 2))
			assert_int_equal(net_connect((uint32_t)h, &a, sizeof(a)), 0);
	}
	assert_int_equal(count_sockets(), before + 1 /* the listener */ + 8);
	dev_down(NULL);
	assert_int_equal(count_sockets(), before + 1);
}

static int net_down(void **state)
{
	int r = dev_down(state);
	if (lfd >= 0)
		close(lfd);
	lfd = -1;
	hostile_net = NULL;
	return r;
}

#define N(f) cmocka_unit_test_teardown(f, net_down)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		N(net_off_is_enosys),
		N(bad_socket_kinds),
		N(bad_connects),
		N(data_and_close_in_flight),
		N(publish_accept),
		N(udp_sendto_recvfrom),
		N(flood_is_bounded),
		N(no_leak_at_vm_exit),
	};
	return hostile_main("hostile_net", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
