/* test_virtq.c: driver and device sides of the split virtqueue on one fake guest memory, including hostile guests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "virtio/virtq.h"

/* Guest-physical memory GPA 0..MEM_SIZE, the queue at QGPA, buffers from BUF. */
#define MEM_SIZE 0x40000ull
#define QGPA     0x1000ull
#define BUF      0x20000ull

static uint8_t mem[MEM_SIZE] __attribute__((aligned(4096)));

struct fakemem {
	uint8_t *base;
	uint64_t size;
	unsigned calls;
	void (*hook)(void); /* runs inside translate: a guest racing the device */
};
static struct fakemem gm;

static void *fake_translate(void *ctx, uint64_t gpa, uint64_t len)
{
	struct fakemem *m = ctx;
	m->calls++;
	/* written so that gpa + len never has to be computed, hence cannot wrap */
	if (gpa > m->size || len > m->size - gpa)
		return NULL;
	if (m->hook)
		m->hook();
	return m->base + gpa;
}

static struct virtq_driver drv;
static struct virtq_device dev;
static void *tokens[256];

static void *tok(unsigned i)
{
	return (void *)(uintptr_t)(0x1000 + i);
}

static int setup_size(uint32_t size)
{
	memset(mem, 0, sizeof(mem));
	memset(&drv, 0, sizeof(drv));
	memset(&dev, 0, sizeof(dev));
	memset(tokens, 0, sizeof(tokens));
	gm = (struct fakemem){ mem, MEM_SIZE, 0, NULL };
	if (virtq_drv_init(&drv, mem + QGPA, size, tokens))
		return -1;
	if (virtq_dev_init(&dev, QGPA, size, fake_translate, &gm))
		return -1;
	return 0;
}

static int setup256(void **state) { (void)state; return setup_size(256); }
static int setup16(void **state) { (void)state; return setup_size(16); }
static int setup2(void **state) { (void)state; return setup_size(2); }

static int add1(uint64_t gpa, uint32_t len, int w, void *token)
{
	struct virtq_buf b = { gpa, len, w };
	return virtq_drv_add(&drv, &b, 1, token);
}

/* Publish head as the next avail entry by hand, as a guest writing the ring directly would. */
static void publish_raw(uint16_t head)
{
	drv.avail->ring[drv.avail_idx % drv.size] = head;
	drv.avail_idx++;
	drv.avail->idx = drv.avail_idx;
}

static void expect_eio(void)
{
	struct virtq_elem e;
	uint16_t before = dev.last_avail;
	assert_int_equal(virtq_dev_pop(&dev, &e), -EIO);
	/* a rejected chain is not consumed */
	assert_int_equal(dev.last_avail, before);
}

/* ---- layout and init ---- */

static void test_layout(void **state)
{
	(void)state;
	struct virtq_layout l;
	assert_int_equal(virtq_layout(256, &l), 0);
	assert_int_equal(l.size, 256);
	assert_int_equal(l.desc_off, 0);
	assert_int_equal(l.avail_off, 4096);
	assert_int_equal(l.used_off, 8192);   /* avail ends at 4096 + 518 */
	assert_int_equal(l.total, 12288);     /* used ends at 8192 + 2054 */

	assert_int_equal(virtq_layout(1, &l), 0);
	assert_int_equal(l.avail_off, 16);
	assert_int_equal(l.used_off, 4096);
	assert_int_equal(l.total, 8192);

	assert_int_equal(virtq_layout(32768, &l), 0);
	assert_int_equal(l.avail_off, 524288);
	assert_int_equal(l.used_off, 593920);  /* 524288 + 65542 rounded up */
	assert_int_equal(l.total, 860160);     /* 593920 + 262150 rounded up */

	assert_int_equal(virtq_layout(0, &l), -EINVAL);
	assert_int_equal(virtq_layout(3, &l), -EINVAL);
	assert_int_equal(virtq_layout(255, &l), -EINVAL);
	assert_int_equal(virtq_layout(65536, &l), -EINVAL);
	assert_int_equal(virtq_layout(32769, &l), -EINVAL);
}

