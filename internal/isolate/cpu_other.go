//go:build !(linux && amd64)

package isolate

// currentCPU reports that the CPU is unknown: there is no cheap way to read
// it here, and spinners then behave as if the two sides never shared one.
func currentCPU() (cpu uint32, ok bool) { return 0, false }
