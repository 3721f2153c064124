/* vdso.c: the vDSO mapped into every program: clock_gettime, gettimeofday, time and getcpu without a syscall. */
#include "vdso.h"

struct vdso_ts { int64_t sec, nsec; };
struct vdso_tv { int64_t sec, usec; };

/* Filled by the kernel at boot (guest/kernel/vdso.c); read-only to programs. */
extern const volatile struct vdso_data vdso_data __attribute__((visibility("hidden")));

static inline uint64_t vdso_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static int64_t vdso_since_boot(void)
{
	uint64_t d = vdso_rdtsc() - vdso_data.boot_tsc;
	return (int64_t)(((unsigned __int128)d * vdso_data.mult) >> 32);
}

static long vdso_syscall2(long nr, long a, long b)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}

/* The clocks the kernel serves from the same sources (sys_misc.c: clock_read); others ask the kernel. */
int __vdso_clock_gettime(int clk, struct vdso_ts *ts)
{
	int64_t ns;
	switch (clk) {
	case 0: case 5: case 8: case 11:
		ns = vdso_data.boot_realtime_ns + vdso_since_boot();
		break;
	case 1: case 4: case 6: case 7: case 9:
		ns = vdso_data.boot_monotonic_ns + vdso_since_boot();
		break;
	default:
		return (int)vdso_syscall2(228 /* clock_gettime */, clk, (long)ts);
	}
	ts->sec = ns / 1000000000;
	ts->nsec = ns % 1000000000;
	return 0;
}

int __vdso_gettimeofday(struct vdso_tv *tv, void *tz)
{
	if (tz)
		return (int)vdso_syscall2(96 /* gettimeofday */, (long)tv, (long)tz);
	if (tv) {
		int64_t ns = vdso_data.boot_realtime_ns + vdso_since_boot();
		tv->sec = ns / 1000000000;
		tv->usec = ns % 1000000000 / 1000;
	}
	return 0;
}

long __vdso_time(long *t)
{
	long s = (long)((vdso_data.boot_realtime_ns + vdso_since_boot()) / 1000000000);
	if (t)
		*t = s;
	return s;
}

/* One CPU, one node. */
int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	(void)cache;
	if (cpu)
		*cpu = 0;
	if (node)
		*node = 0;
	return 0;
}

int clock_gettime(int, struct vdso_ts *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct vdso_tv *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
