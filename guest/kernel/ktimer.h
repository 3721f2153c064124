/* ktimer.h: kernel timers on the monotonic clock, many of them multiplexed onto one host timer. */
#ifndef GUEST_KTIMER_H
#define GUEST_KTIMER_H

#include <stdint.h>

struct ktimer {
	int64_t deadline;                 /* monotonic ns */
	void (*fn)(struct ktimer *t);     /* runs once the deadline has passed, from the I/O completion path */
	void *arg;
	struct ktimer *next;
	int armed;
};

/* Arm t (disarming it first if armed) to run fn at deadline. */
void ktimer_arm(struct ktimer *t, int64_t deadline, void (*fn)(struct ktimer *t), void *arg);
void ktimer_cancel(struct ktimer *t);   /* harmless if not armed */
int ktimer_pending(void);               /* some timer is armed (the scheduler keeps its tick for it) */

/* now + ns without overflow; ns < 0: INT64_MAX (no deadline). */
static inline int64_t deadline_after(int64_t now, int64_t ns)
{
	return ns < 0 || ns > INT64_MAX - now ? INT64_MAX : now + ns;
}

#endif
