/* iodev.c: pops guest requests off the virtqueue, validates copies of them, and runs each as one io_uring operation. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "hypercall/lbvm_abi.h"
#include "hostfs.h"
#include "hostnet.h"
#include "iodev.h"
#include "log.h"
#include "vm.h"

#define TAG_KICK UINT64_MAX
#define TIMEOUT_MAX_NS (100ull * 365 * 24 * 3600 * 1000000000ull)

/*
 * One request in flight, indexed by its chain's head descriptor. The
 * virtqueue rules make a head unique while the device holds it; a guest
 * that breaks them is caught in start(), never trusted.
 */
struct ioreq {
	uint16_t op;
	int fd;
	uint8_t *data;               /* host pointer from the checked translation */
	uint32_t len, done;
	uint32_t eintr;              /* stdio: host reads and writes interrupted so far (each is issued again) */
	uint64_t offset;
	struct lbvm_io_status *status;
	struct __kernel_timespec ts;
	int host;                    /* a request on a mount: hostfs runs it */
	struct hostreq h;
	int net;                     /* a request on a host socket: hostnet runs it */
	struct netreq n;
};

struct iodev {
	struct vm *vm;
	struct virtq_device vq;
	struct io_uring ring;
	pthread_t thread;
	pthread_mutex_t lock;        /* the queue and the counters below */
	pthread_cond_t cond;         /* signalled on every completion, and on failure */
	int kick_fd;
	uint64_t kick_val;
	unsigned inflight;           /* heads held: popped and not yet pushed back */
	uint8_t held[LBVM_IOQ_SIZE];
	int failed;
	int stopping;                /* iodev_destroy: start nothing new; end once no mount request is in flight */
	char error[256];
	struct ioreq req[LBVM_IOQ_SIZE];
	/* Writes to stdout and stderr run one at a time, in the guest's order, so output never reorders. */
	uint16_t wq[LBVM_IOQ_SIZE];
	unsigned wq_head, wq_len;
	int write_busy;
	int polling;                 /* something happened: look at the rings a while before sleeping */
	struct iodev_stats stats;
};

static void *translate(void *ctx, uint64_t gpa, uint64_t len)
{
	struct iodev *io = ctx;
	return gm_translate(&io->vm->gm, gpa, len);
}

static void fail(struct iodev *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct iodev *io, const char *fmt, ...)
{
	if (io->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(io->error, sizeof(io->error), fmt, ap);
	va_end(ap);
	io->failed = 1;
	pthread_cond_broadcast(&io->cond);
}

static struct io_uring_sqe *sqe_get(struct iodev *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);
	if (!sqe) {
		io_uring_submit(&io->ring);
		sqe = io_uring_get_sqe(&io->ring);
	}
	return sqe;
}

/* The request is over: its status, the head back to the guest, and the head no longer held. */
static void complete(struct iodev *io, uint16_t head, int64_t result, uint32_t data_written)
{
	struct ioreq *r = &io->req[head];
	memcpy(r->status, &result, sizeof(result));
	virtq_dev_push(&io->vq, head, data_written + (uint32_t)sizeof(struct lbvm_io_status));
	io->held[head] = 0;
	io->inflight--;
	pthread_cond_broadcast(&io->cond);
}

static void submit_write(struct iodev *io)
{
	if (io->write_busy || !io->wq_len)
		return;
	uint16_t head = io->wq[io->wq_head];
	struct ioreq *r = &io->req[head];
	struct io_uring_sqe *sqe = sqe_get(io);
	io_uring_prep_write(sqe, r->fd, r->data + r->done, r->len - r->done, (uint64_t)-1);
	io_uring_sqe_set_data64(sqe, head);
	io->write_busy = 1;
}

