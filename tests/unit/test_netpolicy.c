/* test_netpolicy.c: the --net parser and the check made on each guest connect (vmm/netpolicy.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "vmm/log.h"
#include "vmm/netpolicy.h"

/* A policy from the given --net values (NULL-terminated); fails the test if one is refused. */
static struct net_policy pol(const char *const *args)
{
	struct net_policy p;
	memset(&p, 0, sizeof(p));
	for (; *args; args++)
		assert_int_equal(netpolicy_parse(&p, *args), 0);
	return p;
}

static int ok4(const struct net_policy *p, const char *a, uint16_t port)
{
	uint8_t b[4];
	assert_int_equal(inet_pton(AF_INET, a, b), 1);
	return netpolicy_allows(p, AF_INET, b, port);
}

static int ok6(const struct net_policy *p, const char *a, uint16_t port)
{
	uint8_t b[16];
	assert_int_equal(inet_pton(AF_INET6, a, b), 1);
	return netpolicy_allows(p, AF_INET6, b, port);
}

static void none_is_closed(void **state)
{
	(void)state;
	struct net_policy p = pol((const char *[]){ NULL });
	assert_int_equal(p.mode, NET_NONE);
	assert_false(ok4(&p, "127.0.0.1", 80));
	assert_false(ok6(&p, "::1", 80));
	p = pol((const char *[]){ "none", NULL });
	assert_false(ok4(&p, "1.2.3.4", 443));
}

static void host_is_open(void **state)
{
	(void)state;
	struct net_policy p = pol((const char *[]){ "host", NULL });
	assert_true(ok4(&p, "1.2.3.4", 443));
	assert_true(ok6(&p, "2001:db8::1", 1));
}

static void allow_rules_match(void **state)
{
	(void)state;
	struct net_policy p = pol((const char *[]){ "allow=127.0.0.1:8080", "allow=10.0.0.0/8", "allow=[::1]:443",
						  "allow=2001:db8::/32", "allow=[fd00::]/8:53", "allow=192.168.1.7", NULL });
	assert_int_equal(p.mode, NET_ALLOW);
	assert_int_equal(p.n, 6);
	assert_true(ok4(&p, "127.0.0.1", 8080));
	assert_false(ok4(&p, "127.0.0.1", 8081));       /* another port */
	assert_false(ok4(&p, "127.0.0.2", 8080));       /* another address */
	assert_true(ok4(&p, "10.255.0.1", 1));
	assert_false(ok4(&p, "11.0.0.1", 1));
	assert_true(ok4(&p, "192.168.1.7", 65535));
	assert_false(ok4(&p, "192.168.1.8", 80));
	assert_true(ok6(&p, "::1", 443));
	assert_false(ok6(&p, "::1", 80));
	assert_true(ok6(&p, "2001:db8:ffff::9", 22));
	assert_false(ok6(&p, "2001:db9::1", 22));
	assert_true(ok6(&p, "fdab::1", 53));
	assert_false(ok6(&p, "fdab::1", 54));
	assert_false(ok6(&p, "fe00::1", 53));
	/* A v4-mapped address is judged as the IPv4 one. */
	assert_true(ok6(&p, "::ffff:127.0.0.1", 8080));
	assert_true(ok6(&p, "::ffff:10.1.2.3", 9));
	assert_false(ok6(&p, "::ffff:127.0.0.1", 8081));
	/* Port 0 and unknown families are never allowed. */
	assert_false(ok4(&p, "10.0.0.1", 0));
	assert_false(netpolicy_allows(&p, AF_UNIX, (const uint8_t *)"0123456789abcdef", 80));
}

static void prefix_edges(void **state)
{
	(void)state;
	struct net_policy p = pol((const char *[]){ "allow=172.16.0.0/12:80", "allow=0.0.0.0/0:7", NULL });
	assert_true(ok4(&p, "172.31.255.255", 80));
	assert_false(ok4(&p, "172.32.0.0", 80));
	assert_true(ok4(&p, "8.8.8.8", 7));
	assert_false(ok6(&p, "2001:db8::1", 7));   /* an IPv4 /0 covers IPv4 only */
}

