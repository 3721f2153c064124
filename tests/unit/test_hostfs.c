#define _GNU_SOURCE
/* test_hostfs.c: mount requests as a hostile guest would craft them, against the real device, io_uring and two temporary mounts. */
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
#include <sys/stat.h>
#include <unistd.h>
#include "hypercall/lbvm_abi.h"
#include "virtio/virtq.h"
#include "vmm/hostfs.h"
#include "vmm/iodev.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define RAM (4u << 20)
#define REQ 0x80000u
#define IN 0x81000u
#define OUT 0x100000u  /* up to 2 MiB of out buffer: room for a too-long request */
#define ST 0x80800u

static uint8_t ram[RAM] __attribute__((aligned(4096)));
static struct vm vm;
static struct iodev *io;
static struct virtq_driver drv;
static void *tokens[LBVM_IOQ_SIZE];
static char dir_a[64], dir_b[64];
static struct mount_spec specs[2];
static uint32_t root_a, root_b;

static void *gp(uint64_t gpa) { return ram + gpa; }

/* One request: in and out buffers as given (length 0: absent); returns the result, or INT64_MIN if the VM ended. */
static int64_t call(uint16_t op, uint32_t handle, uint64_t off, uint64_t arg, const void *in, uint32_t inlen, uint32_t outlen)
{
	struct lbvm_io_req *q = gp(REQ);
	*q = (struct lbvm_io_req){ .op = op, .handle = handle, .offset = off, .arg = arg };
	struct virtq_buf b[4];
	unsigned n = 0;
	b[n++] = (struct virtq_buf){ REQ, 24, 0 };
	if (inlen) {
		memcpy(gp(IN), in, inlen);
		b[n++] = (struct virtq_buf){ IN, inlen, 0 };
	}
	if (outlen)
		b[n++] = (struct virtq_buf){ OUT, outlen, 1 };
	b[n++] = (struct virtq_buf){ ST, 8, 1 };
	assert_int_equal(virtq_drv_add(&drv, b, n, (void *)1), 0);
	iodev_kick(io);
	uint32_t used;
	for (int i = 0; i < 5000; i++) {
		if (virtq_drv_get(&drv, &used)) {
			int64_t r;
			memcpy(&r, gp(ST), 8);
			return r;
		}
		usleep(200);
	}
	return INT64_MIN;
}

static uint32_t lookup(uint32_t dir, const char *name)
{
	int64_t r = call(LBVM_IO_LOOKUP, dir, 0, 0, name, (uint32_t)strlen(name), sizeof(struct lbvm_io_attr));
	assert_int_equal(r, 0);
	struct lbvm_io_attr a;
	memcpy(&a, gp(OUT), sizeof(a));
	return a.handle;
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir_a, "/tmp/lbvm-hostfs-a.XXXXXX");
	strcpy(dir_b, "/tmp/lbvm-hostfs-b.XXXXXX");
	assert_non_null(mkdtemp(dir_a));
	assert_non_null(mkdtemp(dir_b));
	char p[128];
	snprintf(p, sizeof(p), "%s/sub", dir_a);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/file", dir_a);
	FILE *f = fopen(p, "w");
	fputs("data", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s:/a:rw", dir_a);
	assert_int_equal(hostfs_parse_spec(p, &specs[0]), 0);
	snprintf(p, sizeof(p), "%s:/b", dir_b);
	assert_int_equal(hostfs_parse_spec(p, &specs[1]), 0);
	memset(&vm, 0, sizeof(vm));
	vm.gm.ram = ram;
	vm.gm.ram_size = RAM;
	assert_int_equal(hostfs_open(specs, 2, &vm.hostfs), 0);
	struct lbvm_mount tab[2];
	hostfs_fill_table(vm.hostfs, tab);
	root_a = tab[0].root;
	root_b = tab[1].root;
	assert_int_equal(tab[1].flags & LBVM_MOUNT_RO, LBVM_MOUNT_RO);
	assert_int_equal(iodev_create(&vm, &io), 0);
	assert_int_equal(virtq_drv_init(&drv, gp(LBVM_GPA_IOQ), LBVM_IOQ_SIZE, tokens), 0);
	assert_int_equal(iodev_start(io), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir_a, dir_b);
	return system(cmd) == 0 ? 0 : -1;
}

static void names_are_one_component(void **state)
{
	(void)state;
	static const char *const bad[] = { "..", ".", "sub/../..", "/etc", "a\0b" };
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(call(LBVM_IO_LOOKUP, root_a, 0, 0, bad[i], (uint32_t)strlen(bad[i]), sizeof(struct lbvm_io_attr)), -EINVAL);
	assert_int_equal(call(LBVM_IO_LOOKUP, root_a, 0, 0, bad[4], 3, sizeof(struct lbvm_io_attr)), -EINVAL);
	char longname[300];
	memset(longname, 'x', sizeof(longname));
	assert_int_equal(call(LBVM_IO_LOOKUP, root_a, 0, 0, longname, 256, sizeof(struct lbvm_io_attr)), -EINVAL);
	assert_int_not_equal(lookup(root_a, "sub"), 0);
}

