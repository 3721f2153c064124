/* random.c: getrandom gives fresh, non-zero bytes, blocking or not. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int main(void)
{
	unsigned char a[64], b[64], zero[64] = { 0 };
	ssize_t x = getrandom(a, sizeof(a), 0), y = getrandom(b, sizeof(b), GRND_NONBLOCK);
	int ok = x == 64 && y == 64 && memcmp(a, b, 64) && memcmp(a, zero, 64) && memcmp(b, zero, 64);
	puts(ok ? "getrandom ok" : "getrandom BAD");
	return 0;
}
