/* virtq.h: a virtio 1.x split virtqueue, driver side (guest) and device side (host). */
#ifndef LBVM_VIRTQ_H
#define LBVM_VIRTQ_H

#include <stddef.h>
#include <stdint.h>

/* ---- the layout of the virtio 1.x spec, section 2.7 ---- */

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4 /* not supported: the device refuses it */

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

struct virtq_desc {
	uint64_t addr;  /* guest-physical */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc");

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* then uint16_t used_event */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem");

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* then uint16_t avail_event */
};

/*
 * Where the three parts sit inside one contiguous queue area of `size`
 * descriptors (size a power of two, 1..32768): descriptor table at 0,
 * avail ring right after it, used ring at the next 4 KiB boundary.
 */
struct virtq_layout {
	uint32_t size;
	uint64_t desc_off, avail_off, used_off, total;
};
int virtq_layout(uint32_t size, struct virtq_layout *out); /* 0 or -EINVAL */

/* virtio's event-index test: should a notification be sent, given the old and new index? */
static inline int virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* ---- driver side: the guest kernel ---- */

struct virtq_buf {
	uint64_t gpa;
	uint32_t len;
	int device_writable;
};

struct virtq_driver {
	struct virtq_desc *desc;    /* pointers into the queue area, as the driver sees it */
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint32_t size;
	uint16_t free_head;         /* chain of free descriptors through .next */
	uint16_t num_free;
	uint16_t avail_idx;         /* driver's copy of avail->idx */
	uint16_t last_used;         /* next used entry to consume */
	uint16_t kicked_idx;        /* avail_idx at the last notification */
	void **tokens;              /* size entries, caller-provided: token of each chain head */
};

/* Initialise an already zeroed queue area at `base` (driver's pointer to it). */
int virtq_drv_init(struct virtq_driver *vq, void *base, uint32_t size, void **tokens);

/*
 * Add one chain of n buffers (device-readable ones first, then writable ones,
 * as virtio requires) and publish it in the avail ring. Returns 0, or -ENOSPC
 * when fewer than n descriptors are free, or -EINVAL for n == 0 or a readable
 * buffer after a writable one.
 */
int virtq_drv_add(struct virtq_driver *vq, const struct virtq_buf *bufs, unsigned n, void *token);

/* Does the device want a notification for what was added since the last kick? (event index) Records the kick. */
int virtq_drv_kick_prepare(struct virtq_driver *vq);

/* Take one used chain: returns its token and stores the used length; NULL when none. Frees its descriptors. */
void *virtq_drv_get(struct virtq_driver *vq, uint32_t *len);

/* Are there used entries not yet taken? */
int virtq_drv_has_used(const struct virtq_driver *vq);

/* Ask the device to notify when any used entry after the current ones appears (writes used_event). */
void virtq_drv_enable_cb(struct virtq_driver *vq);

/* ---- device side: the VMM ---- */

/*
 * Translate a guest-physical range to a host pointer, or NULL when any byte
 * of [gpa, gpa+len) is outside guest memory (or the length overflows).
 * The device calls nothing else to reach guest memory.
 */
typedef void *(*virtq_translate_fn)(void *ctx, uint64_t gpa, uint64_t len);

struct virtq_device {
	volatile struct virtq_desc *desc;  /* translated once at setup */
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	uint32_t size;
	uint16_t last_avail;   /* next avail entry to pop */
	uint16_t used_idx;     /* device's own copy of used->idx (never read back) */
	uint16_t signalled_used;
	virtq_translate_fn translate;
	void *ctx;
};

#define VIRTQ_MAX_CHAIN 8

/* One buffer of a popped chain, copied and validated: host pointer, length, direction. */
struct virtq_elem_buf {
	void *host;
	uint32_t len;
	int device_writable;
};

struct virtq_elem {
	uint16_t head;
	unsigned n;
	struct virtq_elem_buf buf[VIRTQ_MAX_CHAIN];
};

/*
 * Set up the device side over the queue area at queue_gpa (translated with
 * `translate`, so the whole area must lie in guest memory). 0 or -EINVAL.
 */
int virtq_dev_init(struct virtq_device *vq, uint64_t queue_gpa, uint32_t size,
		   virtq_translate_fn translate, void *ctx);

/*
 * Pop the next available chain. Every descriptor is copied out of guest
 * memory once, then checked: head and next indices in range, no loop, at
 * most VIRTQ_MAX_CHAIN buffers, no INDIRECT, readable before writable, each
 * buffer translated. Returns 1 with *out filled, 0 when the ring is empty,
 * -EIO when the guest put something malformed there (the caller ends the VM).
 */
int virtq_dev_pop(struct virtq_device *vq, struct virtq_elem *out);

/* Publish a used entry for chain `head` with `len` bytes written. */
void virtq_dev_push(struct virtq_device *vq, uint16_t head, uint32_t len);

/* After pushes: does the driver want a notification? (event index; the caller decides how to notify) */
int virtq_dev_should_notify(struct virtq_device *vq);

/* Suppress (0) or re-enable (1) driver kicks; re-enabling sets avail_event to last_avail. */
void virtq_dev_set_notify(struct virtq_device *vq, int enable);

/* Is anything available that has not been popped? */
int virtq_dev_has_avail(const struct virtq_device *vq);

#endif
