/* proc.h: the process: its address space, identity and recorded signal state. */
#ifndef GUEST_PROC_H
#define GUEST_PROC_H

#include "mm.h"
#include "vfs.h"

#define NSIG 64

struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};

struct proc {
	int pid, ppid;
	struct mm mm;
	uint64_t fs_base;
	uint64_t clear_child_tid, robust_list, robust_len;
	uint64_t sigmask;
	struct k_sigaction sigact[NSIG];
	uint64_t ss_sp, ss_size;
	uint32_t ss_flags;
	char exe[PATH_MAX];
	struct fdtable *fds;
	struct vnode *cwd;
	char cwd_path[PATH_MAX];
};

extern struct proc *current;

NORETURN void proc_start_init(void);
NORETURN void proc_exit(int code);
NORETURN void proc_kill(int sig, uint64_t addr);

#endif
