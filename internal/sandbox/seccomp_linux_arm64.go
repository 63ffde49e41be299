package sandbox

import "golang.org/x/sys/unix"

const auditArch = unix.AUDIT_ARCH_AARCH64

// archCheck is empty: arm64 has one system call table (32-bit arm tasks
// report another architecture token).
var archCheck []unix.SockFilter

var archKilled []namedCall

// archFork is empty: arm64 creates processes only with clone and clone3.
var archFork []uintptr
