//go:build darwin || freebsd || linux || netbsd

#include "textflag.h"

// The C entries of the host table (host_entry.go). A module calls them with
// the C calling convention. Each stores its integer arguments in a block on
// its own stack and calls the purego callback with the block's address as
// the only argument: purego builds its reflect arguments per argument and
// boxes a returned value, and one pointer argument and no result is the
// least it allocates for. A call's result comes back in the block.

// hostCall(ctx, id, args, args_len, out, out_cap, out_len) int32: the block
// is hostCallArgs, eight words; out_len, the seventh argument, is on the
// stack above the return address. Entered with SP = 8 mod 16; 72 bytes
// more align it for the CALL.
TEXT hostCallEntry<>(SB), NOSPLIT|NOFRAME, $0
	SUBQ $72, SP
	MOVQ DI, 0(SP)
	MOVQ SI, 8(SP)
	MOVQ DX, 16(SP)
	MOVQ CX, 24(SP)
	MOVQ R8, 32(SP)
	MOVQ R9, 40(SP)
	MOVQ 80(SP), AX
	MOVQ AX, 48(SP)
	MOVQ $0, 56(SP)
	MOVQ SP, DI
	MOVQ ·hostCallTarget(SB), AX
	CALL AX
	MOVQ 56(SP), AX
	ADDQ $72, SP
	RET

// hostLog(ctx, level, msg, msg_len): the block is hostLogArgs, four words.
TEXT hostLogEntry<>(SB), NOSPLIT|NOFRAME, $0
	SUBQ $40, SP
	MOVQ DI, 0(SP)
	MOVQ SI, 8(SP)
	MOVQ DX, 16(SP)
	MOVQ CX, 24(SP)
	MOVQ SP, DI
	MOVQ ·hostLogTarget(SB), AX
	CALL AX
	ADDQ $40, SP
	RET

GLOBL ·hostCallEntryABI0(SB), NOPTR|RODATA, $8
DATA ·hostCallEntryABI0(SB)/8, $hostCallEntry<>(SB)
GLOBL ·hostLogEntryABI0(SB), NOPTR|RODATA, $8
DATA ·hostLogEntryABI0(SB)/8, $hostLogEntry<>(SB)
