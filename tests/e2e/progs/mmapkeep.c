/*
 * mmapkeep.c: what a file mapping holds through mprotect(PROT_NONE) and
 * back, MADV_DONTNEED, fork, msync and munmap, and how read(2)/write(2) on
 * the same file see it. Prints what it sees; the tests compare that with
 * the same run natively on Linux.
 *
 * usage: mmapkeep MODE FILE [MODE FILE]...   (in turn), MODE being one of
 *        private FILE    (FILE: at least 3 pages, only read)
 *        shared FILE     (FILE: created or truncated, 3 pages + 100 bytes written)
 *        exit FILE       (FILE as left by "shared": a child writes through a map and exits without munmap)
 *        rofd FILE       (FILE: opened read-only, mapped shared and writable)
 *        leave FILE      (last: writes "LEFT" at 20 through a shared map, and the program ends with it mapped)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PS 4096
#define LEN (3 * PS + 100)

static void say(const char *what, int good)
{
	printf("%s: %s\n", what, good ? "yes" : "NO");
}

static int same_as_file(int fd, const unsigned char *m, off_t off, size_t n)
{
	static unsigned char buf[4 * PS];
	return pread(fd, buf, n, off) == (ssize_t)n && memcmp(buf, m, n) == 0;
}

/*
 * MMAPKEEP_OBSERVE names the same file by another way in (in lbvm: a second
 * --mount of the host directory, which the guest keeps no pages of): what
 * it reads is what reached the host.
 */
static void observe(const char *what, off_t off, const char *want)
{
	const char *path = getenv("MMAPKEEP_OBSERVE");
	if (!path)
		return;
	char got[16] = { 0 };
	size_t n = strlen(want);
	int fd = open(path, O_RDONLY);
	say(what, fd >= 0 && pread(fd, got, n, off) == (ssize_t)n && !memcmp(got, want, n));
	close(fd);
}

