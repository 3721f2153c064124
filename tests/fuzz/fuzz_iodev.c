/*
 * fuzz_iodev.c: libFuzzer harness for the I/O device: the input plays a hostile guest that writes the
 * descriptor table, the avail ring and the request bytes, over a fake guest memory, against the real
 * iodev, hostfs and io_uring, with one :rw and one :ro mount in temporary directories.
 *
 * Input format (every field one byte unless said; a short input ends early, which is fine):
 *   ndesc                     descriptors 0..ndesc-1 (at most 64), each 4 bytes:
 *     addr len flags next       addr: DATA + addr*256, or 0xf0.. a special address (fuzz_addr);
 *                               len: small values as they are, 192.. the ABI's sizes and huge ones
 *                               (fuzz_len); flags: low 3 bits (NEXT, WRITE, INDIRECT); next: raw index
 *   nrounds                   1..4 rounds; each:
 *     npatch, npatch x (index, addr, len, flags, next)   descriptors rewritten before this round
 *     nposts                  low 5 bits: entries to post (at most 16); bit 7: then jump avail idx by
 *                             one more byte's worth without ring entries
 *     nposts x head           a descriptor index; 0xff: a raw 16-bit head follows
 *   the rest                  the data area at DATA (at most 64 KiB)
 * Each round waits until what was posted is used, the VM ends, or the used ring stands still for 5 ms.
 * Request-shaped descriptors (24 bytes, device-readable, in the data area) are then rewritten so that
 * most requests name real handles, valid ops and short timeouts; a set top bit in a field keeps the
 * raw value instead (see fixup_req).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "hypercall/lbvm_abi.h"
#include "virtio/virtq.h"
#include "vmm/hostfs.h"
#include "vmm/iodev.h"
#include "vmm/log.h"
#include "vmm/vm.h"
#include "vmm/hostnet.h"
#include "vmm/netpolicy.h"

#define RAM_SIZE  (2u << 20)
#define DATA      0x40000u
#define DATA_MAX  0x10000u
#define NDESC_MAX 64u
#define Q         LBVM_IOQ_SIZE

/* A wrong answer is as much a finding as a crash. */
#define FUZZ_CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_iodev: check failed: %s\n", #c); abort(); } } while (0)

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static char base[64], dir_rw[96], dir_ro[96];
static uint64_t ro_sig;
static unsigned runs;

/* ---- the host side: two mounts made once ---- */

static uint64_t sig_acc;

static int sig_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	uint64_t h = 14695981039346656037ull;
	for (const char *p = path; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ st->st_mode) * 1099511628211ull;
	h = (h ^ (uint64_t)st->st_size) * 1099511628211ull;
	h = (h ^ (uint64_t)st->st_mtim.tv_nsec) * 1099511628211ull;
	sig_acc += h; /* order-independent */
	return 0;
}

static uint64_t tree_sig(const char *dir)
{
	sig_acc = 0;
	if (nftw(dir, sig_one, 8, FTW_PHYS) != 0)
		return 0;
	return sig_acc;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *dir, const char *name, const char *content)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(content, f);
		fclose(f);
	}
}

static void fill(const char *dir)
{
	char p[512];
	mkdir(dir, 0755);
	put(dir, "a", "alpha");
	put(dir, "b", "bravo bravo");
	snprintf(p, sizeof(p), "%s/d", dir);
	mkdir(p, 0755);
	put(p, "c", "charlie");
	snprintf(p, sizeof(p), "%s/l", dir);
	if (symlink("a", p) != 0)
		perror("symlink");
	snprintf(p, sizeof(p), "%s/f", dir);
	mkfifo(p, 0644);
}

static void cleanup(void)
{
	if (base[0])
		rm_tree(base);
}

