//go:build linux || darwin

#include "textflag.h"

// trampoline is entered from runtime.asmcgocall on the system stack with
// the C calling convention: DI holds a *Frame. It loads the six integer
// argument registers from the frame, calls frame.fn and stores RAX in
// frame.ret. When the frame has a mark source (Frame.MarkReturns) and
// EAX&frame.mask is zero, it then copies the source word to frame.done: the
// call has left the module for good (a plain MOV is a release store on
// amd64, ordered after everything the thread did before it). The 16-byte
// frame (plus the saved BP the assembler adds) keeps SP 16-byte aligned at
// the CALL and holds the *Frame across it.
TEXT trampoline<>(SB), NOSPLIT, $16
	MOVQ DI, 8(SP)
	MOVQ DI, R11
	MOVQ 8(R11), DI
	MOVQ 16(R11), SI
	MOVQ 24(R11), DX
	MOVQ 32(R11), CX
	MOVQ 40(R11), R8
	MOVQ 48(R11), R9
	MOVQ 0(R11), R11
	XORL AX, AX
	CALL R11
	MOVQ 8(SP), R11
	MOVQ AX, 56(R11)
	MOVQ 64(R11), CX
	TESTQ CX, CX
	JZ nomark
	TESTL AX, 80(R11)
	JNZ nomark
	MOVQ 0(CX), CX
	MOVQ CX, 72(R11)
nomark:
	RET

GLOBL ·trampolineABI0(SB), NOPTR|RODATA, $8
DATA ·trampolineABI0(SB)/8, $trampoline<>(SB)
