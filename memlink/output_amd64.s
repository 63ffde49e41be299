//go:build !purego

#include "textflag.h"

// func takeNULFast(dst, buf *[]byte, argsLen int) int
//
// See output_amd64.go. Registers: R12 dst (the slice header), DI where the
// output goes in *dst, CX the scan limit, SI the data of *buf, DX its
// length, R8 argsLen and then the scrub end, BX the offset in *buf, X0
// zero.
TEXT ·takeNULFast(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), R12
	MOVQ buf+8(FP), SI
	MOVQ 0(R12), DI
	MOVQ 8(R12), AX
	MOVQ 16(R12), CX
	MOVQ 8(SI), DX
	MOVQ 0(SI), SI
	MOVQ argsLen+16(FP), R8
	XORQ BX, BX
	SUBQ AX, CX             // room
	JLE  more               // no room: nothing copied
	ADDQ AX, DI
	// limit = min(room, len(buf), 320)
	CMPQ CX, DX
	CMOVQGT DX, CX
	MOVQ $320, AX
	CMPQ CX, AX
	CMOVQGT AX, CX
	PXOR X0, X0

block:
	// Sixty-four bytes at a time while a whole block lies within the limit
	// and holds no zero byte (PMINUB: the smallest byte of the four chunks
	// is zero when any is): copy it and clear it.
	LEAQ 64(BX), AX
	CMPQ AX, CX
	JGT  chunk
	MOVOU (SI)(BX*1), X1
	MOVOU 16(SI)(BX*1), X2
	MOVOU 32(SI)(BX*1), X3
	MOVOU 48(SI)(BX*1), X4
	MOVO X1, X5
	PMINUB X2, X5
	PMINUB X3, X5
	PMINUB X4, X5
	PCMPEQB X0, X5
	PMOVMSKB X5, AX
	TESTL AX, AX
	JNZ  chunk
	MOVOU X1, (DI)(BX*1)
	MOVOU X2, 16(DI)(BX*1)
	MOVOU X3, 32(DI)(BX*1)
	MOVOU X4, 48(DI)(BX*1)
	MOVOU X0, (SI)(BX*1)
	MOVOU X0, 16(SI)(BX*1)
	MOVOU X0, 32(SI)(BX*1)
	MOVOU X0, 48(SI)(BX*1)
	ADDQ $64, BX
	JMP  block

chunk:
	// Then (the block with the NUL, or what is left before the limit)
	// sixteen bytes at a time while a whole chunk lies within the limit: a
	// chunk without a zero byte is copied and cleared; the first with one
	// ends the loop.
	LEAQ 16(BX), AX
	CMPQ AX, CX
	JGT  tail
	MOVOU (SI)(BX*1), X1
	MOVO X0, X2
	PCMPEQB X1, X2
	PMOVMSKB X2, AX
	TESTL AX, AX
	JNZ  found
	MOVOU X1, (DI)(BX*1)
	MOVOU X0, (SI)(BX*1)
	ADDQ $16, BX
	JMP  chunk

found:
	// The NUL is z bytes into the chunk at BX (held in X1): copy those z
	// bytes with at most one store of 8, 4, 2 and 1 bytes each, so that
	// nothing after the output is written. The chunk itself is cleared
	// below, from BX.
	BSFL AX, R9
	LEAQ (DI)(BX*1), R10
	MOVQ X1, R11
	TESTQ $8, R9
	JZ   four
	MOVQ R11, (R10)
	ADDQ $8, R10
	PSRLDQ $8, X1
	MOVQ X1, R11

four:
	TESTQ $4, R9
	JZ   two
	MOVL R11, (R10)
	ADDQ $4, R10
	SHRQ $32, R11

two:
	TESTQ $2, R9
	JZ   one
	MOVW R11, (R10)
	ADDQ $2, R10
	SHRQ $16, R11

one:
	TESTQ $1, R9
	JZ   foundend
	MOVB R11, (R10)

foundend:
	LEAQ (BX)(R9*1), AX
	JMP  scrub

tail:
	// Fewer than 16 bytes left before the limit: byte by byte, each copied
	// and cleared.
	CMPQ BX, CX
	JGE  tailend
	MOVBLZX (SI)(BX*1), R10
	TESTL R10, R10
	JZ   tailnul
	MOVB R10, (DI)(BX*1)
	MOVB $0, (SI)(BX*1)
	INCQ BX
	JMP  tail

tailnul:
	MOVQ BX, AX
	JMP  scrub

tailend:
	// No NUL before the limit. At the end of buf the output is all of it;
	// otherwise the caller goes on from BX.
	CMPQ CX, DX
	JNE  more
	MOVQ DX, AX
	JMP  scrub

more:
	MOVQ BX, ret+24(FP)
	RET

scrub:
	// AX is the output's length, buf[:BX] is clear: extend *dst by AX and
	// return -1 (done). Then end = min(max(AX, argsLen), len(buf)); clear
	// buf[BX:end] and test the window buf[end:end+64].
	ADDQ AX, 8(R12)
	MOVQ $-1, ret+24(FP)
	CMPQ R8, AX
	CMOVQLT AX, R8
	CMPQ R8, DX
	CMOVQGT DX, R8

clear:
	LEAQ 16(BX), R9
	CMPQ R9, R8
	JGT  cleartail
	MOVOU X0, (SI)(BX*1)
	MOVQ R9, BX
	JMP  clear

cleartail:
	CMPQ BX, R8
	JGE  window
	CMPQ R8, $16
	JLT  clearbytes
	MOVOU X0, -16(SI)(R8*1)
	JMP  window

clearbytes:
	MOVB $0, (SI)(BX*1)
	INCQ BX
	CMPQ BX, R8
	JLT  clearbytes

window:
	MOVQ DX, R9
	SUBQ R8, R9
	CMPQ R9, $64
	JLT  windowbytes
	MOVOU (SI)(R8*1), X1
	MOVOU 16(SI)(R8*1), X2
	POR  X2, X1
	MOVOU 32(SI)(R8*1), X2
	POR  X2, X1
	MOVOU 48(SI)(R8*1), X2
	POR  X2, X1
	PCMPEQB X0, X1
	PMOVMSKB X1, AX
	CMPL AX, $0xffff
	JNE  dirty
	RET

windowbytes:
	TESTQ R9, R9
	JZ   clean
	LEAQ (SI)(R8*1), R10
	XORL AX, AX

windowloop:
	MOVBLZX (R10), R11
	ORL  R11, AX
	INCQ R10
	DECQ R9
	JNZ  windowloop
	TESTL AX, AX
	JNZ  dirty

clean:
	RET

dirty:
	// Something past the window's start: the module wrote beyond its
	// terminator, so clear the rest of the buffer (rare).
	MOVQ R8, BX

dirtyloop:
	CMPQ BX, DX
	JGE  clean
	MOVB $0, (SI)(BX*1)
	INCQ BX
	JMP  dirtyloop
