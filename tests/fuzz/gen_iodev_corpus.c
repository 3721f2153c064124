/* gen_iodev_corpus.c: writes the seed corpus of fuzz_iodev (well-formed requests of each kind, and a few hostile shapes) into a directory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hypercall/lbvm_abi.h"
#include "virtio/virtq.h"

/* Must match fuzz_iodev.c's format: see the comment at its top. */
#define DATA_MAX 0x10000u
#define ROOT_RW 16u
#define ROOT_RO 17u
#define FIRST_NEW 18u  /* the first handle LOOKUP or OPEN gives out */

struct input {
	uint8_t desc[64][4];
	unsigned nd, nslot;
	struct {
		uint8_t heads[16];
		unsigned np;
	} round[4];
	unsigned nr;
	uint8_t data[DATA_MAX];
};

static struct input in;
static const char *outdir;

static void reset(unsigned rounds)
{
	memset(&in, 0, sizeof(in));
	in.nr = rounds;
}

static unsigned slot(const void *bytes, size_t n)
{
	unsigned s = in.nslot++;
	if (n)
		memcpy(in.data + s * 256, bytes, n);
	return s;
}

static unsigned desc(unsigned addr, unsigned len, unsigned flags, unsigned next)
{
	unsigned i = in.nd++;
	in.desc[i][0] = (uint8_t)addr;
	in.desc[i][1] = (uint8_t)len;
	in.desc[i][2] = (uint8_t)flags;
	in.desc[i][3] = (uint8_t)next;
	return i;
}

/* One request: in-buffer of inlen bytes (0: none), out-buffer of length code outlen (0: none), posted in round r. */
static unsigned req(unsigned r, uint16_t op, uint32_t handle, uint64_t off, uint64_t arg, const void *inb, unsigned inlen,
		    unsigned outlen)
{
	struct lbvm_io_req q = { .op = op, .handle = handle, .offset = off, .arg = arg };
	unsigned head = in.nd;
	unsigned n = 2 + (inlen != 0) + (outlen != 0), k = 0;
	desc(slot(&q, sizeof(q)), 192, VIRTQ_DESC_F_NEXT, head + ++k);
	if (inlen)
		desc(slot(inb, inlen), inlen, VIRTQ_DESC_F_NEXT, head + ++k);
	if (outlen)
		desc(slot(NULL, 0), outlen, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, head + ++k);
	desc(slot(NULL, 0), 193, VIRTQ_DESC_F_WRITE, 0);
	(void)n;
	in.round[r].heads[in.round[r].np++] = (uint8_t)head;
	return head;
}

static void emit(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputc((int)in.nd, f);
	fwrite(in.desc, 4, in.nd, f);
	fputc((int)(in.nr - 1), f);
	for (unsigned r = 0; r < in.nr; r++) {
		fputc(0, f); /* no patches */
		fputc((int)in.round[r].np, f);
		fwrite(in.round[r].heads, 1, in.round[r].np, f);
	}
	fwrite(in.data, 1, in.nslot * 256, f);
	fclose(f);
}

