/*
 * hostfs_map.c: the pages of host files mapped MAP_SHARED. The guest keeps
 * one page per file page (by mount and inode, whatever vnode or open it
 * came through), and every shared mapping of the file maps that page: so
 * processes, forks and second mappings see one another's writes at once.
 * While a file has such pages, they are its newest bytes in the guest:
 * read(2) and exec/mmap reads lay them over what the host returns, and
 * write(2) copies into them as well as to the host.
 *
 * Pages a writable mapping may have written are marked dirty, and go to
 * the host (plain host writes, through a read-write handle of the file's
 * own) on msync, munmap, the process's exit or exec, when the last mapping
 * goes, and when the VM ends. The host's copy is not watched: a change made
 * on the host while the file is mapped shared shows only to opens that do
 * not go through these pages, as with a network file system.
 */
#include "hostfs.h"
#include "kernel/mm/mm.h"
#include "vfs.h"

#define LEAF 512u                  /* entries per index page: 512 x 512 pages = 1 GiB mappable */
#define SH_DIRTY 1ull              /* in an entry: a writable mapping may have changed the page */
#define SH_ADDR (~(uint64_t)(PAGE_SIZE - 1))
#define FETCH_PAGES 16u            /* a miss reads the aligned 64 KiB around it in one request */

struct hshare {
	struct hshare *next;
	uint16_t mount;
	uint64_t ino;
	int refs;                   /* host nodes holding it (each vnode of a shared mapping) */
	uint32_t wfh;               /* read-write handle for writing back, once a writable mapping asked */
	uint64_t size;              /* the file's size as the guest knows it: nothing past it is written back */
	uint64_t *index;            /* one page: LEAF leaf pages of LEAF entries (page address | SH_DIRTY) */
};

static struct hshare *shares;

static struct hshare *share_find(uint16_t mount, uint64_t ino)
{
	for (struct hshare *s = shares; s; s = s->next)
		if (s->mount == mount && s->ino == ino)
			return s;
	return NULL;
}

/* The entry of page idx; leaves are made when create is set. NULL past 1 GiB or when memory is short. */
static uint64_t *slot(struct hshare *s, uint64_t idx, int create)
{
	if (idx >= (uint64_t)LEAF * LEAF)
		return NULL;
	uint64_t *leafp = &s->index[idx / LEAF];
	if (!*leafp) {
		if (!create)
			return NULL;
		*leafp = pmem_alloc();
		if (!*leafp)
			return NULL;
	}
	return (uint64_t *)pa_to_kva(*leafp) + idx % LEAF;
}

/* vn's share, made on first use; the host node holds one reference. */
static struct hshare *share_of(struct vnode *vn)
{
	struct hostnode *h = vn->host;
	if (h->share)
		return h->share;
	struct kstat st;
	vfs_stat(vn, &st);   /* may wait for the host: before the lookup, so that no other process makes a second share meanwhile */
	if (h->share)
		return h->share;
	struct hshare *s = share_find(h->mount, h->a.ino);
	if (!s) {
		uint64_t pa = pmem_alloc();
		s = pa ? kmalloc(sizeof(*s)) : NULL;
		if (!s) {
			if (pa)
				pmem_free(pa);
			return NULL;
		}
		*s = (struct hshare){ .next = shares, .mount = h->mount, .ino = h->a.ino, .size = st.size,
				      .index = pa_to_kva(pa) };
		shares = s;
	}
	s->refs++;
	h->share = s;
	return s;
}

