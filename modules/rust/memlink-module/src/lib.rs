//! Write [memlink](https://github.com/memlink/memlink-go) modules in Rust.
//!
//! A memlink module is a shared library that a Go service loads and calls
//! through a small C ABI (described in `docs/abi.md` of memlink-go). This
//! crate implements that ABI for you: implement [`Module`] for a type, name
//! it in [`export!`], and build the crate as a `cdylib`.
//!
//! ```
//! use memlink_module::{export, Error, Module};
//!
//! struct Echo;
//! impl Module for Echo {
//!     const METHODS: &'static [&'static str] = &["process", "boom"];
//!     fn init(_config: &[u8]) -> Result<Self, Error> { Ok(Echo) }
//!     fn call(&self, method: &str, args: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
//!         match method {
//!             "process" => { out.extend_from_slice(args); Ok(()) }
//!             "boom" => panic!("boom with {} bytes", args.len()),
//!             _ => unreachable!(), // unknown ids never reach call: the SDK answers -6
//!         }
//!     }
//! }
//! export!(Echo);
//! # fn main() {}
//! ```
//!
//! with, in `Cargo.toml`:
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! memlink-module = { path = "…/modules/rust/memlink-module" }
//! ```
//!
//! What the SDK guarantees:
//!
//! - **Method ids** are computed at compile time from [`Module::METHODS`]
//!   (FNV-1a 32, [`method_id`]). A call with any other id is answered with
//!   code -6 (`ErrUnknownMethod` in Go) without reaching [`Module::call`].
//!   Two names with the same id fail the build.
//! - **Panics** in [`Module::init`], [`Module::call`] and the state hooks
//!   never unwind into the host: they become code -5 with the panic message
//!   as the error message (`ErrModulePanicked` in Go, the message in
//!   `CallError.Message`). This needs `panic = "unwind"`, Rust's default; a
//!   crate built with `panic = "abort"` takes the host process down instead.
//! - **Errors** are [`Error`]s: a code and a message the host receives.
//! - **Large results** are handed over to the host (the ABI's output
//!   hand-over, code -7): a result larger than the host's buffer is never
//!   computed twice. With a host that does not offer the hand-over the SDK
//!   falls back to asking for a retry with -4, and the method runs again.
//! - **Threads**: calls arrive from many OS threads at once, so a module is
//!   `Send + Sync`; keep mutable state in atomics or locks.
//! - **State across hot reload**: opt in with `export!(Type, state)` and
//!   implement [`Module::save_state`] and [`Module::restore_state`].
//! - **Host functions and logging**: [`host::call`], [`host::log`] and the
//!   [`info!`]-style macros.
//! - **Unloading** unmaps the library. The SDK replaces std's panic hook
//!   (which would register a thread-local destructor through
//!   `std::thread::current`, and glibc keeps a library with pending
//!   thread-local destructors mapped until those threads exit) with one
//!   that logs the panic and its location through [`host::log`], or to
//!   stderr without a host table. Module code should likewise avoid
//!   `thread_local!` values that need dropping and `std::thread::current`
//!   on the host's threads: each use keeps the old image of a reloaded
//!   module in memory.
//!
//! The minimum supported Rust version is 1.63.

#![deny(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn)]

use std::fmt;

pub mod host;

#[doc(hidden)]
pub mod __private;

/// The ABI revision that modules built with this crate announce through
/// `memlink_abi_version`.
pub const ABI_VERSION: u32 = 2;

/// The result codes of the ABI. Zero is success, the negative codes are the
/// protocol's, positive codes are free for a module's own errors.
pub mod code {
    /// Success.
    pub const OK: i32 = 0;
    /// A general error: what [`Error::msg`](crate::Error::msg) gives.
    pub const GENERAL: i32 = -1;
    /// The arguments could not be used.
    pub const INVALID_ARGS: i32 = -2;
    /// The module is in a bad state.
    pub const INTERNAL: i32 = -3;
    /// The host's output buffer is too small; the SDK answers it itself.
    pub const OUTPUT_TOO_SMALL: i32 = -4;
    /// The module panicked; the SDK answers it itself.
    pub const PANICKED: i32 = -5;
    /// No such method; the SDK answers it itself.
    pub const UNKNOWN_METHOD: i32 = -6;
    /// The result was handed over to the host in a module-owned buffer;
    /// the SDK answers it itself and a module cannot return it.
    pub const HANDED_OVER: i32 = -7;
}

