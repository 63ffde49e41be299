// Package callpath opens shared libraries, binds the memlink ABI exports
// and calls them: the machinery under package memlink (and the isolation
// worker), not a public API.
//
// On Linux and macOS on amd64 and arm64 a call enters C through
// runtime.cgocall and an assembly trampoline that loads the arguments of a
// [Frame]; elsewhere, or with the build tag memlink_purego, the same Frame
// goes through purego.SyscallN. Libraries are opened with the loader's
// dlopen on Linux, macOS, FreeBSD and NetBSD (called through the same
// trampoline where calls are, through purego's Dlopen elsewhere) and with
// LoadLibraryEx on Windows;
// elsewhere [Open] returns [ErrUnsupported]. No cgo is involved anywhere.
// docs/design.md describes the call path.
package callpath
