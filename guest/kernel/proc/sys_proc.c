/* sys_proc.c: process syscalls: fork, vfork, clone, execve, wait4. */
#include "kernel/syscall.h"

#define CLONE_VFORK 0x00004000
#define CLONE_VM    0x00000100
#define ARG_MAX_BYTES (256 * 1024)
#define ARG_MAX_COUNT 8192

static struct uregs *frame(void)
{
	return proc_uregs(current);
}

SYS(fork) { UNUSED_ARGS(); return proc_fork(frame(), SIGCHLD, 0, 0, 0, 0); }
SYS(vfork) { UNUSED_ARGS(); return proc_fork(frame(), CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0); }

/* clone(flags, newsp, parent_tid, child_tid, tls) on x86-64 */
SYS(clone) { UNUSED_ARGS(); return proc_fork(frame(), a0, a1, a2, a3, a4); }

/* clone3(args, size): the same, from struct clone_args; glibc tries it first for threads. */
SYS(clone3)
{
	UNUSED_ARGS();
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
		uint64_t set_tid, set_tid_size, cgroup;
	} ca;
	memset(&ca, 0, sizeof(ca));
	if (a1 < 64 || a1 > 4096)
		return -EINVAL;
	if (copy_from_user(&ca, a0, a1 < sizeof(ca) ? a1 : sizeof(ca)))
		return -EFAULT;
	if (ca.exit_signal > NSIG || (ca.flags & 0xff) || ca.set_tid || ca.set_tid_size || (ca.flags & 0x1000 /* CLONE_PIDFD: no pidfds here */))
		return -EINVAL;
	if ((ca.stack == 0) != (ca.stack_size == 0))
		return -EINVAL;
	uint64_t sp = ca.stack ? ca.stack + ca.stack_size : 0;
	return proc_fork(frame(), ca.flags | ca.exit_signal, sp, ca.parent_tid, ca.child_tid, ca.tls);
}

static long put_rusage_zero(uint64_t ru)
{
	/* No per-child accounting yet: an empty struct rusage rather than stale bytes. */
	static const uint8_t zero[144];
	return ru && copy_to_user(ru, zero, sizeof(zero)) ? -EFAULT : 0;
}

SYS(wait4)
{
	UNUSED_ARGS();
	int pid = (int)a0;
	if (pid == INT32_MIN)
		return -ESRCH;
	if (a2 & ~(uint64_t)(1 | 2 | 8 | 0xe0000000u)) /* WNOHANG, WUNTRACED, WCONTINUED, __W*: WEXITED and WNOWAIT are waitid's */
		return -EINVAL;
	int idtype = pid > 0 ? WAIT_P_PID : pid == -1 ? WAIT_P_ALL : WAIT_P_PGID;
	int id = pid > 0 ? pid : pid == 0 ? current->pgid : -pid;
	struct wait_result w;
	long r = proc_wait(idtype, id, a2 | 4 /* WEXITED */, &w);
	if (r > 0 && a1 && copy_to_user(a1, &w.status, sizeof(w.status)))
		return -EFAULT;
	if (r > 0 && put_rusage_zero(a3))
		return -EFAULT;
	return r;
}

/* waitid(idtype, id, infop, options, rusage): the same wait, reported as a siginfo. */
SYS(waitid)
{
	UNUSED_ARGS();
	int idtype = (int)a0, id = (int)a1;
	if (idtype == WAIT_P_PGID && id == 0)
		id = current->pgid;
	else if (idtype != WAIT_P_ALL && idtype != WAIT_P_PID && idtype != WAIT_P_PGID)
		return -EINVAL; /* P_PIDFD: no pidfds here */
	if ((idtype == WAIT_P_PID || idtype == WAIT_P_PGID) && id <= 0)
		return -EINVAL;
	struct wait_result w;
	long r = proc_wait(idtype, id, a3, &w);
	if (r < 0)
		return r;
	if (a2) {
		/* si_signo, si_errno, si_code, then si_pid, si_uid, si_status: what Linux writes, also when nothing is ready. */
		int32_t info[7] = { w.pid ? SIGCHLD : 0, 0, w.code, 0, w.pid, 0, w.cstatus };
		if (copy_to_user(a2, info, sizeof(info)))
			return -EFAULT;
	}
	if (put_rusage_zero(a4))
		return -EFAULT;
	return 0;
}

/* Copy a NULL-terminated array of user strings into buf; pointers into buf go to out. */
static long copy_strv(uint64_t uv, const char **out, unsigned max, char *buf, uint64_t *used, uint64_t size)
{
	unsigned n = 0;
	if (!uv)
		return 0;
	for (;;) {
		uint64_t up;
		if (copy_from_user(&up, uv + 8ull * n, 8))
			return -EFAULT;
		if (!up)
			return n;
		if (n >= max)
			return -E2BIG;
		long len = strncpy_from_user(buf + *used, up, size - *used);
		if (len == -ENAMETOOLONG)
			return -E2BIG;
		if (len < 0)
			return len;
		out[n++] = buf + *used;
		*used += (uint64_t)len + 1;
	}
}

/*
 * execve's buffers (and exec_load's) are large and static; loading a program
 * from a host mount waits for the host, so one execve runs at a time.
 */
static struct kmutex exec_lock;
static long do_execve(uint64_t a0, uint64_t a1, uint64_t a2);