/* Which buffers each mount operation takes: bit 0 an in-buffer, bit 1 an out-buffer. */
static const uint8_t host_bufs[LBVM_IO_OP_COUNT] = {
	[LBVM_IO_READ] = 2, [LBVM_IO_WRITE] = 1, [LBVM_IO_LOOKUP] = 3, [LBVM_IO_OPEN] = 3, [LBVM_IO_CLOSE] = 0,
	[LBVM_IO_GETATTR] = 2, [LBVM_IO_READDIR] = 2, [LBVM_IO_READLINK] = 2, [LBVM_IO_MKDIR] = 1,
	[LBVM_IO_UNLINK] = 1, [LBVM_IO_RENAME] = 1, [LBVM_IO_SYMLINK] = 1, [LBVM_IO_LINK] = 1,
	[LBVM_IO_SETATTR] = 1, [LBVM_IO_FSYNC] = 0, [LBVM_IO_FALLOCATE] = 0, [LBVM_IO_STATFS] = 2, [LBVM_IO_STATAT] = 3,
};

/* A request on a mount: its buffers must be what the operation takes; then hostfs checks the rest. */
static int64_t start_host(struct io_uring *ring, struct iodev *io, const struct virtq_elem *e,
			  const struct lbvm_io_req *q, struct ioreq *r)
{
	const struct virtq_elem_buf *in = NULL, *out = NULL;
	for (unsigned i = 1; i + 1 < e->n; i++) {
		const struct virtq_elem_buf *b = &e->buf[i];
		if (b->len == 0 || b->len > LBVM_IO_MAX_LEN)
			return -EINVAL;
		if (!b->device_writable && !in && !out)
			in = b;
		else if (b->device_writable && !out)
			out = b;
		else
			return -EINVAL;
	}
	if (!io->vm->hostfs || q->op >= LBVM_IO_OP_COUNT)
		return -ENOSYS;
	uint8_t want = host_bufs[q->op];
	if (!!(want & 1) != !!in || !!(want & 2) != !!out)
		return -EINVAL;
	r->host = 1;
	r->h.op = q->op;
	r->h.handle = q->handle;
	r->h.offset = q->offset;
	r->h.arg = q->arg;
	r->h.in = in ? in->host : NULL;
	r->h.inlen = in ? in->len : 0;
	r->h.out = out ? out->host : NULL;
	r->h.outlen = out ? out->len : 0;
	if (hostfs_start(io->vm->hostfs, ring, e->head, &r->h))
		return 1;
	return 0;
}

/* A request on a host socket: at most one in-buffer or one out-buffer; hostnet checks the rest. */
static int64_t start_net(struct iodev *io, const struct virtq_elem *e, const struct lbvm_io_req *q, struct ioreq *r)
{
	if (!io->vm->hostnet)
		return -ENOSYS;   /* --net none: no host socket, whatever the guest asks */
	if (e->n > 3)
		return -EINVAL;
	r->net = 1;
	r->n.op = q->op;
	r->n.handle = q->handle;
	r->n.arg = q->arg;
	if (e->n == 3) {
		const struct virtq_elem_buf *b = &e->buf[1];
		if (b->len == 0 || b->len > LBVM_IO_MAX_LEN)
			return -EINVAL;
		if (b->device_writable) {
			r->n.out = b->host;
			r->n.outlen = b->len;
		} else {
			r->n.in = b->host;
			r->n.inlen = b->len;
		}
	}
	if (hostnet_start(io->vm->hostnet, &io->ring, e->head, &r->n))
		return 1;
	return 0;
}

