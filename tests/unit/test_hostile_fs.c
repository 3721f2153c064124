#define _GNU_SOURCE
/*
 * test_hostile_fs.c: mount requests as a hostile guest crafts them, straight to the device (harness in
 * hostile.c): every write on a :ro mount, names, handles and buffers the ABI does not allow, a FIFO
 * swapped in under an OPEN, the :max= cap after a failed FALLOCATE, STATAT across a mount point.
 */
#include "tests/unit/hostile.h"

/* ================= 4. a read-only mount refuses every write ================= */

static void ro_mount_refuses_every_write(void **state)
{
	(void)state;
	dev_up();
	uint64_t ro = tree_sig(dir_ro), rw = tree_sig(dir_rw);
	uint32_t fh = do_open(root_ro, "file", LBVM_OPEN_READ);
	uint32_t sub = do_lookup(root_ro, "sub");
	uint32_t node = do_lookup(root_ro, "file");
	const char two[] = "file\0other";
	const char sl[] = "/etc/passwd\0newlink";
	struct lbvm_io_setattr sa_mode = { .valid = LBVM_SETATTR_MODE, .mode = 0777 };
	struct lbvm_io_setattr sa_size = { .valid = LBVM_SETATTR_SIZE, .size = 0 };
	struct lbvm_io_setattr sa_time = { .valid = LBVM_SETATTR_ATIME | LBVM_SETATTR_MTIME, .atime = 1, .mtime = 1 };
	struct lbvm_io_setattr sa_owner = { .valid = LBVM_SETATTR_OWNER, .uid = UINT32_MAX, .gid = UINT32_MAX };
	struct {
		const char *what;
		int64_t r;
	} c[] = {
		{ "WRITE on a read handle", call(LBVM_IO_WRITE, fh, 0, 0, "x", 1, 0) },
		{ "UNLINK", call(LBVM_IO_UNLINK, root_ro, 0, 0, "file", 4, 0) },
		{ "UNLINK dir", call(LBVM_IO_UNLINK, root_ro, 0, LBVM_UNLINK_DIR, "sub", 3, 0) },
		{ "RENAME", call(LBVM_IO_RENAME, root_ro, 0, root_ro, two, sizeof(two) - 1, 0) },
		{ "RENAME into sub", call(LBVM_IO_RENAME, root_ro, 0, sub, two, sizeof(two) - 1, 0) },
		{ "RENAME exchange", call(LBVM_IO_RENAME, root_ro, 0, root_ro | ((uint64_t)RENAME_EXCHANGE << 32), "file\0sub", 8, 0) },
		{ "LINK", call(LBVM_IO_LINK, root_ro, 0, root_ro, two, sizeof(two) - 1, 0) },
		{ "SETATTR mode on file", call(LBVM_IO_SETATTR, fh, 0, 0, &sa_mode, sizeof(sa_mode), 0) },
		{ "SETATTR mode on dir", call(LBVM_IO_SETATTR, root_ro, 0, 0, &sa_mode, sizeof(sa_mode), 0) },
		{ "SETATTR mode on node", call(LBVM_IO_SETATTR, node, 0, 0, &sa_mode, sizeof(sa_mode), 0) },
		{ "SETATTR size", call(LBVM_IO_SETATTR, fh, 0, 0, &sa_size, sizeof(sa_size), 0) },
		{ "SETATTR times", call(LBVM_IO_SETATTR, sub, 0, 0, &sa_time, sizeof(sa_time), 0) },
		{ "SETATTR owner", call(LBVM_IO_SETATTR, fh, 0, 0, &sa_owner, sizeof(sa_owner), 0) },
		{ "FALLOCATE", call(LBVM_IO_FALLOCATE, fh, 0, 4096, NULL, 0, 0) },
		{ "MKDIR", call(LBVM_IO_MKDIR, root_ro, 0, 0755, "newdir", 6, 0) },
		{ "MKDIR in sub", call(LBVM_IO_MKDIR, sub, 0, 0755, "newdir", 6, 0) },
		{ "SYMLINK", call(LBVM_IO_SYMLINK, root_ro, 0, 0, sl, sizeof(sl) - 1, 0) },
		{ "OPEN WRITE", call(LBVM_IO_OPEN, root_ro, 0, LBVM_OPEN_WRITE, "file", 4, 96) },
		{ "OPEN READ|WRITE", call(LBVM_IO_OPEN, root_ro, 0, LBVM_OPEN_READ | LBVM_OPEN_WRITE, "file", 4, 96) },
		{ "OPEN READ|CREATE new", call(LBVM_IO_OPEN, root_ro, 0, LBVM_OPEN_READ | LBVM_OPEN_CREATE, "new", 3, 96) },
		{ "OPEN READ|CREATE|EXCL", call(LBVM_IO_OPEN, root_ro, 0, LBVM_OPEN_READ | LBVM_OPEN_CREATE | LBVM_OPEN_EXCL, "new", 3, 96) },
		{ "OPEN READ|TRUNC", call(LBVM_IO_OPEN, root_ro, 0, LBVM_OPEN_READ | LBVM_OPEN_TRUNC, "file", 4, 96) },
		{ "OPEN WRITE in sub", call(LBVM_IO_OPEN, sub, 0, LBVM_OPEN_WRITE | LBVM_OPEN_TRUNC, "inner", 5, 96) },
	};
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (c[i].r != -EROFS)
			fail_msg("read-only mount, %s: %lld, not -EROFS", c[i].what, (long long)c[i].r);
	assert_true(tree_sig(dir_ro) == ro);
	assert_true(tree_sig(dir_rw) == rw);
	/* Reads still work. */
	assert_int_equal(call(LBVM_IO_READ, fh, 0, 0, NULL, 0, 16), 4);
}

