/* poll.c: poll with a timeout, poll and select waking on pipe data, and POLLHUP at end of file. */
#include <poll.h>
#include <stdio.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>
int main(void){
 int p[2]; pipe(p);
 struct pollfd f={p[0],POLLIN,0};
 struct timespec a,b; clock_gettime(CLOCK_MONOTONIC,&a);
 int r=poll(&f,1,100); clock_gettime(CLOCK_MONOTONIC,&b);
 long ms = (long)((b.tv_sec-a.tv_sec)*1000+(b.tv_nsec-a.tv_nsec)/1000000);
 printf("poll empty: %d after %s\n", r, ms >= 100 && ms < 5000 ? "the timeout" : "a wrong time");
 if (fork()==0){ usleep(20000); write(p[1],"x",1); _exit(0);}
 r=poll(&f,1,-1); printf("poll data: %d revents %d\n", r, f.revents);
 fd_set s; FD_ZERO(&s); FD_SET(p[0],&s);
 r=select(p[0]+1,&s,0,0,0); printf("select: %d isset %d\n", r, FD_ISSET(p[0],&s));
 close(p[1]); char c; read(p[0],&c,1);
 r=poll(&f,1,0); printf("poll hup: %d revents %d\n", r, f.revents);
 return 0;}
