/* image.h: app images on the host side: open one for lbvm run, and the pack and inspect commands. */
#ifndef IMAGES_IMAGE_H
#define IMAGES_IMAGE_H

#include <stdint.h>
#include "guest/lib/erofs.h"
#include "images/manifest.h"

struct image {
	int fd;
	const uint8_t *map;     /* the whole file, read-only, MAP_PRIVATE */
	uint64_t size;          /* bytes in the file */
	uint64_t map_size;      /* size rounded up to 4096: the length of the mapping */
	struct erofs_fs fs;
	struct manifest m;      /* parsed from MANIFEST_PATH inside the image */
};

/*
 * Open an app image: map it, check the EROFS superblock, read and parse its
 * manifest. 0, or an lbvm exit status (125 bad image or I/O error, 126 not
 * readable, 127 no such file) after logging why. On failure nothing is left
 * open.
 */
int image_open(const char *path, struct image *img);
void image_close(struct image *img);

/* 1 if path is a file that starts like an EROFS image (the magic at offset 1024), else 0. */
int image_is_erofs(const char *path);

/* lbvm pack DIR -o IMAGE ... and lbvm inspect IMAGE; argv starts after the command word. Exit statuses. */
int pack_main(int argc, char **argv);
int inspect_main(int argc, char **argv);

#endif
