#define _GNU_SOURCE
/*
 * test_hostile.c: the I/O device's queue attacked directly, as a guest that took over our kernel would:
 * raw descriptors, avail entries and indices written by hand over a fake guest memory, against the
 * real iodev, hostfs and io_uring (harness in hostile.c). Heads posted again while held, malformed
 * chains, descriptors rewritten under the device, floods. A fresh device per test, each in its own
 * process: a crash or a hang fails that test.
 */
#include "tests/unit/hostile.h"

static void repost_held_timeout(void **state)
{
	(void)state;
	dev_up();
	uint64_t ro = tree_sig(dir_ro), rw = tree_sig(dir_rw);
	struct lbvm_io_req q = { .op = LBVM_IO_TIMEOUT, .arg = 10000000000ull };
	memcpy(gp(SLOT_REQ(9)), &q, sizeof(q));
	set_desc(37, SLOT_REQ(9), 24, VIRTQ_DESC_F_NEXT, 38);
	set_desc(38, SLOT_ST(9), 8, VIRTQ_DESC_F_WRITE, 0);
	post(37);
	iodev_kick(io);
	usleep(30000); /* the device took it: a 10 s sleep is in flight */
	assert_false(vm_failed());
	uint16_t since = used_now();
	post(37);
	iodev_kick(io);
	expect_posted_again(37);
	assert_false(used_has(since, 37, NULL));
	assert_true(tree_sig(dir_ro) == ro && tree_sig(dir_rw) == rw);
}

/* A mount request posted twice in one batch: the second pop comes while the first is surely held. */
static void repost_held_mount_request(void **state)
{
	(void)state;
	dev_up();
	uint64_t ro = tree_sig(dir_ro), rw = tree_sig(dir_rw);
	uint16_t head = slot_build(11, LBVM_IO_LOOKUP, root_ro, 0, 0, "sub", 3, sizeof(struct lbvm_io_attr));
	post(head);
	post(head);
	iodev_kick(io);
	expect_posted_again(head);
	assert_true(tree_sig(dir_ro) == ro && tree_sig(dir_rw) == rw);
}

/* A mount request whose first instance is a long TIMEOUT: same head, another request. */
static void repost_held_timeout_as_mount_request(void **state)
{
	(void)state;
	dev_up();
	uint64_t ro = tree_sig(dir_ro), rw = tree_sig(dir_rw);
	uint16_t head = slot_build(12, LBVM_IO_TIMEOUT, 0, 0, 10000000000ull, NULL, 0, 0);
	post(head);
	iodev_kick(io);
	usleep(30000);
	slot_build(12, LBVM_IO_MKDIR, root_ro, 0, 0755, "made", 4, 0);
	post(head);
	iodev_kick(io);
	expect_posted_again(head);
	assert_true(tree_sig(dir_ro) == ro && tree_sig(dir_rw) == rw);
}

static void repost_held_stdin_read(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	stdin_saved = dup(0);
	dup2(p[0], 0);
	close(p[0]);
	dev_up();
	uint16_t head = slot_build(13, LBVM_IO_READ, LBVM_H_STDIN, LBVM_IO_STREAM, 0, NULL, 0, 64);
	post(head);
	iodev_kick(io);
	usleep(30000); /* a read of an empty pipe is in flight */
	uint16_t since = used_now();
	post(head);
	iodev_kick(io);
	expect_posted_again(head);
	assert_false(used_has(since, head, NULL));
	close(p[1]);
}

/* stdout: a pipe nobody reads yet, so a large WRITE stays in flight; a thread drains it later. */
static int drain_fd = -1;

