/* vcpu.c: the vCPU loop: run the guest, serve its few exits, and end the VM cleanly on anything unexpected. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include "hypercall/lbvm_abi.h"
#include "iodev.h"
#include "log.h"
#include "vm.h"

static int guest_error(struct vm *vm, const char *what)
{
	struct kvm_regs r;
	memset(&r, 0, sizeof(r));
	ioctl(vm->vcpu_fd, KVM_GET_REGS, &r);
	log_err("guest error: %s (rip %#llx); the VM was stopped", what, (unsigned long long)r.rip);
	return EXIT_LBVM_ERROR;
}

static int handle_io(struct vm *vm)
{
	struct kvm_run *run = vm->run;
	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.count != 1)
		return guest_error(vm, "port input or string I/O");
	if (run->io.port == LBVM_KICK_PORT) {
		iodev_kick(vm->io);
		return 0;
	}
	if (run->io.port != LBVM_HC_PORT || run->io.size != 4)
		return guest_error(vm, "write to an unknown I/O port");
	uint32_t nr;
	memcpy(&nr, (uint8_t *)run + run->io.data_offset, 4);
	struct kvm_regs r;
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0) {
		log_err("KVM_GET_REGS: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	uint64_t args[3] = { r.rdi, r.rsi, r.rdx }, ret = 0;
	/* Both hypercalls end the VM: let the guest's queued output reach the host first, in order. */
	vm->t_hcall = now_ns();
	if (iodev_quiesce(vm->io) < 0) {
		log_err("guest error: %s; the VM was stopped", iodev_error(vm->io));
		return EXIT_LBVM_ERROR;
	}
	hc_dispatch(vm, nr, args, &ret);
	if (vm->done)
		return vm->status;
	r.rax = ret;
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &r) < 0) {
		log_err("KVM_SET_REGS: %s", strerror(errno));
		return EXIT_LBVM_ERROR;
	}
	return 0;
}

int vcpu_run(struct vm *vm)
{
	for (;;) {
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_err("KVM_RUN: %s", strerror(errno));
			return EXIT_LBVM_ERROR;
		}
		int st = 0;
		switch (vm->run->exit_reason) {
		case KVM_EXIT_IO:
			st = handle_io(vm);
			break;
		case KVM_EXIT_HLT:
			if (iodev_wait_for_guest(vm->io) < 0) {
				log_err("guest error: %s; the VM was stopped", iodev_error(vm->io));
				return EXIT_LBVM_ERROR;
			}
			break;
		case KVM_EXIT_MMIO:
			st = guest_error(vm, vm->run->mmio.is_write ? "write to read-only or absent guest memory"
							       : "read of absent guest memory");
			break;
		case KVM_EXIT_SHUTDOWN:
			st = guest_error(vm, "triple fault");
			break;
		case KVM_EXIT_FAIL_ENTRY:
			st = guest_error(vm, "the vCPU could not enter the guest");
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			st = guest_error(vm, "KVM internal error (often an instruction KVM cannot emulate)");
			break;
		case KVM_EXIT_IRQ_WINDOW_OPEN:
		case KVM_EXIT_INTR:
			break;
		default:
			log_err("guest error: unexpected VM exit %u; the VM was stopped", vm->run->exit_reason);
			st = EXIT_LBVM_ERROR;
		}
		if (vm->done)
			return vm->status;
		if (st)
			return st;
	}
}
