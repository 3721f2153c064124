/* iodev.h: the I/O device: the host side of the guest's request virtqueue, served with io_uring. */
#ifndef VMM_IODEV_H
#define VMM_IODEV_H

#include <stdint.h>
#include "virtio/virtq.h"

struct vm;
struct iodev;

/* Set up the queue over guest memory, the io_uring (restricted to our opcodes) and the doorbell. 0 or -errno. */
int iodev_create(struct vm *vm, struct iodev **out);
int iodev_start(struct iodev *io);          /* start the I/O thread */
void iodev_kick(struct iodev *io);          /* the doorbell, when it reached the VMM as a port exit */
/*
 * Stop the I/O thread (if started) and free the device: for tests and the
 * fuzzer, which make many. lbvm itself leaves this to process exit, since
 * the thread may sit in a stdin read.
 */
void iodev_destroy(struct iodev *io, int started);

/*
 * The vCPU halted: wait until the guest has a completion to see. Returns 0
 * to resume the guest, or -1 when the VM must end (the guest waits for
 * nothing, or sent a malformed request); the reason is in iodev_error().
 */
int iodev_wait_for_guest(struct iodev *io);
const char *iodev_error(struct iodev *io);

/*
 * The guest is leaving: wait until every write it queued has completed, so
 * its last output is written before lbvm exits. Reads of stdin and timers
 * still in flight (another process's) are abandoned. 0, or -1 if the queue
 * was broken.
 */
int iodev_quiesce(struct iodev *io);

/* Counters for --verbose and make bench. */
struct iodev_stats {
	uint64_t requests, kicks, writes, bytes_written, host_requests, net_requests;
};
void iodev_get_stats(struct iodev *io, struct iodev_stats *st);

#endif
