/* appimage.c: turn `lbvm run app.img [ARGS]` into a run configuration: the image's manifest, then the command line. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "guest/lib/erofs.h"
#include "images/image.h"
#include "log.h"
#include "vm.h"

/*
 * Does path exist in the image? Walks component by component without
 * following symlinks: 1 yes, 0 no, -1 cannot tell here (a symlink on the way:
 * the guest resolves it).
 */
static int entry_exists(const struct image *img, const char *path)
{
	struct erofs_inode ino;
	if (erofs_iget(&img->fs, img->fs.root_nid, &ino))
		return 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, "/");
		if ((ino.mode & 0170000) == 0120000)
			return -1;
		uint64_t nid;
		uint8_t ft;
		if (erofs_lookup(&img->fs, &ino, p, len, &nid, &ft) || erofs_iget(&img->fs, nid, &ino))
			return 0;
		p += len;
	}
	return (ino.mode & 0170000) == 0120000 ? -1 : 1;
}

int appimage_prepare(struct vm *vm, struct vm_config *cfg, struct image *img, const char *entry,
		     int argc, char **argv, int nenv_cli, char **env_cli, int mem_given)
{
	int st = image_open(cfg->image, img);
	if (st)
		return st;
	const struct manifest *m = &img->m;
	cfg->exe = (char *)(entry ? entry : m->entry);
	if (cfg->exe[0] != '/') {
		log_err("--entry %s: give an absolute path inside the image", cfg->exe);
		return EXIT_LBVM_ERROR;
	}
	if (entry_exists(img, cfg->exe) == 0) {
		log_err("%s: %s: no such file in the image; check the manifest's entry or --entry (lbvm inspect %s)",
			cfg->image, cfg->exe, cfg->image);
		return EXIT_NOT_FOUND;
	}
	cfg->cwd = m->workdir ? m->workdir : "/";
	if (!mem_given && m->mem)
		cfg->mem = m->mem & ~((2ull << 20) - 1);

	/* argv: the entry, then the command line's arguments, or the manifest's when there are none. */
	int n = 1 + (argc ? argc : m->nargs);
	char **av = calloc((size_t)n + 1, sizeof(char *));
	if (!av)
		return EXIT_LBVM_ERROR;
	av[0] = cfg->exe;
	for (int i = 1; i < n; i++)
		av[i] = argc ? argv[i - 1] : m->args[i - 1];
	cfg->argv = av;
	cfg->argc = n;

	/* env: lbvm's defaults, the manifest's on top, then --env on top of both. */
	for (int i = 0; i < m->nenv; i++)
		if (vm_env_set(cfg, m->env[i]))
			return EXIT_LBVM_ERROR;
	for (int i = 0; i < nenv_cli; i++)
		if (vm_env_set(cfg, env_cli[i]))
			return EXIT_LBVM_ERROR;

	vm->ro_fd = -1; /* the image keeps its own descriptor */
	vm->ro_map = img->map;
	vm->ro_size = img->size;
	vm->ro_slot_size = img->map_size;
	return 0;
}
