# deps.mk: the sources each unit test links besides itself.
$(BUILD)/tests/test_fmt: guest/lib/fmt.c guest/lib/fmt.h
$(BUILD)/tests/test_chacha: guest/lib/chacha.c guest/lib/chacha.h
$(BUILD)/tests/test_kstring: guest/lib/kstring.c
$(BUILD)/tests/test_elf: guest/lib/elf.c guest/lib/elf.h
$(BUILD)/tests/test_ustack: guest/kernel/proc/ustack.c guest/kernel/proc/ustack.h
$(BUILD)/tests/test_virtq: virtio/virtq.c virtio/virtq.h
$(BUILD)/tests/test_hcall: vmm/hcall.c vmm/guestmem.c vmm/log.c
$(BUILD)/tests/test_iodev: vmm/iodev.c vmm/hostfs.c vmm/hostnet.c vmm/netpolicy.c vmm/size.c virtio/virtq.c vmm/guestmem.c vmm/log.c
$(BUILD)/tests/test_erofs: guest/lib/erofs.c guest/lib/erofs.h
$(BUILD)/tests/test_manifest: images/manifest.c images/sha256.c images/manifest.h
$(BUILD)/tests/test_cow: guest/kernel/mm/mm.c guest/kernel/mm/mm.h guest/kernel/mm/pmem.c tests/unit/kshim.c tests/unit/kshim.h
$(BUILD)/tests/test_sigframe: guest/kernel/proc/signal.c guest/kernel/proc/signal.h guest/kernel/proc/proc.h tests/unit/kshim.c tests/unit/kshim.h
# These compile guest kernel files on the host, over the fake memory of kshim.c.
$(BUILD)/tests/test_cow $(BUILD)/tests/test_sigframe: TEST_CFLAGS := -Iguest -DLBVM_HOST_TEST
$(BUILD)/tests/test_hostfs: vmm/iodev.c vmm/hostfs.c vmm/hostnet.c vmm/netpolicy.c vmm/size.c virtio/virtq.c vmm/guestmem.c vmm/log.c
# kvm_open_vm against a faked open(2): /dev/kvm missing, a regular file, and so on, with nothing under /dev touched.
$(BUILD)/tests/test_kvm: vmm/kvm.c
$(BUILD)/tests/test_kvm: TEST_CFLAGS := -Wl,--wrap=open,--wrap=open64
$(BUILD)/tests/test_seccomp: vmm/seccomp.c vmm/seccomp.h vmm/hostfs.c vmm/size.c vmm/log.c
$(BUILD)/tests/test_landlock: vmm/landlock.c vmm/landlock.h vmm/netpolicy.c vmm/hostfs.c vmm/size.c vmm/log.c
# test_landlock fakes a kernel without Landlock by wrapping syscall().
$(BUILD)/tests/test_landlock: TEST_CFLAGS := -Wl,--wrap=syscall
$(BUILD)/tests/test_fdt: vmm/bootfdt.c vmm/bootfdt.h guest/lib/fdt.c guest/lib/fdt.h guest/kernel/bootparams.c guest/kernel/bootparams.h
$(BUILD)/tests/test_hostile $(BUILD)/tests/test_hostile_fs $(BUILD)/tests/test_hostile_net: tests/unit/hostile.c tests/unit/hostile.h vmm/iodev.c vmm/hostfs.c vmm/hostnet.c vmm/netpolicy.c vmm/size.c virtio/virtq.c vmm/guestmem.c vmm/log.c
# The vCPU's first state in both CPU modes, computed without KVM.
$(BUILD)/tests/test_cpustate: vmm/cpustate.c vmm/cpustate.h
$(BUILD)/tests/test_netpolicy: vmm/netpolicy.c vmm/netpolicy.h vmm/log.c
