/* test_elf.c: elf_plan against crafted hostile images, a valid static and static-pie layout, and /bin/busybox. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/lib/elf.h"

#define PT_LOAD 1
#define PT_INTERP 3
#define PT_PHDR 6
#define PT_GNU_STACK 0x6474e551u
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

#define IMG_SIZE 0x2000
#define MAX_PH 80
#define PIE_BASE 0x555555554000ull

struct ph {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz, align;
};

/* An image described field by field, so each test changes one thing and serialises. */
struct img {
	uint16_t type, machine, phentsize;
	uint8_t class, data;
	uint64_t entry, phoff;
	unsigned phnum;  /* written to e_phnum; may differ from n to lie */
	unsigned n;      /* headers actually written */
	struct ph ph[MAX_PH];
	size_t size;
	uint8_t buf[0x10000];
};

static void put16(uint8_t *p, uint16_t v) { for (int i = 0; i < 2; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static void serialise(struct img *m)
{
	uint8_t *b = m->buf;
	memset(b, 0, sizeof(m->buf));
	b[0] = 0x7f; b[1] = 'E'; b[2] = 'L'; b[3] = 'F';
	b[4] = m->class; b[5] = m->data; b[6] = 1;
	put16(b + 16, m->type);
	put16(b + 18, m->machine);
	put32(b + 20, 1);
	put64(b + 24, m->entry);
	put64(b + 32, m->phoff);
	put16(b + 52, 64);
	put16(b + 54, m->phentsize);
	put16(b + 56, (uint16_t)m->phnum);
	/* Only write the table where it fits; tests with a lying phoff want no table. */
	for (unsigned i = 0; i < m->n; i++) {
		uint64_t o = m->phoff + (uint64_t)i * 56;
		if (m->phoff > sizeof(m->buf) || o + 56 > sizeof(m->buf))
			break;
		put32(b + o, m->ph[i].type);
		put32(b + o + 4, m->ph[i].flags);
		put64(b + o + 8, m->ph[i].offset);
		put64(b + o + 16, m->ph[i].vaddr);
		put64(b + o + 24, m->ph[i].vaddr);
		put64(b + o + 32, m->ph[i].filesz);
		put64(b + o + 40, m->ph[i].memsz);
		put64(b + o + 48, m->ph[i].align);
	}
}

/* A typical static non-PIE layout: headers+rodata R, text RX, data+bss RW, GNU_STACK RW. */
static struct img *valid_exec(void)
{
	static struct img m;
	memset(&m, 0, sizeof(m));
	m.type = 2; m.machine = 62; m.phentsize = 56; m.class = 2; m.data = 1;
	m.entry = 0x401010; m.phoff = 64; m.n = m.phnum = 4; m.size = IMG_SIZE;
	m.ph[0] = (struct ph){ PT_LOAD, PF_R, 0, 0x400000, 0x1000, 0x1000, 0x1000 };
	m.ph[1] = (struct ph){ PT_LOAD, PF_R | PF_X, 0x1000, 0x401000, 0x800, 0x800, 0x1000 };
	m.ph[2] = (struct ph){ PT_LOAD, PF_R | PF_W, 0x1800, 0x402800, 0x100, 0x2000, 0x1000 };
	m.ph[3] = (struct ph){ PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16 };
	return &m;
}

/* The same at link address 0, as ld -static-pie emits. */
static struct img *valid_pie(void)
{
	struct img *m = valid_exec();
	m->type = 3;
	m->entry = 0x1010;
	for (int i = 0; i < 3; i++)
		m->ph[i].vaddr -= 0x400000;
	return m;
}

/* Runs the parser on an exact-size heap copy, so a sanitizer sees any read past the end. */
static int run_bytes(const void *bytes, size_t size, uint64_t base, struct elf_plan *pl, const char **why)
{
	void *copy = malloc(size ? size : 1);
	assert_non_null(copy);
	if (size)
		memcpy(copy, bytes, size);
	int rc = elf_plan(copy, size, base, pl, why);
	free(copy);
	return rc;
}

static int run(struct img *m, struct elf_plan *pl, const char **why)
{
	serialise(m);
	return run_bytes(m->buf, m->size, PIE_BASE, pl, why);
}

static void expect(struct img *m, int code, const char *reason)
{
	static struct elf_plan pl;
	const char *why = NULL;
	int rc = run(m, &pl, &why);
	if (rc != code || !why || strcmp(why, reason) != 0)
		print_error("got %d \"%s\", wanted %d \"%s\"\n", rc, why ? why : "(null)", code, reason);
	assert_int_equal(rc, code);
	assert_non_null(why);
	assert_string_equal(why, reason);
}

static void test_valid_exec(void **state)
{
	(void)state;
	struct elf_plan pl;
	const char *why = "unset";
	assert_int_equal(run(valid_exec(), &pl, &why), 0);
	assert_null(why);
	assert_int_equal(pl.nseg, 3);
	assert_int_equal(pl.bias, 0);
	assert_int_equal(pl.entry, 0x401010);
	assert_int_equal(pl.lo, 0x400000);
	assert_int_equal(pl.hi, 0x405000);
	assert_int_equal(pl.phdr_vaddr, 0x400040);
	assert_int_equal(pl.phnum, 4);
	assert_int_equal(pl.phentsize, 56);
	assert_int_equal(pl.seg[0].prot, ELF_PROT_R);
	assert_int_equal(pl.seg[1].prot, ELF_PROT_R | ELF_PROT_X);
	assert_int_equal(pl.seg[2].prot, ELF_PROT_R | ELF_PROT_W);
	assert_int_equal(pl.seg[2].vaddr, 0x402800);
	assert_int_equal(pl.seg[2].filesz, 0x100);
	assert_int_equal(pl.seg[2].memsz, 0x2000);
	assert_int_equal(pl.seg[2].offset, 0x1800);
	assert_int_equal(pl.stack_prot, ELF_PROT_R | ELF_PROT_W);
}

static void test_static_pie(void **state)
{
	(void)state;
	struct elf_plan pl;
	const char *why = NULL;
	assert_int_equal(run(valid_pie(), &pl, &why), 0);
	assert_int_equal(pl.lo, PIE_BASE);
	assert_int_equal(pl.bias, PIE_BASE);
	assert_int_equal(pl.entry, PIE_BASE + 0x1010);
	assert_int_equal(pl.phdr_vaddr, PIE_BASE + 64);
	assert_int_equal(pl.seg[0].vaddr, PIE_BASE);
	assert_int_equal(pl.seg[2].vaddr, PIE_BASE + 0x2800);
	assert_int_equal(pl.hi, PIE_BASE + 0x5000);
}

static void test_static_pie_nonzero_link_base(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	struct elf_plan pl;
	m->type = 3;
	assert_int_equal(run(m, &pl, NULL), 0);
	assert_int_equal(pl.lo, PIE_BASE);
	assert_int_equal(pl.bias, PIE_BASE - 0x400000);
	assert_int_equal(pl.entry, PIE_BASE + 0x1010);
}

static void test_pie_base_unaligned(void **state)
{
	(void)state;
	struct img *m = valid_pie();
	struct elf_plan pl;
	const char *why = NULL;
	serialise(m);
	assert_int_equal(run_bytes(m->buf, m->size, PIE_BASE + 8, &pl, &why), -ELF_EINVAL);
}

static void test_pie_base_too_high(void **state)
{
	(void)state;
	struct img *m = valid_pie();
	struct elf_plan pl;
	const char *why = NULL;
	serialise(m);
	assert_int_equal(run_bytes(m->buf, m->size, ELF_USER_TOP - 0x4000, &pl, &why), ELF_E_BAD);
	assert_string_equal(why, "segment address out of user range");
}

static void test_null_args(void **state)
{
	(void)state;
	struct elf_plan pl;
	struct img *m = valid_exec();
	serialise(m);
	assert_int_equal(elf_plan(m->buf, m->size, 0, NULL, NULL), -ELF_EINVAL);
	assert_int_equal(elf_plan(NULL, 100, 0, &pl, NULL), -ELF_EINVAL);
	assert_int_equal(elf_plan(NULL, 0, 0, &pl, NULL), ELF_E_NOTELF);
}

static void test_empty(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->size = 0;
	expect(m, ELF_E_NOTELF, "not an ELF file (too short)");
}

static void test_three_bytes(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->size = 3;
	expect(m, ELF_E_NOTELF, "not an ELF file (too short)");
}

static void test_truncated_header(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->size = 40;
	expect(m, ELF_E_BAD, "truncated ELF header");
}

static void test_bad_magic(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	struct elf_plan pl;
	const char *why = NULL;
	serialise(m);
	m->buf[1] = 'e';
	assert_int_equal(run_bytes(m->buf, m->size, PIE_BASE, &pl, &why), ELF_E_NOTELF);
	assert_string_equal(why, "not an ELF file (bad magic)");
	assert_int_equal(run_bytes("#!/bin/sh\necho hi\n", 18, PIE_BASE, &pl, &why), ELF_E_NOTELF);
}

static void test_class32(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->class = 1;
	expect(m, ELF_E_ARCH, "not a 64-bit ELF");
	m->size = 52;  /* a whole ELF32 header, shorter than ours: still a class problem */
	expect(m, ELF_E_ARCH, "not a 64-bit ELF");
}

static void test_big_endian(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->data = 2;
	expect(m, ELF_E_ARCH, "not a little-endian ELF");
}

static void test_em386(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->machine = 3;
	expect(m, ELF_E_ARCH, "not an x86-64 program");
}

static void test_et_rel(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->type = 1;
	expect(m, ELF_E_NOTELF, "not an executable (ELF type is not EXEC or DYN)");
	m->type = 4;  /* ET_CORE */
	expect(m, ELF_E_NOTELF, "not an executable (ELF type is not EXEC or DYN)");
}

static void test_interp(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[3] = (struct ph){ PT_INTERP, PF_R, 0x200, 0x400200, 28, 28, 1 };
	expect(m, ELF_E_DYNAMIC, "dynamically linked (has PT_INTERP)");
	m->type = 3;  /* a dynamic PIE too */
	for (int i = 0; i < 3; i++)
		m->ph[i].vaddr -= 0x400000;
	m->entry = 0x1010;
	expect(m, ELF_E_DYNAMIC, "dynamically linked (has PT_INTERP)");
}

static void test_interp_wins_over_other_faults(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[1].filesz = 0x900;  /* would be "memsz smaller than filesz" */
	m->ph[3] = (struct ph){ PT_INTERP, PF_R, 0x200, 0x400200, 28, 28, 1 };
	expect(m, ELF_E_DYNAMIC, "dynamically linked (has PT_INTERP)");
}

/* elf_plan_dyn plans a dynamic program and reports where its interpreter's path lies. */
static void test_interp_dyn(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	static const char path[] = "/lib64/ld-linux-x86-64.so.2";
	m->ph[3] = (struct ph){ PT_INTERP, PF_R, 0x200, 0x400200, sizeof(path), sizeof(path), 1 };
	serialise(m);
	memcpy(m->buf + 0x200, path, sizeof(path));
	struct elf_plan p;
	const char *why = "unset";
	assert_int_equal(elf_plan_dyn(m->buf, m->size, PIE_BASE, &p, &why), 0);
	assert_null(why);
	assert_int_equal(p.interp_off, 0x200);
	assert_int_equal(p.interp_len, sizeof(path) - 1);
	assert_int_equal(p.nseg, 3);
	/* The same file is still refused by elf_plan, for callers that run static programs only. */
	assert_int_equal(elf_plan(m->buf, m->size, PIE_BASE, &p, &why), ELF_E_DYNAMIC);
	/* A static program through elf_plan_dyn: no interpreter. */
	m = valid_exec();
	serialise(m);
	assert_int_equal(elf_plan_dyn(m->buf, m->size, PIE_BASE, &p, &why), 0);
	assert_int_equal(p.interp_len, 0);
}

static void expect_dyn(struct img *m, const char *path, size_t n, const char *reason)
{
	serialise(m);
	memcpy(m->buf + 0x200, path, n);
	struct elf_plan p;
	const char *why = NULL;
	assert_int_equal(elf_plan_dyn(m->buf, m->size, PIE_BASE, &p, &why), ELF_E_BAD);
	assert_non_null(why);
	assert_string_equal(why, reason);
}

static void test_interp_dyn_hostile(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[3] = (struct ph){ PT_INTERP, PF_R, 0x200, 0x400200, 4, 4, 1 };
	expect_dyn(m, "/ldx", 4, "interpreter path not NUL-terminated");
	expect_dyn(m, "/l\0d", 4, "interpreter path has a NUL inside");
	m->ph[3].filesz = 1;
	expect_dyn(m, "", 1, "interpreter path empty or too long");
	m->ph[3].filesz = ELF_INTERP_MAX + 1;
	expect_dyn(m, "/ld", 4, "interpreter path empty or too long");
	m->ph[3].filesz = 4;
	m->ph[3].offset = IMG_SIZE - 2;
	expect_dyn(m, "/ld", 4, "interpreter path outside the file");
	m->ph[3].offset = UINT64_MAX - 1;
	expect_dyn(m, "/ld", 4, "interpreter path outside the file");
	m->ph[3].offset = 0x200;
	m->ph[4] = m->ph[3];
	m->n = m->phnum = 5;
	expect_dyn(m, "/ld", 4, "more than one PT_INTERP");
}

static void test_phoff_past_end(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->phoff = IMG_SIZE + 8;
	expect(m, ELF_E_BAD, "truncated program headers");
	m->phoff = IMG_SIZE - 3 * 56;  /* starts inside, runs out */
	expect(m, ELF_E_BAD, "truncated program headers");
}

static void test_phnum_overflow(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->phoff = UINT64_MAX - 10;  /* phoff + phnum * 56 wraps to a small number */
	expect(m, ELF_E_BAD, "truncated program headers");
	m = valid_exec();
	m->phnum = 0xffff;
	expect(m, ELF_E_BAD, "too many program headers");
}

static void test_phnum_zero(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->phnum = 0;
	expect(m, ELF_E_BAD, "no program headers");
}

static void test_phentsize32(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->phentsize = 32;
	expect(m, ELF_E_BAD, "bad program header entry size");
}

static void test_filesz_gt_memsz(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[1].filesz = 0x801;
	expect(m, ELF_E_BAD, "segment memsz smaller than filesz");
}

static void test_file_range_past_end(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[2].filesz = IMG_SIZE - 0x1800 + 1;
	expect(m, ELF_E_BAD, "segment file range outside the file");
	m = valid_exec();
	m->ph[2].offset = IMG_SIZE + 0x800;
	m->ph[2].vaddr = 0x403800;
	m->ph[2].filesz = 0;
	expect(m, ELF_E_BAD, "segment file range outside the file");
}

static void test_file_range_overflow(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[2].offset = UINT64_MAX - 10;
	m->ph[2].filesz = 0x100;
	expect(m, ELF_E_BAD, "segment file range outside the file");
}

static void test_vaddr_memsz_overflow(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[2].vaddr = 0xfffffffffffff800ull;
	m->ph[2].memsz = 0x2000;
	expect(m, ELF_E_BAD, "segment address out of user range");
}

static void test_vaddr_kernel_half(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[2].vaddr = 0xffff800000000800ull;
	expect(m, ELF_E_BAD, "segment address out of user range");
	m = valid_exec();
	m->ph[2].vaddr = 0x00007ffffffff800ull;  /* ends past the last user page */
	expect(m, ELF_E_BAD, "segment address out of user range");
}

static void test_vaddr_zero(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[0].vaddr = 0;
	expect(m, ELF_E_BAD, "segment address out of user range");
	m->ph[0].vaddr = 0xf000;  /* below the NULL-catching floor */
	expect(m, ELF_E_BAD, "segment address out of user range");
}

static void test_overlap(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[2].vaddr = 0x4017ff;  /* one byte into text */
	m->ph[2].offset = 0x17ff;
	expect(m, ELF_E_BAD, "segments overlap");
}

static void test_shared_boundary_page_ok(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	struct elf_plan pl;
	m->ph[2].vaddr = 0x401800;  /* data starts in the page where text ends */
	assert_int_equal(run(m, &pl, NULL), 0);
	assert_int_equal(pl.nseg, 3);
	assert_int_equal(pl.hi, 0x404000);
}

static void test_unsorted(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	struct ph t = m->ph[1];
	m->ph[1] = m->ph[2];
	m->ph[2] = t;
	expect(m, ELF_E_BAD, "segments not sorted by address");
}

static void test_huge_memsz(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[2].memsz = (1ull << 30) + 1;
	expect(m, ELF_E_BAD, "segment too large (over 1 GiB)");
	m->ph[2].memsz = UINT64_MAX;
	expect(m, ELF_E_BAD, "segment too large (over 1 GiB)");
}

static void test_entry_outside(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->entry = 0x401800;  /* one past the end of text */
	expect(m, ELF_E_BAD, "entry point outside executable segments");
	m->entry = 0;
	expect(m, ELF_E_BAD, "entry point outside executable segments");
	m->entry = UINT64_MAX;
	expect(m, ELF_E_BAD, "entry point outside executable segments");
}

static void test_entry_not_exec(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->entry = 0x402900;  /* in data */
	expect(m, ELF_E_BAD, "entry point outside executable segments");
}

static void test_misaligned(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->ph[1].vaddr = 0x401008;
	expect(m, ELF_E_BAD, "misaligned segment (vaddr and offset differ modulo page size)");
}

static void test_too_many_phdrs(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->n = m->phnum = 65;
	for (unsigned i = 4; i < 65; i++)
		m->ph[i] = (struct ph){ 0x6474e550u + (i & 1), PF_R, 0, 0, 0, 0, 8 };
	m->size = 0x2000;
	expect(m, ELF_E_BAD, "too many program headers");
	m->n = m->phnum = 64;  /* the limit itself is fine */
	struct elf_plan pl;
	assert_int_equal(run(m, &pl, NULL), 0);
}

static void test_too_many_segments(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->n = m->phnum = 3 + 14;  /* 17 PT_LOADs */
	for (unsigned i = 3; i < 17; i++)
		m->ph[i] = (struct ph){ PT_LOAD, PF_R, 0, 0x500000 + 0x1000ull * i, 0x10, 0x10, 0x1000 };
	expect(m, ELF_E_BAD, "too many segments");
	m->n = m->phnum = 16;
	struct elf_plan pl;
	assert_int_equal(run(m, &pl, NULL), 0);
	assert_int_equal(pl.nseg, 16);
}

static void test_no_load(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	m->n = m->phnum = 1;
	m->ph[0] = m->ph[3];
	expect(m, ELF_E_BAD, "no loadable segments");
}

static void test_gnu_stack_exec(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	struct elf_plan pl;
	m->ph[3].flags = PF_R | PF_W | PF_X;
	assert_int_equal(run(m, &pl, NULL), 0);
	assert_int_equal(pl.stack_prot, ELF_PROT_R | ELF_PROT_W | ELF_PROT_X);
	m->n = m->phnum = 3;  /* absent: the default */
	assert_int_equal(run(m, &pl, NULL), 0);
	assert_int_equal(pl.stack_prot, ELF_PROT_R | ELF_PROT_W);
}

static void test_pt_phdr(void **state)
{
	(void)state;
	struct img *m = valid_pie();
	struct elf_plan pl;
	const char *why = NULL;
	m->ph[3] = (struct ph){ PT_PHDR, PF_R, 64, 64, 4 * 56, 4 * 56, 8 };
	assert_int_equal(run(m, &pl, &why), 0);
	assert_int_equal(pl.phdr_vaddr, PIE_BASE + 64);
	m->ph[3].vaddr = 0x9000;  /* not backed by any segment */
	expect(m, ELF_E_BAD, "program headers outside loadable segments");
}

static void test_phdr_not_loaded(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	struct elf_plan pl;
	m->ph[0].offset = 0x1000;  /* nothing maps file offset 64 */
	m->ph[0].filesz = 0;
	m->ph[0].memsz = 0x10;
	assert_int_equal(run(m, &pl, NULL), 0);
	assert_int_equal(pl.phdr_vaddr, 0);
}

/* Every prefix of a valid image, and single-byte corruptions of its headers, must be answered
 * without reading out of bounds (run under a sanitizer to see that) and never "succeed" short. */
static void test_truncations_and_mutations(void **state)
{
	(void)state;
	struct img *m = valid_exec();
	struct elf_plan pl;
	serialise(m);
	for (size_t n = 0; n < m->size; n++) {
		int rc = run_bytes(m->buf, n, PIE_BASE, &pl, NULL);
		if (n < 0x1900)  /* the last file byte any segment uses */
			assert_true(rc < 0);
	}
	uint8_t *copy = malloc(m->size);
	assert_non_null(copy);
	srand(12345);
	for (int iter = 0; iter < 20000; iter++) {
		memcpy(copy, m->buf, m->size);
		int k = 1 + rand() % 4;
		for (int j = 0; j < k; j++)
			copy[rand() % (64 + 4 * 56)] = (uint8_t)rand();
		int rc = run_bytes(copy, m->size, PIE_BASE, &pl, NULL);
		if (rc == 0) {
			assert_true(pl.nseg >= 1 && pl.nseg <= ELF_MAX_SEGS);
			assert_true(pl.lo >= ELF_USER_MIN && pl.hi <= ELF_USER_TOP && pl.lo < pl.hi);
			for (unsigned i = 0; i < pl.nseg; i++) {
				assert_true(pl.seg[i].vaddr >= pl.lo);
				assert_true(pl.seg[i].memsz <= pl.hi - pl.seg[i].vaddr);
				assert_true(pl.seg[i].offset <= m->size && pl.seg[i].filesz <= m->size - pl.seg[i].offset);
			}
			assert_true(pl.entry >= pl.lo && pl.entry < pl.hi);
		}
	}
	free(copy);
}

static void test_busybox(void **state)
{
	(void)state;
	FILE *f = fopen("/bin/busybox", "rb");
	if (!f) {
		print_message("/bin/busybox absent: skipping\n");
		skip();
	}
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	uint8_t *b = malloc((size_t)len);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
	fclose(f);

	struct elf_plan pl;
	const char *why = NULL;
	int rc = elf_plan(b, (uint64_t)len, PIE_BASE, &pl, &why);
	if (rc)
		print_error("busybox: %d %s\n", rc, why);
	assert_int_equal(rc, 0);
	assert_true(pl.nseg >= 2);
	assert_true(pl.phdr_vaddr != 0);
	int in_x = 0;
	for (unsigned i = 0; i < pl.nseg; i++) {
		const struct elf_seg *s = &pl.seg[i];
		if ((s->prot & ELF_PROT_X) && pl.entry >= s->vaddr && pl.entry - s->vaddr < s->memsz)
			in_x = 1;
	}
	assert_true(in_x);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_exec),
		cmocka_unit_test(test_static_pie),
		cmocka_unit_test(test_static_pie_nonzero_link_base),
		cmocka_unit_test(test_pie_base_unaligned),
		cmocka_unit_test(test_pie_base_too_high),
		cmocka_unit_test(test_null_args),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_three_bytes),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_class32),
		cmocka_unit_test(test_big_endian),
		cmocka_unit_test(test_em386),
		cmocka_unit_test(test_et_rel),
		cmocka_unit_test(test_interp),
		cmocka_unit_test(test_interp_wins_over_other_faults),
		cmocka_unit_test(test_interp_dyn),
		cmocka_unit_test(test_interp_dyn_hostile),
		cmocka_unit_test(test_phoff_past_end),
		cmocka_unit_test(test_phnum_overflow),
		cmocka_unit_test(test_phnum_zero),
		cmocka_unit_test(test_phentsize32),
		cmocka_unit_test(test_filesz_gt_memsz),
		cmocka_unit_test(test_file_range_past_end),
		cmocka_unit_test(test_file_range_overflow),
		cmocka_unit_test(test_vaddr_memsz_overflow),
		cmocka_unit_test(test_vaddr_kernel_half),
		cmocka_unit_test(test_vaddr_zero),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_shared_boundary_page_ok),
		cmocka_unit_test(test_unsorted),
		cmocka_unit_test(test_huge_memsz),
		cmocka_unit_test(test_entry_outside),
		cmocka_unit_test(test_entry_not_exec),
		cmocka_unit_test(test_misaligned),
		cmocka_unit_test(test_too_many_phdrs),
		cmocka_unit_test(test_too_many_segments),
		cmocka_unit_test(test_no_load),
		cmocka_unit_test(test_gnu_stack_exec),
		cmocka_unit_test(test_pt_phdr),
		cmocka_unit_test(test_phdr_not_loaded),
		cmocka_unit_test(test_truncations_and_mutations),
		cmocka_unit_test(test_busybox),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
