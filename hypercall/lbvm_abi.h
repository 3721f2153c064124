/* lbvm_abi.h: the one definition of everything that crosses the guest/host boundary. */
#ifndef LBVM_ABI_H
#define LBVM_ABI_H

#include <stdint.h>

/*
 * Version of this ABI. The guest kernel carries it in an ELF note
 * (LBVM_NOTE_NAME, type LBVM_NOTE_ABI); the VMM refuses a kernel whose
 * version differs. Bump on any change to this file.
 */
#define LBVM_ABI_VERSION 8u

#define LBVM_NOTE_NAME "lbvm"
#define LBVM_NOTE_ABI  0x4c42u /* desc: struct lbvm_kernel_note */

/* IN to the VMM: what the guest kernel declares about itself. */
struct lbvm_kernel_note {
	uint32_t abi_version;
	uint32_t cpu_modes;      /* LBVM_CPU_* bits the kernel was built for */
	uint64_t syscall_entry;  /* guest virtual address of the SYSCALL entry (MSR_LSTAR) */
};
_Static_assert(sizeof(struct lbvm_kernel_note) == 16, "kernel note size");

/* CPU modes (which cpu-ops the guest kernel runs on). */
#define LBVM_CPU_PVM   1u /* kvm-pvm: supervisor at hardware CPL 3, see docs/architecture.md */
#define LBVM_CPU_RING0 2u /* VT-x / AMD-V: supervisor at hardware CPL 0 */

/*
 * Guest-physical layout. RAM starts at GPA 0. The VMM fills the boot
 * pages; everything above LBVM_GPA_KERNEL belongs to the guest kernel.
 */
#define LBVM_PAGE_SIZE        4096ull
#define LBVM_GPA_BOOT_SHARED  0x1000ull   /* struct lbvm_boot_shared: the guest writes, the VMM reads */
#define LBVM_GPA_PML4         0x2000ull   /* boot page table; 8 KiB aligned (PVM KPTI pair) */
#define LBVM_GPA_PML4_USER    0x3000ull   /* user half of the pair: PML4 | 0x1000 */
#define LBVM_GPA_PDPT_KTEXT   0x4000ull   /* PML4[511]: the kernel image */
#define LBVM_GPA_PDPT_DMAP    0x5000ull   /* PML4[LBVM_DMAP_SLOT]: all guest-physical memory */
#define LBVM_GPA_PD_KTEXT     0x6000ull   /* 1 GiB of 2 MiB pages for the kernel image */
#define LBVM_GPA_VIF          0x7000ull   /* PVM virtual interrupt flag page */
#define LBVM_GPA_GDT          0x8000ull
#define LBVM_GPA_TSS          0x9000ull
#define LBVM_GPA_IDT          0xa000ull
#define LBVM_GPA_PD_DMAP      0x10000ull  /* LBVM_DMAP_MAX_GIB pages of PDs */
#define LBVM_DMAP_MAX_GIB     16ull
#define LBVM_GPA_IOQ          0x20000ull  /* the I/O virtqueue, LBVM_IOQ_BYTES */
#define LBVM_IOQ_SIZE         256u        /* descriptors */
#define LBVM_IOQ_BYTES        0x10000ull
#define LBVM_GPA_FDT          0x40000ull  /* the boot data: a flattened device tree, see docs/abi.md */
#define LBVM_FDT_MAX          0x50000ull  /* 320 KiB: the strings below and 64 KiB for the rest */
#define LBVM_ARGS_MAX         0x40000ull  /* 256 KiB: exe path, working directory, argv and envp strings */
#define LBVM_ARGV_MAX         4096u       /* argv plus envp entries */
#define LBVM_GPA_KERNEL       0x100000ull /* kernel image load address */
#define LBVM_KERNEL_MAX       0x1000000ull /* 16 MiB, image + bss (the VMM checks the ELF against it) */
#define LBVM_RAM_MIN          (16ull << 20)
#define LBVM_RAM_MAX          (8ull << 30)

/* Guest-virtual layout of the kernel. */
#define LBVM_KTEXT_BASE       0xffffffff80000000ull /* maps GPA 0 .. 1 GiB */
#define LBVM_DMAP_SLOT        510u
#define LBVM_DMAP_BASE        0xffffff0000000000ull /* maps all guest-physical memory */

/* Selectors (Linux layout; PVM fixes user CS 0x33 / SS 0x2b). */
#define LBVM_SEL_KCS   0x10
#define LBVM_SEL_KDS   0x18
#define LBVM_SEL_UCS32 0x23
#define LBVM_SEL_UDS   0x2b
#define LBVM_SEL_UCS   0x33
#define LBVM_SEL_TSS   0x40

