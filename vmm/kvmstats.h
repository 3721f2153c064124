/* kvmstats.h: KVM's own counters for our vCPU (exits handled inside the host kernel), for --verbose. */
#ifndef LBVM_KVMSTATS_H
#define LBVM_KVMSTATS_H

#include <stdint.h>

struct vm;

enum {
	KS_EXITS,           /* every exit from the guest, those that reach lbvm included */
	KS_PF_FIXED,        /* page faults KVM resolved itself: a shadow-paging fill on kvm-pvm, an NPT/EPT fill */
	KS_PF_GUEST,        /* page faults KVM handed to the guest kernel */
	KS_PF_EMULATE,      /* page faults that needed an instruction emulated */
	KS_INSN_EMULATION,  /* instructions KVM emulated */
	KS_HYPERCALLS,
	KS_TLB_FLUSH,
	KS_HALT_EXITS,
	KS_IRQ_INJECTIONS,
	KS_N
};

int kvmstats_open(const struct vm *vm);   /* before seccomp; 0, or -1 where KVM has no binary statistics */
int kvmstats_read(uint64_t out[KS_N]);     /* once, at the end: 0, or -1 when not open or unreadable */

#endif
