#define _GNU_SOURCE
/*
 * test_hostile.c: the I/O device attacked directly, as a guest that took over our kernel would: raw
 * descriptors, avail entries and indices written by hand over a fake guest memory, against the real
 * iodev, hostfs and io_uring. A fresh device per test, since a failed VM stays failed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "hypercall/lbvm_abi.h"
#include "virtio/virtq.h"
#include "vmm/hostfs.h"
#include "vmm/iodev.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define RAM_SIZE  (8u << 20)
#define SLOTS     0x100000u   /* 64 request slots of 8 KiB: request, status, in, out */
#define SLOT_SIZE 0x2000u
#define BIG       0x200000u   /* in-buffers over 4 KiB here, out-buffers over 3.5 KiB at BIG_OUT */
#define BIG_OUT   0x400000u
#define Q         LBVM_IOQ_SIZE

#define R_VMFAIL  ((int64_t)INT64_MIN)       /* the VM ended */
#define R_HANG    ((int64_t)INT64_MIN + 1)   /* no answer in time, VM still running */

/* ---- one fresh device: guest RAM, mounts, iodev ---- */

static uint8_t *ram;
static struct vm vm;
static struct iodev *io;
static int io_started;
static char top[64];          /* main()'s directory for every test's files: removed even after a crash */
static char base[96], dir_rw[128], dir_ro[128], dir_out[128];
static uint64_t out_sig;
static uint64_t tree_sig(const char *dir);
static uint32_t root_rw, root_ro;
static volatile struct virtq_desc *vdesc;
static volatile struct virtq_avail *vavail;
static volatile struct virtq_used *vused;
static uint16_t aidx;         /* the avail index we published */
static int can_mount;         /* main() got a private mount namespace */
static int stdin_saved = -1;

static void *gp(uint64_t gpa) { return ram + gpa; }

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void put_file(const char *dir, const char *name, const char *content)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void fill_dir(const char *dir)
{
	char p[256];
	put_file(dir, "file", "data");
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	put_file(p, "inner", "inner data");
	snprintf(p, sizeof(p), "%s/link", dir);
	assert_int_equal(symlink("file", p), 0);
}

/* A fault in any thread (the I/O thread's, mostly) ends the test process by that signal, for main() to name. */
static void on_fault(int sig)
{
	static const char msg[] = "CRASH: the device faulted (signal below)\n";
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Build a device over a fresh RAM; rw_opts is appended to the rw mount's spec (e.g. ":max=1M"). */
static void dev_up_opts(const char *rw_opts, const char *rw_host)
{
	/* cmocka's own handlers would turn a fault of the I/O thread into a bare exit status */
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fault);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ram != MAP_FAILED);
	memset(&vm, 0, sizeof(vm));
	vm.gm.ram = ram;
	vm.gm.ram_size = RAM_SIZE;
	/* base/rw and base/ro are the mounts; base/outside is what the guest must never reach. */
	snprintf(base, sizeof(base), "%s/t.XXXXXX", top);
	assert_non_null(mkdtemp(base));
	snprintf(dir_rw, sizeof(dir_rw), "%s/rw", base);
	snprintf(dir_ro, sizeof(dir_ro), "%s/ro", base);
	snprintf(dir_out, sizeof(dir_out), "%s/outside", base);
	assert_int_equal(mkdir(dir_rw, 0755), 0);
	assert_int_equal(mkdir(dir_ro, 0755), 0);
	assert_int_equal(mkdir(dir_out, 0755), 0);
	put_file(dir_out, "secret", "not for the guest");
	out_sig = tree_sig(dir_out);
	fill_dir(dir_ro);
	if (!rw_host)
		fill_dir(dir_rw);
	static struct mount_spec specs[2];
	static char a0[300], a1[300];
	snprintf(a0, sizeof(a0), "%s:/rw:rw%s", rw_host ? rw_host : dir_rw, rw_opts ? rw_opts : "");
	snprintf(a1, sizeof(a1), "%s:/ro", dir_ro);
	assert_int_equal(hostfs_parse_spec(a0, &specs[0]), 0);
	assert_int_equal(hostfs_parse_spec(a1, &specs[1]), 0);
	assert_int_equal(hostfs_open(specs, 2, &vm.hostfs), 0);
	struct lbvm_mount tab[2];
	hostfs_fill_table(vm.hostfs, tab);
	root_rw = tab[0].root;
	root_ro = tab[1].root;
	assert_int_equal(iodev_create(&vm, &io), 0);
	struct virtq_layout l;
	assert_int_equal(virtq_layout(Q, &l), 0);
	vdesc = (volatile struct virtq_desc *)gp(LBVM_GPA_IOQ + l.desc_off);
	vavail = (volatile struct virtq_avail *)gp(LBVM_GPA_IOQ + l.avail_off);
	vused = (volatile struct virtq_used *)gp(LBVM_GPA_IOQ + l.used_off);
	aidx = 0;
	assert_int_equal(iodev_start(io), 0);
	io_started = 1;
}

