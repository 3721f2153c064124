/* readfile.c: read a whole file with 1 MiB reads and report the throughput (the file-read workload). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	if (argc < 2)
		return 2;
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	long long total = 0;
	ssize_t n;
	unsigned sum = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		total += n;
		sum += (unsigned char)buf[0];
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%lld bytes in %.3f s: %.0f MB/s (%u)\n", total, s, (double)total / s / 1e6, sum);
	return n < 0;
}
