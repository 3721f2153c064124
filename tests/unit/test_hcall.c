/* test_hcall.c: the checked guest-address translation and the hypercall dispatcher, against a fake guest memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hypercall/lbvm_abi.h"
#include "vmm/guestmem.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define RAM (1u << 20)

static uint8_t ram[RAM];
static struct guest_mem gm = { ram, RAM };

static void translate_bounds(void **state)
{
	(void)state;
	assert_ptr_equal(gm_translate(&gm, 0, 1), ram);
	assert_ptr_equal(gm_translate(&gm, RAM - 1, 1), ram + RAM - 1);
	assert_ptr_equal(gm_translate(&gm, 0, RAM), ram);
	assert_ptr_equal(gm_translate(&gm, RAM, 0), ram + RAM);
	assert_null(gm_translate(&gm, RAM, 1));
	assert_null(gm_translate(&gm, RAM - 1, 2));
	assert_null(gm_translate(&gm, 0, RAM + 1ull));
	assert_null(gm_translate(&gm, UINT64_MAX, 1));
	assert_null(gm_translate(&gm, 1, UINT64_MAX));            /* gpa + len wraps */
	assert_null(gm_translate(&gm, UINT64_MAX - 4, 10));
	assert_null(gm_translate(&gm, 0x4000, UINT64_MAX - 0x1000));
}

static struct vm_config cfg = { .prog = "prog" };

static struct vm fresh_vm(void)
{
	struct vm vm;
	memset(&vm, 0, sizeof(vm));
	vm.cfg = &cfg;
	vm.gm = gm;
	return vm;
}

static void exit_codes(void **state)
{
	(void)state;
	uint64_t ret = 0;
	struct vm vm = fresh_vm();
	uint64_t a[3] = { 42, 0, 0 };
	assert_int_equal(hc_dispatch(&vm, LBVM_HC_EXIT, a, &ret), 0);
	assert_true(vm.done);
	assert_int_equal(vm.status, 42);

	vm = fresh_vm();
	a[0] = LBVM_EXIT_SIGNALED | 11;
	a[1] = 0x10;
	hc_dispatch(&vm, LBVM_HC_EXIT, a, &ret);
	assert_int_equal(vm.status, 139);

	vm = fresh_vm();
	a[0] = LBVM_EXIT_SIGNALED | 0;  /* no signal 0 */
	hc_dispatch(&vm, LBVM_HC_EXIT, a, &ret);
	assert_int_equal(vm.status, EXIT_LBVM_ERROR);

	vm = fresh_vm();
	a[0] = 0x12345;                  /* bits outside the status */
	hc_dispatch(&vm, LBVM_HC_EXIT, a, &ret);
	assert_int_equal(vm.status, EXIT_LBVM_ERROR);
}

static void bad_numbers(void **state)
{
	(void)state;
	uint64_t ret = 0, a[3] = { 0, 0, 0 };
	uint32_t nrs[] = { 0, LBVM_HC_COUNT, 0x1000, UINT32_MAX };
	for (unsigned i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		struct vm vm = fresh_vm();
		assert_int_equal(hc_dispatch(&vm, nrs[i], a, &ret), -1);
		assert_true(vm.done);
		assert_int_equal(vm.status, EXIT_LBVM_ERROR);
	}
}

static void panic_message(void **state)
{
	(void)state;
	uint64_t ret = 0;
	memcpy(ram + 0x100, "oops\n", 5);
	struct vm vm = fresh_vm();
	uint64_t a[3] = { 0x100, 5, 0 };
	hc_dispatch(&vm, LBVM_HC_PANIC, a, &ret);
	assert_int_equal(vm.status, EXIT_LBVM_ERROR);
	/* message outside memory, or a huge length: still a clean VM end, no crash */
	uint64_t bad[][3] = { { RAM - 2, 200, 0 }, { UINT64_MAX, 16, 0 }, { 0, UINT64_MAX, 0 } };
	for (unsigned i = 0; i < 3; i++) {
		vm = fresh_vm();
		hc_dispatch(&vm, LBVM_HC_PANIC, bad[i], &ret);
		assert_true(vm.done);
		assert_int_equal(vm.status, EXIT_LBVM_ERROR);
	}
}

/* The panic line as lbvm prints it on stderr, for a message of len bytes at guest address 0x100. */
static void panic_line(const void *msg, uint64_t len, char *out, size_t size)
{
	memcpy(ram + 0x100, msg, len);
	FILE *f = tmpfile();
	assert_non_null(f);
	fflush(stderr);
	int saved = dup(2);
	assert_int_equal(dup2(fileno(f), 2), 2);
	enum log_level old = log_max;
	log_max = LOG_ERROR;
	struct vm vm = fresh_vm();
	uint64_t a[3] = { 0x100, len, 0 }, ret = 0;
	hc_dispatch(&vm, LBVM_HC_PANIC, a, &ret);
	fflush(stderr);
	log_max = old;
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t n = fread(out, 1, size - 1, f);
	out[n] = 0;
	fclose(f);
}

/* A guest's panic text reaches the user's terminal: no escape sequences, C0, DEL or C1 controls. */
static void panic_message_has_no_controls(void **state)
{
	(void)state;
	char line[512];
	const char evil[] = "a\x1b" "]0;owned\x07" "b\x9b" "c\x85" "d\x7f" "\xc2\x9b" "e\xff" "ok";
	panic_line(evil, sizeof(evil) - 1, line, sizeof(line));
	/* UTF-8 outside C1 (the 0xc2 lead byte, 0xff) passes; the C1 byte after 0xc2 does not. */
	assert_string_equal(line, "lbvm: guest kernel: a?]0;owned?b?c?d?\xc2?e\xffok\n");
}

int main(void)
{
	log_max = LOG_SILENT; /* the handlers' messages are expected; keep the test output clean */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(translate_bounds),
		cmocka_unit_test(exit_codes),
		cmocka_unit_test(bad_numbers),
		cmocka_unit_test(panic_message),
		cmocka_unit_test(panic_message_has_no_controls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
