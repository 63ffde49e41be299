#include "textflag.h"

// func currentCPU() (cpu uint32, ok bool)
//
// LSL of the per-CPU GDT entry (selector 15*8+3) reads the limit Linux
// gives that segment on each CPU: (node << 12) | cpu. It is how the vDSO's
// getcpu works on processors without RDPID. ZF is clear when the selector
// is not valid (another kernel), and ok is then false.
TEXT ·currentCPU(SB), NOSPLIT, $0-5
	MOVL $0x7b, BX
	XORL AX, AX
	LSLL BX, AX
	SETEQ ok+4(FP)
	MOVL AX, cpu+0(FP)
	RET