/* ---- boot data: OUT from the VMM, a flattened device tree at LBVM_GPA_FDT ----
 * Built by vmm/bootfdt.c with libfdt, read once by the guest at boot with its
 * own checked reader (guest/lib/fdt.c). The node and property layout is in
 * docs/abi.md; integers are big-endian cells, as in every FDT. The constants
 * below are the values of its properties.
 */
#define LBVM_BOOT_TRACE   (1u << 0) /* /flags: --trace, the guest reports every syscall on stderr */
#define LBVM_BOOT_VERBOSE (1u << 1)
#define LBVM_BOOT_IMAGE   (1u << 2) /* the exe path names a file in /image, not the /program slot */
#define LBVM_BOOT_OVERLAY (1u << 3) /* --overlay: writes to the image's files land in a tmpfs layer in guest memory */
#define LBVM_BOOT_NET     (1u << 4) /* --net host or allow=, or --publish: the VMM takes LBVM_IO_NET_* requests (see below) */
#define LBVM_BOOT_FLAGS   0x1fu     /* every flag this ABI knows */

#define LBVM_STDIO_HANDLES 3u
#define LBVM_SEED_BYTES    32u      /* /chosen/rng-seed */
#define LBVM_TERMIOS_BYTES 36u      /* /stdio/<name>/termios: Linux struct termios (TCGETS layout) */

/* Terminal state of one stdio handle, sampled by the VMM at boot (/stdio/stdin, stdout, stderr). */
struct lbvm_tty {
	uint32_t is_tty;      /* 1: the host fd is a terminal */
	uint16_t ws_row, ws_col;
	uint8_t termios[LBVM_TERMIOS_BYTES];
	uint32_t st_mode;     /* file type and mode of the host fd, for fstat */
};
_Static_assert(sizeof(struct lbvm_tty) == 48, "lbvm_tty size");

/*
 * IN to the VMM: the guest writes these into the page at LBVM_GPA_BOOT_SHARED,
 * the VMM reads them (guest-controlled: only for --verbose figures and to
 * decide whether to send ticks).
 */
struct lbvm_boot_shared {
	uint64_t tsc_kernel_start;  /* guest TSC at the first C code of the kernel */
	uint64_t tsc_user_start;    /* program loaded, about to enter user mode */
	uint32_t want_tick;         /* pvm: nonzero while more than one process can run: preempt with ticks */
	uint32_t pad;
};
_Static_assert(sizeof(struct lbvm_boot_shared) == 24, "boot shared size");

/* ---- hypercalls ----
 * `out %eax, $LBVM_HC_PORT` with EAX = number, arguments in RDI, RSI, RDX.
 * The result, where there is one, comes back in RAX. Each one is an exit to
 * the VMM (~65 us here): none of them is on a hot path.
 */
/*
 * Preemption: vector LBVM_TICK_VECTOR every LBVM_TICK_MS milliseconds while
 * more than one of the guest's processes can run.
 * pvm: the VMM injects it while the guest runs (not halted) and asks for it
 *   with a nonzero want_tick in struct lbvm_boot_shared.
 * ring0: the guest's own local APIC timer (x2APIC, periodic) raises it,
 *   armed and stopped by the guest; the VMM gives the VM an in-kernel local
 *   APIC (KVM's split irqchip) and never injects.
 */
#define LBVM_TICK_VECTOR 0x20
#define LBVM_TICK_MS     10

#define LBVM_HC_PORT   0xe0 
#define LBVM_KICK_PORT 0xe8  /* `out %al`: the I/O queue doorbell */
/*
 * `out %al` (ring0 only): halt until the I/O queue has a completion for the
 * guest, what hlt does in pvm. With an in-kernel local APIC, KVM keeps a
 * hlt to itself and would never show it to the VMM, which is who knows when
 * completions arrive.
 */
#define LBVM_HALT_PORT 0xe9

enum lbvm_hcall {
	LBVM_HC_EXIT  = 1, /* RDI = status (LBVM_EXIT_*), RSI = signal fault address. No return. */
	LBVM_HC_PANIC = 2, /* RDI = GPA of message, RSI = length (<= 256). No return. */
	LBVM_HC_COUNT
};

/* Exit status: low byte = code or signal number, bit 8 = killed by that signal. */
#define LBVM_EXIT_SIGNALED 0x100u
#define LBVM_EXIT_CODE(st) ((st) & 0xffu)

/* ---- I/O: requests on the split virtqueue at ioq_gpa ----
 * A request is one descriptor chain:
 *   [struct lbvm_io_req, device-readable]
 *   [in: device-readable data (WRITE's bytes, a NAME), if the operation takes one]
 *   [out: device-writable data (READ's bytes, an attr), if the operation gives one]
 *   [struct lbvm_io_status, device-writable]
 * The used length is the number of bytes written into device-writable buffers.
 * Operations map to one io_uring opcode each where io_uring has one; the
 * rest (READDIR, READLINK, SETATTR, STATFS) are one system call each on the
 * VMM's I/O thread.
 */