void __sanitizer_set_report_fd(void *fd) __attribute__((weak));
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/*
	 * The device writes handles 1 and 2 to fds 1 and 2 and reads fd 0: fuzzed bytes go nowhere. With
	 * -close_fd_mask=2 or 3 libFuzzer itself moves stderr aside and keeps its own messages; without it,
	 * the sanitizers still report on a copy of stderr.
	 */
	int devnull = open("/dev/null", O_RDWR);
	int keep_stderr = 0;
	for (int i = 1; argc && i < *argc; i++)
		if (!strncmp((*argv)[i], "-close_fd_mask=", 15) && (atoi((*argv)[i] + 15) & 2))
			keep_stderr = 1;
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		if (!keep_stderr && !getenv("FUZZ_IODEV_STDERR")) {
			int copy = dup(2);
			if (__sanitizer_set_report_fd && copy >= 0)
				__sanitizer_set_report_fd((void *)(intptr_t)copy);
			dup2(devnull, 2);
		}
		close(devnull);
	}
	log_max = LOG_SILENT;
	strcpy(base, "/tmp/lbvm-fuzz-iodev.XXXXXX");
	if (!mkdtemp(base))
		abort();
	atexit(cleanup);
	snprintf(dir_rw, sizeof(dir_rw), "%s/rw", base);
	snprintf(dir_ro, sizeof(dir_ro), "%s/ro", base);
	fill(dir_rw);
	fill(dir_ro);
	ro_sig = tree_sig(dir_ro);
	return 0;
}

