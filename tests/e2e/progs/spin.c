/* spin.c: a child in a busy loop cannot starve its parent: the preemption tick lets the parent run and kill it. */
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
int main(void){
  pid_t c = fork();
  if (c == 0) { for(;;) ; }
  /* the parent must still get the CPU: sleep and print, then kill the spinner */
  usleep(100000);
  printf("parent ran while the child spins\n");
  fflush(stdout);
  kill(c, 9); int st; waitpid(c, &st, 0);
  printf("child killed: %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
  return 0;
}