/* Read the missing pages of the aligned window around page idx in one request; those another process filled meanwhile stay. */
static void fetch(struct vnode *vn, struct hshare *s, uint64_t idx)
{
	uint64_t first = idx - idx % FETCH_PAGES;
	uint8_t *buf = hostfs_bounce_get(FETCH_PAGES * PAGE_SIZE);
	long n = buf ? vn->ops->kread(vn, buf, FETCH_PAGES * PAGE_SIZE, first * PAGE_SIZE) : -ENOMEM;
	for (uint64_t i = first; i < first + FETCH_PAGES && n >= 0; i++) {
		/* The page asked for always comes (zeros past the end); its neighbours only when the file has them. */
		uint64_t *e = slot(s, i, 1);
		if (!e || *e || (i != idx && (i - first) * PAGE_SIZE >= (uint64_t)n))
			continue;
		uint64_t pa = pmem_alloc();
		if (!pa)
			break;
		uint64_t at = (i - first) * PAGE_SIZE;
		if (n > 0 && at < (uint64_t)n)
			memcpy(pa_to_kva(pa), buf + at, (uint64_t)n - at < PAGE_SIZE ? (uint64_t)n - at : PAGE_SIZE);
		*e = pa;
	}
	if (buf)
		hostfs_bounce_put(buf, FETCH_PAGES * PAGE_SIZE);
}

