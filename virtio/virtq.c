/* virtq.c: the split virtqueue of virtq.h; driver side for the guest kernel, hostile-input-safe device side for the VMM. */
#include <stddef.h>
#include <stdint.h>

#include "virtq.h"

/* Built freestanding for the guest too, so no <errno.h>: Linux values, returned negated. */
#define VQ_EIO    5
#define VQ_EINVAL 22
#define VQ_ENOSPC 28

#define VQ_ALIGN 4096u

static uint64_t virtq_align_up(uint64_t x)
{
	return (x + VQ_ALIGN - 1) & ~(uint64_t)(VQ_ALIGN - 1);
}

static int virtq_size_ok(uint32_t size)
{
	return size != 0 && size <= 32768 && (size & (size - 1)) == 0;
}

int virtq_layout(uint32_t size, struct virtq_layout *out)
{
	if (!out || !virtq_size_ok(size))
		return -VQ_EINVAL;
	out->size = size;
	out->desc_off = 0;
	out->avail_off = out->desc_off + 16ull * size;
	/* +2 on both rings: the event-index word that follows each ring array */
	out->used_off = virtq_align_up(out->avail_off + 4 + 2ull * size + 2);
	out->total = virtq_align_up(out->used_off + 4 + 8ull * size + 2);
	return 0;
}

/* The event words sit past the ring arrays, where the flexible members end. */
static uint16_t *virtq_drv_used_event(struct virtq_driver *vq)
{
	return &vq->avail->ring[vq->size];
}

static uint16_t *virtq_drv_avail_event(struct virtq_driver *vq)
{
	return (uint16_t *)&vq->used->ring[vq->size];
}

static volatile uint16_t *virtq_dev_used_event(struct virtq_device *vq)
{
	return &vq->avail->ring[vq->size];
}

static volatile uint16_t *virtq_dev_avail_event(struct virtq_device *vq)
{
	return (volatile uint16_t *)&vq->used->ring[vq->size];
}

/* ---- driver ---- */

int virtq_drv_init(struct virtq_driver *vq, void *base, uint32_t size, void **tokens)
{
	struct virtq_layout l;
	if (!vq || !base || !tokens || ((uintptr_t)base & 15) || virtq_layout(size, &l))
		return -VQ_EINVAL;
	uint8_t *p = base;
	vq->desc = (struct virtq_desc *)(p + l.desc_off);
	vq->avail = (struct virtq_avail *)(p + l.avail_off);
	vq->used = (struct virtq_used *)(p + l.used_off);
	vq->size = size;
	/* tokens[] is left alone: an entry is only read after virtq_drv_add wrote it */
	vq->tokens = tokens;
	for (uint32_t i = 0; i + 1 < size; i++)
		vq->desc[i].next = (uint16_t)(i + 1);
	vq->free_head = 0;
	vq->num_free = (uint16_t)size;
	vq->avail_idx = 0;
	vq->last_used = 0;
	vq->kicked_idx = 0;
	return 0;
}

