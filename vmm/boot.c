/* boot.c: load the embedded guest kernel, write the boot pages and the boot FDT, load the vCPU's first state (cpustate.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "hypercall/lbvm_abi.h"
#include "bootfdt.h"
#include "cpustate.h"
#include "log.h"
#include "hostfs.h"
#include "vm.h"

/* Both CPU modes' kernels are embedded (kernel_blob.S); the host's KVM decides which one boots. */
extern const uint8_t lbvm_kernel_pvm_start[], lbvm_kernel_pvm_end[];
extern const uint8_t lbvm_kernel_ring0_start[], lbvm_kernel_ring0_end[];

/* Minimal ELF64 views of the kernel image: it is ours, but checked like any input. */
struct ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static void *gpa(struct vm *vm, uint64_t addr, uint64_t len)
{
	return gm_translate(&vm->gm, addr, len);
}

static int load_kernel(struct vm *vm)
{
	int pvm = vm->cpu_mode == LBVM_CPU_PVM;
	const uint8_t *img = pvm ? lbvm_kernel_pvm_start : lbvm_kernel_ring0_start;
	uint64_t size = (uint64_t)(pvm ? lbvm_kernel_pvm_end - lbvm_kernel_pvm_start : lbvm_kernel_ring0_end - lbvm_kernel_ring0_start);
	const struct ehdr *eh = (const void *)img;
	int have_note = 0;
	if (size < sizeof(*eh) || memcmp(eh->ident, "\177ELF", 4) || eh->phentsize != sizeof(struct phdr) ||
	    eh->phoff > size || (uint64_t)eh->phnum * sizeof(struct phdr) > size - eh->phoff) {
		log_err("embedded guest kernel: not a valid ELF image (build problem: run 'make clean all')");
		return EXIT_LBVM_ERROR;
	}
	vm->kernel_end = LBVM_GPA_KERNEL;
	for (unsigned i = 0; i < eh->phnum; i++) {
		const struct phdr *ph = (const void *)(img + eh->phoff + i * sizeof(struct phdr));
		if (ph->offset > size || ph->filesz > size - ph->offset)
			goto bad;
		if (ph->type == 4 /* PT_NOTE */) {
			const uint8_t *p = img + ph->offset, *end = p + ph->filesz;
			while (end - p >= 12) {
				uint32_t namesz, descsz, type;
				memcpy(&namesz, p, 4);
				memcpy(&descsz, p + 4, 4);
				memcpy(&type, p + 8, 4);
				uint64_t name_len = (namesz + 3ull) & ~3ull, desc_len = (descsz + 3ull) & ~3ull;
				if ((uint64_t)(end - p) < 12 + name_len + desc_len)
					break;
				if (type == LBVM_NOTE_ABI && namesz == sizeof(LBVM_NOTE_NAME) &&
				    !memcmp(p + 12, LBVM_NOTE_NAME, namesz) && descsz == sizeof(struct lbvm_kernel_note)) {
					struct lbvm_kernel_note note;
					memcpy(&note, p + 12 + name_len, sizeof(note));
					if (note.abi_version != LBVM_ABI_VERSION) {
						log_err("embedded guest kernel speaks ABI %u, this lbvm speaks %u (build problem: run 'make clean all')",
							note.abi_version, LBVM_ABI_VERSION);
						return EXIT_LBVM_ERROR;
					}
					if (!(note.cpu_modes & vm->cpu_mode)) {
						log_err("embedded guest kernel was not built for this host's CPU mode");
						return EXIT_LBVM_ERROR;
					}
					vm->syscall_entry = note.syscall_entry;
					have_note = 1;
				}
				p += 12 + name_len + desc_len;
			}
		}
		if (ph->type != 1 /* PT_LOAD */)
			continue;
		uint64_t g = ph->vaddr - LBVM_KTEXT_BASE;
		if (ph->vaddr < LBVM_KTEXT_BASE || g < LBVM_GPA_KERNEL || ph->memsz > LBVM_KERNEL_MAX ||
		    g + ph->memsz > LBVM_GPA_KERNEL + LBVM_KERNEL_MAX || ph->filesz > ph->memsz)
			goto bad;
		uint8_t *dst = gpa(vm, g, ph->memsz);
		if (!dst) {
			log_err("--mem %llu MiB is too small for the guest kernel", (unsigned long long)(vm->gm.ram_size >> 20));
			return EXIT_LBVM_ERROR;
		}
		memcpy(dst, img + ph->offset, ph->filesz);
		/* the rest is bss: guest RAM is fresh anonymous memory, already zero */
		if (g + ph->memsz > vm->kernel_end)
			vm->kernel_end = g + ph->memsz;
	}
	if (!have_note) {
		log_err("embedded guest kernel has no lbvm ABI note (build problem: run 'make clean all')");
		return EXIT_LBVM_ERROR;
	}
	vm->kernel_entry = eh->entry;
	vm->kernel_end = (vm->kernel_end + 0xfff) & ~0xfffull;
	return 0;
bad:
	log_err("embedded guest kernel: malformed program headers (build problem: run 'make clean all')");
	return EXIT_LBVM_ERROR;
}

