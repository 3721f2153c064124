/* bootparams.c: the VMM's boot device tree (docs/abi.md) into struct boot_params, checked field by field. */
#include "bootparams.h"
#include "guest/lib/fdt.h"

static const char *const stdio_names[LBVM_STDIO_HANDLES] = { "stdin", "stdout", "stderr" };

/* Absolute and canonical, not "/": no empty, "." or ".." components, no trailing '/'; shorter than the table's slot. */
static int mount_path_ok(const char *p)
{
	size_t n = 0;
	while (p[n])
		n++;
	if (n < 2 || n >= sizeof(((struct lbvm_mount *)0)->path) || p[0] != '/' || p[n - 1] == '/')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '/')
			continue;
		size_t c = i + 1;
		while (c < n && p[c] != '/')
			c++;
		size_t len = c - i - 1;
		if (len == 0 || (len == 1 && p[i + 1] == '.') || (len == 2 && p[i + 1] == '.' && p[i + 2] == '.'))
			return 0;
	}
	return 1;
}

static int unit_name_ok(const char *name, unsigned i)
{
	const char *pre = "mount@";
	while (*pre)
		if (*name++ != *pre++)
			return 0;
	char digits[4];
	int n = 0;
	do {
		digits[n++] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	while (n)
		if (*name++ != digits[--n])
			return 0;
	return *name == 0;
}

static int read_mounts(const struct fdtr *t, struct boot_params *bp, const char **what)
{
	int parent = fdtr_path(t, "/mounts"), child = -1, rc;
	*what = "/mounts";
	if (parent < 0)
		return parent;
	while ((rc = fdtr_next_child(t, parent, &child)) == 1) {
		unsigned i = bp->nmounts;
		struct lbvm_mount *m = &bp->mounts[i];
		const char *path;
		*what = "/mounts: a mount";
		if (i >= LBVM_MOUNTS_MAX || !unit_name_ok(fdtr_name(t, child), i))
			return FDTR_EVALUE;
		*what = "/mounts/mount@N/root";
		if ((rc = fdtr_u32(t, child, "root", &m->root)))
			return rc;
		*what = "/mounts/mount@N/flags";
		if ((rc = fdtr_u32(t, child, "flags", &m->flags)))
			return rc;
		if (m->flags & ~LBVM_MOUNT_RO)
			return FDTR_EVALUE;
		*what = "/mounts/mount@N/dev";
		if ((rc = fdtr_u64(t, child, "dev", &m->dev)))
			return rc;
		*what = "/mounts/mount@N/path";
		if ((rc = fdtr_string(t, child, "path", &path)))
			return rc;
		if (!mount_path_ok(path))
			return FDTR_EVALUE;
		size_t k = 0;
		for (; path[k]; k++)
			m->path[k] = path[k];
		m->path[k] = 0;
		bp->nmounts++;
	}
	return rc;
}

static int read_tty(const struct fdtr *t, int node, struct lbvm_tty *tty)
{
	uint32_t rows, cols;
	int rc = fdtr_u32(t, node, "is-tty", &tty->is_tty);
	rc = rc ? rc : fdtr_u32(t, node, "rows", &rows);
	rc = rc ? rc : fdtr_u32(t, node, "cols", &cols);
	rc = rc ? rc : fdtr_bytes(t, node, "termios", tty->termios, sizeof(tty->termios));
	rc = rc ? rc : fdtr_u32(t, node, "st-mode", &tty->st_mode);
	if (rc)
		return rc;
	if (tty->is_tty > 1 || rows > UINT16_MAX || cols > UINT16_MAX)
		return FDTR_EVALUE;
	tty->ws_row = (uint16_t)rows;
	tty->ws_col = (uint16_t)cols;
	return 0;
}

/* Look up node path once; the property steps below name themselves in *what. */
#define NODE(var, path) do { *what = path; if ((var = fdtr_path(&t, path)) < 0) return var; } while (0)
#define STEP(name, call) do { *what = name; if ((rc = (call))) return rc; } while (0)

int bootparams_parse(struct boot_params *bp, void *fdt, uint64_t region, const char **what)
{
	struct fdtr t;
	int rc, root, n;
	uint64_t u;
	uint32_t len;
	const void *seed;

	for (size_t i = 0; i < sizeof(*bp); i++)
		((uint8_t *)bp)[i] = 0;
	STEP("header and structure", fdtr_open(&t, fdt, region));
	NODE(root, "/");
	STEP("/abi-version", fdtr_u32(&t, root, "abi-version", &bp->abi_version));
	if (bp->abi_version != LBVM_ABI_VERSION)
		return FDTR_EVERSION;
	STEP("/cpu-mode", fdtr_u32(&t, root, "cpu-mode", &bp->cpu_mode));
	if (bp->cpu_mode != LBVM_CPU_PVM && bp->cpu_mode != LBVM_CPU_RING0)
		return FDTR_EVALUE;
	STEP("/flags", fdtr_u32(&t, root, "flags", &bp->flags));
	if (bp->flags & ~LBVM_BOOT_FLAGS)
		return FDTR_EVALUE;

	NODE(n, "/memory");
	STEP("/memory/ram-size", fdtr_u64(&t, n, "ram-size", &bp->ram_size));
	STEP("/memory/kernel-end", fdtr_u64(&t, n, "kernel-end", &bp->kernel_end));
	if (bp->ram_size > LBVM_RAM_MAX || bp->kernel_end <= LBVM_GPA_KERNEL || bp->kernel_end >= bp->ram_size)
		return FDTR_EVALUE;

	/* The read-only slot: a program or an image, as the flag says, and not the other. */
	int image = (bp->flags & LBVM_BOOT_IMAGE) != 0;
	*what = image ? "/program (with an image)" : "/image (without the image flag)";
	if (fdtr_path(&t, image ? "/program" : "/image") != FDTR_ENOENT)
		return FDTR_EVALUE;
	NODE(n, image ? "/image" : "/program");
	uint64_t *gpa = image ? &bp->image_gpa : &bp->prog_gpa, *size = image ? &bp->image_size : &bp->prog_size;
	STEP("gpa of /program or /image", fdtr_u64(&t, n, "gpa", gpa));
	STEP("size of /program or /image", fdtr_u64(&t, n, "size", size));
	if (*gpa < bp->ram_size || *gpa & (LBVM_PAGE_SIZE - 1) || *size > (LBVM_DMAP_MAX_GIB << 30) ||
	    *gpa > (LBVM_DMAP_MAX_GIB << 30) - *size)
		return FDTR_EVALUE;

	NODE(n, "/chosen");
	STEP("/chosen/exe", fdtr_string(&t, n, "exe", &bp->exe));
	STEP("/chosen/cwd", fdtr_string(&t, n, "cwd", &bp->cwd));
	uint32_t argv_len, envp_len;
	STEP("/chosen/argv", fdtr_strlist(&t, n, "argv", &bp->argv_strs, &argv_len, &bp->argc));
	STEP("/chosen/envp", fdtr_strlist(&t, n, "envp", &bp->envp_strs, &envp_len, &bp->envc));
	*what = "/chosen: exe, cwd, argv and envp together";
	u = (uint64_t)argv_len + envp_len;
	for (const char *s = bp->exe; *s; s++)
		u++;
	for (const char *s = bp->cwd; *s; s++)
		u++;
	if (u + 2 > LBVM_ARGS_MAX || (uint64_t)bp->argc + bp->envc > LBVM_ARGV_MAX)
		return FDTR_EVALUE;
	STEP("/chosen/rng-seed", fdtr_prop(&t, n, "rng-seed", &seed, &len));
	if (len != LBVM_SEED_BYTES)
		return FDTR_EVALUE;
	for (unsigned i = 0; i < LBVM_SEED_BYTES; i++) {
		bp->seed[i] = ((const uint8_t *)seed)[i];
		((volatile uint8_t *)seed)[i] = 0;   /* the FDT is ours to write; the seed lives on only in bp */
	}

	NODE(n, "/ioq");
	STEP("/ioq/gpa", fdtr_u64(&t, n, "gpa", &bp->ioq_gpa));
	STEP("/ioq/size", fdtr_u32(&t, n, "size", &bp->ioq_size));

	NODE(n, "/clock");
	STEP("/clock/tsc-khz", fdtr_u64(&t, n, "tsc-khz", &bp->tsc_khz));
	if (bp->tsc_khz == 0 || bp->tsc_khz > UINT32_MAX)
		return FDTR_EVALUE;
	STEP("/clock/boot-tsc", fdtr_u64(&t, n, "boot-tsc", &bp->boot_tsc));
	STEP("/clock/realtime-ns", fdtr_u64(&t, n, "realtime-ns", &u));
	bp->boot_realtime_ns = (int64_t)u;
	STEP("/clock/monotonic-ns", fdtr_u64(&t, n, "monotonic-ns", &u));
	bp->boot_monotonic_ns = (int64_t)u;

	NODE(n, "/stdio");
	for (unsigned i = 0; i < LBVM_STDIO_HANDLES; i++) {
		int h;
		*what = "/stdio: stdin, stdout or stderr";
		if ((h = fdtr_subnode(&t, n, stdio_names[i])) < 0)
			return h;
		if ((rc = read_tty(&t, h, &bp->tty[i])))
			return rc;
	}
	return read_mounts(&t, bp, what);
}
