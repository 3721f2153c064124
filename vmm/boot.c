/* boot.c: load the embedded guest kernel, build the boot page tables and the boot FDT, set the vCPU's first state. */
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
#include "log.h"
#include "hostfs.h"
#include "vm.h"

/* Both CPU modes' kernels are embedded (kernel_blob.S); the host's KVM decides which one boots. */
extern const uint8_t lbvm_kernel_pvm_start[], lbvm_kernel_pvm_end[];
extern const uint8_t lbvm_kernel_ring0_start[], lbvm_kernel_ring0_end[];

#define PTE_P  1ull
#define PTE_W  2ull
#define PTE_U  4ull   /* kvm-pvm wants U on every present entry; in ring 0 the kernel's pages are supervisor-only */
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)

#define MSR_IA32_TSC       0x10
#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_SYSCALL_MASK   0xc0000084
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_PVM_VIF        0x4b564d10
#define PVM_VIF_FLAGS      0x7full  /* KPTI pair, GS swaps, int 0x19/0x17 returns, CR2 in the vIF page */
#define PVM_VIF_START_SUPERVISOR 0x400ull

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

static void build_page_tables(struct vm *vm, uint64_t gpa_top)
{
	uint64_t *pml4 = gpa(vm, LBVM_GPA_PML4, 4096);
	uint64_t *pdpt_k = gpa(vm, LBVM_GPA_PDPT_KTEXT, 4096);
	uint64_t *pd_k = gpa(vm, LBVM_GPA_PD_KTEXT, 4096);
	uint64_t *pdpt_d = gpa(vm, LBVM_GPA_PDPT_DMAP, 4096);
	const uint64_t f = PTE_P | PTE_W | (vm->cpu_mode == LBVM_CPU_PVM ? PTE_U : 0);

	pml4[511] = LBVM_GPA_PDPT_KTEXT | f;
	pdpt_k[510] = LBVM_GPA_PD_KTEXT | f;
	for (uint64_t i = 0; i < 512 && (i << 21) < vm->gm.ram_size; i++)
		pd_k[i] = (i << 21) | f | PTE_PS;

	pml4[LBVM_DMAP_SLOT] = LBVM_GPA_PDPT_DMAP | f;
	uint64_t gib = (gpa_top + (1ull << 30) - 1) >> 30;
	for (uint64_t g = 0; g < gib; g++) {
		uint64_t pd_gpa = LBVM_GPA_PD_DMAP + g * 4096;
		uint64_t *pd = gpa(vm, pd_gpa, 4096);
		pdpt_d[g] = pd_gpa | f;
		for (uint64_t i = 0; i < 512; i++) {
			uint64_t pa = (g << 30) | (i << 21);
			int in_ram = pa < vm->gm.ram_size;
			int in_ro = pa >= vm->ro_gpa && pa < vm->ro_gpa + vm->ro_slot_size;
			if (in_ram || in_ro)
				pd[i] = pa | f | PTE_PS | PTE_NX;
		}
	}
}

static void build_gdt_tss(struct vm *vm)
{
	uint64_t *gdt = gpa(vm, LBVM_GPA_GDT, 4096);
	gdt[LBVM_SEL_KCS >> 3] = 0x00af9b000000ffffull;
	gdt[LBVM_SEL_KDS >> 3] = 0x00cf93000000ffffull;
	gdt[LBVM_SEL_UCS32 >> 3] = 0x00cffb000000ffffull;
	gdt[LBVM_SEL_UDS >> 3] = 0x00cff3000000ffffull;
	gdt[LBVM_SEL_UCS >> 3] = 0x00affb000000ffffull;
	uint64_t tss = LBVM_KTEXT_BASE + LBVM_GPA_TSS;
	gdt[LBVM_SEL_TSS >> 3] = 0x67 | ((tss & 0xffffff) << 16) | (0x8bull << 40) | (((tss >> 24) & 0xff) << 56);
	gdt[(LBVM_SEL_TSS >> 3) + 1] = tss >> 32;
	uint8_t *t = gpa(vm, LBVM_GPA_TSS, 0x68);
	uint16_t iomap = 0x68;
	memcpy(t + 0x66, &iomap, 2);
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

#define CR4_UMIP (1ull << 11)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)

/*
 * Ring 0's protections where the CPU offers them: SMEP and SMAP (the kernel
 * never executes or touches a user address: user memory is reached through
 * the direct map, so SMAP needs no stac/clac), and UMIP (sgdt and friends
 * from user mode fault).
 */
static uint64_t ring0_cr4(const struct kvm_cpuid2 *c)
{
	uint64_t cr4 = 0;
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function != 7 || e->index != 0)
			continue;
		if (e->ebx & (1u << 7))
			cr4 |= CR4_SMEP;
		if (e->ebx & (1u << 20))
			cr4 |= CR4_SMAP;
		if (e->ecx & (1u << 2))
			cr4 |= CR4_UMIP;
	}
	return cr4;
}