int virtq_drv_add(struct virtq_driver *vq, const struct virtq_buf *bufs, unsigned n, void *token)
{
	if (n == 0 || !bufs)
		return -VQ_EINVAL;
	for (unsigned i = 1; i < n; i++)
		if (bufs[i - 1].device_writable && !bufs[i].device_writable)
			return -VQ_EINVAL;
	if (n > vq->num_free)
		return -VQ_ENOSPC;

	uint16_t head = vq->free_head, idx = head;
	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *d = &vq->desc[idx];
		d->addr = bufs[i].gpa;
		d->len = bufs[i].len;
		d->flags = (uint16_t)((bufs[i].device_writable ? VIRTQ_DESC_F_WRITE : 0) |
				      (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		/* the free list already links these through .next, so the chain is ready-made */
		if (i + 1 < n)
			idx = d->next;
	}
	vq->free_head = vq->desc[idx].next;
	vq->num_free = (uint16_t)(vq->num_free - n);
	vq->tokens[head] = token;

	vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
	vq->avail_idx++;
	/* release: the device must see descriptors and ring slot before the new index */
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	return 0;
}

int virtq_drv_kick_prepare(struct virtq_driver *vq)
{
	/* order our avail->idx store before the avail_event load, or both sides may sleep */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t event = __atomic_load_n(virtq_drv_avail_event(vq), __ATOMIC_RELAXED);
	int kick = virtq_need_event(event, vq->avail_idx, vq->kicked_idx);
	vq->kicked_idx = vq->avail_idx;
	return kick;
}

void *virtq_drv_get(struct virtq_driver *vq, uint32_t *len)
{
	uint16_t used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	if (used_idx == vq->last_used)
		return NULL;
	/* the device is the VMM, which the guest trusts: id and the chain are not re-validated */
	struct virtq_used_elem *e = &vq->used->ring[vq->last_used & (vq->size - 1)];
	uint16_t head = (uint16_t)e->id, tail = head;
	uint32_t ulen = e->len;
	uint16_t count = 1;
	while (vq->desc[tail].flags & VIRTQ_DESC_F_NEXT) {
		tail = vq->desc[tail].next;
		count++;
	}
	vq->desc[tail].next = vq->free_head;
	vq->free_head = head;
	vq->num_free = (uint16_t)(vq->num_free + count);
	void *token = vq->tokens[head];
	vq->tokens[head] = NULL;
	vq->last_used++;
	if (len)
		*len = ulen;
	return token;
}

int virtq_drv_has_used(const struct virtq_driver *vq)
{
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != vq->last_used;
}

void virtq_drv_enable_cb(struct virtq_driver *vq)
{
	__atomic_store_n(virtq_drv_used_event(vq), vq->last_used, __ATOMIC_RELAXED);
	/* the caller re-checks has_used next; that load must not pass this store */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- device ---- */

int virtq_dev_init(struct virtq_device *vq, uint64_t queue_gpa, uint32_t size,
		   virtq_translate_fn translate, void *ctx)
{
	struct virtq_layout l;
	if (!vq || !translate || (queue_gpa & 15) || virtq_layout(size, &l))
		return -VQ_EINVAL;
	uint8_t *p = translate(ctx, queue_gpa, l.total);
	/* misaligned host memory would make the atomic index accesses undefined */
	if (!p || ((uintptr_t)p & 15))
		return -VQ_EINVAL;
	vq->desc = (volatile struct virtq_desc *)(p + l.desc_off);
	vq->avail = (volatile struct virtq_avail *)(p + l.avail_off);
	vq->used = (volatile struct virtq_used *)(p + l.used_off);
	vq->size = size;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->translate = translate;
	vq->ctx = ctx;
	return 0;
}

/*
 * The guest can rewrite any of this memory while we read it, so every shared
 * word is read exactly once into a local and only the local is checked and used.
 */
int virtq_dev_pop(struct virtq_device *vq, struct virtq_elem *out)
{
	uint16_t avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return -VQ_EIO;
	uint16_t head = __atomic_load_n(&vq->avail->ring[vq->last_avail & (vq->size - 1)], __ATOMIC_RELAXED);
	if (head >= vq->size)
		return -VQ_EIO;

	uint16_t idx = head;
	unsigned n = 0;
	int seen_writable = 0;
	for (;;) {
		/* bounding the walk by both limits is the loop detection: a cycle never ends the chain */
		if (n >= VIRTQ_MAX_CHAIN || n >= vq->size)
			return -VQ_EIO;
		volatile struct virtq_desc *src = &vq->desc[idx];
		struct virtq_desc d;
		d.addr = src->addr;
		d.len = src->len;
		d.flags = src->flags;
		d.next = src->next;

		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return -VQ_EIO;
		int writable = (d.flags & VIRTQ_DESC_F_WRITE) != 0;
		if (!writable && seen_writable)
			return -VQ_EIO;
		seen_writable |= writable;
		void *host = NULL;
		if (d.len) {
			host = vq->translate(vq->ctx, d.addr, d.len);
			if (!host)
				return -VQ_EIO;
		}
		out->buf[n].host = host;
		out->buf[n].len = d.len;
		out->buf[n].device_writable = writable;
		n++;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= vq->size)
			return -VQ_EIO;
		idx = d.next;
	}
	out->head = head;
	out->n = n;
	vq->last_avail++;
	return 1;
}

void virtq_dev_push(struct virtq_device *vq, uint16_t head, uint32_t len)
{
	volatile struct virtq_used_elem *e = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	e->id = head;
	e->len = len;
	vq->used_idx++;
	/* release: the driver must see the element before the index that exposes it */
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

int virtq_dev_should_notify(struct virtq_device *vq)
{
	/* order our used->idx store before the used_event load (pairs with enable_cb's fence) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* a lying guest only changes how often it gets interrupted */
	uint16_t event = __atomic_load_n(virtq_dev_used_event(vq), __ATOMIC_RELAXED);
	int notify = virtq_need_event(event, vq->used_idx, vq->signalled_used);
	vq->signalled_used = vq->used_idx;
	return notify;
}

/*
 * avail_event is only written on enable, so a device that leaves kicks on
 * must disable/enable around each drain (as iodev does), then re-check has_avail.
 */
void virtq_dev_set_notify(struct virtq_device *vq, int enable)
{
	uint16_t flags = __atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED);
	if (enable) {
		__atomic_store_n(&vq->used->flags, (uint16_t)(flags & ~VIRTQ_USED_F_NO_NOTIFY), __ATOMIC_RELAXED);
		__atomic_store_n(virtq_dev_avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
		/* the caller re-checks has_avail next; that load must not pass the store above */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	} else {
		__atomic_store_n(&vq->used->flags, (uint16_t)(flags | VIRTQ_USED_F_NO_NOTIFY), __ATOMIC_RELAXED);
		/* With event index the flag is ignored: an event index already passed asks for no doorbell. */
		__atomic_store_n(virtq_dev_avail_event(vq), (uint16_t)(vq->last_avail - 1), __ATOMIC_RELAXED);
	}
}

int virtq_dev_has_avail(const struct virtq_device *vq)
{
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}
