/* prog.c: open PROG on the host, check it is an x86-64 ELF we can run (dynamic ones need --mount), and map it read-only for the guest. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "guest/lib/elf.h"
#include "log.h"
#include "vm.h"

#define PROG_MAX (1ull << 30)

/*
 * A dynamic program's interpreter and libraries are looked up inside the VM,
 * where the host's own are not: it runs only when --mount brings them in.
 */
static int prog_check_dynamic(struct vm *vm, struct vm_config *cfg, const char *path)
{
	struct elf_plan plan;
	const char *why = "unknown problem";
	if (elf_plan_dyn(vm->ro_map, vm->ro_size, 0x555555554000ull, &plan, &why)) {
		log_err("%s: malformed ELF program: %s", path, why);
		return EXIT_CANNOT_EXEC;
	}
	const char *interp = (const char *)vm->ro_map + plan.interp_off;
	if (cfg->nmounts)
		return 0;  /* the guest finds the interpreter in the mounts, or says it is missing */
	log_err("%s: dynamically linked (its interpreter is %s); a dynamic program needs an image or a --mount "
		"that holds its interpreter and libraries, e.g. lbvm run --mount /lib:/lib --mount /lib64:/lib64 %s, "
		"or link it statically (musl-gcc -static)", path, interp, path);
	return EXIT_CANNOT_EXEC;
}

int prog_open(struct vm *vm, struct vm_config *cfg)
{
	const char *path = cfg->prog;
	vm->ro_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (vm->ro_fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR) {
			log_err("%s: no such file; give the path of a static x86-64 program", path);
			return EXIT_NOT_FOUND;
		}
		log_err("%s: cannot open: %s", path, strerror(e));
		return EXIT_CANNOT_EXEC;
	}
	struct stat st;
	if (fstat(vm->ro_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_err("%s: not a regular file; give the path of a static x86-64 program", path);
		return EXIT_CANNOT_EXEC;
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > PROG_MAX) {
		log_err("%s: %s", path, st.st_size ? "larger than 1 GiB, which lbvm does not load" : "empty file, not an ELF program");
		return EXIT_CANNOT_EXEC;
	}
	cfg->exe = realpath(path, NULL);
	if (!cfg->exe) {
		log_err("%s: cannot resolve its path: %s", path, strerror(errno));
		return EXIT_CANNOT_EXEC;
	}
	vm->ro_size = (uint64_t)st.st_size;
	vm->ro_slot_size = (vm->ro_size + 0xfff) & ~0xfffull;
	/* Private and read-only: the guest sees the file's pages, and nothing it does reaches the file. */
	vm->ro_map = mmap(NULL, vm->ro_slot_size, PROT_READ, MAP_PRIVATE, vm->ro_fd, 0);
	if (vm->ro_map == MAP_FAILED) {
		vm->ro_map = NULL;
		log_err("%s: cannot map: %s", path, strerror(errno));
		return EXIT_CANNOT_EXEC;
	}
	struct elf_plan plan;
	const char *why = "unknown problem";
	int r = elf_plan(vm->ro_map, vm->ro_size, 0x555555554000ull, &plan, &why);
	switch (r) {
	case 0:
		return 0;
	case ELF_E_NOTELF:
		log_err("%s: not an ELF executable (%s); lbvm runs static x86-64 Linux programs", path, why);
		return EXIT_CANNOT_EXEC;
	case ELF_E_ARCH:
		log_err("%s: %s; lbvm runs x86-64 Linux programs", path, why);
		return EXIT_CANNOT_EXEC;
	case ELF_E_DYNAMIC:
		return prog_check_dynamic(vm, cfg, path);
	default:
		log_err("%s: malformed ELF program: %s", path, why);
		return EXIT_CANNOT_EXEC;
	}
}
