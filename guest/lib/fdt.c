/* fdt.c: checked reader of flattened device trees: every offset, size and token is bounds-checked before use. */
#include <stddef.h>
#include <stdint.h>
#include "fdt.h"

#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE   2u
#define FDT_PROP       3u
#define FDT_NOP        4u
#define FDT_END        9u

#define FDTR_RSV_ENTRY 16u   /* one (address, size) pair of the reservation map */

/* Byte-wise big-endian loads: the blob may sit at any alignment, and the format is BE whatever the host is. */
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One token, decoded: what it is, where the next one starts, and its name and value where it has them. */
struct tok {
	uint32_t tag;
	uint32_t next;          /* offset of the following token (aligned, <= struct_size) */
	const char *name;       /* BEGIN_NODE: node name; PROP: property name (both NUL-terminated) */
	const uint8_t *val;     /* PROP */
	uint32_t len;
};

/*
 * Decode the token at off (relative to the structure block). Every byte it
 * reads lies inside the structure block or, for a property's name, inside the
 * strings block; it computes in 64 bits, so no size field can wrap an offset
 * back to data already seen.
 */
static int token_at(const struct fdtr *t, uint64_t off, struct tok *k)
{
	const uint8_t *s = t->base + t->struct_off;
	uint64_t end = t->struct_size, p;

	if (off & 3)
		return FDTR_EALIGN;
	if (off > end || end - off < 4)
		return FDTR_ETRUNC;
	k->tag = be32(s + off);
	k->name = NULL;
	k->val = NULL;
	k->len = 0;
	p = off + 4;
	switch (k->tag) {
	case FDT_BEGIN_NODE: {
		uint64_t n = 0;
		while (p + n < end && s[p + n]) {
			if (s[p + n] == '/' || n >= FDTR_NAME_MAX)
				return FDTR_ENAME;
			n++;
		}
		if (p + n >= end)
			return FDTR_ENAME;   /* no NUL before the block ends */
		k->name = (const char *)(s + p);
		p += n + 1;
		break;
	}
	case FDT_PROP: {
		if (end - p < 8)
			return FDTR_ETRUNC;
		uint64_t len = be32(s + p), nameoff = be32(s + p + 4);
		p += 8;
		if (len > end - p)
			return FDTR_ETRUNC;
		if (nameoff >= t->strings_size)
			return FDTR_ENAMEOFF;
		const uint8_t *str = t->base + t->strings_off;
		uint64_t q = nameoff;
		while (q < t->strings_size && str[q])
			q++;
		if (q >= t->strings_size || q == nameoff)
			return FDTR_ENAMEOFF;   /* unterminated, or empty */
		k->name = (const char *)(str + nameoff);
		k->val = s + p;
		k->len = (uint32_t)len;
		p += len;
		break;
	}
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		break;
	default:
		return FDTR_ETOKEN;
	}
	p = (p + 3) & ~3ull;
	if (p > end)
		return FDTR_ETRUNC;
	k->next = (uint32_t)p;
	return 0;
}

static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

static int check_header(struct fdtr *t, const uint8_t *b, uint64_t region)
{
	if (region < FDTR_HEADER_SIZE)
		return FDTR_ESHORT;
	if (be32(b) != FDTR_MAGIC)
		return FDTR_EMAGIC;
	uint64_t total = be32(b + 4), st = be32(b + 8), str = be32(b + 12), rsv = be32(b + 16);
	uint32_t version = be32(b + 20), last_comp = be32(b + 24);
	uint64_t str_size = be32(b + 32), st_size = be32(b + 36);
	if (version < FDTR_VERSION || last_comp > FDTR_VERSION)
		return FDTR_EVERSION;
	if (total < FDTR_HEADER_SIZE || total > region)
		return FDTR_ETOTAL;
	if (st > total || st_size > total - st || str > total || str_size > total - str ||
	    rsv > total || FDTR_RSV_ENTRY > total - rsv)
		return FDTR_ERANGE;
	if ((st | st_size) & 3 || rsv & 7)
		return FDTR_EALIGN;
	if (ranges_overlap(0, FDTR_HEADER_SIZE, st, st_size) || ranges_overlap(0, FDTR_HEADER_SIZE, str, str_size) ||
	    ranges_overlap(0, FDTR_HEADER_SIZE, rsv, FDTR_RSV_ENTRY) || ranges_overlap(st, st_size, str, str_size) ||
	    ranges_overlap(rsv, FDTR_RSV_ENTRY, st, st_size) || ranges_overlap(rsv, FDTR_RSV_ENTRY, str, str_size))
		return FDTR_EOVERLAP;
	/* lbvm reserves nothing: the map is its terminator alone. */
	for (unsigned i = 0; i < FDTR_RSV_ENTRY; i++)
		if (b[rsv + i])
			return FDTR_ERSVMAP;
	t->base = b;
	t->total = (uint32_t)total;
	t->struct_off = (uint32_t)st;
	t->struct_size = (uint32_t)st_size;
	t->strings_off = (uint32_t)str;
	t->strings_size = (uint32_t)str_size;
	return 0;
}

