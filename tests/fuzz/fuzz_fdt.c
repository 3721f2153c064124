/* fuzz_fdt.c: libFuzzer harness opening the input as a boot FDT, walking every node, and parsing it as boot data. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/kernel/bootparams.h"
#include "guest/lib/fdt.h"

#define FUZZ_MAX_NODES 4096

/* A wrong answer is as much a finding as a crash. */
#define FUZZ_CHECK(c) do { if (!(c)) abort(); } while (0)

static const char *const prop_names[] = { "abi-version", "flags", "gpa", "size", "argv", "exe", "path", "termios", "x" };
static const char *const paths[] = { "/", "/memory", "/chosen", "/mounts/mount@0", "/stdio/stdin", "//a//b/", "/a/b/c/d/e/f/g/h/i" };

/* Whatever a lookup hands out lies inside the structure block. */
static void check_in_struct(const struct fdtr *t, const void *p, uint32_t len)
{
	const uint8_t *s = t->base + t->struct_off, *q = p;
	FUZZ_CHECK(q >= s && q <= s + t->struct_size && len <= (uint64_t)(s + t->struct_size - q));
}

static void fuzz_node(const struct fdtr *t, int node)
{
	const char *name = fdtr_name(t, node), *str;
	const void *val;
	uint32_t len, count, u32;
	uint64_t u64;
	uint8_t bytes[36];

	FUZZ_CHECK(name != NULL);
	FUZZ_CHECK(strlen(name) <= FDTR_NAME_MAX && !strchr(name, '/'));
	for (unsigned i = 0; i < sizeof(prop_names) / sizeof(prop_names[0]); i++) {
		int rc = fdtr_prop(t, node, prop_names[i], &val, &len);
		FUZZ_CHECK(rc == 0 || rc == FDTR_ENOENT);
		if (rc)
			continue;
		check_in_struct(t, val, len);
		rc = fdtr_strlist(t, node, prop_names[i], &str, &len, &count);
		FUZZ_CHECK(rc == 0 || rc == FDTR_EVALUE);
		if (!rc) {
			FUZZ_CHECK(count <= len && (len == 0 || str[len - 1] == 0));
			size_t seen = 0;
			for (uint32_t k = 0; k < count; k++)
				seen += strlen(str + seen) + 1;
			FUZZ_CHECK(seen == len);
		}
		(void)fdtr_string(t, node, prop_names[i], &str);
		FUZZ_CHECK((fdtr_u32(t, node, prop_names[i], &u32) == 0) == (len == 4));
		FUZZ_CHECK((fdtr_u64(t, node, prop_names[i], &u64) == 0) == (len == 8));
		(void)fdtr_bytes(t, node, prop_names[i], bytes, sizeof(bytes));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: the reader writes nothing, bootparams_parse wipes the seed in place. */
	uint8_t *blob = malloc(size ? size : 1);
	struct fdtr t;
	FUZZ_CHECK(blob != NULL);
	memcpy(blob, data, size);

	if (fdtr_open(&t, blob, size) == 0) {
		FUZZ_CHECK(t.total <= size && t.struct_off + (uint64_t)t.struct_size <= t.total);
		FUZZ_CHECK(t.strings_off + (uint64_t)t.strings_size <= t.total);
		/* Depth-first over every node, with an explicit stack bounded by the reader's own depth limit. */
		int stack[FDTR_DEPTH_MAX + 1], child[FDTR_DEPTH_MAX + 1], depth = 0, nodes = 0;
		stack[0] = fdtr_root(&t);
		child[0] = -1;
		FUZZ_CHECK(stack[0] >= 0);
		fuzz_node(&t, stack[0]);
		while (depth >= 0 && nodes < FUZZ_MAX_NODES) {
			int rc = fdtr_next_child(&t, stack[depth], &child[depth]);
			FUZZ_CHECK(rc == 0 || rc == 1);   /* a validated tree never fails a walk */
			if (rc == 0) {
				depth--;
				continue;
			}
			FUZZ_CHECK(child[depth] > stack[depth] && depth + 1 < (int)FDTR_DEPTH_MAX);
			fuzz_node(&t, child[depth]);
			nodes++;
			depth++;
			stack[depth] = child[depth - 1];
			child[depth] = -1;
		}
		for (unsigned i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			int n = fdtr_path(&t, paths[i]);
			FUZZ_CHECK(n >= 0 || n == FDTR_ENOENT);
		}
		/* Node handles from nowhere: any offset the input suggests. */
		for (size_t i = 0; i + 4 <= size && i < 64; i += 4) {
			int off;
			memcpy(&off, data + i, sizeof(off));
			const char *name = fdtr_name(&t, off);
			FUZZ_CHECK(!name || strlen(name) <= FDTR_NAME_MAX);
			const void *v;
			uint32_t len;
			if (fdtr_prop(&t, off, "flags", &v, &len) == 0)
				check_in_struct(&t, v, len);
		}
	}

	struct boot_params bp;
	const char *what = NULL;
	if (bootparams_parse(&bp, blob, size, &what) == 0) {
		FUZZ_CHECK(bp.nmounts <= LBVM_MOUNTS_MAX && bp.abi_version == LBVM_ABI_VERSION);
		for (unsigned i = 0; i < bp.nmounts; i++)
			FUZZ_CHECK(bp.mounts[i].path[0] == '/' && strlen(bp.mounts[i].path) < sizeof(bp.mounts[i].path));
		const char *p = bp.argv_strs;
		for (uint32_t i = 0; i < bp.argc; i++)
			p += strlen(p) + 1;
		FUZZ_CHECK(p >= (const char *)blob && p <= (const char *)blob + size);
		FUZZ_CHECK((bp.image_size == 0 || bp.prog_size == 0) && bp.tsc_khz != 0);
	} else {
		FUZZ_CHECK(what != NULL);
	}
	free(blob);
	return 0;
}