/// Returns the id the host sends for the method called `name`: the 32-bit
/// FNV-1a hash of its bytes, as `abi.MethodID` in Go and
/// `memlink_method_id` in `memlink.h`. It is a `const fn`, so ids can be
/// computed at compile time: `const PROCESS: u32 = method_id("process");`.
pub const fn method_id(name: &str) -> u32 {
    let b = name.as_bytes();
    let mut h: u32 = 2166136261;
    let mut i = 0;
    while i < b.len() {
        h ^= b[i] as u32;
        h = h.wrapping_mul(16777619);
        i += 1;
    }
    h
}

/// An error a module returns to the host: a result code and a message.
///
/// In Go it becomes a `*memlink.CallError` with `Code` and `Message`.
/// Negative codes are the protocol's (see [`code`]); positive codes are
/// the module's own. Code 0 is not an error and is sent as -1, as is -7
/// (which means something else to the host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: i32,
    message: String,
}

impl Error {
    /// Returns an error with result code `code` and a message for the host.
    pub fn new(code: i32, message: impl Into<String>) -> Error {
        let code = match code {
            code::OK | code::HANDED_OVER => code::GENERAL,
            c => c,
        };
        Error {
            code,
            message: message.into(),
        }
    }

    /// Returns a general error (code -1) with a message for the host.
    pub fn msg(message: impl Into<String>) -> Error {
        Error::new(code::GENERAL, message)
    }

    /// Returns the result code the host receives.
    pub fn code(&self) -> i32 {
        self.code
    }

    /// Returns the message the host receives.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "code {}", self.code)
        } else {
            write!(f, "code {}: {}", self.code, self.message)
        }
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    /// A general error (code -1) with this message.
    fn from(message: String) -> Error {
        Error::msg(message)
    }
}

impl From<&str> for Error {
    /// A general error (code -1) with this message.
    fn from(message: &str) -> Error {
        Error::msg(message)
    }
}

/// A memlink module: what [`export!`] turns into the exports of a shared
/// library.
///
/// One value is created by [`init`](Module::init) when the host loads the
/// library and dropped when it unloads it (after the last call has
/// returned). [`call`](Module::call) runs on many OS threads at once, for
/// one loaded module as for several, hence `Send + Sync`: keep mutable
/// state in atomics or locks.
///
/// If two handles share one image (Go's `memlink.LoadInPlace` loads a file
/// in place, and the loader then maps it once), they share one value too:
/// the first `init`'s configuration wins, and the value is dropped when
/// the last handle unloads.
pub trait Module: Send + Sync + Sized + 'static {
    /// The names of the methods the module answers. A call of any other
    /// name is answered with code -6 and never reaches
    /// [`call`](Module::call). Two names with the same id fail the build.
    const METHODS: &'static [&'static str];

    /// Creates the module from the configuration the host passed
    /// (`memlink.WithConfig`, possibly empty). An error refuses the load
    /// (`ErrInitFailed` in Go, with the code).
    fn init(config: &[u8]) -> Result<Self, Error>;

    /// Runs `method` (one of [`METHODS`](Module::METHODS)) with `args` and
    /// appends the result to `out`, which is empty on entry. `out` may
    /// grow to any size: a result larger than the host's buffer is handed
    /// over whole (up to the host's `WithMaxOutput`). On an error, what was
    /// written to `out` is discarded and the error's message is sent
    /// instead.
    fn call(&self, method: &str, args: &[u8], out: &mut Vec<u8>) -> Result<(), Error>;

    /// Returns the module's state for a hot reload to the next version.
    /// Only used with `export!(Type, state)`. The host never runs it
    /// concurrently with a call. The default is no state (empty).
    fn save_state(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Takes over `state` as saved by the previous version's
    /// [`save_state`](Module::save_state) (which may be another build, or a
    /// module in another language: the format is the module's business).
    /// Only used with `export!(Type, state)`; runs on a freshly initialised
    /// value, before any call reaches it. An error rolls the reload back
    /// and the old version keeps serving. The default accepts anything and
    /// ignores it.
    fn restore_state(&self, state: &[u8]) -> Result<(), Error> {
        let _ = state;
        Ok(())
    }
}

