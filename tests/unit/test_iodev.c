/* test_iodev.c: the I/O device end to end against a fake guest memory: real io_uring, a driver-side queue, hostile requests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hypercall/lbvm_abi.h"
#include "virtio/virtq.h"
#include "vmm/iodev.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define RAM (1u << 20)
#define DATA 0x80000u  /* guest-physical scratch area for requests */

static uint8_t ram[RAM] __attribute__((aligned(4096)));
static struct vm vm;
static struct iodev *io;
static struct virtq_driver drv;
static void *tokens[LBVM_IOQ_SIZE];
static int saved_stdout = -1, pipe_fds[2] = { -1, -1 };

static void *gp(uint64_t gpa) { return ram + gpa; }

/* Post one chain built from the given buffers and wait until the device answers (or gives up). */
static int post_and_wait(struct virtq_buf *b, unsigned n, uint32_t *used_len)
{
	assert_int_equal(virtq_drv_add(&drv, b, n, (void *)1), 0);
	iodev_kick(io);
	for (int i = 0; i < 2000; i++) {
		if (virtq_drv_get(&drv, used_len))
			return 0;
		usleep(1000);
		if (iodev_wait_for_guest(io) < 0)
			return -1;
	}
	return -1;
}

static int setup(void **state)
{
	(void)state;
	memset(ram, 0, sizeof(ram));
	memset(&vm, 0, sizeof(vm));
	vm.gm.ram = ram;
	vm.gm.ram_size = RAM;
	assert_int_equal(pipe(pipe_fds), 0);
	saved_stdout = dup(1);
	assert_int_equal(iodev_create(&vm, &io), 0);
	assert_int_equal(virtq_drv_init(&drv, gp(LBVM_GPA_IOQ), LBVM_IOQ_SIZE, tokens), 0);
	assert_int_equal(iodev_start(io), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(saved_stdout);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	return 0;
}

static struct lbvm_io_req *req_at(uint64_t gpa, uint16_t op, uint32_t handle, uint64_t off, uint64_t arg)
{
	struct lbvm_io_req *q = gp(gpa);
	*q = (struct lbvm_io_req){ .op = op, .handle = handle, .offset = off, .arg = arg };
	return q;
}

static void write_reaches_host(void **state)
{
	(void)state;
	req_at(DATA, LBVM_IO_WRITE, LBVM_H_STDOUT, LBVM_IO_STREAM, 0);
	memcpy(gp(DATA + 0x100), "ring ok\n", 8);
	struct virtq_buf b[3] = { { DATA, 24, 0 }, { DATA + 0x100, 8, 0 }, { DATA + 0x200, 8, 1 } };
	uint32_t len = 0;
	/* The device writes handle 1 to fd 1: point fd 1 at a pipe while the request runs. */
	fflush(stdout);
	dup2(pipe_fds[1], 1);
	int r = post_and_wait(b, 3, &len);
	dup2(saved_stdout, 1);
	assert_int_equal(r, 0);
	int64_t res;
	memcpy(&res, gp(DATA + 0x200), 8);
	assert_int_equal(res, 8);
	assert_int_equal(len, 8);
	char buf[16] = { 0 };
	assert_int_equal(read(pipe_fds[0], buf, sizeof(buf)), 8);
	assert_string_equal(buf, "ring ok\n");
}

static void timeout_completes(void **state)
{
	(void)state;
	req_at(DATA, LBVM_IO_TIMEOUT, 0, 0, 2000000);
	struct virtq_buf b[2] = { { DATA, 24, 0 }, { DATA + 0x200, 8, 1 } };
	uint32_t len;
	assert_int_equal(post_and_wait(b, 2, &len), 0);
	int64_t res;
	memcpy(&res, gp(DATA + 0x200), 8);
	assert_int_equal(res, 0);
}

/* Well-formed chains with bad contents fail the request and the VM goes on. */
static void bad_requests_fail_alone(void **state)
{
	(void)state;
	struct { uint16_t op; uint32_t handle; uint64_t off; uint16_t flags; int64_t want; } cases[] = {
		{ 99, LBVM_H_STDOUT, LBVM_IO_STREAM, 0, -ENOSYS },
		{ LBVM_IO_WRITE, 7, LBVM_IO_STREAM, 0, -EBADF },
		{ LBVM_IO_WRITE, LBVM_H_STDIN, LBVM_IO_STREAM, 0, -EBADF },
		{ LBVM_IO_READ, LBVM_H_STDOUT, LBVM_IO_STREAM, 0, -EBADF },
		{ LBVM_IO_WRITE, LBVM_H_STDOUT, 0, 0, -ESPIPE },
		{ LBVM_IO_WRITE, LBVM_H_STDOUT, LBVM_IO_STREAM, 1, -EINVAL },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lbvm_io_req *q = req_at(DATA, cases[i].op, cases[i].handle, cases[i].off, 0);
		q->flags = cases[i].flags;
		struct virtq_buf b[3] = { { DATA, 24, 0 }, { DATA + 0x100, 8, cases[i].op == LBVM_IO_READ }, { DATA + 0x200, 8, 1 } };
		uint32_t len;
		assert_int_equal(post_and_wait(b, 3, &len), 0);
		int64_t res;
		memcpy(&res, gp(DATA + 0x200), 8);
		assert_int_equal(res, cases[i].want);
	}
	/* A timeout of more than a century is refused, not slept. */
	req_at(DATA, LBVM_IO_TIMEOUT, 0, 0, UINT64_MAX);
	struct virtq_buf t[2] = { { DATA, 24, 0 }, { DATA + 0x200, 8, 1 } };
	uint32_t len;
	assert_int_equal(post_and_wait(t, 2, &len), 0);
	int64_t res;
	memcpy(&res, gp(DATA + 0x200), 8);
	assert_int_equal(res, -EINVAL);
}

/* A chain pointing outside guest memory ends the VM, with a reason, and nothing is written. */
static void buffer_outside_memory_ends_vm(void **state)
{
	(void)state;
	req_at(DATA, LBVM_IO_WRITE, LBVM_H_STDOUT, LBVM_IO_STREAM, 0);
	struct virtq_buf b[3] = { { DATA, 24, 0 }, { RAM - 4, 64, 0 }, { DATA + 0x200, 8, 1 } };
	assert_int_equal(post_and_wait(b, 3, NULL), -1);
	assert_non_null(strstr(iodev_error(io), "malformed"));
	/* Once failed, the VM stays failed. */
	assert_int_equal(iodev_wait_for_guest(io), -1);
}

int main(void)
{
	log_max = LOG_SILENT; /* the handlers' messages are expected; keep the test output clean */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(write_reaches_host),
		cmocka_unit_test(timeout_completes),
		cmocka_unit_test(bad_requests_fail_alone),
		cmocka_unit_test(buffer_outside_memory_ends_vm),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
