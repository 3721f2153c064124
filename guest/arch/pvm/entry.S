/* entry.S (pvm): boot, syscall and exception entry, and the exit-free returns to user mode. */

#define PVM_VEC_ERETU  0x17 /* return to user: iret frame at RSP */
#define PVM_VEC_DSIRET 0x19 /* return to user: RIP = RCX, RFLAGS = R11, RSP as is */

#include "arch/entry.inc"

/*
 * SYSCALL from user mode: the host trampoline has switched to the kernel
 * page table and GS, RCX = user RIP, R11 = user RFLAGS, but RSP is still the
 * user stack (kvm-pvm does not switch it).
 */
	.globl	pvm_syscall_entry
pvm_syscall_entry:
	mov	%rsp, %gs:8
	mov	%gs:0, %rsp
	pushq	$0x2b			/* ss */
	pushq	%gs:8			/* rsp */
	push	%r11			/* rflags */
	pushq	$0x33			/* cs */
	push	%rcx			/* rip */
	pushq	$-1			/* err: -1 marks a syscall frame (exceptions push 0 or their code) */
	push	%rax			/* vec: the syscall number */
	PUSH_GPRS
	mov	%rsp, %rdi
	cld
	call	syscall_entry_c
	test	%eax, %eax
	jnz	ret_user_full
	POP_GPRS
	add	$16, %rsp
	mov	0(%rsp), %rcx
	mov	16(%rsp), %r11
	mov	24(%rsp), %rsp
	int	$PVM_VEC_DSIRET
	ud2

ret_user_full:
	POP_GPRS
	add	$16, %rsp
	int	$PVM_VEC_ERETU
	ud2

/* void cpu_enter_user(struct uregs *r): restore everything from r. */
	.globl	cpu_enter_user
cpu_enter_user:
	mov	%rdi, %rsp
	jmp	ret_user_full

/* Exceptions: from user mode they arrive on TSS.RSP0 with the kernel GS. */
	.macro	TRAP vec, has_err
	.globl	trap_\vec
trap_\vec:
	.if \has_err == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	trap_common
	.endm

	TRAP 0,0
	TRAP 1,0
	TRAP 2,0
	TRAP 3,0
	TRAP 4,0
	TRAP 5,0
	TRAP 6,0
	TRAP 7,0
	TRAP 8,1
	TRAP 9,0
	TRAP 10,1
	TRAP 11,1
	TRAP 12,1
	TRAP 13,1
	TRAP 14,1
	TRAP 15,0
	TRAP 16,0
	TRAP 17,1
	TRAP 18,0
	TRAP 19,0
	TRAP 20,0
	TRAP 21,1
	TRAP 32,0		/* the VMM's preemption tick */

trap_common:
	PUSH_GPRS
	mov	%rsp, %rdi
	cld
	call	trap_entry_c
	testb	$3, 144(%rsp)		/* the frame's cs: 15 registers, vec, err, rip, then cs */
	jnz	ret_user_full
	/* A tick that arrived while the kernel waited in halt: back to it (an iretq, which exits once). */
	POP_GPRS
	add	$16, %rsp
	iretq

	.globl	pvm_trap_table
	.section .rodata
pvm_trap_table:
	.irp v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21
	.quad	trap_\v
	.endr
	.quad	trap_32
