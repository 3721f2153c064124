/* kvm.c: open /dev/kvm, find the CPU mode the host needs, create the VM (ring 0: with its local APIC), its memory slots and one vCPU. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "hypercall/lbvm_abi.h"
#include "log.h"
#include "vm.h"

#define MSR_PVM_SIGNATURE 0x4b564d11
#define PVM_SIGNATURE     0x4d5650

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int kvm_set_msrs(struct vm *vm, const uint32_t *idx, const uint64_t *val, int n)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[16];
	} m;
	if (n > 16)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = (uint32_t)n;
	for (int i = 0; i < n; i++) {
		m.e[i].index = idx[i];
		m.e[i].data = val[i];
	}
	int r = ioctl(vm->vcpu_fd, KVM_SET_MSRS, &m);
	if (r != n) {
		log_err("KVM_SET_MSRS: set %d of %d MSRs (stopped at %#x)", r, n, r >= 0 && r < n ? idx[r] : 0);
		return -EIO;
	}
	return 0;
}

int kvm_get_msr(struct vm *vm, uint32_t idx, uint64_t *val)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} m;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 1;
	m.e[0].index = idx;
	if (ioctl(vm->vcpu_fd, KVM_GET_MSRS, &m) != 1)
		return -EIO;
	*val = m.e[0].data;
	return 0;
}

static int create_vcpu(struct vm *vm)
{
	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0) {
		log_err("KVM_CREATE_VCPU: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	return 0;
}

/* The CPU mode this host's KVM needs: kvm-pvm answers its signature MSR; any other KVM is VT-x or AMD-V. */
static uint32_t detect_mode(struct vm *vm)
{
	uint64_t sig = 0;
	if (kvm_get_msr(vm, MSR_PVM_SIGNATURE, &sig) == 0 && sig == PVM_SIGNATURE)
		return LBVM_CPU_PVM;
	return LBVM_CPU_RING0;
}

int kvm_open_vm(struct vm *vm)
{
	/* What to do when this host has no usable KVM device. */
	const char *fix = "load kvm_intel or kvm_amd (modprobe), enable nested virtualization if this host is itself a VM, "
			  "or run lbvm on a kvm-pvm host";
	struct stat st;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		if (errno == ENOENT)
			log_err("/dev/kvm: missing: this host has no KVM; %s", fix);
		else if (errno == ENXIO || errno == ENODEV)
			log_err("/dev/kvm: %s: the KVM module is not loaded; %s", strerror(errno), fix);
		else if (errno == EACCES || errno == EPERM)
			log_err("/dev/kvm: permission denied: add your user to the 'kvm' group (sudo usermod -aG kvm $USER) or run as root");
		else if (errno == EISDIR)
			log_err("/dev/kvm: not a character device but a directory: remove it; then %s", fix);
		else
			log_err("/dev/kvm: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	if (fstat(vm->kvm_fd, &st) < 0) {
		log_err("/dev/kvm: fstat: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	/* A regular file there (left by a script that opened /dev/kvm for writing as root) opens fine: say so, not "API version -1". */
	if (!S_ISCHR(st.st_mode)) {
		log_err("/dev/kvm: not a character device but %s, perhaps left by a script that opened /dev/kvm for writing "
			"as root: remove it (rm /dev/kvm); then %s", S_ISREG(st.st_mode) ? "a regular file" : "some other kind of file", fix);
		return EXIT_LBVM_ERROR;
	}
	int ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		log_err("/dev/kvm: KVM API version %d, lbvm needs %d", ver, KVM_API_VERSION);
		return EXIT_LBVM_ERROR;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		log_err("KVM_CREATE_VM: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	int err = create_vcpu(vm);
	if (err)
		return err;
	vm->cpu_mode = detect_mode(vm);
	if (vm->cpu_mode == LBVM_CPU_RING0) {
		/*
		 * Ring 0 takes its preemption tick from the vCPU's own local APIC, which
		 * KVM emulates only in a VM that gets it before its first vCPU: the VM
		 * that told us the mode is left as it is (closing it would make the
		 * kernel tear it down now, on the cold-start path; lbvm's exit does
		 * it), and a fresh one with the APIC runs the guest. A split irqchip:
		 * the local APIC in the kernel, no PIC, I/O APIC or PIT for the guest
		 * to reach.
		 */
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
		if (vm->vm_fd < 0) {
			log_err("KVM_CREATE_VM: %s", strerror(errno));
			return EXIT_LBVM_ERROR;
		}
		struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 0 } };
		if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
			log_err("KVM_CAP_SPLIT_IRQCHIP: %s; the ring-0 mode needs KVM's in-kernel local APIC", strerror(errno));
			return EXIT_LBVM_ERROR;
		}
		err = create_vcpu(vm);
		if (err)
			return err;
	}

	/* Guest RAM: anonymous and untouched until used, so an idle page costs the host nothing. */
	vm->gm.ram_size = vm->cfg->mem;
	vm->gm.ram = mmap(NULL, vm->gm.ram_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->gm.ram == MAP_FAILED) {
		vm->gm.ram = NULL;
		log_err("--mem %llu MiB: cannot reserve guest memory: %s; try a smaller --mem",
			(unsigned long long)(vm->gm.ram_size >> 20), strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	madvise(vm->gm.ram, vm->gm.ram_size, MADV_DONTDUMP);
	struct kvm_userspace_memory_region ram = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = vm->gm.ram_size,
		.userspace_addr = (uint64_t)vm->gm.ram,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &ram) < 0) {
		log_err("KVM_SET_USER_MEMORY_REGION (RAM): %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	/* The program's bytes, or the image's: read-only to the guest, straight from the host page cache. */
	struct kvm_userspace_memory_region prog = {
		.slot = 1, .flags = KVM_MEM_READONLY, .guest_phys_addr = vm->ro_gpa,
		.memory_size = vm->ro_slot_size, .userspace_addr = (uint64_t)vm->ro_map,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &prog) < 0) {
		log_err("KVM_SET_USER_MEMORY_REGION (read-only program or image): %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}

	int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run)) {
		log_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	vm->run_size = (size_t)sz;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		log_err("mmap of the vCPU run area: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	return 0;
}

int kvm_detect_mode(struct vm *vm)
{
	/* kvm_open_vm found the mode: it had to, before the VM's vCPU (ring 0 needs the APIC first). */
	if (vm->cpu_mode == LBVM_CPU_PVM)
		log_info("CPU mode: pvm (this host's KVM is kvm-pvm; the guest kernel runs at hardware CPL 3)");
	else
		log_info("CPU mode: ring0 (VT-x/AMD-V; the guest kernel runs at hardware CPL 0)");
	return 0;
}
