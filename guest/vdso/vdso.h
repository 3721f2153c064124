/* vdso.h: the data page the guest kernel fills for the vDSO (its layout is shared by both; not a host ABI). */
#ifndef GUEST_VDSO_H
#define GUEST_VDSO_H

#include <stdint.h>

#define VDSO_DATA_OFF 4096   /* the data page follows the vDSO's code page (vdso.ld checks it) */

/* The guest's clock: ns = boot_*_ns + (tsc - boot_tsc) * mult >> 32, as guest/kernel/time.c computes it. */
struct vdso_data {
	uint64_t mult;             /* ns per TSC tick, 32.32 fixed point */
	uint64_t boot_tsc;
	int64_t boot_monotonic_ns;
	int64_t boot_realtime_ns;
};

#endif
