package isolate

import "os"

// ServeWorker runs this process as an isolation worker and exits with the
// worker's exit status; it never returns. Call it, before anything else,
// when IsWorker reports true (package memlink does so from an init
// function).
func ServeWorker() { os.Exit(serve()) }

// MemoryLimitEnforced reports whether Config.MemoryLimit has an effect on
// this platform. On Windows the worker's Job Object bounds the memory it
// commits (JOB_OBJECT_LIMIT_PROCESS_MEMORY); see worker.contain.
const MemoryLimitEnforced = true

// limitMemory only starts the threads the slots will use, so that their
// stacks are part of what the host measures before it sets the job's
// limit: the host sets the limit, which the worker cannot raise.
func limitMemory(limit uint64, slots int) error {
	startThreads(slots + 2)
	return nil
}

// killDescendants does nothing here: the host terminates the worker's Job
// Object, with everything the module started in it, once the worker has
// ended.
func killDescendants() {}
