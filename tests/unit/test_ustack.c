/* test_ustack.c: build initial stacks with ustack_build and read them back the way libc startup does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "guest/kernel/proc/ustack.h"

#define TOP 0x00007ffffffde000ull
#define BIG 0x4000ull

static const uint8_t rnd[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xee };
static const char *const argv3[] = { "prog", "a b", "" };
static const char *const envp1[] = { "X=1" };

/* The stack seen through the kernel's buffer: user address -> bytes in buf. */
struct view {
	const uint8_t *buf;
	uint64_t size, top;
};

static int in_range(const struct view *v, uint64_t u, uint64_t n)
{
	uint64_t base = v->top - v->size;
	return u >= base && u <= v->top && n <= v->top - u;
}

static uint64_t rd64(const struct view *v, uint64_t u)
{
	assert_true(in_range(v, u, 8));
	uint64_t x = 0;
	const uint8_t *p = v->buf + (u - (v->top - v->size));
	for (int i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

/* A user string pointer, checked to be NUL-terminated inside the region. */
static const char *str_at(const struct view *v, uint64_t u)
{
	assert_true(in_range(v, u, 1));
	const char *s = (const char *)v->buf + (u - (v->top - v->size));
	size_t room = (size_t)(v->top - u);
	assert_true(memchr(s, 0, room) != NULL);
	return s;
}

static struct ustack_in base_in(void)
{
	struct ustack_in in;
	memset(&in, 0, sizeof(in));
	in.execfn = "/bin/prog";
	in.argc = 3;
	in.argv = argv3;
	in.envc = 1;
	in.envp = envp1;
	in.random16 = rnd;
	in.phdr = 0x400040;
	in.phent = 56;
	in.phnum = 9;
	in.entry = 0x401bc0;
	in.base = 0;
	in.hwcap = 0x178bfbff;
	in.hwcap2 = 2;
	in.pagesz = 4096;
	in.clktck = 100;
	in.uid = 1000;
	in.euid = 1001;
	in.gid = 1002;
	in.egid = 1003;
	in.secure = 0;
	return in;
}

#define NAUX 64

/* Walks argc/argv/envp/auxv from sp as a libc _start would and checks everything against in. */
static void parse_and_check(const struct view *v, uint64_t sp, const struct ustack_in *in)
{
	assert_int_equal(sp % 16, 0);
	assert_true(in_range(v, sp, 8));

	uint64_t u = sp;
	assert_int_equal(rd64(v, u), in->argc);
	u += 8;
	for (unsigned i = 0; i < in->argc; i++, u += 8)
		assert_string_equal(str_at(v, rd64(v, u)), in->argv[i]);
	assert_int_equal(rd64(v, u), 0);
	u += 8;
	for (unsigned i = 0; i < in->envc; i++, u += 8)
		assert_string_equal(str_at(v, rd64(v, u)), in->envp[i]);
	assert_int_equal(rd64(v, u), 0);
	u += 8;

	uint64_t seen[NAUX] = { 0 }, val[NAUX] = { 0 };
	for (;; u += 16) {
		uint64_t t = rd64(v, u), x = rd64(v, u + 8);
		if (t == AT_NULL)
			break;
		assert_true(t < NAUX);
		assert_int_equal(seen[t], 0);  /* no duplicates */
		seen[t] = 1;
		val[t] = x;
	}

	static const unsigned required[] = {
		AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID,
		AT_GID, AT_EGID, AT_PLATFORM, AT_HWCAP, AT_CLKTCK, AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN,
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!seen[required[i]])
			print_error("missing auxv tag %u\n", required[i]);
		assert_true(seen[required[i]]);
	}
	assert_int_equal(val[AT_PHDR], in->phdr);
	assert_int_equal(val[AT_PHENT], in->phent);
	assert_int_equal(val[AT_PHNUM], in->phnum);
	assert_int_equal(val[AT_PAGESZ], in->pagesz);
	assert_int_equal(val[AT_BASE], in->base);
	assert_int_equal(val[AT_FLAGS], 0);
	assert_int_equal(val[AT_ENTRY], in->entry);
	assert_int_equal(val[AT_UID], in->uid);
	assert_int_equal(val[AT_EUID], in->euid);
	assert_int_equal(val[AT_GID], in->gid);
	assert_int_equal(val[AT_EGID], in->egid);
	assert_int_equal(val[AT_HWCAP], in->hwcap);
	assert_int_equal(val[AT_HWCAP2], in->hwcap2);
	assert_int_equal(val[AT_CLKTCK], in->clktck);
	assert_int_equal(val[AT_SECURE], in->secure);
	assert_string_equal(str_at(v, val[AT_PLATFORM]), "x86_64");
	assert_string_equal(str_at(v, val[AT_EXECFN]), in->execfn);
	assert_true(in_range(v, val[AT_RANDOM], 16));
	assert_memory_equal(v->buf + (val[AT_RANDOM] - (v->top - v->size)), in->random16, 16);
	if (seen[AT_MINSIGSTKSZ])
		assert_true(val[AT_MINSIGSTKSZ] >= 2048);
	if (in->sysinfo_ehdr) {
		assert_true(seen[AT_SYSINFO_EHDR]);
		assert_int_equal(val[AT_SYSINFO_EHDR], in->sysinfo_ehdr);
	} else {
		assert_false(seen[AT_SYSINFO_EHDR]);
	}
}

/* Builds into an exact-size heap buffer so a sanitizer sees any write outside it. */
static int build(uint64_t size, uint64_t top, const struct ustack_in *in, uint8_t **bufp, uint64_t *sp)
{
	uint8_t *buf = malloc(size ? size : 1);
	assert_non_null(buf);
	memset(buf, 0xa5, size);
	int rc = ustack_build(buf, size, top, in, sp);
	*bufp = buf;
	return rc;
}

static void test_basic(void **state)
{
	(void)state;
	struct ustack_in in = base_in();
	uint8_t *buf;
	uint64_t sp = 0;
	assert_int_equal(build(BIG, TOP, &in, &buf, &sp), 0);
	struct view v = { buf, BIG, TOP };
	parse_and_check(&v, sp, &in);
	assert_true(TOP - sp < 1024);  /* small inputs give a small stack */

	/* argv strings run straight into envp's, which setproctitle-style code assumes. */
	uint64_t a2 = rd64(&v, sp + 8 * 3), e0 = rd64(&v, sp + 8 * 5);
	assert_int_equal(a2 + 1, e0);
	free(buf);
}

static void test_sysinfo_ehdr(void **state)
{
	(void)state;
	struct ustack_in in = base_in();
	in.sysinfo_ehdr = 0x7ffff7fc1000ull;
	in.secure = 1;
	in.base = 0x7ffff7fc3000ull;
	uint8_t *buf;
	uint64_t sp;
	assert_int_equal(build(BIG, TOP, &in, &buf, &sp), 0);
	struct view v = { buf, BIG, TOP };
	parse_and_check(&v, sp, &in);
	free(buf);
}

static void test_argc_zero(void **state)
{
	(void)state;
	struct ustack_in in = base_in();
	in.argc = 0;
	in.argv = NULL;
	in.envc = 0;
	in.envp = NULL;
	uint8_t *buf;
	uint64_t sp;
	assert_int_equal(build(BIG, TOP, &in, &buf, &sp), 0);
	struct view v = { buf, BIG, TOP };
	assert_int_equal(rd64(&v, sp), 0);
	assert_int_equal(rd64(&v, sp + 8), 0);   /* argv[0] */
	assert_int_equal(rd64(&v, sp + 16), 0);  /* envp[0] */
	parse_and_check(&v, sp, &in);
	free(buf);

	in.envc = 1;  /* no arguments but an environment */
	in.envp = envp1;
	assert_int_equal(build(BIG, TOP, &in, &buf, &sp), 0);
	v.buf = buf;
	parse_and_check(&v, sp, &in);
	free(buf);
}

static void test_too_small(void **state)
{
	(void)state;
	struct ustack_in in = base_in();
	uint8_t *buf;
	uint64_t sp;
	assert_int_equal(build(64, TOP, &in, &buf, &sp), -USTACK_E2BIG);
	free(buf);
	assert_int_equal(build(0, TOP, &in, &buf, &sp), -USTACK_E2BIG);
	free(buf);
}

/* Every size from nothing up: either -E2BIG or a complete, parseable stack, never a write outside. */
static void test_size_sweep(void **state)
{
	(void)state;
	struct ustack_in in = base_in();
	in.sysinfo_ehdr = 0x7ffff7fc1000ull;
	uint64_t need = 0;
	for (uint64_t size = 0; size <= 1024; size++) {
		uint8_t *buf;
		uint64_t sp;
		int rc = build(size, TOP, &in, &buf, &sp);
		if (rc == 0) {
			struct view v = { buf, size, TOP };
			parse_and_check(&v, sp, &in);
			if (!need)
				need = size;
		} else {
			assert_int_equal(rc, -USTACK_E2BIG);
			assert_int_equal(need, 0);  /* once it fits, a bigger buffer fits too */
		}
		free(buf);
	}
	assert_true(need > 0);
}

static void test_unaligned_top(void **state)
{
	(void)state;
	struct ustack_in in = base_in();
	for (uint64_t off = 1; off < 16; off++) {
		uint8_t *buf;
		uint64_t sp;
		assert_int_equal(build(BIG, TOP - off, &in, &buf, &sp), 0);
		struct view v = { buf, BIG, TOP - off };
		parse_and_check(&v, sp, &in);
		free(buf);
	}
}

static void test_huge_counts(void **state)
{
	(void)state;
	struct ustack_in in = base_in();
	uint8_t *buf;
	uint64_t sp;
	in.argc = 0xffffffffu;  /* argv has only three entries: must fail before reading them all */
	assert_int_equal(build(BIG, TOP, &in, &buf, &sp), -USTACK_E2BIG);
	free(buf);
	in = base_in();
	in.argc = 0xffffffffu;
	in.envc = 0xffffffffu;  /* the sum wraps in 32 bits */
	assert_int_equal(build(BIG, TOP, &in, &buf, &sp), -USTACK_E2BIG);
	free(buf);

	/* Many real arguments that need more than the buffer. */
	enum { N = 5000 };
	static const char *many[N];
	for (int i = 0; i < N; i++)
		many[i] = "argument";
	in = base_in();
	in.argc = N;
	in.argv = many;
	assert_int_equal(build(BIG, TOP, &in, &buf, &sp), -USTACK_E2BIG);
	free(buf);
	assert_int_equal(build(1 << 20, TOP, &in, &buf, &sp), 0);
	struct view v = { buf, 1 << 20, TOP };
	parse_and_check(&v, sp, &in);
	free(buf);
}

static void test_long_string(void **state)
{
	(void)state;
	struct ustack_in in = base_in();
	char *s = malloc(BIG + 1);
	assert_non_null(s);
	memset(s, 'x', BIG);
	s[BIG] = 0;
	const char *av[] = { s };
	uint8_t *buf;
	uint64_t sp;
	in.argc = 1;
	in.argv = av;
	assert_int_equal(build(BIG, TOP, &in, &buf, &sp), -USTACK_E2BIG);
	free(buf);
	in = base_in();
	in.execfn = s;
	assert_int_equal(build(BIG, TOP, &in, &buf, &sp), -USTACK_E2BIG);
	free(buf);
	free(s);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct ustack_in in = base_in();
	uint8_t *buf;
	uint64_t sp;
	assert_int_equal(build(BIG, BIG - 1, &in, &buf, &sp), -USTACK_EINVAL);  /* region below 0 */
	free(buf);
	const char *holes[] = { "a", NULL };
	in.argc = 2;
	in.argv = holes;
	assert_int_equal(build(BIG, TOP, &in, &buf, &sp), -USTACK_EINVAL);
	free(buf);
	in = base_in();
	in.random16 = NULL;
	assert_int_equal(build(BIG, TOP, &in, &buf, &sp), -USTACK_EINVAL);
	free(buf);
	in = base_in();
	assert_int_equal(ustack_build(NULL, BIG, TOP, &in, &sp), -USTACK_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_sysinfo_ehdr),
		cmocka_unit_test(test_argc_zero),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_size_sweep),
		cmocka_unit_test(test_unaligned_top),
		cmocka_unit_test(test_huge_counts),
		cmocka_unit_test(test_long_string),
		cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
