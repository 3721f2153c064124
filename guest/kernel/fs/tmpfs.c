/* tmpfs.c: in-memory file data (a two-level page index), directories as name lists, reference counting. */
#include "kernel/mm/mm.h"
#include "tmpfs.h"
#include "vfs.h"

#define LEAF_SLOTS 512ull
#define MAX_FILE (LEAF_SLOTS * LEAF_SLOTS * PAGE_SIZE)   /* 1 GiB */

static uint64_t next_ino = 0x100000;

struct tnode *tmp_new(uint32_t mode)
{
	struct tnode *t = kmalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->mode = mode;
	t->nlink = (mode & 0170000) == 0040000 ? 1 : 0;  /* the first link adds one */
	t->refs = 1;
	t->ino = next_ino++;
	tmp_touch(t);
	return t;
}

void tmp_touch(struct tnode *t)
{
	int64_t ns = time_realtime_ns();
	t->mtime = ns / 1000000000;
	t->mtime_nsec = ns % 1000000000;
}

void tmp_get(struct tnode *t)
{
	t->refs++;
}

/* The page holding byte off, allocating the path to it when create is set; 0 if absent. */
static uint64_t page_of(struct tnode *t, uint64_t off, int create)
{
	uint64_t pn = off / PAGE_SIZE, li = pn / LEAF_SLOTS, si = pn % LEAF_SLOTS;
	if (off >= MAX_FILE)
		return 0;
	if (!t->index) {
		if (!create)
			return 0;
		uint64_t pa = pmem_alloc();
		if (!pa)
			return 0;
		t->index = pa_to_kva(pa);
	}
	if (!t->index[li]) {
		if (!create)
			return 0;
		t->index[li] = pmem_alloc();
		if (!t->index[li])
			return 0;
	}
	uint64_t *leaf = pa_to_kva(t->index[li]);
	if (!leaf[si] && create)
		leaf[si] = pmem_alloc();
	return leaf[si];
}

/* The page holding file bytes [off, off + 4 KiB), made if missing (a hole reads as zeros); 0 if out of memory. */
uint64_t tmp_page(struct tnode *t, uint64_t off)
{
	return page_of(t, ALIGN_DOWN(off, PAGE_SIZE), 1);
}

/* Free data pages wholly past size. */
static void free_from(struct tnode *t, uint64_t size)
{
	if (!t->index)
		return;
	uint64_t first = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE;
	for (uint64_t li = 0; li < LEAF_SLOTS; li++) {
		if (!t->index[li])
			continue;
		uint64_t *leaf = pa_to_kva(t->index[li]);
		for (uint64_t si = 0; si < LEAF_SLOTS; si++) {
			if (leaf[si] && li * LEAF_SLOTS + si >= first) {
				pmem_free(leaf[si]);
				leaf[si] = 0;
			}
		}
		if (li * LEAF_SLOTS >= first) {
			pmem_free(t->index[li]);
			t->index[li] = 0;
		}
	}
	if (size == 0) {
		pmem_free(kva_to_pa(t->index));
		t->index = NULL;
	}
}

void tmp_put(struct tnode *t)
{
	if (!t || --t->refs > 0)
		return;
	free_from(t, 0);
	while (t->children) {
		struct tdirent *d = t->children;
		t->children = d->next;
		if (d->node) {
			d->node->nlink--;
			tmp_put(d->node);
		}
		kfree(d, sizeof(*d) + d->len + 1);
	}
	kfree(t->target, PATH_MAX);
	if (t->fifo)
		pipe_free(t->fifo);
	kfree(t, sizeof(*t));
}

struct tdirent *tmp_find(struct tnode *dir, const char *name, size_t len)
{
	for (struct tdirent *d = dir->children; d; d = d->next)
		if (d->len == len && !memcmp(d->name, name, len))
			return d;
	return NULL;
}

