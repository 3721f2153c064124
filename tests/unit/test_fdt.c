/* test_fdt.c: the VMM's boot FDT builder against the guest's checked reader: round trips and hostile trees. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libfdt.h>

#include "guest/kernel/bootparams.h"
#include "guest/lib/fdt.h"
#include "vmm/bootfdt.h"

#define REGION LBVM_FDT_MAX
#define MANY 3800              /* arguments of the large round trip (with the environment, up to LBVM_ARGV_MAX) */

static uint8_t *blob;          /* REGION bytes: what the VMM writes at LBVM_GPA_FDT */

/* ---- the good tree: a builder input with something unusual in every field ---- */

static char *argv_small[] = { "prog", "", "two words", "", "last" };
static char *envp_small[] = { "A=1", "", "PATH=/bin" };
static struct lbvm_mount mounts16[LBVM_MOUNTS_MAX];

static void good_input(struct bootfdt *b)
{
	memset(b, 0, sizeof(*b));
	b->cpu_mode = LBVM_CPU_PVM;
	b->flags = LBVM_BOOT_TRACE | LBVM_BOOT_IMAGE | LBVM_BOOT_OVERLAY;
	b->ram_size = 256ull << 20;
	b->kernel_end = 0x412000;
	b->ro_gpa = 256ull << 20;
	b->ro_size = 123457;
	b->ioq_gpa = LBVM_GPA_IOQ;
	b->ioq_size = LBVM_IOQ_SIZE;
	b->exe = "/bin/busybox";
	b->cwd = "/work dir";
	b->argc = 5;
	b->argv = argv_small;
	b->envc = 3;
	b->envp = envp_small;
	for (unsigned i = 0; i < LBVM_MOUNTS_MAX; i++) {
		mounts16[i].root = 16 + i;
		mounts16[i].flags = i & 1 ? LBVM_MOUNT_RO : 0;
		mounts16[i].dev = 0x800 + i;
		snprintf(mounts16[i].path, sizeof(mounts16[i].path), "/mnt/m%u/sub", i);
	}
	snprintf(mounts16[15].path, sizeof(mounts16[15].path), "/%0238d", 7);   /* the longest path a slot holds */
	b->nmounts = LBVM_MOUNTS_MAX;
	b->mounts = mounts16;
	for (unsigned i = 0; i < LBVM_STDIO_HANDLES; i++) {
		b->tty[i].is_tty = i != 1;
		b->tty[i].ws_row = (uint16_t)(24 + i);
		b->tty[i].ws_col = (uint16_t)(65535 - i);
		for (unsigned k = 0; k < LBVM_TERMIOS_BYTES; k++)
			b->tty[i].termios[k] = (uint8_t)(i * 50 + k);
		b->tty[i].st_mode = 0020620 + i;
	}
	for (unsigned k = 0; k < LBVM_SEED_BYTES; k++)
		b->seed[k] = (uint8_t)(0xa5 ^ k);
	b->tsc_khz = 2999999;
	b->boot_tsc = 0xfedcba9876543210ull;
	b->realtime_ns = 1765000000123456789ll;
	b->monotonic_ns = -5;   /* signed values survive too */
}

static void build(const struct bootfdt *b)
{
	memset(blob, 0xcc, REGION);   /* what lies past the tree must not matter */
	assert_int_equal(bootfdt_build(blob, REGION, b), 0);
}

static void build_good(void)
{
	struct bootfdt b;
	good_input(&b);
	build(&b);
}

static uint32_t hdr(const uint8_t *p, unsigned off)
{
	return (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3];
}

static void set_hdr(uint8_t *p, unsigned off, uint32_t v)
{
	p[off] = (uint8_t)(v >> 24);
	p[off + 1] = (uint8_t)(v >> 16);
	p[off + 2] = (uint8_t)(v >> 8);
	p[off + 3] = (uint8_t)v;
}

enum { H_MAGIC = 0, H_TOTAL = 4, H_STRUCT = 8, H_STRINGS = 12, H_RSV = 16, H_VERSION = 20, H_LASTCOMP = 24,
       H_STRINGS_SIZE = 32, H_STRUCT_SIZE = 36 };

