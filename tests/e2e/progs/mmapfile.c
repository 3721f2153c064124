/* mmapfile.c: maps a file of the image privately, checks it against read(), writes to its copy, and tries to write the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/data/medium.bin";
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st))
		return 2;
	unsigned char *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return 3;
	static unsigned char buf[1 << 16];
	off_t off = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (memcmp(buf, m + off, (size_t)n))
			return 4;
		off += n;
	}
	puts(off == st.st_size ? "mmap matches read" : "mmap SHORT");
	m[0] ^= 0xff;  /* a private copy: the file must not change */
	unsigned char first;
	if (pread(fd, &first, 1, 0) != 1 || first == m[0])
		return 5;
	puts("private write ok");
	errno = 0;
	int w = open(path, O_WRONLY);
	printf("open for write: %s\n", w < 0 && errno == EROFS ? "EROFS" : strerror(errno));
	errno = 0;
	int c = open("/newfile", O_WRONLY | O_CREAT, 0644);
	printf("create: %s\n", c < 0 && errno == EROFS ? "EROFS" : strerror(errno));
	return 0;
}