static void huge_lengths_and_bad_handles_fail_alone(void **state)
{
	(void)state;
	/* More than 1 MiB of out buffer: refused, the VM goes on. */
	uint32_t fh;
	int64_t r = call(LBVM_IO_OPEN, root_a, 0, LBVM_OPEN_READ, "file", 4, sizeof(struct lbvm_io_attr));
	assert_int_equal(r, 0);
	struct lbvm_io_attr a;
	memcpy(&a, gp(OUT), sizeof(a));
	fh = a.handle;
	assert_int_equal(call(LBVM_IO_READ, fh, 0, 0, NULL, 0, LBVM_IO_MAX_LEN + 4096), -EINVAL);
	assert_int_equal(call(LBVM_IO_READ, fh, 0, 0, NULL, 0, 16), 4);
	assert_memory_equal(gp(OUT), "data", 4);
	/* An offset near the end of the 64-bit range. */
	assert_int_equal(call(LBVM_IO_READ, fh, UINT64_MAX - 10, 0, NULL, 0, 16), -EINVAL);
	/* Handles out of range, never given out, of the wrong kind, closed. */
	assert_int_equal(call(LBVM_IO_GETATTR, 999999, 0, 0, NULL, 0, sizeof(a)), -EBADF);
	assert_int_equal(call(LBVM_IO_GETATTR, LBVM_H_FIRST_HOST + LBVM_H_MAX - 1, 0, 0, NULL, 0, sizeof(a)), -EBADF);
	assert_int_equal(call(LBVM_IO_GETATTR, LBVM_H_STDOUT, 0, 0, NULL, 0, sizeof(a)), -EBADF);  /* stdio is not a mount handle */
	assert_int_equal(call(LBVM_IO_WRITE, fh, 0, 0, "x", 1, 0), -EBADF);      /* opened for reading only */
	assert_int_equal(call(LBVM_IO_LOOKUP, fh, 0, 0, "x", 1, sizeof(a)), -ENOTDIR);
	assert_int_equal(call(LBVM_IO_CLOSE, fh, 0, 0, NULL, 0, 0), 0);
	assert_int_equal(call(LBVM_IO_READ, fh, 0, 0, NULL, 0, 16), -EBADF);
	assert_int_equal(call(LBVM_IO_CLOSE, root_a, 0, 0, NULL, 0, 0), -EPERM);
	/* Buffers that do not match the operation. */
	assert_int_equal(call(LBVM_IO_GETATTR, root_a, 0, 0, NULL, 0, 8), -EINVAL);
	assert_int_equal(call(LBVM_IO_MKDIR, root_a, 0, 0755, NULL, 0, 0), -EINVAL);
	assert_int_equal(call(LBVM_IO_OPEN, root_a, 0, 0, "file", 4, sizeof(a)), -EINVAL);           /* neither read nor write */
	assert_int_equal(call(LBVM_IO_OPEN, root_a, 0, 0x1000 | LBVM_OPEN_READ, "file", 4, sizeof(a)), -EINVAL);
}

static void handles_stay_in_their_mount(void **state)
{
	(void)state;
	uint32_t sub = lookup(root_a, "sub");
	/* A rename or link whose second directory is of another mount: EXDEV, nothing moves. */
	const char two[] = "file\0moved";
	assert_int_equal(call(LBVM_IO_RENAME, root_a, 0, root_b, two, sizeof(two) - 1, 0), -EXDEV);
	assert_int_equal(call(LBVM_IO_LINK, root_a, 0, root_b, two, sizeof(two) - 1, 0), -EXDEV);
	assert_int_equal(call(LBVM_IO_RENAME, root_a, 0, 12345, two, sizeof(two) - 1, 0), -EBADF);
	assert_int_equal(call(LBVM_IO_RENAME, root_a, 0, (uint64_t)sub | (8ull << 32), two, sizeof(two) - 1, 0), -EINVAL);
	char p[128];
	snprintf(p, sizeof(p), "%s/file", dir_a);
	assert_int_equal(access(p, F_OK), 0);
	/* Within the mount it works. */
	assert_int_equal(call(LBVM_IO_RENAME, root_a, 0, sub, two, sizeof(two) - 1, 0), 0);
	snprintf(p, sizeof(p), "%s/sub/moved", dir_a);
	assert_int_equal(access(p, F_OK), 0);
	/* The read-only mount refuses every write, whatever the guest asks. */
	assert_int_equal(call(LBVM_IO_MKDIR, root_b, 0, 0755, "d", 1, 0), -EROFS);
	assert_int_equal(call(LBVM_IO_OPEN, root_b, 0, LBVM_OPEN_WRITE | LBVM_OPEN_CREATE, "n", 1, sizeof(struct lbvm_io_attr)), -EROFS);
	const char sl[] = "/etc\0link";
	assert_int_equal(call(LBVM_IO_SYMLINK, root_b, 0, 0, sl, sizeof(sl) - 1, 0), -EROFS);
}

static void set_id_bits_never_reach_the_host(void **state)
{
	(void)state;
	int64_t r = call(LBVM_IO_OPEN, root_a, 0, LBVM_OPEN_WRITE | LBVM_OPEN_CREATE | LBVM_OPEN_EXCL | (06755ull << 32), "suid", 4,
			 sizeof(struct lbvm_io_attr));
	assert_int_equal(r, 0);
	struct lbvm_io_attr a;
	memcpy(&a, gp(OUT), sizeof(a));
	struct lbvm_io_setattr sa = { .valid = LBVM_SETATTR_MODE, .mode = 06777 };
	assert_int_equal(call(LBVM_IO_SETATTR, a.handle, 0, 0, &sa, sizeof(sa), 0), 0);
	char p[128];
	snprintf(p, sizeof(p), "%s/suid", dir_a);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 06000, 0);
	sa = (struct lbvm_io_setattr){ .valid = LBVM_SETATTR_OWNER, .uid = 1234, .gid = 1234 };
	assert_int_equal(call(LBVM_IO_SETATTR, a.handle, 0, 0, &sa, sizeof(sa), 0), -EPERM);
}

int main(void)
{
	log_max = LOG_SILENT;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_are_one_component),
		cmocka_unit_test(huge_lengths_and_bad_handles_fail_alone),
		cmocka_unit_test(handles_stay_in_their_mount),
		cmocka_unit_test(set_id_bits_never_reach_the_host),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
