/* hello.c: the smallest program: one line on stdout, status 0. */
#include <stdio.h>

int main(void)
{
	puts("hello from lbvm");
	return 0;
}
