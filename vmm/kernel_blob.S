/* kernel_blob.S: the guest kernel, embedded in the lbvm binary so that lbvm is one self-contained file. */
	.section .rodata
	.balign 4096
	.globl	lbvm_kernel_start, lbvm_kernel_end
lbvm_kernel_start:
	.incbin	GUEST_KERNEL_PATH
lbvm_kernel_end:
	.section .note.GNU-stack, "", @progbits
