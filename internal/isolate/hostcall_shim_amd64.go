//go:build unix

package isolate

// shimUsable reports whether the entries can tell the runtime's threads
// apart: on amd64 the runtime's thread-local g slot is where the assembler
// puts it (as internal/hostcall.G reads it), zero on a thread the runtime
// has not entered.
func shimUsable() bool { return true }
