/* proc.h: the process: its address space, identity and recorded signal state. */
#ifndef GUEST_PROC_H
#define GUEST_PROC_H

#include "kernel/mm/mm.h"
#include "signal.h"
#include "kernel/fs/vfs.h"

#define NSIG 64

struct ktimer;

struct k_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* P_DEAD: an exited thread that is not its group's leader; its slot is reclaimed once it is off the CPU. */
enum proc_state { P_FREE, P_RUNNABLE, P_BLOCKED, P_ZOMBIE, P_DEAD };

#define NPROC 64
/*
 * The xsave area of a switched-out process. XCR0 may hold more than the VMM
 * asked for (kvm-pvm runs the guest with the host's: AVX-512 is 2.4 KiB), so
 * the area is sized for that, and fpu_mask() keeps xsave within it.
 */
#define FPU_AREA 4096
#define KSTACK_PAGES 4

/*
 * One struct proc per thread: the schedulable unit. A thread group (a
 * process) is its threads with the same tgid; the leader (pid == tgid) holds
 * what belongs to the group as a whole (live thread count, exit status,
 * group exit in progress) and stays as a zombie until the group is reaped.
 * The address space, the descriptor table and the handlers are shared by
 * pointer: one set per group, from a pool indexed by res.
 */
struct proc {
	int pid, ppid;                /* pid: the thread id (the tid); ppid: the parent's tgid */
	int tgid;                     /* the thread group: the process id getpid returns */
	struct proc *leader;          /* the thread whose pid is tgid */
	int nthreads;                 /* leader only: threads of the group not yet exited */
	int group_exit;               /* leader only: exit_group or a fatal signal is ending every thread (2: execve) */
	int group_stop;               /* leader only: the stop signal every thread is stopping for, 0 if none */
	int group_stopped;            /* leader only: every thread has stopped, and the parent was told */
	int res;                      /* leader only: index of the group's mm, fd table and handlers */
	int pgid, sid;                /* process group and session */
	int fs_id;                    /* who shares cwd and umask with it (CLONE_FS): the same fs_id, kept equal by proc_set_cwd/umask */
	uint32_t umask;
	struct ktimer *alarm;         /* the ITIMER_REAL timer, while armed */
	int64_t alarm_deadline, alarm_interval;  /* monotonic ns; interval 0: one shot */
	enum proc_state state;
	int exit_status;              /* wait status: code << 8, or the signal */
	int killed;                   /* a fatal signal is pending: exit at the next chance */
	int stop_sig;                 /* its part of a group stop: stop at the next return to user mode */
	struct kmutex *holding;       /* the one kmutex it holds, released if it dies holding it */
	int stopped;                  /* stopped until SIGCONT or SIGKILL */
	int wait_report;              /* leader only: a stop (sig << 8 | 0x7f) or continue (0xffff) the parent has not collected */
	int sig_wakeups;              /* signals (SIGCHLD) since the last sigsuspend; handlers do not run yet */
	const void *wchan;            /* what a blocked process waits for */
	uint64_t kstack;              /* physical address of its kernel stack */
	uint64_t ksp;                 /* saved kernel stack pointer while switched out */
	struct proc *vfork_parent;    /* blocked until this child execs or exits */
	uint64_t fs_base;
	uint64_t clear_child_tid, robust_list, robust_len;
	uint64_t sigmask;
	uint64_t sigpending;          /* signals with handlers, waiting for delivery */
	uint64_t saved_mask;          /* sigsuspend's caller's mask, restored after the handler */
	int restore_mask;
	struct ksiginfo siginfo[NSIG];
	uint64_t shared_pending;      /* leader only: process-directed signals every thread blocked when they came */
	struct ksiginfo shared_info[NSIG];
	struct k_sigaction *sigact;   /* the group's handlers: [NSIG] */
	/* a futex wait in progress: queued on the bucket of (fmm, faddr) */
	struct proc *fnext;
	struct mm *fmm;
	uint64_t faddr;
	uint32_t fbits;
	int fqueued, ftimedout;
	uint64_t ss_sp, ss_size;
	uint32_t ss_flags;
	struct fdtable *fds;
	struct vnode *cwd;
	struct mm *mm;                /* the group's address space */
	/* prctl and resource limits (sys_prctl.c); the name and limits are inherited across fork */
	char comm[16];                /* PR_SET_NAME; empty: the program's base name */
	int pdeathsig;                /* PR_SET_PDEATHSIG: sent when the parent exits; not inherited */
	int no_new_privs, undumpable;
	uint32_t rlim_set;            /* bit r: rlim[r] was set; else the default (rlimit_default) */
	uint64_t rlim[16][2];
	uint64_t auxv[2 * 24];        /* the auxiliary vector of the last exec, for /proc/self/auxv */
	/* Below: large, and always written before use, so proc_alloc does not clear them (each page costs a fault). */
	struct kscratch *scratch;     /* the file syscalls' buffers: kept with the slot, never cleared */
	uint8_t fpu[FPU_AREA] __attribute__((aligned(64)));  /* the user's FPU/SSE/AVX/AVX-512 state (xsave) while switched out */
	char exe[PATH_MAX];
	char cwd_path[PATH_MAX];
};