/* Check a popped chain against the ABI and start its operation. Bad content fails the request; a bad shape, the VM. */
static void start(struct iodev *io, const struct virtq_elem *e)
{
	struct lbvm_io_req q;
	const struct virtq_elem_buf *first = &e->buf[0], *last = &e->buf[e->n - 1];
	if (io->held[e->head]) {
		/* Its state, its io_uring operations and its buffers still belong to the first request. */
		fail(io, "guest posted descriptor head %u again while its request was still in flight "
			 "(a virtqueue rule broken)", e->head);
		return;
	}
	if (e->n < 2 || e->n > 4 || first->device_writable || first->len != sizeof(q) || !last->device_writable ||
	    last->len != sizeof(struct lbvm_io_status)) {
		fail(io, "guest sent a malformed I/O request (descriptor chain of %u buffers does not match the ABI)", e->n);
		return;
	}
	memcpy(&q, first->host, sizeof(q));  /* the one read of the request: all checks below use this copy */
	struct ioreq *r = &io->req[e->head];
	memset(r, 0, sizeof(*r));
	r->status = last->host;
	r->op = q.op;
	io->held[e->head] = 1;
	io->inflight++;
	io->stats.requests++;

	int64_t bad = 0;
	if (q.flags != 0)
		bad = -EINVAL;
	else if (q.op >= LBVM_IO_NET_SOCKET && q.op <= LBVM_IO_NET_RECVFROM) {
		io->stats.net_requests++;
		int64_t st = start_net(io, e, &q, r);
		if (st == 0)
			complete(io, e->head, r->n.result, r->n.written);
		else if (st < 0)
			complete(io, e->head, st, 0);
		return;
	} else if (q.op >= LBVM_IO_LOOKUP || ((q.op == LBVM_IO_READ || q.op == LBVM_IO_WRITE) && q.handle >= LBVM_H_FIRST_HOST)) {
		io->stats.host_requests++;
		int64_t st = start_host(&io->ring, io, e, &q, r);
		if (st == 0)
			complete(io, e->head, r->h.result, r->h.written);
		else if (st < 0)
			complete(io, e->head, st, 0);
		return;
	} else if (q.op == LBVM_IO_TIMEOUT) {
		if (e->n != 2 || q.arg > TIMEOUT_MAX_NS)
			bad = -EINVAL;
	} else if (q.op == LBVM_IO_READ || q.op == LBVM_IO_WRITE) {
		const struct virtq_elem_buf *d = &e->buf[1];
		if (e->n != 3 || d->len == 0 || d->len > LBVM_IO_MAX_LEN || d->device_writable != (q.op == LBVM_IO_READ))
			bad = -EINVAL;
		else if (q.handle >= LBVM_STDIO_HANDLES || (q.op == LBVM_IO_READ) != (q.handle == LBVM_H_STDIN))
			bad = -EBADF;
		else if (q.offset != LBVM_IO_STREAM)
			bad = -ESPIPE;
		r->data = d->host;
		r->len = d->len;
		r->fd = (int)q.handle;
	} else {
		bad = -ENOSYS;
	}
	if (bad) {
		complete(io, e->head, bad, 0);
		return;
	}

	struct io_uring_sqe *sqe;
	switch (q.op) {
	case LBVM_IO_READ:
		sqe = sqe_get(io);
		io_uring_prep_read(sqe, r->fd, r->data, r->len, (uint64_t)-1);
		io_uring_sqe_set_data64(sqe, e->head);
		break;
	case LBVM_IO_WRITE:
		io->stats.writes++;
		io->wq[(io->wq_head + io->wq_len) % LBVM_IOQ_SIZE] = e->head;
		io->wq_len++;
		submit_write(io);
		break;
	case LBVM_IO_TIMEOUT:
		r->ts.tv_sec = (int64_t)(q.arg / 1000000000ull);
		r->ts.tv_nsec = (long long)(q.arg % 1000000000ull);
		sqe = sqe_get(io);
		io_uring_prep_timeout(sqe, &r->ts, 0, 0);
		io_uring_sqe_set_data64(sqe, e->head);
		break;
	}
}

/*
 * A blocking read or write of lbvm's stdio can end with EINTR without
 * anything having happened: io_uring's worker saw a notification, and a
 * terminal's read or write then gives up (-ERESTARTSYS) where a system call
 * would have restarted. Issue it again rather than tell the guest; a bound
 * keeps a host that interrupts it forever from spinning here.
 */
#define EINTR_RETRIES 1000

static int retry_eintr(struct ioreq *r, int res)
{
	return res == -EINTR && r->eintr++ < EINTR_RETRIES;
}

