// Package rust holds the Rust side of memlink modules: the memlink-module
// SDK crate (memlink-module/), example modules built on it (examples/),
// and, in this package's tests, the proof that they behave as docs/abi.md
// says when a Go program loads them: exact bytes, unknown methods, panics
// as errors, many goroutines, state across hot reload (also to and from
// the C counter), isolation, and large results that run their method once.
//
// The tests build the examples with cargo through internal/modbuild
// (BuildRust), caching the libraries and cargo's target directory under
// the user cache directory. Without a Rust toolchain they skip, saying
// why, unless MEMLINK_REQUIRE_RUST is set, in which case they fail.
// MEMLINK_TEST_MODULES may name a directory of prebuilt modules
// (rust_echo.so, ...) instead, as for the C modules.
//
// There is no Go API here: the package exists for its tests.
package rust
