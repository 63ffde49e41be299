package sandbox

import "golang.org/x/sys/unix"

const auditArch = unix.AUDIT_ARCH_X86_64

// archCheck kills x32 system calls (numbers with bit 30 set), which share
// the architecture token with x86-64; the accumulator holds the number.
var archCheck = []unix.SockFilter{jump(jge, 0x40000000, 0, 1), stmt(ret, retKill)}

// archKilled adds x86's port access and the obsolete uselib.
var archKilled = []namedCall{{unix.SYS_IOPL, "iopl"}, {unix.SYS_IOPERM, "ioperm"}, {unix.SYS_USELIB, "uselib"}}

// archFork are the process-creating calls beside clone.
var archFork = []uintptr{unix.SYS_FORK, unix.SYS_VFORK}
