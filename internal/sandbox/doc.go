// Package sandbox confines an isolation worker (package internal/isolate)
// before the module it serves runs its first instruction: Landlock for the
// file system, seccomp-bpf for sockets, new programs and processes and the
// system calls no module needs, no_new_privs and an empty capability
// bounding set against privilege gains, and an environment without the
// host's variables.
//
// Landlock restricts only the thread that asks for it (all threads need
// TSYNC, Linux 7.0), and the Go runtime runs on several threads whose
// creation a library cannot control. So the worker confines itself in two
// stages, both in the worker's own process:
//
//   - Stage 1 runs in the worker's package init, on the main thread, which
//     the Go runtime keeps locked during initialisation. It sets
//     no_new_privs, empties the capability bounding set, restricts the
//     thread with a Landlock ruleset, and executes this very program again
//     from that thread. An execve replaces every thread with the one that
//     called it, so the new image starts with one thread, already
//     confined, and every thread and process it ever makes inherits the
//     confinement.
//   - Stage 2 is that new image. Before it serves anything it installs the
//     seccomp filter on all its threads (SECCOMP_FILTER_FLAG_TSYNC, which
//     works from Go), so that the filter also stops a second execve
//     without having to let the first one through.
//
// The module is opened only after stage 2: its constructors and
// memlink_init run confined, as does every thread they start.
//
// The host decides what to enforce (NewPlan, from a Probe of the kernel
// and the Policy asked for) and passes the Plan to the worker in its
// environment; the worker applies exactly that plan and fails if the
// kernel refuses any part of it.
package sandbox
