/* vm.h: one lbvm virtual machine: its KVM handles, memory, program, devices and outcome. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "guestmem.h"

/* lbvm's exit statuses, docker's conventions. */
#define EXIT_TIMEOUT 124      /* --timeout expired, as timeout(1) */
#define EXIT_LBVM_ERROR 125   /* lbvm itself failed, or the VM did */
#define EXIT_CANNOT_EXEC 126  /* PROG exists but cannot run here */
#define EXIT_NOT_FOUND 127    /* PROG does not exist */

struct vm_config {
	const char *prog;         /* PROG as the user gave it: argv[0] of the program */
	char *exe;                /* its absolute path (host or image): /proc/self/exe and AT_EXECFN */
	const char *cwd;          /* working directory in the guest */
	const char *image;        /* app image to run (EROFS), or NULL for a plain program */
	int argc;
	char **argv;              /* the program's argv, argv[0] included */
	int envc;
	char **envp;
	uint64_t mem;             /* guest RAM in bytes */
	int trace, verbose, overlay;
	struct mount_spec *mounts;  /* --mount, in order */
	unsigned nmounts;
	uint64_t timeout_ns;        /* --timeout: 0 for none */
	const struct net_policy *net;  /* --net */
};

struct iodev;
struct hostfs;
struct hostnet;
struct mount_spec;
struct net_policy;

struct vm {
	const struct vm_config *cfg;
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	struct guest_mem gm;
	uint32_t cpu_mode;        /* LBVM_CPU_* */
	/* The read-only file mapped right after RAM: the program, or the app image. */
	int ro_fd;
	const void *ro_map;
	uint64_t ro_size, ro_gpa, ro_slot_size;
	uint64_t kernel_entry, syscall_entry, kernel_end;
	uint64_t tsc_khz, boot_tsc;  /* the guest's clock anchor, as the boot FDT gave it */
	struct iodev *io;
	struct hostfs *hostfs;     /* --mount: the mounts and their handles, or NULL */
	struct hostnet *hostnet;   /* --net host or allow=: the VM's host sockets; NULL with --net none */
	/* outcome */
	int done;
	int status;               /* lbvm's exit status */
	struct {
		uint64_t total, doorbell, halt, tick;  /* exits to the VMM (KVM_RUN returns), for --verbose */
	} exits;
	/* timings for --verbose and make bench, in ns since start */
	uint64_t t_start, t_created, t_hcall, t_exit;
};

uint64_t now_ns(void);

/* kvm.c */
int kvm_open_vm(struct vm *vm);                  /* /dev/kvm, CPU mode, VM, memory, vCPU; 0 or an exit status */
int kvm_detect_mode(struct vm *vm);               /* reports the mode kvm_open_vm found; 0 */
int kvm_set_msrs(struct vm *vm, const uint32_t *idx, const uint64_t *val, int n);
int kvm_get_msr(struct vm *vm, uint32_t idx, uint64_t *val);

/* boot.c */
int boot_prepare(struct vm *vm);                  /* load the kernel, tables, boot FDT, vCPU state */

/* vcpu.c */
int vcpu_run(struct vm *vm);                      /* until the guest exits; returns lbvm's exit status */

/* hcall.c */
int hc_dispatch(struct vm *vm, uint32_t nr, const uint64_t args[3], uint64_t *ret);

/* main.c */
int vm_env_set(struct vm_config *c, const char *kv);

/* appimage.c */
struct image;
int appimage_prepare(struct vm *vm, struct vm_config *cfg, struct image *img, const char *entry,
		     int argc, char **argv, int nenv_cli, char **env_cli, int mem_given);

/* prog.c */
int prog_open(struct vm *vm, struct vm_config *cfg);  /* checks PROG; 0 or 126/127 */

#endif
