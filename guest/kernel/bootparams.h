/* bootparams.h: the boot data as the kernel keeps it, read once from the VMM's device tree. */
#ifndef GUEST_KERNEL_BOOTPARAMS_H
#define GUEST_KERNEL_BOOTPARAMS_H

#include <stddef.h>
#include <stdint.h>
#include "hypercall/lbvm_abi.h"

/* Filled once at boot by bootparams_parse; every field has been checked. Strings point into the FDT. */
struct boot_params {
	uint32_t abi_version, cpu_mode, flags;   /* flags: LBVM_BOOT_* */
	uint64_t ram_size, kernel_end;
	uint64_t prog_gpa, prog_size;            /* without LBVM_BOOT_IMAGE; else 0 */
	uint64_t image_gpa, image_size;          /* with LBVM_BOOT_IMAGE; else 0 */
	uint64_t ioq_gpa;
	uint32_t ioq_size;
	const char *exe, *cwd;
	const char *argv_strs, *envp_strs;       /* argc and envc NUL-terminated strings, packed */
	uint32_t argc, envc;
	uint32_t nmounts;
	struct lbvm_mount mounts[LBVM_MOUNTS_MAX];
	struct lbvm_tty tty[LBVM_STDIO_HANDLES];
	uint8_t seed[LBVM_SEED_BYTES];
	uint64_t tsc_khz, boot_tsc;
	int64_t boot_realtime_ns, boot_monotonic_ns;
};

/*
 * Read the FDT at fdt (region bytes may be read) into bp. 0, or an FDTR_*
 * error with *what naming the node or property at fault. The seed is wiped
 * from the FDT once copied. Nothing is trusted: sizes, counts, paths and
 * flags are checked against this ABI's limits.
 */
int bootparams_parse(struct boot_params *bp, void *fdt, uint64_t region, const char **what);

#endif