static int set_cpu_state(struct vm *vm)
{
	struct { struct kvm_cpuid2 h; struct kvm_cpuid_entry2 e[128]; } cpuid = { .h.nent = 128 };
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0 || ioctl(vm->vcpu_fd, KVM_SET_CPUID2, &cpuid) < 0) {
		log_err("KVM_SET_CPUID2: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	struct kvm_sregs sr;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sr) < 0) {
		log_err("KVM_GET_SREGS: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = LBVM_SEL_KCS, .type = 0xb,
				    .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment data = code;
	data.selector = LBVM_SEL_KDS;
	data.type = 0x3;
	data.l = 0;
	data.db = 1;
	struct kvm_segment unusable = { .unusable = 1 };
	sr.cs = code;
	sr.ss = data;
	sr.ds = sr.es = sr.fs = sr.gs = unusable;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.selector = LBVM_SEL_TSS;
	sr.tr.base = LBVM_KTEXT_BASE + LBVM_GPA_TSS;
	sr.tr.limit = 0x67;
	sr.tr.type = 0xb;
	sr.tr.present = 1;
	memset(&sr.ldt, 0, sizeof(sr.ldt));
	sr.ldt.unusable = 1;
	sr.gdt.base = LBVM_KTEXT_BASE + LBVM_GPA_GDT;
	sr.gdt.limit = 0x4f;
	sr.idt.base = LBVM_KTEXT_BASE + LBVM_GPA_IDT;
	sr.idt.limit = 0xfff;
	sr.cr0 = 0x80050033;                                /* PG AM WP NE ET MP PE */
	sr.cr3 = LBVM_GPA_PML4;
	sr.cr4 = 0x20 | 0x200 | 0x400 | 0x10000 | 0x40000;  /* PAE OSFXSR OSXMMEXCPT FSGSBASE OSXSAVE */
	sr.efer = 0xd01;                                    /* SCE LME LMA NXE */
	if (vm->cpu_mode == LBVM_CPU_RING0) {
		sr.cr4 |= ring0_cr4(&cpuid.h);
		log_info("ring0: SMEP %s, SMAP %s, UMIP %s", sr.cr4 & CR4_SMEP ? "on" : "off (not offered)",
			 sr.cr4 & CR4_SMAP ? "on" : "off (not offered)", sr.cr4 & CR4_UMIP ? "on" : "off (not offered)");
	}
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sr) < 0) {
		log_err("KVM_SET_SREGS: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	/* x87, SSE and AVX state on, so the program may use what CPUID reports. */
	struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs = { { .xcr = 0, .value = 7 } } };
	if (ioctl(vm->vcpu_fd, KVM_SET_XCRS, &xcrs) < 0)
		log_warn("KVM_SET_XCRS: %s; the program will not use AVX", strerror(errno));

	uint32_t idx[] = { MSR_STAR, MSR_LSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE, MSR_GS_BASE, MSR_FS_BASE, MSR_PVM_VIF };
	uint64_t val[] = { 0x0023001000000000ull, vm->syscall_entry, 0x47700, 0, 0, 0,
			   LBVM_GPA_VIF | PVM_VIF_FLAGS | PVM_VIF_START_SUPERVISOR };
	if (kvm_set_msrs(vm, idx, val, vm->cpu_mode == LBVM_CPU_PVM ? 7 : 6))
		return EXIT_LBVM_ERROR;

	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = vm->kernel_entry;
	regs.rflags = 0x2;
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
		  (c->overlay ? LBVM_BOOT_OVERLAY : 0) | (c->image ? LBVM_BOOT_IMAGE : 0);
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
	build_page_tables(vm, gpa_top);
	build_gdt_tss(vm);
	err = set_cpu_state(vm);
	if (err)
		return err;

	return write_boot_fdt(vm);
}
