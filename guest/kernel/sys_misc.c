/* sys_misc.c: process identity, exit, recorded signal state, limits, clocks and randomness. */
#include "syscall.h"
#include "ktimer.h"

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004


SYS(exit)
{
	UNUSED_ARGS();
	proc_thread_exit((int)a0);
}

SYS(exit_group)
{
	UNUSED_ARGS();
	proc_exit((int)a0);
}

SYS(arch_prctl)
{
	UNUSED_ARGS();
	switch (a0) {
	case ARCH_SET_FS:
		if (a1 >= USER_TOP)
			return -EPERM;
		current->fs_base = a1;
		cpu_set_fs_base(a1);
		return 0;
	case ARCH_GET_FS:
		return copy_to_user(a1, &current->fs_base, 8) ? -EFAULT : 0;
	default:
		return -EINVAL;
	}
}

SYS(set_tid_address)
{
	UNUSED_ARGS();
	current->clear_child_tid = a0;
	return current->pid;
}

SYS(set_robust_list)
{
	UNUSED_ARGS();
	if (a1 != 24)
		return -EINVAL;
	current->robust_list = a0;
	current->robust_len = a1;
	return 0;
}

struct utsname_k {
	char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

SYS(uname)
{
	UNUSED_ARGS();
	struct utsname_k u;
	memset(&u, 0, sizeof(u));
	strlcpy(u.sysname, "Linux", sizeof(u.sysname));
	strlcpy(u.nodename, "lbvm", sizeof(u.nodename));
	strlcpy(u.release, "6.1.0-lbvm", sizeof(u.release));
	strlcpy(u.version, "#1 lbvm library OS", sizeof(u.version));
	strlcpy(u.machine, "x86_64", sizeof(u.machine));
	strlcpy(u.domainname, "(none)", sizeof(u.domainname));
	return copy_to_user(a0, &u, sizeof(u)) ? -EFAULT : 0;
}

SYS(getpid) { UNUSED_ARGS(); return current->tgid; }
SYS(gettid) { UNUSED_ARGS(); return current->pid; }
SYS(getppid) { UNUSED_ARGS(); return current->ppid; }
SYS(getpgrp) { UNUSED_ARGS(); return current->pgid; }
SYS(getuid) { UNUSED_ARGS(); return 0; }
SYS(getgid) { UNUSED_ARGS(); return 0; }

SYS(rt_sigaction)
{
	UNUSED_ARGS();
	int sig = (int)a0;
	if (sig < 1 || sig > NSIG || a3 != 8)
		return -EINVAL;
	if (a1 && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	struct k_sigaction *k = &current->sigact[sig - 1];
	if (a2 && copy_to_user(a2, k, sizeof(*k)))
		return -EFAULT;
	if (a1) {
		struct k_sigaction n;
		if (copy_from_user(&n, a1, sizeof(n)))
			return -EFAULT;
		*k = n;
	}
	return 0;
}

SYS(rt_sigprocmask)
{
	UNUSED_ARGS();
	if (a3 != 8)
		return -EINVAL;
	uint64_t old = current->sigmask, set;
	if (a1) {
		if (copy_from_user(&set, a1, 8))
			return -EFAULT;
		set &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
		switch (a0) {
		case 0: current->sigmask |= set; break;
		case 1: current->sigmask &= ~set; break;
		case 2: current->sigmask = set; break;
		default: return -EINVAL;
		}
	}
	if (a2 && copy_to_user(a2, &old, 8))
		return -EFAULT;
	return 0;
}

struct stack_k {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

SYS(sigaltstack)
{
	UNUSED_ARGS();
	struct stack_k old = { current->ss_sp, (int32_t)(current->ss_size ? current->ss_flags : 2 /* SS_DISABLE */), 0, current->ss_size };
	if (a0) {
		struct stack_k n;
		if (copy_from_user(&n, a0, sizeof(n)))
			return -EFAULT;
		if (n.flags & ~(2 | (1 << 31)))
			return -EINVAL;
		if (n.flags & 2) {
			current->ss_sp = current->ss_size = 0;
		} else {
			if (n.size < 2048)
				return -ENOMEM;
			current->ss_sp = n.sp;
			current->ss_size = n.size;
			current->ss_flags = (uint32_t)n.flags;
		}
	}
	if (a1 && copy_to_user(a1, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYS(sched_yield) { UNUSED_ARGS(); sched_yield_other(); return 0; }

struct timespec_k {
	int64_t sec, nsec;
};

static int clock_read(uint64_t clk, int64_t *ns)
{
	switch (clk) {
	case 0: case 5: case 8: case 11: /* REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI */
		*ns = time_realtime_ns();
		return 0;
	case 1: case 4: case 6: case 7: case 9: /* MONOTONIC, _RAW, _COARSE, BOOTTIME, BOOTTIME_ALARM */
		*ns = time_monotonic_ns();
		return 0;
	case 2: case 3: /* process and thread CPU time: the VM's only process has had every cycle */
		*ns = time_monotonic_ns() - boot.boot_monotonic_ns;
		return 0;
	default:
		return -EINVAL;
	}
}

SYS(clock_gettime)
{
	UNUSED_ARGS();
	int64_t ns;
	int err = clock_read(a0, &ns);
	if (err)
		return err;
	struct timespec_k ts = { ns / 1000000000, ns % 1000000000 };
	return copy_to_user(a1, &ts, sizeof(ts)) ? -EFAULT : 0;
}

SYS(clock_getres)
{
	UNUSED_ARGS();
	int64_t ns;
	int err = clock_read(a0, &ns);
	if (err)
		return err;
	struct timespec_k ts = { 0, 1 };
	return a1 && copy_to_user(a1, &ts, sizeof(ts)) ? -EFAULT : 0;
}

SYS(gettimeofday)
{
	UNUSED_ARGS();
	if (a0) {
		int64_t ns = time_realtime_ns();
		int64_t tv[2] = { ns / 1000000000, (ns % 1000000000) / 1000 };
		if (copy_to_user(a0, tv, sizeof(tv)))
			return -EFAULT;
	}
	if (a1) {
		int32_t tz[2] = { 0, 0 };
		if (copy_to_user(a1, tz, sizeof(tz)))
			return -EFAULT;
	}
	return 0;
}

SYS(time)
{
	UNUSED_ARGS();
	int64_t s = time_realtime_ns() / 1000000000;
	if (a0 && copy_to_user(a0, &s, sizeof(s)))
		return -EFAULT;
	return s;
}

static void sleep_timeout(struct ktimer *t)
{
	sched_wakeup(t);
}

/*
 * Sleep on a kernel timer (ktimer.c) rather than a host timer of its own: a
 * sleep a signal cuts short then leaves nothing in the I/O queue. On EINTR
 * the time left goes to urem, as Linux's nanosleep reports it.
 */
static long sleep_rel(int64_t ns, uint64_t urem)
{
	int64_t now = time_monotonic_ns(), deadline = deadline_after(now, ns);
	long r = 0;
	if (ns > 0) {
		struct ktimer t = { 0 };
		ktimer_arm(&t, deadline, sleep_timeout, NULL);
		while ((now = time_monotonic_ns()) < deadline) {
			if (signal_pending()) {
				r = -EINTR;
				break;
			}
			sched_sleep(&t);
		}
		ktimer_cancel(&t);
	}
	if (urem) {
		int64_t left = r ? deadline - now : 0;
		struct timespec_k rem = { left / 1000000000, left % 1000000000 };
		if (copy_to_user(urem, &rem, sizeof(rem)))
			return -EFAULT;
	}
	return r;
}

static int timespec_in(uint64_t u, int64_t *ns)
{
	struct timespec_k ts;
	if (copy_from_user(&ts, u, sizeof(ts)))
		return -EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000)
		return -EINVAL;
	*ns = ts.sec > INT64_MAX / 1000000000 - 1 ? INT64_MAX : ts.sec * 1000000000 + ts.nsec;
	return 0;
}

SYS(nanosleep)
{
	UNUSED_ARGS();
	int64_t ns;
	int err = timespec_in(a0, &ns);
	return err ? err : sleep_rel(ns, a1);
}

SYS(clock_nanosleep)
{
	UNUSED_ARGS();
	int64_t ns, now;
	int err = clock_read(a0, &now);
	if (err || a0 == 2 || a0 == 3)
		return err ? err : -ENOTSUP;
	err = timespec_in(a2, &ns);
	if (err)
		return err;
	if (a1 & 1) /* TIMER_ABSTIME */
		return sleep_rel(ns - now, 0);
	return sleep_rel(ns, a3);
}

SYS(getrandom)
{
	UNUSED_ARGS();
	if (a2 & ~7ull)
		return -EINVAL;
	uint8_t buf[256];
	uint64_t done = 0, len = a1 > 0x1ffffff ? 0x1ffffff : a1;
	while (done < len) {
		uint64_t n = len - done > sizeof(buf) ? sizeof(buf) : len - done;
		random_fill(buf, n);
		if (copy_to_user(a0 + done, buf, n))
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

struct sysinfo_k {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint32_t pad2;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	char f[4];
};
_Static_assert(sizeof(struct sysinfo_k) == 112, "struct sysinfo");

SYS(sysinfo)
{
	UNUSED_ARGS();
	struct sysinfo_k si;
	memset(&si, 0, sizeof(si));
	si.uptime = (time_monotonic_ns() - boot.boot_monotonic_ns) / 1000000000;
	si.totalram = pmem_total_pages() * PAGE_SIZE;
	si.freeram = pmem_free_pages() * PAGE_SIZE;
	si.procs = 1;
	si.mem_unit = 1;
	return copy_to_user(a0, &si, sizeof(si)) ? -EFAULT : 0;
}

static long signal_self(uint64_t upid, uint64_t sig)
{
	int pid = (int)upid; /* an int in the ABI: -1 arrives as 0xffffffff */
	if (sig > NSIG)
		return -EINVAL;
	if ((pid > 0 && pid != current->tgid) || pid < -1)
		return proc_signal(pid, (int)sig);
	struct ksiginfo si = { SI_USER, current->tgid, 0, 0 };
	if (pid == 0 || pid == -1) {
		/* The caller's group, or everyone but init: the caller last, since it may die of it. */
		for (int i = 0; i < NPROC; i++) {
			struct proc *p = &procs[i];
			if (p->tgid == current->tgid || p->pid != p->tgid || p->state == P_FREE || p->nthreads == 0)
				continue;
			if (pid == 0 ? p->pgid == current->pgid : p->pid != 1)
				if (sig)
					signal_post_process(p, (int)sig, &si);
		}
	}
	if (sig)
		signal_post_process(current, (int)sig, &si);
	return 0;
}

SYS(kill) { UNUSED_ARGS(); return signal_self(a0, a1); }
SYS(tkill) { UNUSED_ARGS(); return proc_tkill(0, (int)a0, (int)a1); }
SYS(tgkill) { UNUSED_ARGS(); return (int)a0 <= 0 ? -EINVAL : proc_tkill((int)a0, (int)a1, (int)a2); }

SYS(rt_sigsuspend)
{
	UNUSED_ARGS();
	if (a1 != 8)
		return -EINVAL;
	uint64_t mask;
	if (copy_from_user(&mask, a0, sizeof(mask)))
		return -EFAULT;
	return proc_sigsuspend(mask);
}

SYS(pause) { UNUSED_ARGS(); return proc_sigsuspend(current->sigmask); }

SYS(rt_sigreturn) { UNUSED_ARGS(); return signal_return(proc_uregs(current)); }

/*
 * ---- alarm and ITIMER_REAL: a kernel timer per process (ktimer.c), SIGALRM when it fires ----
 * Not a host timer of its own: the host cannot take one back, and a program
 * that rearms often would leave one in the I/O queue per call.
 */

static struct ktimer alarm_timers[NPROC];

static void alarm_fired(struct ktimer *t)
{
	struct proc *p = t->arg;
	if (p->state == P_FREE || p->nthreads == 0 || p->alarm != t)
		return; /* p is the process's leader: it stays, a zombie, while any thread lives */
	p->alarm = NULL;
	struct ksiginfo si = { 0x80 /* SI_KERNEL */, 0, 0, 0 };
	signal_post_process(p, SIGALRM, &si);
	if (p->alarm_interval) {
		p->alarm_deadline += p->alarm_interval;
		p->alarm = t;
		ktimer_arm(t, p->alarm_deadline, alarm_fired, p);
	}
}

/* Arm (value > 0) or disarm the current process's timer; the old remaining time in *old_ns. */
static void alarm_set(int64_t value, int64_t interval, int64_t *old_ns, int64_t *old_interval)
{
	struct proc *p = current->leader; /* one timer per process */
	int64_t now = time_monotonic_ns();
	*old_ns = p->alarm ? (p->alarm_deadline > now ? p->alarm_deadline - now : 1) : 0;
	*old_interval = p->alarm_interval;
	if (p->alarm)
		ktimer_cancel(p->alarm);
	p->alarm = NULL;
	p->alarm_interval = interval;
	if (value > 0) {
		p->alarm_deadline = deadline_after(now, value);
		p->alarm = &alarm_timers[p - procs];
		ktimer_arm(p->alarm, p->alarm_deadline, alarm_fired, p);
	}
}

SYS(alarm)
{
	UNUSED_ARGS();
	int64_t old, oi;
	alarm_set((int64_t)(uint32_t)a0 * 1000000000, 0, &old, &oi);
	return (long)((old + 999999999) / 1000000000);
}

struct itimerval_k {
	int64_t isec, iusec, vsec, vusec;
};

SYS(setitimer)
{
	UNUSED_ARGS();
	if (a0 != 0)
		return -EINVAL; /* ITIMER_VIRTUAL and ITIMER_PROF need CPU accounting */
	struct itimerval_k n = { 0, 0, 0, 0 }, o;
	if (a1 && copy_from_user(&n, a1, sizeof(n)))
		return -EFAULT;
	if (n.iusec < 0 || n.iusec >= 1000000 || n.vusec < 0 || n.vusec >= 1000000 || n.isec < 0 || n.vsec < 0)
		return -EINVAL;
	int64_t old, oi;
	alarm_set(n.vsec * 1000000000 + n.vusec * 1000, n.isec * 1000000000 + n.iusec * 1000, &old, &oi);
	o = (struct itimerval_k){ oi / 1000000000, (oi % 1000000000) / 1000, old / 1000000000, (old % 1000000000) / 1000 };
	return a2 && copy_to_user(a2, &o, sizeof(o)) ? -EFAULT : 0;
}

SYS(getitimer)
{
	UNUSED_ARGS();
	if (a0 != 0)
		return -EINVAL;
	struct proc *p = current->leader;
	int64_t now = time_monotonic_ns(), left = p->alarm ? (p->alarm_deadline > now ? p->alarm_deadline - now : 1) : 0;
	struct itimerval_k o = { p->alarm_interval / 1000000000, (p->alarm_interval % 1000000000) / 1000,
				 left / 1000000000, (left % 1000000000) / 1000 };
	return copy_to_user(a1, &o, sizeof(o)) ? -EFAULT : 0;
}

/* Everyone in the VM is root, in no supplementary group but its own. */
SYS(getgroups)
{
	UNUSED_ARGS();
	if ((int)a0 < 0)
		return -EINVAL;
	if (a0 == 0)
		return 1;
	uint32_t g = 0;
	return copy_to_user(a1, &g, sizeof(g)) ? -EFAULT : 1;
}

SYS(setgroups) { UNUSED_ARGS(); return a0 > 65536 ? -EINVAL : 0; }

/* struct rusage: CPU times are the time since the process began, the rest zero. */
SYS(getrusage)
{
	UNUSED_ARGS();
	int64_t ru[18];
	memset(ru, 0, sizeof(ru));
	if ((int)a0 == 0 || (int)a0 == 1 /* RUSAGE_THREAD */) {
		int64_t ns = time_monotonic_ns() - boot.boot_monotonic_ns;
		ru[0] = ns / 1000000000;
		ru[1] = (ns % 1000000000) / 1000;
	} else if ((int)a0 != -1) {
		return -EINVAL;
	}
	return copy_to_user(a1, ru, sizeof(ru)) ? -EFAULT : 0;
}

SYS(times)
{
	UNUSED_ARGS();
	int64_t ticks = (time_monotonic_ns() - boot.boot_monotonic_ns) / 10000000;
	int64_t t[4] = { ticks, 0, 0, 0 };
	if (a0 && copy_to_user(a0, t, sizeof(t)))
		return -EFAULT;
	return ticks;
}
