/* kernel.h: declarations shared by the guest kernel's parts. */
#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include "hypercall/lbvm_abi.h"
#include "guest/lib/kstring.h"
#include "guest/lib/fmt.h"
#include "errno.h"
#include "bootparams.h"

#define PAGE_SIZE 4096ull
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NORETURN __attribute__((noreturn))

/* Physical memory through the direct map. */
#ifdef LBVM_HOST_TEST
/* Host unit tests: guest-physical memory is a buffer of the test's (tests/unit/kshim.c). */
extern uint8_t *lbvm_test_phys;
static inline void *pa_to_kva(uint64_t pa) { return lbvm_test_phys + pa; }
static inline uint64_t kva_to_pa(const void *p) { return (uint64_t)((const uint8_t *)p - lbvm_test_phys); }
#else
static inline void *pa_to_kva(uint64_t pa) { return (void *)(LBVM_DMAP_BASE + pa); }
static inline uint64_t kva_to_pa(const void *p)
{
	uint64_t v = (uint64_t)p;
	return v >= LBVM_KTEXT_BASE ? v - LBVM_KTEXT_BASE : v - LBVM_DMAP_BASE;
}
#endif

/* main.c */
extern struct boot_params boot;     /* read once from the boot FDT */
extern volatile struct lbvm_boot_shared *const boot_shared;  /* what the VMM reads back */
NORETURN void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* to stderr through the I/O queue */
NORETURN void vm_exit(uint32_t status, uint64_t fault_addr);
long lbvm_hcall(uint32_t nr, uint64_t a, uint64_t b, uint64_t c);

/* pmem.c: guest-physical page allocator */
void pmem_init(uint64_t start, uint64_t end);
uint64_t pmem_alloc(void);          /* a zeroed page, or 0 when memory is exhausted */
void pmem_free(uint64_t pa);       /* drops a reference; frees at zero */
void pmem_get(uint64_t pa);        /* one more reference (a shared copy-on-write page) */
unsigned pmem_refs(uint64_t pa);
uint64_t pmem_alloc_contig(uint64_t n);
uint64_t pmem_free_pages(void);
uint64_t pmem_total_pages(void);

/* kmalloc.c: objects up to a page; freed with the size they were allocated with */
void *kmalloc(size_t n);   /* zeroed, or NULL */
void kfree(void *p, size_t n);

/* time.c */
void time_init(void);
int64_t time_monotonic_ns(void);
int64_t time_realtime_ns(void);

/* random.c */
void random_init(void);
void random_fill(void *buf, size_t n);

/* io.c: the I/O queue to the VMM */
void io_init(void);
long io_write(uint32_t handle, const void *buf, size_t len);  /* buffered; returns len or -errno */
long io_sleep_ns(uint64_t ns);
void *io_timer_start(uint64_t ns, void (*fn)(void *arg), void *arg);
void io_timer_cancel(void *handle);
int io_pending(void);
int64_t io_host(uint16_t op, uint32_t handle, uint64_t offset, uint64_t arg, const void *in, uint32_t in_len,
		void *out, uint32_t out_len);       /* a mount request, waited for; buffers contiguous */
void io_host_async(uint16_t op, uint32_t handle, uint64_t offset, uint64_t arg, const void *in, uint32_t in_len,
		   void *out, uint32_t out_len, void (*fn)(void *arg, int64_t result), void *fn_arg);
void io_wait_zero(volatile int *flag);       /* until *flag is 0, taking completions */
int io_wait_zero_intr(volatile int *flag);   /* the same, or -EINTR when a signal is pending (the request goes on) */
void io_idle(void);
void io_check(void);                         /* take completions now, without waiting (their callbacks run) */

#endif
