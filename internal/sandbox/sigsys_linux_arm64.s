#include "textflag.h"

// The kernel calls a SA_SIGINFO handler as handler(sig, info, ucontext):
// R0, R1, R2. The system call's number is at offset 24 of the siginfo
// (si_syscall), its architecture token at 28 (si_arch).
TEXT ·sigsysHandler(SB),NOSPLIT|NOFRAME,$0
	MOVD	·sigsysCell(SB), R3
	CBZ	R3, raise
	MOVWU	24(R1), R4
	MOVWU	28(R1), R5
	ORR	R4<<32, R5, R4
	MOVD	R4, (R3)
raise:
	// tgkill(getpid(), gettid(), SIGSYS): SIGSYS has its default action
	// again (SA_RESETHAND) and is not blocked (SA_NODEFER), so the process
	// ends here.
	MOVD	$172, R8 // getpid
	SVC
	MOVD	R0, R19
	MOVD	$178, R8 // gettid
	SVC
	MOVD	R0, R1
	MOVD	R19, R0
	MOVD	$31, R2 // SIGSYS
	MOVD	$131, R8 // tgkill
	SVC
	MOVD	$159, R0 // not reached: 128 + SIGSYS, for the record
	MOVD	$94, R8 // exit_group
	SVC
	BRK

TEXT ·sigsysRestorer(SB),NOSPLIT|NOFRAME,$0
	MOVD	$139, R8 // rt_sigreturn
	SVC
	BRK

TEXT ·sigsysHandlerPC(SB),NOSPLIT,$0-8
	MOVD	$·sigsysHandler(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·sigsysRestorerPC(SB),NOSPLIT,$0-8
	MOVD	$·sigsysRestorer(SB), R0
	MOVD	R0, ret+0(FP)
	RET