static void finish(struct iodev *io, uint16_t head, int res)
{
	struct ioreq *r = &io->req[head];
	if (!io->held[head]) {
		/* Cannot happen while heads are checked in start(); if it did, the result belongs to no request. */
		fail(io, "internal error: an I/O completion for descriptor head %u, which no request holds", head);
		return;
	}
	if (r->host) {
		if (!hostfs_step(io->vm->hostfs, &io->ring, head, &r->h, res))
			complete(io, head, r->h.result, r->h.written);
		return;
	}
	if (r->net) {
		if (!hostnet_step(io->vm->hostnet, &io->ring, head, &r->n, res))
			complete(io, head, r->n.result, r->n.written);
		return;
	}
	switch (r->op) {
	case LBVM_IO_READ:
		if (retry_eintr(r, res)) {
			struct io_uring_sqe *sqe = sqe_get(io);
			io_uring_prep_read(sqe, r->fd, r->data, r->len, (uint64_t)-1);
			io_uring_sqe_set_data64(sqe, head);
			break;
		}
		complete(io, head, res, res > 0 ? (uint32_t)res : 0);
		break;
	case LBVM_IO_TIMEOUT:
		complete(io, head, res == -ETIME ? 0 : res, 0);
		break;
	case LBVM_IO_WRITE:
		io->write_busy = 0;
		if (retry_eintr(r, res)) {
			submit_write(io); /* the same write, from where it got to */
			break;
		}
		if (res <= 0)
			log_debug("write to %s: %s", r->fd == 1 ? "stdout" : "stderr", res < 0 ? strerror(-res) : "wrote nothing");
		if (res > 0) {
			r->done += (uint32_t)res;
			io->stats.bytes_written += (uint64_t)res;
			if (r->done < r->len) { /* a short write to a pipe or terminal: send the rest */
				submit_write(io);
				return;
			}
		}
		io->wq_head = (io->wq_head + 1) % LBVM_IOQ_SIZE;
		io->wq_len--;
		complete(io, head, res < 0 ? res : (int64_t)r->len, 0);
		submit_write(io);
		break;
	}
}

/*
 * Start what is on the avail ring; with notify_after, ask for doorbells again
 * and look once more. At most one queue's worth a call: a guest that keeps
 * refilling the ring with requests that fail at once must not keep the
 * thread from reaping completions. Returns 1 when it stopped there, with
 * requests left (the caller comes back after reaping).
 */
static int drain_ring(struct iodev *io, int notify_after)
{
	unsigned budget = io->stopping ? 0 : LBVM_IOQ_SIZE;
	for (;;) {
		virtq_dev_set_notify(&io->vq, 0);
		struct virtq_elem e;
		int r;
		while (!io->failed && budget && (r = virtq_dev_pop(&io->vq, &e)) != 0) {
			if (r < 0) {
				fail(io, "guest put a malformed descriptor chain on the I/O queue");
				return 0;
			}
			budget--;
			start(io, &e);
		}
		if (io->failed)
			return 0;
		if (!budget)
			return virtq_dev_has_avail(&io->vq);
		if (!notify_after)
			return 0;
		virtq_dev_set_notify(&io->vq, 1);
		if (!virtq_dev_has_avail(&io->vq))
			return 0;
	}
}

static void drain(struct iodev *io)
{
	if (drain_ring(io, 1))
		io->polling = 1;
}

static void arm_kick(struct iodev *io)
{
	struct io_uring_sqe *sqe = sqe_get(io);
	io_uring_prep_read(sqe, io->kick_fd, &io->kick_val, sizeof(io->kick_val), 0);
	io_uring_sqe_set_data64(sqe, TAG_KICK);
}

/*
 * After any activity the I/O thread keeps looking at the rings for a short
 * while (notifications off) before it sleeps: a guest working through many
 * small mount requests then needs no doorbell exit for each, and requests
 * that io_uring completes inline are answered at once.
 */
#define POLL_NS 50000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A mount request in flight has the kernel writing into this device's memory
 * (statx results, names): the device may be freed only when none is left.
 * So may a host socket being made or closed: cancelled, its descriptor would
 * be lost to the socket table that closes the rest. Stdin reads, timers and
 * the other socket requests (a receive may wait for ever) are cancelled.
 */
static int host_busy(const struct iodev *io)
{
	for (unsigned i = 0; i < LBVM_IOQ_SIZE; i++) {
		const struct ioreq *r = &io->req[i];
		if (io->held[i] && (r->host || (r->net && (r->n.op == LBVM_IO_NET_SOCKET || r->n.op == LBVM_IO_NET_CLOSE))))
			return 1;
	}
	return 0;
}

