// Package arena provides an off-heap bump allocator for short-lived buffers
// that are handed to C code.
//
// A native-module runtime needs somewhere to put the output buffers of a
// single foreign call. Those buffers must stay at a fixed address while C
// code holds a pointer to them, and the Go garbage collector must neither
// scan nor free them. An [Arena] satisfies both needs by carving buffers out
// of one region mapped directly from the operating system (mmap on Unix,
// VirtualAlloc on Windows), outside the Go heap.
//
// The region is reserved lazily: [New] maps the address range but never
// writes to it, so physical pages are only supplied by the kernel when a
// buffer is first written. A large arena therefore costs almost nothing
// until it is used.
//
// [Arena.Alloc] is lock-free and may be called from many goroutines at once.
// Memory is never freed one buffer at a time; instead [Arena.Reset] makes
// the whole region available again once the caller knows that no buffer is
// still in use, typically at the end of a call. Resetting does not clear
// memory, so a new allocation may contain old bytes.
//
// [Arena.Close] returns the region to the operating system. Every slice
// obtained from the arena becomes invalid at that point; touching one
// afterwards will crash the program.
package arena
