/* io.c: requests to the VMM on the shared virtqueue; stdout/stderr writes complete into a buffer the VMM drains. */
#include "arch/cpu.h"
#include "kernel.h"
#include "virtio/virtq.h"
#include "kernel/proc/proc.h"

#define NSLOTS   128
#define POOL_SIZE (2u << 20)   /* bytes of write data in flight */

struct io_slot {
	struct lbvm_io_req req;
	struct lbvm_io_status st;
	int busy, done;
	int orphan;                   /* its waiter gave up (killed): free the slot when it completes */
	void (*done_fn)(void *arg);   /* asynchronous requests: called when the completion is seen */
	void (*host_fn)(void *arg, int64_t result);  /* asynchronous mount requests: the same, with the result */
	void *done_arg;
	uint32_t pool_off, pool_len;  /* write data held in the pool */
	uint32_t pool_waste;          /* bytes skipped at the pool's end before this buffer */
	uint64_t seq;                 /* allocation order, for freeing the pool in order */
	int host;                     /* a request on a host mount */
};

static struct virtq_driver vq;
static void *tokens[LBVM_IOQ_SIZE];
static struct io_slot slots[NSLOTS];
static uint8_t pool[POOL_SIZE] __attribute__((aligned(4096)));
static uint32_t pool_head, pool_tail, pool_used;  /* a byte ring: allocate at head, free at tail; used counts skipped bytes too */
static uint64_t next_seq, free_seq;
static int64_t write_error[LBVM_STDIO_HANDLES];   /* a failed buffered write is reported by the next one */
static unsigned inflight;
static unsigned host_inflight;   /* requests on host mounts in flight: worth spinning for */

void io_init(void)
{
	if (boot.ioq_gpa != LBVM_GPA_IOQ || boot.ioq_size != LBVM_IOQ_SIZE)
		panic("boot info: unexpected I/O queue at %#lx size %u", (unsigned long)boot.ioq_gpa, boot.ioq_size);
	if (virtq_drv_init(&vq, pa_to_kva(boot.ioq_gpa), boot.ioq_size, tokens))
		panic("I/O queue init failed");
}

/* Release write data from the pool in allocation order, as far as completed writes allow. */
static void pool_release(void)
{
	for (;;) {
		struct io_slot *oldest = NULL;
		for (unsigned i = 0; i < NSLOTS; i++)
			if (slots[i].pool_len && slots[i].seq == free_seq)
				oldest = &slots[i];
		if (!oldest || !oldest->done)
			return;
		pool_tail = oldest->pool_off + oldest->pool_len;
		pool_used -= oldest->pool_len + oldest->pool_waste;
		oldest->pool_len = 0;
		oldest->busy = 0;
		free_seq++;
	}
}

/* Take every completion the VMM has published (also from the preemption tick: io_check); how many there were. */
static unsigned io_reap(void)
{
	uint32_t len;
	struct io_slot *s;
	unsigned n = 0;
	while ((s = virtq_drv_get(&vq, &len))) {
		n++;
		s->done = 1;
		inflight--;
		if (s->host) {
			s->host = 0;
			host_inflight--;
		}
		if (s->done_fn) {
			void (*fn)(void *) = s->done_fn;
			s->done_fn = NULL;
			s->busy = 0;
			fn(s->done_arg);
		} else if (s->host_fn) {
			void (*fn)(void *, int64_t) = s->host_fn;
			s->host_fn = NULL;
			s->busy = 0;
			fn(s->done_arg, s->st.result);
		} else if (s->orphan) {
			s->busy = 0;
		}
		if (s->req.op == LBVM_IO_WRITE) {
			if (s->st.result < 0 && s->req.handle < LBVM_STDIO_HANDLES)
				write_error[s->req.handle] = s->st.result;
			if (!s->pool_len)
				s->busy = 0;
		}
	}
	pool_release();
	return n;
}

/*
 * Wait for the VMM: tell it which used index wakes us, check once more, then
 * halt. A request on a host mount often completes within microseconds (a
 * statx, an open, a read from the page cache), far sooner than a halt and
 * its wake-up (two exits) take, so look at the ring for a short while first.
 */
#define SPIN_US 40

static void io_wait(void)
{
	virtq_drv_enable_cb(&vq);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (virtq_drv_has_used(&vq))
		return;
	if (host_inflight) {
		uint64_t end = cpu_rdtsc() + boot.tsc_khz * SPIN_US / 1000;
		while (cpu_rdtsc() < end) {
			if (virtq_drv_has_used(&vq))
				return;
			__builtin_ia32_pause();
		}
	}
	cpu_halt();
}


