/* guestmem.h: the guest's memory as the VMM sees it, and the one checked translation into it. */
#ifndef VMM_GUESTMEM_H
#define VMM_GUESTMEM_H

#include <stdint.h>

struct guest_mem {
	uint8_t *ram;        /* host mapping of guest RAM, GPA 0 .. ram_size */
	uint64_t ram_size;
};

/*
 * The host address of guest-physical [gpa, gpa + len), or NULL when any
 * byte of it is outside guest RAM or the range wraps. Nothing else in the
 * VMM turns a guest-supplied address into a pointer.
 */
void *gm_translate(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

#endif
