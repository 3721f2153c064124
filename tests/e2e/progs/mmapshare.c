/* mmapshare.c: MAP_PRIVATE and MAP_SHARED file mappings, across fork: what each side and the file see. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEN (3 * 4096 + 100)  /* a partial last page: its tail must read as zeros */

static int fails;

static void expect(int good, const char *what)
{
	printf("%s: %s\n", what, good ? "ok" : "WRONG");
	fails += !good;
}

static char file_byte(int fd, off_t off)
{
	char c = 0;
	return pread(fd, &c, 1, off) == 1 ? c : '?';
}

/* In a child: run fn, exit with its result (0 good). */
static int in_child(int (*fn)(char *), char *m)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn(m));
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static int child_sees_parent_write(char *m) { int r = m[1] == 'P'; m[1] = 'C'; return !r; }
static int child_writes_shared(char *m) { m[2] = 'S'; return 0; }

/* A file of the image (read-only): private mappings copy on write, shared ones may only read. */
static void image_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		expect(0, "open the image file");
		return;
	}
	char *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *s = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	expect(p != MAP_FAILED && s != MAP_FAILED, "image: private and shared read-only maps");
	if (p == MAP_FAILED || s == MAP_FAILED)
		return;
	char orig = p[0];
	expect(s[0] == orig && file_byte(fd, 0) == orig, "image: maps show the file");
	p[0] = (char)(orig ^ 0x55);
	expect(file_byte(fd, 0) == orig && s[0] == orig, "image: private write stays private");
	p[1] = 'P';
	expect(in_child(child_sees_parent_write, p) == 0 && p[1] == 'P', "image: fork child gets a copy-on-write view");
	errno = 0;
	void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	expect(w == MAP_FAILED && errno == EACCES, "image: shared writable map of a read-only fd is EACCES");
	close(fd);
}

/* A tmpfs file: shared mappings write the file, and a forked child shares them. */
static void tmpfs_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	static char buf[LEN];
	memset(buf, 'a', sizeof(buf));
	if (fd < 0 || write(fd, buf, LEN) != LEN) {
		expect(0, "create the tmpfs file");
		return;
	}
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *s = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	expect(p != MAP_FAILED && s != MAP_FAILED, "tmpfs: private and shared writable maps");
	if (p == MAP_FAILED || s == MAP_FAILED)
		return;
	expect(p[LEN - 1] == 'a' && p[LEN] == 0 && p[4 * 4096 - 1] == 0, "tmpfs: the last page ends in zeros");
	p[0] = 'x';
	expect(file_byte(fd, 0) == 'a' && s[0] == 'a', "tmpfs: private write leaves the file alone");
	s[0] = 'y';
	s[LEN - 1] = 'z';
	expect(file_byte(fd, 0) == 'y' && file_byte(fd, LEN - 1) == 'z', "tmpfs: shared write reaches the file");
	expect(pwrite(fd, "w", 1, 5) == 1 && s[5] == 'w', "tmpfs: write(2) shows in the shared map");
	expect(in_child(child_writes_shared, s) == 0 && s[2] == 'S' && file_byte(fd, 2) == 'S',
	       "tmpfs: a fork child's shared write is seen by the parent and the file");
	p[1] = 'P';
	expect(in_child(child_sees_parent_write, p) == 0 && p[1] == 'P', "tmpfs: private map stays copy-on-write across fork");
	expect(msync(s, LEN, MS_SYNC) == 0 && munmap(s, LEN) == 0, "tmpfs: msync and munmap");
	expect(file_byte(fd, 0) == 'y', "tmpfs: the file keeps what the map wrote");
	int ro = open(path, O_RDONLY);
	errno = 0;
	void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
	expect(w == MAP_FAILED && errno == EACCES, "tmpfs: shared writable map of a read-only fd is EACCES");
	close(fd);
}

/* A writable file of a host mount: private maps copy; shared writable ones write the file (here: and put the byte back). */
static void host_file(const char *path)
{
	int fd = open(path, O_RDWR);
	char orig = file_byte(fd, 0);
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	expect(p != MAP_FAILED && p[0] == orig, "host: private map shows the file");
	if (p == MAP_FAILED)
		return;
	p[0] = (char)(orig ^ 0x55);
	expect(file_byte(fd, 0) == orig, "host: private write stays private");
	char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	expect(w != MAP_FAILED, "host: shared writable map");
	if (w == MAP_FAILED)
		return;
	char was = w[1];
	w[1] = (char)(was ^ 0x33);
	expect(file_byte(fd, 1) == (char)(was ^ 0x33), "host: read(2) sees the shared write");
	w[1] = was;
	expect(msync(w, 4096, MS_SYNC) == 0 && munmap(w, 4096) == 0 && file_byte(fd, 1) == was, "host: put back, msync, munmap");
	char *s = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	expect(s != MAP_FAILED && s[0] == orig, "host: shared read-only map shows the file");
	close(fd);
}

/* usage: mmapshare [READONLY_FILE [TMPFS_PATH [WRITABLE_HOST_FILE]]] */
int main(int argc, char **argv)
{
	image_file(argc > 1 ? argv[1] : "/data/medium.bin");
	tmpfs_file(argc > 2 ? argv[2] : "/tmp/mmapshare");
	if (argc > 3)
		host_file(argv[3]);
	return fails ? 1 : 0;
}