static void dev_up(void) { dev_up_opts(NULL, NULL); }

static void rm_rf(const char *d)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "test_hostile: could not remove %s\n", d);
}

static int dev_down(void **state)
{
	(void)state;
	if (io) {
		iodev_destroy(io, io_started);
		hostfs_close(vm.hostfs);
		munmap(ram, RAM_SIZE);
	}
	io = NULL;
	io_started = 0;
	if (stdin_saved >= 0) {
		dup2(stdin_saved, 0);
		close(stdin_saved);
		stdin_saved = -1;
	}
	int ret = 0;
	if (base[0]) {
		/* Whatever the test did through the device, nothing beside the mounts changed. */
		if (tree_sig(dir_out) != out_sig) {
			print_error("the host changed outside the mounts: %s\n", dir_out);
			ret = -1;
		}
		rm_rf(base);
	}
	base[0] = dir_rw[0] = dir_ro[0] = 0;
	return ret;
}

/* ---- the guest's side of the queue, by hand ---- */

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	vdesc[i].addr = addr;
	vdesc[i].len = len;
	vdesc[i].flags = flags;
	vdesc[i].next = next;
}

static void post(uint16_t head)
{
	vavail->ring[aidx & (Q - 1)] = head;
	aidx++;
	__atomic_store_n(&vavail->idx, aidx, __ATOMIC_RELEASE);
}

static uint16_t used_now(void) { return __atomic_load_n(&vused->idx, __ATOMIC_ACQUIRE); }

static int vm_failed(void)
{
	return iodev_error(io)[0] != 0;
}

/* Was head used since used index `since`? */
static int used_has(uint16_t since, uint16_t head, uint32_t *len)
{
	for (uint16_t i = since; i != used_now(); i++) {
		if (vused->ring[i & (Q - 1)].id == head) {
			if (len)
				*len = vused->ring[i & (Q - 1)].len;
			return 1;
		}
	}
	return 0;
}

/*
 * Wait until the VM ends, at most ms. Then iodev_wait_for_guest must say so too (it takes the lock,
 * so it sees the whole message). 1 if it ended, 0 if not.
 */
static int wait_vm_end(unsigned ms)
{
	uint64_t end = now_ms() + ms;
	while (!vm_failed() && now_ms() < end)
		usleep(500);
	if (!vm_failed())
		return 0;
	assert_int_equal(iodev_wait_for_guest(io), -1);
	return 1;
}

static uint64_t slot_gpa(unsigned s) { return SLOTS + (uint64_t)s * SLOT_SIZE; }
#define SLOT_REQ(s) (slot_gpa(s))
#define SLOT_ST(s)  (slot_gpa(s) + 0x20)
#define SLOT_IN(s)  (slot_gpa(s) + 0x100)
#define SLOT_OUT(s) (slot_gpa(s) + 0x1100)

/*
 * A well-formed request in slot s (descriptors 4s..4s+3): in and out buffers as given (length 0:
 * absent; more than fits the slot: taken from BIG). Returns the head.
 */
static uint16_t slot_build(unsigned s, uint16_t op, uint32_t handle, uint64_t off, uint64_t arg, const void *in,
			   uint32_t inlen, uint32_t outlen)
{
	struct lbvm_io_req q = { .op = op, .handle = handle, .offset = off, .arg = arg };
	memcpy(gp(SLOT_REQ(s)), &q, sizeof(q));
	int64_t poison = 0x5a5a5a5a;
	memcpy(gp(SLOT_ST(s)), &poison, 8);
	unsigned d = 4 * s, n = 0;
	uint64_t inb = inlen > 0x1000 ? BIG : SLOT_IN(s), outb = outlen > 0xe00 ? BIG_OUT : SLOT_OUT(s);
	set_desc(d + n, SLOT_REQ(s), sizeof(q), VIRTQ_DESC_F_NEXT, (uint16_t)(d + n + 1));
	n++;
	if (inlen) {
		memcpy(gp(inb), in, inlen);
		set_desc(d + n, inb, inlen, VIRTQ_DESC_F_NEXT, (uint16_t)(d + n + 1));
		n++;
	}
	if (outlen) {
		set_desc(d + n, outb, outlen, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(d + n + 1));
		n++;
	}
	set_desc(d + n, SLOT_ST(s), 8, VIRTQ_DESC_F_WRITE, 0);
	return (uint16_t)d;
}