static void test_init_rejects(void **state)
{
	(void)state;
	struct virtq_driver d;
	struct virtq_device v;
	memset(mem, 0, sizeof(mem));
	gm = (struct fakemem){ mem, MEM_SIZE, 0, NULL };
	assert_int_equal(virtq_drv_init(&d, mem, 0, tokens), -EINVAL);
	assert_int_equal(virtq_drv_init(&d, mem, 3, tokens), -EINVAL);
	assert_int_equal(virtq_drv_init(&d, mem, 65536, tokens), -EINVAL);
	assert_int_equal(virtq_dev_init(&v, QGPA, 0, fake_translate, &gm), -EINVAL);
	assert_int_equal(virtq_dev_init(&v, QGPA, 3, fake_translate, &gm), -EINVAL);
	assert_int_equal(virtq_dev_init(&v, QGPA, 65536, fake_translate, &gm), -EINVAL);
	/* the area must fit in guest memory: 12 KiB at 8 KiB below the end does not */
	assert_int_equal(virtq_dev_init(&v, MEM_SIZE - 0x2000, 256, fake_translate, &gm), -EINVAL);
	assert_int_equal(virtq_dev_init(&v, UINT64_MAX - 0xfff, 256, fake_translate, &gm), -EINVAL);
	assert_int_equal(virtq_dev_init(&v, QGPA, 256, NULL, &gm), -EINVAL);
	/* the last fitting place works, and the whole area is translated in one call */
	gm.calls = 0;
	assert_int_equal(virtq_dev_init(&v, MEM_SIZE - 0x3000, 256, fake_translate, &gm), 0);
	assert_int_equal(gm.calls, 1);
	assert_ptr_equal(v.desc, mem + MEM_SIZE - 0x3000);
	assert_ptr_equal(v.used, mem + MEM_SIZE - 0x1000);
}

/* ---- normal operation ---- */

static void test_chain_roundtrip(void **state)
{
	(void)state;
	struct virtq_elem e;
	assert_int_equal(virtq_dev_pop(&dev, &e), 0);
	assert_false(virtq_dev_has_avail(&dev));

	struct virtq_buf b[3] = {
		{ BUF + 0x000, 24, 0 },
		{ BUF + 0x100, 100, 0 },
		{ BUF + 0x1000, 8, 1 },
	};
	assert_int_equal(virtq_drv_add(&drv, b, 3, tok(7)), 0);
	assert_int_equal(drv.num_free, 253);
	assert_true(virtq_dev_has_avail(&dev));
	assert_false(virtq_drv_has_used(&drv));

	assert_int_equal(virtq_dev_pop(&dev, &e), 1);
	assert_int_equal(e.n, 3);
	assert_ptr_equal(e.buf[0].host, mem + BUF);
	assert_int_equal(e.buf[0].len, 24);
	assert_false(e.buf[0].device_writable);
	assert_ptr_equal(e.buf[1].host, mem + BUF + 0x100);
	assert_int_equal(e.buf[1].len, 100);
	assert_false(e.buf[1].device_writable);
	assert_ptr_equal(e.buf[2].host, mem + BUF + 0x1000);
	assert_int_equal(e.buf[2].len, 8);
	assert_true(e.buf[2].device_writable);
	assert_false(virtq_dev_has_avail(&dev));
	assert_int_equal(virtq_dev_pop(&dev, &e), 0);

	/* the device writes through its host pointer; the driver sees it at the GPA */
	memcpy(e.buf[2].host, "response", 8);
	virtq_dev_push(&dev, e.head, 8);
	assert_true(virtq_drv_has_used(&drv));

	uint32_t len = 0;
	assert_ptr_equal(virtq_drv_get(&drv, &len), tok(7));
	assert_int_equal(len, 8);
	assert_memory_equal(mem + BUF + 0x1000, "response", 8);
	assert_int_equal(drv.num_free, 256);
	assert_false(virtq_drv_has_used(&drv));
	assert_null(virtq_drv_get(&drv, &len));
}

