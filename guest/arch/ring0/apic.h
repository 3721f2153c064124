/* apic.h (ring0): what the other ring-0 cpu ops share with apic.c. */
#ifndef GUEST_RING0_APIC_H
#define GUEST_RING0_APIC_H

#define RING0_SPURIOUS_VECTOR 0xff  /* the local APIC's spurious interrupt: a bare iretq, no EOI */

#endif