static int64_t slot_result(unsigned s)
{
	int64_t r;
	memcpy(&r, gp(SLOT_ST(s)), 8);
	return r;
}


/* Post the chain at head, kick, and wait up to ms for its used entry: the status, R_VMFAIL or R_HANG. */
static int64_t run_head(uint16_t head, unsigned s, unsigned ms)
{
	uint16_t since = used_now();
	post(head);
	iodev_kick(io);
	uint64_t end = now_ms() + ms;
	for (unsigned i = 0;; i++) {
		if (used_has(since, head, NULL))
			return slot_result(s);
		if (vm_failed())
			return R_VMFAIL;
		if (now_ms() > end)
			return R_HANG;
		if (i < 100)
			sched_yield();
		else
			usleep(50);
	}
}

/* One well-formed request in slot 0, answered within 2 s. */
static int64_t call(uint16_t op, uint32_t handle, uint64_t off, uint64_t arg, const void *in, uint32_t inlen,
		    uint32_t outlen)
{
	return run_head(slot_build(0, op, handle, off, arg, in, inlen, outlen), 0, 2000);
}

static struct lbvm_io_attr last_attr(void)
{
	struct lbvm_io_attr a;
	memcpy(&a, gp(SLOT_OUT(0)), sizeof(a));
	return a;
}

static uint32_t do_open(uint32_t dir, const char *name, uint64_t flags)
{
	int64_t r = call(LBVM_IO_OPEN, dir, 0, flags, name, (uint32_t)strlen(name), sizeof(struct lbvm_io_attr));
	assert_int_equal(r, 0);
	return last_attr().handle;
}

static uint32_t do_lookup(uint32_t dir, const char *name)
{
	int64_t r = call(LBVM_IO_LOOKUP, dir, 0, 0, name, (uint32_t)strlen(name), sizeof(struct lbvm_io_attr));
	assert_int_equal(r, 0);
	return last_attr().handle;
}

/* ---- what a host directory holds: names, types, modes, sizes, contents, link targets ---- */

static uint64_t sig_acc;
static size_t sig_root_len;

static void sig_mix(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		sig_acc ^= b[i];
		sig_acc *= 1099511628211ull;
	}
}

static int sig_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	/* Entries are mixed order-independently: each is hashed alone and added. */
	uint64_t save = sig_acc;
	sig_acc = 14695981039346656037ull;
	sig_mix(path + sig_root_len, strlen(path + sig_root_len) + 1);
	uint32_t mode = st->st_mode;
	sig_mix(&mode, sizeof(mode));
	if (S_ISREG(st->st_mode) || S_ISLNK(st->st_mode)) {
		int64_t size = st->st_size;
		sig_mix(&size, sizeof(size));
	}
	if (S_ISREG(st->st_mode)) {
		int fd = open(path, O_RDONLY | O_NONBLOCK);
		char buf[4096];
		ssize_t n;
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			sig_mix(buf, (size_t)n);
		if (fd >= 0)
			close(fd);
	} else if (S_ISLNK(st->st_mode)) {
		char buf[4096];
		ssize_t n = readlink(path, buf, sizeof(buf));
		if (n > 0)
			sig_mix(buf, (size_t)n);
	}
	sig_acc += save;
	return 0;
}

static uint64_t tree_sig(const char *dir)
{
	sig_acc = 0;
	sig_root_len = strlen(dir);
	assert_int_equal(nftw(dir, sig_one, 16, FTW_PHYS), 0);
	return sig_acc;
}

/* ================= 1. heads the device still holds, posted again ================= */

