/* hostile.h: the harness shared by the hostile-guest tests of the I/O device (test_hostile*.c): see hostile.c. */
#ifndef TESTS_UNIT_HOSTILE_H
#define TESTS_UNIT_HOSTILE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "hypercall/lbvm_abi.h"
#include "virtio/virtq.h"
#include "vmm/hostfs.h"
#include "vmm/hostnet.h"
#include "vmm/netpolicy.h"
#include "vmm/iodev.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define RAM_SIZE  (8u << 20)
#define SLOTS     0x100000u   /* 64 request slots of 8 KiB: request, status, in, out */
#define SLOT_SIZE 0x2000u
#define BIG       0x200000u   /* in-buffers over 4 KiB here, out-buffers over 3.5 KiB at BIG_OUT */
#define BIG_OUT   0x400000u
#define Q         LBVM_IOQ_SIZE

#define R_VMFAIL  ((int64_t)INT64_MIN)       /* the VM ended */
#define R_HANG    ((int64_t)INT64_MIN + 1)   /* no answer in time, VM still running */

static inline uint64_t slot_gpa(unsigned s) { return SLOTS + (uint64_t)s * SLOT_SIZE; }
#define SLOT_REQ(s) (slot_gpa(s))
#define SLOT_ST(s)  (slot_gpa(s) + 0x20)
#define SLOT_IN(s)  (slot_gpa(s) + 0x100)
#define SLOT_OUT(s) (slot_gpa(s) + 0x1100)

/* The device of the running test, and its guest's view of the queue. */
extern uint8_t *ram;
extern struct vm vm;
extern struct iodev *io;
extern int io_started;
extern const struct net_policy *hostile_net;   /* set before dev_up: the device serves LBVM_IO_NET_* under it */
extern char top[64], base[96], dir_rw[128], dir_ro[128], dir_out[128];
extern uint32_t root_rw, root_ro;
extern volatile struct virtq_desc *vdesc;
extern volatile struct virtq_avail *vavail;
extern volatile struct virtq_used *vused;
extern uint16_t aidx;         /* the avail index the guest published */
extern int can_mount;         /* the runner got a private mount namespace: tests may mount */
extern int stdin_saved;       /* dev_down puts this back on fd 0 */
extern int stdout_saved;      /* and this on fd 1 */

void *gp(uint64_t gpa);
uint64_t now_ms(void);
void put_file(const char *dir, const char *name, const char *content);
void rm_rf(const char *dir);
uint64_t tree_sig(const char *dir);           /* names, types, modes, sizes, contents, link targets */

/* Build a device: base/rw (:rw plus rw_opts, or the directory rw_host) and base/ro mounted, base/outside beside them. */
void dev_up_opts(const char *rw_opts, const char *rw_host);
void dev_up(void);
int dev_down(void **state);                    /* cmocka teardown: fails if base/outside changed */

void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
void post(uint16_t head);                      /* one avail entry, and the new index */
uint16_t used_now(void);
int used_has(uint16_t since, uint16_t head, uint32_t *len);
int vm_failed(void);
int wait_vm_end(unsigned ms);                  /* 1 when the VM ended (and iodev_wait_for_guest says so) */
void expect_posted_again(uint16_t head);

/* A well-formed request in slot s (descriptors 4s..4s+3); lengths 0: no such buffer. Returns the head. */
uint16_t slot_build(unsigned s, uint16_t op, uint32_t handle, uint64_t off, uint64_t arg, const void *in,
		    uint32_t inlen, uint32_t outlen);
int64_t slot_result(unsigned s);
int64_t run_head(uint16_t head, unsigned s, unsigned ms);  /* post, kick, wait: status, R_VMFAIL or R_HANG */
int64_t call(uint16_t op, uint32_t handle, uint64_t off, uint64_t arg, const void *in, uint32_t inlen, uint32_t outlen);
struct lbvm_io_attr last_attr(void);
uint32_t do_open(uint32_t dir, const char *name, uint64_t flags);
uint32_t do_lookup(uint32_t dir, const char *name);

/* Run each test in its own process, bounded in time; argv[1], if given, selects tests by name. */
int hostile_main(const char *suite, const struct CMUnitTest *tests, unsigned n, int argc, char **argv);

#define T(f) cmocka_unit_test_teardown(f, dev_down)

#endif