static void *drainer(void *arg)
{
	(void)arg;
	char buf[65536];
	while (read(drain_fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

static void *quiescer(void *arg)
{
	*(int *)arg = iodev_quiesce(io);
	return NULL;
}

/* A stdout WRITE held (the pipe is full) and posted again; then the guest leaves: quiesce must not hang. */
static void repost_held_write_then_quiesce(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	stdout_saved = dup(1);
	dup2(p[1], 1);
	close(p[1]);
	drain_fd = p[0];
	dev_up();
	static char big[200 << 10];
	memset(big, 'o', sizeof(big));
	uint16_t head = slot_build(14, LBVM_IO_WRITE, LBVM_H_STDOUT, LBVM_IO_STREAM, 0, big, sizeof(big), 0);
	post(head);
	iodev_kick(io);
	usleep(30000); /* 64 KiB went into the pipe; the rest waits */
	post(head);
	iodev_kick(io);
	usleep(30000);
	pthread_t d, qt;
	assert_int_equal(pthread_create(&d, NULL, drainer, NULL), 0);
	int qr = 99;
	assert_int_equal(pthread_create(&qt, NULL, quiescer, &qr), 0);
	uint64_t end = now_ms() + 3000;
	while (pthread_tryjoin_np(qt, NULL) == EBUSY) {
		if (now_ms() > end) {
			io = NULL; /* leave the device to the process's end: a thread still waits in it */
			fail_msg("iodev_quiesce did not return in 3 s after head %u was posted again while its WRITE was in flight", head);
		}
		usleep(1000);
	}
	if (qr != -1)
		fail_msg("iodev_quiesce returned %d after head %u was posted again while held (the VM should have ended)", qr, head);
	expect_posted_again(head);
}

/* ================= 2. chains the device must refuse: the VM ends, nothing runs ================= */

enum bad_chain {
	BC_LOOP, BC_LOOP_SELF, BC_OUTSIDE, BC_HUGE_LEN, BC_ADDR_WRAP, BC_INDIRECT, BC_WRITABLE_FIRST, BC_NINE,
	BC_FIVE, BC_AVAIL_JUMP, BC_HEAD_RANGE, BC_NEXT_RANGE, BC_SHORT_REQ, BC_SHORT_STATUS, BC_ONE,
};

static void malformed_chain(void **state)
{
	enum bad_chain c = (enum bad_chain)(uintptr_t)*state;
	dev_up();
	uint64_t ro = tree_sig(dir_ro), rw = tree_sig(dir_rw);
	/* A MKDIR on the rw mount: if the device ran it, the host would change. */
	uint16_t h = slot_build(20, LBVM_IO_MKDIR, root_rw, 0, 0755, "made", 4, 0);
	unsigned d = h; /* descriptors d (req), d+1 (name), d+2 (status) */
	uint16_t since = used_now();
	switch (c) {
	case BC_LOOP: /* 0 -> 1 -> 0 */
		set_desc(d + 1, SLOT_IN(20), 4, VIRTQ_DESC_F_NEXT, (uint16_t)d);
		break;
	case BC_LOOP_SELF:
		set_desc(d + 1, SLOT_IN(20), 4, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
		break;
	case BC_OUTSIDE:
		set_desc(d + 1, RAM_SIZE + 4096, 4, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 2));
		break;
	case BC_HUGE_LEN:
		set_desc(d + 1, SLOT_IN(20), UINT32_MAX, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 2));
		break;
	case BC_ADDR_WRAP:
		set_desc(d + 1, UINT64_MAX - 1, 4, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 2));
		break;
	case BC_INDIRECT:
		set_desc(d + 1, SLOT_IN(20), 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT, (uint16_t)(d + 2));
		break;
	case BC_WRITABLE_FIRST:
		set_desc(d, SLOT_REQ(20), 24, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(d + 1));
		break;
	case BC_NINE: /* req, 7 names, status: over VIRTQ_MAX_CHAIN */
		h = 100;
		set_desc(100, SLOT_REQ(20), 24, VIRTQ_DESC_F_NEXT, 101);
		for (unsigned i = 101; i < 108; i++)
			set_desc(i, SLOT_IN(20), 4, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
		set_desc(108, SLOT_ST(20), 8, VIRTQ_DESC_F_WRITE, 0);
		break;
	case BC_FIVE: /* req, name, name, out, status: within the chain limit, past the ABI's 4 */
		h = 100;
		set_desc(100, SLOT_REQ(20), 24, VIRTQ_DESC_F_NEXT, 101);
		set_desc(101, SLOT_IN(20), 4, VIRTQ_DESC_F_NEXT, 102);
		set_desc(102, SLOT_IN(20), 4, VIRTQ_DESC_F_NEXT, 103);
		set_desc(103, SLOT_OUT(20), 96, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 104);
		set_desc(104, SLOT_ST(20), 8, VIRTQ_DESC_F_WRITE, 0);
		break;
	case BC_AVAIL_JUMP: /* the guest claims 300 new entries in a ring of 256 */
		for (unsigned i = 0; i < Q; i++)
			vavail->ring[i] = h;
		aidx = 300;
		__atomic_store_n(&vavail->idx, aidx, __ATOMIC_RELEASE);
		iodev_kick(io);
		goto check;
	case BC_HEAD_RANGE:
		h = Q + 3;
		break;
	case BC_NEXT_RANGE:
		set_desc(d + 1, SLOT_IN(20), 4, VIRTQ_DESC_F_NEXT, 0xffff);
		break;
	case BC_SHORT_REQ:
		set_desc(d, SLOT_REQ(20), 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
		break;
	case BC_SHORT_STATUS:
		set_desc(d + 2, SLOT_ST(20), 4, VIRTQ_DESC_F_WRITE, 0);
		break;
	case BC_ONE: /* the request alone, nowhere to put a status */
		set_desc(d, SLOT_REQ(20), 24, 0, 0);
		break;
	}
	post(h);
	iodev_kick(io);
check:
	if (!wait_vm_end(1000))
		fail_msg("malformed chain %d: the VM goes on", (int)c);
	assert_true(strlen(iodev_error(io)) > 10);
	assert_int_equal(used_now(), since);
	assert_true(tree_sig(dir_ro) == ro && tree_sig(dir_rw) == rw);
}

/* A length inside guest memory but over the ABI's 1 MiB: that request fails, the VM goes on. */
static void huge_buffer_inside_memory_fails_request(void **state)
{
	(void)state;
	dev_up();
	uint32_t fh = do_open(root_rw, "file", LBVM_OPEN_READ);
	assert_int_equal(call(LBVM_IO_READ, fh, 0, 0, NULL, 0, LBVM_IO_MAX_LEN + 1), -EINVAL);
	assert_int_equal(call(LBVM_IO_READ, LBVM_H_STDIN, LBVM_IO_STREAM, 0, NULL, 0, LBVM_IO_MAX_LEN + 1), -EINVAL);
	static char big[LBVM_IO_MAX_LEN + 1];
	assert_int_equal(call(LBVM_IO_WRITE, LBVM_H_STDOUT, LBVM_IO_STREAM, 0, big, sizeof(big), 0), -EINVAL);
	assert_int_equal(call(LBVM_IO_LOOKUP, root_rw, 0, 0, big, sizeof(big), 96), -EINVAL);
	assert_int_equal(call(LBVM_IO_READ, fh, 0, 0, NULL, 0, 4), 4);
	assert_false(vm_failed());
}

/* ================= 3. descriptors rewritten while the device reads them ================= */

static volatile int flip_stop;

static void *flipper(void *arg)
{
	(void)arg;
	unsigned k = 0;
	while (!flip_stop) {
		/* slot 30's chain: req 120, name 121, out 122, status 123 */
		vdesc[121].len = (k & 1) ? 4 : 300;
		vdesc[121].addr = (k & 2) ? SLOT_IN(30) : SLOT_IN(31);
		vdesc[122].addr = (k & 4) ? SLOT_OUT(30) : SLOT_OUT(31);
		vdesc[122].len = (k & 8) ? 96 : 95;
		volatile struct lbvm_io_req *q = gp(SLOT_REQ(30));
		q->handle = (k & 16) ? root_rw : root_ro;
		q->op = (k & 32) ? LBVM_IO_STATAT : LBVM_IO_LOOKUP;
		volatile char *nm = gp(SLOT_IN(30));
		nm[1] = (k & 64) ? '/' : 'u';
		k++;
	}
	return NULL;
}

static void descriptors_change_under_the_device(void **state)
{
	(void)state;
	dev_up();
	uint64_t ro = tree_sig(dir_ro);
	memset(gp(SLOT_IN(31)), 'y', 300);
	uint16_t head = slot_build(30, LBVM_IO_STATAT, root_rw, 0, 0, "sub", 3, 96);
	pthread_t t;
	flip_stop = 0;
	assert_int_equal(pthread_create(&t, NULL, flipper, NULL), 0);
	unsigned n = 0, bad = 0;
	uint64_t end = now_ms() + 400;
	while (now_ms() < end) {
		int64_t r = run_head(head, 30, 1000);
		if (r == R_HANG)
			fail_msg("a request whose descriptors changed under the device got no answer in 1 s");
		if (r == R_VMFAIL)
			break;
		n++;
		uint32_t len = 0;
		used_has((uint16_t)(used_now() - 1), head, &len);
		if (!(r == 0 || r == -EINVAL || r == -ENOENT || r == -ENAMETOOLONG) || (len != 8 && len != 8 + 96))
			bad++;
		/* a LOOKUP made a handle: give it back, so handles do not run out */
		for (unsigned k = 30; k <= 31; k++) {
			struct lbvm_io_attr a;
			memcpy(&a, gp(SLOT_OUT(k)), sizeof(a));
			if (a.handle) {
				struct lbvm_io_req q = { .op = LBVM_IO_CLOSE, .handle = a.handle };
				memcpy(gp(SLOT_REQ(41)), &q, sizeof(q));
				set_desc(164, SLOT_REQ(41), 24, VIRTQ_DESC_F_NEXT, 165);
				set_desc(165, SLOT_ST(41), 8, VIRTQ_DESC_F_WRITE, 0);
				run_head(164, 41, 1000);
				memset(gp(SLOT_OUT(k)), 0, sizeof(a));
			}
		}
	}
	flip_stop = 1;
	pthread_join(t, NULL);
	assert_int_equal(bad, 0);
	assert_true(n > 0 || vm_failed());
	/* Either every request was answered sanely, or the VM ended with a reason: never a hang. */
	if (vm_failed())
		assert_true(strlen(iodev_error(io)) > 10);
	assert_true(tree_sig(dir_ro) == ro);
	print_message("descriptors flipped under %u requests: %s\n", n, vm_failed() ? iodev_error(io) : "all answered sanely");
}

/* ================= 6. floods ================= */

static void flood_of_a_held_head(void **state)
{
	(void)state;
	dev_up();
	uint16_t head = slot_build(40, LBVM_IO_TIMEOUT, 0, 0, 10000000000ull, NULL, 0, 0);
	unsigned posted = 0;
	uint64_t end = now_ms() + 2000;
	struct iodev_stats st;
	while (posted < 20000 && !vm_failed() && now_ms() < end) {
		for (unsigned i = 0; i < 128; i++)
			post(head);
		posted += 128;
		iodev_kick(io);
		/* Wait until the device took them (today each one becomes another timer), or ended the VM. */
		uint64_t t = now_ms() + 100;
		do {
			iodev_get_stats(io, &st);
		} while (st.requests < posted && !vm_failed() && now_ms() < t);
	}
	iodev_get_stats(io, &st);
	if (!vm_failed())
		fail_msg("head %u posted %u times while held: the VM goes on, %llu requests started", head, posted,
			 (unsigned long long)st.requests);
	if (st.requests > Q)
		fail_msg("%llu requests started for %u posts of one held head (at most %u can be in flight)",
			 (unsigned long long)st.requests, posted, Q);
	expect_posted_again(head);
}

/*
 * Requests that fail at once (flags != 0), reposted as fast as they come back, must not keep the I/O
 * thread from reaping other completions: a 50 ms TIMEOUT posted first still completes in time.
 */
static void flood_cannot_starve_completions(void **state)
{
	(void)state;
	dev_up();
	uint16_t th = slot_build(63, LBVM_IO_TIMEOUT, 0, 0, 50000000ull, NULL, 0, 0);
	/*
	 * 80 requests that complete at once, without io_uring, on the I/O thread itself: READDIR of a
	 * directory of 1000 entries into 8 KiB (one getdents64 each, tens of microseconds), every fourth
	 * one with bad flags (-EINVAL at once). Descriptors 3i..3i+2. The guest reposts each in nanoseconds.
	 */
	char p[256];
	snprintf(p, sizeof(p), "%s/many", dir_rw);
	assert_int_equal(mkdir(p, 0755), 0);
	for (unsigned i = 0; i < 1000; i++) {
		char n[300];
		snprintf(n, sizeof(n), "%s/entry-with-a-longish-name-%05u", p, i);
		int fd = open(n, O_CREAT | O_WRONLY, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
	uint32_t many = do_lookup(root_rw, "many");
	for (unsigned i = 0; i < 80; i++) {
		struct lbvm_io_req q = { .op = LBVM_IO_READDIR, .flags = (i % 4 == 0), .handle = many };
		uint64_t g = SLOTS + (uint64_t)i * 256, out = 0x500000 + (uint64_t)i * 0x2000;
		memcpy(gp(g), &q, sizeof(q));
		set_desc(3 * i, g, 24, VIRTQ_DESC_F_NEXT, (uint16_t)(3 * i + 1));
		set_desc(3 * i + 1, out, 0x2000, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(3 * i + 2));
		set_desc(3 * i + 2, g + 192, 8, VIRTQ_DESC_F_WRITE, 0);
	}
	/*
	 * Six rounds, each from a quiet queue. Whether the flood keeps the device busy depends on
	 * scheduling too; one starved round is enough to fail.
	 */
	/*
	 * What is asserted is how many flood requests the device answers after the timer is due and
	 * before the timer's own answer: with a drain bounded to one queue's worth (256) before the
	 * completions are reaped, at most a few hundred; starved, thousands. A count, not a time, so a
	 * loaded machine that runs the I/O thread late does not fail the test.
	 */
	enum { LATE_MAX = 2048 }; /* fixed: at most ~900 under load (drains, a doorbell's drain, the backlog the test had not read); unbounded: 7,000-15,000 */
	uint16_t seen = used_now();
	unsigned reposts = 0, idle = 0, worst_late = 0;
	uint64_t worst = 0;
	for (unsigned round = 0; round < 6 && !vm_failed(); round++) {
		/* Each round starts from a quiet queue: the TIMEOUT, then the whole flood at once. */
		uint64_t quiet = now_ms() + 1000;
		while ((uint16_t)(aidx - used_now()) != 0 && now_ms() < quiet)
			usleep(1000);
		seen = used_now();
		uint64_t t0 = now_ms(), done_at = 0, flood_end = t0 + 1500;
		unsigned late = 0; /* flood answers seen after the timer was due (t0 + 50 ms, t0 taken before posting) */
		post(th);
		for (unsigned i = 0; i < 80; i++)
			post((uint16_t)(3 * i));
		iodev_kick(io);
		while (now_ms() < flood_end && !done_at && !vm_failed()) {
			uint16_t u = used_now();
			while (seen != u) {
				uint16_t id = (uint16_t)vused->ring[seen & (Q - 1)].id;
				seen++;
				if (id == th) {
					done_at = now_ms();
				} else {
					post(id);
					reposts++;
					if (now_ms() > t0 + 50)
						late++;
				}
			}
			if (++idle % 4096 == 0)
				iodev_kick(io); /* in case the I/O thread went to sleep */
		}
		if (!done_at) {
			/* Stop the flood: does the timeout come now? */
			uint64_t late_end = now_ms() + 1000;
			while (!done_at && !vm_failed() && now_ms() < late_end) {
				if (used_has(seen, th, NULL))
					done_at = now_ms();
				usleep(200);
			}
			if (!done_at)
				fail_msg("a 50 ms TIMEOUT did not complete during a flood of %u requests that fail at once, nor 1 s after it", reposts);
		}
		if (done_at - t0 > worst)
			worst = done_at - t0;
		if (late > worst_late)
			worst_late = late;
		if (late > LATE_MAX)
			fail_msg("round %u: a 50 ms TIMEOUT was answered only after %u flood requests that came after it was due "
				 "(%llu ms), among %u reposted requests that complete at once",
				 round, late, (unsigned long long)(done_at - t0), reposts);
	}
	assert_false(vm_failed());
	print_message("flood: the 50 ms timeouts took at most %llu ms, with at most %u flood answers after they were due, among %u reposts\n",
		      (unsigned long long)worst, worst_late, reposts);
}

#define MALFORMED(c) { "malformed_chain_" #c, malformed_chain, NULL, dev_down, (void *)(uintptr_t)c }

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(repost_held_timeout),
		T(repost_held_mount_request),
		T(repost_held_timeout_as_mount_request),
		T(repost_held_stdin_read),
		T(repost_held_write_then_quiesce),
		MALFORMED(BC_LOOP), MALFORMED(BC_LOOP_SELF), MALFORMED(BC_OUTSIDE), MALFORMED(BC_HUGE_LEN),
		MALFORMED(BC_ADDR_WRAP), MALFORMED(BC_INDIRECT), MALFORMED(BC_WRITABLE_FIRST), MALFORMED(BC_NINE),
		MALFORMED(BC_FIVE), MALFORMED(BC_AVAIL_JUMP), MALFORMED(BC_HEAD_RANGE), MALFORMED(BC_NEXT_RANGE),
		MALFORMED(BC_SHORT_REQ), MALFORMED(BC_SHORT_STATUS), MALFORMED(BC_ONE),
		T(huge_buffer_inside_memory_fails_request),
		T(descriptors_change_under_the_device),
		T(flood_of_a_held_head),
		T(flood_cannot_starve_completions),
	};
	return hostile_main("hostile", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