static void test_zero_length_buffer(void **state)
{
	(void)state;
	struct virtq_elem e;
	struct virtq_buf b[2] = { { BUF, 16, 0 }, { 0xdead0000ull, 0, 1 } };
	assert_int_equal(virtq_drv_add(&drv, b, 2, tok(1)), 0);
	/* an empty buffer has no address to check, so it is never translated */
	assert_int_equal(virtq_dev_pop(&dev, &e), 1);
	assert_int_equal(e.n, 2);
	assert_null(e.buf[1].host);
	assert_int_equal(e.buf[1].len, 0);
	assert_true(e.buf[1].device_writable);
}

static void test_fill_enospc(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 255; i++)
		assert_int_equal(add1(BUF + 16 * i, 16, i & 1, tok(i)), 0);
	assert_int_equal(drv.num_free, 1);
	struct virtq_buf b[2] = { { BUF, 16, 0 }, { BUF + 16, 16, 1 } };
	assert_int_equal(virtq_drv_add(&drv, b, 2, tok(999)), -ENOSPC);
	assert_int_equal(add1(BUF + 16 * 255, 16, 1, tok(255)), 0);
	assert_int_equal(drv.num_free, 0);
	assert_int_equal(add1(BUF, 16, 0, tok(256)), -ENOSPC);

	/* complete them in reverse order: the driver must follow ids, not ring order */
	struct virtq_elem e[256];
	for (unsigned i = 0; i < 256; i++) {
		assert_int_equal(virtq_dev_pop(&dev, &e[i]), 1);
		assert_ptr_equal(e[i].buf[0].host, mem + BUF + 16 * i);
		assert_int_equal(e[i].buf[0].device_writable, i & 1);
	}
	assert_int_equal(virtq_dev_pop(&dev, &e[0]), 0);
	for (unsigned i = 256; i-- > 0;)
		virtq_dev_push(&dev, e[i].head, i);
	for (unsigned i = 256; i-- > 0;) {
		uint32_t len;
		assert_ptr_equal(virtq_drv_get(&drv, &len), tok(i));
		assert_int_equal(len, i);
	}
	assert_null(virtq_drv_get(&drv, NULL));
	assert_int_equal(drv.num_free, 256);
	assert_int_equal(add1(BUF, 16, 0, tok(0)), 0);
}

static void test_add_einval(void **state)
{
	(void)state;
	struct virtq_buf b[2] = { { BUF, 16, 1 }, { BUF + 16, 16, 0 } };
	assert_int_equal(virtq_drv_add(&drv, b, 0, tok(0)), -EINVAL);
	assert_int_equal(virtq_drv_add(&drv, b, 2, tok(0)), -EINVAL);
	assert_int_equal(drv.num_free, 16);
	assert_false(virtq_dev_has_avail(&dev));
}

/* Indices are 16-bit and wrap; run past 65536 with chains of varying length. */
static void test_wraparound(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 70000; i++) {
		unsigned n = 1 + i % 5;
		struct virtq_buf b[5];
		for (unsigned j = 0; j < n; j++)
			b[j] = (struct virtq_buf){ BUF + 64 * j, 32 + j, j + 1 == n };
		assert_int_equal(virtq_drv_add(&drv, b, n, tok(i)), 0);
		/* keep a second chain in flight so ring slots and indices differ */
		if (i % 3 == 0)
			assert_int_equal(add1(BUF, 8, 0, tok(i + 1000000)), 0);
		struct virtq_elem e;
		while (virtq_dev_has_avail(&dev)) {
			assert_int_equal(virtq_dev_pop(&dev, &e), 1);
			virtq_dev_push(&dev, e.head, e.n);
		}
		void *t;
		uint32_t len;
		unsigned got = 0;
		while ((t = virtq_drv_get(&drv, &len))) {
			if (t == tok(i))
				assert_int_equal(len, n);
			else
				assert_ptr_equal(t, tok(i + 1000000));
			got++;
		}
		assert_int_equal(got, i % 3 == 0 ? 2 : 1);
		assert_int_equal(drv.num_free, 16);
	}
	assert_int_equal(dev.last_avail, drv.avail_idx);
	assert_int_equal((uint16_t)(70000 + 23334), drv.avail_idx);
}

