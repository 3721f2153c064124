/* manifest.c: parse and write an lbvm image's manifest; freestanding, so the guest and the fuzzer can use it as is. */
#include <stddef.h>
#include <stdint.h>
#include "manifest.h"

#define HEADER "lbvm-manifest 1"

enum key { K_NONE, K_ENTRY, K_ARG, K_ENV, K_WORKDIR, K_MEM };

static const struct {
	const char *name;
	enum key key;
} keys[] = {
	{ "entry", K_ENTRY }, { "arg", K_ARG }, { "env", K_ENV }, { "workdir", K_WORKDIR }, { "mem", K_MEM },
};

/* Local helpers: no libc here, and none of them may be recognised as a memcpy/strlen idiom to call. */
static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static int span_is(const char *p, size_t n, const char *word)
{
	size_t i = 0;
	for (; i < n; i++)
		if (!word[i] || p[i] != word[i])
			return 0;
	return word[i] == 0;
}

static enum key lookup_key(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (span_is(p, n, keys[i].name))
			return keys[i].key;
	return K_NONE;
}

static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int fail(const char **why, int *line, const char *reason, int lineno)
{
	if (why)
		*why = reason;
	if (line)
		*line = lineno;
	return -1;
}

/* Unescape value[0..n) into dst (room for n + 1 bytes). NULL on success, else the reason. */
static const char *unescape(const char *v, size_t n, char *dst)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '\\') {
			if (++i == n)
				return "backslash at the end of a value (write \\\\ for a backslash)";
			switch (v[i]) {
			case '\\': dst[o++] = '\\'; break;
			case 'n': dst[o++] = '\n'; break;
			case 't': dst[o++] = '\t'; break;
			default: return "unknown escape (only \\\\, \\n and \\t exist)";
			}
		} else if (is_ctl(c)) {
			return "raw control character in a value (write \\n or \\t)";
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = 0;
	return NULL;
}

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int manifest_parse(struct manifest *m, const char *text, size_t len, const char **why, int *line)
{
	m->entry = NULL;
	m->workdir = NULL;
	m->nargs = m->nenv = 0;
	m->mem = 0;
	m->storage[0] = 0;
	if (why)
		*why = NULL;
	if (line)
		*line = 0;

	if (len > MANIFEST_MAX) {
		/* Name the line holding the first byte past the limit. */
		int l = 1;
		for (size_t i = 0; i < MANIFEST_MAX; i++)
			l += text[i] == '\n';
		return fail(why, line, "manifest larger than 64 KiB", l);
	}

	size_t used = 0; /* bytes of storage taken */
	int have_mem = 0, lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		size_t start = pos, end = pos;
		while (end < len && text[end] != '\n')
			end++;
		pos = end < len ? end + 1 : end;
		lineno++;
		const char *l = text + start;
		size_t n = end - start;

		for (size_t i = 0; i < n; i++)
			if (!l[i])
				return fail(why, line, "NUL byte in the manifest", lineno);
		if (n > MANIFEST_MAX_LINE)
			return fail(why, line, "line longer than 4096 bytes", lineno);
		if (lineno == 1) {
			if (!span_is(l, n, HEADER))
				return fail(why, line, "first line is not \"" HEADER "\"", lineno);
			continue;
		}
		if (n == 0 || l[0] == '#')
			continue;

		size_t klen = 0;
		while (klen < n && l[klen] != ' ')
			klen++;
		enum key k = lookup_key(l, klen);
		if (k == K_NONE)
			return fail(why, line, "unknown key (known: entry, arg, env, workdir, mem)", lineno);
		if (klen == n)
			return fail(why, line, "missing value (write KEY SPACE VALUE)", lineno);
		const char *v = l + klen + 1;
		size_t vlen = n - klen - 1;
		if (vlen == 0 && k != K_ARG)
			return fail(why, line, "missing value (write KEY SPACE VALUE)", lineno);

		/* The unescaped value is never longer than the escaped one, and every line
		 * costs at least its key and a space, so storage (MANIFEST_MAX + 1) cannot
		 * overflow; the check keeps that argument local. */
		if (used + vlen + 1 > sizeof(m->storage))
			return fail(why, line, "manifest larger than 64 KiB", lineno);
		char *dst = m->storage + used;
		const char *err = unescape(v, vlen, dst);
		if (err)
			return fail(why, line, err, lineno);
		used += slen(dst) + 1;

		switch (k) {
		case K_ENTRY:
			if (m->entry)
				return fail(why, line, "duplicate entry", lineno);
			if (dst[0] != '/')
				return fail(why, line, "entry is not an absolute path", lineno);
			m->entry = dst;
			break;
		case K_WORKDIR:
			if (m->workdir)
				return fail(why, line, "duplicate workdir", lineno);
			if (dst[0] != '/')
				return fail(why, line, "workdir is not an absolute path", lineno);
			m->workdir = dst;
			break;
		case K_ARG:
			if (m->nargs >= MANIFEST_MAX_ITEMS)
				return fail(why, line, "more than 256 args", lineno);
			m->args[m->nargs++] = dst;
			break;
		case K_ENV: {
			size_t eq = 0;
			while (dst[eq] && dst[eq] != '=')
				eq++;
			if (!dst[eq])
				return fail(why, line, "env value is not NAME=VALUE (no '=')", lineno);
			if (eq == 0)
				return fail(why, line, "env value has an empty name", lineno);
			if (m->nenv >= MANIFEST_MAX_ITEMS)
				return fail(why, line, "more than 256 env entries", lineno);
			m->env[m->nenv++] = dst;
			break;
		}
		case K_MEM: {
			if (have_mem)
				return fail(why, line, "duplicate mem", lineno);
			uint64_t v64;
			if (parse_u64(dst, &v64) || v64 == 0)
				return fail(why, line, "mem is not a positive decimal number of bytes", lineno);
			m->mem = v64;
			have_mem = 1;
			break;
		}
		case K_NONE:
			break;
		}
	}
	if (lineno == 0)
		return fail(why, line, "empty manifest (the first line must be \"" HEADER "\")", 1);
	if (!m->entry)
		return fail(why, line, "no entry line (entry /path/to/program is required)", lineno);
	if (!m->workdir) {
		/* A static default would have to be writable through the char * field. */
		if (used + 2 > sizeof(m->storage))
			return fail(why, line, "manifest larger than 64 KiB", lineno);
		m->workdir = m->storage + used;
		m->workdir[0] = '/';
		m->workdir[1] = 0;
	}
	return 0;
}