/* ================= 5. names, handles and buffers the ABI does not allow ================= */

static void bad_names_are_einval(void **state)
{
	(void)state;
	dev_up();
	uint64_t rw = tree_sig(dir_rw);
	static char n256[256], t4096[4096 + 8], t5000[5000 + 8];
	memset(n256, 'x', sizeof(n256));
	static const struct { const char *s; uint32_t len; } bad[] = {
		{ "a/b", 3 }, { "/", 1 }, { "..", 2 }, { ".", 1 }, { "a\0b", 3 }, { "\0", 1 }, { "file/", 5 }, { "/etc", 4 },
	};
	uint16_t ops[] = { LBVM_IO_LOOKUP, LBVM_IO_OPEN, LBVM_IO_MKDIR, LBVM_IO_UNLINK, LBVM_IO_STATAT };
	for (unsigned o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		uint32_t outlen = (ops[o] == LBVM_IO_MKDIR || ops[o] == LBVM_IO_UNLINK) ? 0 : 96;
		uint64_t arg = ops[o] == LBVM_IO_OPEN ? LBVM_OPEN_READ | LBVM_OPEN_WRITE | LBVM_OPEN_CREATE : ops[o] == LBVM_IO_MKDIR ? 0755 : 0;
		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int64_t r = call(ops[o], root_rw, 0, arg, bad[i].s, bad[i].len, outlen);
			if (r != -EINVAL)
				fail_msg("op %u name #%u: %lld, not -EINVAL", ops[o], i, (long long)r);
		}
		int64_t r = call(ops[o], root_rw, 0, arg, n256, 256, outlen);
		if (r != -EINVAL)
			fail_msg("op %u, a 256-byte name: %lld, not -EINVAL", ops[o], (long long)r);
		/* An empty name is an absent in-buffer. */
		r = call(ops[o], root_rw, 0, arg, NULL, 0, outlen);
		if (r != -EINVAL)
			fail_msg("op %u, an empty name: %lld, not -EINVAL", ops[o], (long long)r);
	}
	/* Two names: RENAME and LINK. */
	static const struct { const char *s; uint32_t len; } bad2[] = {
		{ "file\0a/b", 8 }, { "a/b\0x", 5 }, { "file\0..", 7 }, { "..\0x", 4 }, { "file\0.", 6 }, { "file", 4 },
		{ "\0x", 2 }, { "file\0", 5 }, { "file\0x\0y", 8 }, { "\0", 1 },
	};
	for (unsigned i = 0; i < sizeof(bad2) / sizeof(bad2[0]); i++) {
		int64_t r = call(LBVM_IO_RENAME, root_rw, 0, root_rw, bad2[i].s, bad2[i].len, 0);
		if (r != -EINVAL)
			fail_msg("RENAME names #%u: %lld, not -EINVAL", i, (long long)r);
		r = call(LBVM_IO_LINK, root_rw, 0, root_rw, bad2[i].s, bad2[i].len, 0);
		if (r != -EINVAL)
			fail_msg("LINK names #%u: %lld, not -EINVAL", i, (long long)r);
	}
	/* SYMLINK: target NUL name; an empty or over-long target, a bad name. */
	static const struct { const char *s; uint32_t len; } bad3[] = {
		{ "\0name", 5 }, { "target\0", 7 }, { "target\0a/b", 10 }, { "target\0..", 9 }, { "target", 6 },
	};
	for (unsigned i = 0; i < sizeof(bad3) / sizeof(bad3[0]); i++) {
		int64_t r = call(LBVM_IO_SYMLINK, root_rw, 0, 0, bad3[i].s, bad3[i].len, 0);
		if (r != -EINVAL)
			fail_msg("SYMLINK #%u: %lld, not -EINVAL", i, (long long)r);
	}
	memset(t4096, 'T', 4096);
	memcpy(t4096 + 4096, "\0name", 5);
	assert_int_equal(call(LBVM_IO_SYMLINK, root_rw, 0, 0, t4096, 4096 + 5, 0), -EINVAL);
	memset(t5000, 'T', 5000);
	memcpy(t5000 + 5000, "\0name", 5);
	assert_int_equal(call(LBVM_IO_SYMLINK, root_rw, 0, 0, t5000, 5000 + 5, 0), -EINVAL);
	assert_false(vm_failed());
	assert_true(tree_sig(dir_rw) == rw);
}

