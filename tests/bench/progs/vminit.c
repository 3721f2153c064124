/* vminit.c: /init of the QEMU microvm initramfs: run the workload given on the kernel command line, then leave QEMU. */
#include <stdio.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

/* QEMU's isa-debug-exit device, placed here by the harness (-device isa-debug-exit,iobase=0xf4). */
#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
	int status = 1;
	if (argc < 2) {
		fprintf(stderr, "vminit: no workload; put it after \"--\" on the kernel command line\n");
	} else {
		pid_t pid = fork();
		if (pid == 0) {
			execv(argv[1], argv + 1);
			perror(argv[1]);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, &status, 0) == pid)
			status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	}
	/* QEMU exits with (value << 1) | 1; a power-off is the fallback where the port is absent. */
	if (ioperm(DEBUG_EXIT_PORT, 1, 1) == 0)
		outb((unsigned char)status, DEBUG_EXIT_PORT);
	reboot(RB_POWER_OFF);
	return status;
}
