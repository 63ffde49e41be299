//go:build unix && !linux

package isolate

// limitMemory does nothing outside Linux: macOS accepts RLIMIT_AS but does
// not enforce it, and the BSDs give no cheap way to measure the worker's
// own address space first (see limit_linux.go).
func limitMemory(limit uint64, slots int) error { return nil }

// MemoryLimitEnforced reports whether Config.MemoryLimit has an effect on
// this platform.
const MemoryLimitEnforced = false

// maxRSSUnit converts rusage's ru_maxrss to bytes: macOS counts bytes, the
// BSDs KiB; without an enforced limit the value is only informative.
const maxRSSUnit = 1024
