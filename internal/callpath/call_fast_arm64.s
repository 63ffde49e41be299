//go:build linux || darwin

#include "textflag.h"

// trampoline is entered from runtime.asmcgocall on the system stack with
// the C calling convention: R0 holds a *Frame. It saves the frame pointer,
// the link register and the *Frame in a 32-byte (16-byte aligned) block,
// loads R0-R5 from the frame, calls frame.fn and stores R0 in frame.ret.
// When the frame has a mark source (Frame.MarkReturns) and W0&frame.mask is
// zero, it then copies the source word to frame.done with a release store
// (STLR): the call has left the module for good.
// R18 (reserved on darwin) is not touched.
TEXT trampoline<>(SB), NOSPLIT|NOFRAME, $0
	STP.W (R29, R30), -32(RSP)
	MOVD RSP, R29
	MOVD R0, 16(RSP)
	MOVD R0, R9
	MOVD 8(R9), R0
	MOVD 16(R9), R1
	MOVD 24(R9), R2
	MOVD 32(R9), R3
	MOVD 40(R9), R4
	MOVD 48(R9), R5
	MOVD 0(R9), R9
	CALL (R9)
	MOVD 16(RSP), R9
	MOVD R0, 56(R9)
	MOVD 64(R9), R10
	CBZ R10, nomark
	MOVWU 80(R9), R11
	TSTW R11, R0
	BNE nomark
	MOVD (R10), R11
	ADD $72, R9, R12
	STLR R11, (R12)
nomark:
	LDP.P 32(RSP), (R29, R30)
	RET

GLOBL ·trampolineABI0(SB), NOPTR|RODATA, $8
DATA ·trampolineABI0(SB)/8, $trampoline<>(SB)
