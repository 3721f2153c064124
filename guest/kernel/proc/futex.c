/* futex.c: futex waits and wakeups, keyed by (address space, user address) or a shared page, robust lists and clear_child_tid at thread exit. */
#include "kernel/syscall.h"

#define FUTEX_WAIT            0
#define FUTEX_WAKE            1
#define FUTEX_REQUEUE         3
#define FUTEX_CMP_REQUEUE     4
#define FUTEX_WAKE_OP         5
#define FUTEX_WAIT_BITSET     9
#define FUTEX_WAKE_BITSET     10
#define FUTEX_PRIVATE_FLAG    128
#define FUTEX_CLOCK_REALTIME  256
#define FUTEX_BITSET_ALL      0xffffffffu

#define FUTEX_WAITERS         0x80000000u
#define FUTEX_OWNER_DIED      0x40000000u
#define FUTEX_TID_MASK        0x3fffffffu
#define ROBUST_LIST_LIMIT     2048

/*
 * Waiters hang in FIFO lists, one per bucket of the key's hash; a waiter is
 * the thread's own struct proc (a thread waits on one futex at a time).
 * A futex is keyed by (address space, user address); a shared one (no
 * FUTEX_PRIVATE_FLAG) on a MAP_SHARED page by (none, the page's physical
 * address), so processes that share the page meet (sem_open's semaphores).
 * Several CPUs will need a lock per bucket and the compare done under it.
 */
#define FUTEX_BUCKETS 64
static struct proc *buckets[FUTEX_BUCKETS];

/*
 * The key of uaddr, which the caller has just read or written (so its page
 * is present): its physical address for a shared futex on a shared page,
 * else the address in this address space.
 */
static void key_of(int shared, uint64_t uaddr, struct mm **kmm, uint64_t *kaddr)
{
	uint64_t pa = shared ? mm_shared_pa(current->mm, uaddr) : 0;
	*kmm = pa ? NULL : current->mm;
	*kaddr = pa ? pa : uaddr;
}

static struct proc **bucket(struct mm *mm, uint64_t uaddr)
{
	uint64_t h = ((uint64_t)mm >> 6) ^ (uaddr >> 2) ^ (uaddr >> 12);
	return &buckets[h % FUTEX_BUCKETS];
}

static void enqueue(struct proc *p, struct mm *mm, uint64_t uaddr, uint32_t bits)
{
	struct proc **pp = bucket(mm, uaddr);
	while (*pp)
		pp = &(*pp)->fnext;
	p->fnext = NULL;
	p->fmm = mm;
	p->faddr = uaddr;
	p->fbits = bits;
	p->fqueued = 1;
	*pp = p;
}

static void dequeue(struct proc *p)
{
	for (struct proc **pp = bucket(p->fmm, p->faddr); *pp; pp = &(*pp)->fnext) {
		if (*pp == p) {
			*pp = p->fnext;
			break;
		}
	}
	p->fqueued = 0;
	p->fnext = NULL;
}

/* Wake up to n waiters on (mm, uaddr) whose bitset meets bits; the number woken. */
static int wake(struct mm *mm, uint64_t uaddr, int n, uint32_t bits)
{
	int woken = 0;
	struct proc **pp = bucket(mm, uaddr);
	while (*pp && woken < n) {
		struct proc *p = *pp;
		if (p->fmm != mm || p->faddr != uaddr || !(p->fbits & bits)) {
			pp = &p->fnext;
			continue;
		}
		*pp = p->fnext;
		p->fqueued = 0;
		p->fnext = NULL;
		sched_wakeup(&p->fqueued);
		woken++;
	}
	return woken;
}

/* Wake up to n waiters on (mm, uaddr), then move up to n2 of the rest to (mm2, uaddr2). */
static int requeue(struct mm *mm, uint64_t uaddr, int n, struct mm *mm2, uint64_t uaddr2, int n2)
{
	int done = wake(mm, uaddr, n, FUTEX_BITSET_ALL);
	struct proc **pp = bucket(mm, uaddr);
	int moved = 0;
	while (*pp && moved < n2) {
		struct proc *p = *pp;
		if (p->fmm != mm || p->faddr != uaddr) {
			pp = &p->fnext;
			continue;
		}
		*pp = p->fnext;
		enqueue(p, mm2, uaddr2, p->fbits);
		moved++;
	}
	return done + moved;
}

static void timed_out(void *arg)
{
	struct proc *p = arg;
	p->ftimedout = 1;
	sched_wakeup(&p->fqueued);
}

