/* main.c: the lbvm command line: parse, run one VM, exit with the program's status. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "hypercall/lbvm_abi.h"
#include "hostfs.h"
#include "hostnet.h"
#include "netpolicy.h"
#include "iodev.h"
#include "kvmstats.h"
#include "images/image.h"
#include "landlock.h"
#include "log.h"
#include "seccomp.h"
#include "vm.h"
#include "size.h"

#define DEFAULT_MEM (512ull << 20)

static const char usage[] =
	"usage: lbvm run [OPTIONS] [--] PROG|IMAGE [ARGS...]\n"
	"       lbvm pack DIR -o IMAGE --entry /PATH [--arg A]... [--env K=V]... [--workdir DIR] [--mem SIZE]\n"
	"       lbvm inspect IMAGE\n"
	"\n"
	"Runs the static x86-64 Linux program PROG, or the app image IMAGE (an\n"
	"EROFS image made by lbvm pack), in its own KVM micro-VM under lbvm's\n"
	"library-OS kernel. Its stdin, stdout and stderr are lbvm's own. With an\n"
	"image, ARGS replace the manifest's arguments, and the image is the\n"
	"program's read-only root file system.\n"
	"\n"
	"run options:\n"
	"  --entry PATH   run PATH inside the image instead of the manifest's entry\n"
	"  --read-only    writes to the image's files fail with EROFS (/tmp stays\n"
	"                 writable); by default / is an overlay: changes land in\n"
	"                 guest memory and vanish with the VM, the image never changes\n"
	"  --mount HOSTDIR:GUESTDIR[:ro|:rw][:xdev][:max=SIZE]\n"
	"                 make the host directory HOSTDIR visible at GUESTDIR\n"
	"                 (repeatable, at most 16). ro (the default) refuses every\n"
	"                 write with EROFS; rw lets the program change it; xdev\n"
	"                 lets it cross into other file systems mounted below\n"
	"                 HOSTDIR; max=SIZE caps the bytes written to the mount\n"
	"                 (then EDQUOT). Symlinks are resolved inside the VM:\n"
	"                 nothing outside HOSTDIR is reachable through them\n"
	"  --net none|host|allow=ADDR[/LEN][:PORT]\n"
	"                 what the program may reach outside the VM. none (the\n"
	"                 default): nothing; TCP and UDP between its own processes\n"
	"                 over 127.0.0.1 and ::1 stay inside the VM. host: outbound\n"
	"                 TCP and UDP to any address, the host's own loopback\n"
	"                 included. allow=ADDR[/LEN][:PORT] (repeatable): outbound\n"
	"                 only there (IPv6 in brackets: allow=[::1]:443); anything\n"
	"                 else is refused with ECONNREFUSED (a line with --verbose).\n"
	"                 A loopback address goes to the host only when no socket of\n"
	"                 the VM listens there\n"
	"  --publish [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp]\n"
	"                 listen on the host (127.0.0.1 unless HOSTADDR says\n"
	"                 otherwise; IPv6 in brackets) and hand each connection to\n"
	"                 the program's listener on GUESTPORT (repeatable, at most\n"
	"                 16); a connection while nothing listens there is closed\n"
	"  --timeout DURATION\n"
	"                 stop the VM after DURATION (30s, 2m, 1h; a bare number\n"
	"                 is seconds) and exit with 124, as timeout(1) does\n"
	"  --mem SIZE     guest memory, bytes with an optional K, M or G suffix\n"
	"                 (default 512M, at least 16M, at most 8G)\n"
	"  --env K=V      add K=V to the program's environment (repeatable); the\n"
	"                 environment is PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:\n"
	"                 /usr/bin:/sbin:/bin and HOME=/ (never the host's), then the\n"
	"                 image's, then these\n"
	"  --allow-no-landlock\n"
	"                 run even on a kernel without Landlock (lbvm refuses to by\n"
	"                 default): the VMM's own file access is then confined by\n"
	"                 seccomp and its checks only (see docs/security.md)\n"
	"  --trace        report each guest syscall, with arguments and result, on stderr\n"
	"  --verbose      report the CPU mode and where the time went\n"
	"  -h, --help     this text\n"
	"  --version      lbvm's version and ABI\n"
	"\n"
	"exit status:\n"
	"  the program's own status when it exits\n"
	"  128+N  the program was killed by signal N (a line on stderr names it)\n"
	"  124    --timeout expired\n"
	"  125    lbvm failed, or the VM did (no KVM, bad option, guest error)\n"
	"  126    PROG cannot be executed (not an ELF, not x86-64, dynamically linked)\n"
	"  127    PROG, or the image's entry, does not exist\n";

#define ENV_MAX 4096

/* Add or replace K=V in the environment list, keeping first-seen order. 0, or -1 with a message. */
int vm_env_set(struct vm_config *c, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv) {
		log_err("--env %s: expected K=V with a non-empty K", kv);
		return -1;
	}
	size_t klen = (size_t)(eq - kv) + 1;
	for (int i = 0; i < c->envc; i++) {
		if (!strncmp(c->envp[i], kv, klen)) {
			c->envp[i] = (char *)kv;
			return 0;
		}
	}
	if (c->envc >= ENV_MAX) {
		log_err("--env %s: more than %d environment entries", kv, ENV_MAX);
		return -1;
	}
	c->envp[c->envc++] = (char *)kv;
	return 0;
}

