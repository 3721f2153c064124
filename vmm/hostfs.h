/* hostfs.h: host directories in the guest (--mount): the mount table, the handle table, and one request's state. */
#ifndef VMM_HOSTFS_H
#define VMM_HOSTFS_H

#include <fcntl.h>
#include <linux/openat2.h>
#include <liburing.h>
#include <stdint.h>
#include <sys/stat.h>
#include "hypercall/lbvm_abi.h"

/* One --mount HOSTDIR:GUESTDIR[:ro|:rw][:xdev][:max=SIZE] as given. */
struct mount_spec {
	const char *arg;          /* the whole option value, for messages */
	char host[4096];
	char guest[sizeof(((struct lbvm_mount *)0)->path)];
	int ro, xdev;
	uint64_t max_bytes;       /* 0: no cap on bytes written */
};

/* Parse a --mount value; 0, or -1 after a message naming the problem. */
int hostfs_parse_spec(const char *arg, struct mount_spec *out);

struct hostfs;

/* Open every mount's root (O_PATH); 0, or -1 after a message naming the directory. */
int hostfs_open(const struct mount_spec *specs, unsigned n, struct hostfs **out);
/* Close every handle and free the table (tests and the fuzzer; lbvm leaves it to process exit). */
void hostfs_close(struct hostfs *hf);
unsigned hostfs_count(const struct hostfs *hf);
void hostfs_fill_table(const struct hostfs *hf, struct lbvm_mount *tab);
const char *hostfs_root_path(const struct hostfs *hf, unsigned i);  /* for messages */
int hostfs_root_fd(const struct hostfs *hf, unsigned i);            /* the root's O_PATH fd, for Landlock */
int hostfs_readonly(const struct hostfs *hf, unsigned i);

/* The state of one guest request on a mount while it is in flight. */
struct hostreq {
	uint16_t op;
	int stage;
	uint32_t handle;              /* the handle the request names, validated */
	uint32_t other;               /* RENAME/LINK: the second directory handle, validated */
	uint64_t offset, arg;
	const uint8_t *in;            /* checked translations of the guest's buffers */
	uint32_t inlen;
	uint8_t *out;
	uint32_t outlen;
	char name[256];
	char name2[256];
	char target[4096];            /* SYMLINK's target */
	char fdname[16];              /* OPEN's reopen: pathfd's number below /proc/self/fd */
	int newfd;                    /* LOOKUP/OPEN: the descriptor that becomes the new handle */
	int pathfd;                   /* OPEN: O_PATH descriptor of the name, reopened once its type is checked */
	int retries;                  /* OPEN with CREATE: a name made by another meanwhile is opened instead */
	unsigned open_flags;          /* LBVM_OPEN_* */
	uint64_t reserved;            /* WRITE/FALLOCATE: bytes counted against the mount's cap */
	struct open_how how;
	struct statx stx;
	int64_t result;
	uint32_t written;             /* bytes put into out */
};

/*
 * Start h (its op, handle, offset, arg and buffers set by the caller from
 * the checked request). Returns 0 when it completed at once (h->result and
 * h->written hold the outcome), 1 when an SQE tagged tag was queued.
 */
int hostfs_start(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *h);
/* The CQE for h came: 0 when done, 1 when the next stage was queued. */
int hostfs_step(struct hostfs *hf, struct io_uring *ring, uint64_t tag, struct hostreq *h, int res);

/* The only path string passed to a path system call after setup (see seccomp.c). */
extern const char hostfs_empty_path[1];

/* For docs and tests: the io_uring opcodes hostfs uses. */
extern const uint8_t hostfs_uring_ops[];
extern const unsigned hostfs_uring_nops;

#endif
