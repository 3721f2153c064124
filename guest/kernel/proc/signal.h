/* signal.h: signal numbers, the information a pending signal carries, and delivery. */
#ifndef GUEST_SIGNAL_H
#define GUEST_SIGNAL_H

#include <stdint.h>

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGSEGV 11
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIGURG 23
#define SIGWINCH 28

#define SIG_DFL 0
#define SIG_IGN 1

#define SI_USER 0
#define SEGV_MAPERR 1
#define CLD_EXITED 1
#define CLD_KILLED 2
#define CLD_STOPPED 5
#define CLD_CONTINUED 6
#define SA_NOCLDSTOP 1

struct ksiginfo {
	int code;
	int pid;
	int status;
	uint64_t addr;
};

struct proc;
struct uregs;

void signal_post(struct proc *p, int sig, const struct ksiginfo *info);
int signal_pending(void);                  /* the current thread has something to act on */
uint64_t signal_ready(const struct proc *p);  /* pending for p (its own and its process's) and not blocked */
int signal_deliver(struct uregs *r);       /* 1 if r now enters a handler */
long signal_return(struct uregs *r);       /* rt_sigreturn */
uint64_t signal_pending_set(void);         /* the current process's pending signals, blocked ones included */
void signal_mask_push(uint64_t mask);      /* a temporary mask for the current call */
void signal_mask_pop(void);                /* back to the old one, or after the handler about to run */
int signal_dequeue(uint64_t mask, struct ksiginfo *info);  /* take the lowest pending signal in mask; 0: none */

#endif