/// Exports a [`Module`] type as the C ABI of a memlink module.
///
/// `export!(Type)` emits `memlink_abi_version` (2), `memlink_init`,
/// `memlink_call_v2`, `memlink_call` (for ABI-1 hosts, which give a 4096-byte
/// buffer and read a NUL-terminated result), `memlink_shutdown`,
/// `memlink_release_output` (the output hand-over) and `memlink_host_bind`
/// (host functions, see [`host`]).
///
/// `export!(Type, state)` also emits the three state exports
/// (`memlink_get_state_size`, `memlink_serialize_state`,
/// `memlink_deserialize_state`) backed by [`Module::save_state`] and
/// [`Module::restore_state`]. Without `state` they are absent, and a host
/// refuses a stateful reload of the module, as it does for a C module
/// without them.
///
/// Use it once per library, at the top level of the crate.
#[macro_export]
macro_rules! export {
    ($module:ty) => {
        $crate::__export_calls!($module);
    };
    ($module:ty, state) => {
        $crate::__export_calls!($module);
        $crate::__export_state!($module);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_calls {
    ($module:ty) => {
        #[doc(hidden)]
        static __MEMLINK_SLOT: $crate::__private::Slot<$module> = $crate::__private::Slot::new();

        #[doc(hidden)]
        const __MEMLINK_IDS: [u32; <$module as $crate::Module>::METHODS.len()] =
            $crate::__private::method_ids(<$module as $crate::Module>::METHODS);

        #[doc(hidden)]
        #[no_mangle]
        pub extern "C" fn memlink_abi_version() -> u32 {
            $crate::ABI_VERSION
        }

        #[doc(hidden)]
        #[no_mangle]
        pub unsafe extern "C" fn memlink_init(
            config: *const u8,
            config_len: ::std::os::raw::c_ulong,
        ) -> ::std::os::raw::c_int {
            unsafe { $crate::__private::init(&__MEMLINK_SLOT, config, config_len as usize) }
        }

        #[doc(hidden)]
        #[no_mangle]
        pub unsafe extern "C" fn memlink_call_v2(
            method_id: u32,
            args: *const u8,
            args_len: usize,
            out: *mut u8,
            out_cap: usize,
            out_len: *mut usize,
        ) -> ::std::os::raw::c_int {
            unsafe {
                $crate::__private::call_v2(
                    &__MEMLINK_SLOT,
                    &__MEMLINK_IDS,
                    method_id,
                    args,
                    args_len,
                    out,
                    out_cap,
                    out_len,
                )
            }
        }

        #[doc(hidden)]
        #[no_mangle]
        pub unsafe extern "C" fn memlink_call(
            method_id: ::std::os::raw::c_uint,
            args: *const u8,
            args_len: ::std::os::raw::c_ulong,
            output: *mut u8,
        ) -> ::std::os::raw::c_int {
            unsafe {
                $crate::__private::call_v1(
                    &__MEMLINK_SLOT,
                    &__MEMLINK_IDS,
                    method_id as u32,
                    args,
                    args_len as usize,
                    output,
                )
            }
        }

        #[doc(hidden)]
        #[no_mangle]
        pub extern "C" fn memlink_shutdown() -> ::std::os::raw::c_int {
            $crate::__private::shutdown(&__MEMLINK_SLOT)
        }

        #[doc(hidden)]
        #[no_mangle]
        pub unsafe extern "C" fn memlink_release_output(ptr: *mut u8, len: usize) {
            unsafe { $crate::__private::release_output(ptr, len) }
        }

        #[doc(hidden)]
        #[no_mangle]
        pub unsafe extern "C" fn memlink_host_bind(
            host: *const $crate::host::RawHost,
        ) -> ::std::os::raw::c_int {
            unsafe { $crate::host::__bind(host) }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_state {
    ($module:ty) => {
        #[doc(hidden)]
        #[no_mangle]
        pub extern "C" fn memlink_get_state_size() -> usize {
            $crate::__private::state_size(&__MEMLINK_SLOT)
        }

        #[doc(hidden)]
        #[no_mangle]
        pub unsafe extern "C" fn memlink_serialize_state(
            buf: *mut u8,
            buf_len: usize,
        ) -> ::std::os::raw::c_int {
            unsafe { $crate::__private::serialize_state(&__MEMLINK_SLOT, buf, buf_len) }
        }

        #[doc(hidden)]
        #[no_mangle]
        pub unsafe extern "C" fn memlink_deserialize_state(
            buf: *const u8,
            len: usize,
        ) -> ::std::os::raw::c_int {
            unsafe { $crate::__private::deserialize_state(&__MEMLINK_SLOT, buf, len) }
        }
    };
}

#[cfg(test)]
mod tests;
