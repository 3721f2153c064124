/* virtq.c: the split virtqueue of virtio 1.x, driver and device sides; the device side treats the ring as hostile. */
#include <stddef.h>
#include <stdint.h>
#include "virtq.h"

#define VQ_EIO    5
#define VQ_ENOSPC 28
#define VQ_EINVAL 22

int virtq_layout(uint32_t size, struct virtq_layout *out)
{
	if (size == 0 || size > 32768 || (size & (size - 1)))
		return -VQ_EINVAL;
	out->size = size;
	out->desc_off = 0;
	out->avail_off = 16ull * size;
	uint64_t avail_end = out->avail_off + 4 + 2ull * size + 2;
	out->used_off = (avail_end + 4095) & ~4095ull;
	uint64_t used_end = out->used_off + 4 + 8ull * size + 2;
	out->total = (used_end + 4095) & ~4095ull;
	return 0;
}

/* ---- driver ---- */

static volatile uint16_t *drv_used_event(struct virtq_driver *vq)
{
	return &vq->avail->ring[vq->size];
}

static volatile uint16_t *drv_avail_event(struct virtq_driver *vq)
{
	return (volatile uint16_t *)&vq->used->ring[vq->size];
}

int virtq_drv_init(struct virtq_driver *vq, void *base, uint32_t size, void **tokens)
{
	struct virtq_layout l;
	if (virtq_layout(size, &l))
		return -VQ_EINVAL;
	uint8_t *b = base;
	vq->desc = (struct virtq_desc *)(b + l.desc_off);
	vq->avail = (struct virtq_avail *)(b + l.avail_off);
	vq->used = (struct virtq_used *)(b + l.used_off);
	vq->size = size;
	vq->tokens = tokens;
	for (uint32_t i = 0; i < size; i++) {
		vq->desc[i].next = (uint16_t)(i + 1 < size ? i + 1 : 0);
		tokens[i] = NULL;
	}
	vq->free_head = 0;
	vq->num_free = (uint16_t)(size > 0xffff ? 0xffff : size);
	vq->avail_idx = vq->last_used = vq->kicked_idx = 0;
	return 0;
}

int virtq_drv_add(struct virtq_driver *vq, const struct virtq_buf *bufs, unsigned n, void *token)
{
	if (n == 0 || n > vq->size)
		return -VQ_EINVAL;
	for (unsigned i = 1; i < n; i++)
		if (bufs[i - 1].device_writable && !bufs[i].device_writable)
			return -VQ_EINVAL;
	if (vq->num_free < n)
		return -VQ_ENOSPC;
	uint16_t head = vq->free_head, d = head;
	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *desc = &vq->desc[d];
		desc->addr = bufs[i].gpa;
		desc->len = bufs[i].len;
		desc->flags = (uint16_t)((bufs[i].device_writable ? VIRTQ_DESC_F_WRITE : 0) |
					 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		if (i + 1 < n)
			d = desc->next;
	}
	vq->free_head = vq->desc[d].next;
	vq->num_free = (uint16_t)(vq->num_free - n);
	vq->tokens[head] = token;
	vq->avail->ring[vq->avail_idx % vq->size] = head;
	vq->avail_idx++;
	/* The descriptors and ring slot must be visible before the index that publishes them. */
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	return 0;
}

int virtq_drv_kick_prepare(struct virtq_driver *vq)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t event = __atomic_load_n(drv_avail_event(vq), __ATOMIC_ACQUIRE);
	int kick = virtq_need_event(event, vq->avail_idx, vq->kicked_idx);
	vq->kicked_idx = vq->avail_idx;
	return kick;
}

int virtq_drv_has_used(const struct virtq_driver *vq)
{
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != vq->last_used;
}

void *virtq_drv_get(struct virtq_driver *vq, uint32_t *len)
{
	if (!virtq_drv_has_used(vq))
		return NULL;
	volatile struct virtq_used_elem *e = &vq->used->ring[vq->last_used % vq->size];
	uint16_t head = (uint16_t)(e->id % vq->size);
	if (len)
		*len = e->len;
	vq->last_used++;
	/* Return the chain to the free list: the driver's own descriptors say how long it was. */
	uint16_t d = head;
	unsigned n = 1;
	while ((vq->desc[d].flags & VIRTQ_DESC_F_NEXT) && n < vq->size) {
		d = vq->desc[d].next;
		n++;
	}
	vq->desc[d].next = vq->free_head;
	vq->free_head = head;
	vq->num_free = (uint16_t)(vq->num_free + n);
	void *token = vq->tokens[head];
	vq->tokens[head] = NULL;
	return token;
}

