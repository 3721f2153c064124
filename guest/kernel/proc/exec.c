/* exec.c: replace a process's program: map it (and the dynamic linker it names) from the file system, build its stack, enter it. */
#include "arch/cpu.h"
#include "guest/lib/elf.h"
#include "proc.h"
#include "ustack.h"
#include "kernel/fs/vfs.h"

struct proc *current;

#define ARGV_MAX LBVM_ARGV_MAX

static const char *argv_ptrs[ARGV_MAX];
static const char *boot_exe;   /* the program lbvm was given, when there is no image */
static uint64_t hwcap;
static int exec_started;       /* the first program is running: its own failures are no longer the user's first view */
static uint8_t stack_image[LBVM_ARGS_MAX + 64 * 1024];

/* Pointers to the boot FDT's packed argv and envp strings (bootparams_parse counted and bounded them). */
static int parse_args(const char **argv, const char **envp)
{
	if ((uint64_t)boot.argc + boot.envc > ARGV_MAX)
		return -E2BIG;
	const char *p = boot.argv_strs;
	for (uint32_t i = 0; i < boot.argc; i++, p += strlen(p) + 1)
		argv[i] = p;
	p = boot.envp_strs;
	for (uint32_t i = 0; i < boot.envc; i++, p += strlen(p) + 1)
		envp[i] = p;
	return 0;
}

/* Where a program's bytes come from: the read-only prog slot, or a file of the image. */
struct prog_src {
	const uint8_t *img;        /* all of it, contiguous in kernel memory */
	uint64_t size;
	struct vnode *vn;          /* the image file, or NULL for the prog slot */
	uint64_t copy_pa, copy_n;  /* pages holding a copy of the file, given back once it is loaded */
};

static void src_close(struct prog_src *src)
{
	for (uint64_t i = 0; i < src->copy_n; i++)
		pmem_free(src->copy_pa + i * PAGE_SIZE);
	src->copy_n = 0;
	vn_put(src->vn);
	src->vn = NULL;
}

/* The guest-physical page holding file bytes [off, off + 4 KiB), if it can be mapped as it is. */
static uint64_t src_page_gpa(const struct prog_src *src, uint64_t off)
{
	if (src->vn)
		return src->vn->ops->page_gpa ? src->vn->ops->page_gpa(src->vn, off) : 0;
	return off < ALIGN_UP(boot.prog_size, PAGE_SIZE) ? boot.prog_gpa + off : 0;
}