/* Terminal facts about one stdio fd, for the guest's TCGETS, TIOCGWINSZ and fstat. */
static void sample_tty(int fd, struct lbvm_tty *t)
{
	struct stat st;
	if (fstat(fd, &st) == 0)
		t->st_mode = st.st_mode;
	uint8_t tio[64];
	if (ioctl(fd, TCGETS, tio) == 0) {
		t->is_tty = 1;
		memcpy(t->termios, tio, sizeof(t->termios));
		struct winsize ws;
		if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
			t->ws_row = ws.ws_row;
			t->ws_col = ws.ws_col;
		}
	}
}

static void cpustate_input(const struct vm *vm, struct cpustate_in *in)
{
	memset(in, 0, sizeof(*in));
	in->cpu_mode = vm->cpu_mode;
	in->ram_size = vm->gm.ram_size;
	in->ro_gpa = vm->ro_gpa;
	in->ro_slot_size = vm->ro_slot_size;
	in->kernel_entry = vm->kernel_entry;
	in->syscall_entry = vm->syscall_entry;
}

/* The first state as cpustate.c computes it, loaded into the vCPU. */
static int set_cpu_state(struct vm *vm, const struct cpustate_in *in)
{
	struct { struct kvm_cpuid2 h; struct kvm_cpuid_entry2 e[128]; } cpuid = { .h.nent = 128 };
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0) {
		log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	cpustate_cpuid(&cpuid.h);
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, &cpuid) < 0) {
		log_err("KVM_SET_CPUID2: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	struct kvm_sregs sr;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sr) < 0) {
		log_err("KVM_GET_SREGS: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	cpustate_sregs(in, &cpuid.h, &sr);
	if (vm->cpu_mode == LBVM_CPU_RING0)
		log_info("ring0: SMEP %s, SMAP %s, UMIP %s", sr.cr4 & CR4_SMEP ? "on" : "off (not offered)",
			 sr.cr4 & CR4_SMAP ? "on" : "off (not offered)", sr.cr4 & CR4_UMIP ? "on" : "off (not offered)");
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sr) < 0) {
		log_err("KVM_SET_SREGS: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs = { { .xcr = 0, .value = CPUSTATE_XCR0 } } };
	if (ioctl(vm->vcpu_fd, KVM_SET_XCRS, &xcrs) < 0)
		log_warn("KVM_SET_XCRS: %s; the program will not use AVX", strerror(errno));

	uint32_t idx[CPUSTATE_MSRS_MAX];
	uint64_t val[CPUSTATE_MSRS_MAX];
	if (kvm_set_msrs(vm, idx, val, cpustate_msrs(in, idx, val)))
		return EXIT_LBVM_ERROR;

	struct kvm_regs regs;
	cpustate_regs(in, &regs);
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		log_err("KVM_SET_REGS: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	return 0;
}

/* The boot data: sampled here, written as a flattened device tree at LBVM_GPA_FDT (docs/abi.md). */
static int write_boot_fdt(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	struct lbvm_mount mounts[LBVM_MOUNTS_MAX];
	struct bootfdt b;
	memset(&b, 0, sizeof(b));
	b.cpu_mode = vm->cpu_mode;
	b.flags = (c->trace ? LBVM_BOOT_TRACE : 0) | (c->verbose ? LBVM_BOOT_VERBOSE : 0) |
		  (c->overlay ? LBVM_BOOT_OVERLAY : 0) | (c->image ? LBVM_BOOT_IMAGE : 0) |
		  (vm->hostnet ? LBVM_BOOT_NET : 0);
	b.ram_size = vm->gm.ram_size;
	b.kernel_end = vm->kernel_end;
	b.ro_gpa = vm->ro_gpa;
	b.ro_size = vm->ro_size;
	b.ioq_gpa = LBVM_GPA_IOQ;
	b.ioq_size = LBVM_IOQ_SIZE;
	b.exe = c->exe;
	b.cwd = c->cwd ? c->cwd : "/";
	b.argc = c->argc;
	b.argv = c->argv;
	b.envc = c->envc;
	b.envp = c->envp;
	b.nmounts = hostfs_count(vm->hostfs);
	if (b.nmounts > LBVM_MOUNTS_MAX) {
		log_err("more than %u mounts", LBVM_MOUNTS_MAX);
		return EXIT_LBVM_ERROR;
	}
	if (b.nmounts)
		hostfs_fill_table(vm->hostfs, mounts);
	b.mounts = mounts;
	for (int fd = 0; fd < (int)LBVM_STDIO_HANDLES; fd++)
		sample_tty(fd, &b.tty[fd]);
	if (getrandom(b.seed, sizeof(b.seed), 0) != (ssize_t)sizeof(b.seed)) {
		log_err("getrandom: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	int khz = ioctl(vm->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0) {
		log_err("KVM_GET_TSC_KHZ: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	b.tsc_khz = (uint64_t)khz;
	/* Anchor the guest's clocks: host time and the guest's TSC, read back to back. */
	struct timespec rt, mono;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	if (kvm_get_msr(vm, MSR_IA32_TSC, &b.boot_tsc)) {
		log_err("KVM_GET_MSRS (TSC): %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	b.realtime_ns = rt.tv_sec * 1000000000ll + rt.tv_nsec;
	b.monotonic_ns = mono.tv_sec * 1000000000ll + mono.tv_nsec;
	vm->tsc_khz = b.tsc_khz;
	vm->boot_tsc = b.boot_tsc;

	int err = bootfdt_build(gpa(vm, LBVM_GPA_FDT, LBVM_FDT_MAX), LBVM_FDT_MAX, &b);
	explicit_bzero(b.seed, sizeof(b.seed));
	if (err == -E2BIG || err == -ENOSPC) {
		log_err("arguments and environment take more than %llu KiB or %u entries; pass fewer or shorter ones",
			(unsigned long long)(LBVM_ARGS_MAX >> 10), LBVM_ARGV_MAX);
		return EXIT_LBVM_ERROR;
	}
	if (err) {
		log_err("boot data: cannot build the device tree (%s)", strerror(-err));
		return EXIT_LBVM_ERROR;
	}
	return 0;
}

int boot_prepare(struct vm *vm)
{
	int err = load_kernel(vm);
	if (err)
		return err;
	if (vm->kernel_end + (4ull << 20) > vm->gm.ram_size) {
		log_err("--mem %llu MiB leaves no memory for the program; use at least --mem %lluM",
			(unsigned long long)(vm->gm.ram_size >> 20), (unsigned long long)(LBVM_RAM_MIN >> 20));
		return EXIT_LBVM_ERROR;
	}
	uint64_t gpa_top = vm->ro_gpa + vm->ro_slot_size;
	if (gpa_top > (LBVM_DMAP_MAX_GIB << 30)) {
		log_err("--mem plus the program's size exceed %llu GiB of guest-physical space", (unsigned long long)LBVM_DMAP_MAX_GIB);
		return EXIT_LBVM_ERROR;
	}
	struct cpustate_in in;
	cpustate_input(vm, &in);
	uint8_t *low = gpa(vm, 0, CPUSTATE_LOW_SIZE);
	if (!low || cpustate_tables(&in, low)) {
		log_err("--mem and the program's size do not fit the guest's boot page tables");
		return EXIT_LBVM_ERROR;
	}
	err = set_cpu_state(vm, &in);
	if (err)
		return err;

	return write_boot_fdt(vm);
}
