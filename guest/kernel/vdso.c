/* vdso.c: map the vDSO (guest/vdso/) into a program, its data page filled once with the clock's parameters. */
#include "kernel.h"
#include "mm/mm.h"
#include "guest/vdso/vdso.h"

extern uint8_t vdso_image[], vdso_image_end[];

/*
 * The same frames in every process, read-only and executable: the kernel
 * writes the data page before the first program starts and never again, so
 * nothing a program sees there can change under it.
 */
uint64_t vdso_map(struct mm *mm)
{
	static int filled;
	uint64_t len = (uint64_t)(vdso_image_end - vdso_image);
	if (len != VDSO_DATA_OFF + PAGE_SIZE)
		return 0;
	if (!filled) {
		struct vdso_data *d = (struct vdso_data *)(vdso_image + VDSO_DATA_OFF);
		d->mult = (1000000ull << 32) / boot.tsc_khz;  /* as time.c */
		d->boot_tsc = boot.boot_tsc;
		d->boot_monotonic_ns = boot.boot_monotonic_ns;
		d->boot_realtime_ns = boot.boot_realtime_ns;
		filled = 1;
	}
	uint64_t base = mm_find_free(mm, len, 0);
	if (!base || mm_map(mm, base, len, PROT_READ | PROT_EXEC, 0, 0))
		return 0;
	for (uint64_t off = 0; off < len; off += PAGE_SIZE)
		if (mm_map_phys(mm, base + off, kva_to_pa(vdso_image + off), PROT_READ | PROT_EXEC))
			return 0;
	return base;
}
