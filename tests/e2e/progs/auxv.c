/* auxv.c: checks the auxiliary vector and /proc/self/exe as a libc sees them. */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(void)
{
	const unsigned char *r = (const void *)getauxval(AT_RANDOM);
	int nonzero = 0;
	for (int i = 0; r && i < 16; i++)
		nonzero |= r[i];
	printf("random %s\n", r && nonzero ? "ok" : "BAD");
	printf("pagesz=%lu\n", getauxval(AT_PAGESZ));
	printf("phnum %s\n", getauxval(AT_PHNUM) > 0 && getauxval(AT_PHENT) == 56 ? "ok" : "BAD");
	printf("phdr %s\n", getauxval(AT_PHDR) ? "ok" : "BAD");
	printf("entry %s\n", getauxval(AT_ENTRY) ? "ok" : "BAD");
	printf("hwcap %s\n", getauxval(AT_HWCAP) ? "ok" : "BAD");
	printf("uid=%lu euid=%lu gid=%lu egid=%lu\n", getauxval(AT_UID), getauxval(AT_EUID), getauxval(AT_GID), getauxval(AT_EGID));
	printf("clktck=%lu secure=%lu\n", getauxval(AT_CLKTCK), getauxval(AT_SECURE));
	printf("execfn=%s\n", (const char *)getauxval(AT_EXECFN));
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	printf("exe=%s\n", exe);
	char cwd[64];
	printf("cwd=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "BAD");
	return 0;
}