/* Writer state: a position that keeps counting past the end so the caller learns "too small" only once. */
struct out {
	char *buf;
	size_t size, len, line_start;
	int bad;
};

static void put(struct out *o, char c)
{
	if (o->len < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void puts_raw(struct out *o, const char *s)
{
	while (*s)
		put(o, *s++);
}

static void end_line(struct out *o)
{
	if (o->len - o->line_start > MANIFEST_MAX_LINE)
		o->bad = 1; /* the parser would refuse it */
	put(o, '\n');
	o->line_start = o->len;
}

static void item(struct out *o, const char *key, const char *val)
{
	puts_raw(o, key);
	put(o, ' ');
	for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
		if (*p == '\\') {
			put(o, '\\');
			put(o, '\\');
		} else if (*p == '\n') {
			put(o, '\\');
			put(o, 'n');
		} else if (*p == '\t') {
			put(o, '\\');
			put(o, 't');
		} else if (is_ctl(*p)) {
			o->bad = 1; /* no escape for it */
		} else {
			put(o, (char)*p);
		}
	}
	end_line(o);
}

long manifest_format(const struct manifest *m, char *buf, size_t size)
{
	struct out o = { buf, size, 0, 0, 0 };
	if (!m->entry || m->entry[0] != '/' || (m->workdir && m->workdir[0] != '/'))
		return -1;
	if (m->nargs < 0 || m->nargs > MANIFEST_MAX_ITEMS || m->nenv < 0 || m->nenv > MANIFEST_MAX_ITEMS)
		return -1;
	puts_raw(&o, HEADER);
	end_line(&o);
	item(&o, "entry", m->entry);
	for (int i = 0; i < m->nargs; i++) {
		if (!m->args[i])
			return -1;
		item(&o, "arg", m->args[i]);
	}
	for (int i = 0; i < m->nenv; i++) {
		const char *e = m->env[i];
		if (!e || e[0] == '=' || e[0] == 0)
			return -1;
		size_t j = 0;
		while (e[j] && e[j] != '=')
			j++;
		if (!e[j])
			return -1;
		item(&o, "env", e);
	}
	item(&o, "workdir", m->workdir ? m->workdir : "/");
	if (m->mem) {
		char digits[24];
		int n = 0;
		for (uint64_t v = m->mem; v; v /= 10)
			digits[n++] = (char)('0' + v % 10);
		char dec[24];
		for (int i = 0; i < n; i++)
			dec[i] = digits[n - 1 - i];
		dec[n] = 0;
		item(&o, "mem", dec);
	}
	if (o.bad || o.len > MANIFEST_MAX || o.len > size)
		return -1;
	if (o.len < size)
		buf[o.len] = 0;
	return (long)o.len;
}