/* The driver's free list: exactly num_free distinct in-range descriptors, none of them in flight. */
static void check_free_list(const uint8_t *in_flight)
{
	uint8_t seen[16] = { 0 };
	uint16_t i = drv.free_head;
	for (unsigned k = 0; k < drv.num_free; k++) {
		assert_true(i < 16);
		assert_false(seen[i]);
		assert_false(in_flight[i]);
		seen[i] = 1;
		i = drv.desc[i].next;
	}
}

/*
 * Random adds, pops and out-of-order completions against a model: every popped
 * chain must carry exactly the buffers added with its token, and completions
 * come back in push order. Freed descriptors that were relinked wrongly
 * would show up as another chain's buffers.
 */
static void test_random_model(void **state)
{
	(void)state;
	struct chain { unsigned n; uint8_t desc[4]; } chains[16];    /* by head: what the driver added */
	unsigned tok_n[1u << 16];
	uint8_t in_flight[16] = { 0 };
	struct virtq_elem popped[16];
	unsigned npopped = 0;
	uint16_t fifo[64];
	unsigned fifo_head = 0, fifo_tail = 0;
	unsigned next_tok = 0;
	uint32_t rng = 12345;

	for (unsigned step = 0; step < 40000; step++) {
		rng = rng * 1103515245u + 12345u;
		unsigned op = (rng >> 16) % 4, n = 1 + (rng >> 8) % 4;
		if (op == 0) {
			struct virtq_buf b[4];
			unsigned t = next_tok & 0xffff;
			for (unsigned j = 0; j < n; j++)
				b[j] = (struct virtq_buf){ BUF + 0x100 * (t % 256) + 16 * j, 1 + t % 7 + j, j + 1 == n && t % 2 };
			uint16_t head = drv.free_head, nfree = drv.num_free;
			int r = virtq_drv_add(&drv, b, n, tok(t));
			if (n > nfree) {
				assert_int_equal(r, -ENOSPC);
				continue;
			}
			assert_int_equal(r, 0);
			tok_n[t] = n;
			chains[head].n = n;
			for (unsigned j = 0, d = head; j < n; j++, d = drv.desc[d].next) {
				chains[head].desc[j] = (uint8_t)d;
				assert_false(in_flight[d]);
				in_flight[d] = 1;
			}
			next_tok++;
		} else if (op == 1) {
			while (virtq_dev_has_avail(&dev)) {
				struct virtq_elem *e = &popped[npopped++];
				assert_true(npopped <= 16);
				assert_int_equal(virtq_dev_pop(&dev, e), 1);
				unsigned t = (unsigned)((uintptr_t)tokens[e->head] - 0x1000);
				assert_int_equal(e->n, tok_n[t]);
				for (unsigned j = 0; j < e->n; j++) {
					assert_ptr_equal(e->buf[j].host, mem + BUF + 0x100 * (t % 256) + 16 * j);
					assert_int_equal(e->buf[j].len, 1 + t % 7 + j);
					assert_int_equal(e->buf[j].device_writable, j + 1 == e->n && t % 2);
				}
			}
		} else if (op == 2 && npopped) {
			unsigned k = (rng >> 4) % npopped;
			struct virtq_elem e = popped[k];
			popped[k] = popped[--npopped];
			/* the used length carries the token number, so the driver side can check it */
			virtq_dev_push(&dev, e.head, (uint32_t)((uintptr_t)tokens[e.head] - 0x1000));
			fifo[fifo_tail++ % 64] = e.head;
		} else if (op == 3) {
			void *t;
			uint32_t len;
			while ((t = virtq_drv_get(&drv, &len))) {
				assert_true(fifo_head != fifo_tail);
				uint16_t head = fifo[fifo_head++ % 64];
				assert_ptr_equal(t, tok(len));
				assert_int_equal(tok_n[len], chains[head].n);
				for (unsigned j = 0; j < chains[head].n; j++)
					in_flight[chains[head].desc[j]] = 0;
			}
			assert_int_equal(fifo_head, fifo_tail);
		}
		check_free_list(in_flight);
	}
	assert_true(next_tok > 5000);
}

