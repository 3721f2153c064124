/* test_manifest.c: cmocka tests of the image manifest parser and writer, and of SHA-256 against FIPS test vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/manifest.h"
#include "images/sha256.h"

/* The struct is 64 KiB of storage: keep them off the stack. */
static struct manifest m, m2;
static char buf[MANIFEST_MAX + 64];

static int parse(const char *text, size_t len, const char **why, int *line)
{
	return manifest_parse(&m, text, len, why, line);
}

static int parse_str(const char *text)
{
	const char *why;
	int line;
	int r = parse(text, strlen(text), &why, &line);
	if (r)
		print_error("unexpected parse error line %d: %s\n", line, why);
	return r;
}

/* Parse must fail at `want_line` with a reason containing `want_why`. */
static void expect_err_n(const char *text, size_t len, int want_line, const char *want_why, int src_line)
{
	const char *why = NULL;
	int line = -1;
	int r = parse(text, len, &why, &line);
	if (r != -1 || line != want_line || !why || !strstr(why, want_why)) {
		print_error("line %d: got r=%d line=%d why=%s; want line %d, \"%s\"\n", src_line, r, line,
			    why ? why : "(null)", want_line, want_why);
		fail();
	}
}
#define expect_err(text, line, why) expect_err_n(text, strlen(text), line, why, __LINE__)
/* For literals with a NUL inside: their whole length. */
#define expect_err_lit(lit, line, why) expect_err_n(lit, sizeof(lit) - 1, line, why, __LINE__)

static void test_parse_example(void **state)
{
	(void)state;
	const char *t = "lbvm-manifest 1\n"
			"entry /bin/busybox\n"
			"arg ls\n"
			"arg -l\n"
			"env PATH=/bin:/usr/bin\n"
			"workdir /\n"
			"mem 268435456\n";
	assert_int_equal(parse_str(t), 0);
	assert_string_equal(m.entry, "/bin/busybox");
	assert_int_equal(m.nargs, 2);
	assert_string_equal(m.args[0], "ls");
	assert_string_equal(m.args[1], "-l");
	assert_int_equal(m.nenv, 1);
	assert_string_equal(m.env[0], "PATH=/bin:/usr/bin");
	assert_string_equal(m.workdir, "/");
	assert_int_equal(m.mem, 268435456);
	/* Already canonical: formatting gives the same bytes back. */
	long n = manifest_format(&m, buf, sizeof(buf));
	assert_int_equal(n, (long)strlen(t));
	assert_memory_equal(buf, t, strlen(t));
}

static void test_defaults_comments_blank(void **state)
{
	(void)state;
	const char *t = "lbvm-manifest 1\n# a comment, with \\q and \x01 in it\n\n#\nentry /x";
	assert_int_equal(parse_str(t), 0);
	assert_string_equal(m.entry, "/x");
	assert_string_equal(m.workdir, "/");
	assert_int_equal(m.nargs, 0);
	assert_int_equal(m.nenv, 0);
	assert_int_equal(m.mem, 0);
	long n = manifest_format(&m, buf, sizeof(buf));
	assert_true(n > 0);
	/* mem 0 is not written; workdir always is. */
	assert_string_equal(buf, "lbvm-manifest 1\nentry /x\nworkdir /\n");
}

static void test_escapes(void **state)
{
	(void)state;
	const char *t = "lbvm-manifest 1\nentry /a\\\\b\narg x\\ny\\tz\\\\\nenv K=\\t\nworkdir /w d\n";
	assert_int_equal(parse_str(t), 0);
	assert_string_equal(m.entry, "/a\\b");
	assert_string_equal(m.args[0], "x\ny\tz\\");
	assert_string_equal(m.env[0], "K=\t");
	assert_string_equal(m.workdir, "/w d");
	long n = manifest_format(&m, buf, sizeof(buf));
	assert_int_equal(n, (long)strlen(t));
	assert_string_equal(buf, t);
}

static void test_empty_arg_and_spaces(void **state)
{
	(void)state;
	/* No space after the key is a missing value, not an empty one. */
	expect_err("lbvm-manifest 1\nentry /e\narg\n", 3, "missing value");
	assert_int_equal(parse_str("lbvm-manifest 1\nentry /e\narg \narg  two \n"), 0);
	assert_int_equal(m.nargs, 2);
	assert_string_equal(m.args[0], "");
	assert_string_equal(m.args[1], " two ");
	long n = manifest_format(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "lbvm-manifest 1\nentry /e\narg \narg  two \nworkdir /\n");
	assert_int_equal(manifest_parse(&m2, buf, (size_t)n, NULL, NULL), 0);
	assert_int_equal(m2.nargs, 2);
	assert_string_equal(m2.args[0], "");
}

