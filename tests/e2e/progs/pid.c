/* pid.c: what the program sees of its identity: the guest kernel's, not the host's. */
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void)
{
	struct utsname u;
	uname(&u);
	printf("pid=%d ppid=%d uid=%d\n", getpid(), getppid(), getuid());
	printf("sysname=%s nodename=%s machine=%s\n", u.sysname, u.nodename, u.machine);
	return 0;
}
