/* pack.c: `lbvm pack DIR -o IMAGE --entry /PROG ...`: a reproducible EROFS image of DIR with an lbvm manifest inside. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "hypercall/lbvm_abi.h"
#include "images/image.h"
#include "images/manifest.h"
#include "vmm/log.h"
#include "vmm/size.h"

#define ST_ERROR 125
#define SYMLINK_HOPS 40 /* as Linux's MAXSYMLINKS */

extern char **environ;

static const char pack_usage[] =
	"usage: lbvm pack DIR -o IMAGE --entry /PATH [--arg A]... [--env K=V]... [--workdir DIR] [--mem SIZE]\n"
	"\n"
	"Makes IMAGE, an EROFS image of the tree DIR with a manifest in /.lbvm/manifest\n"
	"saying what `lbvm run IMAGE` runs. Same DIR, same options: same bytes\n"
	"(set SOURCE_DATE_EPOCH to choose the image's time stamp).\n"
	"\n"
	"  -o IMAGE        the image to write (replaced only when packing succeeds)\n"
	"  --entry /PATH   the program to run, an executable regular file in DIR\n"
	"  --arg A         a default argument (repeatable; `lbvm run IMAGE ARGS` replaces them)\n"
	"  --env K=V       an environment entry (repeatable)\n"
	"  --workdir DIR   the working directory inside the image (default /)\n"
	"  --mem SIZE      default guest memory, bytes with an optional K, M or G suffix\n"
	"\n"
	"Needs mkfs.erofs (Debian: apt-get install erofs-utils). Device nodes, sockets\n"
	"and FIFOs in DIR are left out, with a warning each. See docs/images.md.\n";

/* ---- signals: a ^C mid-pack must still remove the staging directory ---- */

static volatile sig_atomic_t interrupted;
static volatile pid_t child_pid;
static const int caught[] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction saved[3];

static void on_signal(int sig)
{
	interrupted = sig;
	if (child_pid > 0)
		kill(child_pid, SIGTERM);
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(caught[i], &sa, &saved[i]);
}

static void restore_signals(void)
{
	for (int i = 0; i < 3; i++)
		sigaction(caught[i], &saved[i], NULL);
}

/* ---- small helpers ---- */

static char *join(const char *a, const char *b)
{
	char *s;
	if (asprintf(&s, "%s/%s", a, b) < 0)
		return NULL;
	return s;
}

/* A manifest value may hold tabs and newlines (escaped); other control characters have no spelling. */
static int representable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f)
			return 0;
	return 1;
}

/*
 * Resolve path inside the tree root as the guest will: an absolute symlink
 * target starts again at root, ".." stops at root. 0 with *st of the final
 * file, or -errno.
 */
static int resolve_in_tree(const char *root, const char *path, struct stat *st)
{
	char cur[PATH_MAX] = "";      /* resolved so far, relative to root, no leading '/' */
	char rem[2 * PATH_MAX];       /* still to resolve */
	char full[2 * PATH_MAX + 2], target[PATH_MAX];
	int hops = 0;
	if (strlen(path) >= sizeof(rem))
		return -ENAMETOOLONG;
	strcpy(rem, path);
	char *p = rem;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, "/");
		char *rest = p + len;
		if (len == 1 && p[0] == '.') {
			p = rest;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(cur, '/');
			if (slash)
				*slash = 0;
			else
				cur[0] = 0;
			p = rest;
			continue;
		}
		char cand[PATH_MAX];
		int cn = snprintf(cand, sizeof(cand), "%s%s%.*s", cur, cur[0] ? "/" : "", (int)len, p);
		if (cn < 0 || (size_t)cn >= sizeof(cand))
			return -ENAMETOOLONG;
		cn = snprintf(full, sizeof(full), "%s/%s", root, cand);
		if (cn < 0 || (size_t)cn >= sizeof(full))
			return -ENAMETOOLONG;
		struct stat ls;
		if (lstat(full, &ls))
			return -errno;
		if (S_ISLNK(ls.st_mode)) {
			if (++hops > SYMLINK_HOPS)
				return -ELOOP;
			ssize_t n = readlink(full, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = 0;
			char next[2 * PATH_MAX];
			int nn = snprintf(next, sizeof(next), "%s/%s", target, rest);
			if (nn < 0 || (size_t)nn >= sizeof(next))
				return -ENAMETOOLONG;
			memcpy(rem, next, (size_t)nn + 1);
			p = rem;
			if (target[0] == '/')
				cur[0] = 0;
			continue;
		}
		const char *q = rest;
		while (*q == '/')
			q++;
		if (*q && !S_ISDIR(ls.st_mode))
			return -ENOTDIR;
		strcpy(cur, cand);
		p = rest;
	}
	int fn = snprintf(full, sizeof(full), "%s/%s", root, cur);
	if (fn < 0 || (size_t)fn >= sizeof(full))
		return -ENAMETOOLONG;
	return lstat(full, st) ? -errno : 0;
}