static void bad_values_are_refused(void **state)
{
	(void)state;
	static const char *bad[] = {
		"", "yes", "allow", "allow=", "allow=1.2.3", "allow=1.2.3.4:", "allow=1.2.3.4:0", "allow=1.2.3.4:65536",
		"allow=1.2.3.4/33", "allow=1.2.3.4/-1", "allow=1.2.3.4/8x", "allow=[::1", "allow=[::1]x", "allow=[::1]:",
		"allow=::1/129", "allow=[1.2.3.4]:80", "allow=host", "allow=1.2.3.4:80:90", "allow=1.2.3.4:8o",
		"allow=[::1]/200:80", "allow=1.2.3.4:123456",
	};
	log_max = LOG_SILENT;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct net_policy p;
		memset(&p, 0, sizeof(p));
		if (netpolicy_parse(&p, bad[i]) != -1)
			fail_msg("--net %s was accepted", bad[i]);
		assert_int_equal(p.n, 0);
	}
	/* host and allow= do not mix, either way round. */
	struct net_policy p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(netpolicy_parse(&p, "host"), 0);
	assert_int_equal(netpolicy_parse(&p, "allow=1.2.3.4"), -1);
	memset(&p, 0, sizeof(p));
	assert_int_equal(netpolicy_parse(&p, "allow=1.2.3.4"), 0);
	assert_int_equal(netpolicy_parse(&p, "host"), -1);
	assert_int_equal(netpolicy_parse(&p, "none"), -1);
	/* The table is bounded. */
	memset(&p, 0, sizeof(p));
	for (unsigned i = 0; i < NET_RULES_MAX; i++)
		assert_int_equal(netpolicy_parse(&p, "allow=10.0.0.1:80"), 0);
	assert_int_equal(netpolicy_parse(&p, "allow=10.0.0.1:80"), -1);
	log_max = LOG_INFO;
}

static void publish_values(void **state)
{
	(void)state;
	struct net_policy p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(netpolicy_parse_publish(&p, "8080:80"), 0);
	assert_int_equal(netpolicy_parse_publish(&p, "0.0.0.0:8081:81/tcp"), 0);
	assert_int_equal(netpolicy_parse_publish(&p, "[::1]:8082:82"), 0);
	assert_int_equal(p.npub, 3);
	assert_int_equal(p.pub[0].family, AF_INET);
	assert_memory_equal(p.pub[0].addr, "\x7f\0\0\x01", 4);   /* 127.0.0.1 unless said otherwise */
	assert_int_equal(p.pub[0].host_port, 8080);
	assert_int_equal(p.pub[0].guest_port, 80);
	assert_memory_equal(p.pub[1].addr, "\0\0\0\0", 4);
	assert_int_equal(p.pub[2].family, AF_INET6);
	assert_int_equal(p.pub[2].addr[15], 1);
	assert_int_equal(p.pub[2].guest_port, 82);
	/* The publish table says nothing about where the guest may connect. */
	assert_false(ok4(&p, "127.0.0.1", 8080));
	log_max = LOG_SILENT;
	static const char *bad[] = { "", "80", ":80", "8080:", "0:80", "8080:0", "8080:65536", "8080:80/udp", "8080:80/x",
				     "1.2.3:8080:80", "[::1:8080:80", "::1:8080:80", "a:b", "8080:80:90:100" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (netpolicy_parse_publish(&p, bad[i]) != -1)
			fail_msg("--publish %s was accepted", bad[i]);
	assert_int_equal(netpolicy_parse_publish(&p, "9090:80"), -1);   /* guest port 80 twice */
	assert_int_equal(p.npub, 3);
	log_max = LOG_INFO;
}

static void format(void **state)
{
	(void)state;
	char buf[64];
	uint8_t a4[4] = { 127, 0, 0, 1 }, a6[16] = { 0 }, m[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2 };
	a6[15] = 1;
	netpolicy_format(AF_INET, a4, 80, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:80");
	netpolicy_format(AF_INET6, a6, 443, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:443");
	netpolicy_format(AF_INET6, m, 53, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.2:53");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(none_is_closed),
		cmocka_unit_test(host_is_open),
		cmocka_unit_test(allow_rules_match),
		cmocka_unit_test(prefix_edges),
		cmocka_unit_test(bad_values_are_refused),
		cmocka_unit_test(publish_values),
		cmocka_unit_test(format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
