/* segv.c: dies of SIGSEGV by writing through a bad pointer (address 0x10). */
#include <stdint.h>

int main(void)
{
	volatile uintptr_t addr = 0x10;
	*(volatile int *)addr = 1;
	return 0;
}
