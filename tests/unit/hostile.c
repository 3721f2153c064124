#define _GNU_SOURCE
/* hostile.c: the harness of the hostile-guest tests: a fresh device over a fake guest memory, the guest's side of the queue by hand, host directory signatures, one process per test. */
#include "tests/unit/hostile.h"

/* ---- one fresh device: guest RAM, mounts, iodev ---- */

uint8_t *ram;
struct vm vm;
struct iodev *io;
int io_started;
const struct net_policy *hostile_net;
char top[64];          /* main()'s directory for every test's files: removed even after a crash */
char base[96], dir_rw[128], dir_ro[128], dir_out[128];
uint64_t out_sig;
uint32_t root_rw, root_ro;
volatile struct virtq_desc *vdesc;
volatile struct virtq_avail *vavail;
volatile struct virtq_used *vused;
uint16_t aidx;         /* the avail index we published */
int can_mount;         /* main() got a private mount namespace */
int stdin_saved = -1;
int stdout_saved = -1;

void *gp(uint64_t gpa) { return ram + gpa; }

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void put_file(const char *dir, const char *name, const char *content)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

void fill_dir(const char *dir)
{
	char p[256];
	put_file(dir, "file", "data");
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	put_file(p, "inner", "inner data");
	snprintf(p, sizeof(p), "%s/link", dir);
	assert_int_equal(symlink("file", p), 0);
}

/* A fault in any thread (the I/O thread's, mostly) ends the test process by that signal, for main() to name. */
static void on_fault(int sig)
{
	static const char msg[] = "CRASH: the device faulted (signal below)\n";
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Build a device over a fresh RAM; rw_opts is appended to the rw mount's spec (e.g. ":max=1M"). */
void dev_up_opts(const char *rw_opts, const char *rw_host)
{
	/* cmocka's own handlers would turn a fault of the I/O thread into a bare exit status */
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fault);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ram != MAP_FAILED);
	memset(&vm, 0, sizeof(vm));
	vm.gm.ram = ram;
	vm.gm.ram_size = RAM_SIZE;
	/* base/rw and base/ro are the mounts; base/outside is what the guest must never reach. */
	snprintf(base, sizeof(base), "%s/t.XXXXXX", top);
	assert_non_null(mkdtemp(base));
	snprintf(dir_rw, sizeof(dir_rw), "%s/rw", base);
	snprintf(dir_ro, sizeof(dir_ro), "%s/ro", base);
	snprintf(dir_out, sizeof(dir_out), "%s/outside", base);
	assert_int_equal(mkdir(dir_rw, 0755), 0);
	assert_int_equal(mkdir(dir_ro, 0755), 0);
	assert_int_equal(mkdir(dir_out, 0755), 0);
	put_file(dir_out, "secret", "not for the guest");
	out_sig = tree_sig(dir_out);
	fill_dir(dir_ro);
	if (!rw_host)
		fill_dir(dir_rw);
	static struct mount_spec specs[2];
	static char a0[300], a1[300];
	snprintf(a0, sizeof(a0), "%s:/rw:rw%s", rw_host ? rw_host : dir_rw, rw_opts ? rw_opts : "");
	snprintf(a1, sizeof(a1), "%s:/ro", dir_ro);
	assert_int_equal(hostfs_parse_spec(a0, &specs[0]), 0);
	assert_int_equal(hostfs_parse_spec(a1, &specs[1]), 0);
	assert_int_equal(hostfs_open(specs, 2, &vm.hostfs), 0);
	struct lbvm_mount tab[2];
	hostfs_fill_table(vm.hostfs, tab);
	root_rw = tab[0].root;
	root_ro = tab[1].root;
	if (hostile_net)
		assert_int_equal(hostnet_create(hostile_net, &vm.hostnet), 0);
	assert_int_equal(iodev_create(&vm, &io), 0);
	struct virtq_layout l;
	assert_int_equal(virtq_layout(Q, &l), 0);
	vdesc = (volatile struct virtq_desc *)gp(LBVM_GPA_IOQ + l.desc_off);
	vavail = (volatile struct virtq_avail *)gp(LBVM_GPA_IOQ + l.avail_off);
	vused = (volatile struct virtq_used *)gp(LBVM_GPA_IOQ + l.used_off);
	aidx = 0;
	assert_int_equal(iodev_start(io), 0);
	io_started = 1;
}

void dev_up(void) { dev_up_opts(NULL, NULL); }

void rm_rf(const char *d)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "test_hostile: could not remove %s\n", d);
}