static void expect_posted_again(uint16_t head)
{
	int ended = wait_vm_end(2000);
	if (!ended)
		fail_msg("head %u posted again while held: the VM goes on (no error after 2 s)", head);
	char num[16];
	snprintf(num, sizeof(num), "%u", head);
	const char *e = iodev_error(io);
	if (!strstr(e, "posted") || !strstr(e, "again") || !strstr(e, num))
		fail_msg("head %u posted again: the VM ended, but the error does not say so: '%s'", head, iodev_error(io));
}

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
	uint16_t seen = used_now();
	unsigned reposts = 0, idle = 0;
	uint64_t worst = 0;
	for (unsigned round = 0; round < 6 && !vm_failed(); round++) {
		/* Each round starts from a quiet queue: the TIMEOUT, then the whole flood at once. */
		uint64_t quiet = now_ms() + 1000;
		while ((uint16_t)(aidx - used_now()) != 0 && now_ms() < quiet)
			usleep(1000);
		seen = used_now();
		uint64_t t0 = now_ms(), done_at = 0, flood_end = t0 + 1500;
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
		if (done_at - t0 > 250)
			fail_msg("round %u: a 50 ms TIMEOUT completed only after %llu ms, among %u reposted requests that complete at once",
				 round, (unsigned long long)(done_at - t0), reposts);
	}
	assert_false(vm_failed());
	print_message("flood: the 50 ms timeouts took at most %llu ms among %u reposted requests\n", (unsigned long long)worst, reposts);
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
	unsigned n = open_storm(flags, 1200, &worst);
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

/* ---- the list ---- */

#define MALFORMED(c) { "malformed_chain_" #c, malformed_chain, NULL, dev_down, (void *)(uintptr_t)c }
#define T(f) cmocka_unit_test_teardown(f, dev_down)

int main(int argc, char **argv)
{
	log_max = LOG_SILENT;
	/* A private mount namespace, before any thread: the test's mounts vanish with it. */
	if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		can_mount = 1;
	const struct CMUnitTest tests[] = {
		T(repost_held_timeout),
		T(repost_held_mount_request),
		T(repost_held_timeout_as_mount_request),
		T(repost_held_stdin_read),
		MALFORMED(BC_LOOP), MALFORMED(BC_LOOP_SELF), MALFORMED(BC_OUTSIDE), MALFORMED(BC_HUGE_LEN),
		MALFORMED(BC_ADDR_WRAP), MALFORMED(BC_INDIRECT), MALFORMED(BC_WRITABLE_FIRST), MALFORMED(BC_NINE),
		MALFORMED(BC_FIVE), MALFORMED(BC_AVAIL_JUMP), MALFORMED(BC_HEAD_RANGE), MALFORMED(BC_NEXT_RANGE),
		MALFORMED(BC_SHORT_REQ), MALFORMED(BC_SHORT_STATUS), MALFORMED(BC_ONE),
		T(huge_buffer_inside_memory_fails_request),
		T(descriptors_change_under_the_device),
		T(ro_mount_refuses_every_write),
		T(bad_names_are_einval),
		T(bad_handles),
		T(buffers_that_do_not_match),
		T(flood_of_a_held_head),
		T(flood_cannot_starve_completions),
		T(fifo_swapped_in_is_never_opened),
		cmocka_unit_test_teardown(failed_fallocate_refunds_the_cap, tiny_teardown),
		cmocka_unit_test_teardown(statat_stops_at_mount_points, xdev_teardown),
	};
	/*
	 * Each test in its own process, bounded in time: a crash or a hang of the device fails that test
	 * (it is what the test looks for) and the others still run. An argument runs only the tests whose
	 * names contain it.
	 */
	strcpy(top, "/tmp/lbvm-hostile.XXXXXX");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	unsigned n = sizeof(tests) / sizeof(tests[0]), passed = 0, failed = 0;
	for (unsigned i = 0; i < n; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		fflush(stdout);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(_cmocka_run_group_tests(tests[i].name, &tests[i], 1, NULL, NULL) ? 1 : 0);
		int st = 0;
		uint64_t end = now_ms() + 20000;
		while (waitpid(pid, &st, WNOHANG) == 0) {
			if (now_ms() > end) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				printf("HANG: %s: no end after 20 s, killed\n", tests[i].name);
				break;
			}
			usleep(5000);
		}
		if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
			printf("CRASH: %s: the test process died of signal %d (%s)\n", tests[i].name, WTERMSIG(st),
			       strsignal(WTERMSIG(st)));
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			passed++;
		} else {
			failed++;
			printf("FAILED: %s (%s %d)\n", tests[i].name, WIFEXITED(st) ? "exit status" : "signal",
			       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		}
	}
	if (can_mount) {
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "umount -R -l %s/* 2>/dev/null", top);
		if (system(cmd)) {
			/* nothing was left mounted */
		}
	}
	rm_rf(top);
	printf("hostile: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
