/*
 * landlock.c: the VMM's own file access, confined to the mount roots. Once
 * the VM is set up (KVM, the program or image, the kernel) the VMM opens
 * files only below a --mount directory, and only as that mount allows; a
 * Landlock domain makes the kernel enforce it for every thread started after
 * it (the I/O thread, which does that work, the ticker) and for io_uring's
 * workers, which act with the submitter's credentials. It fails closed:
 * lbvm runs no VM with a half-built domain, and none without Landlock unless
 * the user said --allow-no-landlock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "hostfs.h"
#include "landlock.h"
#include "log.h"
#include "netpolicy.h"

/* Rights newer than the build host's headers; the running kernel's ABI version says which it knows. */
#define LL_FS_TRUNCATE (1ULL << 14)          /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15)         /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)          /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)       /* ABI 4 */
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)   /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)          /* ABI 6 */

#define LL_RULE_NET_PORT 2                   /* ABI 4 */
struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

/* struct landlock_ruleset_attr as of ABI 6; older kernels get only the prefix they know. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define FIX "lbvm runs no VM without it"

/*
 * --net backed up by Landlock's TCP rules, which know ports only: with
 * --net none, or allow= rules that all name a port, connect is handled and
 * granted for those ports; otherwise (host, or a rule with any port) it is
 * left to the VMM's own check. Binding a host port is never granted.
 */
static int net_ports(const struct net_policy *np, uint64_t *connect, uint16_t *ports, unsigned *n)
{
	*connect = LL_NET_CONNECT_TCP;
	*n = 0;
	if (!np || np->mode == NET_NONE)
		return 0;
	if (np->mode == NET_HOST) {
		*connect = 0;
		return 0;
	}
	for (unsigned i = 0; i < np->n; i++) {
		if (!np->rules[i].port) {
			*connect = 0;
			*n = 0;
			return 0;
		}
		ports[(*n)++] = np->rules[i].port;
	}
	return 0;
}

int landlock_confine(const struct hostfs *hf, const struct net_policy *np, int allow_missing)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0 && (errno == ENOSYS || errno == EOPNOTSUPP)) {
		if (allow_missing) {
			log_warn("Landlock: this kernel has none (%s); running without it as --allow-no-landlock asks: "
				 "the VMM's file access is limited by seccomp and its own checks only", strerror(errno));
			return 0;
		}
		log_err("Landlock: this kernel has none (%s), and lbvm confines its own file access with it; use a "
			"kernel built with CONFIG_SECURITY_LANDLOCK=y and boot it with landlock in its lsm= list (add it to "
			"the modules /sys/kernel/security/lsm shows), or accept the risk with lbvm run --allow-no-landlock",
			strerror(errno));
		return -1;
	}
	if (abi < 1) {
		log_err("Landlock: cannot ask the kernel for its version: %s; " FIX, strerror(errno));
		return -1;
	}
	uint64_t all = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
		       LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		       LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
		       LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		       LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LL_FS_TRUNCATE;
	if (abi >= 5)
		all |= LL_FS_IOCTL_DEV;
	/* Handled and never granted: no file access outside the rules, no TCP, no signal or abstract socket out. */
	struct ll_ruleset_attr rs = { .handled_access_fs = all };
	size_t rs_size = sizeof(rs.handled_access_fs);
	uint64_t net_connect;
	uint16_t ports[NET_RULES_MAX];
	unsigned nports;
	net_ports(np, &net_connect, ports, &nports);
	if (abi >= 4) {
		rs.handled_access_net = LL_NET_BIND_TCP | net_connect;
		rs_size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		rs.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		rs_size = sizeof(rs);
	}
	int fd = (int)syscall(SYS_landlock_create_ruleset, &rs, rs_size, 0);
	if (fd < 0) {
		log_err("Landlock: cannot create a ruleset (ABI %ld): %s; " FIX, abi, strerror(errno));
		return -1;
	}
	/* What hostfs does on a mount: read on ro; on rw also write, create, remove, rename, link, truncate. */
	uint64_t ro = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	uint64_t rw = ro | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		      LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SYM |
		      (all & (LANDLOCK_ACCESS_FS_REFER | LL_FS_TRUNCATE));
	for (unsigned i = 0; i < hostfs_count(hf); i++) {
		/* The root hostfs holds open: the directory the guest's handles descend from, not its path again. */
		struct landlock_path_beneath_attr pb = { .allowed_access = hostfs_readonly(hf, i) ? ro : rw,
							 .parent_fd = hostfs_root_fd(hf, i) };
		if (syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0) {
			log_err("Landlock: cannot add the rule for --mount %s: %s; " FIX, hostfs_root_path(hf, i),
				strerror(errno));
			close(fd);
			return -1;
		}
	}
	for (unsigned i = 0; abi >= 4 && net_connect && i < nports; i++) {
		struct ll_net_port_attr pa = { .allowed_access = LL_NET_CONNECT_TCP, .port = ports[i] };
		if (syscall(SYS_landlock_add_rule, fd, LL_RULE_NET_PORT, &pa, 0) < 0) {
			log_err("Landlock: cannot add the rule for --net port %u: %s; " FIX, ports[i], strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("Landlock: PR_SET_NO_NEW_PRIVS: %s; " FIX, strerror(errno));
		close(fd);
		return -1;
	}
	if (syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
		log_err("Landlock: cannot confine the VMM: %s; " FIX, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