/* What sits next to the two mounts: only they. */
static unsigned entries(const char *dir)
{
	unsigned n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* ---- the guest side ---- */

static uint64_t fuzz_addr(uint8_t a)
{
	switch (a) {
	case 0xf0: return RAM_SIZE - 4;
	case 0xf1: return UINT64_MAX - 7;
	case 0xf2: return LBVM_GPA_IOQ;          /* the queue itself */
	case 0xf3: return 0;
	case 0xf4: return RAM_SIZE;
	case 0xf5: return LBVM_GPA_IOQ + 0x1000;  /* the used ring */
	default: return DATA + (uint64_t)a * 256;
	}
}

static uint32_t fuzz_len(uint8_t l)
{
	if (l < 192)
		return l;
	switch (l) {
	case 192: return sizeof(struct lbvm_io_req);
	case 193: return sizeof(struct lbvm_io_status);
	case 194: return sizeof(struct lbvm_io_attr);
	case 195: return sizeof(struct lbvm_io_statfs);
	case 196: return sizeof(struct lbvm_io_setattr);
	case 197: return 4096;
	case 198: return 4096 + 300;
	case 199: return LBVM_IO_MAX_LEN;
	case 200: return LBVM_IO_MAX_LEN + 1;
	case 201: return UINT32_MAX;
	case 202: return 0x80000000u;
	default: return (uint32_t)(l - 200) * 512;
	}
}

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint8_t rd(struct reader *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static volatile struct virtq_desc *vdesc;
static volatile struct virtq_avail *vavail;
static volatile struct virtq_used *vused;

static void set_desc(unsigned i, uint8_t a, uint8_t l, uint8_t f, uint8_t n)
{
	vdesc[i].addr = fuzz_addr(a);
	vdesc[i].len = fuzz_len(l);
	vdesc[i].flags = f & 7;
	vdesc[i].next = n;
}

static uint32_t map_handle(uint32_t h)
{
	/* 0..2 stdio, 3..15 never valid, 16 and 17 the roots, then the handles LOOKUP and OPEN give out */
	return (h & 0x80000000u) ? (h & 0x7fffffffu) : h % 48;
}

/* Steer a request towards what the device accepts; a field's top bit keeps its raw value. */
static void fixup_req(uint64_t gpa)
{
	struct lbvm_io_req q;
	memcpy(&q, ram + gpa, sizeof(q));
	q.op = (q.op & 0x8000) ? (q.op & 0x7fff) : q.op % (LBVM_IO_OP_COUNT + 1);
	q.flags = (q.flags & 0x8000) ? (q.flags & 0x7fff) : 0;
	q.handle = map_handle(q.handle);
	if (q.offset >> 63)
		q.offset = (q.offset & 0xff) == 0xff ? LBVM_IO_STREAM : (q.offset & ~(1ull << 63));
	else
		q.offset %= 0x20000;
	int raw = (int)(q.arg >> 63);
	uint64_t a = q.arg & ~(1ull << 63);
	if (!raw) {
		switch (q.op) {
		case LBVM_IO_TIMEOUT: a %= 4000000; break;  /* up to 4 ms */
		case LBVM_IO_RENAME:
		case LBVM_IO_LINK: a = map_handle((uint32_t)a) | (((a >> 32) % 8) << 32); break;
		case LBVM_IO_OPEN: a = (a & 31) | (((a >> 32) & 07777) << 32); break;
		case LBVM_IO_MKDIR: a &= 0777; break;
		case LBVM_IO_UNLINK: a &= 1; break;
		case LBVM_IO_FALLOCATE: a %= 0x10000; break;
		default: a &= 0xffff; break;
		}
	}
	q.arg = a;
	memcpy(ram + gpa, &q, sizeof(q));
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint16_t used_now(void) { return __atomic_load_n(&vused->idx, __ATOMIC_ACQUIRE); }

/* Until everything posted so far was used, the VM ends, the used ring stops moving for 5 ms, or 25 ms pass. */
static void settle(struct iodev *io, unsigned posted)
{
	uint64_t start = now_us(), last = start;
	uint16_t u = used_now();
	while (!iodev_error(io)[0] && u < posted) {
		uint64_t t = now_us();
		if (used_now() != u) {
			u = used_now();
			last = t;
		}
		if (t - last > 5000 || t - start > 25000)
			break;
		usleep(50);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!base[0])
		LLVMFuzzerInitialize(NULL, NULL);
	struct reader r = { data, size };
	memset(ram, 0, sizeof(ram));
	struct virtq_layout l;
	if (virtq_layout(Q, &l))
		abort();
	vdesc = (volatile struct virtq_desc *)(ram + LBVM_GPA_IOQ + l.desc_off);
	vavail = (volatile struct virtq_avail *)(ram + LBVM_GPA_IOQ + l.avail_off);
	vused = (volatile struct virtq_used *)(ram + LBVM_GPA_IOQ + l.used_off);

	/* Parse everything first: descriptors, rounds, then the data area. */
	unsigned ndesc = rd(&r) % (NDESC_MAX + 1);
	uint8_t spec[NDESC_MAX][4];
	for (unsigned i = 0; i < ndesc; i++)
		for (unsigned k = 0; k < 4; k++)
			spec[i][k] = rd(&r);
	struct round {
		unsigned npatch, nposts;
		uint8_t patch[8][5];
		uint16_t heads[16];
		uint16_t jump;
	} rounds[4];
	unsigned nrounds = rd(&r) % 4 + 1;
	for (unsigned k = 0; k < nrounds; k++) {
		struct round *rr = &rounds[k];
		rr->npatch = rd(&r) % 9;
		for (unsigned i = 0; i < rr->npatch; i++)
			for (unsigned j = 0; j < 5; j++)
				rr->patch[i][j] = rd(&r);
		uint8_t np = rd(&r);
		rr->nposts = (np & 31) % 17;
		for (unsigned i = 0; i < rr->nposts; i++) {
			uint8_t h = rd(&r);
			rr->heads[i] = h == 0xff ? (uint16_t)(rd(&r) | rd(&r) << 8) : h;
		}
		rr->jump = (np & 0x80) ? rd(&r) : 0;
	}
	size_t dlen = r.n < DATA_MAX ? r.n : DATA_MAX;
	memcpy(ram + DATA, r.p, dlen);
	for (unsigned i = 0; i < ndesc; i++)
		set_desc(i, spec[i][0], spec[i][1], spec[i][2], spec[i][3]);

	/* A fresh VM. */
	static struct vm vm;
	static struct mount_spec specs[2];
	static char a0[200], a1[200];
	memset(&vm, 0, sizeof(vm));
	vm.gm.ram = ram;
	vm.gm.ram_size = RAM_SIZE;
	snprintf(a0, sizeof(a0), "%s:/rw:rw:max=4M", dir_rw);
	snprintf(a1, sizeof(a1), "%s:/ro", dir_ro);
	if (hostfs_parse_spec(a0, &specs[0]) || hostfs_parse_spec(a1, &specs[1]) || hostfs_open(specs, 2, &vm.hostfs))
		abort();
	/* Host sockets too, under a policy that allows one closed port: connects reach the kernel and are refused. */
	static struct net_policy pol;
	if (!pol.n && netpolicy_parse(&pol, "allow=127.0.0.1:1"))
		abort();
	if (hostnet_create(&pol, &vm.hostnet))
		abort();
	struct iodev *io;
	if (iodev_create(&vm, &io) || iodev_start(io))
		abort();

	uint16_t aidx = 0;
	unsigned posted = 0;
	for (unsigned k = 0; k < nrounds && !iodev_error(io)[0]; k++) {
		struct round *rr = &rounds[k];
		for (unsigned i = 0; i < rr->npatch; i++) {
			uint8_t *p = rr->patch[i];
			set_desc(p[0] % NDESC_MAX, p[1], p[2], p[3], p[4]);
		}
		/* Requests in the data area: steer them (after the patches, which may have made new ones). */
		for (unsigned i = 0; i < NDESC_MAX; i++) {
			uint64_t a = vdesc[i].addr;
			if (vdesc[i].len == sizeof(struct lbvm_io_req) && !(vdesc[i].flags & VIRTQ_DESC_F_WRITE) &&
			    a >= DATA && a <= DATA + DATA_MAX - sizeof(struct lbvm_io_req))
				fixup_req(a);
		}
		for (unsigned i = 0; i < rr->nposts; i++)
			vavail->ring[aidx++ & (Q - 1)] = rr->heads[i];
		aidx = (uint16_t)(aidx + rr->jump); /* entries past the ones written: the ring's old contents */
		posted = aidx;
		__atomic_store_n(&vavail->idx, aidx, __ATOMIC_RELEASE);
		iodev_kick(io);
		settle(io, posted);
		/* The device completes no more than was made available, and names only real heads. */
		uint16_t u = used_now();
		FUZZ_CHECK(u <= posted);
		for (unsigned i = 0; i < u && i < Q; i++)
			FUZZ_CHECK(vused->ring[i].id < Q);
		if (getenv("FUZZ_IODEV_DEBUG")) {
			for (unsigned i = 0; i < u && i < Q; i++) {
				/* the status is the chain's last descriptor */
				unsigned d = vused->ring[i].id, hops = 0;
				while ((vdesc[d].flags & VIRTQ_DESC_F_NEXT) && hops++ < 8)
					d = vdesc[d].next % Q;
				int64_t st = 0;
				if (vdesc[d].addr <= RAM_SIZE - 8)
					memcpy(&st, ram + vdesc[d].addr, 8);
				fprintf(stderr, "round %u: used head %u len %u status %lld\n", k, vused->ring[i].id, vused->ring[i].len, (long long)st);
			}
		}
		if (getenv("FUZZ_IODEV_DEBUG") && iodev_error(io)[0])
			fprintf(stderr, "round %u: VM ended: %s\n", k, iodev_error(io));
	}
	iodev_destroy(io, 1);
	hostfs_close(vm.hostfs);
	hostnet_destroy(vm.hostnet);

	/* Nothing on the read-only mount changed, and nothing appeared next to the mounts. */
	FUZZ_CHECK(tree_sig(dir_ro) == ro_sig);
	FUZZ_CHECK(entries(base) == 2);
	/* The rw mount may fill up with what the guest made: start it afresh now and then. */
	if (++runs % 500 == 0) {
		rm_tree(dir_rw);
		fill(dir_rw);
	}
	return 0;
}
