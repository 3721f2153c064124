/* syscall.c: the syscall table, dispatch, and the strace-style --trace report. */
#include "syscall.h"

#define E(nr, n, a) [nr] = { sys_##n, #n, a }

static const struct syscall_desc table[] = {
	E(0, read, "dru"),
	E(1, write, "dwu"),
	E(2, open, "sxx"),
	E(3, close, "d"),
	E(4, stat, "sp"),
	E(5, fstat, "dp"),
	E(6, lstat, "sp"),
	E(7, poll, "pdd"),
	E(8, lseek, "ddd"),
	E(9, mmap, "xuxxdx"),
	E(10, mprotect, "xux"),
	E(11, munmap, "xu"),
	E(12, brk, "x"),
	E(13, rt_sigaction, "dppu"),
	E(14, rt_sigprocmask, "dppu"),
	E(15, rt_sigreturn, ""),
	E(16, ioctl, "dxx"),
	E(17, pread64, "drud"),
	E(18, pwrite64, "dwud"),
	E(19, readv, "dpd"),
	E(20, writev, "dpd"),
	E(21, access, "sx"),
	E(22, pipe, "p"),
	E(23, select, "dpppp"),
	E(24, sched_yield, ""),
	E(25, mremap, "xuuxx"),
	E(26, msync, "xux"),
	E(28, madvise, "xud"),
	E(32, dup, "d"),
	E(33, dup2, "dd"),
	E(34, pause, ""),
	E(35, nanosleep, "pp"),
	E(36, getitimer, "dp"),
	E(37, alarm, "u"),
	E(38, setitimer, "dpp"),
	E(39, getpid, ""),
	E(41, socket, "ddd"),
	E(42, connect, "dpu"),
	E(43, accept, "dpp"),
	E(44, sendto, "dwuxpu"),
	E(45, recvfrom, "druxpp"),
	E(46, sendmsg, "dpx"),
	E(47, recvmsg, "dpx"),
	E(48, shutdown, "dd"),
	E(49, bind, "dpu"),
	E(50, listen, "dd"),
	E(51, getsockname, "dpp"),
	E(52, getpeername, "dpp"),
	E(53, socketpair, "dddp"),
	E(54, setsockopt, "dddpu"),
	E(55, getsockopt, "dddpp"),
	E(56, clone, "xpppx"),
	E(57, fork, ""),
	E(58, vfork, ""),
	E(59, execve, "spp"),
	E(60, exit, "d"),
	E(61, wait4, "dpxp"),
	E(62, kill, "dd"),
	E(63, uname, "p"),
	E(72, fcntl, "ddx"),
	E(73, flock, "dx"),
	E(74, fsync, "d"),
	[75] = { sys_fsync, "fdatasync", "d" },
	E(76, truncate, "sd"),
	E(77, ftruncate, "dd"),
	E(79, getcwd, "pu"),
	E(80, chdir, "s"),
	E(81, fchdir, "d"),
	E(82, rename, "ss"),
	E(83, mkdir, "sx"),
	E(84, rmdir, "s"),
	E(86, link, "ss"),
	E(87, unlink, "s"),
	E(88, symlink, "ss"),
	E(89, readlink, "spu"),
	E(90, chmod, "sx"),
	E(91, fchmod, "dx"),
	E(92, chown, "sdd"),
	E(93, fchown, "ddd"),
	E(94, lchown, "sdd"),
	E(95, umask, "x"),
	E(96, gettimeofday, "pp"),
	E(97, getrlimit, "dp"),
	E(98, getrusage, "dp"),
	E(99, sysinfo, "p"),
	E(100, times, "p"),
	E(102, getuid, ""),
	E(104, getgid, ""),
	[107] = { sys_getuid, "geteuid", "" },
	[108] = { sys_getgid, "getegid", "" },
	E(109, setpgid, "dd"),
	E(110, getppid, ""),
	E(111, getpgrp, ""),
	E(112, setsid, ""),
	E(115, getgroups, "dp"),
	E(116, setgroups, "dp"),
	E(105, setuid, "d"),
	E(106, setgid, "d"),
	E(113, setreuid, "dd"),
	E(114, setregid, "dd"),
	E(117, setresuid, "ddd"),
	E(118, getresuid, "ppp"),
	E(119, setresgid, "ddd"),
	E(120, getresgid, "ppp"),
	E(121, getpgid, "d"),
	E(122, setfsuid, "d"),
	E(123, setfsgid, "d"),
	E(124, getsid, "d"),
	E(127, rt_sigpending, "pu"),
	E(130, rt_sigsuspend, "pu"),
	E(131, sigaltstack, "pp"),
	E(133, mknod, "sxx"),
	E(137, statfs, "sp"),
	E(138, fstatfs, "dp"),
	E(157, prctl, "dx"),
	E(158, arch_prctl, "xx"),
	E(160, setrlimit, "dp"),
	E(186, gettid, ""),
	E(188, setxattr, "ssp"),
	E(189, lsetxattr, "ssp"),
	E(190, fsetxattr, "dsp"),
	E(191, getxattr, "ssp"),
	E(192, lgetxattr, "ssp"),
	E(193, fgetxattr, "dsp"),
	E(194, listxattr, "sp"),
	E(195, llistxattr, "sp"),
	E(196, flistxattr, "dp"),
	E(197, removexattr, "ss"),
	E(198, lremovexattr, "ss"),
	E(199, fremovexattr, "ds"),
	E(200, tkill, "dd"),
	E(201, time, "p"),
	E(202, futex, "xdxxxx"),
	E(203, sched_setaffinity, "dup"),
	E(204, sched_getaffinity, "dup"),
	E(213, epoll_create, "d"),
	E(217, getdents64, "dpu"),
	E(218, set_tid_address, "p"),
	E(228, clock_gettime, "dp"),
	E(229, clock_getres, "dp"),
	E(230, clock_nanosleep, "ddpp"),
	E(231, exit_group, "d"),
	E(232, epoll_wait, "dpdd"),
	E(233, epoll_ctl, "dddp"),
	E(234, tgkill, "ddd"),
	E(247, waitid, "ddpxp"),
	E(257, openat, "dsxx"),
	E(258, mkdirat, "dsx"),
	E(259, mknodat, "dsxx"),
	E(260, fchownat, "dsddx"),
	E(262, newfstatat, "dspx"),
	E(263, unlinkat, "dsx"),
	E(264, renameat, "dsds"),
	E(265, linkat, "dsdsx"),
	E(266, symlinkat, "sds"),
	E(267, readlinkat, "dspu"),
	E(268, fchmodat, "dsx"),
	E(269, faccessat, "dsx"),
	E(270, pselect6, "dppppp"),
	E(271, ppoll, "pdpp"),
	E(273, set_robust_list, "pu"),
	E(274, get_robust_list, "dpp"),
	E(280, utimensat, "dspx"),
	E(281, epoll_pwait, "dpddpu"),
	E(282, signalfd, "dpu"),
	E(283, timerfd_create, "dx"),
	E(284, eventfd, "u"),
	E(285, fallocate, "dxdd"),
	E(286, timerfd_settime, "dxpp"),
	E(287, timerfd_gettime, "dp"),
	E(288, accept4, "dppx"),
	E(289, signalfd4, "dpux"),
	E(290, eventfd2, "ux"),
	E(291, epoll_create1, "x"),
	E(292, dup3, "ddx"),
	E(293, pipe2, "px"),
	E(299, recvmmsg, "dpuxp"),
	E(302, prlimit64, "ddpp"),
	E(307, sendmmsg, "dpux"),
	E(316, renameat2, "dsdsx"),
	E(318, getrandom, "pux"),
	E(319, memfd_create, "sx"),
	E(332, statx, "dsxxp"),
	E(435, clone3, "pu"),
	[439] = { sys_faccessat, "faccessat2", "dsxx" },
	E(441, epoll_pwait2, "dpdppu"),
};