/*
 * Buffers the file syscalls work in. A request to a host mount lets other
 * processes run while it waits, so these are per process, not static.
 */
struct kscratch {
	char path[PATH_MAX], path2[PATH_MAX], target[PATH_MAX], canon[PATH_MAX];  /* sys_fs.c */
	char work[2 * PATH_MAX + 2], link[PATH_MAX], rcanon[PATH_MAX];           /* vfs_resolve */
	char dpath[PATH_MAX], ocanon[PATH_MAX];                                 /* vfs_resolve_parent, vfs_open */
	char dname[NAME_MAX + 1];
	uint8_t drec[sizeof(struct dirent64_k) + NAME_MAX + 8];                 /* getdents64 */
	uint8_t page[PAGE_SIZE];                                                 /* map_file */
	uint64_t pollfds[NFD];                                                   /* poll, select: struct pollfd each */
};
#define KSCRATCH_PAGES ((sizeof(struct kscratch) + PAGE_SIZE - 1) / PAGE_SIZE)

/* A sleeping lock for work that waits for the host while it holds shared buffers (execve). */
struct kmutex {
	int locked;
	struct proc *owner;
};
void kmutex_lock(struct kmutex *m);
void kmutex_unlock(struct kmutex *m);

extern struct proc *current;
extern struct proc procs[NPROC];
extern struct percpu *this_cpu;

NORETURN void proc_start_init(void);
NORETURN void proc_exit(int code);                  /* exit_group: every thread of the process */
NORETURN void proc_thread_exit(int code);           /* exit: the calling thread; the last one ends the process */
void proc_group_kill(int sig);                      /* the caller's siblings die (exit_group, execve) */
int proc_exec_take_over(void);                      /* execve in a thread: wait for the siblings, then become the leader; -EINTR if killed */
NORETURN void proc_kill(int sig, uint64_t addr);   /* the current process dies of sig */

/* proc.c */
struct proc *proc_alloc(void);                 /* a fresh process with a kernel stack, or NULL */
struct uregs *proc_uregs(struct proc *p);       /* its user frame, at the top of its kernel stack */
void sched_sleep(const void *chan);             /* block the current process until chan is woken */
void sched_wakeup(const void *chan);
int sched_yield_other(void);                    /* run another process if one can; 1 if it did */
void sched_update_tick(void);                   /* preemption ticks on or off, as the runnable processes need */
void proc_switch_mm(struct proc *p);
void proc_set_cwd(struct vnode *vn, const char *canon);  /* chdir: the caller's and its CLONE_FS sharers'; takes vn's reference */
uint32_t proc_set_umask(uint32_t mask);         /* umask: the same sharers; the old mask */
long proc_fork(struct uregs *r, uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid, uint64_t tls);
struct wait_result {
	int pid;                     /* 0: nothing to report yet (WNOHANG) */
	int status;                  /* the wait4 status word */
	int code, cstatus;           /* the same for waitid: CLD_* and the exit code or signal */
};
#define WAIT_P_ALL 0
#define WAIT_P_PID 1
#define WAIT_P_PGID 2
long proc_wait(int idtype, int id, uint64_t options, struct wait_result *res);  /* options: WEXITED etc. */
int proc_signal(int pid, int sig);              /* to pid, or to group -pid */
void signal_post_process(struct proc *p, int sig, const struct ksiginfo *info);  /* to p's thread group: a thread not blocking sig */
int proc_tkill(int tgid, int tid, int sig);     /* tgkill (tgid > 0), tkill (tgid 0) */
struct proc *proc_find(int pid);
int proc_check_killed(void);                    /* before returning to user mode: die, or stop; 1 if it stopped */
void proc_group_stop(struct proc *p, int sig);  /* a stop signal's default action: every thread of p's process stops */
void proc_continue(struct proc *p);             /* SIGCONT: p's process cancels its group stop, its threads run again */
void proc_notify_parent(struct proc *p, int code, int status);  /* SIGCHLD and a wakeup for p's waiting parent */
long proc_sigsuspend(uint64_t mask);            /* wait for a signal with mask in force; -EINTR */

/* futex.c */
long futex_op(uint64_t uaddr, int op, uint32_t val, uint64_t timeout, uint64_t uaddr2, uint32_t val3);
void futex_exit(struct proc *p);               /* robust list and clear_child_tid of a thread that ends */
/* sys_prctl.c */
void proc_comm(const struct proc *p, char out[16]);   /* the name ps and /proc show */
void proc_save_auxv(struct proc *p, const uint64_t *sp);  /* at exec: sp is the new stack (argc first), kernel copy */
void proc_rlimit(const struct proc *p, unsigned res, uint64_t out[2]);

/* exec.c */
int exec_load(struct proc *p, const char *path, const char *const *argv, unsigned argc,
	      const char *const *envp, unsigned envc, struct uregs *r);

#endif
