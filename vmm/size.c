/* size.c: parse --mem style sizes, shared by lbvm run and lbvm pack. */
#include <errno.h>
#include <stdlib.h>
#include "size.h"

int size_parse(const char *s, uint64_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	uint64_t mul = 1;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	default: break;
	}
	if ((*end == 'b' || *end == 'B') && mul > 1)
		end++;
	if (*end || v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int duration_parse(const char *s, uint64_t *ns)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || v < 0)
		return -1;
	double mul = 1e9;
	if (end[0] == 'm' && end[1] == 's') {
		mul = 1e6;
		end += 2;
	} else if (*end == 's') {
		end++;
	} else if (*end == 'm') {
		mul = 60e9;
		end++;
	} else if (*end == 'h') {
		mul = 3600e9;
		end++;
	} else if (*end == 'd') {
		mul = 86400e9;
		end++;
	}
	if (*end || v * mul > 1e18 || v * mul < 1e6)
		return -1;
	*ns = (uint64_t)(v * mul);
	return 0;
}
