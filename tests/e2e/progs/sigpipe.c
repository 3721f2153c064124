/* sigpipe.c: a write to a pipe with no reader: SIGPIPE runs a handler, or is ignored, with EPIPE either way; by default it kills. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static volatile int got;
static void h(int s) { got = s; }
int main(void){
  int p[2]; pipe(p); close(p[0]);
  signal(SIGPIPE, h);
  errno = 0; long r = write(p[1], "x", 1);
  printf("handler: write %ld %s, got %d\n", r, errno == EPIPE ? "EPIPE" : strerror(errno), got);
  signal(SIGPIPE, SIG_IGN);
  errno = 0; r = write(p[1], "x", 1);
  printf("ignored: write %ld %s\n", r, errno == EPIPE ? "EPIPE" : strerror(errno));
  signal(SIGPIPE, SIG_DFL);
  fflush(stdout);
  write(p[1], "x", 1);
  printf("not reached\n");
  return 0;
}
