/* dynhello.c: a dynamically linked glibc program: its arguments, environment and what ld.so's auxv gave it. */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

extern char **environ;
extern char _start[];

int main(int argc, char **argv)
{
	unsigned long base = getauxval(AT_BASE), execfn = getauxval(AT_EXECFN);
	printf("AT_BASE %s\n", base && !(base & 4095) ? "set, page aligned" : "WRONG");
	printf("AT_ENTRY %s\n", getauxval(AT_ENTRY) == (unsigned long)_start ? "is _start" : "WRONG");
	printf("AT_PAGESZ %lu\n", getauxval(AT_PAGESZ));
	printf("AT_RANDOM %s\n", getauxval(AT_RANDOM) ? "set" : "WRONG");
	printf("AT_EXECFN %s\n", execfn ? (const char *)execfn : "WRONG");
	for (int i = 0; i < argc; i++)
		printf("argv[%d] %s\n", i, argv[i]);
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "DYN_", 4))
			printf("env %s\n", *e);
	if (argc > 1 && !strcmp(argv[1], "where"))
		printf("main at %p\n", (void *)main);
	return 7;
}
