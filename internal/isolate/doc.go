// Package isolate runs a memlink module in a worker process of its own, so
// that a crash, a hang or a memory bomb in native code costs the calls in
// flight and a restart instead of the host process. Package memlink uses
// it for memlink.WithIsolation. Why it is built this way, with the
// measurements behind each choice, is in docs/design.md ("Why isolation
// runs the host's own program, and how a call crosses").
//
// The worker is the host's own program, re-executed (on Linux the running
// image, held open from /proc/self/exe) with EnvWorker in its environment;
// an init function of package memlink calls ServeWorker before main runs.
// It inherits the shared region (fd 3), the read end of a lifeline pipe
// whose only write end the host holds (fd 4: end of file means the host is
// gone), the module as a sealed memfd when the host passes one (fd 5), the
// doorbell pipes where there is no futex, and the executable. Its argv[0]
// is "memlink-worker <module file>". On Windows (host_windows.go,
// serve_windows.go) it inherits, through an explicit handle list, a
// pagefile-backed file mapping, the lifeline pipe's read end and two
// events per slot for the doorbells, whose values EnvHandles carries; it
// runs in a Job Object of its own (KILL_ON_JOB_CLOSE, and PROCESS_MEMORY
// for Config.MemoryLimit), and a vectored exception handler records the
// exception a module dies of, so that the host can name it
// (faults_windows.go).
//
// A Client owns one worker at a time. Calls copy their arguments into a
// slot of the shared region (one slot per concurrent call, Config.Slots),
// flip the slot's state word (seq<<3 | Idle, Req, Busy, Done, or one of two
// "dropped" states) and wait for the answer, each side polling briefly and
// then sleeping on a futex (a pipe elsewhere). The host bounds and checks
// everything it reads back; a state it did not expect kills the worker as
// a protocol violation.
//
// Failures: the reaper goroutine of a worker records how it ended, counts
// the loss and only then publishes it (life.go states the order). A
// request the dead worker had not taken is sent to the next worker; one it
// had taken fails with a *Failure of kind FailLost. Config.CallTimeout and
// a context that ends kill the worker (FailTimeout, FailCanceled);
// Config.InitTimeout bounds memlink_init the same way (a LoadFailure of
// class LoadTimeout). With Config.Restart the next call starts a new
// worker, with back-off (MinBackoff to MaxBackoff) for losses in a row.
// Losses are counted by Reason (Client.Restarts).
//
// Containment: the worker leads its own process group, which the reaper
// kills once the worker has ended, so that the processes a module forks do
// not outlive it; on Linux the worker is also a child subreaper and kills
// every process below it when it exits after memlink_shutdown or when the
// host goes away. Config.MemoryLimit is enforced on Linux with RLIMIT_AS
// and RLIMIT_DATA over what the worker holds before it loads the module
// (see limitMemory for exactly what is bounded).
package isolate
