/* kshim.h: host stand-ins for the guest kernel's surroundings in unit tests (fake physical memory, panic, proc_kill). */
#ifndef LBVM_TESTS_KSHIM_H
#define LBVM_TESTS_KSHIM_H

#include <setjmp.h>
#include <stdint.h>

/* Guest-physical memory [0, KSHIM_PHYS_SIZE) is a zeroed host buffer at lbvm_test_phys (see kernel.h). */
#define KSHIM_PHYS_SIZE (64ull << 20)
void kshim_phys_init(void);

extern unsigned kshim_tlb_flushes;      /* calls of cpu_flush_tlb */
extern unsigned kshim_continues;        /* calls of proc_continue */
extern int kshim_sock_timeo_fd;         /* the fd sock_never_restarted says has a socket timeout; -1: none */

/*
 * proc_kill cannot return: the shim records the signal and address and
 * longjmps back to KSHIM_EXPECT_KILL. A kill outside it fails the test.
 */
extern jmp_buf kshim_kill_jmp;
extern volatile int kshim_kill_armed;
extern volatile int kshim_killed_sig;
extern volatile uint64_t kshim_killed_addr;

#define KSHIM_EXPECT_KILL(stmt)                          \
	do {                                             \
		kshim_killed_sig = 0;                    \
		kshim_killed_addr = 0;                   \
		kshim_kill_armed = 1;                    \
		if (setjmp(kshim_kill_jmp) == 0) {       \
			stmt;                            \
		}                                        \
		kshim_kill_armed = 0;                    \
	} while (0)

#endif