static void bad_handles(void **state)
{
	(void)state;
	dev_up();
	uint64_t ro = tree_sig(dir_ro), rw = tree_sig(dir_rw);
	struct lbvm_io_attr a;
	const char two[] = "file\0moved";
	uint32_t ro_sub = do_lookup(root_ro, "sub"), rw_sub = do_lookup(root_rw, "sub");
	/* Another mount's directory as the second handle. */
	assert_int_equal(call(LBVM_IO_RENAME, root_rw, 0, root_ro, two, sizeof(two) - 1, 0), -EXDEV);
	assert_int_equal(call(LBVM_IO_RENAME, root_rw, 0, ro_sub, two, sizeof(two) - 1, 0), -EXDEV);
	assert_int_equal(call(LBVM_IO_LINK, root_rw, 0, root_ro, two, sizeof(two) - 1, 0), -EXDEV);
	assert_int_equal(call(LBVM_IO_LINK, rw_sub, 0, ro_sub, "inner\0x", 7, 0), -EXDEV);
	/* Closed handles. */
	uint32_t fh = do_open(root_rw, "file", LBVM_OPEN_READ | LBVM_OPEN_WRITE);
	uint32_t sub2 = do_lookup(root_rw, "sub");
	assert_int_equal(call(LBVM_IO_CLOSE, fh, 0, 0, NULL, 0, 0), 0);
	assert_int_equal(call(LBVM_IO_CLOSE, sub2, 0, 0, NULL, 0, 0), 0);
	assert_int_equal(call(LBVM_IO_READ, fh, 0, 0, NULL, 0, 16), -EBADF);
	assert_int_equal(call(LBVM_IO_WRITE, fh, 0, 0, "zz", 2, 0), -EBADF);
	assert_int_equal(call(LBVM_IO_GETATTR, fh, 0, 0, NULL, 0, 96), -EBADF);
	assert_int_equal(call(LBVM_IO_CLOSE, fh, 0, 0, NULL, 0, 0), -EBADF);
	assert_int_equal(call(LBVM_IO_LOOKUP, sub2, 0, 0, "inner", 5, 96), -EBADF);
	assert_int_equal(call(LBVM_IO_RENAME, root_rw, 0, sub2, two, sizeof(two) - 1, 0), -EBADF);
	assert_int_equal(call(LBVM_IO_LINK, root_rw, 0, sub2, two, sizeof(two) - 1, 0), -EBADF);
	/* Out of range, never given out, and the stdio range on mount operations. */
	uint32_t hs[] = { LBVM_H_FIRST_HOST + LBVM_H_MAX, LBVM_H_FIRST_HOST + LBVM_H_MAX - 1, LBVM_H_FIRST_HOST + 4000,
			  UINT32_MAX, 0x80000000u, 0, 1, 2, 3, 7, 15 };
	for (unsigned i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		struct { uint16_t op; const char *in; uint32_t inlen, outlen; uint64_t arg; } ops[] = {
			{ LBVM_IO_GETATTR, NULL, 0, 96, 0 }, { LBVM_IO_LOOKUP, "file", 4, 96, 0 },
			{ LBVM_IO_OPEN, "file", 4, 96, LBVM_OPEN_READ }, { LBVM_IO_CLOSE, NULL, 0, 0, 0 },
			{ LBVM_IO_MKDIR, "d", 1, 0, 0755 }, { LBVM_IO_STATAT, "file", 4, 96, 0 },
			{ LBVM_IO_READDIR, NULL, 0, 4096, 0 }, { LBVM_IO_READLINK, NULL, 0, 4096, 0 },
			{ LBVM_IO_FSYNC, NULL, 0, 0, 0 }, { LBVM_IO_STATFS, NULL, 0, 64, 0 },
			{ LBVM_IO_FALLOCATE, NULL, 0, 0, 4096 }, { LBVM_IO_UNLINK, "file", 4, 0, 0 },
			{ LBVM_IO_RENAME, two, sizeof(two) - 1, 0, root_rw }, { LBVM_IO_SYMLINK, "t\0n", 3, 0, 0 },
		};
		for (unsigned o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
			int64_t r = call(ops[o].op, hs[i], 0, ops[o].arg, ops[o].in, ops[o].inlen, ops[o].outlen);
			if (r != -EBADF)
				fail_msg("op %u on handle %u: %lld, not -EBADF", ops[o].op, hs[i], (long long)r);
		}
		if (hs[i] >= LBVM_STDIO_HANDLES && hs[i] < LBVM_H_FIRST_HOST) {
			assert_int_equal(call(LBVM_IO_READ, hs[i], LBVM_IO_STREAM, 0, NULL, 0, 16), -EBADF);
			assert_int_equal(call(LBVM_IO_WRITE, hs[i], LBVM_IO_STREAM, 0, "x", 1, 0), -EBADF);
		}
		/* A bad second handle. */
		int64_t r = call(LBVM_IO_RENAME, root_rw, 0, hs[i], two, sizeof(two) - 1, 0);
		if (r != -EBADF)
			fail_msg("RENAME to directory handle %u: %lld, not -EBADF", hs[i], (long long)r);
	}
	/* A mount's root cannot be closed, and stays usable. */
	assert_int_equal(call(LBVM_IO_CLOSE, root_rw, 0, 0, NULL, 0, 0), -EPERM);
	assert_int_equal(call(LBVM_IO_CLOSE, root_ro, 0, 0, NULL, 0, 0), -EPERM);
	assert_int_equal(call(LBVM_IO_GETATTR, root_ro, 0, 0, NULL, 0, 96), 0);
	a = last_attr();
	assert_true(S_ISDIR(a.mode));
	assert_false(vm_failed());
	assert_true(tree_sig(dir_ro) == ro && tree_sig(dir_rw) == rw);
}