static void *io_thread(void *arg)
{
	struct iodev *io = arg;
	pthread_mutex_lock(&io->lock);
	arm_kick(io);
	drain(io);
	for (;;) {
		if (io->polling) {
			/* Recent activity: doorbells off, and look at both rings for a while. */
			virtq_dev_set_notify(&io->vq, 0);
			pthread_mutex_unlock(&io->lock);
			io_uring_submit(&io->ring);
			uint64_t end = mono_ns() + POLL_NS;
			while (!io_uring_cq_ready(&io->ring) && !virtq_dev_has_avail(&io->vq) && mono_ns() < end)
				__builtin_ia32_pause();
			pthread_mutex_lock(&io->lock);
			io->polling = 0;
			if (virtq_dev_has_avail(&io->vq)) {
				drain_ring(io, 0); /* taken without a doorbell */
				io->polling = 1;
			}
			if (!io->polling && !io_uring_cq_ready(&io->ring)) {
				/* Going to sleep: doorbells on again, and one more look. */
				virtq_dev_set_notify(&io->vq, 1);
				if (virtq_dev_has_avail(&io->vq)) {
					drain(io);
					io->polling = 1;
				}
			}
		}
		int sleep = !io->polling && !io_uring_cq_ready(&io->ring);
		pthread_mutex_unlock(&io->lock);
		struct io_uring_cqe *cqe;
		int err = sleep ? io_uring_submit_and_wait(&io->ring, 1) : io_uring_submit(&io->ring);
		pthread_mutex_lock(&io->lock);
		if (err < 0 && err != -EINTR) {
			fail(io, "io_uring_submit_and_wait: %s", strerror(-err));
			break;
		}
		unsigned head, n = 0;
		io_uring_for_each_cqe(&io->ring, head, cqe) {
			uint64_t tag = io_uring_cqe_get_data64(cqe);
			if (tag == TAG_KICK) {
				io->stats.kicks++;
				arm_kick(io);
				drain(io);
				io->polling = 1;
			} else if (tag < LBVM_IOQ_SIZE) {
				finish(io, (uint16_t)tag, cqe->res);
				io->polling = 1;
			}
			n++;
		}
		io_uring_cq_advance(&io->ring, n);
		/* A failed VM starts nothing more either; what the kernel still runs for it finishes first. */
		if ((io->failed || io->stopping) && !host_busy(io))
			break;
	}
	pthread_mutex_unlock(&io->lock);
	return NULL;
}

/*
 * Only the opcodes of the I/O ABI may ever run on this ring, whatever the
 * guest manages to ask for: READ, WRITE and TIMEOUT, with --mount the
 * file-system ones hostfs uses, and with --net the socket ones of hostnet
 * (never without: under --net none the ring cannot make a socket at all).
 */
