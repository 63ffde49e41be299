#include "textflag.h"

// The kernel calls a SA_SIGINFO handler as handler(sig, info, ucontext):
// DI, SI, DX. The system call's number is at offset 24 of the siginfo
// (si_syscall), its architecture token at 28 (si_arch).
TEXT ·sigsysHandler(SB),NOSPLIT|NOFRAME,$0
	MOVQ	·sigsysCell(SB), AX
	TESTQ	AX, AX
	JZ	raise
	MOVL	24(SI), CX
	MOVL	28(SI), DX
	SHLQ	$32, CX
	ORQ	DX, CX
	MOVQ	CX, 0(AX)
raise:
	// tgkill(getpid(), gettid(), SIGSYS): SIGSYS has its default action
	// again (SA_RESETHAND) and is not blocked (SA_NODEFER), so the process
	// ends here.
	MOVL	$39, AX // getpid
	SYSCALL
	MOVQ	AX, R12
	MOVL	$186, AX // gettid
	SYSCALL
	MOVQ	R12, DI
	MOVQ	AX, SI
	MOVL	$31, DX // SIGSYS
	MOVL	$234, AX // tgkill
	SYSCALL
	MOVL	$159, DI // not reached: 128 + SIGSYS, for the record
	MOVL	$231, AX // exit_group
	SYSCALL
	INT	$3

TEXT ·sigsysRestorer(SB),NOSPLIT|NOFRAME,$0
	MOVL	$15, AX // rt_sigreturn
	SYSCALL
	INT	$3

TEXT ·sigsysHandlerPC(SB),NOSPLIT,$0-8
	LEAQ	·sigsysHandler(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·sigsysRestorerPC(SB),NOSPLIT,$0-8
	LEAQ	·sigsysRestorer(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