static int wait_child(pid_t pid)
{
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static int private_cases(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 2;
	unsigned char *m = mmap(NULL, 3 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return 3;
	say("private: the map shows the file", same_as_file(fd, m, 0, 3 * PS));
	unsigned char b0 = m[0], b1 = m[PS + 7];
	m[0] = (unsigned char)(b0 ^ 0xa5);
	m[PS + 7] = (unsigned char)(b1 ^ 0x5a);
	say("private: mprotect PROT_NONE", mprotect(m, 3 * PS, PROT_NONE) == 0);
	say("private: mprotect back to read-write", mprotect(m, 3 * PS, PROT_READ | PROT_WRITE) == 0);
	say("private: our writes survive PROT_NONE", m[0] == (unsigned char)(b0 ^ 0xa5) && m[PS + 7] == (unsigned char)(b1 ^ 0x5a));
	say("private: untouched page still the file's", same_as_file(fd, m + 2 * PS, 2 * PS, PS));
	say("private: madvise MADV_DONTNEED", madvise(m, PS, MADV_DONTNEED) == 0);
	say("private: after MADV_DONTNEED the page is the file's again", same_as_file(fd, m, 0, PS));
	say("private: the page not dropped keeps its write", m[PS + 7] == (unsigned char)(b1 ^ 0x5a));
	/* Read-only first, then PROT_NONE, then read: the pages come from the file, never zeros. */
	unsigned char *r = mmap(NULL, 2 * PS, PROT_READ, MAP_PRIVATE, fd, PS);
	say("private: read-only map, PROT_NONE and back", r != MAP_FAILED && mprotect(r, 2 * PS, PROT_NONE) == 0 &&
	    mprotect(r, 2 * PS, PROT_READ) == 0 && same_as_file(fd, r, PS, 2 * PS));
	unsigned char *n = mmap(NULL, 2 * PS, PROT_NONE, MAP_PRIVATE, fd, 0);
	say("private: mapped PROT_NONE, then readable, shows the file", n != MAP_FAILED &&
	    mprotect(n, 2 * PS, PROT_READ) == 0 && same_as_file(fd, n, 0, 2 * PS));
	say("private: MADV_DONTNEED on a read-only map refetches", madvise(r, 2 * PS, MADV_DONTNEED) == 0 &&
	    same_as_file(fd, r, PS, 2 * PS));
	/* A child sees the parent's private write, keeps it through PROT_NONE, and its own write stays its own. */
	pid_t pid = fork();
	if (pid == 0) {
		int ok = m[PS + 7] == (unsigned char)(b1 ^ 0x5a);
		ok &= mprotect(m, 3 * PS, PROT_NONE) == 0 && mprotect(m, 3 * PS, PROT_READ | PROT_WRITE) == 0;
		ok &= m[PS + 7] == (unsigned char)(b1 ^ 0x5a);
		m[PS + 7] = 'c';
		_exit(ok ? 0 : 1);
	}
	say("private: a fork child sees our write through PROT_NONE", wait_child(pid) == 0);
	say("private: the child's write stayed in the child", m[PS + 7] == (unsigned char)(b1 ^ 0x5a));
	/* mremap moves the region with its file: a later fault still reads the file. */
	void *to = mmap(NULL, 2 * PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *g = mremap(r, 2 * PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	say("private: after mremap and MADV_DONTNEED the file's bytes", g != MAP_FAILED && madvise(g, 2 * PS, MADV_DONTNEED) == 0 &&
	    same_as_file(fd, g, PS, 2 * PS));
	return 0;
}

static int shared_cases(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	static char buf[LEN];
	for (int i = 0; i < LEN; i++)
		buf[i] = (char)('a' + i % 26);
	if (fd < 0 || write(fd, buf, LEN) != LEN)
		return 2;
	char *s = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED) {
		printf("shared: mmap: %s\n", strerror(errno));
		return 3;
	}
	say("shared: the map shows the file", same_as_file(fd, (unsigned char *)s, 0, LEN));
	memcpy(s + 10, "MAPPED", 6);
	char got[8] = { 0 };
	say("shared: read(2) sees a write through the map", pread(fd, got, 6, 10) == 6 && !memcmp(got, "MAPPED", 6));
	say("shared: a write(2) shows in the map", pwrite(fd, "WRITTEN", 7, PS + 3) == 7 && !memcmp(s + PS + 3, "WRITTEN", 7));
	pid_t pid = fork();
	if (pid == 0) {
		memcpy(s + 2 * PS, "CHILD", 5);
		_exit(memcmp(s + 10, "MAPPED", 6) != 0);
	}
	say("shared: a fork child sees our map and writes through it", wait_child(pid) == 0 && !memcmp(s + 2 * PS, "CHILD", 5));
	int fd2 = open(path, O_RDWR);
	char *t = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 2 * PS);
	say("shared: a second map of the file sees the same page", t != MAP_FAILED && !memcmp(t, "CHILD", 5));
	t[100] = '2';
	say("shared: and writes into it", s[2 * PS + 100] == '2');
	say("shared: PROT_NONE and back keeps the page", mprotect(s, LEN, PROT_NONE) == 0 &&
	    mprotect(s, LEN, PROT_READ | PROT_WRITE) == 0 && !memcmp(s + 10, "MAPPED", 6));
	say("shared: MADV_DONTNEED keeps the file's data", madvise(s, LEN, MADV_DONTNEED) == 0 && !memcmp(s + 10, "MAPPED", 6) &&
	    !memcmp(s + PS + 3, "WRITTEN", 7));
	s[LEN - 1] = 'Z';
	say("shared: msync MS_SYNC", msync(s, LEN, MS_SYNC) == 0);
	observe("shared: after msync the file has the map's writes", LEN - 1, "Z");
	observe("shared: and the fork child's", 2 * PS, "CHILD");
	s[0] = 'A';
	say("shared: msync MS_ASYNC", msync(s, PS, MS_ASYNC) == 0);
	s[1] = 'B';
	say("shared: munmap", munmap(s, LEN) == 0 && munmap(t, PS) == 0);
	observe("shared: after munmap the file has the last writes", 0, "AB");
	struct stat st;
	say("shared: the size did not change", fstat(fd, &st) == 0 && st.st_size == LEN);
	char head[3] = { 0 };
	say("shared: read(2) after munmap", pread(fd, head, 2, 0) == 2 && head[0] == 'A' && head[1] == 'B');
	close(fd);
	close(fd2);
	return 0;
}

/* A child maps the file shared, writes, and exits with the map in place: the write must reach the file. */
static int exit_case(const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDWR);
		char *s = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PS);
		if (s == MAP_FAILED)
			_exit(3);
		close(fd);
		memcpy(s + 50, "EXITED", 6);
		_exit(0);
	}
	int fd = open(path, O_RDONLY);
	char got[7] = { 0 };
	say("exit: the child ran", wait_child(pid) == 0);
	say("exit: its write through the map reached the file", pread(fd, got, 6, PS + 50) == 6 && !memcmp(got, "EXITED", 6));
	observe("exit: the file has it", PS + 50, "EXITED");
	return 0;
}

static int rofd_case(const char *path)
{
	int fd = open(path, O_RDONLY);
	errno = 0;
	void *w = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("rofd: shared writable map of a read-only fd: %s\n", w == MAP_FAILED ? strerror(errno) : "mapped");
	void *r = mmap(NULL, PS, PROT_READ, MAP_SHARED, fd, 0);
	printf("rofd: shared read-only map: %s\n", r == MAP_FAILED ? strerror(errno) : "mapped");
	return 0;
}

static int leave_case(const char *path)
{
	int fd = open(path, O_RDWR);
	char *s = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED)
		return 3;
	memcpy(s + 20, "LEFT", 4);
	puts("leave: written, exiting with the map in place");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc % 2 == 0)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *mode = argv[i], *path = argv[i + 1];
		int r = !strcmp(mode, "private") ? private_cases(path) : !strcmp(mode, "shared") ? shared_cases(path) :
			!strcmp(mode, "exit") ? exit_case(path) : !strcmp(mode, "rofd") ? rofd_case(path) :
			!strcmp(mode, "leave") ? leave_case(path) : 2;
		if (r)
			return r;
	}
	return 0;
}