/* ---- notification suppression (event index) ---- */

static void test_kick_suppression(void **state)
{
	(void)state;
	struct virtq_elem e;
	/* avail_event starts at 0: the first buffer needs a kick */
	assert_int_equal(add1(BUF, 8, 0, tok(0)), 0);
	assert_int_equal(virtq_drv_kick_prepare(&drv), 1);
	/* nothing new since the last kick */
	assert_int_equal(virtq_drv_kick_prepare(&drv), 0);

	/* the device is busy: it disabled kicks and avail_event stays behind */
	virtq_dev_set_notify(&dev, 0);
	assert_true(dev.used->flags & VIRTQ_USED_F_NO_NOTIFY);
	assert_int_equal(add1(BUF, 8, 0, tok(1)), 0);
	assert_int_equal(virtq_drv_kick_prepare(&drv), 0);
	assert_int_equal(add1(BUF, 8, 0, tok(2)), 0);
	assert_int_equal(virtq_drv_kick_prepare(&drv), 0);

	/* the device drains, re-enables, and sees nothing pending */
	for (int i = 0; i < 3; i++)
		assert_int_equal(virtq_dev_pop(&dev, &e), 1);
	virtq_dev_set_notify(&dev, 1);
	assert_false(dev.used->flags & VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_dev_has_avail(&dev));
	/* avail_event is the word right after used->ring[256]; the used ring starts at offset 8192 */
	uint16_t avail_event;
	memcpy(&avail_event, mem + QGPA + 8192 + 4 + 8 * 256, 2);
	assert_int_equal(avail_event, 3);

	/* now the next buffer needs a kick again, and only once */
	assert_int_equal(add1(BUF, 8, 0, tok(3)), 0);
	assert_int_equal(add1(BUF, 8, 0, tok(4)), 0);
	assert_int_equal(virtq_drv_kick_prepare(&drv), 1);
	assert_int_equal(add1(BUF, 8, 0, tok(5)), 0);
	assert_int_equal(virtq_drv_kick_prepare(&drv), 0);
}