static void test_high_bytes(void **state)
{
	(void)state;
	/* UTF-8 or any bytes >= 0x80 pass through untouched. */
	const char *t = "lbvm-manifest 1\nentry /caf\xc3\xa9\narg \xff\xfe\n";
	assert_int_equal(parse_str(t), 0);
	assert_string_equal(m.entry, "/caf\xc3\xa9");
	assert_string_equal(m.args[0], "\xff\xfe");
}

static void test_mem(void **state)
{
	(void)state;
	assert_int_equal(parse_str("lbvm-manifest 1\nentry /e\nmem 18446744073709551615\n"), 0);
	assert_true(m.mem == UINT64_MAX);
	assert_int_equal(parse_str("lbvm-manifest 1\nentry /e\nmem 0016\n"), 0);
	assert_int_equal(m.mem, 16);
	long n = manifest_format(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, "\nmem 16\n"));
	expect_err("lbvm-manifest 1\nentry /e\nmem 0\n", 3, "mem");
	expect_err("lbvm-manifest 1\nentry /e\nmem -1\n", 3, "mem");
	expect_err("lbvm-manifest 1\nentry /e\nmem +1\n", 3, "mem");
	expect_err("lbvm-manifest 1\nentry /e\nmem 1K\n", 3, "mem");
	expect_err("lbvm-manifest 1\nentry /e\nmem 1 \n", 3, "mem");
	expect_err("lbvm-manifest 1\nentry /e\nmem 18446744073709551616\n", 3, "mem");
	expect_err("lbvm-manifest 1\nentry /e\nmem 99999999999999999999999\n", 3, "mem");
}

static void test_header_errors(void **state)
{
	(void)state;
	expect_err("", 1, "empty");
	expect_err("\n", 1, "first line");
	expect_err("lbvm-manifest 2\nentry /e\n", 1, "first line");
	expect_err("lbvm-manifest 1 \nentry /e\n", 1, "first line");
	expect_err("lbvm-manifest 1\r\nentry /e\n", 1, "first line");
	expect_err("# comment first\nlbvm-manifest 1\nentry /e\n", 1, "first line");
	expect_err("lbvm-manifest", 1, "first line");
	expect_err_lit("lbvm-manifest 1\0\nentry /e\n", 1, "NUL");
}

