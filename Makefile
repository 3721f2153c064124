# Makefile: builds build/lbvm (the VMM with the guest kernel embedded), the tests and the benchmarks.
CC       ?= gcc
BUILD    := build
COMMON   := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I.

# The guest kernel: freestanding, no red zone (entries push on the interrupted stack), no SSE
# (user FP state is never touched by the kernel), linked at -2 GiB.
GUEST_CFLAGS := $(COMMON) -ffreestanding -nostdlib -fno-builtin-printf -mno-red-zone -mno-sse -mno-mmx \
                -mno-sse2 -mno-avx -mcmodel=kernel -fno-pic -fno-pie -fno-stack-protector \
                -fno-asynchronous-unwind-tables -fcf-protection=none -Iguest
HOST_CFLAGS  := $(COMMON) -D_FILE_OFFSET_BITS=64 -fstack-protector-strong

# BROKEN=idt or BROKEN=gdt: a deliberately broken lbvm (the guest's page-fault gate, or the VMM's user code
# descriptor), built apart in build/broken-$(BROKEN) for make check-broken. Never the normal build/lbvm.
ifneq ($(BROKEN),)
ifeq ($(filter idt gdt,$(BROKEN)),)
$(error BROKEN=$(BROKEN): use BROKEN=idt or BROKEN=gdt)
endif
BUILD        := $(BUILD)/broken-$(BROKEN)
GUEST_CFLAGS += -DLBVM_TEST_BROKEN_$(shell echo $(BROKEN) | tr a-z A-Z)
HOST_CFLAGS  += -DLBVM_TEST_BROKEN_$(shell echo $(BROKEN) | tr a-z A-Z)
endif
HOST_LIBS    := -luring -lfdt -lpthread

