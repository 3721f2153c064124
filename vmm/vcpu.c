/* vcpu.c: the vCPU loop: run the guest, serve its few exits, and end the VM cleanly on anything unexpected. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include "hypercall/lbvm_abi.h"
#include "iodev.h"
#include "log.h"
#include "seccomp.h"
#include "vm.h"

static int guest_error(struct vm *vm, const char *what)
{
	struct kvm_regs r;
	memset(&r, 0, sizeof(r));
	ioctl(vm->vcpu_fd, KVM_GET_REGS, &r);
	log_err("guest error: %s (rip %#llx); the VM was stopped", what, (unsigned long long)r.rip);
	return EXIT_LBVM_ERROR;
}

/* The guest waits for an I/O completion: KVM_EXIT_HLT in pvm, a write to LBVM_HALT_PORT in ring 0. */
static int halt(struct vm *vm)
{
	vm->exits.halt++;
	if (iodev_wait_for_guest(vm->io) < 0) {
		log_err("guest error: %s; the VM was stopped", iodev_error(vm->io));
		return EXIT_LBVM_ERROR;
	}
	return 0;
}

static int handle_io(struct vm *vm)
{
	struct kvm_run *run = vm->run;
	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.count != 1)
		return guest_error(vm, "port input or string I/O");
	if (run->io.port == LBVM_KICK_PORT) {
		vm->exits.doorbell++;
		iodev_kick(vm->io);
		return 0;
	}
	if (run->io.port == LBVM_HALT_PORT && vm->cpu_mode == LBVM_CPU_RING0)
		return halt(vm);
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

/*
 * Preemption ticks, pvm only. The guest asks for them (want_tick in the
 * boot-info page) while more than one of its processes can run; a ticker
 * thread then kicks the vCPU out of KVM_RUN every LBVM_TICK_MS with a
 * signal, and the vCPU thread injects LBVM_TICK_VECTOR as soon as the guest
 * can take it. In ring 0 the guest's local APIC timer ticks inside KVM, and
 * none of this runs.
 */
static volatile sig_atomic_t tick_pending;
static volatile int in_guest;
static pthread_t vcpu_thread;

static void on_tick(int sig)
{
	(void)sig;
	tick_pending = 1;
}

static void *ticker(void *arg)
{
	struct vm *vm = arg;
	const volatile struct lbvm_boot_shared *bs = gm_translate(&vm->gm, LBVM_GPA_BOOT_SHARED, sizeof(*bs));
	struct timespec period = { 0, LBVM_TICK_MS * 1000000L };
	for (;;) {
		nanosleep(&period, NULL);
		if (in_guest && bs->want_tick)
			pthread_kill(vcpu_thread, SIGUSR1);
	}
	return NULL;
}

static int start_ticker(struct vm *vm)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;  /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		return -1;
	vcpu_thread = pthread_self();
	pthread_t t;
	if (pthread_create(&t, NULL, ticker, vm))
		return -1;
	pthread_detach(t);
	return 0;
}

static void inject_tick(struct vm *vm)
{
	if (!tick_pending)
		return;
	if (vm->run->ready_for_interrupt_injection) {
		struct kvm_interrupt irq = { .irq = LBVM_TICK_VECTOR };
		if (ioctl(vm->vcpu_fd, KVM_INTERRUPT, &irq) == 0)
			tick_pending = 0;
		vm->run->request_interrupt_window = 0;
	} else {
		vm->run->request_interrupt_window = 1;
	}
}

int vcpu_run(struct vm *vm)
{
	if (vm->cpu_mode == LBVM_CPU_PVM && start_ticker(vm) < 0)
		log_warn("cannot start the preemption ticker: %s; busy processes will not be preempted", strerror(errno));
	/* Set up is over: from here on the VMM needs only the few calls of its loops. */
	if (seccomp_confine(vm->vcpu_fd) < 0)
		return EXIT_LBVM_ERROR;
	for (;;) {
		inject_tick(vm);
		in_guest = 1;
		int r = ioctl(vm->vcpu_fd, KVM_RUN, 0);
		in_guest = 0;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* The ticker's signal took the vCPU out before it could exit on its own: an exit to the VMM all the same. */
				vm->exits.total++;
				vm->exits.tick++;
				continue;
			}
			log_err("KVM_RUN: %s", strerror(errno));
			return EXIT_LBVM_ERROR;
		}
		int st = 0;
		vm->exits.total++;
		switch (vm->run->exit_reason) {
		case KVM_EXIT_IO:
			st = handle_io(vm);
			break;
		case KVM_EXIT_HLT:
			st = halt(vm);
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
			vm->exits.tick++;
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