static struct io_slot *slot_get(void)
{
	for (;;) {
		for (unsigned i = 0; i < NSLOTS; i++) {
			if (!slots[i].busy) {
				struct io_slot *s = &slots[i];
				memset(s, 0, sizeof(*s));
				s->busy = 1;
				return s;
			}
		}
		io_wait();
		io_reap();
	}
}

/* Put s on the queue: its request, an optional in-buffer, an optional out-buffer, its status. */
static void submit2(struct io_slot *s, uint64_t in_pa, uint32_t in_len, uint64_t out_pa, uint32_t out_len)
{
	struct virtq_buf b[4];
	unsigned n = 0;
	b[n++] = (struct virtq_buf){ kva_to_pa(&s->req), sizeof(s->req), 0 };
	if (in_len)
		b[n++] = (struct virtq_buf){ in_pa, in_len, 0 };
	if (out_len)
		b[n++] = (struct virtq_buf){ out_pa, out_len, 1 };
	b[n++] = (struct virtq_buf){ kva_to_pa(&s->st), sizeof(s->st), 1 };
	while (virtq_drv_add(&vq, b, n, s) == -ENOSPC) {
		io_wait();
		io_reap();
	}
	inflight++;
	/* A host socket's RECV may wait for ever: not one to spin for. */
	if (s->req.op != LBVM_IO_NET_RECV && (s->req.op >= LBVM_IO_LOOKUP || s->req.handle >= LBVM_H_FIRST_HOST)) {
		s->host = 1;
		host_inflight++;
	}
	if (virtq_drv_kick_prepare(&vq))
		cpu_outb(LBVM_KICK_PORT, 0);
}

static void submit(struct io_slot *s, uint64_t data_pa, uint32_t data_len, int data_writable)
{
	if (data_writable)
		submit2(s, 0, 0, data_pa, data_len);
	else
		submit2(s, data_pa, data_len, 0, 0);
}

/*
 * A request on a host mount, waited for: the caller's buffers (physically
 * contiguous kernel memory) stay the host's until it completes, so this
 * wait is not cut short by a signal (a stdin read keeps its own buffer and
 * goes on after one: fs/dev.c). Other processes run meanwhile.
 */
int64_t io_host(uint16_t op, uint32_t handle, uint64_t offset, uint64_t arg, const void *in, uint32_t in_len,
		void *out, uint32_t out_len)
{
	struct io_slot *s = slot_get();
	s->req = (struct lbvm_io_req){ .op = op, .handle = handle, .offset = offset, .arg = arg };
	submit2(s, in_len ? kva_to_pa(in) : 0, in_len, out_len ? kva_to_pa(out) : 0, out_len);
	for (;;) {
		io_reap();
		if (s->done)
			break;
		if (!sched_yield_other())
			io_wait();
	}
	int64_t r = s->st.result;
	s->busy = 0;
	return r;
}

/*
 * The same without waiting: fn(arg, result) runs when it completes (fn may
 * be NULL: nobody cares, as for CLOSE). The buffers stay the host's until then.
 */
void io_host_async(uint16_t op, uint32_t handle, uint64_t offset, uint64_t arg, const void *in, uint32_t in_len,
		   void *out, uint32_t out_len, void (*fn)(void *arg, int64_t result), void *fn_arg)
{
	struct io_slot *s = slot_get();
	s->req = (struct lbvm_io_req){ .op = op, .handle = handle, .offset = offset, .arg = arg };
	s->host_fn = fn;
	s->done_arg = fn_arg;
	s->orphan = 1; /* the slot is free as soon as the completion is seen */
	submit2(s, in_len ? kva_to_pa(in) : 0, in_len, out_len ? kva_to_pa(out) : 0, out_len);
}

/* Wait until *flag is zero; completions (and their callbacks) are taken meanwhile, others run. */
void io_wait_zero(volatile int *flag)
{
	for (;;) {
		io_reap();
		if (!*flag)
			return;
		if (!sched_yield_other())
			io_wait();
	}
}

/* The same, but a signal for the caller cuts the wait short: -EINTR, and the request goes on. */
int io_wait_zero_intr(volatile int *flag)
{
	for (;;) {
		io_reap();
		if (!*flag)
			return 0;
		if (signal_pending())
			return -EINTR;
		if (!sched_yield_other())
			io_wait();
	}
}

