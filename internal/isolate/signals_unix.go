//go:build unix && !linux && !darwin

package isolate

// resetFatalSignals is not done here: a crash in the module then ends the
// worker with the Go runtime's exit status 2 rather than the signal, and
// the host reports that status.
func resetFatalSignals() {}