static void test_line_errors(void **state)
{
	(void)state;
	expect_err("lbvm-manifest 1\nentry /e\nfoo bar\n", 3, "unknown key");
	expect_err("lbvm-manifest 1\nentry /e\nEntry /x\n", 3, "unknown key");
	expect_err("lbvm-manifest 1\nentry /e\n argx\n", 3, "unknown key");
	expect_err("lbvm-manifest 1\nentry /e\nargs x\n", 3, "unknown key");
	expect_err("lbvm-manifest 1\nentry /e\narg\tx\n", 3, "unknown key");
	expect_err("lbvm-manifest 1\nentry\n", 2, "missing value");
	expect_err("lbvm-manifest 1\nentry \n", 2, "missing value");
	expect_err("lbvm-manifest 1\nentry /e\narg\n", 3, "missing value");
	expect_err("lbvm-manifest 1\nentry /e\nenv \n", 3, "missing value");
	expect_err("lbvm-manifest 1\nentry /e\nworkdir \n", 3, "missing value");
	expect_err("lbvm-manifest 1\nentry /e\nmem\n", 3, "missing value");
	expect_err("lbvm-manifest 1\nentry /e\narg a\\qb\n", 3, "escape");
	expect_err("lbvm-manifest 1\nentry /e\narg a\\0\n", 3, "escape");
	expect_err("lbvm-manifest 1\nentry /e\narg a\\\n", 3, "backslash at the end");
	expect_err("lbvm-manifest 1\nentry /e\narg a\\", 3, "backslash at the end");
	expect_err("lbvm-manifest 1\nentry /e\narg a\tb\n", 3, "control character");
	expect_err("lbvm-manifest 1\nentry /e\narg a\r\n", 3, "control character");
	expect_err("lbvm-manifest 1\nentry /e\narg \x7f\n", 3, "control character");
	expect_err("lbvm-manifest 1\nentry /e\narg \x1b[0m\n", 3, "control character");
	expect_err_lit("lbvm-manifest 1\nentry /e\narg a\0b\n", 3, "NUL");
	expect_err_lit("lbvm-manifest 1\nentry /e\n#\0\n", 3, "NUL");
	expect_err_lit("lbvm-manifest 1\nentry /e\n\0", 3, "NUL");
	expect_err("lbvm-manifest 1\nentry /e\nentry /f\n", 3, "duplicate entry");
	expect_err("lbvm-manifest 1\nworkdir /\nentry /e\nworkdir /\n", 4, "duplicate workdir");
	expect_err("lbvm-manifest 1\nmem 1\nentry /e\nmem 1\n", 4, "duplicate mem");
	expect_err("lbvm-manifest 1\nentry bin/sh\n", 2, "entry is not an absolute");
	expect_err("lbvm-manifest 1\nentry \\n/x\n", 2, "entry is not an absolute");
	expect_err("lbvm-manifest 1\nentry /e\nworkdir tmp\n", 3, "workdir is not an absolute");
	expect_err("lbvm-manifest 1\nentry /e\nenv FOO\n", 3, "no '='");
	expect_err("lbvm-manifest 1\nentry /e\nenv =bar\n", 3, "empty name");
	expect_err("lbvm-manifest 1\n", 1, "no entry");
	expect_err("lbvm-manifest 1\narg x\n# c\n", 3, "no entry");
	expect_err("lbvm-manifest 1\narg x\n\n", 3, "no entry");
	/* Errors stop at the first bad line. */
	expect_err("lbvm-manifest 1\nbad\nentry x\n", 2, "unknown key");
	/* What is allowed next to them. */
	assert_int_equal(parse_str("lbvm-manifest 1\nentry /e\nenv A=\nenv B==x\n"), 0);
	assert_string_equal(m.env[0], "A=");
	assert_string_equal(m.env[1], "B==x");
	assert_int_equal(parse_str("lbvm-manifest 1\nentry /e\narg #not a comment\n"), 0);
	assert_string_equal(m.args[0], "#not a comment");
}

static char *big;

static void test_limits(void **state)
{
	(void)state;
	big = malloc(2 * MANIFEST_MAX + 8192);
	assert_non_null(big);

	/* 256 args and 256 env entries are fine; the 257th of either is not. */
	size_t n = (size_t)sprintf(big, "lbvm-manifest 1\nentry /e\n");
	for (int i = 0; i < MANIFEST_MAX_ITEMS; i++)
		n += (size_t)sprintf(big + n, "arg %d\nenv K%d=v\n", i, i);
	assert_int_equal(parse(big, n, NULL, NULL), 0);
	assert_int_equal(m.nargs, MANIFEST_MAX_ITEMS);
	assert_int_equal(m.nenv, MANIFEST_MAX_ITEMS);
	assert_string_equal(m.args[255], "255");
	long f = manifest_format(&m, buf, sizeof(buf));
	assert_true(f > 0);
	assert_int_equal(manifest_parse(&m2, buf, (size_t)f, NULL, NULL), 0);
	size_t n2 = n + (size_t)sprintf(big + n, "arg x\n");
	expect_err_n(big, n2, 2 + 2 * MANIFEST_MAX_ITEMS + 1, "more than 256 args", __LINE__);
	n2 = n + (size_t)sprintf(big + n, "env X=1\n");
	expect_err_n(big, n2, 2 + 2 * MANIFEST_MAX_ITEMS + 1, "more than 256 env", __LINE__);

	/* A line of exactly MANIFEST_MAX_LINE bytes is fine, one more is not. */
	n = (size_t)sprintf(big, "lbvm-manifest 1\nentry /e\narg ");
	memset(big + n, 'x', MANIFEST_MAX_LINE - 4);
	n += MANIFEST_MAX_LINE - 4;
	big[n++] = '\n';
	assert_int_equal(parse(big, n, NULL, NULL), 0);
	assert_int_equal(strlen(m.args[0]), MANIFEST_MAX_LINE - 4);
	big[n - 1] = 'x';
	big[n++] = '\n';
	expect_err_n(big, n, 3, "line longer", __LINE__);
	/* A long comment counts too. */
	n = (size_t)sprintf(big, "lbvm-manifest 1\nentry /e\n#");
	memset(big + n, 'c', MANIFEST_MAX_LINE);
	n += MANIFEST_MAX_LINE;
	expect_err_n(big, n, 3, "line longer", __LINE__);

	/* Exactly MANIFEST_MAX bytes is fine (made of comment lines), one more is not. */
	n = (size_t)sprintf(big, "lbvm-manifest 1\nentry /e\n");
	int line = 2;
	while (n < MANIFEST_MAX) {
		size_t room = MANIFEST_MAX - n, l = room > 1000 ? 1000 : room;
		big[n] = '#';
		memset(big + n + 1, 'c', l - 1);
		big[n + l - 1] = '\n';
		n += l;
		line++;
	}
	assert_int_equal(n, MANIFEST_MAX);
	assert_int_equal(parse(big, n, NULL, NULL), 0);
	big[n++] = '#';
	expect_err_n(big, n, line + 1, "larger than 64 KiB", __LINE__);
	free(big);
}

