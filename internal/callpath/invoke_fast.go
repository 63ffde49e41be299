//go:build (linux || darwin) && (amd64 || arm64) && !memlink_purego

package callpath

// Name names how calls reach C on this platform: "trampoline" for the
// assembly trampoline entered through runtime.cgocall, "purego" for
// purego.SyscallN. Build with the tag memlink_purego to force "purego".
const Name = "trampoline"

func invoke(f *Frame, n int) { invokeFast(f) }
