/* echoserver.c: a TCP echo server with epoll (nonblocking sockets, accept4, partial writes kept for EPOLLOUT); serves N connections to their end, then prints what it saw. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>


struct conn {
	int fd;
	char buf[65536];
	size_t len, off;   /* bytes read and not yet echoed */
};

/* usage: echoserver PORT N */
int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int port = atoi(argv[1]), want = atoi(argv[2]);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 128) < 0) {
		perror("listen");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	int done = 0, open = 0, peak = 0;
	unsigned long long bytes = 0;
	while (done < want) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 20000);
		if (n <= 0) {
			printf("epoll_wait: %d, %d connections served of %d\n", n, done, want);
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				int fd;
				while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					c->fd = fd;
					struct epoll_event e2 = { .events = EPOLLIN, .data.ptr = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e2);
					if (++open > peak)
						peak = open;
				}
				continue;
			}
			for (;;) {
				if (c->off < c->len) {
					ssize_t w = write(c->fd, c->buf + c->off, c->len - c->off);
					if (w < 0 && errno == EAGAIN) {
						struct epoll_event e2 = { .events = EPOLLOUT, .data.ptr = c };
						epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e2);
						break;
					}
					if (w < 0)
						goto gone;
					c->off += (size_t)w;
					bytes += (unsigned long long)w;
					continue;
				}
				struct epoll_event e2 = { .events = EPOLLIN, .data.ptr = c };
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e2);
				ssize_t r = read(c->fd, c->buf, sizeof(c->buf));
				if (r < 0 && errno == EAGAIN)
					break;
				if (r <= 0)
					goto gone;
				c->len = (size_t)r;
				c->off = 0;
			}
			continue;
gone:
			/* DEL before close, as many servers do. */
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			free(c);
			open--;
			done++;
		}
	}
	printf("served %d connections, %llu bytes echoed, several at once: %s\n", done, bytes, peak > 1 ? "yes" : "no");
	return 0;
}