/* Sleep on uaddr if it holds val: until woken (0), the deadline (-ETIMEDOUT) or a signal (-EINTR, restarted with SA_RESTART). */
static long futex_wait(int shared, uint64_t uaddr, uint32_t val, uint32_t bits, int timed, int64_t rel_ns)
{
	struct proc *p = current;
	uint32_t cur;
	if (copy_from_user(&cur, uaddr, sizeof(cur)))
		return -EFAULT;
	if (cur != val)
		return -EAGAIN;
	if (timed && rel_ns <= 0)
		return -ETIMEDOUT;
	struct mm *kmm;
	uint64_t key;
	key_of(shared, uaddr, &kmm, &key);
	enqueue(p, kmm, key, bits);
	p->ftimedout = 0;
	void *timer = timed ? io_timer_start((uint64_t)rel_ns, timed_out, p) : NULL;
	while (p->fqueued && !p->ftimedout && !signal_pending())
		sched_sleep(&p->fqueued);
	if (!p->ftimedout)
		io_timer_cancel(timer); /* once it fired, its slot may be another request's (the kernel timers' host timer) */
	if (!p->fqueued)
		return 0;
	dequeue(p);
	return p->ftimedout ? -ETIMEDOUT : -EINTR;
}

/* FUTEX_WAKE_OP: *uaddr2 = oldval OP oparg; wake on uaddr; and on uaddr2 if oldval CMP cmparg. */
static long wake_op(int shared, uint64_t uaddr, int n, uint64_t uaddr2, int n2, uint32_t val3)
{
	int op = (val3 >> 28) & 7, cmp = (val3 >> 24) & 15;
	int32_t oparg = (int32_t)(val3 << 8) >> 20, cmparg = (int32_t)(val3 << 20) >> 20;
	if ((val3 >> 28) & 8) {
		if (oparg < 0 || oparg > 31)
			oparg &= 31;
		oparg = (int32_t)(1u << oparg);
	}
	uint32_t old, nv;
	if (copy_from_user(&old, uaddr2, sizeof(old)))
		return -EFAULT;
	switch (op) {
	case 0: nv = (uint32_t)oparg; break;           /* SET */
	case 1: nv = old + (uint32_t)oparg; break;     /* ADD */
	case 2: nv = old | (uint32_t)oparg; break;     /* OR */
	case 3: nv = old & ~(uint32_t)oparg; break;    /* ANDN */
	case 4: nv = old ^ (uint32_t)oparg; break;     /* XOR */
	default: return -ENOSYS;
	}
	int c, o = (int)old;
	switch (cmp) {
	case 0: c = o == cmparg; break;
	case 1: c = o != cmparg; break;
	case 2: c = o < cmparg; break;
	case 3: c = o <= cmparg; break;
	case 4: c = o > cmparg; break;
	case 5: c = o >= cmparg; break;
	default: return -ENOSYS;
	}
	if (copy_to_user(uaddr2, &nv, sizeof(nv)))
		return -EFAULT;
	struct mm *kmm, *kmm2;
	uint64_t key, key2;
	key_of(shared, uaddr, &kmm, &key);
	key_of(shared, uaddr2, &kmm2, &key2);
	int woken = wake(kmm, key, n, FUTEX_BITSET_ALL);
	if (c)
		woken += wake(kmm2, key2, n2, FUTEX_BITSET_ALL);
	return woken;
}

/* The timeout argument: relative for FUTEX_WAIT, an absolute time on the chosen clock for FUTEX_WAIT_BITSET. */
static int timeout_in(uint64_t uts, int absolute, int realtime, int64_t *rel)
{
	int64_t ts[2];
	if (copy_from_user(ts, uts, sizeof(ts)))
		return -EFAULT;
	if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
		return -EINVAL;
	int64_t ns = ts[0] > INT64_MAX / 1000000000 - 1 ? INT64_MAX : ts[0] * 1000000000 + ts[1];
	if (absolute)
		ns -= realtime ? time_realtime_ns() : time_monotonic_ns();
	*rel = ns;
	return 0;
}