int dev_down(void **state)
{
	(void)state;
	if (io) {
		iodev_destroy(io, io_started);
		hostfs_close(vm.hostfs);
		hostnet_destroy(vm.hostnet);
		vm.hostnet = NULL;
		munmap(ram, RAM_SIZE);
	}
	io = NULL;
	io_started = 0;
	if (stdout_saved >= 0) {
		fflush(stdout);
		dup2(stdout_saved, 1);
		close(stdout_saved);
		stdout_saved = -1;
	}
	if (stdin_saved >= 0) {
		dup2(stdin_saved, 0);
		close(stdin_saved);
		stdin_saved = -1;
	}
	int ret = 0;
	if (base[0]) {
		/* Whatever the test did through the device, nothing beside the mounts changed. */
		if (tree_sig(dir_out) != out_sig) {
			print_error("the host changed outside the mounts: %s\n", dir_out);
			ret = -1;
		}
		rm_rf(base);
	}
	base[0] = dir_rw[0] = dir_ro[0] = 0;
	return ret;
}

/* ---- the guest's side of the queue, by hand ---- */

void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	vdesc[i].addr = addr;
	vdesc[i].len = len;
	vdesc[i].flags = flags;
	vdesc[i].next = next;
}

void post(uint16_t head)
{
	vavail->ring[aidx & (Q - 1)] = head;
	aidx++;
	__atomic_store_n(&vavail->idx, aidx, __ATOMIC_RELEASE);
}

uint16_t used_now(void) { return __atomic_load_n(&vused->idx, __ATOMIC_ACQUIRE); }

int vm_failed(void)
{
	return iodev_error(io)[0] != 0;
}

/* Was head used since used index `since`? */
int used_has(uint16_t since, uint16_t head, uint32_t *len)
{
	for (uint16_t i = since; i != used_now(); i++) {
		if (vused->ring[i & (Q - 1)].id == head) {
			if (len)
				*len = vused->ring[i & (Q - 1)].len;
			return 1;
		}
	}
	return 0;
}

/*
 * Wait until the VM ends, at most ms. Then iodev_wait_for_guest must say so too (it takes the lock,
 * so it sees the whole message). 1 if it ended, 0 if not.
 */
int wait_vm_end(unsigned ms)
{
	uint64_t end = now_ms() + ms;
	while (!vm_failed() && now_ms() < end)
		usleep(500);
	if (!vm_failed())
		return 0;
	assert_int_equal(iodev_wait_for_guest(io), -1);
	return 1;
}


/*
 * A well-formed request in slot s (descriptors 4s..4s+3): in and out buffers as given (length 0:
 * absent; more than fits the slot: taken from BIG). Returns the head.
 */
uint16_t slot_build(unsigned s, uint16_t op, uint32_t handle, uint64_t off, uint64_t arg, const void *in,
			   uint32_t inlen, uint32_t outlen)
{
	struct lbvm_io_req q = { .op = op, .handle = handle, .offset = off, .arg = arg };
	memcpy(gp(SLOT_REQ(s)), &q, sizeof(q));
	int64_t poison = 0x5a5a5a5a;
	memcpy(gp(SLOT_ST(s)), &poison, 8);
	unsigned d = 4 * s, n = 0;
	uint64_t inb = inlen > 0x1000 ? BIG : SLOT_IN(s), outb = outlen > 0xe00 ? BIG_OUT : SLOT_OUT(s);
	set_desc(d + n, SLOT_REQ(s), sizeof(q), VIRTQ_DESC_F_NEXT, (uint16_t)(d + n + 1));
	n++;
	if (inlen) {
		memcpy(gp(inb), in, inlen);
		set_desc(d + n, inb, inlen, VIRTQ_DESC_F_NEXT, (uint16_t)(d + n + 1));
		n++;
	}
	if (outlen) {
		set_desc(d + n, outb, outlen, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(d + n + 1));
		n++;
	}
	set_desc(d + n, SLOT_ST(s), 8, VIRTQ_DESC_F_WRITE, 0);
	return (uint16_t)d;
}

int64_t slot_result(unsigned s)
{
	int64_t r;
	memcpy(&r, gp(SLOT_ST(s)), 8);
	return r;
}


/* Post the chain at head, kick, and wait up to ms for its used entry: the status, R_VMFAIL or R_HANG. */
int64_t run_head(uint16_t head, unsigned s, unsigned ms)
{
	uint16_t since = used_now();
	post(head);
	iodev_kick(io);
	uint64_t end = now_ms() + ms;
	for (unsigned i = 0;; i++) {
		if (used_has(since, head, NULL))
			return slot_result(s);
		if (vm_failed())
			return R_VMFAIL;
		if (now_ms() > end)
			return R_HANG;
		if (i < 100)
			sched_yield();
		else
			usleep(50);
	}
}

/* One well-formed request in slot 0, answered within 2 s. */
int64_t call(uint16_t op, uint32_t handle, uint64_t off, uint64_t arg, const void *in, uint32_t inlen,
		    uint32_t outlen)
{
	return run_head(slot_build(0, op, handle, off, arg, in, inlen, outlen), 0, 2000);
}

