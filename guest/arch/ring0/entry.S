/* entry.S (ring0): boot, syscall and exception entry, and the returns to user mode with sysretq and iretq. */

/* User RFLAGS may keep the arithmetic flags, TF, DF, AC and ID; IF is always on, IOPL always 0. */
#define RFLAGS_USER_MASK 0x240dd5
#define RFLAGS_USER_SET  0x202

#include "arch/entry.inc"

/* Frame offsets once the registers are pushed: 15 registers, vec, err, then the iret frame. */
#define F_RIP 136
#define F_CS  144

/*
 * SYSCALL from user mode: RCX = user RIP, R11 = user RFLAGS, IF/TF/DF/AC
 * cleared by SFMASK, GS and RSP still the user's.
 */
	.globl	ring0_syscall_entry
ring0_syscall_entry:
	swapgs
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
	/* sysretq to a non-canonical RIP faults in ring 0 on the user's stack (Intel): such returns take iretq. */
	mov	F_RIP(%rsp), %r11
	shr	$47, %r11
	jnz	ret_user_full
	POP_GPRS
	add	$16, %rsp
	cli
	mov	0(%rsp), %rcx
	mov	16(%rsp), %r11
	and	$RFLAGS_USER_MASK, %r11
	or	$RFLAGS_USER_SET, %r11
	mov	24(%rsp), %rsp
	swapgs
	sysretq

/* Return to user mode through an iret frame: every register from the frame, CS and SS forced to the user's. */
ret_user_full:
	POP_GPRS
	add	$16, %rsp
	cli
	movq	$0x33, 8(%rsp)
	movq	$0x2b, 32(%rsp)
	andq	$RFLAGS_USER_MASK, 16(%rsp)
	orq	$RFLAGS_USER_SET, 16(%rsp)
	/* iretq to a non-canonical RIP would fault in the kernel: send the program to address 0 instead, a SIGSEGV. */
	push	%rax
	mov	8(%rsp), %rax
	shr	$47, %rax
	pop	%rax
	jz	1f
	movq	$0, (%rsp)
1:	swapgs
	iretq

/* void cpu_enter_user(struct uregs *r): restore everything from r. */
	.globl	cpu_enter_user
cpu_enter_user:
	mov	%rdi, %rsp
	jmp	ret_user_full

/* Exceptions and the tick: from user mode they arrive on TSS.RSP0 (NMI, #DF, #MC on their IST stacks). */
	.macro	TRAP vec, has_err
	.globl	trap_\vec
trap_\vec:
	.if \has_err == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	trap_common
	.endm

	/* NMI, #DF, #MC: they can arrive between a swapgs and the sysretq or iretq after it, where CS does not tell GS. */
	.macro	TRAP_IST vec, has_err
	.globl	trap_\vec
trap_\vec:
	.if \has_err == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	trap_paranoid
	.endm

	TRAP 0,0
	TRAP 1,0
	TRAP_IST 2,0
	TRAP 3,0
	TRAP 4,0
	TRAP 5,0
	TRAP 6,0
	TRAP 7,0
	TRAP_IST 8,1
	TRAP 9,0
	TRAP 10,1
	TRAP 11,1
	TRAP 12,1
	TRAP 13,1
	TRAP 15,0
	TRAP 16,0
	TRAP 17,1
	TRAP_IST 18,0
	TRAP 19,0
	TRAP 20,0
	TRAP 21,1
	TRAP 32,0		/* the preemption tick: the local APIC timer */

/* The local APIC's spurious interrupt: nothing to do, and no EOI. */
	.globl	ring0_spurious
ring0_spurious:
	iretq

/* #PF: CR2 is saved before anything else can fault and change it. */
	.globl	trap_14
trap_14:
	push	%rax
	mov	%cr2, %rax
	mov	%rax, ring0_cr2(%rip)
	pop	%rax
	pushq	$14
	jmp	trap_common

trap_common:
	testb	$3, 24(%rsp)		/* the CPU's frame: vec, err, rip, then cs */
	jz	trap_gs_ok
	swapgs
trap_gs_ok:
	PUSH_GPRS
	mov	%rsp, %rdi
	/* RFLAGS = 2: AC off (a user's AC would lift SMAP in the kernel), DF off; IF is off already. */
	pushq	$2
	popfq
	call	trap_entry_c
	testb	$3, F_CS(%rsp)
	jnz	ret_user_full
	POP_GPRS
	add	$16, %rsp
	iretq

/*
 * The kernel's GS base, loaded outright: these vectors are fatal to the
 * kernel (and a user-mode one kills the program), so nothing returns into
 * that window with the user's GS lost.
 */
trap_paranoid:
	testb	$3, 24(%rsp)
	jz	1f
	swapgs
1:	push	%rax
	mov	ring0_percpu(%rip), %rax
	wrgsbase %rax
	pop	%rax
	jmp	trap_gs_ok

	.globl	ring0_trap_table
	.section .rodata
ring0_trap_table:
	.irp v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21
	.quad	trap_\v
	.endr
	.quad	trap_32

	.bss
	.balign	16
	.globl	ring0_cr2
ring0_cr2:
	.skip	8

