/* hcall.c: the hypercall dispatcher: a table indexed by the call number, each argument checked by its handler. */
#include <stdio.h>
#include <string.h>
#include "hypercall/lbvm_abi.h"
#include "log.h"
#include "vm.h"

static const char *const signames[] = {
	[1] = "SIGHUP", [2] = "SIGINT", [3] = "SIGQUIT", [4] = "SIGILL", [5] = "SIGTRAP", [6] = "SIGABRT",
	[7] = "SIGBUS", [8] = "SIGFPE", [9] = "SIGKILL", [10] = "SIGUSR1", [11] = "SIGSEGV", [12] = "SIGUSR2",
	[13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM", [16] = "SIGSTKFLT", [17] = "SIGCHLD",
	[18] = "SIGCONT", [19] = "SIGSTOP", [20] = "SIGTSTP", [21] = "SIGTTIN", [22] = "SIGTTOU", [23] = "SIGURG",
	[24] = "SIGXCPU", [25] = "SIGXFSZ", [26] = "SIGVTALRM", [27] = "SIGPROF", [28] = "SIGWINCH", [29] = "SIGIO",
	[30] = "SIGPWR", [31] = "SIGSYS",
};

static int hc_exit(struct vm *vm, const uint64_t a[3], uint64_t *ret)
{
	(void)ret;
	uint64_t st = a[0];
	if (st & ~(uint64_t)(LBVM_EXIT_SIGNALED | 0xff)) {
		log_err("guest error: exit hypercall with invalid status %#llx", (unsigned long long)st);
		vm->status = EXIT_LBVM_ERROR;
	} else if (st & LBVM_EXIT_SIGNALED) {
		unsigned sig = LBVM_EXIT_CODE(st);
		if (sig == 0 || sig > 64) {
			log_err("guest error: exit hypercall names signal %u", sig);
			vm->status = EXIT_LBVM_ERROR;
		} else {
			char name[16];
			if (sig < sizeof(signames) / sizeof(signames[0]) && signames[sig])
				snprintf(name, sizeof(name), "%s", signames[sig]);
			else
				snprintf(name, sizeof(name), "SIGRT%u", sig);
			log_err("%s: program killed by %s (fault address %#llx)", vm->cfg->prog, name, (unsigned long long)a[1]);
			vm->status = 128 + (int)sig;
		}
	} else {
		vm->status = (int)LBVM_EXIT_CODE(st);
	}
	vm->done = 1;
	return 0;
}

static int hc_panic(struct vm *vm, const uint64_t a[3], uint64_t *ret)
{
	(void)ret;
	char msg[257];
	uint64_t len = a[1] > 256 ? 256 : a[1];
	const char *p = gm_translate(&vm->gm, a[0], len);
	if (!p) {
		log_err("guest kernel panic (its message lies outside guest memory)");
	} else {
		memcpy(msg, p, len);  /* copy first: the guest could still change it */
		msg[len] = 0;
		/* No terminal controls from the guest: C0, DEL and C1 (0x80-0x9f, which some terminals obey). */
		for (uint64_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)msg[i];
			if (c < 32 || c == 127 || (c >= 0x80 && c <= 0x9f))
				msg[i] = '?';
		}
		log_err("guest kernel: %s", msg);
	}
	vm->status = EXIT_LBVM_ERROR;
	vm->done = 1;
	return 0;
}

typedef int (*hc_fn)(struct vm *, const uint64_t[3], uint64_t *);

static const hc_fn hc_table[LBVM_HC_COUNT] = {
	[LBVM_HC_EXIT] = hc_exit,
	[LBVM_HC_PANIC] = hc_panic,
};

int hc_dispatch(struct vm *vm, uint32_t nr, const uint64_t args[3], uint64_t *ret)
{
	if (nr >= LBVM_HC_COUNT || !hc_table[nr]) {
		log_err("guest error: unknown hypercall %u", nr);
		vm->status = EXIT_LBVM_ERROR;
		vm->done = 1;
		return -1;
	}
	return hc_table[nr](vm, args, ret);
}
