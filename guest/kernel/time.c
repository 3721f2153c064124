/* time.c: clocks read in the guest from the TSC, anchored to the host's clocks at boot; no exit per read. */
#include "arch/cpu.h"
#include "kernel.h"

static uint64_t mult;   /* ns per TSC tick, 32.32 fixed point */

void time_init(void)
{
	if (boot.tsc_khz == 0)
		panic("boot info: TSC frequency unknown");
	mult = (1000000ull << 32) / boot.tsc_khz;
}

static int64_t since_boot_ns(void)
{
	uint64_t d = cpu_rdtsc() - boot.boot_tsc;
	return (int64_t)(((unsigned __int128)d * mult) >> 32);
}

int64_t time_monotonic_ns(void)
{
	return boot.boot_monotonic_ns + since_boot_ns();
}

int64_t time_realtime_ns(void)
{
	return boot.boot_realtime_ns + since_boot_ns();
}
