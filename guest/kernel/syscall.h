/* syscall.h: the syscall table's shape and the handlers each sys_*.c file provides. */
#ifndef GUEST_SYSCALL_H
#define GUEST_SYSCALL_H

#include "arch/cpu.h"
#include "kernel/proc/proc.h"

typedef long (*sys_fn)(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);

/*
 * Argument kinds for --trace, one letter per argument: d signed, u unsigned,
 * x hex, s user string, w user buffer written by the program (length = next
 * argument), r user buffer filled by the kernel (length = the result), p pointer.
 */
struct syscall_desc {
	sys_fn fn;
	const char *name;
	const char *args;
};

#define SYS(name) long sys_##name(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
#define UNUSED_ARGS(...) (void)a0, (void)a1, (void)a2, (void)a3, (void)a4, (void)a5

/* sys_fs.c */
SYS(read); SYS(write); SYS(readv); SYS(writev); SYS(close); SYS(fstat); SYS(newfstatat); SYS(stat); SYS(lstat);
SYS(statx); SYS(ioctl); SYS(lseek); SYS(readlink); SYS(readlinkat); SYS(getcwd); SYS(open); SYS(openat);
SYS(pread64); SYS(access); SYS(faccessat); SYS(fcntl); SYS(chdir); SYS(fchdir); SYS(dup); SYS(dup2); SYS(dup3);
SYS(getdents64); SYS(utimensat); SYS(mkdirat); SYS(mkdir); SYS(symlinkat); SYS(symlink); SYS(mknodat); SYS(mknod);
SYS(unlinkat); SYS(unlink); SYS(rmdir); SYS(renameat2); SYS(renameat); SYS(rename); SYS(linkat); SYS(link);
SYS(fchmodat); SYS(chmod); SYS(fchmod); SYS(fchownat); SYS(chown); SYS(lchown); SYS(fchown); SYS(umask);
SYS(poll); SYS(ppoll); SYS(select); SYS(pselect6);
SYS(ftruncate); SYS(truncate); SYS(fallocate); SYS(fsync); SYS(pwrite64); SYS(statfs); SYS(fstatfs);
/* sys_xattr.c */
SYS(getxattr); SYS(lgetxattr); SYS(fgetxattr); SYS(listxattr); SYS(llistxattr); SYS(flistxattr);
SYS(setxattr); SYS(lsetxattr); SYS(fsetxattr); SYS(removexattr); SYS(lremovexattr); SYS(fremovexattr);
/* sys_cred.c */
SYS(setuid); SYS(setgid); SYS(setreuid); SYS(setregid); SYS(setresuid); SYS(setresgid); SYS(setfsuid); SYS(setfsgid);
SYS(getresuid); SYS(getresgid);
/* sys_proc.c, pipe.c */
SYS(fork); SYS(vfork); SYS(clone); SYS(clone3); SYS(futex); SYS(get_robust_list); SYS(execve); SYS(wait4); SYS(waitid); SYS(pipe); SYS(pipe2);
SYS(setpgid); SYS(getpgid); SYS(setsid); SYS(getsid); SYS(rt_sigpending);
/* sys_mm.c */
SYS(brk); SYS(mmap); SYS(munmap); SYS(mprotect); SYS(mremap); SYS(madvise); SYS(msync);
/* sys_misc.c */
SYS(exit); SYS(exit_group); SYS(arch_prctl); SYS(set_tid_address); SYS(set_robust_list);
SYS(uname); SYS(getpid); SYS(gettid); SYS(getppid); SYS(getuid); SYS(getgid);
SYS(rt_sigaction); SYS(rt_sigprocmask); SYS(sigaltstack); SYS(prlimit64); SYS(getrlimit);
SYS(sched_getaffinity); SYS(sched_yield); SYS(clock_gettime); SYS(clock_getres);
SYS(gettimeofday); SYS(time); SYS(nanosleep); SYS(clock_nanosleep); SYS(getrandom);
SYS(sysinfo); SYS(kill); SYS(tgkill); SYS(tkill); SYS(getpgrp); SYS(setrlimit); SYS(prctl); SYS(rt_sigsuspend); SYS(pause); SYS(rt_sigreturn); SYS(alarm); SYS(setitimer); SYS(getitimer);
SYS(getgroups); SYS(setgroups); SYS(getrusage); SYS(times);
/* net/sys_net.c */
SYS(socket); SYS(socketpair); SYS(bind); SYS(listen); SYS(connect); SYS(accept); SYS(accept4);
SYS(getsockname); SYS(getpeername); SYS(shutdown); SYS(sendto); SYS(sendmsg); SYS(recvfrom); SYS(recvmsg);
SYS(setsockopt); SYS(getsockopt); SYS(sendmmsg); SYS(recvmmsg);
/* epoll.c, eventfd.c, timerfd.c, signalfd.c, memfd.c */
SYS(epoll_create); SYS(epoll_create1); SYS(epoll_ctl); SYS(epoll_wait); SYS(epoll_pwait); SYS(epoll_pwait2);
SYS(eventfd); SYS(eventfd2); SYS(timerfd_create); SYS(timerfd_settime); SYS(timerfd_gettime);
SYS(signalfd); SYS(signalfd4); SYS(memfd_create);
/* sys_prctl.c */
SYS(sched_setaffinity);
/* lock.c */
SYS(flock);

#endif
