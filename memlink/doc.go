// Package memlink loads native shared-library modules (.so, .dylib, .dll)
// into a Go program at run time, calls them, hot-reloads them and unloads
// them, without cgo: a program using it builds with CGO_ENABLED=0 and
// cross-compiles like any other Go program.
//
// A module is a shared library written in C, Rust, Zig or anything else
// that exports the memlink ABI (see package abi and docs/abi.md):
// memlink_init, memlink_call (or memlink_call_v2) and memlink_shutdown.
//
//	rt := memlink.New()
//	defer rt.Close()
//	h, err := rt.Load(memlink.MustParseRef("./echo.so"))
//	if err != nil { ... }
//	out, err := rt.Call(h, "process", []byte("input data"))
//
// # Concurrency
//
// A Runtime is safe for concurrent use. Calls take no lock shared between
// callers: a handle is found through a copy-on-write table, and each call
// owns one of the module's lanes (an output buffer and a set of counters)
// for its duration. Unload and Reload drain the calls in flight before a
// library is closed, so a call never runs on a closed library.
//
// # Safety
//
// A module runs inside the host process with the host's rights. The runtime
// validates files before the dynamic loader sees them (format, CPU
// architecture, required exports, ABI version), refuses a module whose
// memlink_init fails, maps every non-zero result to a typed error, and
// checks a canary after each call's output buffer so that a module writing
// past it is reported and quarantined rather than silently trusted. Every
// module is validated and opened from a private copy that nothing else can
// change, its SHA-256 can be pinned (ParseRef, WithDigest, Registry), and
// files other users could replace are refused (ErrInsecureModule). In
// process it cannot catch a crash inside native code: a module that
// dereferences a bad pointer takes the process down, as it would with cgo.
//
// # Options
//
// Every option documents its default and the values it accepts, and one
// rule covers a value outside that range: it is refused where the options
// are applied, never ignored, clamped or replaced by the default. The
// options of a Load (LoadOption) come from configuration and user input,
// so Load, or Reload for a new version, fails with a *LoadError wrapping
// ErrInvalidOption before anything is opened, and the old version of a
// reload keeps serving. The options of New (Option) are the program's own
// settings and New has no error result, so New panics, naming each
// option and value refused. Building an option never panics.
//
// # Isolation
//
// A module loaded WithIsolation runs in a worker process instead: a
// crash, abort() or exit() there fails the calls it was running with
// ErrModuleCrashed and the next call starts a new worker; a call that runs
// too long (Isolation.CallTimeout, or the context of CallContext) kills
// the worker instead of pinning a thread; Isolation.MemoryLimit bounds its
// memory. Calls then cost a few microseconds rather than tens of
// nanoseconds. See WithIsolation.
package memlink