struct lbvm_io_attr last_attr(void)
{
	struct lbvm_io_attr a;
	memcpy(&a, gp(SLOT_OUT(0)), sizeof(a));
	return a;
}

uint32_t do_open(uint32_t dir, const char *name, uint64_t flags)
{
	int64_t r = call(LBVM_IO_OPEN, dir, 0, flags, name, (uint32_t)strlen(name), sizeof(struct lbvm_io_attr));
	assert_int_equal(r, 0);
	return last_attr().handle;
}

uint32_t do_lookup(uint32_t dir, const char *name)
{
	int64_t r = call(LBVM_IO_LOOKUP, dir, 0, 0, name, (uint32_t)strlen(name), sizeof(struct lbvm_io_attr));
	assert_int_equal(r, 0);
	return last_attr().handle;
}

/* ---- what a host directory holds: names, types, modes, sizes, contents, link targets ---- */

static uint64_t sig_acc;
static size_t sig_root_len;

static void sig_mix(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		sig_acc ^= b[i];
		sig_acc *= 1099511628211ull;
	}
}

static int sig_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	/* Entries are mixed order-independently: each is hashed alone and added. */
	uint64_t save = sig_acc;
	sig_acc = 14695981039346656037ull;
	sig_mix(path + sig_root_len, strlen(path + sig_root_len) + 1);
	uint32_t mode = st->st_mode;
	sig_mix(&mode, sizeof(mode));
	if (S_ISREG(st->st_mode) || S_ISLNK(st->st_mode)) {
		int64_t size = st->st_size;
		sig_mix(&size, sizeof(size));
	}
	if (S_ISREG(st->st_mode)) {
		int fd = open(path, O_RDONLY | O_NONBLOCK);
		char buf[4096];
		ssize_t n;
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			sig_mix(buf, (size_t)n);
		if (fd >= 0)
			close(fd);
	} else if (S_ISLNK(st->st_mode)) {
		char buf[4096];
		ssize_t n = readlink(path, buf, sizeof(buf));
		if (n > 0)
			sig_mix(buf, (size_t)n);
	}
	sig_acc += save;
	return 0;
}

uint64_t tree_sig(const char *dir)
{
	sig_acc = 0;
	sig_root_len = strlen(dir);
	assert_int_equal(nftw(dir, sig_one, 16, FTW_PHYS), 0);
	return sig_acc;
}

void expect_posted_again(uint16_t head)
{
	int ended = wait_vm_end(2000);
	if (!ended)
		fail_msg("head %u posted again while held: the VM goes on (no error after 2 s)", head);
	char num[16];
	snprintf(num, sizeof(num), "%u", head);
	const char *e = iodev_error(io);
	if (!strstr(e, "posted") || !strstr(e, "again") || !strstr(e, num))
		fail_msg("head %u posted again: the VM ended, but the error does not say so: '%s'", head, iodev_error(io));
}


/* ---- the runner ---- */

int hostile_main(const char *suite, const struct CMUnitTest *tests, unsigned n, int argc, char **argv)
{
	log_max = LOG_SILENT;
	/* A private mount namespace, before any thread: the tests' mounts vanish with it. */
	if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		can_mount = 1;
	/*
	 * Each test in its own process, bounded in time: a crash or a hang of the device fails that test
	 * (it is what the test looks for) and the others still run. An argument runs only the tests whose
	 * names contain it.
	 */
	strcpy(top, "/tmp/lbvm-hostile.XXXXXX");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	unsigned passed = 0, failed = 0;
	for (unsigned i = 0; i < n; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		fflush(stdout);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(_cmocka_run_group_tests(tests[i].name, &tests[i], 1, NULL, NULL) ? 1 : 0);
		int st = 0;
		uint64_t end = now_ms() + 20000;
		while (waitpid(pid, &st, WNOHANG) == 0) {
			if (now_ms() > end) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				printf("HANG: %s: no end after 20 s, killed\n", tests[i].name);
				break;
			}
			usleep(5000);
		}
		if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
			printf("CRASH: %s: the test process died of signal %d (%s)\n", tests[i].name, WTERMSIG(st),
			       strsignal(WTERMSIG(st)));
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			passed++;
		} else {
			failed++;
			printf("FAILED: %s (%s %d)\n", tests[i].name, WIFEXITED(st) ? "exit status" : "signal",
			       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		}
	}
	if (can_mount) {
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "umount -R -l %s/* 2>/dev/null", top);
		if (system(cmd)) {
			/* nothing was left mounted */
		}
	}
	rm_rf(top);
	printf("%s: %u passed, %u failed\n", suite, passed, failed);
	return failed ? 1 : 0;
}