static void expect_roundtrip(const struct bootfdt *b)
{
	struct boot_params bp;
	const char *what = NULL;
	int rc = bootparams_parse(&bp, blob, REGION, &what);
	if (rc)
		fail_msg("parse: %s: %s", what, fdtr_strerror(rc));
	assert_int_equal(bp.abi_version, LBVM_ABI_VERSION);
	assert_int_equal(bp.cpu_mode, b->cpu_mode);
	assert_int_equal(bp.flags, b->flags);
	assert_int_equal(bp.ram_size, b->ram_size);
	assert_int_equal(bp.kernel_end, b->kernel_end);
	if (b->flags & LBVM_BOOT_IMAGE) {
		assert_int_equal(bp.image_gpa, b->ro_gpa);
		assert_int_equal(bp.image_size, b->ro_size);
		assert_int_equal(bp.prog_gpa | bp.prog_size, 0);
	} else {
		assert_int_equal(bp.prog_gpa, b->ro_gpa);
		assert_int_equal(bp.prog_size, b->ro_size);
		assert_int_equal(bp.image_gpa | bp.image_size, 0);
	}
	assert_int_equal(bp.ioq_gpa, b->ioq_gpa);
	assert_int_equal(bp.ioq_size, b->ioq_size);
	assert_string_equal(bp.exe, b->exe);
	assert_string_equal(bp.cwd, b->cwd);
	assert_int_equal(bp.argc, b->argc);
	assert_int_equal(bp.envc, b->envc);
	const char *p = bp.argv_strs;
	for (int i = 0; i < b->argc; i++, p += strlen(p) + 1)
		assert_string_equal(p, b->argv[i]);
	p = bp.envp_strs;
	for (int i = 0; i < b->envc; i++, p += strlen(p) + 1)
		assert_string_equal(p, b->envp[i]);
	assert_int_equal(bp.nmounts, b->nmounts);
	for (unsigned i = 0; i < b->nmounts; i++) {
		assert_int_equal(bp.mounts[i].root, b->mounts[i].root);
		assert_int_equal(bp.mounts[i].flags, b->mounts[i].flags);
		assert_int_equal(bp.mounts[i].dev, b->mounts[i].dev);
		assert_string_equal(bp.mounts[i].path, b->mounts[i].path);
	}
	assert_memory_equal(bp.tty, b->tty, sizeof(bp.tty));
	assert_memory_equal(bp.seed, b->seed, sizeof(bp.seed));
	assert_int_equal(bp.tsc_khz, b->tsc_khz);
	assert_int_equal(bp.boot_tsc, b->boot_tsc);
	assert_int_equal(bp.boot_realtime_ns, b->realtime_ns);
	assert_int_equal(bp.boot_monotonic_ns, b->monotonic_ns);

	/* The seed is wiped from the tree once read: a second parse finds zeros. */
	static const uint8_t zero[LBVM_SEED_BYTES];
	assert_int_equal(bootparams_parse(&bp, blob, REGION, &what), 0);
	assert_memory_equal(bp.seed, zero, sizeof(zero));
}

static void test_roundtrip_image(void **state)
{
	struct bootfdt b;
	good_input(&b);
	build(&b);
	expect_roundtrip(&b);
	/* libfdt itself agrees the tree is sound. */
	assert_int_equal(fdt_check_full(blob, REGION), 0);
}

static void test_roundtrip_program_bare(void **state)
{
	struct bootfdt b;
	good_input(&b);
	b.flags = LBVM_BOOT_VERBOSE;
	b.cpu_mode = LBVM_CPU_RING0;
	b.argc = b.envc = 0;            /* empty lists: zero-length properties */
	b.nmounts = 0;
	b.cwd = "/";
	memset(b.tty, 0, sizeof(b.tty));
	build(&b);
	expect_roundtrip(&b);
}