static void test_format_errors(void **state)
{
	(void)state;
	static char e1[] = "/e", a1[] = "ok", bad[] = "a\x01", noeq[] = "FOO", emptyname[] = "=x", rel[] = "rel";
	struct manifest *f = &m2;
	f->entry = e1;
	f->nargs = 1;
	f->args[0] = a1;
	f->nenv = 0;
	f->workdir = NULL;
	f->mem = 0;
	long n = manifest_format(f, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "lbvm-manifest 1\nentry /e\narg ok\nworkdir /\n");
	/* Exactly the size needed works (no room for a NUL); one less does not. */
	char small[64];
	memset(small, '@', sizeof(small));
	assert_int_equal(manifest_format(f, small, (size_t)n), n);
	assert_int_equal(small[n], '@');
	assert_int_equal(manifest_format(f, small, (size_t)n - 1), -1);
	assert_int_equal(manifest_format(f, small, 0), -1);

	f->args[0] = bad;
	assert_int_equal(manifest_format(f, buf, sizeof(buf)), -1);
	f->args[0] = a1;
	f->nenv = 1;
	f->env[0] = noeq;
	assert_int_equal(manifest_format(f, buf, sizeof(buf)), -1);
	f->env[0] = emptyname;
	assert_int_equal(manifest_format(f, buf, sizeof(buf)), -1);
	f->nenv = 0;
	f->entry = rel;
	assert_int_equal(manifest_format(f, buf, sizeof(buf)), -1);
	f->entry = NULL;
	assert_int_equal(manifest_format(f, buf, sizeof(buf)), -1);
	f->entry = e1;
	f->workdir = rel;
	assert_int_equal(manifest_format(f, buf, sizeof(buf)), -1);
	f->workdir = NULL;
	f->nargs = MANIFEST_MAX_ITEMS + 1;
	assert_int_equal(manifest_format(f, buf, sizeof(buf)), -1);

	/* A value whose escaped line would be too long for the parser. */
	char *longv = malloc(MANIFEST_MAX_LINE);
	assert_non_null(longv);
	memset(longv, '\n', MANIFEST_MAX_LINE / 2);
	longv[MANIFEST_MAX_LINE / 2] = 0;
	f->nargs = 1;
	f->args[0] = longv;
	assert_int_equal(manifest_format(f, buf, sizeof(buf)), -1);
	/* And a manifest over MANIFEST_MAX in total, each line fine. */
	memset(longv, 'v', 4000);
	longv[4000] = 0;
	f->nargs = 20;
	for (int i = 0; i < 20; i++)
		f->args[i] = longv;
	assert_int_equal(manifest_format(f, buf, sizeof(buf)), -1);
	free(longv);
}

/* Deterministic pseudo-random values over every byte a manifest can hold; format then parse gives them back. */
static uint32_t rng = 12345;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void rand_value(char *out, int maxlen, int first_slash, int want_eq)
{
	int len = (int)(rnd() % (unsigned)maxlen), o = 0;
	if (first_slash)
		out[o++] = '/';
	if (want_eq) {
		out[o++] = 'K';
		out[o++] = '=';
	}
	for (int i = 0; i < len; i++) {
		unsigned c = 1 + rnd() % 255;
		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			c = (c & 1) ? '\\' : '\n';
		out[o++] = (char)c;
	}
	out[o] = 0;
}

