/* pollshare.c: two processes in poll at once, each with its own set: neither sees the other's descriptors. */
#include <poll.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	int a[2], b[2], c[2];
	pipe(a);
	pipe(b);
	pipe(c);
	pid_t kid = fork();
	if (kid == 0) {
		/* the child waits on b and c (two entries); the parent on a (one) */
		struct pollfd f[2] = { { b[0], POLLIN, 0 }, { c[0], POLLIN, 0 } };
		int r = poll(f, 2, 5000);
		printf("child: %d, fds are b and c %d, b %d c %d\n", r, f[0].fd == b[0] && f[1].fd == c[0], f[0].revents, f[1].revents);
		fflush(stdout);
		write(a[1], "a", 1);
		_exit(0);
	}
	usleep(30000);   /* the child is in poll now */
	write(c[1], "c", 1);
	struct pollfd f = { a[0], POLLIN, 0 };
	int r = poll(&f, 1, 5000);
	printf("parent: %d, fd is a %d revents %d\n", r, f.fd == a[0], f.revents);
	fd_set s;
	FD_ZERO(&s);
	FD_SET(b[0], &s);
	struct timeval tv = { 0, 20000 };
	r = select(b[0] + 1, &s, NULL, NULL, &tv);
	printf("select on b: %d\n", r);
	waitpid(kid, NULL, 0);
	return 0;
}
