/* dynforkexec.c: a dynamic program forks, and its child execs another dynamic program (argv[1]). */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char *args[] = { argv[1], "from-child", NULL };
		char *env[] = { "DYN_CHILD=1", NULL };
		execve(argv[1], args, env);
		perror("execve");
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return 3;
	printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