/* One pass over the structure block: one root, balanced nodes, bounded depth, FDT_END last. */
static int check_structure(const struct fdtr *t)
{
	uint64_t off = 0;
	unsigned depth = 0;
	int seen_root = 0;
	struct tok k;

	for (;;) {
		if (off == t->struct_size)
			return FDTR_ENOEND;
		int rc = token_at(t, off, &k);
		if (rc)
			return rc;
		switch (k.tag) {
		case FDT_BEGIN_NODE:
			if (depth == 0 && seen_root)
				return FDTR_ETOKEN;   /* a second root */
			if ((depth == 0) != (k.name[0] == 0))
				return FDTR_ENAME;    /* the root, and only the root, has an empty name */
			if (++depth > FDTR_DEPTH_MAX)
				return FDTR_EDEPTH;
			seen_root = 1;
			break;
		case FDT_END_NODE:
			if (depth == 0)
				return FDTR_ETOKEN;
			depth--;
			break;
		case FDT_PROP:
			if (depth == 0)
				return FDTR_ETOKEN;
			break;
		case FDT_END:
			if (depth || !seen_root || k.next != t->struct_size)
				return FDTR_ENOEND;
			return 0;
		}
		off = k.next;   /* > off: every token is at least 4 bytes */
	}
}

int fdtr_open(struct fdtr *t, const void *blob, uint64_t region)
{
	struct fdtr tmp;
	int rc = check_header(&tmp, blob, region);
	if (!rc)
		rc = check_structure(&tmp);
	if (rc)
		return rc;
	*t = tmp;
	return 0;
}

const char *fdtr_strerror(int err)
{
	switch (err) {
	case FDTR_OK: return "ok";
	case FDTR_ESHORT: return "shorter than an FDT header";
	case FDTR_EMAGIC: return "bad magic";
	case FDTR_EVERSION: return "unsupported version";
	case FDTR_ETOTAL: return "totalsize out of range";
	case FDTR_ERANGE: return "block offset or size out of range";
	case FDTR_EALIGN: return "misaligned block or token";
	case FDTR_EOVERLAP: return "blocks overlap";
	case FDTR_ERSVMAP: return "memory reservation map not empty";
	case FDTR_ETOKEN: return "unexpected token";
	case FDTR_ETRUNC: return "token runs past the structure block";
	case FDTR_ENAME: return "bad node name";
	case FDTR_ENAMEOFF: return "bad property name offset";
	case FDTR_EDEPTH: return "nodes nested too deep";
	case FDTR_ENOEND: return "structure block not properly ended";
	case FDTR_ENOENT: return "missing";
	case FDTR_EVALUE: return "malformed value";
	}
	return "unknown error";
}

/* The BEGIN_NODE token at node, or an error: node handles from callers are checked like the blob. */
static int node_at(const struct fdtr *t, int node, struct tok *k)
{
	if (node < 0)
		return FDTR_ENOENT;
	int rc = token_at(t, (uint64_t)node, k);
	if (rc)
		return rc;
	return k->tag == FDT_BEGIN_NODE ? 0 : FDTR_EVALUE;
}

int fdtr_root(const struct fdtr *t)
{
	uint64_t off = 0;
	struct tok k;
	for (;;) {
		int rc = token_at(t, off, &k);
		if (rc)
			return rc;
		if (k.tag == FDT_BEGIN_NODE)
			return (int)off;
		if (k.tag != FDT_NOP)
			return FDTR_ETOKEN;
		off = k.next;
	}
}

const char *fdtr_name(const struct fdtr *t, int node)
{
	struct tok k;
	return node_at(t, node, &k) ? NULL : k.name;
}

/* The offset just past the END_NODE that closes the node at off. */
static int skip_node(const struct fdtr *t, uint64_t off, uint64_t *after)
{
	unsigned depth = 0;
	struct tok k;
	for (;;) {
		int rc = token_at(t, off, &k);
		if (rc)
			return rc;
		if (k.tag == FDT_BEGIN_NODE) {
			if (++depth > FDTR_DEPTH_MAX)
				return FDTR_EDEPTH;
		} else if (k.tag == FDT_END_NODE) {
			if (depth == 0)
				return FDTR_ETOKEN;
			if (--depth == 0) {
				*after = k.next;
				return 0;
			}
		} else if (k.tag == FDT_END) {
			return FDTR_ENOEND;
		}
		off = k.next;
	}
}