static void test_used_notify(void **state)
{
	(void)state;
	struct virtq_elem e;
	for (int i = 0; i < 4; i++)
		assert_int_equal(add1(BUF, 8, 1, tok(i)), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(virtq_dev_pop(&dev, &e), 1);

	/* used_event 0 (zeroed): the first completion interrupts, later ones do not */
	virtq_dev_push(&dev, 0, 1);
	assert_int_equal(virtq_dev_should_notify(&dev), 1);
	virtq_dev_push(&dev, 1, 1);
	assert_int_equal(virtq_dev_should_notify(&dev), 0);

	/* the driver takes both and asks to be woken for the next one */
	assert_ptr_equal(virtq_drv_get(&drv, NULL), tok(0));
	assert_ptr_equal(virtq_drv_get(&drv, NULL), tok(1));
	virtq_drv_enable_cb(&drv);
	assert_false(virtq_drv_has_used(&drv));
	/* used_event is the word right after avail->ring[16], at a fixed guest address */
	uint16_t used_event;
	memcpy(&used_event, mem + QGPA + 16 * 16 + 4 + 2 * 16, 2);
	assert_int_equal(used_event, 2);
	virtq_dev_push(&dev, 2, 1);
	assert_int_equal(virtq_dev_should_notify(&dev), 1);
	virtq_dev_push(&dev, 3, 1);
	assert_int_equal(virtq_dev_should_notify(&dev), 0);
}

/* ---- hostile guests: every case is -EIO, never a crash or an out-of-range access ---- */

static void test_hostile_avail_idx(void **state)
{
	(void)state;
	drv.avail->idx = 17; /* size 16 */
	expect_eio();
	drv.avail->idx = 0xffff; /* "behind" the device reads as far ahead */
	expect_eio();
	/* exactly a full ring of valid heads is fine */
	for (uint16_t i = 0; i < 16; i++) {
		drv.desc[i] = (struct virtq_desc){ BUF, 8, 0, 0 };
		drv.avail->ring[i] = i;
	}
	drv.avail->idx = 16;
	struct virtq_elem e;
	for (int i = 0; i < 16; i++) {
		assert_int_equal(virtq_dev_pop(&dev, &e), 1);
		assert_int_equal(e.head, i);
	}
	assert_int_equal(virtq_dev_pop(&dev, &e), 0);
}

static void test_hostile_head(void **state)
{
	(void)state;
	assert_int_equal(add1(BUF, 8, 0, tok(0)), 0);
	drv.avail->ring[0] = 16;
	expect_eio();
	drv.avail->ring[0] = 0xffff;
	expect_eio();
}

static void test_hostile_next(void **state)
{
	(void)state;
	struct virtq_buf b[2] = { { BUF, 8, 0 }, { BUF + 8, 8, 1 } };
	assert_int_equal(virtq_drv_add(&drv, b, 2, tok(0)), 0);
	drv.desc[0].next = 16;
	expect_eio();
	drv.desc[0].next = 0xffff;
	expect_eio();
}

static void test_hostile_loop(void **state)
{
	(void)state;
	drv.desc[0] = (struct virtq_desc){ BUF, 8, VIRTQ_DESC_F_NEXT, 1 };
	drv.desc[1] = (struct virtq_desc){ BUF, 8, VIRTQ_DESC_F_NEXT, 0 };
	publish_raw(0);
	expect_eio();
	/* a descriptor pointing at itself */
	drv.desc[0].next = 0;
	expect_eio();
}

/* With 2 descriptors the ring size, not VIRTQ_MAX_CHAIN, is what ends the loop. */
static void test_hostile_loop_small(void **state)
{
	(void)state;
	drv.desc[0] = (struct virtq_desc){ BUF, 8, VIRTQ_DESC_F_NEXT, 1 };
	drv.desc[1] = (struct virtq_desc){ BUF, 8, VIRTQ_DESC_F_NEXT, 0 };
	publish_raw(1);
	expect_eio();
}

static void test_chain_length_limit(void **state)
{
	(void)state;
	struct virtq_buf b[VIRTQ_MAX_CHAIN + 1];
	for (unsigned i = 0; i <= VIRTQ_MAX_CHAIN; i++)
		b[i] = (struct virtq_buf){ BUF + 16 * i, 16, 0 };
	/* the longest allowed chain pops */
	assert_int_equal(virtq_drv_add(&drv, b, VIRTQ_MAX_CHAIN, tok(0)), 0);
	struct virtq_elem e;
	assert_int_equal(virtq_dev_pop(&dev, &e), 1);
	assert_int_equal(e.n, VIRTQ_MAX_CHAIN);
	assert_ptr_equal(e.buf[VIRTQ_MAX_CHAIN - 1].host, mem + BUF + 16 * (VIRTQ_MAX_CHAIN - 1));
	virtq_dev_push(&dev, e.head, 0);
	assert_ptr_equal(virtq_drv_get(&drv, NULL), tok(0));
	assert_int_equal(drv.num_free, 16);
	/* one more is refused (the driver itself does not know the limit) */
	assert_int_equal(virtq_drv_add(&drv, b, VIRTQ_MAX_CHAIN + 1, tok(1)), 0);
	expect_eio();
}

static void test_hostile_indirect(void **state)
{
	(void)state;
	assert_int_equal(add1(BUF, 16, 0, tok(0)), 0);
	drv.desc[0].flags |= VIRTQ_DESC_F_INDIRECT;
	expect_eio();
	/* also further down a chain */
	drv.desc[0].flags &= (uint16_t)~VIRTQ_DESC_F_INDIRECT;
	drv.desc[0].flags |= VIRTQ_DESC_F_NEXT;
	drv.desc[0].next = 5;
	drv.desc[5] = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0 };
	expect_eio();
}

static void test_hostile_order(void **state)
{
	(void)state;
	struct virtq_buf b[3] = { { BUF, 8, 0 }, { BUF + 8, 8, 0 }, { BUF + 16, 8, 1 } };
	assert_int_equal(virtq_drv_add(&drv, b, 3, tok(0)), 0);
	drv.desc[0].flags |= VIRTQ_DESC_F_WRITE; /* W, R, W */
	expect_eio();
}