uint64_t hostfs_share_page(struct vnode *vn, uint64_t off, int write)
{
	struct hshare *s = share_of(vn);
	if (!s)
		return 0;
	if (write && !s->wfh) {
		uint32_t fh;
		if (hostfs_open_handle(vn, LBVM_OPEN_READ | LBVM_OPEN_WRITE, &fh) < 0)
			return 0;
		if (s->wfh) /* another process opened one while this one waited */
			io_host_async(LBVM_IO_CLOSE, fh, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
		else
			s->wfh = fh;
	}
	uint64_t idx = off / PAGE_SIZE;
	uint64_t *e = slot(s, idx, 1);
	if (!e)
		return 0;
	if (!*e)
		fetch(vn, s, idx);
	if (!*e)
		return 0;
	if (write)
		*e |= SH_DIRTY;
	return *e & SH_ADDR;
}

/*
 * The dirty pages of [off, off + len) to the host, in runs of up to 64 KiB.
 * Writes still collecting for the file in the guest go first, so that they
 * cannot land later over what the mapping wrote since. A page no mapping
 * holds any more is clean once written; one still mapped writable stays
 * dirty (its next write is not seen).
 */
static int writeback(struct hshare *s, uint64_t off, uint64_t len)
{
	if (!s->wfh)
		return 0;
	hostfs_sync_ino(s->mount, s->ino);
	uint64_t end = off + len < off || off + len > s->size ? s->size : off + len;
	uint8_t *buf = NULL;
	int err = 0;
	for (uint64_t idx = off / PAGE_SIZE; idx * PAGE_SIZE < end && !err;) {
		uint64_t *e = slot(s, idx, 0);
		if (!e || !(*e & SH_DIRTY)) {
			idx++;
			continue;
		}
		if (!buf && !(buf = hostfs_bounce_get(FETCH_PAGES * PAGE_SIZE)))
			return -ENOMEM;
		uint64_t first = idx, n = 0;
		while (n < FETCH_PAGES && idx * PAGE_SIZE < end && (e = slot(s, idx, 0)) && (*e & SH_DIRTY)) {
			memcpy(buf + n * PAGE_SIZE, pa_to_kva(*e & SH_ADDR), PAGE_SIZE);
			if (pmem_refs(*e & SH_ADDR) == 1)
				*e &= ~SH_DIRTY;
			n++;
			idx++;
		}
		uint64_t at = first * PAGE_SIZE, bytes = n * PAGE_SIZE;
		if (at + bytes > end)
			bytes = end - at;
		int64_t r = io_host(LBVM_IO_WRITE, s->wfh, at, 0, buf, (uint32_t)bytes, NULL, 0);
		if (r < 0)
			err = (int)r;
		else if ((uint64_t)r < bytes)
			err = -ENOSPC;
	}
	if (buf)
		hostfs_bounce_put(buf, FETCH_PAGES * PAGE_SIZE);
	hostfs_drop_reads(s->mount, s->ino);
	return err;
}

int hostfs_share_writeback(struct vnode *vn, uint64_t off, uint64_t len)
{
	struct hshare *s = vn->host->share;
	return s ? writeback(s, off, len) : 0;
}

/*
 * One holder fewer; the last one writes the pages back and frees them. The
 * share leaves the list first: writing waits, and meanwhile nobody may find
 * it and take it up again.
 */
static void share_unref(struct hshare *s)
{
	if (--s->refs > 0)
		return;
	for (struct hshare **p = &shares; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	writeback(s, 0, ~0ull);
	for (unsigned li = 0; li < LEAF; li++) {
		if (!s->index[li])
			continue;
		uint64_t *leaf = pa_to_kva(s->index[li]);
		for (unsigned i = 0; i < LEAF; i++)
			if (leaf[i])
				pmem_free(leaf[i] & SH_ADDR);
		pmem_free(s->index[li]);
	}
	pmem_free(kva_to_pa(s->index));
	if (s->wfh)
		io_host_async(LBVM_IO_CLOSE, s->wfh, 0, 0, NULL, 0, NULL, 0, NULL, NULL);
	kfree(s, sizeof(*s));
}

/* A host node goes. */
void hostfs_share_put(struct hostnode *h)
{
	struct hshare *s = h->share;
	h->share = NULL;
	if (s)
		share_unref(s);
}

/* The VM ends: every page a mapping wrote reaches the host. Each share is held while it is written (writing waits). */
void hostfs_share_flush_all(void)
{
	struct hshare *s = shares;
	if (s)
		s->refs++;
	while (s) {
		writeback(s, 0, ~0ull);
		struct hshare *next = s->next;
		if (next)
			next->refs++;
		share_unref(s);
		s = next;
	}
}

/*
 * Bytes [off, off + len) of a file moved between the caller and the host
 * (read: buf holds what the host returned; write: what was sent): the
 * file's shared pages take part. to_pages: copy buf into them (a write),
 * else from them into buf (a read). user: buf is a user address.
 */
int hostfs_share_copy(const struct hostnode *h, uint64_t buf, uint64_t off, uint64_t len, int to_pages, int user)
{
	struct hshare *s = shares ? share_find(h->mount, h->a.ino) : NULL;
	if (!s)
		return 0;
	if (to_pages && off + len > s->size)
		s->size = off + len;
	for (uint64_t at = off; at < off + len;) {
		uint64_t idx = at / PAGE_SIZE, in = at % PAGE_SIZE;
		uint64_t n = PAGE_SIZE - in < off + len - at ? PAGE_SIZE - in : off + len - at;
		uint64_t *e = slot(s, idx, 0);
		if (e && *e) {
			uint8_t *page = (uint8_t *)pa_to_kva(*e & SH_ADDR) + in;
			uint64_t b = buf + (at - off);
			int err = 0;
			if (to_pages)
				err = user ? copy_from_user(page, b, n) : (memcpy(page, (void *)b, n), 0);
			else
				err = user ? copy_to_user(b, page, n) : (memcpy((void *)b, page, n), 0);
			if (err)
				return err;
		}
		at += n;
	}
	return 0;
}

/* The file's size changed in the guest (truncate): shared pages past it read as zeros from now on. */
void hostfs_share_resize(const struct hostnode *h, uint64_t size)
{
	struct hshare *s = shares ? share_find(h->mount, h->a.ino) : NULL;
	if (!s)
		return;
	for (uint64_t idx = size / PAGE_SIZE; idx * PAGE_SIZE < s->size; idx++) {
		uint64_t *e = slot(s, idx, 0);
		uint64_t from = idx * PAGE_SIZE > size ? 0 : size % PAGE_SIZE;
		if (e && *e)
			memset((uint8_t *)pa_to_kva(*e & SH_ADDR) + from, 0, PAGE_SIZE - from);
	}
	s->size = size;
}