static void test_roundtrip_many(void **state)
{
	static char *argv[MANY], *envp[LBVM_ARGS_MAX / 1024];
	static char strs[MANY][16], env[LBVM_ARGS_MAX / 1024][1000];
	struct bootfdt b;
	good_input(&b);
	for (int i = 0; i < MANY; i++) {
		if (i % 7)
			snprintf(strs[i], sizeof(strs[i]), "arg%d", i);
		argv[i] = strs[i];   /* every 7th one empty */
	}
	/* The environment fills the strings up to LBVM_ARGS_MAX, less what the rest takes. */
	size_t used = strlen(b.exe) + strlen(b.cwd) + 2;
	for (int i = 0; i < MANY; i++)
		used += strlen(argv[i]) + 1;
	int n = 0;
	while (used + sizeof(env[0]) <= LBVM_ARGS_MAX && n < (int)(sizeof(env) / sizeof(env[0]))) {
		memset(env[n], 'a' + n % 26, sizeof(env[n]) - 1);
		memcpy(env[n], "K=", 2);
		envp[n] = env[n];
		used += sizeof(env[n]);
		n++;
	}
	b.argc = MANY;
	b.argv = argv;
	b.envc = n;
	b.envp = envp;
	build(&b);
	expect_roundtrip(&b);
	printf("# a %zu-byte boot FDT with %d arguments and %d KiB of environment\n", (size_t)hdr(blob, H_TOTAL), MANY,
	       n);
}

static void test_builder_limits(void **state)
{
	struct bootfdt b;
	static char big[LBVM_ARGS_MAX];
	char *argv[] = { big };
	good_input(&b);
	memset(big, 'x', sizeof(big) - 1);
	b.argc = 1;
	b.argv = argv;
	assert_int_equal(bootfdt_build(blob, REGION, &b), -E2BIG);
	static char *empties[LBVM_ARGV_MAX + 1];
	for (unsigned i = 0; i <= LBVM_ARGV_MAX; i++)
		empties[i] = "";
	b.argc = LBVM_ARGV_MAX - 3;
	b.argv = empties;
	assert_int_equal(bootfdt_build(blob, REGION, &b), 0);   /* with 3 environment entries: exactly the limit */
	b.argc++;
	assert_int_equal(bootfdt_build(blob, REGION, &b), -E2BIG);
	good_input(&b);
	assert_int_equal(bootfdt_build(blob, 512, &b), -ENOSPC);
	b.nmounts = LBVM_MOUNTS_MAX + 1;
	assert_int_equal(bootfdt_build(blob, REGION, &b), -EINVAL);
}

/* ---- hostile trees: mutations of the good one ---- */

static int open_blob(uint64_t region)
{
	struct fdtr t;
	return fdtr_open(&t, blob, region);
}

/* The good tree is sound; each case below breaks one thing and expects the check that names it. */
static void expect_open(int want)
{
	int rc = open_blob(REGION);
	if (rc != want)
		fail_msg("fdtr_open: got %d (%s), want %d (%s)", rc, fdtr_strerror(rc), want, fdtr_strerror(want));
}

static void test_truncated_every_length(void **state)
{
	build_good();
	uint32_t total = hdr(blob, H_TOTAL);
	uint8_t *copy = malloc(total);
	assert_non_null(copy);
	memcpy(copy, blob, total);
	struct fdtr t;
	/* The region ends early: the header's totalsize no longer fits. */
	for (uint32_t len = 0; len < total; len++) {
		int rc = fdtr_open(&t, copy, len);
		assert_true(rc == FDTR_ESHORT || rc == FDTR_ETOTAL);
	}
	assert_int_equal(fdtr_open(&t, copy, total), 0);
	/* The header agrees with the cut: totalsize is the cut, the blocks no longer fit in it. */
	for (uint32_t len = FDTR_HEADER_SIZE; len < total; len++) {
		memcpy(blob, copy, total);
		set_hdr(blob, H_TOTAL, len);
		assert_int_not_equal(open_blob(len), 0);
	}
	/* The structure block itself cut at every token boundary, sizes consistent: no END, or one unbalanced. */
	uint32_t st_size = hdr(copy, H_STRUCT_SIZE);
	for (uint32_t len = 0; len < st_size; len += 4) {
		memcpy(blob, copy, total);
		set_hdr(blob, H_STRUCT_SIZE, len);
		int rc = open_blob(REGION);
		assert_true(rc == FDTR_ENOEND || rc == FDTR_ETRUNC || rc == FDTR_ENAME);
	}
	/* The strings block cut: property names end up past it. */
	uint32_t str_size = hdr(copy, H_STRINGS_SIZE);
	for (uint32_t len = 0; len < str_size; len++) {
		memcpy(blob, copy, total);
		set_hdr(blob, H_STRINGS_SIZE, len);
		assert_int_equal(open_blob(REGION), FDTR_ENAMEOFF);
	}
	free(copy);
}