/* The first executable mkfs.erofs on PATH, then in Debian's sbin dirs (PATH may lack them for non-root users). */
static char *find_mkfs(void)
{
	const char *path = getenv("PATH");
	char *dirs;
	if (asprintf(&dirs, "%s:/usr/sbin:/sbin:/usr/bin:/bin", path ? path : "") < 0)
		return NULL;
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (!*d)
			continue;
		char *cand = join(d, "mkfs.erofs");
		if (cand && access(cand, X_OK) == 0) {
			free(dirs);
			return cand;
		}
		free(cand);
	}
	free(dirs);
	return NULL;
}

/* Run argv (no shell), stdout to /dev/null if quiet. Exit status, 128+signal, or -1 if it could not start. */
static int run(const char *file, char *const argv[], char *const envp[], int quiet)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def, none;
	posix_spawn_file_actions_init(&fa);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&attr);
	/* lbvm ignores SIGPIPE; the tools must not inherit that, nor our handlers' view of ^C. */
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	for (int i = 0; i < 3; i++)
		sigaddset(&def, caught[i]);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	pid_t pid;
	int e = strchr(file, '/') ? posix_spawn(&pid, file, &fa, &attr, argv, envp)
				  : posix_spawnp(&pid, file, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e) {
		errno = e;
		return -1;
	}
	child_pid = pid;
	if (interrupted)
		kill(pid, SIGTERM);
	int ws;
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			child_pid = 0;
			return -1;
		}
	}
	child_pid = 0;
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	return 128 + WTERMSIG(ws);
}

/* ---- the staging tree ---- */

/* nftw has no user pointer: its callbacks share these. */
static size_t stage_len;           /* strlen of the stage path: cut to get paths relative to it */
static char **specials;
static const char **special_kinds;
static size_t nspecials;
static time_t newest_mtime;
static int walk_failed;

static const char *special_kind(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	case S_IFIFO: return "FIFO";
	case S_IFSOCK: return "socket";
	default: return NULL;
	}
}

static int scan_cb(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_NS || type == FTW_DNR) {
		log_err("pack: %s: cannot read it in the staging copy; check its permissions", fpath);
		walk_failed = 1;
		return 1;
	}
	/* mkfs.erofs keeps mtimes older than its build time: it must be later than all of them. */
	if (sb->st_mtime > newest_mtime)
		newest_mtime = sb->st_mtime;
	const char *kind = special_kind(sb->st_mode);
	if (kind) {
		char **ns = realloc(specials, (nspecials + 1) * sizeof(*ns));
		const char **nk = realloc(special_kinds, (nspecials + 1) * sizeof(*nk));
		if (ns)
			specials = ns;
		if (nk)
			special_kinds = nk;
		if (!ns || !nk || !(specials[nspecials] = strdup(fpath + stage_len))) {
			log_err("pack: out of memory");
			walk_failed = 1;
			return 1;
		}
		special_kinds[nspecials++] = kind;
	}
	return 0;
}