# Both CPU modes' kernels are built and embedded; lbvm picks one at run time (vmm/kvm.c: kvm_detect_mode).
# The kernel above the cpu ops (guest/arch/cpu.h) is compiled once and linked into both.
GUEST_MODES := pvm ring0
GUEST_SRCS  := $(wildcard guest/kernel/*.c guest/kernel/*/*.c) $(wildcard guest/lib/*.c) virtio/virtq.c
GUEST_OBJS  := $(GUEST_SRCS:%.c=$(BUILD)/guest-obj/%.o) $(BUILD)/guest-obj/guest/vdso/vdso_blob.o
# The vDSO: user code (position independent, built as a tiny shared object) embedded in the kernel.
VDSO        := $(BUILD)/guest/vdso.so
VDSO_FLAGS  := -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -shared -nostdlib -fno-stack-protector \
               -fno-asynchronous-unwind-tables -fcf-protection=none -Wl,-T,guest/vdso/vdso.ld \
               -Wl,--version-script=guest/vdso/vdso.map -Wl,-soname=linux-vdso.so.1 -Wl,--hash-style=both \
               -Wl,-Bsymbolic -Wl,--no-undefined -Wl,-z,max-page-size=4096 -Wl,--build-id=none -Wl,-z,noexecstack
guest_arch_objs = $(patsubst %,$(BUILD)/guest-obj/%.o,$(basename $(wildcard guest/arch/$(1)/*.c guest/arch/$(1)/*.S)))
KERNELS     := $(GUEST_MODES:%=$(BUILD)/guest/kernel-%.elf)

# lbvm links statically: one self-contained file, and no dynamic loading on every cold start.
# Code shared by the VMM and the guest kernel, compiled for the host too.
SHARED_SRCS := guest/lib/elf.c guest/lib/erofs.c virtio/virtq.c
VMM_SRCS    := $(wildcard vmm/*.c) $(wildcard images/*.c) $(SHARED_SRCS)
VMM_OBJS    := $(VMM_SRCS:%.c=$(BUILD)/host-obj/%.o) $(BUILD)/host-obj/vmm/kernel_blob.o
LBVM        := $(BUILD)/lbvm

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
# The I/O device's fuzz harness without libFuzzer, replaying its kept corpus (gcc, no KVM): runs with the unit tests.
FUZZ_SMOKE := $(BUILD)/tests/fuzz-smoke-iodev
UNIT_TESTS += $(FUZZ_SMOKE)
IODEV_SRCS := vmm/iodev.c vmm/hostfs.c vmm/hostnet.c vmm/netpolicy.c vmm/size.c virtio/virtq.c vmm/guestmem.c vmm/log.c
E2E_PROGS  := $(patsubst tests/e2e/progs/%.c,$(BUILD)/e2e/%,$(wildcard tests/e2e/progs/*.c)) \
              $(BUILD)/e2e/args-glibc-pie $(BUILD)/e2e/auxv-glibc $(BUILD)/e2e/unix_dgram-glibc $(BUILD)/e2e/threads-glibc \
              $(BUILD)/e2e/procinfo-glibc $(BUILD)/e2e/epoll-glibc $(BUILD)/e2e/unix_timeo-glibc $(BUILD)/e2e/epoll_ident-glibc \
              $(BUILD)/e2e/groupstop-glibc $(BUILD)/e2e/clonefs-glibc $(BUILD)/e2e/goruntime \
              $(patsubst tests/e2e/dynprogs/%.c,$(BUILD)/e2e/dyn/%,$(wildcard tests/e2e/dynprogs/*.c))

SAMPLE_IMG := $(BUILD)/images/busybox.img

.PHONY: all deps run run-sample debian-image check check-broken unit e2e bench fuzz fuzz-corpus clean
all: $(LBVM)

deps:
	@scripts/install-deps

$(BUILD)/guest-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/guest-obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(VDSO): guest/vdso/vdso.c guest/vdso/vdso.h guest/vdso/vdso.ld guest/vdso/vdso.map
	@mkdir -p $(dir $@)
	$(CC) $(VDSO_FLAGS) -o $@ $<
$(BUILD)/guest-obj/guest/vdso/vdso_blob.o: guest/vdso/vdso_blob.S $(VDSO)
	@mkdir -p $(dir $@)
	$(CC) -DVDSO_SO='"$(VDSO)"' -c $< -o $@

$(BUILD)/guest/kernel-pvm.elf: $(GUEST_OBJS) $(call guest_arch_objs,pvm) guest/kernel.ld
$(BUILD)/guest/kernel-ring0.elf: $(GUEST_OBJS) $(call guest_arch_objs,ring0) guest/kernel.ld
$(KERNELS):
	@mkdir -p $(dir $@)
	$(LD) -nostdlib -static -z max-page-size=4096 -z noexecstack -T guest/kernel.ld -o $@ $(filter %.o,$^)

$(BUILD)/host-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/host-obj/vmm/kernel_blob.o: vmm/kernel_blob.S $(KERNELS)
	@mkdir -p $(dir $@)
	$(CC) -DKERNEL_PVM='"$(BUILD)/guest/kernel-pvm.elf"' -DKERNEL_RING0='"$(BUILD)/guest/kernel-ring0.elf"' -c $< -o $@

$(LBVM): $(VMM_OBJS)
	$(CC) -static -o $@ $(VMM_OBJS) $(HOST_LIBS)

# Unit tests: each test_X.c links the shared sources it exercises (listed in tests/unit/deps.mk).
include tests/unit/deps.mk
$(BUILD)/tests/%: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(TEST_CFLAGS) -Wno-unused-parameter -o $@ $< $(filter %.c,$(filter-out $<,$^)) -lcmocka $(HOST_LIBS)

$(FUZZ_SMOKE): tests/fuzz/fuzz_iodev.c tests/fuzz/replay.c $(IODEV_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DREPLAY_CORPUS='"tests/fuzz/iodev-corpus"' -o $@ $(filter %.c,$^) $(HOST_LIBS)

$(BUILD)/e2e/%: tests/e2e/progs/%.c
	@mkdir -p $(dir $@)
	musl-gcc -static -O2 -Wall -Werror -o $@ $<

# Dynamically linked glibc programs (PIE), run with the host's ld.so and libc copied into a tree (tests/e2e/dynamic.sh).
$(BUILD)/e2e/dyn/%: tests/e2e/dynprogs/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Werror -o $@ $<

# Other shapes of static program: glibc static-pie, glibc static.
$(BUILD)/e2e/args-glibc-pie: tests/e2e/progs/args.c
	$(CC) -static-pie -O2 -o $@ $<
$(BUILD)/e2e/auxv-glibc: tests/e2e/progs/auxv.c
	$(CC) -static -O2 -o $@ $<
$(BUILD)/e2e/unix_dgram-glibc: tests/e2e/progs/unix_dgram.c
	$(CC) -static -O2 -o $@ $<
$(BUILD)/e2e/threads-glibc: tests/e2e/progs/threads.c
	$(CC) -static -O2 -Wall -Werror -o $@ $< -lpthread
$(BUILD)/e2e/groupstop-glibc: tests/e2e/progs/groupstop.c
	$(CC) -static -O2 -Wall -Werror -o $@ $< -lpthread
$(BUILD)/e2e/clonefs-glibc: tests/e2e/progs/clonefs.c
	$(CC) -static -O2 -Wall -Werror -o $@ $< -lpthread
$(BUILD)/e2e/procinfo-glibc: tests/e2e/progs/procinfo.c
	$(CC) -static -O2 -o $@ $<
$(BUILD)/e2e/epoll-glibc: tests/e2e/progs/epoll.c
	$(CC) -static -O2 -o $@ $<
$(BUILD)/e2e/unix_timeo-glibc: tests/e2e/progs/unix_timeo.c
	$(CC) -static -O2 -Wall -Werror -o $@ $<
$(BUILD)/e2e/epoll_ident-glibc: tests/e2e/progs/epoll_ident.c
	$(CC) -static -O2 -Wall -Werror -o $@ $<

# The Go runtime's program (tests/e2e/go): static (CGO_ENABLED=0), the standard library only (no network), with
# Go's build cache inside build/.
GO_ENV := GOCACHE=$(abspath $(BUILD))/go/cache GOPATH=$(abspath $(BUILD))/go/path GO111MODULE=off GOFLAGS= GOPROXY=off CGO_ENABLED=0
$(BUILD)/e2e/goruntime: tests/e2e/go/main.go
	@mkdir -p $(dir $@)
	@command -v go >/dev/null || { echo "lbvm: $@ needs the Go compiler: run scripts/install-deps (it installs golang-go)" >&2; exit 1; }
	cd tests/e2e/go && $(GO_ENV) go build -o $(abspath $@) main.go

# The CPU-protection probe run by tests/vm/ring0-suite.sh (in both modes it must print progs/cpuprobe.expected).
$(BUILD)/vm/cpuprobe: tests/vm/progs/cpuprobe.c
	@mkdir -p $(dir $@)
	musl-gcc -static -O2 -Wall -Werror -o $@ $<

unit: $(UNIT_TESTS)
	@tests/run-unit.sh $(UNIT_TESTS)

e2e: $(LBVM) $(E2E_PROGS)
	@tests/e2e/run.sh $(LBVM) $(BUILD)/e2e

# Every test in every CPU mode this machine can give (tests/check.sh): the unit tests; the end-to-end suite natively
# (pvm on kvm-pvm, ring0 on VT-x/AMD-V; without /dev/kvm its checks that boot a VM are skipped, each by name); and the
# ring-0 suite inside QEMU's emulator with kvm_amd, on every machine. A summary line per mode, then one over all.
check: deps
	@$(MAKE) --no-print-directory all $(UNIT_TESTS) $(E2E_PROGS) $(BUILD)/vm/cpuprobe
	@tests/check.sh $(LBVM) $(BUILD) $(UNIT_TESTS)

# The tests can fail: lbvm built BROKEN=idt and BROKEN=gdt must fail test_cpustate and a subset of the end-to-end
# checks that the normal build passes (tests/broken.sh; ring 0: tests/vm/tcg-kvm.sh -- tests/broken.sh build).
check-broken:
	@$(MAKE) --no-print-directory all $(BUILD)/tests/test_cpustate $(E2E_PROGS)
	@$(MAKE) --no-print-directory BROKEN=idt all
	@$(MAKE) --no-print-directory BROKEN=gdt all $(BUILD)/broken-gdt/tests/test_cpustate
	@tests/broken.sh $(BUILD)

# The sample image: Debian's busybox-static and its applet links, a small userland.
$(SAMPLE_IMG): $(LBVM) images/mktree-busybox.sh
	@mkdir -p $(dir $@)
	rm -rf $(BUILD)/images/busybox-tree
	images/mktree-busybox.sh $(BUILD)/images/busybox-tree
	$(LBVM) pack $(BUILD)/images/busybox-tree -o $@ --entry /bin/busybox --arg sh --workdir /

# A Debian bookworm image (debootstrap minbase + python3, gcc, perl, ...), not part of make run: the tree is built
# once into ~/.cache/lbvm (images/debian-tree.sh), and packed here.
DEBIAN_IMG := $(BUILD)/images/debian.img
debian-image: $(LBVM)
	@mkdir -p $(BUILD)/images
	tree=$$(images/debian-tree.sh) && $(LBVM) pack "$$tree" -o $(DEBIAN_IMG).new --entry /bin/bash --workdir /
	mv $(DEBIAN_IMG).new $(DEBIAN_IMG)

# make run: the sample in a VM. A host without /dev/kvm runs the same commands inside QEMU's emulator with kvm_amd
# (tests/vm/tcg-kvm.sh), so lbvm works on any machine. The real /dev/kvm decides; KVM_DEV is for testing this
# recipe only (make run KVM_DEV=/nonexistent), and is not read from the environment.
KVM_DEV := /dev/kvm
run: deps
	@$(MAKE) --no-print-directory all $(SAMPLE_IMG)
	@if [ -c $(KVM_DEV) ]; then $(MAKE) --no-print-directory run-sample; else \
		echo "this host has no /dev/kvm: running the sample inside QEMU's emulator with kvm_amd (slow start, ~3 s)"; \
		tests/vm/tcg-kvm.sh --timeout 600 -- $(MAKE) --no-print-directory run-sample; fi
run-sample:
	$(LBVM) inspect $(SAMPLE_IMG)
	$(LBVM) run $(SAMPLE_IMG) ls -l /bin
	$(LBVM) run $(SAMPLE_IMG) uname -a

# libFuzzer harnesses (clang from Debian): each runs FUZZ_SECONDS; new inputs go to build/, the kept
# corpora (the hostile images and the I/O device's seeds, both also run by make unit) stay as they are.
# fuzz_iodev plays a hostile guest against iodev and hostfs; its crash inputs go to build/fuzz/iodev-crashes/.
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/install-deps --fuzz
	@mkdir -p $(BUILD)/fuzz/erofs-corpus $(BUILD)/fuzz/manifest-corpus $(BUILD)/fuzz/fdt-corpus $(BUILD)/fuzz/iodev-corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_erofs.c guest/lib/erofs.c -o $(BUILD)/fuzz/fuzz_erofs
	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_manifest.c images/manifest.c -o $(BUILD)/fuzz/fuzz_manifest
	clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_fdt.c guest/lib/fdt.c guest/kernel/bootparams.c -o $(BUILD)/fuzz/fuzz_fdt
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I. -D_FILE_OFFSET_BITS=64 tests/fuzz/fuzz_iodev.c $(IODEV_SRCS) -luring -lpthread -o $(BUILD)/fuzz/fuzz_iodev
	$(BUILD)/fuzz/fuzz_erofs -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/erofs-corpus tests/unit/erofs-corpus
	$(BUILD)/fuzz/fuzz_manifest -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/manifest-corpus
	@$(MAKE) --no-print-directory $(BUILD)/tests/test_fdt && LBVM_FDT_DUMP=$(BUILD)/fuzz/fdt-corpus/boot.dtb $(BUILD)/tests/test_fdt >/dev/null
	$(BUILD)/fuzz/fuzz_fdt -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/fdt-corpus
	@mkdir -p $(BUILD)/fuzz/iodev-crashes
	$(BUILD)/fuzz/fuzz_iodev -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=3 -rss_limit_mb=4096 \
		-artifact_prefix=$(BUILD)/fuzz/iodev-crashes/ $(BUILD)/fuzz/iodev-corpus tests/fuzz/iodev-corpus

# The I/O device's seed corpus: well-formed requests of each kind and a few hostile shapes, written by a generator.
fuzz-corpus:
	@mkdir -p $(BUILD)/fuzz tests/fuzz/iodev-corpus
	$(CC) $(HOST_CFLAGS) -o $(BUILD)/fuzz/gen_iodev_corpus tests/fuzz/gen_iodev_corpus.c
	$(BUILD)/fuzz/gen_iodev_corpus tests/fuzz/iodev-corpus

# make bench: the workloads under each peer and lbvm, then issue 12's Debian programs (tests/bench/debian.sh);
# rewrites the tables in docs/benchmarks.md and the chart docs/bench-coldstart.png. It never fails the build:
# what cannot run gets a cell saying why.
bench:
	@scripts/install-deps --bench || echo "bench: some packages could not be installed; their cells will say so" >&2
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory debian-image || echo "bench: no Debian image; its rows will say why" >&2
	@DOC=docs/benchmarks.md CHART=docs/bench-coldstart.png DEBIAN_IMG=$(DEBIAN_IMG) tests/bench/run.sh $(LBVM) $(BUILD)/bench

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