static void test_round_trip_random(void **state)
{
	(void)state;
	static char vals[2 + 2 * 40][64];
	for (int iter = 0; iter < 2000; iter++) {
		struct manifest *f = &m2;
		int v = 0;
		rand_value(vals[v], 40, 1, 0);
		f->entry = vals[v++];
		rand_value(vals[v], 40, 1, 0);
		f->workdir = vals[v++];
		f->nargs = (int)(rnd() % 40);
		for (int i = 0; i < f->nargs; i++) {
			rand_value(vals[v], 40, 0, 0);
			f->args[i] = vals[v++];
		}
		f->nenv = (int)(rnd() % 40);
		for (int i = 0; i < f->nenv; i++) {
			rand_value(vals[v], 40, 0, 1);
			f->env[i] = vals[v++];
		}
		f->mem = (rnd() & 1) ? ((uint64_t)rnd() << 32 | rnd()) : 0;
		long n = manifest_format(f, buf, sizeof(buf));
		assert_true(n > 0);
		const char *why = NULL;
		int line = 0;
		if (manifest_parse(&m, buf, (size_t)n, &why, &line)) {
			print_error("iteration %d: line %d: %s\n", iter, line, why);
			fail();
		}
		assert_string_equal(m.entry, f->entry);
		assert_string_equal(m.workdir, f->workdir);
		assert_int_equal(m.nargs, f->nargs);
		assert_int_equal(m.nenv, f->nenv);
		for (int i = 0; i < f->nargs; i++)
			assert_string_equal(m.args[i], f->args[i]);
		for (int i = 0; i < f->nenv; i++)
			assert_string_equal(m.env[i], f->env[i]);
		assert_true(m.mem == f->mem);
		/* The canonical form is a fixed point. */
		static char again[MANIFEST_MAX + 1];
		assert_int_equal(manifest_format(&m, again, sizeof(again)), n);
		assert_memory_equal(again, buf, (size_t)n);
	}
}

/* ---- SHA-256 ---- */

static void hex_of(const void *data, size_t len, char out[SHA256_HEX])
{
	uint8_t d[SHA256_DIGEST];
	sha256(data, len, d);
	sha256_hex(d, out);
}

static void test_sha256_vectors(void **state)
{
	(void)state;
	char hex[SHA256_HEX];
	hex_of("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *s448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hex_of(s448, strlen(s448), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	hex_of(a, 1000000, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

	/* Lengths around the padding boundaries (56 and 64 bytes mod 64). */
	static const struct {
		size_t n;
		const char *hex;
	} pad[] = {
		{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
		{ 57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6" },
		{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
		{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
		{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
		{ 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
		{ 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
		{ 128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e" },
	};
	for (size_t i = 0; i < sizeof(pad) / sizeof(pad[0]); i++) {
		hex_of(a, pad[i].n, hex);
		assert_string_equal(hex, pad[i].hex);
	}
	free(a);

	/* Every byte value. */
	uint8_t all[1024];
	for (int i = 0; i < 1024; i++)
		all[i] = (uint8_t)i;
	hex_of(all, sizeof(all), hex);
	assert_string_equal(hex, "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9");
}

static void test_sha256_streaming(void **state)
{
	(void)state;
	size_t len = 1000000;
	uint8_t *data = malloc(len);
	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	uint8_t whole[SHA256_DIGEST];
	sha256(data, len, whole);
	static const size_t chunks[] = { 1, 3, 7, 13, 55, 56, 63, 64, 65, 127, 1000, 4097 };
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct sha256 s;
		uint8_t d[SHA256_DIGEST];
		sha256_init(&s);
		for (size_t off = 0; off < len; off += chunks[c]) {
			size_t n = len - off < chunks[c] ? len - off : chunks[c];
			sha256_update(&s, data + off, n);
		}
		sha256_final(&s, d);
		assert_memory_equal(d, whole, SHA256_DIGEST);
	}
	/* Uneven chunks, with empty updates mixed in. */
	struct sha256 s;
	uint8_t d[SHA256_DIGEST];
	sha256_init(&s);
	size_t off = 0;
	for (size_t k = 0; off < len; k++) {
		size_t n = (k * 37) % 300;
		if (n > len - off)
			n = len - off;
		sha256_update(&s, data + off, n);
		off += n;
	}
	sha256_final(&s, d);
	assert_memory_equal(d, whole, SHA256_DIGEST);
	/* The million-'a' vector, streamed. */
	memset(data, 'a', len);
	sha256_init(&s);
	for (off = 0; off < len; off += 999)
		sha256_update(&s, data + off, len - off < 999 ? len - off : 999);
	sha256_final(&s, d);
	char hex[SHA256_HEX];
	sha256_hex(d, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_example),
		cmocka_unit_test(test_defaults_comments_blank),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_empty_arg_and_spaces),
		cmocka_unit_test(test_high_bytes),
		cmocka_unit_test(test_mem),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_line_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_sha256_streaming),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