/* Each mount operation with a buffer added or missing, or of the wrong size: -EINVAL, nothing done. */
static void buffers_that_do_not_match(void **state)
{
	(void)state;
	dev_up();
	uint32_t fh = do_open(root_rw, "file", LBVM_OPEN_READ | LBVM_OPEN_WRITE);
	uint64_t rw = tree_sig(dir_rw);
	struct lbvm_io_setattr sa = { .valid = LBVM_SETATTR_MODE, .mode = 0600 };
	/* The right shape of each operation: handle, in, out, arg. */
	struct { uint16_t op; uint32_t h; const void *in; uint32_t inlen, outlen; uint64_t arg; } ops[] = {
		{ LBVM_IO_READ, fh, NULL, 0, 16, 0 }, { LBVM_IO_WRITE, fh, "ab", 2, 0, 0 },
		{ LBVM_IO_LOOKUP, root_rw, "file", 4, 96, 0 }, { LBVM_IO_OPEN, root_rw, "file", 4, 96, LBVM_OPEN_READ },
		{ LBVM_IO_CLOSE, fh, NULL, 0, 0, 0 }, { LBVM_IO_GETATTR, root_rw, NULL, 0, 96, 0 },
		{ LBVM_IO_READDIR, root_rw, NULL, 0, 4096, 0 }, { LBVM_IO_READLINK, root_rw, NULL, 0, 4096, 0 },
		{ LBVM_IO_MKDIR, root_rw, "nd", 2, 0, 0755 }, { LBVM_IO_UNLINK, root_rw, "file", 4, 0, 0 },
		{ LBVM_IO_RENAME, root_rw, "file\0mv", 7, 0, root_rw }, { LBVM_IO_SYMLINK, root_rw, "t\0sl", 4, 0, 0 },
		{ LBVM_IO_LINK, root_rw, "file\0hl", 7, 0, root_rw }, { LBVM_IO_SETATTR, fh, &sa, sizeof(sa), 0, 0 },
		{ LBVM_IO_FSYNC, fh, NULL, 0, 0, 0 }, { LBVM_IO_FALLOCATE, fh, NULL, 0, 0, 4096 },
		{ LBVM_IO_STATFS, root_rw, NULL, 0, 64, 0 }, { LBVM_IO_STATAT, root_rw, "file", 4, 96, 0 },
	};
	for (unsigned o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		int64_t r;
		if (ops[o].inlen) {
			r = call(ops[o].op, ops[o].h, 0, ops[o].arg, NULL, 0, ops[o].outlen);
			if (r != -EINVAL)
				fail_msg("op %u without its in-buffer: %lld, not -EINVAL", ops[o].op, (long long)r);
		} else {
			r = call(ops[o].op, ops[o].h, 0, ops[o].arg, "zz", 2, ops[o].outlen);
			if (r != -EINVAL)
				fail_msg("op %u with an in-buffer it does not take: %lld, not -EINVAL", ops[o].op, (long long)r);
		}
		if (ops[o].outlen) {
			r = call(ops[o].op, ops[o].h, 0, ops[o].arg, ops[o].in, ops[o].inlen, 0);
			if (r != -EINVAL)
				fail_msg("op %u without its out-buffer: %lld, not -EINVAL", ops[o].op, (long long)r);
		} else {
			r = call(ops[o].op, ops[o].h, 0, ops[o].arg, ops[o].in, ops[o].inlen, 16);
			if (r != -EINVAL)
				fail_msg("op %u with an out-buffer it does not take: %lld, not -EINVAL", ops[o].op, (long long)r);
		}
		/* Two in-buffers (req, in, in, status): a well-formed chain of four, a bad request. */
		uint16_t head = slot_build(1, ops[o].op, ops[o].h, 0, ops[o].arg, "zz", 2, 0);
		set_desc(head + 1, SLOT_IN(1), 2, VIRTQ_DESC_F_NEXT, (uint16_t)(head + 2));
		set_desc(head + 2, SLOT_IN(1), 2, VIRTQ_DESC_F_NEXT, (uint16_t)(head + 3));
		set_desc(head + 3, SLOT_ST(1), 8, VIRTQ_DESC_F_WRITE, 0);
		r = run_head(head, 1, 2000);
		if (r != -EINVAL)
			fail_msg("op %u with two in-buffers: %lld, not -EINVAL", ops[o].op, (long long)r);
		/* Two out-buffers. */
		head = slot_build(1, ops[o].op, ops[o].h, 0, ops[o].arg, NULL, 0, 96);
		set_desc(head + 1, SLOT_OUT(1), 96, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(head + 2));
		set_desc(head + 2, SLOT_OUT(1) + 0x200, 96, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(head + 3));
		set_desc(head + 3, SLOT_ST(1), 8, VIRTQ_DESC_F_WRITE, 0);
		r = run_head(head, 1, 2000);
		if (r != -EINVAL)
			fail_msg("op %u with two out-buffers: %lld, not -EINVAL", ops[o].op, (long long)r);
	}
	/* Fixed-size buffers of the wrong size. */
	assert_int_equal(call(LBVM_IO_GETATTR, root_rw, 0, 0, NULL, 0, 95), -EINVAL);
	assert_int_equal(call(LBVM_IO_STATAT, root_rw, 0, 0, "file", 4, 97), -EINVAL);
	assert_int_equal(call(LBVM_IO_STATFS, root_rw, 0, 0, NULL, 0, 63), -EINVAL);
	assert_int_equal(call(LBVM_IO_SETATTR, fh, 0, 0, &sa, sizeof(sa) - 1, 0), -EINVAL);
	/* The stdio operations, too. */
	assert_int_equal(call(LBVM_IO_TIMEOUT, 0, 0, 1000, "zz", 2, 0), -EINVAL);
	assert_int_equal(call(LBVM_IO_TIMEOUT, 0, 0, 1000, NULL, 0, 8), -EINVAL);
	assert_int_equal(call(LBVM_IO_READ, LBVM_H_STDIN, LBVM_IO_STREAM, 0, "zz", 2, 0), -EINVAL);
	assert_int_equal(call(LBVM_IO_WRITE, LBVM_H_STDOUT, LBVM_IO_STREAM, 0, NULL, 0, 2), -EINVAL);
	assert_false(vm_failed());
	assert_true(tree_sig(dir_rw) == rw);
}