static void test_bad_header(void **state)
{
	build_good();
	uint32_t total = hdr(blob, H_TOTAL), st = hdr(blob, H_STRUCT), st_size = hdr(blob, H_STRUCT_SIZE);
	uint32_t str = hdr(blob, H_STRINGS), rsv = hdr(blob, H_RSV);

	set_hdr(blob, H_MAGIC, 0xedfe0dd0);
	expect_open(FDTR_EMAGIC);
	build_good();
	set_hdr(blob, H_VERSION, 16);
	expect_open(FDTR_EVERSION);
	build_good();
	set_hdr(blob, H_LASTCOMP, 18);
	expect_open(FDTR_EVERSION);

	/* totalsize larger than the region, and smaller than a header. */
	build_good();
	assert_int_equal(open_blob(total - 1), FDTR_ETOTAL);
	set_hdr(blob, H_TOTAL, REGION + 4);
	expect_open(FDTR_ETOTAL);
	set_hdr(blob, H_TOTAL, 0xffffffff);
	expect_open(FDTR_ETOTAL);
	set_hdr(blob, H_TOTAL, 39);
	expect_open(FDTR_ETOTAL);

	/* Blocks out of range: offsets past totalsize, and sizes that would wrap a 32-bit sum back in. */
	build_good();
	set_hdr(blob, H_STRUCT, total + 4);
	expect_open(FDTR_ERANGE);
	build_good();
	set_hdr(blob, H_STRUCT_SIZE, total - st + 4);
	expect_open(FDTR_ERANGE);
	build_good();
	set_hdr(blob, H_STRUCT_SIZE, 0xfffffffc);
	expect_open(FDTR_ERANGE);
	build_good();
	set_hdr(blob, H_STRINGS, total + 1);
	expect_open(FDTR_ERANGE);
	build_good();
	set_hdr(blob, H_STRINGS_SIZE, 0u - str + 8);  /* str + size wraps to 8 */
	expect_open(FDTR_ERANGE);
	build_good();
	set_hdr(blob, H_RSV, total - 8);
	expect_open(FDTR_ERANGE);

	/* Misaligned blocks. */
	build_good();
	set_hdr(blob, H_STRUCT, st + 2);
	set_hdr(blob, H_STRUCT_SIZE, st_size - 4);
	expect_open(FDTR_EALIGN);
	build_good();
	set_hdr(blob, H_STRUCT_SIZE, st_size - 2);
	expect_open(FDTR_EALIGN);
	build_good();
	set_hdr(blob, H_RSV, rsv + 4);
	expect_open(FDTR_EALIGN);

	/* Overlaps: with each other, and with the header. */
	build_good();
	set_hdr(blob, H_STRINGS, st + 8);   /* strings inside the structure block */
	set_hdr(blob, H_STRINGS_SIZE, 16);
	expect_open(FDTR_EOVERLAP);
	build_good();
	set_hdr(blob, H_STRINGS, st);       /* the very same bytes read as both */
	set_hdr(blob, H_STRINGS_SIZE, st_size);
	expect_open(FDTR_EOVERLAP);
	build_good();
	set_hdr(blob, H_STRUCT, 0);         /* the header read as tokens */
	expect_open(FDTR_EOVERLAP);
	build_good();
	set_hdr(blob, H_STRINGS, 16);
	set_hdr(blob, H_STRINGS_SIZE, 8);
	expect_open(FDTR_EOVERLAP);
	build_good();
	set_hdr(blob, H_RSV, st);           /* the reservation map over the structure block */
	expect_open(FDTR_EOVERLAP);
	build_good();
	set_hdr(blob, H_RSV, 32);
	expect_open(FDTR_EOVERLAP);

	/* A reservation the guest would not honour. */
	build_good();
	blob[rsv + 7] = 1;
	expect_open(FDTR_ERSVMAP);
}

/* The structure-block offset of the first FDT_PROP token, found by libfdt in the good tree. */
static uint32_t first_prop(void)
{
	int root = fdt_path_offset(blob, "/");
	int off = fdt_first_property_offset(blob, root);
	assert_true(off >= 0);
	return (uint32_t)off;
}

