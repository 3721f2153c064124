/* guestmem.c: the one checked guest-physical to host translation. */
#include <stddef.h>
#include "guestmem.h"

void *gm_translate(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (gpa > gm->ram_size || len > gm->ram_size - gpa)
		return NULL;
	return gm->ram + gpa;
}
