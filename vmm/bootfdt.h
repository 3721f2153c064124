/* bootfdt.h: the boot data the VMM hands the guest, and the builder that writes it as a flattened device tree. */
#ifndef VMM_BOOTFDT_H
#define VMM_BOOTFDT_H

#include <stddef.h>
#include <stdint.h>
#include "hypercall/lbvm_abi.h"

/* Everything the guest learns at boot; bootfdt_build lays it out as docs/abi.md describes. */
struct bootfdt {
	uint32_t cpu_mode;              /* LBVM_CPU_* */
	uint32_t flags;                 /* LBVM_BOOT_* */
	uint64_t ram_size, kernel_end;
	uint64_t ro_gpa, ro_size;       /* the program (flags without IMAGE) or the app image */
	uint64_t ioq_gpa;
	uint32_t ioq_size;
	const char *exe, *cwd;
	int argc, envc;
	char *const *argv, *const *envp;
	unsigned nmounts;
	const struct lbvm_mount *mounts;
	struct lbvm_tty tty[LBVM_STDIO_HANDLES];
	uint8_t seed[LBVM_SEED_BYTES];
	uint64_t tsc_khz, boot_tsc;
	int64_t realtime_ns, monotonic_ns;
};

/* Write the tree into buf (size bytes). 0, -ENOSPC when it does not fit, -E2BIG past LBVM_ARGS_MAX or LBVM_ARGV_MAX. */
int bootfdt_build(void *buf, size_t size, const struct bootfdt *b);

#endif
