/* elf.h: validate an untrusted x86-64 ELF64 image (static, or naming its interpreter) and turn it into a load plan. */
#ifndef GUEST_LIB_ELF_H
#define GUEST_LIB_ELF_H

#include <stdint.h>

#define ELF_MAX_SEGS 16   /* PT_LOAD segments kept in a plan; real static programs use 2..6 */
#define ELF_MAX_PHNUM 64  /* more program headers than this is not something a linker emits */
#define ELF_MAX_SEGSZ (1ull << 30)  /* cap per segment, so one header cannot ask for the whole heap */

/* The plan must fit the user half with the guard page below the canonical hole left unused,
 * and stay clear of the low pages that catch NULL dereferences. */
#define ELF_USER_MIN 0x10000ull
#define ELF_USER_TOP 0x00007ffffffff000ull
#define ELF_PAGE 4096ull

#define ELF_PROT_R 1u
#define ELF_PROT_W 2u
#define ELF_PROT_X 4u

/* vaddr/memsz are exact (not page-rounded): two segments may share one page, and then the
 * loader must give that page the union of both prots and must zero only each segment's own
 * [vaddr + filesz, vaddr + memsz) tail, never the whole remainder of the page. */
struct elf_seg {
	uint64_t vaddr, memsz, filesz, offset;
	uint32_t prot;
};

struct elf_plan {
	uint64_t entry;        /* after bias */
	uint64_t phdr_vaddr;   /* AT_PHDR, after bias; 0 if the headers are not in the image */
	uint16_t phnum, phentsize;
	uint64_t bias;         /* 0 for ET_EXEC; for ET_DYN added (mod 2^64) to every link-time address */
	uint64_t lo, hi;       /* page-aligned span of all segments after bias */
	uint64_t stack_prot;   /* from PT_GNU_STACK, default RW */
	uint64_t tls_align;    /* informational: PT_TLS p_align, 0 if none */
	uint16_t type;         /* ET_EXEC (2) or ET_DYN (3) */
	uint64_t interp_off, interp_len;  /* elf_plan_dyn: PT_INTERP's path in the file (len without NUL); 0 if none */
	unsigned nseg;
	struct elf_seg seg[ELF_MAX_SEGS];  /* PT_LOAD segments in order, vaddr after bias */
};

/* errno values a caller may map these to. */
enum { ELF_ENOEXEC = 8 /* not an ELF / malformed */, ELF_EINVAL = 22 };

/* Return codes of elf_plan; separate so the VMM can report each with its own exit status.
 * -ELF_EINVAL means the caller passed bad arguments (NULL pointers, unaligned dyn_base). */
#define ELF_E_NOTELF  (-1)  /* no ELF magic, too short, or not an executable type */
#define ELF_E_ARCH    (-2)  /* wrong class, endianness or machine */
#define ELF_E_DYNAMIC (-3)  /* PT_INTERP present: needs a dynamic linker we do not provide */
#define ELF_E_BAD     (-4)  /* malformed or hostile headers */

/* img/size: the whole file. dyn_base: page-aligned load address for ET_DYN (ignored for ET_EXEC).
 * On failure *out is unspecified and *why (if why is non-NULL) names the first problem found. */
int elf_plan(const void *img, uint64_t size, uint64_t dyn_base, struct elf_plan *out, const char **why);

/* As elf_plan, but a program with PT_INTERP is planned too: the interpreter's path is checked
 * (inside the file, NUL-terminated, shorter than ELF_INTERP_MAX) and reported in interp_off/len. */
#define ELF_INTERP_MAX 4096
int elf_plan_dyn(const void *img, uint64_t size, uint64_t dyn_base, struct elf_plan *out, const char **why);

#endif