/* --timeout: a thread that ends lbvm with 124 when the time is up, whatever the guest is doing. */
static void *timeout_thread(void *arg)
{
	const struct vm_config *c = arg;
	struct timespec ts = { (time_t)(c->timeout_ns / 1000000000ull), (long)(c->timeout_ns % 1000000000ull) };
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
	log_err("--timeout: %s ran longer than %.3f s; the VM was stopped (exit status 124)", c->prog,
		(double)c->timeout_ns / 1e9);
	_exit(EXIT_TIMEOUT);
	return NULL;
}

static int start_timeout(const struct vm_config *c)
{
	pthread_t t;
	int err = pthread_create(&t, NULL, timeout_thread, (void *)c);
	if (err) {
		log_err("--timeout: cannot start its thread: %s", strerror(err));
		return -1;
	}
	pthread_detach(t);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct vm_config cfg = { .mem = DEFAULT_MEM, .overlay = 1 };
	static char *envp[ENV_MAX], *env_cli[ENV_MAX];
	static struct mount_spec mounts[LBVM_MOUNTS_MAX];
	static struct net_policy net;
	cfg.mounts = mounts;
	cfg.net = &net;
	int nenv_cli = 0, mem_given = 0, allow_no_landlock = 0;
	const char *entry = NULL;
	cfg.envp = envp;
	vm_env_set(&cfg, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	vm_env_set(&cfg, "HOME=/");
	int i;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (!strcmp(a, "--mem") || !strcmp(a, "--env") || !strcmp(a, "--entry") || !strcmp(a, "--mount") ||
		    !strcmp(a, "--timeout") || !strcmp(a, "--net") || !strcmp(a, "--publish")) {
			if (i + 1 >= argc) {
				log_err("%s needs a value; see 'lbvm --help'", a);
				return EXIT_LBVM_ERROR;
			}
			const char *v = argv[++i];
			if (!strcmp(a, "--mem")) {
				if (size_parse(v, &cfg.mem)) {
					log_err("--mem %s: not a size; use e.g. --mem 256M or --mem 1G", v);
					return EXIT_LBVM_ERROR;
				}
				mem_given = 1;
			} else if (!strcmp(a, "--entry")) {
				entry = v;
			} else if (!strcmp(a, "--mount")) {
				if (cfg.nmounts >= LBVM_MOUNTS_MAX) {
					log_err("--mount %s: at most %u mounts", v, LBVM_MOUNTS_MAX);
					return EXIT_LBVM_ERROR;
				}
				if (hostfs_parse_spec(v, &mounts[cfg.nmounts]))
					return EXIT_LBVM_ERROR;
				cfg.nmounts++;
			} else if (!strcmp(a, "--net")) {
				if (netpolicy_parse(&net, v))
					return EXIT_LBVM_ERROR;
			} else if (!strcmp(a, "--publish")) {
				if (netpolicy_parse_publish(&net, v))
					return EXIT_LBVM_ERROR;
			} else if (!strcmp(a, "--timeout")) {
				if (duration_parse(v, &cfg.timeout_ns)) {
					log_err("--timeout %s: not a duration; use e.g. --timeout 30s, 2m or 1h", v);
					return EXIT_LBVM_ERROR;
				}
			} else {
				const char *eq = strchr(v, '=');
				if (!eq || eq == v || nenv_cli >= ENV_MAX) {
					log_err("--env %s: expected K=V with a non-empty K", v);
					return EXIT_LBVM_ERROR;
				}
				env_cli[nenv_cli++] = (char *)v;
			}
		} else if (!strcmp(a, "--allow-no-landlock")) {
			allow_no_landlock = 1;
		} else if (!strcmp(a, "--trace")) {
			cfg.trace = 1;
		} else if (!strcmp(a, "--read-only")) {
			cfg.overlay = 0;
		} else if (!strcmp(a, "--overlay")) {
			cfg.overlay = 1; /* the default; still accepted */
		} else if (!strcmp(a, "--verbose")) {
			cfg.verbose = 1;
			log_max = LOG_DEBUG;
		} else {
			log_err("unknown option %s; see 'lbvm --help'", a);
			return EXIT_LBVM_ERROR;
		}
	}
	if (i >= argc) {
		log_err("run: no program given; usage: lbvm run [OPTIONS] [--] PROG [ARGS...]");
		return EXIT_LBVM_ERROR;
	}
	struct vm vm = { .cfg = &cfg, .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1, .ro_fd = -1 };
	static struct image img;
	vm.t_start = now_ns();
	int st;
	if (image_is_erofs(argv[i])) {
		/* An app image: the manifest says what to run; the command line's ARGS replace its args. */
		cfg.image = cfg.prog = argv[i];
		st = appimage_prepare(&vm, &cfg, &img, entry, argc - i - 1, &argv[i + 1], nenv_cli, env_cli, mem_given);
		if (st)
			return st;
	} else {
		if (entry) {
			log_err("--entry %s: only an app image has entries; %s is a program", entry, argv[i]);
			return EXIT_LBVM_ERROR;
		}
		for (int k = 0; k < nenv_cli; k++)
			vm_env_set(&cfg, env_cli[k]);
		cfg.prog = argv[i];
		cfg.argv = &argv[i];
		cfg.argc = argc - i;
		st = prog_open(&vm, &cfg);
		if (st)
			return st;
	}
	if (cfg.mem < LBVM_RAM_MIN || cfg.mem > LBVM_RAM_MAX) {
		log_err("--mem %llu MiB: out of range; use between %lluM and %lluG",
			(unsigned long long)(cfg.mem >> 20), (unsigned long long)(LBVM_RAM_MIN >> 20),
			(unsigned long long)(LBVM_RAM_MAX >> 30));
		return EXIT_LBVM_ERROR;
	}
	cfg.mem &= ~((2ull << 20) - 1); /* whole 2 MiB pages in the kernel's direct map */
	vm.ro_gpa = cfg.mem;
	if (cfg.nmounts && hostfs_open(cfg.mounts, cfg.nmounts, &vm.hostfs))
		return EXIT_LBVM_ERROR;
	if ((net.mode != NET_NONE || net.npub) && hostnet_create(&net, &vm.hostnet)) {
		log_err("--net: out of memory for the socket table");
		return EXIT_LBVM_ERROR;
	}
	if (vm.hostnet && hostnet_listen(vm.hostnet))
		return EXIT_LBVM_ERROR;
	st = kvm_open_vm(&vm);
	if (!st)
		st = kvm_detect_mode(&vm);
	if (!st)
		st = boot_prepare(&vm);
	if (!st && iodev_create(&vm, &vm.io))
		st = EXIT_LBVM_ERROR;
	if (!st && cfg.verbose && kvmstats_open(&vm) < 0)
		log_info("this KVM gives no binary statistics: exits inside KVM are not counted");
	/* Setup has opened every file it needs: from here on, only the mounts' trees (Landlock), or nothing. */
	if (!st && landlock_confine(vm.hostfs, &net, allow_no_landlock) < 0)
		st = EXIT_LBVM_ERROR;
	if (!st && cfg.timeout_ns && start_timeout(&cfg))
		st = EXIT_LBVM_ERROR;
	if (!st && iodev_start(vm.io))
		st = EXIT_LBVM_ERROR;
	if (st)
		goto out;
	vm.t_created = now_ns();
	st = vcpu_run(&vm);
	vm.t_exit = now_ns();
	if (cfg.verbose) {
		/* Written by the guest: only figures to print, and each one checked for order. */
		const volatile struct lbvm_boot_shared *bs = gm_translate(&vm.gm, LBVM_GPA_BOOT_SHARED, sizeof(*bs));
		uint64_t t_kernel = bs->tsc_kernel_start, t_user = bs->tsc_user_start;
		double khz = (double)vm.tsc_khz;
		double boot_ms = t_kernel > vm.boot_tsc ? (double)(t_kernel - vm.boot_tsc) / khz : 0;
		double load_ms = t_user > t_kernel ? (double)(t_user - t_kernel) / khz : 0;
		struct iodev_stats ios;
		iodev_get_stats(vm.io, &ios);
		double run_ms = (double)(vm.t_hcall - vm.t_created) / 1e6 - boot_ms - load_ms;
		log_info("timing: VM creation %.3f ms, to kernel entry %.3f ms, kernel init + ELF load %.3f ms, "
			 "program run %.3f ms, output drain %.3f ms",
			 (double)(vm.t_created - vm.t_start) / 1e6, boot_ms, load_ms, run_ms,
			 (double)(vm.t_exit - vm.t_hcall) / 1e6);
		log_info("I/O: %llu requests (%llu on mounts), %llu doorbells, %llu writes, %llu bytes written",
			 (unsigned long long)ios.requests, (unsigned long long)ios.host_requests, (unsigned long long)ios.kicks,
			 (unsigned long long)ios.writes, (unsigned long long)ios.bytes_written);
		if (vm.hostnet)
			log_info("net: %llu requests, %llu host sockets made, %u still open",
				 (unsigned long long)ios.net_requests, (unsigned long long)hostnet_made(vm.hostnet),
				 hostnet_open_count(vm.hostnet));
		log_info("exits: %llu (doorbell %llu, halt %llu, tick or signal %llu, other %llu)",
			 (unsigned long long)vm.exits.total, (unsigned long long)vm.exits.doorbell,
			 (unsigned long long)vm.exits.halt, (unsigned long long)vm.exits.tick,
			 (unsigned long long)(vm.exits.total - vm.exits.doorbell - vm.exits.halt - vm.exits.tick));
		uint64_t ks[KS_N];
		if (kvmstats_read(ks) == 0)
			log_info("inside KVM: %llu exits in all (page faults: %llu filled by KVM, %llu given to the guest, "
				 "%llu emulated; %llu instructions emulated, %llu hypercalls, %llu TLB flushes, %llu halts, "
				 "%llu interrupts injected)",
				 (unsigned long long)ks[KS_EXITS], (unsigned long long)ks[KS_PF_FIXED],
				 (unsigned long long)ks[KS_PF_GUEST], (unsigned long long)ks[KS_PF_EMULATE],
				 (unsigned long long)ks[KS_INSN_EMULATION], (unsigned long long)ks[KS_HYPERCALLS],
				 (unsigned long long)ks[KS_TLB_FLUSH], (unsigned long long)ks[KS_HALT_EXITS],
				 (unsigned long long)ks[KS_IRQ_INJECTIONS]);
		struct rusage ru;
		if (getrusage(RUSAGE_SELF, &ru) == 0)
			log_info("memory: peak RSS %ld KiB (the VMM plus the guest memory it touched)", ru.ru_maxrss);
	}
out:
	/* The I/O thread may sit in a blocking stdin read: leave it to process exit rather than join it. */
	fflush(stdout);
	return st;
}