static void test_hostile_address(void **state)
{
	(void)state;
	/* straddles the end of memory */
	assert_int_equal(add1(MEM_SIZE - 4, 16, 0, tok(0)), 0);
	expect_eio();
	drv.desc[0].addr = MEM_SIZE + 0x1000;
	expect_eio();
	/* the end of memory exactly is fine */
	drv.desc[0].addr = MEM_SIZE - 16;
	struct virtq_elem e;
	assert_int_equal(virtq_dev_pop(&dev, &e), 1);
	assert_ptr_equal(e.buf[0].host, mem + MEM_SIZE - 16);
	/* a bad buffer after a good one */
	struct virtq_buf b[2] = { { BUF, 8, 0 }, { MEM_SIZE, 1, 1 } };
	assert_int_equal(virtq_drv_add(&drv, b, 2, tok(1)), 0);
	expect_eio();
}

static void test_hostile_overflow(void **state)
{
	(void)state;
	/* a translate computing gpa + len would wrap to a small, "valid" address */
	assert_int_equal(add1(UINT64_MAX - 7, 16, 0, tok(0)), 0);
	expect_eio();
	drv.desc[0].addr = UINT64_MAX;
	drv.desc[0].len = UINT32_MAX;
	expect_eio();
}

/* The guest rewrites descriptors while the device validates them: the device must keep using its first copy. */
static void race_hook(void)
{
	drv.desc[0].next = 0xffff;
	drv.desc[0].len = UINT32_MAX;
	drv.desc[0].flags |= VIRTQ_DESC_F_INDIRECT;
	drv.desc[0].addr = UINT64_MAX;
	drv.avail->ring[0] = 0xffff;
}

static void test_hostile_race(void **state)
{
	(void)state;
	struct virtq_buf b[2] = { { BUF, 16, 0 }, { BUF + 0x100, 32, 1 } };
	assert_int_equal(virtq_drv_add(&drv, b, 2, tok(0)), 0);
	assert_int_equal(drv.desc[0].next, 1);
	gm.hook = race_hook;
	struct virtq_elem e;
	assert_int_equal(virtq_dev_pop(&dev, &e), 1);
	gm.hook = NULL;
	assert_int_equal(e.head, 0);
	assert_int_equal(e.n, 2);
	assert_ptr_equal(e.buf[0].host, mem + BUF);
	assert_int_equal(e.buf[0].len, 16);
	assert_ptr_equal(e.buf[1].host, mem + BUF + 0x100);
	assert_int_equal(e.buf[1].len, 32);
	assert_true(e.buf[1].device_writable);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test_setup(test_chain_roundtrip, setup256),
		cmocka_unit_test_setup(test_zero_length_buffer, setup256),
		cmocka_unit_test_setup(test_fill_enospc, setup256),
		cmocka_unit_test_setup(test_add_einval, setup16),
		cmocka_unit_test_setup(test_wraparound, setup16),
		cmocka_unit_test_setup(test_random_model, setup16),
		cmocka_unit_test_setup(test_kick_suppression, setup256),
		cmocka_unit_test_setup(test_used_notify, setup16),
		cmocka_unit_test_setup(test_hostile_avail_idx, setup16),
		cmocka_unit_test_setup(test_hostile_head, setup16),
		cmocka_unit_test_setup(test_hostile_next, setup16),
		cmocka_unit_test_setup(test_hostile_loop, setup16),
		cmocka_unit_test_setup(test_hostile_loop_small, setup2),
		cmocka_unit_test_setup(test_chain_length_limit, setup16),
		cmocka_unit_test_setup(test_hostile_indirect, setup16),
		cmocka_unit_test_setup(test_hostile_order, setup16),
		cmocka_unit_test_setup(test_hostile_address, setup16),
		cmocka_unit_test_setup(test_hostile_overflow, setup16),
		cmocka_unit_test_setup(test_hostile_race, setup16),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