#define ATTR 96
#define S(x) x, (unsigned)(sizeof(x) - 1)

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	const uint64_t rw = 0ull | ((uint64_t)0644 << 32);

	reset(1); req(0, LBVM_IO_TIMEOUT, 0, 0, 1000000, NULL, 0, 0); emit("timeout");
	reset(1); req(0, LBVM_IO_WRITE, LBVM_H_STDOUT, LBVM_IO_STREAM, 0, S("hello\n"), 0); emit("write-stdout");
	reset(1); req(0, LBVM_IO_WRITE, LBVM_H_STDERR, LBVM_IO_STREAM, 0, S("oops\n"), 0); emit("write-stderr");
	reset(1); req(0, LBVM_IO_READ, LBVM_H_STDIN, LBVM_IO_STREAM, 0, NULL, 0, 64); emit("read-stdin");
	reset(1); req(0, LBVM_IO_LOOKUP, ROOT_RW, 0, 0, S("d"), ATTR); emit("lookup");
	reset(1); req(0, LBVM_IO_STATAT, ROOT_RO, 0, 0, S("a"), ATTR); emit("statat");
	reset(1); req(0, LBVM_IO_GETATTR, ROOT_RW, 0, 0, NULL, 0, ATTR); req(0, LBVM_IO_GETATTR, ROOT_RO, 0, 0, NULL, 0, ATTR); emit("getattr");
	reset(1); req(0, LBVM_IO_READDIR, ROOT_RW, 0, 0, NULL, 0, 197); emit("readdir");
	reset(1); req(0, LBVM_IO_STATFS, ROOT_RO, 0, 0, NULL, 0, 64); emit("statfs");
	reset(1); req(0, LBVM_IO_MKDIR, ROOT_RW, 0, 0755, S("newdir"), 0); emit("mkdir");
	reset(1); req(0, LBVM_IO_UNLINK, ROOT_RW, 0, 0, S("b"), 0); emit("unlink");
	reset(1); req(0, LBVM_IO_UNLINK, ROOT_RW, 0, LBVM_UNLINK_DIR, S("d"), 0); emit("rmdir");
	reset(1); req(0, LBVM_IO_RENAME, ROOT_RW, 0, ROOT_RW, S("a\0z"), 0); emit("rename");
	reset(1); req(0, LBVM_IO_SYMLINK, ROOT_RW, 0, 0, S("a\0s"), 0); emit("symlink");
	reset(1); req(0, LBVM_IO_LINK, ROOT_RW, 0, ROOT_RW, S("a\0h"), 0); emit("link");
	reset(1); req(0, LBVM_IO_MKDIR, ROOT_RO, 0, 0755, S("x"), 0); emit("ro-mkdir");
	reset(1); req(0, LBVM_IO_OPEN, ROOT_RO, 0, LBVM_OPEN_WRITE | LBVM_OPEN_TRUNC, S("a"), ATTR); emit("ro-open-write");
	reset(1); req(0, LBVM_IO_OPEN, ROOT_RW, 0, LBVM_OPEN_READ, S("f"), ATTR); emit("open-fifo");
	reset(1); req(0, LBVM_IO_CLOSE, ROOT_RW, 0, 0, NULL, 0, 0); emit("close-root");
	/* Two rounds: a handle made in the first is used in the second. */
	reset(2);
	req(0, LBVM_IO_OPEN, ROOT_RW, 0, LBVM_OPEN_READ | LBVM_OPEN_WRITE, S("a"), ATTR);
	req(1, LBVM_IO_READ, FIRST_NEW, 0, 0, NULL, 0, 100);
	req(1, LBVM_IO_WRITE, FIRST_NEW, 2, 0, S("XYZ"), 0);
	emit("open-read-write");
	reset(2);
	req(0, LBVM_IO_OPEN, ROOT_RW, 0, LBVM_OPEN_WRITE | LBVM_OPEN_CREATE | LBVM_OPEN_EXCL | rw, S("new"), ATTR);
	struct lbvm_io_setattr sa = { .valid = LBVM_SETATTR_MODE | LBVM_SETATTR_SIZE | LBVM_SETATTR_MTIME, .mode = 0600, .size = 10, .mtime = LBVM_TIME_NOW };
	req(1, LBVM_IO_SETATTR, FIRST_NEW, 0, 0, &sa, sizeof(sa), 0);
	req(1, LBVM_IO_FALLOCATE, FIRST_NEW, 0, 8192, NULL, 0, 0);
	req(1, LBVM_IO_FSYNC, FIRST_NEW, 0, 0, NULL, 0, 0);
	emit("create-setattr-fallocate-fsync");
	reset(2);
	req(0, LBVM_IO_LOOKUP, ROOT_RW, 0, 0, S("l"), ATTR);
	req(1, LBVM_IO_READLINK, FIRST_NEW, 0, 0, NULL, 0, 100);
	req(1, LBVM_IO_CLOSE, FIRST_NEW, 0, 0, NULL, 0, 0);
	emit("lookup-readlink-close");
	reset(2);
	req(0, LBVM_IO_LOOKUP, ROOT_RW, 0, 0, S("d"), ATTR);
	req(1, LBVM_IO_RENAME, ROOT_RW, 0, FIRST_NEW, S("a\0moved"), 0);
	req(1, LBVM_IO_OPEN, FIRST_NEW, 0, LBVM_OPEN_READ, S("c"), ATTR);
	emit("lookup-rename-into");
	/* Hostile shapes. */
	reset(1);
	{
		unsigned h = req(0, LBVM_IO_TIMEOUT, 0, 0, 5000000, NULL, 0, 0);
		in.round[0].heads[in.round[0].np++] = (uint8_t)h; /* the same head twice */
	}
	emit("repost-timeout");
	reset(1);
	{
		unsigned h = req(0, LBVM_IO_LOOKUP, ROOT_RO, 0, 0, S("d"), ATTR);
		in.round[0].heads[in.round[0].np++] = (uint8_t)h;
	}
	emit("repost-lookup");
	reset(1);
	req(0, LBVM_IO_GETATTR, ROOT_RW, 0, 0, NULL, 0, ATTR);
	in.desc[2][3] = 0; /* the status descriptor chains back to the request */
	in.desc[2][2] |= VIRTQ_DESC_F_NEXT;
	emit("loop");
	reset(1);
	req(0, LBVM_IO_GETATTR, ROOT_RW, 0, 0, NULL, 0, ATTR);
	in.desc[1][2] |= VIRTQ_DESC_F_INDIRECT;
	emit("indirect");
	reset(1);
	req(0, LBVM_IO_READ, LBVM_H_STDIN, LBVM_IO_STREAM, 0, NULL, 0, 200); /* length code 200: over 1 MiB */
	emit("huge-read");
	return 0;
}