void virtq_drv_enable_cb(struct virtq_driver *vq)
{
	__atomic_store_n(drv_used_event(vq), vq->last_used, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- device ---- */

static volatile uint16_t *dev_used_event(struct virtq_device *vq)
{
	return &vq->avail->ring[vq->size];
}

static volatile uint16_t *dev_avail_event(struct virtq_device *vq)
{
	return (volatile uint16_t *)&vq->used->ring[vq->size];
}

int virtq_dev_init(struct virtq_device *vq, uint64_t queue_gpa, uint32_t size,
		   virtq_translate_fn translate, void *ctx)
{
	struct virtq_layout l;
	if (virtq_layout(size, &l) || !translate)
		return -VQ_EINVAL;
	uint8_t *b = translate(ctx, queue_gpa, l.total);
	if (!b)
		return -VQ_EINVAL;
	vq->desc = (volatile struct virtq_desc *)(b + l.desc_off);
	vq->avail = (volatile struct virtq_avail *)(b + l.avail_off);
	vq->used = (volatile struct virtq_used *)(b + l.used_off);
	vq->size = size;
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
	vq->translate = translate;
	vq->ctx = ctx;
	return 0;
}

int virtq_dev_has_avail(const struct virtq_device *vq)
{
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}

int virtq_dev_pop(struct virtq_device *vq, struct virtq_elem *out)
{
	uint16_t avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return -VQ_EIO;
	uint16_t head = vq->avail->ring[vq->last_avail % vq->size];
	if (head >= vq->size)
		return -VQ_EIO;
	uint16_t d = head;
	unsigned n = 0;
	int seen_writable = 0;
	for (;;) {
		if (n >= VIRTQ_MAX_CHAIN || n >= vq->size)
			return -VQ_EIO;  /* too long, or a loop */
		struct virtq_desc copy;  /* read once, then only the copy is trusted */
		copy.addr = vq->desc[d].addr;
		copy.len = vq->desc[d].len;
		copy.flags = vq->desc[d].flags;
		copy.next = vq->desc[d].next;
		if (copy.flags & VIRTQ_DESC_F_INDIRECT)
			return -VQ_EIO;
		int writable = (copy.flags & VIRTQ_DESC_F_WRITE) != 0;
		if (seen_writable && !writable)
			return -VQ_EIO;
		seen_writable |= writable;
		void *host = NULL;
		if (copy.len) {
			host = vq->translate(vq->ctx, copy.addr, copy.len);
			if (!host)
				return -VQ_EIO;
		}
		out->buf[n].host = host;
		out->buf[n].len = copy.len;
		out->buf[n].device_writable = writable;
		n++;
		if (!(copy.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (copy.next >= vq->size)
			return -VQ_EIO;
		d = copy.next;
	}
	out->head = head;
	out->n = n;
	vq->last_avail++;
	return 1;
}

void virtq_dev_push(struct virtq_device *vq, uint16_t head, uint32_t len)
{
	volatile struct virtq_used_elem *e = &vq->used->ring[vq->used_idx % vq->size];
	e->id = head;
	e->len = len;
	vq->used_idx++;
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

int virtq_dev_should_notify(struct virtq_device *vq)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t event = *dev_used_event(vq);
	int notify = virtq_need_event(event, vq->used_idx, vq->signalled_used);
	vq->signalled_used = vq->used_idx;
	return notify;
}

void virtq_dev_set_notify(struct virtq_device *vq, int enable)
{
	if (enable) {
		vq->used->flags = (uint16_t)(vq->used->flags & ~VIRTQ_USED_F_NO_NOTIFY);
		__atomic_store_n(dev_avail_event(vq), vq->last_avail, __ATOMIC_RELEASE);
	} else {
		vq->used->flags = (uint16_t)(vq->used->flags | VIRTQ_USED_F_NO_NOTIFY);
		/* With event index the driver reads avail_event, not the flag: park it behind us. */
		__atomic_store_n(dev_avail_event(vq), (uint16_t)(vq->last_avail - 1), __ATOMIC_RELEASE);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