/*
 * Submit a request that carries no data and wait for it; a signal ends the
 * wait (-EINTR) and the request is left to complete on its own. Only
 * io_sleep_ns's TIMEOUT is such a request.
 */
static int64_t io_sync(uint16_t op, uint32_t handle, uint64_t offset, uint64_t arg)
{
	struct io_slot *s = slot_get();
	s->req = (struct lbvm_io_req){ .op = op, .handle = handle, .offset = offset, .arg = arg };
	submit(s, 0, 0, 0);
	/* While this process waits for the host, the others run; the VMM is only waited for when none can. */
	for (;;) {
		io_reap();
		if (s->done)
			break;
		if (signal_pending()) {
			s->orphan = 1;
			return -EINTR;
		}
		if (!sched_yield_other())
			io_wait();
	}
	int64_t r = s->st.result;
	s->busy = 0;
	return r;
}

/* Room for len contiguous bytes in the pool (a buffer never wraps); waits for the VMM when full. */
static uint32_t pool_alloc(uint32_t len, uint32_t *waste)
{
	for (;;) {
		if (pool_used == 0)
			pool_head = pool_tail = 0;
		if (pool_used == 0 || (pool_head != pool_tail && pool_head > pool_tail)) {
			if (POOL_SIZE - pool_head >= len) {
				*waste = 0;
				break;
			}
			if (pool_tail >= len) {
				*waste = POOL_SIZE - pool_head;
				pool_head = 0;
				break;
			}
		} else if (pool_head < pool_tail && pool_tail - pool_head >= len) {
			*waste = 0;
			break;
		}
		io_wait();
		io_reap();
	}
	uint32_t off = pool_head;
	pool_head += len;
	pool_used += *waste + len;
	return off;
}

long io_write(uint32_t handle, const void *buf, size_t len)
{
	if (handle >= LBVM_STDIO_HANDLES)
		return -EBADF;
	if (write_error[handle])
		return (long)write_error[handle];
	size_t done = 0;
	while (done < len) {
		uint32_t chunk = len - done > 65536 ? 65536 : (uint32_t)(len - done);
		io_reap();
		struct io_slot *s = slot_get();
		uint32_t waste;
		uint32_t off = pool_alloc(chunk, &waste);
		memcpy(pool + off, (const uint8_t *)buf + done, chunk);
		s->pool_off = off;
		s->pool_len = chunk;
		s->pool_waste = waste;
		s->seq = next_seq++;
		s->req = (struct lbvm_io_req){ .op = LBVM_IO_WRITE, .handle = handle, .offset = LBVM_IO_STREAM };
		submit(s, kva_to_pa(pool + off), chunk, 0);
		done += chunk;
	}
	return (long)len;
}


long io_sleep_ns(uint64_t ns)
{
	if (ns == 0)
		return 0;
	return (long)io_sync(LBVM_IO_TIMEOUT, 0, 0, ns);
}

/* A timer that does not block: fn(arg) runs when the host says ns have passed. Returns a handle for io_timer_cancel. */
void *io_timer_start(uint64_t ns, void (*fn)(void *arg), void *arg)
{
	struct io_slot *s = slot_get();
	s->req = (struct lbvm_io_req){ .op = LBVM_IO_TIMEOUT, .arg = ns };
	s->done_fn = fn;
	s->done_arg = arg;
	submit(s, 0, 0, 0);
	return s;
}

/*
 * The host cannot take a timer back: forget its callback, and the slot is
 * freed when it fires. Only while its callback has not run: after that the
 * slot is free, and may already hold someone else's request.
 */
void io_timer_cancel(void *handle)
{
	struct io_slot *s = handle;
	if (s && s->busy && !s->done) {
		s->done_fn = NULL;
		s->orphan = 1;
	}
}

int io_pending(void)
{
	return inflight != 0;
}

void io_check(void)
{
	io_reap();
}

/*
 * Nothing can run: wait for the next completion, and take it (its callback
 * may wake someone). Completions already there are taken without halting:
 * their callbacks may have woken the caller (a host socket's connect, a
 * timer), or been the last in flight, and a halt then would wait for
 * nothing: the caller looks again first.
 */
void io_idle(void)
{
	if (io_reap())
		return;
	io_wait();
	io_reap();
}
