/* locks.c: fcntl record locks between parent and child (F_GETLK, F_SETLK EAGAIN, F_SETLKW waits, release on close), and flock. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHOW(what, call) do { long r_ = (call); printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerror(errno) : "ok"); fflush(stdout); } while (0)
#define PATH "/tmp/locks-test"

static int lk(int fd, int cmd, int type, long start, long len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl);
}

static void getlk(const char *what, int fd, int type, long start, long len, pid_t expect)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	int r = fcntl(fd, F_GETLK, &fl);
	printf("%s: %d type %s start %ld len %ld by %s\n", what, r, fl.l_type == F_UNLCK ? "unlocked" : fl.l_type == F_WRLCK ? "write" : "read",
	       (long)fl.l_start, (long)fl.l_len, fl.l_type == F_UNLCK ? "-" : fl.l_pid == expect ? "the other" : "someone else");
	fflush(stdout);
}

int main(void)
{
	int fd = open(PATH, O_CREAT | O_RDWR | O_TRUNC, 0600);
	write(fd, "0123456789", 10);
	int sync1[2], sync2[2];
	pipe(sync1);
	pipe(sync2);
	char c;
	SHOW("parent write lock 0..9", lk(fd, F_SETLK, F_WRLCK, 0, 10));
	SHOW("parent read lock 20..", lk(fd, F_SETLK, F_RDLCK, 20, 0));
	pid_t parent = getpid();
	pid_t kid = fork();
	if (kid == 0) {
		int cfd = open(PATH, O_RDWR);
		getlk("child getlk 5..6", cfd, F_WRLCK, 5, 2, parent);
		getlk("child getlk read 30..", cfd, F_RDLCK, 30, 0, parent);
		getlk("child getlk write 30..", cfd, F_WRLCK, 30, 0, parent);
		getlk("child getlk 10..19", cfd, F_WRLCK, 10, 10, parent);
		SHOW("child setlk 5", lk(cfd, F_SETLK, F_WRLCK, 5, 1));
		SHOW("child read lock 25", lk(cfd, F_SETLK, F_RDLCK, 25, 1));
		SHOW("child write lock 12..15", lk(cfd, F_SETLK, F_WRLCK, 12, 4));
		write(sync1[1], "a", 1);
		/* the parent unlocks 0..4 and closes its fd later: wait for each */
		SHOW("child setlkw 3", lk(cfd, F_SETLKW, F_WRLCK, 3, 1));
		SHOW("child setlkw 8", lk(cfd, F_SETLKW, F_WRLCK, 8, 1));
		write(sync1[1], "b", 1);
		read(sync2[0], &c, 1);
		_exit(0);
	}
	read(sync1[0], &c, 1);
	getlk("parent getlk 12..15", fd, F_RDLCK, 0, 0, kid);
	SHOW("parent setlk 13", lk(fd, F_SETLK, F_RDLCK, 13, 1));
	int unlocked = lk(fd, F_SETLK, F_UNLCK, 0, 5);   /* shown once the child is through: the order is then fixed */
	usleep(50000);
	int other = open(PATH, O_RDONLY);
	close(other); /* closing any descriptor of the file drops the parent's locks */
	read(sync1[0], &c, 1);
	SHOW("parent unlock 0..4", unlocked);
	getlk("parent getlk 8", fd, F_WRLCK, 8, 1, kid);
	write(sync2[1], "c", 1);
	waitpid(kid, NULL, 0);
	getlk("after the child exits", fd, F_WRLCK, 0, 0, kid);
	SHOW("bad type", lk(fd, F_SETLK, 9, 0, 1));
	SHOW("bad whence", fcntl(fd, F_SETLK, &(struct flock){ .l_type = F_RDLCK, .l_whence = 7 }));
	int ro = open(PATH, O_RDONLY);
	SHOW("write lock on read-only fd", lk(ro, F_SETLK, F_WRLCK, 0, 1));
	SHOW("ebadf", lk(99, F_SETLK, F_WRLCK, 0, 1));

	/* flock: shared with shared, exclusive against both; owned by the open file */
	int a = open(PATH, O_RDONLY), b = open(PATH, O_RDONLY);
	SHOW("flock a sh", flock(a, LOCK_SH));
	SHOW("flock b sh", flock(b, LOCK_SH | LOCK_NB));
	SHOW("flock b ex nb", flock(b, LOCK_EX | LOCK_NB));
	SHOW("flock a un", flock(a, LOCK_UN));
	SHOW("flock b ex nb", flock(b, LOCK_EX | LOCK_NB));
	SHOW("flock a sh nb", flock(a, LOCK_SH | LOCK_NB));
	int bd = dup(b);
	close(b);
	SHOW("flock a sh nb, b still open by dup", flock(a, LOCK_SH | LOCK_NB));
	kid = fork();
	if (kid == 0) {
		usleep(50000);
		close(bd);   /* the child's copy: the lock stays while the parent holds one */
		_exit(0);
	}
	waitpid(kid, NULL, 0);
	SHOW("after the child closed its copy", flock(a, LOCK_SH | LOCK_NB));
	close(bd);
	SHOW("after the last close", flock(a, LOCK_SH | LOCK_NB));
	SHOW("flock bad op", flock(a, 3));
	SHOW("flock ebadf", flock(99, LOCK_SH));
	unlink(PATH);
	return 0;
}
