package modules

import "embed"

// RustSource holds the Rust workspace: the memlink-module SDK crate and
// the example modules built on it, at their paths under [RustSourceDir]
// (manifests, the lock file and the .rs files, never a target directory).
//
//go:embed rust/Cargo.toml rust/Cargo.lock
//go:embed rust/memlink-module/Cargo.toml rust/memlink-module/src/*.rs
//go:embed rust/examples/*/Cargo.toml rust/examples/*/src/*.rs
var RustSource embed.FS

// RustSourceDir is the directory of [RustSource] that holds the Cargo
// workspace.
const RustSourceDir = "rust"

// RustModule describes one module to build with cargo from [RustSource].
type RustModule struct {
	// Name is the module's name and the base of its file name, such as
	// "rust_echo" for rust_echo.so.
	Name string
	// Package is the Cargo package that builds it.
	Package string
	// Lib is the package's library name: cargo writes lib<Lib>.so,
	// lib<Lib>.dylib or <Lib>.dll.
	Lib string
	// Doc is a one-line description.
	Doc string
}

var rustModules = []RustModule{
	{Name: "rust_echo", Package: "memlink-example-echo", Lib: "memlink_rust_echo", Doc: `ABI 2 via the SDK: "process" returns its arguments, "boom" panics`},
	{Name: "rust_counter", Package: "memlink-example-counter", Lib: "memlink_rust_counter", Doc: `stateful counter, state compatible with the C counter; "big" returns a large result`},
	{Name: "rust_panic", Package: "memlink-example-panic", Lib: "memlink_rust_panic", Doc: "panics in call (and in init when configured to), errors, and keeps serving"},
	{Name: "rust_hostcall", Package: "memlink-example-hostcall", Lib: "memlink_rust_hostcall", Doc: `calls the host functions "kv.get" and "kv.put" and logs, also from its own thread`},
}

// RustModules returns every Rust module to build, in a fixed order.
func RustModules() []RustModule {
	return append([]RustModule(nil), rustModules...)
}

// LookupRust returns the Rust module called name, and whether there is one.
func LookupRust(name string) (RustModule, bool) {
	for _, m := range rustModules {
		if m.Name == name {
			return m, true
		}
	}
	return RustModule{}, false
}
