#include "textflag.h"

// The worker's host-table entries on windows/amd64 (see hostcall_shim.go
// and, for the same entries elsewhere, hostcall_shim_amd64.s). The module
// calls them with the Windows x64 convention: ctx, id, args and args_len
// in CX, DX, R8 and R9, then out, out_cap and out_len on the stack above
// the return address and the 32-byte home area. They touch only AX, which
// the convention leaves to the callee, and run no Go code.
//
// The Go runtime keeps g in a TLS slot it allocates at start-up
// (runtime·wintls): the assembler turns "MOVQ TLS, AX" into a load of that
// slot's offset in the TEB (runtime·tls_g) and a load through GS, which
// yields the address of the thread's m.tls; g is the word there. On a
// thread the runtime started the slot is set when the thread starts and
// stays set, and the word holds a g while the thread runs Go or has left
// it for C. On a thread the module started the slot reads as 0 (TlsAlloc
// clears it on every thread, and a new thread starts with it clear), so
// the entry answers itself without reading further; a thread that entered
// Go once through some other callback and left it again has a slot but
// no g, and is answered the same way. (Were the runtime's TLS index 64 or
// more, unlikely this early in the process, before any module is loaded,
// the runtime would use the TEB's arbitrary user pointer instead: 0 on a
// new thread too, until code on that thread sets it.)

// shimCall(ctx, id, args, args_len, out, out_cap, out_len) int32.
// out_len, the seventh argument, is at 56(SP): the return address, the
// home area for the four register arguments, out and out_cap below it.
TEXT shimCall<>(SB), NOSPLIT|NOFRAME, $0
	MOVQ TLS, AX
	TESTQ AX, AX
	JZ foreign
	MOVQ 0(AX)(TLS*1), AX
	TESTQ AX, AX
	JZ foreign
	MOVQ ·shimCallTarget(SB), AX
	JMP AX
foreign:
	MOVQ 56(SP), AX
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
	TESTQ AX, AX
	JZ foreign
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