int fdtr_next_child(const struct fdtr *t, int parent, int *child)
{
	struct tok k;
	uint64_t off;
	int rc = node_at(t, parent, &k);
	if (rc)
		return rc;
	if (*child < 0) {
		off = k.next;
	} else {
		if (*child <= parent)
			return FDTR_EVALUE;
		rc = skip_node(t, (uint64_t)*child, &off);
		if (rc)
			return rc;
	}
	for (;;) {
		rc = token_at(t, off, &k);
		if (rc)
			return rc;
		if (k.tag == FDT_BEGIN_NODE) {
			*child = (int)off;
			return 1;
		}
		if (k.tag == FDT_END_NODE)
			return 0;
		if (k.tag == FDT_END)
			return FDTR_ENOEND;
		off = k.next;
	}
}

static int name_eq(const char *name, const char *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (name[i] != want[i] || !name[i])
			return 0;
	return name[n] == 0;
}

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static int subnode_n(const struct fdtr *t, int parent, const char *name, size_t n)
{
	int child = -1, rc;
	while ((rc = fdtr_next_child(t, parent, &child)) == 1)
		if (name_eq(fdtr_name(t, child), name, n))
			return child;
	return rc ? rc : FDTR_ENOENT;
}

int fdtr_subnode(const struct fdtr *t, int parent, const char *name)
{
	return subnode_n(t, parent, name, slen(name));
}

int fdtr_path(const struct fdtr *t, const char *path)
{
	int node = fdtr_root(t);
	if (path[0] != '/')
		return FDTR_ENOENT;
	while (node >= 0 && *path) {
		while (*path == '/')
			path++;
		size_t n = 0;
		while (path[n] && path[n] != '/')
			n++;
		if (n)
			node = subnode_n(t, node, path, n);
		path += n;
	}
	return node;
}

int fdtr_prop(const struct fdtr *t, int node, const char *name, const void **val, uint32_t *len)
{
	struct tok k;
	int rc = node_at(t, node, &k);
	if (rc)
		return rc;
	size_t n = slen(name);
	for (uint64_t off = k.next;; off = k.next) {
		rc = token_at(t, off, &k);
		if (rc)
			return rc;
		if (k.tag == FDT_PROP) {
			if (name_eq(k.name, name, n)) {
				*val = k.val;
				*len = k.len;
				return 0;
			}
		} else if (k.tag != FDT_NOP) {
			return FDTR_ENOENT;   /* properties come before a node's children */
		}
	}
}

int fdtr_u32(const struct fdtr *t, int node, const char *name, uint32_t *out)
{
	const void *v;
	uint32_t len;
	int rc = fdtr_prop(t, node, name, &v, &len);
	if (rc)
		return rc;
	if (len != 4)
		return FDTR_EVALUE;
	*out = be32(v);
	return 0;
}

int fdtr_u64(const struct fdtr *t, int node, const char *name, uint64_t *out)
{
	const void *v;
	uint32_t len;
	int rc = fdtr_prop(t, node, name, &v, &len);
	if (rc)
		return rc;
	if (len != 8)
		return FDTR_EVALUE;
	*out = (uint64_t)be32(v) << 32 | be32((const uint8_t *)v + 4);
	return 0;
}

int fdtr_strlist(const struct fdtr *t, int node, const char *name, const char **out, uint32_t *len, uint32_t *count)
{
	const void *v;
	uint32_t n, c = 0;
	int rc = fdtr_prop(t, node, name, &v, &n);
	if (rc)
		return rc;
	const char *s = v;
	if (n && s[n - 1])
		return FDTR_EVALUE;   /* the last string is unterminated */
	for (uint32_t i = 0; i < n; i++)
		c += !s[i];
	*out = s;
	*len = n;
	*count = c;
	return 0;
}

int fdtr_string(const struct fdtr *t, int node, const char *name, const char **out)
{
	uint32_t len, count;
	int rc = fdtr_strlist(t, node, name, out, &len, &count);
	if (rc)
		return rc;
	return count == 1 ? 0 : FDTR_EVALUE;
}

int fdtr_bytes(const struct fdtr *t, int node, const char *name, void *out, uint32_t len)
{
	const void *v;
	uint32_t n;
	int rc = fdtr_prop(t, node, name, &v, &n);
	if (rc)
		return rc;
	if (n != len)
		return FDTR_EVALUE;
	for (uint32_t i = 0; i < n; i++)
		((uint8_t *)out)[i] = ((const uint8_t *)v)[i];
	return 0;
}
