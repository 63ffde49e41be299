// Package cgobench is the cgo yardstick for memlink's call-path
// benchmarks: it opens a module with dlopen and calls its memlink_call or
// memlink_call_v2 through a static C function, the cheapest way cgo can
// reach a function pointer. It is compiled only with cgo enabled (the
// library itself never uses cgo); without cgo, Available is false.
package cgobench
