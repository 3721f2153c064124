# deps.mk: the sources each unit test links besides itself.
$(BUILD)/tests/test_fmt: guest/lib/fmt.c guest/lib/fmt.h
$(BUILD)/tests/test_chacha: guest/lib/chacha.c guest/lib/chacha.h
$(BUILD)/tests/test_kstring: guest/lib/kstring.c
$(BUILD)/tests/test_elf: guest/lib/elf.c guest/lib/elf.h
$(BUILD)/tests/test_ustack: guest/kernel/ustack.c guest/kernel/ustack.h
$(BUILD)/tests/test_virtq: virtio/virtq.c virtio/virtq.h
$(BUILD)/tests/test_hcall: vmm/hcall.c vmm/guestmem.c vmm/log.c
$(BUILD)/tests/test_iodev: vmm/iodev.c vmm/hostfs.c vmm/size.c virtio/virtq.c vmm/guestmem.c vmm/log.c
$(BUILD)/tests/test_erofs: guest/lib/erofs.c guest/lib/erofs.h
$(BUILD)/tests/test_manifest: images/manifest.c images/sha256.c images/manifest.h
$(BUILD)/tests/test_cow: guest/kernel/mm.c guest/kernel/mm.h guest/kernel/pmem.c tests/unit/kshim.c tests/unit/kshim.h
$(BUILD)/tests/test_sigframe: guest/kernel/signal.c guest/kernel/signal.h guest/kernel/proc.h tests/unit/kshim.c tests/unit/kshim.h
# These compile guest kernel files on the host, over the fake memory of kshim.c.
$(BUILD)/tests/test_cow $(BUILD)/tests/test_sigframe: TEST_CFLAGS := -Iguest -DLBVM_HOST_TEST
$(BUILD)/tests/test_hostfs: vmm/iodev.c vmm/hostfs.c vmm/size.c virtio/virtq.c vmm/guestmem.c vmm/log.c
$(BUILD)/tests/test_hostile $(BUILD)/tests/test_hostile_fs: tests/unit/hostile.c tests/unit/hostile.h vmm/iodev.c vmm/hostfs.c vmm/size.c virtio/virtq.c vmm/guestmem.c vmm/log.c