/* Names of common syscalls we do not serve, so --trace can say what was asked for. */
static const char *unserved_name(uint64_t nr)
{
	switch (nr) {
	case 40: return "sendfile";
	case 334: return "rseq";
	case 435: return "clone3";
	default: return NULL;
	}
}

static const char *errno_name(long e)
{
	static const char *const names[] = {
		[EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH", [EINTR] = "EINTR", [EIO] = "EIO",
		[E2BIG] = "E2BIG", [ENOEXEC] = "ENOEXEC", [EBADF] = "EBADF", [ECHILD] = "ECHILD", [EAGAIN] = "EAGAIN",
		[ENOMEM] = "ENOMEM", [EACCES] = "EACCES", [EFAULT] = "EFAULT", [EEXIST] = "EEXIST", [ENOTDIR] = "ENOTDIR",
		[EISDIR] = "EISDIR", [EINVAL] = "EINVAL", [EMFILE] = "EMFILE", [ENOTTY] = "ENOTTY", [ENOSPC] = "ENOSPC",
		[ESPIPE] = "ESPIPE", [EROFS] = "EROFS", [EPIPE] = "EPIPE", [ERANGE] = "ERANGE",
		[ENAMETOOLONG] = "ENAMETOOLONG", [ENOSYS] = "ENOSYS", [ELOOP] = "ELOOP", [ENOTSUP] = "EOPNOTSUPP",
		[ENOTSOCK] = "ENOTSOCK", [EMSGSIZE] = "EMSGSIZE", [EAFNOSUPPORT] = "EAFNOSUPPORT", [EADDRINUSE] = "EADDRINUSE",
		[ECONNRESET] = "ECONNRESET", [EISCONN] = "EISCONN", [ENOTCONN] = "ENOTCONN", [ECONNREFUSED] = "ECONNREFUSED",
	};
	return e > 0 && e < (long)ARRAY_SIZE(names) && names[e] ? names[e] : "E?";
}

static char *put_str(char *p, char *end, uint64_t uaddr, long len, int is_cstr)
{
	char tmp[40];
	long n = is_cstr ? 0 : len;
	if (is_cstr) {
		long r = strncpy_from_user(tmp, uaddr, sizeof(tmp) - 1);
		if (r == -EFAULT) {
			p += ksnprintf(p, (size_t)(end - p), "%#lx", (unsigned long)uaddr);
			return p < end ? p : end;
		}
		n = r < 0 ? (long)sizeof(tmp) - 1 : r;
	} else {
		if (n < 0)
			n = 0;
		if (n > 32)
			n = 32;
		if (copy_from_user(tmp, uaddr, (uint64_t)n)) {
			p += ksnprintf(p, (size_t)(end - p), "%#lx", (unsigned long)uaddr);
			return p < end ? p : end;
		}
	}
	if (p < end)
		*p++ = '"';
	for (long i = 0; i < n && p + 5 < end; i++) {
		unsigned char c = (unsigned char)tmp[i];
		if (c == '\n') { *p++ = '\\'; *p++ = 'n'; }
		else if (c == '\t') { *p++ = '\\'; *p++ = 't'; }
		else if (c == '"' || c == '\\') { *p++ = '\\'; *p++ = (char)c; }
		else if (c < 32 || c >= 127) p += ksnprintf(p, (size_t)(end - p), "\\x%02x", c);
		else *p++ = (char)c;
	}
	if (p < end)
		*p++ = '"';
	if ((is_cstr && n == (long)sizeof(tmp) - 1) || (!is_cstr && len > 32))
		p += ksnprintf(p, (size_t)(end - p), "...");
	return p < end ? p : end;
}

static void trace(uint64_t nr, const struct syscall_desc *d, const uint64_t *a, long ret, int returns)
{
	char line[400];
	char *p = line, *end = line + sizeof(line) - 40;
	const char *name = d ? d->name : unserved_name(nr);
	if (name)
		p += ksnprintf(p, (size_t)(end - p), "%s(", name);
	else
		p += ksnprintf(p, (size_t)(end - p), "syscall_%lu(", (unsigned long)nr);
	const char *k = d ? d->args : "xxxxxx";
	for (int i = 0; k[i] && i < 6; i++) {
		if (i)
			p += ksnprintf(p, (size_t)(end - p), ", ");
		switch (k[i]) {
		case 'd': p += ksnprintf(p, (size_t)(end - p), "%ld", (long)a[i]); break;
		case 'u': p += ksnprintf(p, (size_t)(end - p), "%lu", (unsigned long)a[i]); break;
		case 's': p = put_str(p, end, a[i], 0, 1); break;
		case 'w': p = put_str(p, end, a[i], (long)a[i + 1], 0); break;
		case 'r':
			if (ret >= 0)
				p = put_str(p, end, a[i], ret, 0);
			else
				p += ksnprintf(p, (size_t)(end - p), "%#lx", (unsigned long)a[i]);
			break;
		default:
			p += ksnprintf(p, (size_t)(end - p), a[i] ? "%#lx" : "NULL", (unsigned long)a[i]);
			break;
		}
		if (p > end)
			p = end;
	}
	end = line + sizeof(line);
	if (!returns)
		p += ksnprintf(p, (size_t)(end - p), ") = ?\n");
	else if (ret < 0 && ret > -4096)
		p += ksnprintf(p, (size_t)(end - p), ") = -1 %s (errno %ld)%s\n", errno_name(-ret), -ret,
			       ret == -ENOSYS && !d ? ", not implemented by lbvm" : "");
	else if (k[0] == 'x' && d && (nr == 9 || nr == 12 || nr == 25))
		p += ksnprintf(p, (size_t)(end - p), ") = %#lx\n", (unsigned long)ret);
	else
		p += ksnprintf(p, (size_t)(end - p), ") = %ld\n", ret);
	if (p > end)
		p = end;
	io_write(LBVM_H_STDERR, line, (size_t)(p - line));
}

int syscall_entry_c(struct uregs *r)
{
	uint64_t nr = r->vec;
	uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	const struct syscall_desc *d = nr < ARRAY_SIZE(table) && table[nr].fn ? &table[nr] : NULL;
	int tracing = boot.flags & LBVM_BOOT_TRACE;
	if (tracing && (nr == 60 || nr == 231))
		trace(nr, d, a, 0, 0);
	long ret = d ? d->fn(a[0], a[1], a[2], a[3], a[4], a[5]) : -ENOSYS;
	if (tracing)
		trace(nr, d, a, ret, 1);
	r = proc_uregs(current);   /* fork's child and execve return through the current frame */
	if (nr != 15)              /* rt_sigreturn restored every register, rax included */
		r->rax = (uint64_t)ret;
	mm_commit(current->mm);
	/* A call a stop interrupted starts again after SIGCONT, unless a handler is to run first. */
	if (proc_check_killed() && ret == -EINTR && nr != 15 && !signal_ready(current)) {
		r->rax = nr;
		r->rip -= 2;
	}
	/* A handler to run, or a full context restored: leave through the iret-style return. */
	return signal_deliver(r) || nr == 15 || nr == 59;
}