/* ================= 7. a FIFO swapped in between the look and the open ================= */

static char fifo_keep[300];
static volatile int fifo_ending, fifo_opened;

/* A blocking open of the FIFO's other end returns as soon as anyone (the VMM) opens this end. */
static void *fifo_detector(void *arg)
{
	int want = (int)(intptr_t)arg; /* O_RDONLY: sees a writer; O_WRONLY: sees a reader */
	int fd = open(fifo_keep, want);
	if (!fifo_ending)
		fifo_opened = 1;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static volatile int swap_stop;
static int swap_dfd;

static void *swapper(void *arg)
{
	(void)arg;
	while (!swap_stop)
		renameat2(swap_dfd, "target", swap_dfd, "other", RENAME_EXCHANGE);
	return NULL;
}

/* Guest OPENs of "target" for up to ms, 16 at a time; returns how many it made; handles are closed. */
static unsigned open_storm(uint64_t flags, unsigned ms, int64_t *worst)
{
	unsigned n = 0;
	uint64_t end = now_ms() + ms;
	while (now_ms() < end && !fifo_opened && !vm_failed()) {
		uint16_t heads[16];
		uint16_t since = used_now();
		for (unsigned s = 0; s < 16; s++) {
			heads[s] = slot_build(s, LBVM_IO_OPEN, root_rw, 0, flags, "target", 6, 96);
			post(heads[s]);
		}
		iodev_kick(io);
		uint64_t t = now_ms() + 1000;
		unsigned got = 0;
		while (got < 16 && now_ms() < t && !vm_failed()) {
			got = 0;
			for (unsigned s = 0; s < 16; s++)
				got += used_has(since, heads[s], NULL);
			if (got < 16)
				sched_yield();
		}
		for (unsigned s = 0; s < 16 && got == 16; s++) {
			int64_t r = slot_result(s);
			if (r == 0) {
				struct lbvm_io_attr a;
				memcpy(&a, gp(SLOT_OUT(s)), sizeof(a));
				if (!S_ISREG(a.mode))
					*worst = 1; /* the guest holds something not a regular file */
				struct lbvm_io_req q = { .op = LBVM_IO_CLOSE, .handle = a.handle };
				memcpy(gp(SLOT_REQ(40)), &q, sizeof(q));
				set_desc(160, SLOT_REQ(40), 24, VIRTQ_DESC_F_NEXT, 161);
				set_desc(161, SLOT_ST(40), 8, VIRTQ_DESC_F_WRITE, 0);
				run_head(160, 40, 1000);
			}
		}
		if (got < 16)
			break;
		n += 16;
	}
	return n;
}

static void fifo_phase(uint64_t flags, int detector_mode, const char *what)
{
	pthread_t det;
	fifo_ending = fifo_opened = 0;
	assert_int_equal(pthread_create(&det, NULL, fifo_detector, (void *)(intptr_t)detector_mode), 0);
	usleep(20000);
	int64_t worst = 0;
	unsigned n = open_storm(flags, 850, &worst); /* three phases: under 3 s in all */
	fifo_ending = 1;
	/* Release the detector: open the other end ourselves (a reader is waiting, or nothing blocks). */
	for (int i = 0; i < 200 && pthread_tryjoin_np(det, NULL) == EBUSY; i++) {
		int fd = open(fifo_keep, (detector_mode == O_RDONLY ? O_WRONLY : O_RDONLY) | O_NONBLOCK);
		if (fd >= 0)
			close(fd);
		usleep(5000);
	}
	print_message("fifo race, OPEN for %s: %u opens, %s\n", what, n, fifo_opened ? "the VMM opened the FIFO" : "FIFO never opened");
	if (fifo_opened)
		fail_msg("the VMM opened a FIFO for the guest (OPEN for %s, %u OPENs raced against renames)", what, n);
	assert_int_equal(worst, 0);
	assert_false(vm_failed());
}

static void fifo_swapped_in_is_never_opened(void **state)
{
	(void)state;
	dev_up();
	char p[300];
	snprintf(p, sizeof(p), "%s/other", dir_rw);
	assert_int_equal(mkfifo(p, 0666), 0);
	snprintf(fifo_keep, sizeof(fifo_keep), "%s/sub/fifo-keep", dir_rw);
	assert_int_equal(link(p, fifo_keep), 0);
	put_file(dir_rw, "target", "regular");
	swap_dfd = open(dir_rw, O_PATH | O_DIRECTORY);
	assert_true(swap_dfd >= 0);
	swap_stop = 0;
	pthread_t sw;
	assert_int_equal(pthread_create(&sw, NULL, swapper, NULL), 0);
	fifo_phase(LBVM_OPEN_WRITE, O_RDONLY, "writing");
	fifo_phase(LBVM_OPEN_READ, O_WRONLY, "reading");
	fifo_phase(LBVM_OPEN_WRITE | LBVM_OPEN_CREATE, O_RDONLY, "writing, with CREATE");
	swap_stop = 1;
	pthread_join(sw, NULL);
	close(swap_dfd);
}

/* ================= 8. the :max= cap after a FALLOCATE that fails ================= */

static char tiny_mnt[96];

static int tiny_teardown(void **state)
{
	dev_down(state);
	if (tiny_mnt[0]) {
		umount2(tiny_mnt, MNT_DETACH);
		rmdir(tiny_mnt);
		tiny_mnt[0] = 0;
	}
	return 0;
}

static void failed_fallocate_refunds_the_cap(void **state)
{
	(void)state;
	/* A FALLOCATE the kernel refuses: 768 KiB on a 640 KiB tmpfs (ENOSPC), or past ext4's maximum file size (EFBIG). */
	const char *host = NULL;
	uint64_t fa_off = 0;
	if (can_mount) {
		snprintf(tiny_mnt, sizeof(tiny_mnt), "%s/tiny.XXXXXX", top);
		assert_non_null(mkdtemp(tiny_mnt));
		if (mount("tmpfs", tiny_mnt, "tmpfs", 0, "size=640k") == 0) {
			host = tiny_mnt;
		} else {
			rmdir(tiny_mnt);
			tiny_mnt[0] = 0;
		}
	}
	if (!host)
		fa_off = 1ull << 50;
	dev_up_opts(":max=1M", host);
	if (host)
		put_file(host, "file", "data");
	uint32_t fh = do_open(root_rw, "file", LBVM_OPEN_READ | LBVM_OPEN_WRITE);
	int64_t fa = call(LBVM_IO_FALLOCATE, fh, fa_off, 768u << 10, NULL, 0, 0);
	if (fa >= 0) {
		print_message("failed_fallocate_refunds_the_cap: SKIP: no FALLOCATE fails here (no tmpfs mount; the file system took 768 KiB at 1 PiB)\n");
		skip();
	}
	/* The FALLOCATE failed: the cap is whole again, and 512 KiB fit in 1 MiB. */
	static char half[512 << 10];
	memset(half, 'w', sizeof(half));
	int64_t r = call(LBVM_IO_WRITE, fh, 0, 0, half, sizeof(half), 0);
	if (r != (int64_t)sizeof(half))
		fail_msg("after a FALLOCATE that failed (%lld), a 512 KiB write under a 1 MiB cap: %lld", (long long)fa, (long long)r);
	/* And the cap still holds: 1 MiB more is over it. */
	static char more[600 << 10];
	r = call(LBVM_IO_WRITE, fh, 512 << 10, 0, more, sizeof(more), 0);
	assert_int_equal(r, -EDQUOT);
}

/* ================= 9. STATAT of a mount point below a mount without :xdev ================= */

static char inner_mnt[300];

static int xdev_teardown(void **state)
{
	if (inner_mnt[0]) {
		umount2(inner_mnt, MNT_DETACH);
		inner_mnt[0] = 0;
	}
	return dev_down(state);
}

static void statat_stops_at_mount_points(void **state)
{
	(void)state;
	if (!can_mount) {
		print_message("statat_stops_at_mount_points: SKIP: no private mount namespace (not root?), cannot make a mount point\n");
		skip();
	}
	dev_up();
	snprintf(inner_mnt, sizeof(inner_mnt), "%s/mnt", dir_rw);
	assert_int_equal(mkdir(inner_mnt, 0755), 0);
	if (mount("tmpfs", inner_mnt, "tmpfs", 0, "size=64k") != 0) {
		inner_mnt[0] = 0;
		print_message("statat_stops_at_mount_points: SKIP: mount tmpfs: %s\n", strerror(errno));
		skip();
	}
	put_file(inner_mnt, "secret", "other file system");
	/* LOOKUP refuses it (RESOLVE_NO_XDEV): STATAT must agree. */
	assert_int_equal(call(LBVM_IO_LOOKUP, root_rw, 0, 0, "mnt", 3, 96), -EXDEV);
	int64_t r = call(LBVM_IO_STATAT, root_rw, 0, 0, "mnt", 3, 96);
	if (r != -EXDEV)
		fail_msg("STATAT of a mount point below a mount without :xdev: %lld (mode %o), not -EXDEV", (long long)r,
			 last_attr().mode);
	/* OPEN of a file that is itself a mount point (a bind mount over it). */
	char f[320];
	snprintf(f, sizeof(f), "%s/secret", inner_mnt);
	put_file(dir_rw, "bound", "plain");
	char b[320];
	snprintf(b, sizeof(b), "%s/bound", dir_rw);
	assert_int_equal(mount(f, b, NULL, MS_BIND, NULL), 0);
	r = call(LBVM_IO_OPEN, root_rw, 0, LBVM_OPEN_READ, "bound", 5, 96);
	umount2(b, MNT_DETACH);
	if (r != -EXDEV)
		fail_msg("OPEN of a bind-mounted file below a mount without :xdev: %lld, not -EXDEV", (long long)r);
	r = call(LBVM_IO_STATAT, root_rw, 0, 0, "bound", 5, 96);
	assert_true(r == 0 || r == -EXDEV);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(ro_mount_refuses_every_write),
		T(bad_names_are_einval),
		T(bad_handles),
		T(buffers_that_do_not_match),
		T(fifo_swapped_in_is_never_opened),
		cmocka_unit_test_teardown(failed_fallocate_refunds_the_cap, tiny_teardown),
		cmocka_unit_test_teardown(statat_stops_at_mount_points, xdev_teardown),
	};
	return hostile_main("hostile-fs", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