static int restrict_ring(struct io_uring *ring, int with_mounts, int with_net)
{
	static const uint8_t base[] = { IORING_OP_READ, IORING_OP_WRITE, IORING_OP_TIMEOUT };
	uint8_t ops[32];
	unsigned n = 0;
	for (unsigned i = 0; i < sizeof(base); i++)
		ops[n++] = base[i];
	if (with_mounts)
		for (unsigned i = 0; i < hostfs_uring_nops; i++)
			ops[n++] = hostfs_uring_ops[i];
	if (with_net)
		for (unsigned i = 0; i < hostnet_uring_nops; i++)
			ops[n++] = hostnet_uring_ops[i];
	struct io_uring_restriction res[32];
	memset(res, 0, sizeof(res));
	for (unsigned i = 0; i < n; i++) {
		res[i].opcode = IORING_RESTRICTION_SQE_OP;
		res[i].sqe_op = ops[i];
	}
	/* Debian's liburing declares these helpers but does not export them: call the kernel directly. */
	if (syscall(__NR_io_uring_register, ring->ring_fd, IORING_REGISTER_RESTRICTIONS, res, n) < 0)
		return -errno;
	if (syscall(__NR_io_uring_register, ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
		return -errno;
	return 0;
}

int iodev_create(struct vm *vm, struct iodev **out)
{
	struct iodev *io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->vm = vm;
	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->cond, NULL);
	int err = virtq_dev_init(&io->vq, LBVM_GPA_IOQ, LBVM_IOQ_SIZE, translate, io);
	if (err) {
		log_err("I/O queue: cannot place %u descriptors at GPA %#llx", LBVM_IOQ_SIZE, (unsigned long long)LBVM_GPA_IOQ);
		free(io);
		return err;
	}
	err = io_uring_queue_init(2 * LBVM_IOQ_SIZE, &io->ring, IORING_SETUP_R_DISABLED);
	if (err < 0) {
		log_err("io_uring_queue_init: %s (is io_uring disabled? check sysctl kernel.io_uring_disabled)", strerror(-err));
		free(io);
		return err;
	}
	err = restrict_ring(&io->ring, vm->hostfs != NULL, vm->hostnet != NULL);
	if (err < 0) {
		log_err("io_uring restrictions: %s", strerror(-err));
		io_uring_queue_exit(&io->ring);
		free(io);
		return err;
	}
	io->kick_fd = eventfd(0, EFD_CLOEXEC);
	if (io->kick_fd < 0) {
		err = -errno;
		io_uring_queue_exit(&io->ring);
		free(io);
		return err;
	}
	/*
	 * The doorbell reaches us as a port exit, and the vCPU thread passes it on
	 * through kick_fd. A KVM_IOEVENTFD would skip that exit (~65 us vs ~20 us),
	 * but measured here it adds 12-15 ms to VM teardown (KVM waits for SRCU
	 * readers when the VM goes), which is more than the doorbells of a whole
	 * short run; event-index suppression keeps doorbells rare when output is heavy.
	 */
	*out = io;
	return 0;
}

int iodev_start(struct iodev *io)
{
	int err = pthread_create(&io->thread, NULL, io_thread, io);
	if (err) {
		log_err("cannot start the I/O thread: %s", strerror(err));
		return -err;
	}
	return 0;
}

void iodev_destroy(struct iodev *io, int started)
{
	if (started) {
		pthread_mutex_lock(&io->lock);
		io->stopping = 1;
		pthread_mutex_unlock(&io->lock);
		iodev_kick(io);
		pthread_join(io->thread, NULL);
	}
	io_uring_queue_exit(&io->ring); /* cancels what is still in flight: reads, timers, mount requests */
	close(io->kick_fd);
	pthread_cond_destroy(&io->cond);
	pthread_mutex_destroy(&io->lock);
	free(io);
}

void iodev_kick(struct iodev *io)
{
	uint64_t one = 1;
	if (write(io->kick_fd, &one, sizeof(one)) < 0)
		log_debug("doorbell eventfd: %s", strerror(errno));
}

int iodev_wait_for_guest(struct iodev *io)
{
	const volatile uint16_t *used_event = &io->vq.avail->ring[io->vq.size];
	int ret = 0;
	pthread_mutex_lock(&io->lock);
	for (;;) {
		if (io->failed) {
			ret = -1;
			break;
		}
		if (io->vq.used_idx != *used_event)
			break; /* the guest has completions it has not taken */
		if (io->inflight == 0 && !virtq_dev_has_avail(&io->vq)) {
			fail(io, "guest halted with no I/O in flight: it would wait forever");
			ret = -1;
			break;
		}
		if (virtq_dev_has_avail(&io->vq))
			iodev_kick(io); /* queued without a doorbell: make sure the I/O thread looks */
		pthread_cond_wait(&io->cond, &io->lock);
	}
	pthread_mutex_unlock(&io->lock);
	return ret;
}

int iodev_quiesce(struct iodev *io)
{
	pthread_mutex_lock(&io->lock);
	/* Writes, not reads or timers: a stdin read or a sleep of another process may never end. */
	while (!io->failed && (io->wq_len || virtq_dev_has_avail(&io->vq))) {
		if (virtq_dev_has_avail(&io->vq))
			iodev_kick(io);
		pthread_cond_wait(&io->cond, &io->lock);
	}
	int ret = io->failed ? -1 : 0;
	pthread_mutex_unlock(&io->lock);
	return ret;
}

const char *iodev_error(struct iodev *io)
{
	return io->error;
}

void iodev_get_stats(struct iodev *io, struct iodev_stats *st)
{
	pthread_mutex_lock(&io->lock);
	*st = io->stats;
	pthread_mutex_unlock(&io->lock);
}
