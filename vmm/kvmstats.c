/*
 * kvmstats.c: what KVM counted inside the host kernel for our vCPU, read
 * from its binary statistics (KVM_GET_STATS_FD, Linux 5.14 and later).
 *
 * Most of a guest's exits never reach lbvm: a shadow-paging fill on kvm-pvm,
 * a page fault handed back to the guest, an emulated instruction. They cost
 * as much as the ones we see (~20 us each on kvm-pvm), so `--verbose` and
 * `make bench` show them. Opened before the seccomp filter, read once at the
 * end with read, already allowed. Nothing here is guest-controlled.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvmstats.h"
#include "log.h"
#include "vm.h"

static const char *const names[KS_N] = {
	[KS_EXITS] = "exits",
	[KS_PF_FIXED] = "pf_fixed",
	[KS_PF_GUEST] = "pf_guest",
	[KS_PF_EMULATE] = "pf_emulate",
	[KS_INSN_EMULATION] = "insn_emulation",
	[KS_HYPERCALLS] = "hypercalls",
	[KS_TLB_FLUSH] = "tlb_flush",
	[KS_HALT_EXITS] = "halt_exits",
	[KS_IRQ_INJECTIONS] = "irq_injections",
};

static int stats_fd = -1;
static int64_t where[KS_N];  /* each counter's file offset, or -1 when this KVM has none */

/* Fill where[] from the descriptors; 0, or -1 when the file is not what the header says. */
static int read_descriptors(int fd, const struct kvm_stats_header *h)
{
	size_t one = sizeof(struct kvm_stats_desc) + h->name_size;
	if (h->num_desc > 4096 || h->name_size > 4096 || h->name_size < 8)
		return -1;
	char *all = malloc(one * h->num_desc);
	if (!all)
		return -1;
	int err = pread(fd, all, one * h->num_desc, h->desc_offset) == (ssize_t)(one * h->num_desc) ? 0 : -1;
	for (uint32_t i = 0; !err && i < h->num_desc; i++) {
		const struct kvm_stats_desc *d = (const void *)(all + i * one);
		for (int k = 0; k < KS_N; k++)
			if (!strncmp(d->name, names[k], h->name_size) && d->size >= 1)
				where[k] = (int64_t)h->data_offset + d->offset;
	}
	free(all);
	return err;
}

int kvmstats_open(const struct vm *vm)
{
	for (int k = 0; k < KS_N; k++)
		where[k] = -1;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) <= 0)
		return -1;
	int fd = ioctl(vm->vcpu_fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return -1;
	struct kvm_stats_header h;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || read_descriptors(fd, &h) < 0) {
		close(fd);
		return -1;
	}
	stats_fd = fd;
	return 0;
}

/*
 * The file cannot seek (its llseek does nothing) and pread is outside the
 * seccomp allowlist, so the one read at the end starts where opening left
 * the file, at 0, and takes it up to the last counter we want.
 */
int kvmstats_read(uint64_t out[KS_N])
{
	if (stats_fd < 0)
		return -1;
	int64_t end = 0;
	for (int k = 0; k < KS_N; k++)
		if (where[k] >= 0 && where[k] + 8 > end)
			end = where[k] + 8;
	if (end <= 0 || end > (1 << 20))
		return -1;
	uint8_t *all = malloc((size_t)end);
	if (!all)
		return -1;
	int64_t got = 0;
	while (got < end) {
		ssize_t n = read(stats_fd, all + got, (size_t)(end - got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	for (int k = 0; k < KS_N; k++)
		out[k] = 0;
	for (int k = 0; k < KS_N && got == end; k++)
		if (where[k] >= 0)
			memcpy(&out[k], all + where[k], sizeof(out[k]));
	free(all);
	close(stats_fd);
	stats_fd = -1;
	return got == end ? 0 : -1;
}
