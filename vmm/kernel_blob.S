/* kernel_blob.S: both guest kernels (pvm and ring 0), embedded in the lbvm binary so that lbvm is one self-contained file. */
	.section .rodata
	.balign 4096
	.globl	lbvm_kernel_pvm_start, lbvm_kernel_pvm_end
lbvm_kernel_pvm_start:
	.incbin	KERNEL_PVM
lbvm_kernel_pvm_end:
	.balign 4096
	.globl	lbvm_kernel_ring0_start, lbvm_kernel_ring0_end
lbvm_kernel_ring0_start:
	.incbin	KERNEL_RING0
lbvm_kernel_ring0_end:
	.section .note.GNU-stack, "", @progbits