enum lbvm_io_op {
	LBVM_IO_READ    = 1, /* IORING_OP_READ    from handle at offset (LBVM_IO_STREAM: current position) */
	LBVM_IO_WRITE   = 2, /* IORING_OP_WRITE   all bytes to handle; the VMM retries short writes */
	LBVM_IO_TIMEOUT = 3, /* IORING_OP_TIMEOUT completes after arg nanoseconds (relative) */
	/*
	 * Host directories (--mount). handle names a directory or node handle
	 * the VMM gave out; NAME is one path component (no '/', not "." or "..",
	 * 1..255 bytes) in the device-readable buffer. See docs/abi.md.
	 */
	LBVM_IO_LOOKUP   = 4,  /* in NAME; out lbvm_io_attr with a new node handle (openat2 O_PATH, statx) */
	LBVM_IO_OPEN     = 5,  /* in NAME; arg LBVM_OPEN_* | mode << 32; out lbvm_io_attr with a new file handle */
	LBVM_IO_CLOSE    = 6,  /* the handle goes (IORING_OP_CLOSE) */
	LBVM_IO_GETATTR  = 7,  /* out lbvm_io_attr (IORING_OP_STATX) */
	LBVM_IO_READDIR  = 8,  /* offset = cookie (0: start); out linux_dirent64 records (getdents64) */
	LBVM_IO_READLINK = 9,  /* out the target (readlinkat) */
	LBVM_IO_MKDIR    = 10, /* in NAME; arg mode (IORING_OP_MKDIRAT) */
	LBVM_IO_UNLINK   = 11, /* in NAME; arg 0 or LBVM_UNLINK_DIR (IORING_OP_UNLINKAT) */
	LBVM_IO_RENAME   = 12, /* in OLD NUL NEW; arg = new directory handle | renameat2 flags << 32 */
	LBVM_IO_SYMLINK  = 13, /* in TARGET NUL NAME (IORING_OP_SYMLINKAT) */
	LBVM_IO_LINK     = 14, /* in NAME: a hard link in directory arg to node handle (IORING_OP_LINKAT) */
	LBVM_IO_SETATTR  = 15, /* in lbvm_io_setattr (fchmodat2, fchownat, utimensat, ftruncate) */
	LBVM_IO_FSYNC    = 16, /* IORING_OP_FSYNC */
	LBVM_IO_FALLOCATE = 17, /* offset, arg = length (IORING_OP_FALLOCATE, mode 0) */
	LBVM_IO_STATFS   = 18, /* out lbvm_io_statfs (fstatfs) */
	LBVM_IO_STATAT   = 19, /* in NAME; out lbvm_io_attr without a handle (IORING_OP_STATX, no follow) */
	/*
	 * Host sockets (--net host / allow=, LBVM_BOOT_NET): connections that
	 * leave the VM. handle names a socket in the VMM's own table
	 * (0 .. LBVM_NET_MAX-1), not a mount handle. Without --net every one
	 * fails with ENOSYS and the ring cannot run their opcodes.
	 */
	LBVM_IO_NET_SOCKET   = 20, /* arg = LBVM_NET_TCP or LBVM_NET_UDP | family << 8; result: a new handle (IORING_OP_SOCKET) */
	LBVM_IO_NET_CONNECT  = 21, /* in lbvm_net_addr; checked against --net, else ECONNREFUSED (IORING_OP_CONNECT) */
	LBVM_IO_NET_SEND     = 22, /* in the bytes; arg 0 or LBVM_NET_DONTWAIT (IORING_OP_SEND, MSG_NOSIGNAL) */
	LBVM_IO_NET_RECV     = 23, /* out the bytes; arg 0 or LBVM_NET_DONTWAIT (IORING_OP_RECV) */
	LBVM_IO_NET_SHUTDOWN = 24, /* arg = SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2 (IORING_OP_SHUTDOWN) */
	LBVM_IO_NET_CLOSE    = 25, /* the handle goes: IORING_OP_SHUTDOWN (ends a RECV in flight), then IORING_OP_CLOSE */
	LBVM_IO_NET_ACCEPT   = 26, /* arg = guest port; out lbvm_net_addr (the peer); result: a new handle for the
				      next connection to the --publish host port for it (IORING_OP_ACCEPT); ENOENT: none */
	LBVM_IO_NET_SENDTO   = 27, /* UDP: in lbvm_net_addr then the datagram; checked as CONNECT (IORING_OP_SENDMSG) */
	LBVM_IO_NET_RECVFROM = 28, /* UDP: out lbvm_net_addr then room for a datagram from an address the policy
				      allows; others are dropped (IORING_OP_RECVMSG); result: the datagram's length */
	LBVM_IO_OP_COUNT
};