static void test_bad_props(void **state)
{
	uint8_t *s;
	uint32_t p;

	/* nameoff beyond the strings block, and at its very end (no NUL there). */
	build_good();
	s = blob + hdr(blob, H_STRUCT);
	p = first_prop();
	set_hdr(s, p + 8, hdr(blob, H_STRINGS_SIZE));
	expect_open(FDTR_ENAMEOFF);
	set_hdr(s, p + 8, 0xffffffff);
	expect_open(FDTR_ENAMEOFF);
	build_good();
	s = blob + hdr(blob, H_STRUCT);
	blob[hdr(blob, H_STRINGS) + hdr(blob, H_STRINGS_SIZE) - 1] = 'x';  /* last name unterminated */
	expect_open(FDTR_ENAMEOFF);

	/* Property length past the block, and lengths that wrap a 32-bit cursor back to the start ("loops"). */
	build_good();
	s = blob + hdr(blob, H_STRUCT);
	set_hdr(s, p + 4, hdr(blob, H_STRUCT_SIZE));
	expect_open(FDTR_ETRUNC);
	for (uint32_t back = 4; back <= 64; back += 4) {
		set_hdr(s, p + 4, 0u - 12 - back);   /* p + 12 + len == p - back (mod 2^32) */
		expect_open(FDTR_ETRUNC);
	}
	/* A length that only the padding pushes past the end. */
	build_good();
	s = blob + hdr(blob, H_STRUCT);
	set_hdr(s, p + 4, hdr(blob, H_STRUCT_SIZE) - p - 12 - 3 + 1);
	assert_int_not_equal(open_blob(REGION), 0);

	/* Unknown tokens where a property was. */
	static const uint32_t bad_tokens[] = { 0, 5, 8, 10, 0xd00dfeed, 0xffffffff };
	for (unsigned i = 0; i < sizeof(bad_tokens) / sizeof(bad_tokens[0]); i++) {
		build_good();
		set_hdr(blob + hdr(blob, H_STRUCT), p, bad_tokens[i]);
		expect_open(FDTR_ETOKEN);
	}
}

/* ---- hostile trees made by hand: a tiny structure-block assembler ---- */

struct hand {
	uint8_t st[2048];
	uint32_t n;
	char str[256];
	uint32_t sn;
};

static void h32(struct hand *h, uint32_t v)
{
	set_hdr(h->st, h->n, v);
	h->n += 4;
}

static void hbytes(struct hand *h, const void *p, uint32_t len)
{
	memcpy(h->st + h->n, p, len);
	h->n += len;
	while (h->n & 3)
		h->st[h->n++] = 0;
}

static void hbegin(struct hand *h, const char *name)
{
	h32(h, 1);
	hbytes(h, name, (uint32_t)strlen(name) + 1);
}

static void hprop(struct hand *h, const char *name, const void *val, uint32_t len)
{
	uint32_t off = h->sn;
	memcpy(h->str + h->sn, name, strlen(name) + 1);
	h->sn += (uint32_t)strlen(name) + 1;
	h32(h, 3);
	h32(h, len);
	h32(h, off);
	hbytes(h, val, len);
}

/* Header, an empty reservation map, the structure block, the strings: libfdt's order. */
static uint32_t hfinish(const struct hand *h)
{
	uint32_t st = 56, str = st + h->n, total = str + h->sn;
	memset(blob, 0, total);
	set_hdr(blob, H_MAGIC, FDTR_MAGIC);
	set_hdr(blob, H_TOTAL, total);
	set_hdr(blob, H_STRUCT, st);
	set_hdr(blob, H_STRINGS, str);
	set_hdr(blob, H_RSV, 40);
	set_hdr(blob, H_VERSION, 17);
	set_hdr(blob, H_LASTCOMP, 16);
	set_hdr(blob, H_STRINGS_SIZE, h->sn);
	set_hdr(blob, H_STRUCT_SIZE, h->n);
	memcpy(blob + st, h->st, h->n);
	memcpy(blob + str, h->str, h->sn);
	return total;
}

static int hopen(const struct hand *h)
{
	hfinish(h);
	return open_blob(REGION);
}

