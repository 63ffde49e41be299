// Package sandbox confines an isolation worker (package internal/isolate)
// before the module it serves runs its first instruction: Landlock for the
// file system, seccomp-bpf for sockets, new programs and processes and the
// system calls no module needs, no_new_privs and an empty capability
// bounding set against privilege gains, and an environment without the
// host's variables.
//
// Landlock restricts only the thread that asks for it (all threads need
// TSYNC, Linux 7.0), and the Go runtime runs on several threads whose
// creation a library cannot control. So the worker is confined in two
// steps:
//
//   - The host starts the worker from a throwaway thread of its own
//     (StartConfined) that first sets no_new_privs, empties its capability
//     sets and restricts itself with a Landlock ruleset. A process
//     inherits these from the thread that forks it, so the worker's
//     program starts confined, from its first instruction, and every
//     thread and process it ever makes inherits the confinement. The
//     thread is never given back to the Go runtime: it ends with the
//     goroutine that confined it.
//   - In the worker's package init, before it serves anything, Enter
//     installs the seccomp filter on all its threads
//     (SECCOMP_FILTER_FLAG_TSYNC, which works from Go); installed after
//     the worker's execve, the filter can deny execve without letting
//     that one through.
//
// The module is opened only after both: its constructors and
// memlink_init run confined, as does every thread they start.
//
// The host decides what to enforce (NewPlan, from a Probe of the kernel
// and the Policy asked for) and passes the Plan to the worker in its
// environment; the worker applies exactly that plan and fails if the
// kernel refuses any part of it.
package sandbox
