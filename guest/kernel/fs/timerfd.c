/*
 * timerfd.c: timerfd_create/settime/gettime. Expirations are counted from
 * the clock when looked at; a kernel timer at the next expiry only wakes
 * readers and pollers.
 */
#include "kernel/ktimer.h"
#include "kernel/proc/proc.h"
#include "kernel/syscall.h"
#include "anon.h"

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_BOOTTIME 7
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9
#define TFD_TIMER_ABSTIME 1
#define TFD_TIMER_CANCEL_ON_SET 2
#define NS 1000000000ll

struct timerfd {
	int realtime;                /* on CLOCK_REALTIME: deadlines are wall-clock times */
	int64_t next;                /* the next expiry on its clock; 0: disarmed */
	int64_t interval;
	uint64_t ticks;              /* expirations not yet read */
	struct ktimer kt;
};

struct itimerspec_k {
	int64_t isec, insec, vsec, vnsec;
};

static int64_t tfd_now(struct timerfd *t)
{
	return t->realtime ? time_realtime_ns() : time_monotonic_ns();
}

/* Count the expirations that have passed. */
static void tfd_update(struct timerfd *t)
{
	int64_t now = tfd_now(t);
	if (!t->next || now < t->next)
		return;
	if (t->interval) {
		uint64_t n = (uint64_t)((now - t->next) / t->interval) + 1;
		t->ticks += n;
		t->next += (int64_t)n * t->interval;
	} else {
		t->ticks++;
		t->next = 0;
	}
}

static void tfd_fired(struct ktimer *kt);

static void tfd_schedule(struct timerfd *t)
{
	if (!t->next) {
		ktimer_cancel(&t->kt);
		return;
	}
	int64_t mono = t->next;
	if (t->realtime)
		mono = t->next - time_realtime_ns() + time_monotonic_ns();
	ktimer_arm(&t->kt, mono, tfd_fired, t);
}

static void tfd_fired(struct ktimer *kt)
{
	struct timerfd *t = kt->arg;
	tfd_update(t);
	sched_wakeup(t);
	poll_wake();
	/* Periodic: wake again at the next expiry only if nobody has read since; a reader re-arms. */
	if (t->next && t->ticks == 0)
		tfd_schedule(t);
}

static long tfd_read(struct file *f, uint64_t ubuf, uint64_t len, uint64_t off)
{
	(void)off;
	struct timerfd *t = (struct timerfd *)f->vn->priv;
	if (len < 8)
		return -EINVAL;
	for (;;) {
		tfd_update(t);
		if (t->ticks)
			break;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		tfd_schedule(t);
		sched_sleep(t);
		if (signal_pending())
			return -EINTR;
	}
	if (copy_to_user(ubuf, &t->ticks, 8))
		return -EFAULT;
	t->ticks = 0;
	tfd_schedule(t);
	return 8;
}

static unsigned tfd_poll(struct file *f)
{
	struct timerfd *t = (struct timerfd *)f->vn->priv;
	tfd_update(t);
	if (t->ticks)
		return POLLIN | POLLRDNORM;
	if (t->next && !t->kt.armed)
		tfd_schedule(t);   /* a poller must be woken at the next expiry */
	return 0;
}

static void tfd_release(struct vnode *vn)
{
	struct timerfd *t = (struct timerfd *)vn->priv;
	ktimer_cancel(&t->kt);
	kfree(t, sizeof(*t));
}

static const struct vnode_ops timerfd_ops = { .read = tfd_read, .poll = tfd_poll, .release = tfd_release };

SYS(timerfd_create)
{
	UNUSED_ARGS();
	if (a0 != CLOCK_REALTIME && a0 != CLOCK_MONOTONIC && a0 != CLOCK_BOOTTIME && a0 != CLOCK_REALTIME_ALARM &&
	    a0 != CLOCK_BOOTTIME_ALARM)
		return -EINVAL;
	if (a1 & ~(uint64_t)(O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	struct timerfd *t = kmalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->realtime = a0 == CLOCK_REALTIME || a0 == CLOCK_REALTIME_ALARM;
	return anon_fd_new(&timerfd_ops, t, (uint32_t)a1, "anon_inode:[timerfd]");
}

static void tfd_current(struct timerfd *t, struct itimerspec_k *o)
{
	tfd_update(t);
	int64_t left = t->next ? t->next - tfd_now(t) : 0;
	if (t->next && left <= 0)
		left = 1;
	*o = (struct itimerspec_k){ t->interval / NS, t->interval % NS, left / NS, left % NS };
}

SYS(timerfd_settime)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	struct timerfd *t = anon_priv(f, &timerfd_ops);
	if (!t)
		return -EINVAL;
	if (a1 & ~(uint64_t)(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
		return -EINVAL;
	struct itimerspec_k n, o;
	if (copy_from_user(&n, a2, sizeof(n)))
		return -EFAULT;
	if (n.isec < 0 || n.insec < 0 || n.insec >= NS || n.vsec < 0 || n.vnsec < 0 || n.vnsec >= NS)
		return -EINVAL;
	tfd_current(t, &o);
	if (a3 && copy_to_user(a3, &o, sizeof(o)))
		return -EFAULT;
	int64_t value = n.vsec > INT64_MAX / NS - 1 ? INT64_MAX / 2 : n.vsec * NS + n.vnsec;
	t->interval = n.isec > INT64_MAX / NS - 1 ? INT64_MAX / 2 : n.isec * NS + n.insec;
	t->ticks = 0;
	if (value == 0)
		t->next = 0;
	else if (a1 & TFD_TIMER_ABSTIME)
		t->next = value;
	else
		t->next = deadline_after(tfd_now(t), value);
	tfd_schedule(t);
	return 0;
}

SYS(timerfd_gettime)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	struct timerfd *t = anon_priv(f, &timerfd_ops);
	if (!t)
		return -EINVAL;
	struct itimerspec_k o;
	tfd_current(t, &o);
	return copy_to_user(a1, &o, sizeof(o)) ? -EFAULT : 0;
}