static void test_hand_made(void **state)
{
	struct hand h;
	uint32_t v = 7;

	/* The smallest sound tree, with NOPs around. */
	memset(&h, 0, sizeof(h));
	h32(&h, 4);
	hbegin(&h, "");
	h32(&h, 4);
	hprop(&h, "p", &v, 4);
	h32(&h, 2);
	h32(&h, 4);
	h32(&h, 9);
	assert_int_equal(hopen(&h), 0);

	/* Missing FDT_END; bytes after it. */
	memset(&h, 0, sizeof(h));
	hbegin(&h, "");
	h32(&h, 2);
	assert_int_equal(hopen(&h), FDTR_ENOEND);
	h32(&h, 9);
	h32(&h, 4);
	assert_int_equal(hopen(&h), FDTR_ENOEND);
	/* END with a node left open. */
	memset(&h, 0, sizeof(h));
	hbegin(&h, "");
	hbegin(&h, "a");
	h32(&h, 2);
	h32(&h, 9);
	assert_int_equal(hopen(&h), FDTR_ENOEND);
	/* No root at all. */
	memset(&h, 0, sizeof(h));
	h32(&h, 9);
	assert_int_equal(hopen(&h), FDTR_ENOEND);

	/* Tokens out of place: END_NODE at depth 0, a second root, a property outside the root. */
	memset(&h, 0, sizeof(h));
	h32(&h, 2);
	h32(&h, 9);
	assert_int_equal(hopen(&h), FDTR_ETOKEN);
	memset(&h, 0, sizeof(h));
	hbegin(&h, "");
	h32(&h, 2);
	hbegin(&h, "");
	h32(&h, 2);
	h32(&h, 9);
	assert_int_equal(hopen(&h), FDTR_ETOKEN);
	memset(&h, 0, sizeof(h));
	hprop(&h, "p", &v, 4);
	hbegin(&h, "");
	h32(&h, 2);
	h32(&h, 9);
	assert_int_equal(hopen(&h), FDTR_ETOKEN);

	/* Node names: unterminated to the block's end, with '/', empty below the root, named root, too long. */
	memset(&h, 0, sizeof(h));
	hbegin(&h, "");
	h32(&h, 1);
	memcpy(h.st + h.n, "abcdefgh", 8);
	h.n += 8;
	assert_int_equal(hopen(&h), FDTR_ENAME);
	memset(&h, 0, sizeof(h));
	hbegin(&h, "");
	hbegin(&h, "a/b");
	h32(&h, 2);
	h32(&h, 2);
	h32(&h, 9);
	assert_int_equal(hopen(&h), FDTR_ENAME);
	memset(&h, 0, sizeof(h));
	hbegin(&h, "");
	hbegin(&h, "");
	h32(&h, 2);
	h32(&h, 2);
	h32(&h, 9);
	assert_int_equal(hopen(&h), FDTR_ENAME);
	memset(&h, 0, sizeof(h));
	hbegin(&h, "root");
	h32(&h, 2);
	h32(&h, 9);
	assert_int_equal(hopen(&h), FDTR_ENAME);
	char longname[FDTR_NAME_MAX + 2];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	memset(&h, 0, sizeof(h));
	hbegin(&h, "");
	hbegin(&h, longname);
	h32(&h, 2);
	h32(&h, 2);
	h32(&h, 9);
	assert_int_equal(hopen(&h), FDTR_ENAME);

	/* An empty property name. */
	memset(&h, 0, sizeof(h));
	hbegin(&h, "");
	hprop(&h, "", &v, 4);
	h32(&h, 2);
	h32(&h, 9);
	assert_int_equal(hopen(&h), FDTR_ENAMEOFF);
}

static void test_depth(void **state)
{
	struct hand h;
	for (unsigned depth = 1; depth <= FDTR_DEPTH_MAX + 1; depth++) {
		memset(&h, 0, sizeof(h));
		hbegin(&h, "");
		for (unsigned i = 1; i < depth; i++)
			hbegin(&h, "d");
		for (unsigned i = 0; i < depth; i++)
			h32(&h, 2);
		h32(&h, 9);
		assert_int_equal(hopen(&h), depth <= FDTR_DEPTH_MAX ? 0 : FDTR_EDEPTH);
	}
	/* Far deeper than any stack would like: rejected the same way, in one pass. */
	memset(&h, 0, sizeof(h));
	hbegin(&h, "");
	for (unsigned i = 0; i < 200; i++)
		hbegin(&h, "d");
	assert_int_equal(hopen(&h), FDTR_EDEPTH);
}

