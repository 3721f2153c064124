/* test_kvm.c: kvm_open_vm's messages when /dev/kvm is missing or not a character device, with open() faked (nothing under /dev changes). */
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

#include "vmm/log.h"
#include "vmm/vm.h"

/* The log helper, replaced: the test reads the last message instead of stderr. */
enum log_level log_max = LOG_WARN;
static char last_msg[1024];

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	(void)lvl;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
}

/* open(2), wrapped (-Wl,--wrap): what "/dev/kvm" is this time. Other paths are opened as they are. */
static enum { DEV_MISSING, DEV_REGULAR, DEV_DIR, DEV_NO_MODULE, DEV_OTHER_CHAR } dev_kind;
static char regular_path[] = "/tmp/lbvm-test-kvm.XXXXXX";
static int open_flags;

int __real_open64(const char *path, int flags, ...);
int __real_open(const char *path, int flags, ...);

static int fake_open(const char *path, int flags, mode_t mode, int (*real)(const char *, int, ...))
{
	if (strcmp(path, "/dev/kvm"))
		return real(path, flags, mode);
	open_flags = flags;
	switch (dev_kind) {
	case DEV_MISSING: errno = ENOENT; return -1;
	case DEV_DIR: errno = EISDIR; return -1;
	case DEV_NO_MODULE: errno = ENXIO; return -1;
	case DEV_REGULAR: return real(regular_path, flags, 0);
	case DEV_OTHER_CHAR: return real("/dev/null", O_RDWR | O_CLOEXEC, 0);  /* a character device, but not KVM */
	}
	return -1;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) ? va_arg(ap, mode_t) : 0;
}

int __wrap_open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return fake_open(path, flags, mode, __real_open64);
}

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return fake_open(path, flags, mode, __real_open);
}

static struct vm_config cfg = { .prog = "prog", .mem = 64 << 20 };

/* kvm_open_vm with /dev/kvm as dev_kind says: its status, and the message must contain each of want[] */
static void expect_error(const char *const *want)
{
	struct vm vm;
	memset(&vm, 0, sizeof(vm));
	vm.cfg = &cfg;
	vm.kvm_fd = vm.vm_fd = vm.vcpu_fd = -1;
	last_msg[0] = 0;
	assert_int_equal(kvm_open_vm(&vm), EXIT_LBVM_ERROR);
	assert_false(open_flags & O_CREAT);  /* lbvm never creates /dev/kvm */
	for (; *want; want++)
		if (!strstr(last_msg, *want))
			fail_msg("message '%s' lacks '%s'", last_msg, *want);
	if (vm.kvm_fd >= 0)
		close(vm.kvm_fd);
}

static void kvm_missing(void **state)
{
	(void)state;
	dev_kind = DEV_MISSING;
	expect_error((const char *[]){ "/dev/kvm: missing", "kvm_intel or kvm_amd", "nested virtualization", "kvm-pvm", NULL });
}

static void kvm_regular_file(void **state)
{
	(void)state;
	dev_kind = DEV_REGULAR;
	expect_error((const char *[]){ "/dev/kvm: not a character device but a regular file", "rm /dev/kvm",
				      "kvm_intel or kvm_amd", "nested virtualization", "kvm-pvm", NULL });
}

static void kvm_directory(void **state)
{
	(void)state;
	dev_kind = DEV_DIR;
	expect_error((const char *[]){ "/dev/kvm: not a character device but a directory", "kvm_intel or kvm_amd", NULL });
}

static void kvm_module_not_loaded(void **state)
{
	(void)state;
	dev_kind = DEV_NO_MODULE;
	expect_error((const char *[]){ "the KVM module is not loaded", "kvm_intel or kvm_amd", NULL });
}

/* A character device that is not KVM gets past the checks above and fails on the first KVM ioctl. */
static void kvm_other_char_device(void **state)
{
	(void)state;
	dev_kind = DEV_OTHER_CHAR;
	expect_error((const char *[]){ "/dev/kvm: KVM API version -1", NULL });
}

int main(void)
{
	int fd = mkstemp(regular_path);
	if (fd < 0)
		return 1;
	close(fd);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kvm_missing),
		cmocka_unit_test(kvm_regular_file),
		cmocka_unit_test(kvm_directory),
		cmocka_unit_test(kvm_module_not_loaded),
		cmocka_unit_test(kvm_other_char_device),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(regular_path);
	return r;
}