static void free_specials(void)
{
	for (size_t i = 0; i < nspecials; i++)
		free(specials[i]);
	free(specials);
	free(special_kinds);
	specials = NULL;
	special_kinds = NULL;
	nspecials = 0;
}

/* Make a directory writable by us for one change, then put its mode and mtime back so the image does not see it. */
struct dir_guard {
	char path[PATH_MAX];
	struct stat st;
	int ok;
};

static int dir_open_for_change(struct dir_guard *g, const char *dir)
{
	g->ok = 0;
	if (snprintf(g->path, sizeof(g->path), "%s", dir) >= (int)sizeof(g->path) || lstat(dir, &g->st))
		return -1;
	g->ok = 1;
	if ((g->st.st_mode & 0300) != 0300 && geteuid() != 0)
		chmod(dir, (g->st.st_mode & 07777) | 0300);
	return 0;
}

static void dir_close_after_change(struct dir_guard *g)
{
	if (!g->ok)
		return;
	chmod(g->path, g->st.st_mode & 07777);
	struct timespec ts[2] = { g->st.st_atim, g->st.st_mtim };
	utimensat(AT_FDCWD, g->path, ts, AT_SYMLINK_NOFOLLOW);
}

static int remove_specials(const char *dir, const char *stage)
{
	for (size_t i = 0; i < nspecials; i++) {
		const char *rel = specials[i]; /* starts with '/' */
		log_warn("pack: %s%s: left out of the image: it is a %s, and an image holds only files, "
			 "directories and symlinks", dir, rel, special_kinds[i]);
		char *full = join(stage, rel + 1);
		if (!full)
			return -1;
		char *parent = strdup(full);
		if (!parent) {
			free(full);
			return -1;
		}
		*strrchr(parent, '/') = 0;
		struct dir_guard g;
		dir_open_for_change(&g, parent);
		int r = unlink(full);
		int e = errno;
		dir_close_after_change(&g);
		if (r) {
			log_err("pack: %s: cannot remove it from the staging copy: %s", full, strerror(e));
			free(parent);
			free(full);
			return -1;
		}
		free(parent);
		free(full);
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* STAGE/.lbvm/manifest, mode 0644 in a 0755 dir, owned by root when we are root, both with mtime `when`. */
static int write_manifest(const char *stage, const char *text, size_t len, time_t when)
{
	int ret = -1, fd = -1;
	char *dir = join(stage, MANIFEST_DIR), *file = NULL;
	if (!dir || !(file = join(dir, MANIFEST_FILE)))
		goto out;
	struct dir_guard g;
	dir_open_for_change(&g, stage);
	int r = mkdir(dir, 0755);
	int e = errno;
	dir_close_after_change(&g);
	if (r) {
		log_err("pack: %s: cannot create it: %s", dir, strerror(e));
		goto out;
	}
	/* Explicit modes and owners: the umask, a setgid parent or a non-root group must not reach the image. */
	if (chmod(dir, 0755) || (geteuid() == 0 && lchown(dir, 0, 0))) {
		log_err("pack: %s: cannot set its mode or owner: %s", dir, strerror(errno));
		goto out;
	}
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || fchmod(fd, 0644) || (geteuid() == 0 && fchown(fd, 0, 0)) || write_all(fd, text, len)) {
		log_err("pack: %s: cannot write it: %s", file, strerror(errno));
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		log_err("pack: %s: cannot write it: %s", file, strerror(errno));
		goto out;
	}
	fd = -1;
	struct timespec ts[2] = { { when, 0 }, { when, 0 } };
	if (utimensat(AT_FDCWD, file, ts, 0) || utimensat(AT_FDCWD, dir, ts, 0)) {
		log_err("pack: %s: cannot set its time stamp: %s", file, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	free(file);
	return ret;
}

/* Removal of the work directory: first make every directory writable (trees may hold 0555 dirs), then delete bottom-up. */
static int unlock_cb(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D && (sb->st_mode & 0700) != 0700)
		chmod(fpath, 0700);
	return 0;
}

static int remove_cb(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	if (remove(fpath) && errno != ENOENT)
		log_warn("pack: %s: cannot remove it: %s; delete it by hand", fpath, strerror(errno));
	return 0;
}

static void remove_tree(const char *path)
{
	if (geteuid() != 0)
		nftw(path, unlock_cb, 32, FTW_PHYS);
	nftw(path, remove_cb, 32, FTW_PHYS | FTW_DEPTH);
}

/* ---- the command ---- */

struct pack_opts {
	const char *dir, *out, *entry, *workdir, *mem;
	int nargs, nenv;
	char *args[MANIFEST_MAX_ITEMS + 1];
	char *env[MANIFEST_MAX_ITEMS + 1];
};

/* "--name VALUE" or "--name=VALUE" (and "-oVALUE" for -o). 1 matched (*val set), 0 not this option, -1 value missing. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=' && name[1] == '-') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] && name[1] != '-') {
		*val = a + n; /* -oFILE */
		return 1;
	}
	if (a[n])
		return 0;
	if (*i + 1 >= argc) {
		log_err("pack: %s needs a value; see lbvm pack --help", name);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

static int parse_args(int argc, char **argv, struct pack_opts *o)
{
	int only_positional = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v;
		int r;
		if (only_positional || a[0] != '-' || !a[1]) {
			if (o->dir) {
				log_err("pack: one tree at a time (got %s and %s); usage: lbvm pack DIR -o IMAGE --entry /PATH",
					o->dir, a);
				return -1;
			}
			o->dir = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_positional = 1;
			continue;
		}
		if ((r = opt_value(argc, argv, &i, "-o", &v)) || (r = opt_value(argc, argv, &i, "--output", &v))) {
			if (r < 0)
				return -1;
			o->out = v;
		} else if ((r = opt_value(argc, argv, &i, "--entry", &v))) {
			if (r < 0)
				return -1;
			o->entry = v;
		} else if ((r = opt_value(argc, argv, &i, "--arg", &v))) {
			if (r < 0)
				return -1;
			if (o->nargs == MANIFEST_MAX_ITEMS) {
				log_err("pack: more than %d --arg; an image holds at most that many", MANIFEST_MAX_ITEMS);
				return -1;
			}
			o->args[o->nargs++] = (char *)v;
		} else if ((r = opt_value(argc, argv, &i, "--env", &v))) {
			if (r < 0)
				return -1;
			if (o->nenv == MANIFEST_MAX_ITEMS) {
				log_err("pack: more than %d --env; an image holds at most that many", MANIFEST_MAX_ITEMS);
				return -1;
			}
			o->env[o->nenv++] = (char *)v;
		} else if ((r = opt_value(argc, argv, &i, "--workdir", &v))) {
			if (r < 0)
				return -1;
			o->workdir = v;
		} else if ((r = opt_value(argc, argv, &i, "--mem", &v))) {
			if (r < 0)
				return -1;
			o->mem = v;
		} else {
			log_err("pack: unknown option %s; see lbvm pack --help", a);
			return -1;
		}
	}
	return 0;
}

/* Everything that can be checked before touching the disk. 0, or -1 after a message. */
static int validate(struct pack_opts *o, struct manifest *m)
{
	struct stat st;
	if (!o->dir) {
		log_err("pack: no tree given; usage: lbvm pack DIR -o IMAGE --entry /PATH");
		return -1;
	}
	if (stat(o->dir, &st)) {
		log_err("pack: %s: %s; give the tree to pack", o->dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_err("pack: %s: not a directory; give the tree to pack", o->dir);
		return -1;
	}
	if (!o->out) {
		log_err("pack: no output given; add -o IMAGE");
		return -1;
	}
	if (!o->entry) {
		log_err("pack: no --entry given; name the program to run inside %s, e.g. --entry /bin/sh", o->dir);
		return -1;
	}
	if (o->entry[0] != '/') {
		log_err("pack: --entry %s: give an absolute path inside %s, e.g. /%s", o->entry, o->dir, o->entry);
		return -1;
	}
	int r = resolve_in_tree(o->dir, o->entry, &st);
	if (r) {
		log_err("pack: --entry %s: %s in %s; give a program that is in the tree", o->entry,
			r == -ENOENT ? "no such file" : strerror(-r), o->dir);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err("pack: --entry %s: not a regular file in %s; give the program itself", o->entry, o->dir);
		return -1;
	}
	if (!(st.st_mode & 0111)) {
		log_err("pack: --entry %s: not executable (mode %04o); chmod +x it in %s", o->entry,
			(unsigned)(st.st_mode & 07777), o->dir);
		return -1;
	}
	if (!representable(o->entry)) {
		log_err("pack: --entry: the path holds a control character, which a manifest cannot; rename the file");
		return -1;
	}
	for (int i = 0; i < o->nargs; i++) {
		if (!representable(o->args[i])) {
			log_err("pack: --arg #%d: holds a control character other than tab or newline, "
				"which a manifest cannot; drop it", i + 1);
			return -1;
		}
	}
	for (int i = 0; i < o->nenv; i++) {
		const char *e = o->env[i], *eq = strchr(e, '=');
		if (!eq || eq == e) {
			log_err("pack: --env %s: give NAME=VALUE", e);
			return -1;
		}
		if (!representable(e)) {
			log_err("pack: --env #%d: holds a control character other than tab or newline, "
				"which a manifest cannot; drop it", i + 1);
			return -1;
		}
	}
	if (o->workdir) {
		if (o->workdir[0] != '/' || !representable(o->workdir)) {
			log_err("pack: --workdir %s: give an absolute path inside the image, e.g. /", o->workdir);
			return -1;
		}
		if (resolve_in_tree(o->dir, o->workdir, &st) || !S_ISDIR(st.st_mode))
			log_warn("pack: --workdir %s: not a directory in %s; the program will not start there, so "
				 "create it in the tree or pick another", o->workdir, o->dir);
	}
	uint64_t mem = 0;
	if (o->mem) {
		if (size_parse(o->mem, &mem) || mem == 0) {
			log_err("pack: --mem %s: not a size; give bytes with an optional K, M or G suffix, e.g. 256M", o->mem);
			return -1;
		}
		if (mem < LBVM_RAM_MIN || mem > LBVM_RAM_MAX) {
			log_err("pack: --mem %s: out of range; use between %lluM and %lluG", o->mem,
				(unsigned long long)(LBVM_RAM_MIN >> 20), (unsigned long long)(LBVM_RAM_MAX >> 30));
			return -1;
		}
	}
	char *lbvm_dir = join(o->dir, MANIFEST_DIR);
	if (!lbvm_dir)
		return -1;
	r = lstat(lbvm_dir, &st);
	if (!r)
		log_err("pack: %s already exists; lbvm pack writes the manifest there, so move it out of the tree first",
			lbvm_dir);
	free(lbvm_dir);
	if (!r)
		return -1;

	m->entry = (char *)o->entry;
	m->nargs = o->nargs;
	for (int i = 0; i < o->nargs; i++)
		m->args[i] = o->args[i];
	m->nenv = o->nenv;
	for (int i = 0; i < o->nenv; i++)
		m->env[i] = o->env[i];
	m->workdir = (char *)(o->workdir ? o->workdir : "/");
	m->mem = mem;
	return 0;
}

/* The directory that will hold the image, resolved; refuses one inside the tree (cp would copy the stage into itself). */
static char *output_dir(const char *dir, const char *out)
{
	struct stat st;
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
		log_err("pack: -o %s: is a directory; give the image's file name, e.g. -o %s/app.img", out, out);
		return NULL;
	}
	const char *slash = strrchr(out, '/');
	char *parent = slash ? strndup(out, slash == out ? 1 : (size_t)(slash - out)) : strdup(".");
	if (!parent)
		return NULL;
	char *rout = realpath(parent, NULL);
	if (!rout) {
		log_err("pack: -o %s: directory %s: %s; create it first", out, parent, strerror(errno));
		free(parent);
		return NULL;
	}
	free(parent);
	char *rdir = realpath(dir, NULL);
	if (!rdir) {
		log_err("pack: %s: %s", dir, strerror(errno));
		free(rout);
		return NULL;
	}
	size_t n = strlen(rdir);
	int inside = !strcmp(rdir, "/") || (!strncmp(rout, rdir, n) && (rout[n] == 0 || rout[n] == '/'));
	free(rdir);
	if (inside) {
		log_err("pack: -o %s: inside the tree %s; write the image outside the tree it is made of", out, dir);
		free(rout);
		return NULL;
	}
	return rout;
}

/* SOURCE_DATE_EPOCH, or 0. -1 after a message if it is set but not a plain number of seconds. */
static int source_date_epoch(time_t *t, int *set)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	*t = 0;
	*set = 0;
	if (!s)
		return 0;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v > (unsigned long long)INT64_MAX / 2) {
		log_err("pack: SOURCE_DATE_EPOCH=%s: not a number of seconds since 1970; fix or unset it", s);
		return -1;
	}
	*t = (time_t)v;
	*set = 1;
	return 0;
}