/* Lookups given bad node offsets answer with an error, never a read outside the block. */
static void test_bad_offsets(void **state)
{
	struct fdtr t;
	const void *v;
	uint32_t len, u;
	int child = -1;
	build_good();
	assert_int_equal(fdtr_open(&t, blob, REGION), 0);
	int root = fdtr_root(&t), mem = fdtr_path(&t, "/memory");
	assert_true(root >= 0 && mem > root);
	assert_string_equal(fdtr_name(&t, mem), "memory");
	assert_int_equal(fdtr_path(&t, "/memory/"), mem);
	assert_int_equal(fdtr_path(&t, "//memory"), mem);
	assert_int_equal(fdtr_path(&t, "/memor"), FDTR_ENOENT);
	assert_int_equal(fdtr_path(&t, "/memoryy"), FDTR_ENOENT);
	assert_int_equal(fdtr_path(&t, "memory"), FDTR_ENOENT);
	assert_int_equal(fdtr_path(&t, "/mounts/mount@3"), fdtr_subnode(&t, fdtr_path(&t, "/mounts"), "mount@3"));
	assert_int_equal(fdtr_u32(&t, root, "missing", &u), FDTR_ENOENT);
	assert_int_equal(fdtr_u32(&t, mem, "ram-size", &u), FDTR_EVALUE);   /* a u64 read as a u32 */

	assert_null(fdtr_name(&t, -1));
	assert_null(fdtr_name(&t, mem + 1));               /* misaligned */
	assert_null(fdtr_name(&t, mem + 4));               /* inside the name */
	assert_null(fdtr_name(&t, (int)t.struct_size));   /* the end */
	assert_null(fdtr_name(&t, 0x7ffffffc));
	assert_int_not_equal(fdtr_prop(&t, (int)first_prop(), "x", &v, &len), 0);   /* a property, not a node */
	assert_int_not_equal(fdtr_prop(&t, 0x7ffffff0, "x", &v, &len), 0);
	assert_int_not_equal(fdtr_next_child(&t, -8, &child), 1);
	child = root;
	assert_int_equal(fdtr_next_child(&t, mem, &child), FDTR_EVALUE);   /* a "child" before its parent */
	child = mem + 2;
	assert_int_not_equal(fdtr_next_child(&t, root, &child), 1);

	/* Every child of the root, in order, ends. */
	int n = 0, rc;
	child = -1;
	while ((rc = fdtr_next_child(&t, root, &child)) == 1)
		n++;
	assert_int_equal(rc, 0);
	assert_int_equal(n, 7);   /* memory, image, chosen, ioq, clock, stdio, mounts */
}

/* ---- well-formed trees that say the wrong things: bootparams_parse's own checks ---- */

static int parse(const char **what)
{
	struct boot_params bp;
	return bootparams_parse(&bp, blob, REGION, what);
}

static void *prop_w(const char *path, const char *name, int *len)
{
	void *p = fdt_getprop_w(blob, fdt_path_offset(blob, path), name, len);
	assert_non_null(p);
	return p;
}

