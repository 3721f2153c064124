/*
 * ktimer.c: kernel timers. The host gives a timer per request and cannot take
 * one back, so the kernel keeps its own list sorted by deadline and asks the
 * host for the earliest one only; a host timer made stale by an earlier
 * deadline is orphaned (its slot is freed when it fires, its callback is not
 * run). Cancelling a kernel timer costs the host nothing. A host timer is
 * never asked for more than HOST_MAX_NS ahead: an orphan then holds its I/O
 * slot that long at most, so a program alternating long and short timeouts
 * cannot fill the queue with orphans; a far deadline costs a wake-up per
 * HOST_MAX_NS, without a process switch.
 */
#include "kernel.h"
#include "ktimer.h"
#include "proc/proc.h"

#define HOST_MAX_NS 50000000ll

static struct ktimer *head;        /* armed timers, earliest first */
static void *host_timer;           /* the host timer in flight, if any */
static int64_t host_deadline;      /* what it was asked for */

static void host_fired(void *arg);

/* Make sure the host will call us back no later than the earliest deadline. */
static void reprogram(void)
{
	if (!head)
		return;
	if (host_timer && host_deadline <= head->deadline)
		return;
	io_timer_cancel(host_timer);
	int64_t now = time_monotonic_ns();
	int64_t ns = head->deadline - now;
	if (ns < 1)
		ns = 1;
	if (ns > HOST_MAX_NS)
		ns = HOST_MAX_NS;
	host_deadline = now + ns;
	host_timer = io_timer_start((uint64_t)ns, host_fired, NULL);
}

static void host_fired(void *arg)
{
	(void)arg;
	host_timer = NULL;
	int64_t now = time_monotonic_ns();
	while (head && head->deadline <= now) {
		struct ktimer *t = head;
		head = t->next;
		t->next = NULL;
		t->armed = 0;
		t->fn(t);   /* may arm timers again */
	}
	reprogram();
	sched_update_tick();
}

int ktimer_pending(void)
{
	return head != NULL;
}

void ktimer_cancel(struct ktimer *t)
{
	if (!t->armed)
		return;
	for (struct ktimer **pp = &head; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
	t->armed = 0;
	sched_update_tick();
}

void ktimer_arm(struct ktimer *t, int64_t deadline, void (*fn)(struct ktimer *t), void *arg)
{
	ktimer_cancel(t);
	t->deadline = deadline;
	t->fn = fn;
	t->arg = arg;
	t->armed = 1;
	struct ktimer **pp = &head;
	while (*pp && (*pp)->deadline <= deadline)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	reprogram();
	sched_update_tick();
}
