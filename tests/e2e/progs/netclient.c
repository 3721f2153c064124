/* netclient.c: an HTTP/1.0 GET over TCP, as a client in the VM would make it: blocking, or nonblocking with poll (as curl does); prints the status line, the body's length and a checksum, or the connect error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* usage: netclient ADDR PORT PATH [poll|hold]   hold: after the connect (made or refused), sleep 2 s first */
int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	int v6 = strchr(argv[1], ':') != NULL, nb = argc > 4 && !strcmp(argv[4], "poll");
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t len;
	if (v6) {
		struct sockaddr_in6 *a = (void *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)atoi(argv[2]));
		inet_pton(AF_INET6, argv[1], &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (void *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)atoi(argv[2]));
		inet_pton(AF_INET, argv[1], &a->sin_addr);
		len = sizeof(*a);
	}
	int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | (nb ? SOCK_NONBLOCK : 0), 0);
	int r = connect(s, (struct sockaddr *)&ss, len);
	if (r < 0 && nb && errno == EINPROGRESS) {
		struct pollfd p = { s, POLLOUT, 0 };
		if (poll(&p, 1, 10000) != 1) {
			printf("connect: poll timed out\n");
			return 1;
		}
		int e = 0;
		socklen_t el = sizeof(e);
		getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el);
		errno = e;
		r = e ? -1 : 0;
	}
	if (argc > 4 && !strcmp(argv[4], "hold")) {
		int e = errno;
		sleep(2);
		errno = e;
	}
	if (r < 0) {
		printf("connect: %s\n", strerror(errno));
		return 1;
	}
	char req[512];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", argv[3], argv[1]);
	if (send(s, req, (size_t)n, MSG_NOSIGNAL) != n) {
		printf("send: %s\n", strerror(errno));
		return 1;
	}
	static char buf[1 << 22];
	size_t got = 0;
	for (;;) {
		if (nb) {
			struct pollfd p = { s, POLLIN, 0 };
			if (poll(&p, 1, 10000) != 1) {
				printf("read: poll timed out\n");
				return 1;
			}
		}
		ssize_t k = read(s, buf + got, sizeof(buf) - got);
		if (k < 0 && errno == EAGAIN)
			continue;
		if (k < 0) {
			printf("read: %s\n", strerror(errno));
			return 1;
		}
		if (k == 0 || got + (size_t)k >= sizeof(buf))
			break;
		got += (size_t)k;
	}
	char *body = memmem(buf, got, "\r\n\r\n", 4);
	char *eol = memchr(buf, '\r', got);
	if (!body || !eol) {
		printf("no HTTP response (%zu bytes)\n", got);
		return 1;
	}
	body += 4;
	unsigned long sum = 0, blen = got - (size_t)(body - buf);
	for (size_t i = 0; i < blen; i++)
		sum = sum * 31 + (unsigned char)body[i];
	printf("%.*s\nbody %lu bytes, sum %lu\n", (int)(eol - buf), buf, blen, sum);
	close(s);
	return 0;
}
