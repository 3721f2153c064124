/* ustack.h: build the initial user stack (argc, argv, envp, auxv, strings) the x86-64 Linux ABI promises. */
#ifndef GUEST_USTACK_H
#define GUEST_USTACK_H

#include <stdint.h>

/* Own copies of the two errno values, so this header also works next to a libc <errno.h>. */
#define USTACK_E2BIG 7
#define USTACK_EINVAL 22

/* auxv tags (the numbers are ABI) */
#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_HWCAP2 26
#define AT_EXECFN 31
#define AT_SYSINFO_EHDR 33
#define AT_MINSIGSTKSZ 51

#define USTACK_MINSIGSTKSZ 2048
#define USTACK_AUXV_MAX 21   /* pairs, including AT_NULL */

/* All strings are kernel memory, NUL-terminated; argv[0..argc) and envp[0..envc) non-NULL. */
struct ustack_in {
	const char *execfn;
	unsigned argc;
	const char *const *argv;
	unsigned envc;
	const char *const *envp;
	const uint8_t *random16;
	uint64_t phdr, phent, phnum, entry, base, hwcap, hwcap2, pagesz, clktck;
	uint32_t uid, euid, gid, egid, secure;
	uint64_t sysinfo_ehdr; /* 0: omit AT_SYSINFO_EHDR */
};

/* buf is the kernel's copy of the user stack region [top - size, top); only the part above the
 * returned *sp is written. Returns 0, -USTACK_E2BIG if it does not fit, or -USTACK_EINVAL. */
int ustack_build(uint8_t *buf, uint64_t size, uint64_t top, const struct ustack_in *in, uint64_t *sp);

#endif