/* LBVM_IO_OPEN flags (the low 32 bits of arg). */
#define LBVM_OPEN_READ   1u
#define LBVM_OPEN_WRITE  2u
#define LBVM_OPEN_CREATE 4u   /* O_CREAT */
#define LBVM_OPEN_EXCL   8u   /* O_EXCL */
#define LBVM_OPEN_TRUNC  16u  /* O_TRUNC */
#define LBVM_UNLINK_DIR  1u   /* rmdir */

/* A host directory in the guest: the VMM opened it; in the boot FDT as /mounts/mount@N. */
#define LBVM_MOUNTS_MAX 16u
#define LBVM_MOUNT_RO   1u    /* every write is refused with EROFS by the VMM */
struct lbvm_mount {
	uint32_t root;            /* node handle of the mount's root directory */
	uint32_t flags;           /* LBVM_MOUNT_* */
	uint64_t dev;             /* st_dev the guest reports for the mount's files */
	char path[240];           /* absolute guest path, NUL-terminated, canonical */
};
_Static_assert(sizeof(struct lbvm_mount) == 256, "mount entry size");

/* What statx said about a node, and the handle LOOKUP/OPEN made (0 otherwise). */
struct lbvm_io_attr {
	uint32_t handle;
	uint32_t mode;
	uint64_t ino, size, blocks, nlink, rdev;
	uint32_t uid, gid;
	int64_t atime, mtime, ctime;        /* seconds */
	uint32_t atime_ns, mtime_ns, ctime_ns, blksize;
};
_Static_assert(sizeof(struct lbvm_io_attr) == 96, "io attr size");

#define LBVM_SETATTR_MODE  1u
#define LBVM_SETATTR_OWNER 2u
#define LBVM_SETATTR_SIZE  4u   /* handle must be a file handle opened for writing */
#define LBVM_SETATTR_ATIME 8u
#define LBVM_SETATTR_MTIME 16u
#define LBVM_TIME_NOW      ((int64_t)-1)  /* atime/mtime: the host's current time */
struct lbvm_io_setattr {
	uint32_t valid;           /* LBVM_SETATTR_* */
	uint32_t mode;            /* permission bits only */
	uint32_t uid, gid;
	uint64_t size;
	int64_t atime, mtime;     /* seconds or LBVM_TIME_NOW */
	uint32_t atime_ns, mtime_ns;
};
_Static_assert(sizeof(struct lbvm_io_setattr) == 48, "io setattr size");

struct lbvm_io_statfs {
	uint64_t type, bsize, blocks, bfree, bavail, files, ffree, namelen;
};
_Static_assert(sizeof(struct lbvm_io_statfs) == 64, "io statfs size");

/* LBVM_IO_NET_*: socket kinds, flags, and an address (the guest's copy is checked by the VMM). */
#define LBVM_NET_TCP      1u
#define LBVM_NET_UDP      2u
#define LBVM_NET_INET     2u    /* families: Linux's AF_INET, AF_INET6 */
#define LBVM_NET_INET6    10u
#define LBVM_NET_DONTWAIT 1u    /* SEND/RECV: EAGAIN rather than wait */
#define LBVM_NET_MAX      64u   /* host sockets open at once, per VM */
struct lbvm_net_addr {
	uint16_t family;          /* LBVM_NET_INET or LBVM_NET_INET6: the socket's own */
	uint16_t port;            /* host byte order, 1..65535 */
	uint32_t pad;             /* must be 0 */
	uint8_t addr[16];         /* INET: the first 4 bytes, the rest 0 */
};
_Static_assert(sizeof(struct lbvm_net_addr) == 24, "net addr size");

#define LBVM_IO_STREAM UINT64_MAX

/* Handles the guest may name. 0..2 are lbvm's own stdin, stdout, stderr; mount handles from LBVM_H_FIRST_HOST. */
#define LBVM_H_STDIN  0u
#define LBVM_H_STDOUT 1u
#define LBVM_H_STDERR 2u
#define LBVM_H_FIRST_HOST 16u
#define LBVM_H_MAX    8192u  /* handles open at once, per VM */

#define LBVM_IO_MAX_LEN (1u << 20) /* largest data buffer of one request */

struct lbvm_io_req {
	uint16_t op;     /* IN: enum lbvm_io_op */
	uint16_t flags;  /* IN: must be 0 */
	uint32_t handle; /* IN: LBVM_H_* */
	uint64_t offset; /* IN: file offset or LBVM_IO_STREAM */
	uint64_t arg;    /* IN: TIMEOUT: nanoseconds; else 0 */
};
_Static_assert(sizeof(struct lbvm_io_req) == 24, "io req size");

struct lbvm_io_status {
	int64_t result;  /* OUT: bytes transferred, or -errno (Linux values) */
};
_Static_assert(sizeof(struct lbvm_io_status) == 8, "io status size");

#endif
