//go:build unix

package isolate

import "os"

// ServeWorker runs this process as an isolation worker and exits with the
// worker's exit status; it never returns. Call it, before anything else,
// when IsWorker reports true (package memlink does so from an init
// function).
func ServeWorker() {
	enterSandbox()
	os.Exit(serve())
}
