#include "textflag.h"

// LONG vehHandler(EXCEPTION_POINTERS *p), called by Windows with p in CX.
// It records an error-severity exception (code 0xCxxxxxxx) raised outside
// this program's image in the words at ·vehFault (code) and ·vehFault+8
// (address), and returns EXCEPTION_CONTINUE_SEARCH (0), except for a
// stack overflow, where it terminates the process with its code. It
// uses only registers the convention lets it clobber (AX, CX, DX, R8-R11)
// and no stack.
TEXT ·vehHandler(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ	0(CX), R8         // p->ExceptionRecord
	MOVL	0(R8), DX         // ExceptionCode
	MOVL	DX, R9
	SHRL	$28, R9
	CMPL	R9, $0xC
	JNE	pass
	MOVQ	16(R8), R10       // ExceptionAddress
	MOVQ	·vehLo(SB), R11
	CMPQ	R10, R11
	JCS	record            // below the image
	MOVQ	·vehHi(SB), R11
	CMPQ	R10, R11
	JCS	pass              // inside it: the runtime's own
record:
	MOVQ	·vehFault(SB), R11
	TESTQ	R11, R11
	JEQ	pass
	MOVQ	R10, 8(R11)
	MOVL	DX, 0(R11)
	CMPL	DX, $0xC00000FD
	JEQ	overflow
pass:
	XORL	AX, AX
	RET
overflow:
	// A stack overflow: nothing can run on this thread any more (the
	// runtime's crash report would overflow again), so end the process
	// now with the exception's code: TerminateProcess(-1, code), with
	// the 32-byte home area the convention asks for and SP aligned.
	MOVQ	·vehTerminate(SB), AX
	TESTQ	AX, AX
	JEQ	pass
	SUBQ	$40, SP
	MOVQ	$-1, CX
	CALL	AX
	ADDQ	$40, SP
	JMP	pass

// func vehAddr() uintptr
TEXT ·vehAddr(SB), NOSPLIT, $0-8
	MOVQ	$·vehHandler(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
