/* fuzz_manifest.c: libFuzzer harness for manifest_parse; whatever it accepts must format and parse back to the same values. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "images/manifest.h"

/* 64 KiB of storage each: static, not on the fuzzer's stack. */
static struct manifest a, b;
static char text[MANIFEST_MAX + 1];

static int same(const char *x, const char *y)
{
	return x && y && !strcmp(x, y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	int line = -1;
	/* Exactly size bytes in their own allocation, so ASan sees any read past them. */
	char *in = malloc(size ? size : 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	int r = manifest_parse(&a, in, size, &why, &line);
	free(in);
	if (r) {
		if (r != -1 || !why || line < 1)
			abort(); /* every failure names a reason and a line */
		return 0;
	}
	if (!a.entry || a.entry[0] != '/' || !a.workdir || a.workdir[0] != '/' || a.nargs < 0 ||
	    a.nargs > MANIFEST_MAX_ITEMS || a.nenv < 0 || a.nenv > MANIFEST_MAX_ITEMS)
		abort();
	for (int i = 0; i < a.nenv; i++)
		if (a.env[i][0] == '=' || !strchr(a.env[i], '='))
			abort();

	/*
	 * Whatever parses can be written back. The canonical form drops comments
	 * and blank lines but adds "workdir /" and a final newline when missing, so
	 * only an input within 11 bytes of MANIFEST_MAX may fail to fit.
	 */
	long n = manifest_format(&a, text, sizeof(text));
	if (n < 0 && size + 11 <= MANIFEST_MAX)
		abort();
	if (n < 0)
		return 0;
	if (manifest_parse(&b, text, (size_t)n, &why, &line))
		abort();
	if (!same(a.entry, b.entry) || !same(a.workdir, b.workdir) || a.mem != b.mem || a.nargs != b.nargs ||
	    a.nenv != b.nenv)
		abort();
	for (int i = 0; i < a.nargs; i++)
		if (!same(a.args[i], b.args[i]))
			abort();
	for (int i = 0; i < a.nenv; i++)
		if (!same(a.env[i], b.env[i]))
			abort();
	return 0;
}
