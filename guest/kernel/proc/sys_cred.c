/* sys_cred.c: user and group ids: every process is root (uid and gid 0) and stays root. */
#include "kernel/syscall.h"

/*
 * Setting an id to what it already is (0), or leaving it (-1), succeeds:
 * posix_spawn's POSIX_SPAWN_RESETIDS and daemons that "drop" to root do
 * that. Becoming another user is refused rather than pretended, so a
 * program that means to give up rights learns that it could not.
 */
static long cred_keep(uint64_t a, uint64_t b, uint64_t c)
{
	uint32_t ids[3] = { (uint32_t)a, (uint32_t)b, (uint32_t)c };
	for (int i = 0; i < 3; i++)
		if (ids[i] != 0 && ids[i] != 0xffffffffu)
			return -EPERM;
	return 0;
}

SYS(setuid) { UNUSED_ARGS(); return cred_keep(a0, 0, 0); }
SYS(setgid) { UNUSED_ARGS(); return cred_keep(a0, 0, 0); }
SYS(setreuid) { UNUSED_ARGS(); return cred_keep(a0, a1, 0); }
SYS(setregid) { UNUSED_ARGS(); return cred_keep(a0, a1, 0); }
SYS(setresuid) { UNUSED_ARGS(); return cred_keep(a0, a1, a2); }
SYS(setresgid) { UNUSED_ARGS(); return cred_keep(a0, a1, a2); }
/* setfsuid and setfsgid answer the previous id, whatever happens. */
SYS(setfsuid) { UNUSED_ARGS(); return 0; }
SYS(setfsgid) { UNUSED_ARGS(); return 0; }

static long cred_get3(uint64_t u0, uint64_t u1, uint64_t u2)
{
	uint32_t zero = 0;
	if (copy_to_user(u0, &zero, 4) || copy_to_user(u1, &zero, 4) || copy_to_user(u2, &zero, 4))
		return -EFAULT;
	return 0;
}

SYS(getresuid) { UNUSED_ARGS(); return cred_get3(a0, a1, a2); }
SYS(getresgid) { UNUSED_ARGS(); return cred_get3(a0, a1, a2); }
