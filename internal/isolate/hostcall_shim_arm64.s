//go:build linux

#include "textflag.h"

// The worker's host-table entries for linux/arm64: see
// hostcall_shim_amd64.s. The runtime keeps g in a thread-local word as
// well as in R28 when it runs with a C runtime (purego's), at the offset
// from TPIDR_EL0 that shimTLSOffset holds once hostEntries has checked it.
// R28 itself is of no use here: C code may hold anything in it. Only R9
// to R12 (scratch registers in C) are used, and globals are reached by
// address so that the assembler needs no R27 (callee-saved in C).

// shimCall(ctx, id, args, args_len, out, out_cap, out_len) int32; out_len
// is in R6.
TEXT shimCall<>(SB), NOSPLIT|NOFRAME, $0
	MOVD $·shimTLSOffset(SB), R10
	MOVD (R10), R10
	MRS TPIDR_EL0, R9
	MOVD (R9)(R10), R9
	CBZ R9, foreign
	MOVD $·shimCallTarget(SB), R10
	MOVD (R10), R10
	JMP (R10)
foreign:
	CBZ R6, answer
	MOVD ZR, (R6)
answer:
	MOVD $-6, R0
	RET

// shimLog(ctx, level, msg, msg_len): a record from a foreign thread is
// counted as lost.
TEXT shimLog<>(SB), NOSPLIT|NOFRAME, $0
	MOVD $·shimTLSOffset(SB), R10
	MOVD (R10), R10
	MRS TPIDR_EL0, R9
	MOVD (R9)(R10), R9
	CBZ R9, foreign
	MOVD $·shimLogTarget(SB), R10
	MOVD (R10), R10
	JMP (R10)
foreign:
	MOVD $·shimLost(SB), R10
	MOVD (R10), R10
again:
	LDAXR (R10), R11
	ADD $1, R11, R11
	STLXR R11, (R10), R12
	CBNZ R12, again
	RET

// func shimEntries() (call, log uintptr)
TEXT ·shimEntries(SB), NOSPLIT, $0-16
	MOVD $shimCall<>(SB), R0
	MOVD R0, call+0(FP)
	MOVD $shimLog<>(SB), R0
	MOVD R0, log+8(FP)
	RET

// func tlsWord(off uintptr) uintptr
TEXT ·tlsWord(SB), NOSPLIT, $0-16
	MOVD off+0(FP), R0
	MRS TPIDR_EL0, R1
	MOVD (R1)(R0), R0
	MOVD R0, ret+8(FP)
	RET
