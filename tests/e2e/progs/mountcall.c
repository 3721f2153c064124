/* mountcall.c: the system calls that would change what the guest sees of the host's file systems; each must fail. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void try(const char *name, long r)
{
	printf("%s: %s\n", name, r == 0 ? "succeeded" : errno == ENOSYS ? "ENOSYS" : errno == EPERM ? "EPERM" : strerror(errno));
}

int main(void)
{
	try("mount", syscall(SYS_mount, "/src", "/mnt", "none", 4096 /* MS_BIND */, NULL));
	try("umount2", syscall(SYS_umount2, "/src", 0));
	try("pivot_root", syscall(SYS_pivot_root, "/src", "/src"));
	try("chroot", syscall(SYS_chroot, "/src"));
	try("open_tree", syscall(428 /* open_tree */, -100, "/src", 1));
	return 0;
}
