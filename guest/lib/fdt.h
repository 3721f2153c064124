/* fdt.h: a checked reader of flattened device trees (DTB v17) that treats every byte as hostile. */
#ifndef GUEST_LIB_FDT_H
#define GUEST_LIB_FDT_H

#include <stddef.h>
#include <stdint.h>

/*
 * fdtr_open validates the whole blob once: the header, the block layout and
 * every token of the structure block. Lookups walk it again with the same
 * checked token reader, so they never leave the structure block either.
 * Node handles are byte offsets of FDT_BEGIN_NODE tokens in the structure block.
 */
struct fdtr {
	const uint8_t *base;
	uint32_t total;                    /* totalsize, <= the region given to fdtr_open */
	uint32_t struct_off, struct_size;
	uint32_t strings_off, strings_size;
};

/* Errors: negative values, one per kind of defect, so tests can tell which check caught what. */
enum fdtr_err {
	FDTR_OK = 0,
	FDTR_ESHORT = -1,      /* region smaller than a header */
	FDTR_EMAGIC = -2,
	FDTR_EVERSION = -3,
	FDTR_ETOTAL = -4,      /* totalsize below the header or past the region */
	FDTR_ERANGE = -5,      /* a block's offset or size out of totalsize */
	FDTR_EALIGN = -6,
	FDTR_EOVERLAP = -7,    /* blocks overlap each other or the header */
	FDTR_ERSVMAP = -8,     /* reservation map not empty */
	FDTR_ETOKEN = -9,      /* unknown token, or one where it may not be */
	FDTR_ETRUNC = -10,     /* a token, name or value runs past the structure block */
	FDTR_ENAME = -11,      /* node name unterminated, empty, or with '/' */
	FDTR_ENAMEOFF = -12,   /* property name offset past the strings block, or name unterminated */
	FDTR_EDEPTH = -13,
	FDTR_ENOEND = -14,     /* no FDT_END, or bytes after it, or nodes left open */
	FDTR_ENOENT = -15,     /* lookup: no such node or property */
	FDTR_EVALUE = -16,     /* lookup: property of the wrong size or shape */
};

#define FDTR_MAGIC       0xd00dfeedu
#define FDTR_VERSION     17u
#define FDTR_HEADER_SIZE 40u
#define FDTR_DEPTH_MAX   8u    /* our boot tree is 3 deep; a deeper one is an attack or a bug */
#define FDTR_NAME_MAX    255u

int fdtr_open(struct fdtr *t, const void *blob, uint64_t region);
const char *fdtr_strerror(int err);

int fdtr_root(const struct fdtr *t);                                   /* the root node */
int fdtr_subnode(const struct fdtr *t, int parent, const char *name);  /* child by exact name, or FDTR_ENOENT */
int fdtr_path(const struct fdtr *t, const char *path);                 /* "/a/b"; "/" is the root */
/* Children in order: *child = -1 to start; returns 1 with the next child, 0 at the end, or an error. */
int fdtr_next_child(const struct fdtr *t, int parent, int *child);
const char *fdtr_name(const struct fdtr *t, int node);                /* NUL-terminated, validated */

/* A property's value (inside the blob) and length. */
int fdtr_prop(const struct fdtr *t, int node, const char *name, const void **val, uint32_t *len);
int fdtr_u32(const struct fdtr *t, int node, const char *name, uint32_t *out);   /* big-endian cell */
int fdtr_u64(const struct fdtr *t, int node, const char *name, uint64_t *out);   /* two cells */
int fdtr_string(const struct fdtr *t, int node, const char *name, const char **out); /* exactly one NUL, at the end */
/* A string list: zero or more NUL-terminated strings; *count how many, *len bytes in all. */
int fdtr_strlist(const struct fdtr *t, int node, const char *name, const char **out, uint32_t *len, uint32_t *count);
int fdtr_bytes(const struct fdtr *t, int node, const char *name, void *out, uint32_t len);  /* exactly len bytes */

#endif
