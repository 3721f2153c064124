/* elf.c: validating ELF64 parser producing a load plan; every field of the image is untrusted. */
#include <stddef.h>
#include <stdint.h>
#include "elf.h"

/* Layout constants of the ELF64 format (private: <elf.h> is not available freestanding). */
#define EHDR_SIZE 64u
#define PHDR_SIZE 56u

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EM_X86_64 62
#define ET_EXEC 2
#define ET_DYN 3

#define PT_LOAD 1
#define PT_INTERP 3
#define PT_PHDR 6
#define PT_TLS 7
#define PT_GNU_STACK 0x6474e551u

#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

struct elf_ehdr {
	uint16_t type, machine;
	uint64_t entry, phoff;
	uint16_t phentsize, phnum;
};

struct elf_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz, align;
};

/* Byte-wise little-endian loads: the image may sit at any alignment, and the format is LE
 * whatever the host is. */
static uint16_t elf_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static uint32_t elf_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t elf_rd64(const uint8_t *p)
{
	return (uint64_t)elf_rd32(p) | (uint64_t)elf_rd32(p + 4) << 32;
}

/* Caller has checked that the whole table lies inside the image. */
static void elf_read_phdr(const uint8_t *img, uint64_t phoff, unsigned i, struct elf_phdr *ph)
{
	const uint8_t *p = img + phoff + (uint64_t)i * PHDR_SIZE;
	ph->type = elf_rd32(p + 0);
	ph->flags = elf_rd32(p + 4);
	ph->offset = elf_rd64(p + 8);
	ph->vaddr = elf_rd64(p + 16);
	/* p_paddr at 24 is meaningless for user programs */
	ph->filesz = elf_rd64(p + 32);
	ph->memsz = elf_rd64(p + 40);
	ph->align = elf_rd64(p + 48);
}

static uint32_t elf_prot(uint32_t pf)
{
	return ((pf & PF_R) ? ELF_PROT_R : 0) | ((pf & PF_W) ? ELF_PROT_W : 0) |
	       ((pf & PF_X) ? ELF_PROT_X : 0);
}

static int elf_fail(const char **why, const char *msg, int code)
{
	if (why)
		*why = msg;
	return code;
}

/* [a, a + alen) inside [b, b + blen)? Written so that no sum can wrap. */
static int elf_within(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a >= b && a - b <= blen && alen <= blen - (a - b);
}