long futex_op(uint64_t uaddr, int op, uint32_t val, uint64_t timeout, uint64_t uaddr2, uint32_t val3)
{
	int cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	int realtime = (op & FUTEX_CLOCK_REALTIME) != 0;
	int shared = !(op & FUTEX_PRIVATE_FLAG);
	struct mm *kmm, *kmm2;
	uint64_t key, key2;
	if (uaddr & 3)
		return -EINVAL;
	if (realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS;
	/* timeout doubles as val2, a count, for the requeue operations */
	int n2 = (int)timeout;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET: {
		uint32_t bits = cmd == FUTEX_WAIT ? FUTEX_BITSET_ALL : val3;
		if (!bits)
			return -EINVAL;
		int64_t rel = 0;
		if (timeout) {
			int err = timeout_in(timeout, cmd == FUTEX_WAIT_BITSET, realtime, &rel);
			if (err)
				return err;
		}
		return futex_wait(shared, uaddr, val, bits, timeout != 0, rel);
	}
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET: {
		uint32_t bits = cmd == FUTEX_WAKE ? FUTEX_BITSET_ALL : val3;
		if (!bits)
			return -EINVAL;
		key_of(shared, uaddr, &kmm, &key);
		return wake(kmm, key, (int)val > 0 ? (int)val : 0, bits);
	}
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE: {
		if ((int)val < 0 || n2 < 0 || (uaddr2 & 3))
			return -EINVAL;
		if (cmd == FUTEX_CMP_REQUEUE) {
			uint32_t cur;
			if (copy_from_user(&cur, uaddr, sizeof(cur)))
				return -EFAULT;
			if (cur != val3)
				return -EAGAIN;
		}
		key_of(shared, uaddr, &kmm, &key);
		key_of(shared, uaddr2, &kmm2, &key2);
		return requeue(kmm, key, (int)val, kmm2, key2, n2);
	}
	case FUTEX_WAKE_OP:
		if (uaddr2 & 3)
			return -EINVAL;
		return wake_op(shared, uaddr, (int)val, uaddr2, n2, val3);
	default:
		return -ENOSYS; /* the priority-inheritance operations; glibc copes */
	}
}

SYS(futex)
{
	UNUSED_ARGS();
	return futex_op(a0, (int)a1, (uint32_t)a2, a3, a4, (uint32_t)a5);
}

/* A lock the dead thread held: mark its owner dead and wake a waiter, so the next locker sees EOWNERDEAD. */
static void robust_release(struct proc *p, uint64_t uaddr)
{
	uint32_t v;
	if (uaddr & 3 || copy_from_user(&v, uaddr, sizeof(v)))
		return;
	if ((v & FUTEX_TID_MASK) != (uint32_t)p->pid)
		return;
	uint32_t nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
	if (copy_to_user(uaddr, &nv, sizeof(nv)))
		return;
	if (v & FUTEX_WAITERS) {
		/* a robust mutex may be process-shared: the shared key where the page is shared */
		struct mm *kmm;
		uint64_t key;
		key_of(1, uaddr, &kmm, &key);
		wake(kmm, key, 1, FUTEX_BITSET_ALL);
	}
}

/*
 * A thread ends: the locks on its robust list (struct robust_list_head:
 * next, futex_offset, list_op_pending) are released as dead, then its
 * clear_child_tid word is zeroed and one waiter woken (pthread_join).
 */
void futex_exit(struct proc *p)
{
	if (p->robust_list) {
		uint64_t head[3];
		if (!copy_from_user(head, p->robust_list, sizeof(head))) {
			int64_t off = (int64_t)head[1];
			uint64_t e = head[0];
			for (int n = 0; e != p->robust_list && n < ROBUST_LIST_LIMIT; n++) {
				uint64_t next;
				if (copy_from_user(&next, e & ~1ull, sizeof(next)))
					break;
				if ((e & ~1ull) != head[2])
					robust_release(p, (e & ~1ull) + (uint64_t)off);
				e = next;
			}
			if (head[2])
				robust_release(p, (head[2] & ~1ull) + (uint64_t)off);
		}
		p->robust_list = 0;
	}
	if (p->clear_child_tid) {
		uint32_t zero = 0;
		if (!copy_to_user(p->clear_child_tid, &zero, sizeof(zero)))
			wake(p->mm, p->clear_child_tid, 1, FUTEX_BITSET_ALL);
		p->clear_child_tid = 0;
	}
}

/* get_robust_list(tid, head_ptr, len_ptr): musl asks once, before it allows robust mutexes. */
SYS(get_robust_list)
{
	UNUSED_ARGS();
	struct proc *t = (int)a0 ? proc_find((int)a0) : current;
	if (!t || t->tgid != current->tgid)
		return -ESRCH; /* another process's list: no ptrace rights to grant here */
	uint64_t len = 24;
	if (copy_to_user(a1, &t->robust_list, sizeof(uint64_t)) || copy_to_user(a2, &len, sizeof(len)))
		return -EFAULT;
	return 0;
}