int tmp_link(struct tnode *dir, const char *name, size_t len, struct tnode *t)
{
	struct tdirent *d = tmp_find(dir, name, len);
	if (d) {
		if (d->node) {
			d->node->nlink--;
			tmp_put(d->node);
		}
	} else {
		d = kmalloc(sizeof(*d) + len + 1);
		if (!d)
			return -ENOSPC;
		memcpy(d->name, name, len);
		d->len = (uint16_t)len;
		/* Appended, so readdir order is creation order and a cursor stays valid. */
		struct tdirent **pp = &dir->children;
		while (*pp)
			pp = &(*pp)->next;
		*pp = d;
	}
	d->node = t;
	if (t) {
		t->nlink++;
		tmp_get(t);
		if ((t->mode & 0170000) == 0040000)
			t->nlink = t->nlink < 2 ? 2 : t->nlink;
	}
	tmp_touch(dir);
	return 0;
}

void tmp_unlink(struct tnode *dir, struct tdirent *d)
{
	struct tdirent **pp = &dir->children;
	while (*pp && *pp != d)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = d->next;
	if (d->node) {
		d->node->nlink--;
		tmp_put(d->node);
	}
	kfree(d, sizeof(*d) + d->len + 1);
	tmp_touch(dir);
}

/* Copy file bytes [off, off+len) out; a hole reads as zeros. to_user: buf is a user address. */
static long tmp_copy_out(struct tnode *t, void *kbuf, uint64_t ubuf, int to_user, uint64_t len, uint64_t off)
{
	static const uint8_t zero[PAGE_SIZE];
	if (off >= t->size)
		return 0;
	if (len > t->size - off)
		len = t->size - off;
	uint64_t done = 0;
	while (done < len) {
		uint64_t o = off + done, n = PAGE_SIZE - o % PAGE_SIZE;
		if (n > len - done)
			n = len - done;
		uint64_t pa = page_of(t, o, 0);
		const uint8_t *src = pa ? (const uint8_t *)pa_to_kva(pa) + o % PAGE_SIZE : zero;
		if (to_user) {
			if (copy_to_user(ubuf + done, src, n))
				return done ? (long)done : -EFAULT;
		} else {
			memcpy((uint8_t *)kbuf + done, src, n);
		}
		done += n;
	}
	return (long)done;
}

long tmp_read(struct tnode *t, void *kbuf, uint64_t len, uint64_t off)
{
	return tmp_copy_out(t, kbuf, 0, 0, len, off);
}

long tmp_read_user(struct tnode *t, uint64_t ubuf, uint64_t len, uint64_t off)
{
	return tmp_copy_out(t, NULL, ubuf, 1, len, off);
}

static long tmp_copy_in(struct tnode *t, const void *kbuf, uint64_t ubuf, int from_user, uint64_t len, uint64_t off)
{
	if (off >= MAX_FILE)
		return -EFBIG;
	if (len > MAX_FILE - off)
		len = MAX_FILE - off;
	uint64_t done = 0;
	while (done < len) {
		uint64_t o = off + done, n = PAGE_SIZE - o % PAGE_SIZE;
		if (n > len - done)
			n = len - done;
		uint64_t pa = page_of(t, o, 1);
		if (!pa)
			return done ? (long)done : -ENOSPC;
		uint8_t *dst = (uint8_t *)pa_to_kva(pa) + o % PAGE_SIZE;
		if (from_user) {
			if (copy_from_user(dst, ubuf + done, n))
				return done ? (long)done : -EFAULT;
		} else {
			memcpy(dst, (const uint8_t *)kbuf + done, n);
		}
		done += n;
		if (o + n > t->size)
			t->size = o + n;
	}
	tmp_touch(t);
	return (long)done;
}

long tmp_write_user(struct tnode *t, uint64_t ubuf, uint64_t len, uint64_t off)
{
	return tmp_copy_in(t, NULL, ubuf, 1, len, off);
}

long tmp_write(struct tnode *t, const void *kbuf, uint64_t len, uint64_t off)
{
	return tmp_copy_in(t, kbuf, 0, 0, len, off);
}

int tmp_truncate(struct tnode *t, uint64_t size)
{
	if (size > MAX_FILE)
		return -EFBIG;
	if (size < t->size) {
		/* Zero the tail of the last page, so growing again reads zeros. */
		uint64_t pa = size % PAGE_SIZE ? page_of(t, size, 0) : 0;
		if (pa)
			memset((uint8_t *)pa_to_kva(pa) + size % PAGE_SIZE, 0, PAGE_SIZE - size % PAGE_SIZE);
		free_from(t, size);
	}
	t->size = size;
	tmp_touch(t);
	return 0;
}