SYS(execve)
{
	UNUSED_ARGS();
	kmutex_lock(&exec_lock);
	long r = do_execve(a0, a1, a2);
	kmutex_unlock(&exec_lock);
	return r;
}

static long do_execve(uint64_t a0, uint64_t a1, uint64_t a2)
{
	static char buf[ARG_MAX_BYTES], path[PATH_MAX], interp[PATH_MAX];
	static const char *argv[ARG_MAX_COUNT + 4], *envp[ARG_MAX_COUNT];
	long n = strncpy_from_user(path, a0, sizeof(path));
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	uint64_t used = 0;
	long argc = copy_strv(a1, argv + 2, ARG_MAX_COUNT, buf, &used, sizeof(buf));
	if (argc < 0)
		return argc;
	long envc = copy_strv(a2, envp, ARG_MAX_COUNT, buf, &used, sizeof(buf));
	if (envc < 0)
		return envc;
	const char **av = argv + 2;
	const char *file = path;

	/* "#!interpreter [arg]": run the interpreter with the script's path in place of argv[0]. */
	struct file *f;
	int err = vfs_open(AT_FDCWD, path, O_RDONLY, 0, &f);
	if (err)
		return err;
	char head[256];
	long got = f->vn->ops->kread && S_ISREG(f->vn->mode) ? f->vn->ops->kread(f->vn, head, sizeof(head) - 1, 0) : 0;
	uint32_t mode = f->vn->mode;
	file_put(f);
	if (!S_ISREG(mode) || !(mode & 0111))
		return -EACCES;
	if (got > 2 && head[0] == '#' && head[1] == '!') {
		head[got] = 0;
		char *nl = strchr(head, '\n');
		if (!nl)
			return -ENOEXEC;
		*nl = 0;
		char *p = head + 2;
		while (*p == ' ' || *p == '\t')
			p++;
		char *name = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		char *arg = NULL;
		if (*p) {
			*p++ = 0;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p) {
				arg = p;
				char *e = arg + strlen(arg);
				while (e > arg && (e[-1] == ' ' || e[-1] == '\t'))
					*--e = 0;
			}
		}
		if (!*name)
			return -ENOEXEC;
		strlcpy(interp, name, sizeof(interp));
		/* argv := interp [arg] script original-argv[1..] */
		int k = 2;
		if (argc > 0)
			av[0] = path;
		else {
			av[0] = path;
			argc = 1;
		}
		if (arg) {
			argv[--k] = arg;
		}
		argv[--k] = interp;
		av = argv + k;
		argc += 2 - k;
		file = interp;
	}
	/* The point of no return for the other threads: they end, and this one becomes the process. */
	err = proc_exec_take_over();
	if (err)
		return err;
	current->robust_list = 0;
	current->clear_child_tid = 0;
	err = exec_load(current, file, av, (unsigned)argc, envp, (unsigned)envc, frame());
	if (err)
		return err;
	/* The new program starts with the descriptors not marked close-on-exec, and default handlers. */
	for (int fd = 0; fd < NFD; fd++)
		if (current->fds->fd[fd] && current->fds->cloexec[fd])
			fd_close(fd);
	for (int sig = 0; sig < NSIG; sig++)
		if (current->sigact[sig].handler > SIG_IGN)
			memset(&current->sigact[sig], 0, sizeof(current->sigact[sig]));
	if (current->vfork_parent) {
		sched_wakeup(current);
		current->vfork_parent = NULL;
	}
	return 0;
}

/* Process group and session belong to the process: every thread keeps a copy. */
static void set_ids(int tgid, int pgid, int sid)
{
	for (int i = 0; i < NPROC; i++) {
		if (procs[i].state != P_FREE && procs[i].tgid == tgid) {
			procs[i].pgid = pgid;
			procs[i].sid = sid;
		}
	}
}

SYS(setpgid)
{
	UNUSED_ARGS();
	int pid = (int)a0 ? (int)a0 : current->tgid, pgid = (int)a1 ? (int)a1 : pid;
	if (pgid < 0)
		return -EINVAL;
	struct proc *p = proc_find(pid);
	if (!p || (p->tgid != current->tgid && p->ppid != current->tgid))
		return -ESRCH;
	if (p->sid != current->sid || p->tgid == p->sid)
		return -EPERM;
	set_ids(p->tgid, pgid, p->sid);
	return 0;
}

SYS(getpgid)
{
	UNUSED_ARGS();
	struct proc *p = (int)a0 ? proc_find((int)a0) : current;
	return p ? p->pgid : -ESRCH;
}

SYS(setsid)
{
	UNUSED_ARGS();
	if (current->pgid == current->tgid)
		return -EPERM;
	set_ids(current->tgid, current->tgid, current->tgid);
	return current->tgid;
}

SYS(getsid)
{
	UNUSED_ARGS();
	struct proc *p = (int)a0 ? proc_find((int)a0) : current;
	return p ? p->sid : -ESRCH;
}

/* rt_sigpending(set, size): the thread's pending signals and its process's. */
SYS(rt_sigpending)
{
	UNUSED_ARGS();
	if (a1 > 8)
		return -EINVAL;
	uint64_t set = current->sigpending | current->leader->shared_pending;
	return copy_to_user(a0, &set, a1) ? -EFAULT : 0;
}
