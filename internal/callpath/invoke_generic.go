//go:build (darwin || freebsd || linux || netbsd || windows) && !((linux || darwin) && (amd64 || arm64) && !memlink_purego)

package callpath

import "github.com/ebitengine/purego"

// Name names how calls reach C on this platform: "trampoline" for the
// assembly trampoline entered through runtime.cgocall, "purego" for
// purego.SyscallN.
const Name = "purego"

func invoke(f *Frame, n int) { invokeGeneric(f, n) }

// invokeGeneric makes the call in f through purego.SyscallN, on f's own
// argument array so that nothing is allocated.
func invokeGeneric(f *Frame, n int) {
	f.ret, _, _ = purego.SyscallN(f.fn, f.a[:n]...)
}
