// Package hostcall finds the module call a host callback serves.
//
// A C module calls the host back on the thread, and so on the goroutine,
// that called it: runtime.cgocall leaves the goroutine attached to its
// thread, and a callback entered through runtime.cgocallback runs on that
// same goroutine. Package memlink records each call on a module that bound
// the host table under the identity of the calling goroutine ([Push]) and
// the callback looks it up by the same identity ([Top]). A callback from a
// thread the module created itself runs on a goroutine of its own, which
// has no record: it is served as made outside any call.
//
// The identity is the address of the runtime's g structure, read from the
// thread-local slot (amd64) or the g register (arm64) by a two-instruction
// function. Elsewhere [G] returns 0 and no call is ever found.
package hostcall