static int elf_check_header(const uint8_t *p, uint64_t size, struct elf_ehdr *eh, const char **why)
{
	if (size < 4)
		return elf_fail(why, "not an ELF file (too short)", ELF_E_NOTELF);
	if (p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F')
		return elf_fail(why, "not an ELF file (bad magic)", ELF_E_NOTELF);
	/* Class and byte order before length, so a short 32-bit file is called what it is. */
	if (size > EI_CLASS && p[EI_CLASS] != ELFCLASS64)
		return elf_fail(why, "not a 64-bit ELF", ELF_E_ARCH);
	if (size > EI_DATA && p[EI_DATA] != ELFDATA2LSB)
		return elf_fail(why, "not a little-endian ELF", ELF_E_ARCH);
	if (size < EHDR_SIZE)
		return elf_fail(why, "truncated ELF header", ELF_E_BAD);

	eh->type = elf_rd16(p + 16);
	eh->machine = elf_rd16(p + 18);
	eh->entry = elf_rd64(p + 24);
	eh->phoff = elf_rd64(p + 32);
	eh->phentsize = elf_rd16(p + 54);
	eh->phnum = elf_rd16(p + 56);

	if (eh->machine != EM_X86_64)
		return elf_fail(why, "not an x86-64 program", ELF_E_ARCH);
	if (eh->type != ET_EXEC && eh->type != ET_DYN)
		return elf_fail(why, "not an executable (ELF type is not EXEC or DYN)", ELF_E_NOTELF);
	if (eh->phentsize != PHDR_SIZE)
		return elf_fail(why, "bad program header entry size", ELF_E_BAD);
	if (eh->phnum == 0)
		return elf_fail(why, "no program headers", ELF_E_BAD);
	if (eh->phnum > ELF_MAX_PHNUM)
		return elf_fail(why, "too many program headers", ELF_E_BAD);
	if (!elf_within(eh->phoff, (uint64_t)eh->phnum * PHDR_SIZE, 0, size))
		return elf_fail(why, "truncated program headers", ELF_E_BAD);
	return 0;
}

/* PT_INTERP's path: inside the file, one NUL at its very end, not empty, not huge. */
static int elf_check_interp(const uint8_t *p, uint64_t size, const struct elf_phdr *ph, struct elf_plan *out,
			    const char **why)
{
	if (out->interp_len)
		return elf_fail(why, "more than one PT_INTERP", ELF_E_BAD);
	if (!elf_within(ph->offset, ph->filesz, 0, size))
		return elf_fail(why, "interpreter path outside the file", ELF_E_BAD);
	if (ph->filesz < 2 || ph->filesz > ELF_INTERP_MAX)
		return elf_fail(why, "interpreter path empty or too long", ELF_E_BAD);
	for (uint64_t i = 0; i < ph->filesz - 1; i++)
		if (p[ph->offset + i] == 0)
			return elf_fail(why, "interpreter path has a NUL inside", ELF_E_BAD);
	if (p[ph->offset + ph->filesz - 1] != 0)
		return elf_fail(why, "interpreter path not NUL-terminated", ELF_E_BAD);
	out->interp_off = ph->offset;
	out->interp_len = ph->filesz - 1;
	return 0;
}

static int elf_plan_any(const void *img, uint64_t size, uint64_t dyn_base, struct elf_plan *out, const char **why,
			int allow_interp)
{
	const uint8_t *p = img;
	struct elf_ehdr eh;
	struct elf_phdr ph;
	uint64_t tbl, lo_raw, end_raw, span, base, prev_vaddr = 0, prev_end = 0, phdr_raw = 0;
	uint64_t stack_prot = ELF_PROT_R | ELF_PROT_W, tls_align = 0;
	int have_phdr = 0, rc;
	unsigned i, nseg = 0;

	if (why)
		*why = NULL;
	if (!out || (!img && size))
		return elf_fail(why, "invalid arguments", -ELF_EINVAL);
	rc = elf_check_header(p, size, &eh, why);
	if (rc)
		return rc;
	tbl = (uint64_t)eh.phnum * PHDR_SIZE;

	/* A dynamic program is reported as such even if it would also trip a later check:
	 * "needs a dynamic linker" is the useful message for it. */
	out->interp_off = out->interp_len = 0;
	for (i = 0; i < eh.phnum; i++) {
		elf_read_phdr(p, eh.phoff, i, &ph);
		if (ph.type != PT_INTERP)
			continue;
		if (!allow_interp)
			return elf_fail(why, "dynamically linked (has PT_INTERP)", ELF_E_DYNAMIC);
		rc = elf_check_interp(p, size, &ph, out, why);
		if (rc)
			return rc;
	}

	/* The checks here do not depend on the bias, so segments are kept at link-time addresses
	 * in out->seg until the base is known. */
	for (i = 0; i < eh.phnum; i++) {
		elf_read_phdr(p, eh.phoff, i, &ph);
		switch (ph.type) {
		case PT_LOAD:
			break;
		case PT_PHDR:
			if (!have_phdr) {
				have_phdr = 1;
				phdr_raw = ph.vaddr;
			}
			continue;
		case PT_GNU_STACK:
			/* The stack is always readable and writable; the header only decides X. */
			stack_prot = ELF_PROT_R | ELF_PROT_W | ((ph.flags & PF_X) ? ELF_PROT_X : 0);
			continue;
		case PT_TLS:
			if (!tls_align)
				tls_align = ph.align;
			continue;
		default:
			continue;
		}
		if (ph.filesz > ph.memsz)
			return elf_fail(why, "segment memsz smaller than filesz", ELF_E_BAD);
		if (ph.memsz > ELF_MAX_SEGSZ)
			return elf_fail(why, "segment too large (over 1 GiB)", ELF_E_BAD);
		if (!elf_within(ph.offset, ph.filesz, 0, size))
			return elf_fail(why, "segment file range outside the file", ELF_E_BAD);
		/* Copying does not need this, but page-granular mapping of the file would, and no
		 * linker produces anything else. */
		if ((ph.vaddr ^ ph.offset) & (ELF_PAGE - 1))
			return elf_fail(why, "misaligned segment (vaddr and offset differ modulo page size)",
					ELF_E_BAD);
		if (ph.vaddr > UINT64_MAX - ph.memsz)
			return elf_fail(why, "segment address out of user range", ELF_E_BAD);
		if (ph.memsz == 0)
			continue;  /* maps nothing; keeping it would only complicate the overlap rule */
		if (nseg) {
			if (ph.vaddr < prev_vaddr)
				return elf_fail(why, "segments not sorted by address", ELF_E_BAD);
			/* Sharing the page at a boundary is normal linker output; sharing bytes is not. */
			if (ph.vaddr < prev_end)
				return elf_fail(why, "segments overlap", ELF_E_BAD);
		}
		if (nseg == ELF_MAX_SEGS)
			return elf_fail(why, "too many segments", ELF_E_BAD);
		out->seg[nseg].vaddr = ph.vaddr;
		out->seg[nseg].memsz = ph.memsz;
		out->seg[nseg].filesz = ph.filesz;
		out->seg[nseg].offset = ph.offset;
		out->seg[nseg].prot = elf_prot(ph.flags);
		nseg++;
		prev_vaddr = ph.vaddr;
		prev_end = ph.vaddr + ph.memsz;
	}
	if (nseg == 0)
		return elf_fail(why, "no loadable segments", ELF_E_BAD);

	/* Sorted and disjoint, so the first segment starts lowest and the last ends highest. */
	lo_raw = out->seg[0].vaddr & ~(ELF_PAGE - 1);
	end_raw = prev_end;
	span = end_raw - lo_raw;
	if (eh.type == ET_DYN) {
		if (dyn_base & (ELF_PAGE - 1))
			return elf_fail(why, "load base not page aligned", -ELF_EINVAL);
		base = dyn_base;
	} else {
		base = lo_raw;
	}
	/* Every relocated address is base + (x - lo_raw) with lo_raw <= x <= end_raw; bounding the
	 * whole span once bounds them all, without ever computing a wrapped sum. */
	if (base < ELF_USER_MIN || base > ELF_USER_TOP || span > ELF_USER_TOP - base)
		return elf_fail(why, "segment address out of user range", ELF_E_BAD);

	for (i = 0; i < nseg; i++) {
		const struct elf_seg *s = &out->seg[i];
		if ((s->prot & ELF_PROT_X) && elf_within(eh.entry, 1, s->vaddr, s->memsz))
			break;
	}
	if (i == nseg)
		return elf_fail(why, "entry point outside executable segments", ELF_E_BAD);

	/* AT_PHDR must point at readable memory, since libc walks the table through it. */
	out->phdr_vaddr = 0;
	if (have_phdr) {
		for (i = 0; i < nseg; i++)
			if (elf_within(phdr_raw, tbl, out->seg[i].vaddr, out->seg[i].memsz))
				break;
		if (i == nseg)
			return elf_fail(why, "program headers outside loadable segments", ELF_E_BAD);
		out->phdr_vaddr = base + (phdr_raw - lo_raw);
	} else {
		/* As Linux does: only headers inside a segment's file bytes are visible; else AT_PHDR is 0. */
		for (i = 0; i < nseg; i++) {
			const struct elf_seg *s = &out->seg[i];
			if (elf_within(eh.phoff, tbl, s->offset, s->filesz)) {
				out->phdr_vaddr = base + (s->vaddr + (eh.phoff - s->offset) - lo_raw);
				break;
			}
		}
	}

	for (i = 0; i < nseg; i++)
		out->seg[i].vaddr = base + (out->seg[i].vaddr - lo_raw);
	out->entry = base + (eh.entry - lo_raw);
	out->phnum = eh.phnum;
	out->phentsize = eh.phentsize;
	/* Defined as a modular offset: link-time address + bias (mod 2^64) = run-time address. */
	out->bias = eh.type == ET_DYN ? base - lo_raw : 0;
	out->lo = base;
	out->hi = base + ((span + ELF_PAGE - 1) & ~(ELF_PAGE - 1));
	out->stack_prot = stack_prot;
	out->tls_align = tls_align;
	out->type = eh.type;
	out->nseg = nseg;
	return 0;
}

int elf_plan(const void *img, uint64_t size, uint64_t dyn_base, struct elf_plan *out, const char **why)
{
	return elf_plan_any(img, size, dyn_base, out, why, 0);
}

int elf_plan_dyn(const void *img, uint64_t size, uint64_t dyn_base, struct elf_plan *out, const char **why)
{
	return elf_plan_any(img, size, dyn_base, out, why, 1);
}
