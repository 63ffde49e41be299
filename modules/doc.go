// Package modules holds the C sources of memlink's example and test
// modules and describes how each one is built.
//
// A memlink module is a C shared library that follows the binary interface
// declared in c/memlink.h: the required exports memlink_init, memlink_call
// and memlink_shutdown (ABI 1), the optional memlink_abi_version and
// memlink_call_v2 (ABI 2), and the optional state exports used to carry a
// module's state across a hot reload. The header documents every export
// and result code, and is the place to start when writing a module.
//
// The sources are embedded in [Source], so a program built without cgo can
// still compile them at run time with an external C compiler (see the
// internal modbuild package). [All] lists the modules to build:
//
//   - echo, math, string and crypto are small ABI-1 examples: echo returns
//     its arguments, math adds "a,b", string uppercases ASCII text and crypto
//     returns the FNV-1a hash of its arguments in hex.
//   - counter keeps a counter and exports the state functions;
//     counter_badrestore is the same source built so that restoring state
//     always fails, for testing reload rollback.
//   - version_v1 and version_v2 are two builds of one source that answer
//     "v1" and "v2", for testing hot reload.
//   - binary implements ABI 2, with binary-safe results, a too-small
//     output buffer, module error messages and a module that lies about its
//     output length.
//   - bigout hands results larger than the output buffer over to the host
//     (memlink_release_output) and counts how often its method ran;
//     bigout_norelease returns the hand-over code without the export.
//   - abi99, initfail and missing are broken on purpose: an unknown ABI
//     version, an init that fails, and a missing memlink_call.
//   - errors returns each result code on request, sleep blocks for a given
//     time, overflow writes past the ABI-1 output buffer, greedy past the
//     buffers it asked for (the -4 retry and its state), and configured
//     returns the configuration it was initialised with.
//   - crashy, segv, abort, exit, loop and bomb are builds of fault.c, which
//     fails the ways no in-process host survives (a null store, abort(),
//     exit(3), an endless loop, unbounded allocation), for testing
//     out-of-process isolation. crashy only fails when asked by method
//     name; the others also fail on "process".
//
// The doc comment at the top of each c/*.c file lists its methods.
package modules