/* mkfs.erofs's environment: ours, with SOURCE_DATE_EPOCH set to the image's build time. */
static char **mkfs_env(time_t build)
{
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SOURCE_DATE_EPOCH=", 18))
			env[k++] = environ[i];
	if (asprintf(&env[k], "SOURCE_DATE_EPOCH=%lld", (long long)build) < 0) {
		free(env);
		return NULL;
	}
	return env;
}

static int check_interrupted(void)
{
	if (!interrupted)
		return 0;
	log_err("pack: interrupted by signal %d; nothing written", (int)interrupted);
	return -1;
}

int pack_main(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(pack_usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--arg") || !strcmp(argv[i], "--env") || !strcmp(argv[i], "-o"))
			i++; /* "--arg --help" is an argument, not a request for help */
	}
	static struct pack_opts o;
	static struct manifest m;
	static char text[MANIFEST_MAX + 1];
	memset(&o, 0, sizeof(o));
	if (parse_args(argc, argv, &o) || validate(&o, &m))
		return ST_ERROR;
	long tlen = manifest_format(&m, text, sizeof(text));
	if (tlen < 0) {
		log_err("pack: the manifest would exceed %d bytes or have a line over %d bytes; use fewer or shorter "
			"--arg/--env", MANIFEST_MAX, MANIFEST_MAX_LINE);
		return ST_ERROR;
	}
	time_t sde;
	int sde_set;
	if (source_date_epoch(&sde, &sde_set))
		return ST_ERROR;
	char *mkfs = find_mkfs();
	if (!mkfs) {
		log_err("pack: mkfs.erofs not found; install erofs-utils (apt-get install erofs-utils; `make` installs it too)");
		return ST_ERROR;
	}
	char *outdir = output_dir(o.dir, o.out);
	if (!outdir) {
		free(mkfs);
		return ST_ERROR;
	}

	int st = ST_ERROR;
	char *work = NULL, *stage = NULL, *tmpimg = NULL, *src = NULL, **env = NULL;
	interrupted = 0;
	catch_signals();
	/* Next to the output: reflinks and the final rename only work within one file system. */
	if (asprintf(&work, "%s/.lbvm-pack-XXXXXX", outdir) < 0) {
		work = NULL;
		goto out;
	}
	if (!mkdtemp(work)) {
		log_err("pack: cannot create a staging directory in %s: %s; check that it is writable", outdir,
			strerror(errno));
		free(work);
		work = NULL;
		goto out;
	}
	stage = join(work, "tree");
	tmpimg = join(work, "image");
	src = join(o.dir, ".");
	if (!stage || !tmpimg || !src || mkdir(stage, 0700)) {
		log_err("pack: cannot set up the staging directory %s: %s", work, strerror(errno));
		goto out;
	}

	/* cp -a keeps owners, modes, mtimes, symlinks, hard links and xattrs, and clones data where it can. */
	char *cp_argv[] = { "cp", "-a", "--reflink=auto", "--", src, stage, NULL };
	int r = run("cp", cp_argv, environ, 0);
	if (check_interrupted())
		goto out;
	if (r) {
		if (r < 0)
			log_err("pack: cannot run cp: %s; install coreutils", strerror(errno));
		else
			log_err("pack: copying %s to the staging directory %s failed (cp exit %d, its message is above); "
				"fix that and pack again%s", o.dir, stage, r,
				geteuid() ? " (only root can copy device nodes and keep other users' files' owners)" : "");
		goto out;
	}

	stage_len = strlen(stage);
	newest_mtime = 0;
	walk_failed = 0;
	if (nftw(stage, scan_cb, 32, FTW_PHYS) != 0 || walk_failed) {
		if (!walk_failed)
			log_err("pack: cannot walk the staging copy %s: %s", stage, strerror(errno));
		goto out;
	}
	struct dir_guard root;
	dir_open_for_change(&root, stage); /* its mode and mtime are DIR's now: keep them */
	if (remove_specials(o.dir, stage)) {
		dir_close_after_change(&root);
		goto out;
	}
	time_t when = sde_set ? sde : 0;
	r = write_manifest(stage, text, (size_t)tlen, when);
	dir_close_after_change(&root);
	if (r || check_interrupted())
		goto out;

	/*
	 * mkfs.erofs 1.5's -T overwrites every file's mtime with its value, so the
	 * build time goes in through SOURCE_DATE_EPOCH instead, which only clamps
	 * mtimes later than it (and makes every inode the extended kind, which
	 * carries its own mtime). Without the caller's SOURCE_DATE_EPOCH it is one
	 * second past the newest mtime in the tree: nothing is clamped, and the
	 * same tree gives the same bytes.
	 */
	time_t build = sde_set ? sde : (newest_mtime > when ? newest_mtime : when) + 1;
	env = mkfs_env(build);
	if (!env)
		goto out;
	/*
	 * -E noinline_data: every file's data starts on a 4 KiB block, so the guest
	 *    can map file pages straight from the image.
	 * -x -1: no xattrs; the guest has no xattr calls, and host labels or ACLs
	 *    would make the image depend on where it was packed.
	 * -U: a fixed UUID instead of a random one.
	 */
	char *mkfs_argv[] = { "mkfs.erofs", "--quiet", "-E", "noinline_data", "-x", "-1",
			      "-U", "00000000-0000-0000-0000-000000000000", tmpimg, stage, NULL };
	r = run(mkfs, mkfs_argv, env, 1);
	if (check_interrupted())
		goto out;
	if (r) {
		if (r < 0)
			log_err("pack: cannot run %s: %s; reinstall erofs-utils", mkfs, strerror(errno));
		else
			log_err("pack: %s failed (exit %d, its message is above) on the staging copy of %s; nothing written",
				mkfs, r, o.dir);
		goto out;
	}
	int fd = open(tmpimg, O_RDONLY | O_CLOEXEC);
	struct stat ist;
	if (fd < 0 || fsync(fd) || fstat(fd, &ist)) {
		log_err("pack: %s: cannot flush the new image: %s", tmpimg, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	/*
	 * Written in small pieces, the image sits in the page cache as 4 KiB
	 * folios. Dropping them (it is on disk now) lets the first run read it
	 * back in 2 MiB folios, which the guest can map with 2 MiB entries.
	 */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	if (rename(tmpimg, o.out)) {
		log_err("pack: cannot move the image to %s: %s; check that you can write there", o.out, strerror(errno));
		goto out;
	}
	printf("%s: %lld bytes, entry %s\n", o.out, (long long)ist.st_size, o.entry);
	st = 0;
out:
	if (work)
		remove_tree(work);
	if (env) {
		size_t k = 0;
		while (env[k])
			k++;
		free(env[k - 1]); /* ours, the last one */
		free(env);
	}
	free_specials();
	free(work);
	free(stage);
	free(tmpimg);
	free(src);
	free(mkfs);
	free(outdir);
	restore_signals();
	return st;
}
