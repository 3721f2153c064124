/* vdso_blob.S: the vDSO's bytes inside the kernel, page aligned, so its pages can be mapped into programs as they are. */
	.section .data
	.balign 4096
	.globl	vdso_image, vdso_image_end
vdso_image:
	.incbin	VDSO_SO
	.balign 4096
	.space	4096		/* the data page (vdso.h: VDSO_DATA_OFF), filled at boot */
vdso_image_end:
	.section .note.GNU-stack, "", @progbits
