package isolate

// currentCPU reports the CPU the calling thread runs on (with the NUMA
// node in the bits above the twelfth), read without a system call: a
// getcpu system call costs about a microsecond on the VMs this was tuned
// on, the segment-limit read below 20 ns. The answer can be stale by the
// time it is used; callers only use it as a hint.
func currentCPU() (cpu uint32, ok bool)
