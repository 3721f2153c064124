/* ustack.c: lay out a new process's stack as Linux's create_elf_tables does, so libc startup finds what it expects. */
#include <stddef.h>
#include <stdint.h>
#include "ustack.h"

static const char us_platform[] = "x86_64";

static uint64_t us_strlen(const char *s)
{
	uint64_t n = 0;
	while (s[n])
		n++;
	return n;
}

/* The region is described by user addresses; base is the user address of buf[0]. */
struct us_ctx {
	uint8_t *buf;
	uint64_t base;
	uint64_t p;     /* lowest user address handed out so far; everything in [p, top) is used */
};

/* Moves p down by n; fails instead of passing base, with no sum that could wrap. */
static int us_take(struct us_ctx *c, uint64_t n)
{
	if (n > c->p - c->base)
		return -1;
	c->p -= n;
	return 0;
}

static int us_align16(struct us_ctx *c)
{
	uint64_t a = c->p & ~15ull;
	if (a < c->base)
		return -1;
	c->p = a;
	return 0;
}

static void us_put(struct us_ctx *c, uint64_t uaddr, const void *src, uint64_t n)
{
	const uint8_t *s = src;
	uint8_t *d = c->buf + (uaddr - c->base);
	for (uint64_t i = 0; i < n; i++)
		d[i] = s[i];
}

/* Byte stores: buf has no alignment guarantee, and the ABI wants little-endian words. */
static void us_put64(struct us_ctx *c, uint64_t uaddr, uint64_t v)
{
	uint8_t *d = c->buf + (uaddr - c->base);
	for (int i = 0; i < 8; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

int ustack_build(uint8_t *buf, uint64_t size, uint64_t top, const struct ustack_in *in, uint64_t *sp)
{
	struct us_ctx c;
	uint64_t auxv[2 * USTACK_AUXV_MAX];
	uint64_t execfn_u, strs_u, strs_len = 0, random_u, platform_u, words, u, s, nstr, i;
	unsigned naux = 0;

	if (!buf || !in || !sp || !in->execfn || !in->random16 || (in->argc && !in->argv) ||
	    (in->envc && !in->envp) || size > top)
		return -USTACK_EINVAL;
	/* 64-bit: argc + envc must not wrap. Checking the pointer arrays against size first keeps
	 * a huge count from walking far into argv before failing. */
	nstr = (uint64_t)in->argc + in->envc;
	if ((nstr + 3) * 8 > size)
		return -USTACK_E2BIG;
	c.buf = buf;
	c.base = top - size;
	c.p = top;

	/* A NUL word at the very top, as Linux leaves, so the highest string is never the last byte. */
	if (us_take(&c, 8))
		return -USTACK_E2BIG;
	us_put64(&c, c.p, 0);

	s = us_strlen(in->execfn);
	if (s >= c.p - c.base || us_take(&c, s + 1))
		return -USTACK_E2BIG;
	execfn_u = c.p;
	us_put(&c, execfn_u, in->execfn, s + 1);

	/* argv strings then envp strings, contiguous and ascending: programs that rewrite their
	 * process title rely on argv's last string running straight into envp's first. */
	for (i = 0; i < nstr; i++) {
		const char *str = i < in->argc ? in->argv[i] : in->envp[i - in->argc];
		if (!str)
			return -USTACK_EINVAL;
		s = us_strlen(str);
		if (s >= c.p - c.base || strs_len > c.p - c.base - s - 1)
			return -USTACK_E2BIG;
		strs_len += s + 1;
	}
	if (us_take(&c, strs_len))
		return -USTACK_E2BIG;
	strs_u = c.p;
	for (i = 0, u = strs_u; i < nstr; i++) {
		const char *str = i < in->argc ? in->argv[i] : in->envp[i - in->argc];
		s = us_strlen(str) + 1;
		us_put(&c, u, str, s);
		u += s;
	}

	if (us_take(&c, 16))
		return -USTACK_E2BIG;
	random_u = c.p;
	us_put(&c, random_u, in->random16, 16);

	if (us_take(&c, sizeof(us_platform)))
		return -USTACK_E2BIG;
	platform_u = c.p;
	us_put(&c, platform_u, us_platform, sizeof(us_platform));

	if (us_align16(&c))
		return -USTACK_E2BIG;

#define AUX(t, v) do { auxv[2 * naux] = (t); auxv[2 * naux + 1] = (v); naux++; } while (0)
	/* Same order as Linux (arch entries first), in case a program reads auxv positionally. */
	if (in->sysinfo_ehdr)
		AUX(AT_SYSINFO_EHDR, in->sysinfo_ehdr);
	AUX(AT_MINSIGSTKSZ, USTACK_MINSIGSTKSZ);
	AUX(AT_HWCAP, in->hwcap);
	AUX(AT_PAGESZ, in->pagesz);
	AUX(AT_CLKTCK, in->clktck);
	AUX(AT_PHDR, in->phdr);
	AUX(AT_PHENT, in->phent);
	AUX(AT_PHNUM, in->phnum);
	AUX(AT_BASE, in->base);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, in->entry);
	AUX(AT_UID, in->uid);
	AUX(AT_EUID, in->euid);
	AUX(AT_GID, in->gid);
	AUX(AT_EGID, in->egid);
	AUX(AT_SECURE, in->secure);
	AUX(AT_RANDOM, random_u);
	AUX(AT_HWCAP2, in->hwcap2);
	AUX(AT_EXECFN, execfn_u);
	AUX(AT_PLATFORM, platform_u);
	AUX(AT_NULL, 0);
#undef AUX

	/* argc, argv[] + NULL, envp[] + NULL, auxv: counts are 32-bit, so this cannot overflow. */
	words = 1 + ((uint64_t)in->argc + 1) + ((uint64_t)in->envc + 1) + 2 * (uint64_t)naux;
	if (us_take(&c, words * 8) || us_align16(&c))
		return -USTACK_E2BIG;

	u = c.p;
	us_put64(&c, u, in->argc);
	u += 8;
	for (i = 0, s = strs_u; i < nstr; i++) {
		const char *str = i < in->argc ? in->argv[i] : in->envp[i - in->argc];
		if (i == in->argc) {
			us_put64(&c, u, 0);  /* argv terminator */
			u += 8;
		}
		us_put64(&c, u, s);
		u += 8;
		s += us_strlen(str) + 1;
	}
	if (in->envc == 0) {
		us_put64(&c, u, 0);  /* argv terminator not yet written by the loop */
		u += 8;
	}
	us_put64(&c, u, 0);  /* envp terminator */
	u += 8;
	for (i = 0; i < 2 * naux; i++, u += 8)
		us_put64(&c, u, auxv[i]);

	*sp = c.p;
	return 0;
}
