/* bigmem.c: allocates and touches 64 MiB with mmap, 64 MiB more with brk, and moves memory with mremap. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MIB (1ul << 20)

int main(void)
{
	size_t n = 64 * MIB;
	unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 2;
	for (size_t i = 0; i < n; i += 4096)
		p[i] = (unsigned char)(i >> 12);
	for (size_t i = 0; i < n; i += 4096)
		if (p[i] != (unsigned char)(i >> 12) || p[i + 1] != 0)
			return 3;
	if (munmap(p, n))
		return 4;
	puts("mmap ok");

	char *base = (char *)syscall(SYS_brk, 0), *cur = base;
	for (int i = 0; i < 64; i++) {
		char *want = cur + MIB;
		if ((char *)syscall(SYS_brk, want) != want)
			return 5;
		memset(cur, i + 1, MIB);
		cur = want;
	}
	for (int i = 0; i < 64; i++)
		if (base[(size_t)i * MIB] != i + 1 || base[(size_t)i * MIB + MIB - 1] != i + 1)
			return 6;
	puts("brk ok");

	char *m = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; i < MIB; i++)
		m[i] = (char)(i * 7);
	char *m2 = mremap(m, MIB, 8 * MIB, MREMAP_MAYMOVE);
	if (m2 == MAP_FAILED)
		return 7;
	for (size_t i = 0; i < MIB; i++)
		if (m2[i] != (char)(i * 7))
			return 8;
	memset(m2 + MIB, 1, 7 * MIB);
	puts("mremap ok");

	/* mprotect to read-only, then a write must kill us: checked by the runner via a child run */
	return 0;
}
