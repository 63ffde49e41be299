//go:build unix

#include "textflag.h"

// The worker's host-table entries (see hostcall_shim.go). They are C
// functions: the module calls them with the C calling convention, on its
// own stack, and they run no Go code. On a thread the Go runtime started,
// the runtime's thread-local g slot is set (to the M's g0 while the
// thread is in C) and the entry jumps on to the purego callback with the
// module's registers and stack untouched. On any other thread the slot is
// zero: the callback would block there for the worker's life, so the entry
// answers itself.

// shimCall(ctx, id, args, args_len, out, out_cap, out_len) int32.
// out_len, the seventh argument, is on the stack above the return address.
TEXT shimCall<>(SB), NOSPLIT|NOFRAME, $0
	MOVQ TLS, AX
	MOVQ 0(AX)(TLS*1), AX
	TESTQ AX, AX
	JZ foreign
	MOVQ ·shimCallTarget(SB), AX
	JMP AX
foreign:
	MOVQ 8(SP), AX
	TESTQ AX, AX
	JZ answer
	MOVQ $0, 0(AX)
answer:
	MOVQ $-6, AX
	RET

// shimLog(ctx, level, msg, msg_len): a record from a foreign thread is
// counted as lost.
TEXT shimLog<>(SB), NOSPLIT|NOFRAME, $0
	MOVQ TLS, AX
	MOVQ 0(AX)(TLS*1), AX
	TESTQ AX, AX
	JZ foreign
	MOVQ ·shimLogTarget(SB), AX
	JMP AX
foreign:
	MOVQ ·shimLost(SB), AX
	LOCK
	INCQ 0(AX)
	RET

// func shimEntries() (call, log uintptr)
TEXT ·shimEntries(SB), NOSPLIT, $0-16
	LEAQ shimCall<>(SB), AX
	MOVQ AX, call+0(FP)
	LEAQ shimLog<>(SB), AX
	MOVQ AX, log+8(FP)
	RET
