/* manifest.h: the run configuration stored inside an lbvm image, its parser and writer. */
#ifndef IMAGES_MANIFEST_H
#define IMAGES_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

/* Where the manifest lives inside every lbvm image. */
#define MANIFEST_PATH "/.lbvm/manifest"
#define MANIFEST_DIR ".lbvm"
#define MANIFEST_FILE "manifest"
#define MANIFEST_MAX (64 * 1024)   /* bytes */
#define MANIFEST_MAX_ITEMS 256     /* args, and env entries, each */
#define MANIFEST_MAX_LINE 4096

struct manifest {
	char *entry;               /* absolute path inside the image */
	int nargs;
	char *args[MANIFEST_MAX_ITEMS];
	int nenv;
	char *env[MANIFEST_MAX_ITEMS];
	char *workdir;             /* absolute, default "/" */
	uint64_t mem;              /* bytes, 0 = lbvm's default */
	char storage[MANIFEST_MAX + 1]; /* the strings above point in here */
};

/*
 * Parse text of len bytes (hostile: any bytes). 0, or -1 with *why set to a
 * short static reason and *line to the 1-based line number.
 */
int manifest_parse(struct manifest *m, const char *text, size_t len, const char **why, int *line);

/* Write m as text into buf. Length written, or -1 if it does not fit or a value cannot be represented. */
long manifest_format(const struct manifest *m, char *buf, size_t size);

#endif
