/* seccomp.h: the VMM's own system-call filter, installed once the VM is set up. */
#ifndef VMM_SECCOMP_H
#define VMM_SECCOMP_H

#include <stdio.h>

/* Install the filter on every thread of lbvm; 0, or -1 after a message. */
int seccomp_confine(int vcpu_fd);
unsigned seccomp_count(void);          /* system calls on the allowlist */
void seccomp_print(FILE *out);         /* the allowlist: name, tab, why; one per line */

#endif
