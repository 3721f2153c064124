/*
 * landlock.c: the VMM's own file access, confined to the mount roots. Once
 * the VM is set up (KVM, the program or image, the kernel) the VMM opens
 * files only below a --mount directory, and only as that mount allows; a
 * Landlock domain makes the kernel enforce it for every thread started after
 * it (the I/O thread, which does that work, the ticker) and for io_uring's
 * workers, which act with the submitter's credentials.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "hostfs.h"
#include "landlock.h"
#include "log.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

int landlock_confine(const struct hostfs *hf)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		log_debug("Landlock is not available (%s): the VMM's file access is confined by seccomp only",
			  strerror(errno));
		return 0;
	}
	uint64_t all = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
		       LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		       LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
		       LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		       LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	struct landlock_ruleset_attr rs = { .handled_access_fs = all };
	int fd = (int)syscall(SYS_landlock_create_ruleset, &rs, sizeof(rs), 0);
	if (fd < 0) {
		log_warn("Landlock: cannot create a ruleset: %s; going on without it", strerror(errno));
		return 0;
	}
	uint64_t ro = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	uint64_t rw = ro | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		      LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SYM |
		      (all & (LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE));
	for (unsigned i = 0; i < hostfs_count(hf); i++) {
		int root = open(hostfs_root_path(hf, i), O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct landlock_path_beneath_attr pb = { .allowed_access = hostfs_readonly(hf, i) ? ro : rw,
							 .parent_fd = root };
		if (root < 0 || syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0) {
			log_warn("Landlock: cannot add --mount %s: %s; going on without Landlock", hostfs_root_path(hf, i),
				 strerror(errno));
			if (root >= 0)
				close(root);
			close(fd);
			return 0;
		}
		close(root);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
		log_warn("Landlock: cannot restrict the VMM: %s; going on without it", strerror(errno));
		close(fd);
		return 0;
	}
	close(fd);
	return 0;
}
