/* fpu.c: a process's vector registers (xmm, ymm, zmm16-31, k0-7 where XCR0 enables them) survive switches to another process, and switching leaves the kernel's own process records (the name in /proc/N/stat) intact. */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t xcr0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

/* Fill the registers with a pattern made from seed, switch away, and check them; 0 when they came back whole. */
static int round_trip(uint64_t seed, int avx, int avx512)
{
	uint64_t in[8] __attribute__((aligned(64))), out[8] __attribute__((aligned(64)));
	for (int i = 0; i < 8; i++)
		in[i] = seed * 0x9e3779b97f4a7c15ull + (uint64_t)i;
	memset(out, 0, sizeof(out));
	__asm__ volatile("movdqu (%0), %%xmm7" : : "r"(in) : "xmm7");
	if (avx)
		__asm__ volatile("vmovdqu (%0), %%ymm9" : : "r"(in) : "xmm9");
	if (avx512)
		__asm__ volatile("vmovdqu64 (%0), %%zmm29\n\tkmovq 8(%0), %%k5" : : "r"(in) : "memory");
	sched_yield();
	int bad = 0;
	__asm__ volatile("movdqu %%xmm7, (%0)" : : "r"(out) : "memory");
	bad |= memcmp(in, out, 16) != 0;
	if (avx) {
		__asm__ volatile("vmovdqu %%ymm9, (%0)" : : "r"(out) : "memory");
		bad |= memcmp(in, out, 32) != 0;
	}
	if (avx512) {
		uint64_t k;
		__asm__ volatile("vmovdqu64 %%zmm29, (%1)\n\tkmovq %%k5, %0" : "=r"(k) : "r"(out) : "memory");
		bad |= memcmp(in, out, 64) != 0 || k != in[1];
	}
	return bad;
}

/* The command name /proc/PID/stat gives, between the parentheses. */
static void comm_of(int pid, char *out, size_t size)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	out[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *a = strchr(buf, '('), *b = strrchr(buf, ')');
	if (a && b && b > a) {
		size_t len = (size_t)(b - a - 1) < size - 1 ? (size_t)(b - a - 1) : size - 1;
		memcpy(out, a + 1, len);
		out[len] = 0;
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	uint64_t x = xcr0();
	int avx = (x & 6) == 6, avx512 = avx && (x & 0xe0) == 0xe0;
	const char *me = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	int pid = fork();
	if (pid == 0) {
		int bad = 0;
		for (int i = 0; i < 500; i++)
			bad += round_trip(2 * (uint64_t)i + 1, avx, avx512);
		_exit(bad ? 1 : 0);
	}
	int bad = 0;
	char comm[64];
	for (int i = 0; i < 500; i++) {
		bad += round_trip(2 * (uint64_t)i, avx, avx512);
		if (i == 250)
			comm_of(pid, comm, sizeof(comm));
	}
	int st = 0;
	waitpid(pid, &st, 0);
	char self[64];
	comm_of(getpid(), self, sizeof(self));
	printf("parent registers: %s\n", bad ? "CHANGED" : "kept");
	printf("child registers: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "kept" : "CHANGED");
	printf("names: child %s, parent %s\n", strcmp(comm, me) ? "WRONG" : "right", strcmp(self, me) ? "WRONG" : "right");
	fprintf(stderr, "fpu: xcr0=%#llx avx=%d avx512=%d child comm '%s' parent comm '%s'\n", (unsigned long long)x, avx,
		avx512, comm, self);
	return 0;
}
