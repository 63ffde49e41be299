//go:build (darwin || freebsd || linux || netbsd || windows) && !((linux || darwin) && (amd64 || arm64) && !memlink_purego)

package abi

// CallPath names how calls reach C on this platform: "trampoline" for the
// assembly trampoline entered through runtime.cgocall, "purego" for
// purego.SyscallN.
const CallPath = "purego"

func invoke(f *Frame, n int) { invokeGeneric(f, n) }