static int load_segment(struct mm *mm, const struct elf_seg *s, const struct prog_src *src)
{
	const uint8_t *img = src->img;
	uint64_t lo = ALIGN_DOWN(s->vaddr, PAGE_SIZE), hi = ALIGN_UP(s->vaddr + s->memsz, PAGE_SIZE);
	uint32_t prot = (s->prot & ELF_PROT_R ? PROT_READ : 0) | (s->prot & ELF_PROT_W ? PROT_WRITE : 0) |
			(s->prot & ELF_PROT_X ? PROT_EXEC : 0);
	/*
	 * A page shared with the previous segment keeps its mapping and bytes; it
	 * gets both segments' rights, and this segment's bytes are written into it.
	 */
	struct vma *prev = mm_find(mm, lo);
	int err = 0;
	if (prev) {
		err = mm_protect(mm, lo, PAGE_SIZE, prev->prot | prot);
		if (!err && hi > lo + PAGE_SIZE)
			err = mm_map(mm, lo + PAGE_SIZE, hi - lo - PAGE_SIZE, prot, 0, 0);
	} else {
		err = mm_map(mm, lo, hi - lo, prot, 0, 0);
	}
	if (err)
		return err;
	/* Read-only pages come straight from the program's bytes: no copy, shared with the host page cache. */
	if (!(s->prot & ELF_PROT_W) && s->memsz == s->filesz && !prev) {
		uint64_t file_lo = s->offset - (s->vaddr - lo);
		int direct = 1;
		for (uint64_t va = lo; va < hi && direct; va += PAGE_SIZE)
			direct = src_page_gpa(src, file_lo + (va - lo)) != 0;
		for (uint64_t va = lo; va < hi && direct; va += PAGE_SIZE) {
			err = mm_map_phys(mm, va, src_page_gpa(src, file_lo + (va - lo)), prot);
			if (err)
				return err;
		}
		if (direct)
			return 0;
	}
	/*
	 * Writable or partly zero-filled: private copies of whole file pages, as
	 * a file mapping would show them, except that a page shared with the
	 * previous segment keeps that segment's bytes below this one's start.
	 */
	uint64_t first = prev ? s->vaddr : lo;
	for (uint64_t va = lo; va < hi; va += PAGE_SIZE) {
		uint64_t seg_lo = va < first ? first : va;
		uint64_t seg_hi = va + PAGE_SIZE < s->vaddr + s->filesz ? va + PAGE_SIZE : s->vaddr + s->filesz;
		if (seg_hi > seg_lo)
			err = mm_page_write(mm, va, img + s->offset + seg_lo - s->vaddr, seg_lo - va, seg_hi - seg_lo);
		else
			err = mm_page_write(mm, va, img, 0, 0);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The entry program inside the image: a regular, executable file whose bytes
 * the ELF parser can see in one piece, straight from the image when its data
 * is contiguous there, else copied once into contiguous pages.
 */
static int src_open_image(struct prog_src *src, const char *path, char *canon)
{
	struct vnode *vn;
	int err = vfs_resolve(AT_FDCWD, path, 1, &vn, canon);
	if (err)
		return err;
	if (!S_ISREG(vn->mode) || !(vn->mode & 0111) || !vn->ops->kread) {
		vn_put(vn);
		return -EACCES;
	}
	src->copy_n = 0;
	struct kstat st;
	vfs_stat(vn, &st);
	src->vn = vn;
	src->size = st.size;
	uint64_t img_off, len;
	if (st.size && vn->has_lower && !vn->upper && !erofs_map(&image_fs, &vn->ei, 0, &img_off, &len) &&
	    len == st.size) {
		src->img = (const uint8_t *)pa_to_kva(boot.image_gpa) + img_off;
		return 0;
	}
	uint64_t n = ALIGN_UP(st.size, PAGE_SIZE) / PAGE_SIZE;
	uint64_t pa = n ? pmem_alloc_contig(n) : 0;
	if (!pa) {
		src_close(src);
		return st.size ? -ENOMEM : -ENOEXEC;
	}
	src->copy_pa = pa;
	src->copy_n = n;
	uint8_t *buf = pa_to_kva(pa);
	if (vn->ops->kread(vn, buf, st.size, 0) != (long)st.size) {
		src_close(src);
		return -EIO;
	}
	src->img = buf;
	return 0;
}

static uint64_t cpu_hwcap(void)
{
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return d;
}

/*
 * Replace p's program with the one at path (p is the current process). Up to
 * the ELF check nothing changes and an error is returned; after it the old
 * address space is gone, and a failure kills the process as Linux does.
 */
int exec_load(struct proc *p, const char *path, const char *const *argv, unsigned argc,
	      const char *const *envp, unsigned envc, struct uregs *r)
{
	static char canon[PATH_MAX], interp_path[ELF_INTERP_MAX];
	struct prog_src src = { pa_to_kva(boot.prog_gpa), boot.prog_size, NULL, 0, 0 };
	struct prog_src isrc = { NULL, 0, NULL, 0, 0 };
	int err;
	if (have_image || (strcmp(path, boot_exe) && strcmp(path, "/proc/self/exe"))) {
		/* Without an image, other programs come from the host mounts (and tmpfs) through the VFS. */
		err = src_open_image(&src, path, canon);
		if (err)
			return err;
	} else {
		strlcpy(canon, boot_exe, sizeof(canon));
	}
	struct elf_plan plan, iplan;
	const char *why = "";
	uint64_t rnd_pages;
	random_fill(&rnd_pages, sizeof(rnd_pages));
	/* PIE programs at a random-ish base: up to 256 MiB above Linux's usual one. */
	err = elf_plan_dyn(src.img, src.size, PIE_BASE + (rnd_pages % 65536) * PAGE_SIZE, &plan, &why);
	if (err) {
		src_close(&src);
		return -ENOEXEC;
	}
	if (plan.interp_len) {
		memcpy(interp_path, src.img + plan.interp_off, plan.interp_len + 1);
		err = src_open_image(&isrc, interp_path, NULL);
		if (err) {
			if ((boot.flags & LBVM_BOOT_TRACE) || !exec_started)
				kprintf("lbvm: %s: its interpreter %s cannot be opened in the VM (error %d); "
					"give an image or a --mount that holds it and the program's libraries\n",
					path, interp_path, err);
			src_close(&src);
			return err == -EACCES ? -EACCES : -ENOENT;
		}
		/* Planned once to learn its span, then placed at the top of the mmap area, a random-ish way down. */
		err = elf_plan(isrc.img, isrc.size, PIE_BASE, &iplan, &why);
		uint64_t span = err ? 0 : iplan.hi - iplan.lo;
		uint64_t ibase = MMAP_TOP - span - ((rnd_pages >> 16) % 4096) * PAGE_SIZE;
		if (!err && iplan.type != 3)
			err = ELF_E_BAD;  /* an ET_EXEC interpreter would sit at its link address, over anything */
		if (!err)
			err = elf_plan(isrc.img, isrc.size, ibase, &iplan, &why);
		if (err) {
			if ((boot.flags & LBVM_BOOT_TRACE) || !exec_started)
				kprintf("lbvm: %s: its interpreter %s is unusable: %s\n", path, interp_path,
					why ? why : "not position independent (ET_EXEC)");
			src_close(&isrc);
			src_close(&src);
			return -ELIBBAD;
		}
	}

	/* The point of no return. */
	/*
	 * No flush until the new program is in place: the kernel reaches user
	 * memory only through the tables, and entries that come back unchanged
	 * (the program's text, mapped from the image) then keep the host's
	 * shadow of them.
	 */
	mm_destroy(p->mm);
	strlcpy(p->exe, canon, sizeof(p->exe));
	p->comm[0] = 0;   /* the new program's name, until PR_SET_NAME */
	for (unsigned i = 0; i < plan.nseg && !err; i++)
		err = load_segment(p->mm, &plan.seg[i], &src);
	src_close(&src);
	for (unsigned i = 0; plan.interp_len && i < iplan.nseg && !err; i++)
		err = load_segment(p->mm, &iplan.seg[i], &isrc);
	src_close(&isrc);
	p->mm->brk_start = p->mm->brk = ALIGN_UP(plan.hi, PAGE_SIZE);
	if (!err)
		err = mm_map(p->mm, STACK_TOP - STACK_MAX, STACK_MAX - STACK_EAGER, PROT_READ | PROT_WRITE, VMA_STACK, 0);
	if (!err)
		err = mm_map(p->mm, STACK_TOP - STACK_EAGER, STACK_EAGER, PROT_READ | PROT_WRITE, VMA_STACK, 1);
	if (err) {
		kprintf("lbvm: %s: cannot load it: error %d (is --mem large enough?)\n", path, err);
		proc_kill(9, 0);
	}

	uint64_t vdso = vdso_map(p->mm);  /* 0: none, and no AT_SYSINFO_EHDR */
	uint8_t rnd[16];
	random_fill(rnd, sizeof(rnd));
	struct ustack_in in = {
		.execfn = path,
		.argc = argc, .argv = argv,
		.envc = envc, .envp = envp,
		.random16 = rnd,
		.phdr = plan.phdr_vaddr, .phent = plan.phentsize, .phnum = plan.phnum,
		.entry = plan.entry, .base = plan.interp_len ? iplan.lo : 0,
		.hwcap = hwcap, .hwcap2 = 2 /* HWCAP2_FSGSBASE */,
		.pagesz = PAGE_SIZE, .clktck = 100,
		.sysinfo_ehdr = vdso,
	};
	uint64_t size = sizeof(stack_image), sp;
	err = ustack_build(stack_image, size, STACK_TOP, &in, &sp);
	if (!err && copy_to_user(sp, stack_image + (sp - (STACK_TOP - size)), STACK_TOP - sp))
		err = -EFAULT;
	if (err) {
		kprintf("lbvm: %s: arguments and environment do not fit the stack\n", path);
		proc_kill(9, 0);
	}
	mm_commit(p->mm);
	exec_started = 1;
	proc_save_auxv(p, (const uint64_t *)(stack_image + (sp - (STACK_TOP - size))));

	memset(r, 0, sizeof(*r));
	r->rip = plan.interp_len ? iplan.entry : plan.entry;
	r->rsp = sp;
	r->rflags = 0x202;
	r->cs = LBVM_SEL_UCS;
	r->ss = LBVM_SEL_UDS;
	p->fs_base = 0;
	cpu_set_fs_base(0);
	return 0;
}

NORETURN void proc_start_init(void)
{
	struct proc *p = proc_alloc();
	if (!p)
		panic("out of memory at boot");
	current = p;
	p->ppid = 0;
	p->pgid = p->sid = p->pid;
	p->umask = 022;
	mm_init(p->mm, LBVM_GPA_PML4);
	hwcap = cpu_hwcap();

	const char *exe = boot.exe, *cwd = boot.cwd;
	const char **argv = argv_ptrs, **envp = argv_ptrs + boot.argc;
	int err = parse_args(argv, envp);
	if (err)
		panic("boot arguments malformed (%d)", err);
	boot_exe = exe;

	vfs_init();
	fd_init_stdio(p->fds);
	p->cwd = vn_get(vfs_root());
	strlcpy(p->cwd_path, "/", sizeof(p->cwd_path));
	if (strcmp(cwd, "/")) {
		struct vnode *d;
		err = vfs_resolve(AT_FDCWD, cwd, 1, &d, p->cwd_path);
		if (err || !S_ISDIR(d->mode))
			panic("working directory %s: %s", cwd, err ? "cannot be resolved" : "not a directory");
		vn_put(p->cwd);
		p->cwd = d;
	}

	struct uregs *r = proc_uregs(p);
	err = exec_load(p, exe, argv, boot.argc, envp, boot.envc, r);
	if (err)
		panic("%s: cannot run it (error %d)", exe, err);
	boot_shared->tsc_user_start = cpu_rdtsc();
	p->state = P_RUNNABLE;
	cpu_set_kernel_stack(this_cpu, (uint64_t)(r + 1));
	cpu_enter_user(r);
}
