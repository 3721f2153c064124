/*
 * replay.c: runs a libFuzzer harness without libFuzzer, on the files of a corpus directory, each in its
 * own process and bounded in time: `make check` replays the kept corpora on any machine (gcc only).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef REPLAY_NAME
#define REPLAY_NAME "fuzz-smoke"
#endif

static int run_one(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return 2;
	uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
		return 2;
	close(fd);
	int argc = 1;
	char *args[] = { (char *)REPLAY_NAME, NULL }, **argv = args;
	LLVMFuzzerInitialize(&argc, &argv);
	LLVMFuzzerTestOneInput(buf, (size_t)st.st_size);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : REPLAY_CORPUS;
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: cannot open the corpus %s: run from the repository root or name the directory\n", REPLAY_NAME, dir);
		return 1;
	}
	unsigned passed = 0, failed = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			exit(run_one(path)); /* exit, not _exit: the harness removes its temporary directories at exit */
		int st = 0;
		struct timespec start, now;
		clock_gettime(CLOCK_MONOTONIC, &start);
		while (pid > 0 && waitpid(pid, &st, WNOHANG) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec > 10) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				fprintf(stderr, "%s: %s: no end after 10 s\n", REPLAY_NAME, path);
				break;
			}
			usleep(2000);
		}
		if (pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			passed++;
		} else {
			failed++;
			fprintf(stderr, "%s: FAILED: %s (%s %d)\n", REPLAY_NAME, path, pid > 0 && WIFSIGNALED(st) ? "signal" : "status",
				pid > 0 && WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		}
	}
	closedir(d);
	printf("%s: %u passed, %u failed\n", REPLAY_NAME, passed, failed);
	return failed ? 1 : 0;
}
