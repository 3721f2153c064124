/* bootfdt.c: write the guest's boot data as a flattened device tree with libfdt's sequential-write API. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libfdt.h>
#include "bootfdt.h"

static const char *const stdio_names[LBVM_STDIO_HANDLES] = { "stdin", "stdout", "stderr" };

/* A string list property from n strings: each NUL-terminated, packed, as "compatible" is. */
static int prop_strlist(void *fdt, const char *name, char *const *s, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += strlen(s[i]) + 1;
	if (len > INT32_MAX)
		return -FDT_ERR_NOSPACE;
	void *val;
	int err = fdt_property_placeholder(fdt, name, (int)len, &val);
	if (err)
		return err;
	char *p = val;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(s[i]) + 1;
		memcpy(p, s[i], l);
		p += l;
	}
	return 0;
}

static int add_tty(void *fdt, const char *name, const struct lbvm_tty *t)
{
	int err = fdt_begin_node(fdt, name);
	err = err ? err : fdt_property_u32(fdt, "is-tty", t->is_tty);
	err = err ? err : fdt_property_u32(fdt, "rows", t->ws_row);
	err = err ? err : fdt_property_u32(fdt, "cols", t->ws_col);
	err = err ? err : fdt_property(fdt, "termios", t->termios, sizeof(t->termios));
	err = err ? err : fdt_property_u32(fdt, "st-mode", t->st_mode);
	return err ? err : fdt_end_node(fdt);
}

static int add_mount(void *fdt, unsigned i, const struct lbvm_mount *m)
{
	char name[32];
	snprintf(name, sizeof(name), "mount@%u", i);
	int err = fdt_begin_node(fdt, name);
	err = err ? err : fdt_property_u32(fdt, "root", m->root);
	err = err ? err : fdt_property_u32(fdt, "flags", m->flags);
	err = err ? err : fdt_property_u64(fdt, "dev", m->dev);
	err = err ? err : fdt_property(fdt, "path", m->path, (int)strnlen(m->path, sizeof(m->path) - 1) + 1);
	return err ? err : fdt_end_node(fdt);
}

/* Each step returns a libfdt error; the first one ends the build. */
static int build(void *fdt, size_t size, const struct bootfdt *b)
{
	int err = fdt_create(fdt, (int)size);
	err = err ? err : fdt_finish_reservemap(fdt);
	err = err ? err : fdt_begin_node(fdt, "");
	err = err ? err : fdt_property_u32(fdt, "abi-version", LBVM_ABI_VERSION);
	err = err ? err : fdt_property_u32(fdt, "cpu-mode", b->cpu_mode);
	err = err ? err : fdt_property_u32(fdt, "flags", b->flags);

	err = err ? err : fdt_begin_node(fdt, "memory");
	err = err ? err : fdt_property_u64(fdt, "ram-size", b->ram_size);
	err = err ? err : fdt_property_u64(fdt, "kernel-end", b->kernel_end);
	err = err ? err : fdt_end_node(fdt);

	err = err ? err : fdt_begin_node(fdt, b->flags & LBVM_BOOT_IMAGE ? "image" : "program");
	err = err ? err : fdt_property_u64(fdt, "gpa", b->ro_gpa);
	err = err ? err : fdt_property_u64(fdt, "size", b->ro_size);
	err = err ? err : fdt_end_node(fdt);

	err = err ? err : fdt_begin_node(fdt, "chosen");
	err = err ? err : fdt_property_string(fdt, "exe", b->exe);
	err = err ? err : fdt_property_string(fdt, "cwd", b->cwd);
	err = err ? err : prop_strlist(fdt, "argv", b->argv, b->argc);
	err = err ? err : prop_strlist(fdt, "envp", b->envp, b->envc);
	err = err ? err : fdt_property(fdt, "rng-seed", b->seed, sizeof(b->seed));
	err = err ? err : fdt_end_node(fdt);

	err = err ? err : fdt_begin_node(fdt, "ioq");
	err = err ? err : fdt_property_u64(fdt, "gpa", b->ioq_gpa);
	err = err ? err : fdt_property_u32(fdt, "size", b->ioq_size);
	err = err ? err : fdt_end_node(fdt);

	err = err ? err : fdt_begin_node(fdt, "clock");
	err = err ? err : fdt_property_u64(fdt, "tsc-khz", b->tsc_khz);
	err = err ? err : fdt_property_u64(fdt, "boot-tsc", b->boot_tsc);
	err = err ? err : fdt_property_u64(fdt, "realtime-ns", (uint64_t)b->realtime_ns);
	err = err ? err : fdt_property_u64(fdt, "monotonic-ns", (uint64_t)b->monotonic_ns);
	err = err ? err : fdt_end_node(fdt);

	err = err ? err : fdt_begin_node(fdt, "stdio");
	for (unsigned i = 0; i < LBVM_STDIO_HANDLES && !err; i++)
		err = add_tty(fdt, stdio_names[i], &b->tty[i]);
	err = err ? err : fdt_end_node(fdt);

	err = err ? err : fdt_begin_node(fdt, "mounts");
	for (unsigned i = 0; i < b->nmounts && !err; i++)
		err = add_mount(fdt, i, &b->mounts[i]);
	err = err ? err : fdt_end_node(fdt);

	err = err ? err : fdt_end_node(fdt);
	return err ? err : fdt_finish(fdt);
}

int bootfdt_build(void *buf, size_t size, const struct bootfdt *b)
{
	size_t strings = strlen(b->exe) + 1 + strlen(b->cwd) + 1;
	for (int i = 0; i < b->argc; i++)
		strings += strlen(b->argv[i]) + 1;
	for (int i = 0; i < b->envc; i++)
		strings += strlen(b->envp[i]) + 1;
	if (strings > LBVM_ARGS_MAX || (uint64_t)b->argc + (uint64_t)b->envc > LBVM_ARGV_MAX)
		return -E2BIG;
	if (size > INT32_MAX || b->nmounts > LBVM_MOUNTS_MAX)
		return -EINVAL;
	int err = build(buf, size, b);
	if (err == -FDT_ERR_NOSPACE)
		return -ENOSPC;
	return err ? -EINVAL : 0;
}
