// Package isolate runs a memlink module in a worker process of its own, so
// that a crash, a hang or a memory bomb in native code costs the calls in
// flight and a restart instead of the host process. Package memlink uses
// it for memlink.WithIsolation; this comment records why it is built the
// way it is.
//
// # The worker is the host's own program
//
// Users must not have to ship a second binary, and the worker must speak
// exactly the host's protocol, so the host re-executes itself: on Linux the
// running image, opened once through /proc/self/exe and executed through
// the child's /proc/self/fd (a binary replaced on disk by an upgrade still
// starts workers of the running version); elsewhere os.Executable. The
// child finds EnvWorker in its environment, and an init function of
// package memlink calls ServeWorker before main can run. Consequences:
// init functions of packages initialised before memlink also run in every
// worker; test binaries work the same way (their TestMain never runs in a
// worker); the host must be a Go program containing memlink (not a
// c-shared library inside another program); and where the host cannot
// execute its own program (qemu-user without binfmt_misc, where exec
// fails with ENOEXEC) there is no isolation. The worker's argv[0] is
// "memlink-worker <module file>", for ps.
//
// The worker gets, as inherited descriptors: the shared region (fd 3), the
// read end of a lifeline pipe whose only write end the host holds (fd 4:
// when a read returns, the host is gone and the worker exits, so a killed
// host leaves no orphans), the module itself when the host passes a sealed
// memfd private copy (fd 5: its /proc/self/fd path means nothing in
// another process, and passing the descriptor makes the worker run the
// very bytes the host validated and hashed), the doorbell pipes where
// there is no futex, and the executable. It runs in its own process
// group, so a terminal's Ctrl-C goes to the host alone, which decides
// what its workers do.
//
// The worker resets SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP and
// SIGSYS to their default action before loading the module. Otherwise the
// Go runtime catches a fault in C code, prints a traceback and exits with
// status 2, and the host could only say "exit status 2"; this way the
// worker dies of the signal and the host reports "SIGSEGV". (In process,
// the same fault ends the host with status 2: see memlink's
// TestInProcessCrashIsFatal.)
//
// # Transport: one shared region, many slots
//
// Arguments and results cross in memory both processes map: a memfd on
// Linux (no name, nothing to clean up), an unlinked temporary file
// elsewhere. There is no serialisation and no system call on the busy
// path: a call copies its arguments into its slot, flips a state word, and
// copies the result out. The region has a header page, then one slot per
// concurrent call: a control cache line (the state word and two "asleep"
// flags), the request and response fields, an args area (64 KiB by
// default) and the output area (the module's output capacity plus 16
// canary bytes), padded to a page and followed by a guard page that the
// worker maps PROT_NONE, so an ABI-1 module that overruns its buffer by
// more than the padding dies of SIGSEGV instead of silently rewriting the
// next slot's control line. The host never trusts what it reads back:
// every length is bounded, and a state word it did not expect (a module
// scribbling on its slot) kills the worker as a protocol violation.
//
// Larger data travels in chunks of the args area: arguments are staged in
// the worker with opPut rounds before the call; a result or message too
// big for the output area (an ABI-2 module answering -4, which the worker
// retries once with a buffer of the size asked for, exactly as memlink
// does in process, or a large state) stays in the worker and is fetched
// with opFetch rounds. Sizes are bounded by MaxOutput for results and by
// the caller's limit for state; nothing else is capped.
//
// # Signalling: spin a little, then sleep on a futex
//
// The state word of a slot is seq<<3 | state, where the host bumps seq for
// every request: Idle, Req (posted), Busy (taken), Done (answered), and two
// "dropped" states the host or the reaper set with a compare-and-swap when
// they give up on a request that was still queued or running. The
// sequence makes a late interruption (a context cancelled just after its
// call finished) unable to hit the next call on that slot.
//
// A blocking wake-up costs about 44 µs across the two cores of the machine
// this was measured on (futex or pipe alike), far too much for a call that
// takes 1 µs. So each side polls first: the host while its request is
// pending, the worker for the next request after answering. The worker's
// window adapts: back to Config.Spin (50 µs by default) whenever a request
// arrives in it, halved down to 10 µs whenever none does; the host only
// polls when the module's recent calls (as timed by the worker) were
// shorter than Config.Spin. Then the side sleeps: it sets its "asleep" flag,
// looks at the state word once more and sleeps on it with futex(2) on
// Linux (the shared, not private, operations: the word is in a mapping two
// processes share), or on a per-slot pipe elsewhere. A waker only makes
// the system call when the other side's flag is set, so a busy pair never
// makes one; the flag and the word form a Dekker pair of sequentially
// consistent atomics, and the futex re-checks the word in the kernel.
//
// The poll loop yields to other goroutines (runtime.Gosched) after every
// 64 polls and, on Linux, its CPU to other threads (sched_yield) every
// 5 µs. Without the second the two sides fell into a spiral measured at
// 70 to 100 µs per call on a loaded machine: the thread a spinner waited
// for had been woken on the spinner's own CPU and could not run until the
// spin gave up and slept. Yielding the CPU on every round instead cost 15
// to 30 µs per call, because each sched_yield hands a whole time slice to
// whatever else is runnable there.
//
// On the 2-CPU machine this was tuned on, a 64-byte call then takes about
// 1.2 µs at the median when the machine is otherwise quiet (12 µs with
// spinning off, Config.Spin < 0), with a tail from preemption.
//
// When host and worker end up on the same CPU (the other one busy with
// something else), polling is worse than useless: the side being waited
// for is queued behind the poller. Each side therefore publishes the CPU it
// runs on in the slot's control line (read with LSL from the per-CPU
// segment Linux sets up for the vDSO's getcpu, about 20 ns; a getcpu system
// call costs a microsecond on these VMs) at each pause of its polling, and
// once it has polled for 2 µs it yields its CPU at every pause while the
// other side last ran on the same one. With both pinned to one CPU that
// took a call from 23 µs (21 µs median) to 17 µs (15 µs median).
// Yielding from the first pause did better there (13 µs) but cost about
// 10 % at the median with two CPUs, where the CPU the other side published
// is sometimes stale and each needless sched_yield costs over a
// microsecond; sleeping on the futex at once gave a median of 12 µs but a
// mean of 25 µs. Elsewhere than linux/amd64 the CPU is unknown and only
// the periodic yield applies. Under heavy load from other processes (two
// CPU-bound loops on the two CPUs) the median stays near 2.5 µs, but the
// mean grows to 40-120 µs and the 99th percentile to milliseconds: the
// scheduler's time slices, which no wake-up strategy avoids (spinning off
// did no better).
//
// # Concurrency
//
// Each slot is served by its own goroutine in the worker, which sleeps in
// its own thread, so up to Config.Slots calls (8 by default) run at once,
// as they would in process; further callers wait for a free slot, within
// their context. A caller takes the lowest free slot rather than rotating
// through them, so that a goroutine calling again and again finds the same
// worker thread still polling; rotating put every call on a thread that
// had gone to sleep and cost 50 to 80 µs per call.
//
// # Failures
//
// A reaper goroutine waits for every worker (no zombies), records how it
// ended (signal or status, peak RSS) and drops every request still in its
// slots. A request the worker had not taken (Req) cannot have run: it is
// sent again to the next worker, transparently. A request it had taken
// (Busy) fails with FailLost. So a crash fails exactly the calls that were
// running in that worker, at most one per slot.
//
// Config.CallTimeout is measured from the moment a request is posted. When
// it passes, the host drops the request and kills the worker with SIGKILL
// (a native call cannot be interrupted any other way); the call fails with
// FailTimeout, the other calls running in that worker with FailLost
// ("killed after timeout"). A context that ends does the same for a
// running call (reason "canceled", or "timeout" for a deadline) and
// merely withdraws a queued one, without killing anything.
//
// With Config.Restart the next call starts a new worker, running
// memlink_init again with the same configuration. Losses in a row back
// off: the first restart is immediate, then 10 ms doubling up to 5 s,
// reset once a worker has lived a second or answered 100 calls, so that a
// module dying at start-up does not fork in a loop while one bad request
// in many costs nothing but its own failure. Without Restart, the first
// loss fails every later call until the client is replaced.
//
// Losses are counted by reason: crash, memory (the worker died after its
// peak resident memory reached three quarters of MemoryLimit, which is
// what running out looks like: malloc fails and the module, or the Go
// runtime needing a thread, gives up), timeout and canceled.
//
// # Memory limit
//
// The worker bounds itself with RLIMIT_DATA before it serves anything,
// memlink_init included: its own usage, plus the limit, plus one thread
// stack per slot and four spare. RLIMIT_AS, the obvious choice, counts
// address space that is reserved but never touched, of which the Go
// runtime and glibc's per-thread arenas reserve hundreds of MiB: with a
// 64 MiB address-space limit a test module got only 12 MiB before malloc
// failed. RLIMIT_DATA counts private writable memory, which is what a
// module can fill. Linux only: macOS accepts RLIMIT_AS without enforcing
// it.
//
// # Cost
//
// An idle worker uses no CPU (0 clock ticks over 3 s after 10,000 calls:
// every slot thread sleeps on its futex) and about 6 MiB of resident
// memory in a small program (12 threads, most of them asleep in futex);
// in a program that links more, the file-backed pages grow, but they are
// shared with the host. See memlink's WithIsolation and the benchmarks in
// gopluginbench for the cost of a call.
package isolate
