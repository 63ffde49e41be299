//go:build darwin || freebsd || linux || netbsd

#include "textflag.h"

// The C entries of the host table: see host_entry_amd64.s. All seven
// arguments arrive in R0-R6. Each entry keeps the block, the link register
// and R27 (callee-saved in C, and the assembler's scratch register) in a
// 16-byte aligned area of its own stack. R18 (reserved on darwin) is not
// touched.

// hostCall: the block is hostCallArgs at 0(RSP), eight words; R27 and the
// link register follow.
TEXT hostCallEntry<>(SB), NOSPLIT|NOFRAME, $0
	SUB $80, RSP, RSP
	STP (R27, R30), 64(RSP)
	STP (R0, R1), 0(RSP)
	STP (R2, R3), 16(RSP)
	STP (R4, R5), 32(RSP)
	MOVD R6, 48(RSP)
	MOVD ZR, 56(RSP)
	MOVD RSP, R0
	MOVD ·hostCallTarget(SB), R9
	CALL (R9)
	MOVD 56(RSP), R0
	LDP 64(RSP), (R27, R30)
	ADD $80, RSP, RSP
	RET

// hostLog: the block is hostLogArgs at 0(RSP), four words.
TEXT hostLogEntry<>(SB), NOSPLIT|NOFRAME, $0
	SUB $48, RSP, RSP
	STP (R27, R30), 32(RSP)
	STP (R0, R1), 0(RSP)
	STP (R2, R3), 16(RSP)
	MOVD RSP, R0
	MOVD ·hostLogTarget(SB), R9
	CALL (R9)
	LDP 32(RSP), (R27, R30)
	ADD $48, RSP, RSP
	RET

GLOBL ·hostCallEntryABI0(SB), NOPTR|RODATA, $8
DATA ·hostCallEntryABI0(SB)/8, $hostCallEntry<>(SB)
GLOBL ·hostLogEntryABI0(SB), NOPTR|RODATA, $8
DATA ·hostLogEntryABI0(SB)/8, $hostLogEntry<>(SB)