static void test_bad_values(void **state)
{
	const char *what;
	int len;

	build_good();
	set_hdr(prop_w("/", "abi-version", &len), 0, LBVM_ABI_VERSION - 1);
	assert_int_equal(parse(&what), FDTR_EVERSION);
	build_good();
	set_hdr(prop_w("/", "flags", &len), 0, 1u << 31);
	assert_int_equal(parse(&what), FDTR_EVALUE);
	assert_string_equal(what, "/flags");
	build_good();
	set_hdr(prop_w("/", "cpu-mode", &len), 0, 3);
	assert_int_equal(parse(&what), FDTR_EVALUE);
	/* The image flag without an /image node (the tree has one; the flag says a program). */
	build_good();
	set_hdr(prop_w("/", "flags", &len), 0, 0);
	assert_int_equal(parse(&what), FDTR_EVALUE);
	/* Sizes and addresses: kernel end past RAM, an image that wraps. */
	build_good();
	set_hdr(prop_w("/memory", "kernel-end", &len), 0, 0x7fffffff);
	assert_int_equal(parse(&what), FDTR_EVALUE);
	build_good();
	set_hdr(prop_w("/image", "size", &len), 0, 0xffffffff);
	assert_int_equal(parse(&what), FDTR_EVALUE);
	/* argv's last string unterminated; exe with two strings in it. */
	build_good();
	char *a = prop_w("/chosen", "argv", &len);
	a[len - 1] = 'x';
	assert_int_equal(parse(&what), FDTR_EVALUE);
	assert_string_equal(what, "/chosen/argv");
	build_good();
	a = prop_w("/chosen", "exe", &len);
	a[1] = 0;
	assert_int_equal(parse(&what), FDTR_EVALUE);
	/* More strings than the guest takes (libfdt's read-write API makes the tree the builder refuses to). */
	build_good();
	static char nuls[LBVM_ARGV_MAX + 1];
	assert_int_equal(fdt_open_into(blob, blob, REGION), 0);
	assert_int_equal(fdt_setprop(blob, fdt_path_offset(blob, "/chosen"), "argv", nuls, sizeof(nuls) - 4), 0);
	assert_int_equal(parse(&what), 0);   /* 4093 empty arguments and 3 environment entries: the limit */
	build_good();
	assert_int_equal(fdt_open_into(blob, blob, REGION), 0);
	assert_int_equal(fdt_setprop(blob, fdt_path_offset(blob, "/chosen"), "argv", nuls, sizeof(nuls) - 3), 0);
	assert_int_equal(parse(&what), FDTR_EVALUE);
	assert_string_equal(what, "/chosen: exe, cwd, argv and envp together");
	/* Mount paths: relative, with "..", with an empty component; flags with unknown bits. */
	static const char *bad_paths[] = { "mnt/m0/subx", "/mnt/../sub", "/mnt//m0/sb", "/mnt/./subx", "/mnt/m0/su/", "/mnt/m00/.." };
	for (unsigned i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		build_good();
		a = prop_w("/mounts/mount@0", "path", &len);
		assert_int_equal(len, (int)strlen(bad_paths[i]) + 1);
		memcpy(a, bad_paths[i], (size_t)len);
		assert_int_equal(parse(&what), FDTR_EVALUE);
	}
	build_good();
	set_hdr(prop_w("/mounts/mount@2", "flags", &len), 0, 2);
	assert_int_equal(parse(&what), FDTR_EVALUE);
	/* Mounts out of order. */
	build_good();
	a = (char *)fdt_get_name(blob, fdt_path_offset(blob, "/mounts/mount@4"), &len);
	a[6] = '5';
	assert_int_equal(parse(&what), FDTR_EVALUE);
	/* A terminal with a window wider than 16 bits. */
	build_good();
	set_hdr(prop_w("/stdio/stdout", "cols", &len), 0, 65536);
	assert_int_equal(parse(&what), FDTR_EVALUE);
	/* Seed of the wrong length: its property turned into NOPs, then missing. */
	build_good();
	assert_int_equal(fdt_nop_property(blob, fdt_path_offset(blob, "/chosen"), "rng-seed"), 0);
	assert_int_equal(parse(&what), FDTR_ENOENT);
	assert_string_equal(what, "/chosen/rng-seed");
	/* A whole node NOPed away: the reader walks over NOPs and misses it by name. */
	build_good();
	assert_int_equal(fdt_nop_node(blob, fdt_path_offset(blob, "/clock")), 0);
	assert_int_equal(parse(&what), FDTR_ENOENT);
	assert_string_equal(what, "/clock");
}

/* LBVM_FDT_DUMP=path: write the good tree there (the fuzzer's seed). */
static void dump_seed(void)
{
	const char *path = getenv("LBVM_FDT_DUMP");
	if (!path)
		return;
	build_good();
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(blob, 1, hdr(blob, H_TOTAL), f) != hdr(blob, H_TOTAL) || fclose(f))
		fprintf(stderr, "test_fdt: cannot write %s\n", path);
}

int main(void)
{
	blob = malloc(REGION);
	if (!blob)
		return 1;
	dump_seed();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_image),
		cmocka_unit_test(test_roundtrip_program_bare),
		cmocka_unit_test(test_roundtrip_many),
		cmocka_unit_test(test_builder_limits),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_props),
		cmocka_unit_test(test_hand_made),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_bad_offsets),
		cmocka_unit_test(test_bad_values),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(blob);
	return rc;
}
