/* mmapanon.c: MAP_SHARED|MAP_ANONYMOUS memory is shared with fork's children: writes both ways, pages first touched
 * after the fork, MADV_DONTNEED keeping the data, a process-shared semaphore, and MAP_PRIVATE staying private. */
#define _GNU_SOURCE
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void child_does(void (*fn)(int *), int *p)
{
	pid_t c = fork();
	if (c == 0) {
		fn(p);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

static void write_both_pages(int *p) { p[0] = 42; p[1024] = 43; }
static void write_late_page(int *p) { p[3 * 1024 + 5] = 7; }
static void read_parent_write(int *p) { printf("child reads %d\n", p[2048]); }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);  /* children print too, and leave with _exit */
	int *p = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || q == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	p[0] = 1, p[1024] = 1, q[0] = 1;
	child_does(write_both_pages, p);
	printf("parent sees %d %d\n", p[0], p[1024]);
	child_does(write_late_page, p);
	printf("page first touched by the child: %d\n", p[3 * 1024 + 5]);
	p[2048] = 99;
	child_does(read_parent_write, p);
	pid_t c = fork();
	if (c == 0) {
		q[0] = 5;
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("private stays private: %d\n", q[0]);

	/* Shared memory keeps its data through MADV_DONTNEED (it only drops this process's mapping of it). */
	madvise(p, 4 * 4096, MADV_DONTNEED);
	printf("after MADV_DONTNEED: %d %d %d\n", p[0], p[2048], p[3 * 1024 + 5]);

	/* A process-shared semaphore in shared anonymous memory: the futex is on the shared page. */
	sem_t *s = (sem_t *)(p + 512);
	sem_init(s, 1, 0);
	c = fork();
	if (c == 0) {
		usleep(20000);
		p[600] = 1234;
		sem_post(s);
		_exit(0);
	}
	sem_wait(s);
	printf("semaphore posted by the child, value %d\n", p[600]);
	waitpid(c, NULL, 0);
	munmap(p, 4 * 4096);
	return 0;
}
