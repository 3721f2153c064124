/* faults.c: bad pointers given to syscalls are EFAULT, not a crash; a write to read-only memory is SIGSEGV. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

int main(void)
{
	errno = 0;
	long r = write(1, (void *)0x1000, 10);
	printf("write(bad) = %ld %s\n", r, errno == EFAULT ? "EFAULT" : strerror(errno));
	errno = 0;
	r = getrandom((void *)main, 16, 0);  /* text is read-only: the kernel must not write it */
	printf("getrandom(into text) = %ld %s\n", r, errno == EFAULT ? "EFAULT" : strerror(errno));
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 1;
	mprotect(p, 4096, PROT_READ);
	printf("still readable %d\n", p[0]);
	fflush(stdout);
	p[0] = 2;  /* SIGSEGV */
	puts("not reached");
	return 0;
}