/* The reaper: it shares lbvm's memory and file table, outlives it, and so takes the teardown on its own exit. */
static int reaper(void *arg)
{
	pid_t parent = (pid_t)(intptr_t)arg;
	struct timespec ms = { 0, 1000000 };
	for (int i = 0; i < 2000 && getppid() == parent; i++)
		nanosleep(&ms, NULL);
	return 0;
}

/*
 * Tearing a VM down (KVM's VM, its memory, the io_uring) takes the kernel
 * about a millisecond, which would come after the program's status is known.
 * Hand the last references to a short-lived process so that lbvm's own exit,
 * which its caller waits for, does not wait for that work.
 */
static void defer_teardown(void)
{
	static char stack[16384] __attribute__((aligned(16)));
	fflush(NULL);
	/* The caller must see end-of-file on our stdio now, not when the reaper exits. */
	for (int fd = 0; fd < 3; fd++)
		close(fd);
	clone(reaper, stack + sizeof(stack), CLONE_VM | CLONE_FILES | CLONE_FS, (void *)(intptr_t)getpid());
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is an EPIPE for the guest, not a dead VMM */
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_LBVM_ERROR;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("lbvm 0.1 (guest ABI %u)\n", LBVM_ABI_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "pack"))
		return pack_main(argc - 2, argv + 2);
	if (!strcmp(argv[1], "inspect"))
		return inspect_main(argc - 2, argv + 2);
	if (!strcmp(argv[1], "seccomp-list")) {
		/* The VMM's system-call allowlist, as docs/security.md lists it. */
		seccomp_print(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "run")) {
		int st = cmd_run(argc - 2, argv + 2);
		defer_teardown();
		return st;
	}
	log_err("unknown command '%s'; see 'lbvm --help'", argv[1]);
	return EXIT_LBVM_ERROR;
}
