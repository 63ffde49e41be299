package modules

import (
	"embed"
	"slices"
)

// Source holds the module sources: every c/*.c file and the c/memlink.h
// header, at those paths.
//
//go:embed c/*.c c/*.h
var Source embed.FS

// SourceDir is the directory of [Source] that holds the C files.
const SourceDir = "c"

// Header is the file name of the ABI header inside [SourceDir].
const Header = "memlink.h"

// Module describes one shared library to build from [Source].
type Module struct {
	// Name is the module's name and the base of its file name, such as
	// "echo" for echo.so, echo.dylib or echo.dll.
	Name string
	// Source is the C file inside SourceDir that the module is built from.
	Source string
	// Defines are preprocessor definitions, each "NAME" or "NAME=VALUE",
	// passed to the compiler as -D flags.
	Defines []string
	// Doc is a one-line description.
	Doc string
}

// SourcePath returns the path of the module's C file inside [Source].
func (m Module) SourcePath() string {
	return SourceDir + "/" + m.Source
}

var all = []Module{
	{Name: "echo", Source: "echo.c", Doc: "ABI 1: returns its arguments unchanged, without a NUL"},
	{Name: "math", Source: "math.c", Doc: `ABI 1: adds "a,b" and returns the decimal sum`},
	{Name: "string", Source: "string.c", Doc: "ABI 1: returns its arguments with ASCII letters uppercased"},
	{Name: "crypto", Source: "crypto.c", Doc: "ABI 1: returns the FNV-1a 32 hash of its arguments as 8 hex digits"},
	{Name: "counter", Source: "counter.c", Doc: `ABI 1 with state: "increment", "get" and "add" on a 64-bit counter`},
	{Name: "counter_badrestore", Source: "counter.c", Defines: []string{"COUNTER_FAIL_RESTORE"}, Doc: "counter whose memlink_deserialize_state always fails"},
	{Name: "version_v1", Source: "version.c", Defines: []string{"MODULE_VERSION=1"}, Doc: `ABI 1: every method returns "v1"`},
	{Name: "version_v2", Source: "version.c", Defines: []string{"MODULE_VERSION=2"}, Doc: `ABI 1: every method returns "v2"`},
	{Name: "binary", Source: "binary.c", Doc: "ABI 2: binary echo, sized output, error messages and a lying result length"},
	{Name: "bigout", Source: "bigout.c", Doc: "ABI 2: hands large results over (memlink_release_output) and counts how often its method ran"},
	{Name: "bigout_norelease", Source: "bigout.c", Defines: []string{"BIGOUT_NO_RELEASE"}, Doc: "bigout without memlink_release_output, returning -7 anyway"},
	{Name: "abi99", Source: "abi99.c", Doc: "valid ABI-1 exports, but memlink_abi_version returns 99"},
	{Name: "initfail", Source: "initfail.c", Doc: "memlink_init returns 42"},
	{Name: "missing", Source: "missing.c", Doc: "exports memlink_init and memlink_shutdown but no memlink_call"},
	{Name: "errors", Source: "errors.c", Doc: "ABI 1: each method returns a chosen result code"},
	{Name: "sleep", Source: "sleep.c", Doc: `ABI 1: "sleep" waits the given milliseconds; other methods echo`},
	{Name: "overflow", Source: "overflow.c", Doc: "ABI 1: writes N bytes of 'A' (default 4160), past the 4096-byte buffer"},
	{Name: "greedy", Source: "greedy.c", Doc: "ABI 2 with state: asks for 5000 bytes (retry, state) and writes 5050"},
	{Name: "configured", Source: "configured.c", Doc: `ABI 1: "config" returns the configuration passed to memlink_init`},
	{Name: "escape", Source: "escape.c", Doc: "ABI 1: tries to escape a sandbox (files, sockets, exec, fork, ptrace, ...) and returns each errno"},
	{Name: "crashy", Source: "fault.c", Doc: `ABI 1: echoes, but "segv", "abort", "exit", "stack", "ill", "loop" and "bomb" crash, hang or exhaust memory; "alloc" and "spawn" (Windows) probe limits`},
	{Name: "segv", Source: "fault.c", Defines: []string{"FAULT_DEFAULT=1"}, Doc: `crashy whose "process" stores through a null pointer (SIGSEGV)`},
	{Name: "abort", Source: "fault.c", Defines: []string{"FAULT_DEFAULT=2"}, Doc: `crashy whose "process" calls abort()`},
	{Name: "exit", Source: "fault.c", Defines: []string{"FAULT_DEFAULT=3"}, Doc: `crashy whose "process" calls exit(3)`},
	{Name: "loop", Source: "fault.c", Defines: []string{"FAULT_DEFAULT=4"}, Doc: `crashy whose "process" never returns`},
	{Name: "bomb", Source: "fault.c", Defines: []string{"FAULT_DEFAULT=5"}, Doc: `crashy whose "process" allocates memory without bound`},
	{Name: "kv", Source: "kv.c", Doc: `ABI 2 with memlink_host_bind: logs, and "get"/"put" call the host functions "kv.get"/"kv.put"`},
	{Name: "hostmisuse", Source: "hostmisuse.c", Doc: "ABI 2: misuses its host table (unknown ids, huge args, calls after its own unload from a thread)"},
	{Name: "pinned", Source: "pinned.c", Doc: `ABI 1: keeps itself mapped after unload (RTLD_NODELETE); every method answers "pinned"`},
	{Name: "escapee", Source: "escapee.c", Doc: `ABI 1: "fork", "orphan" and "daemon" leave processes behind, "shm" fills shared memory; init can sleep`},
}

// All returns every module to build, in a fixed order. The result is a
// fresh copy that the caller may modify.
func All() []Module {
	out := make([]Module, len(all))
	for i, m := range all {
		m.Defines = slices.Clone(m.Defines)
		out[i] = m
	}
	return out
}

// Lookup returns the module called name, and whether there is one.
func Lookup(name string) (Module, bool) {
	for _, m := range all {
		if m.Name == name {
			m.Defines = slices.Clone(m.Defines)
			return m, true
		}
	}
	return Module{}, false
}
