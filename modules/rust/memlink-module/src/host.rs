//! Calling back into the Go host: host functions and logging.
//!
//! The host registers functions by name (`memlink.WithHostFunc` in Go) and
//! hands the module a table at load (`memlink_host_bind`, which
//! [`export!`](crate::export) exports). [`call`] runs one of them and
//! [`log`] (or the [`info!`](crate::info)-style macros) writes a record to
//! the service's logger, with the module, handle and method as attributes.
//! Both work in process and in an isolated worker, and from any thread,
//! including threads the module started itself.
//!
//! ```no_run
//! use memlink_module::{host, info, Error};
//!
//! fn lookup(key: &[u8]) -> Result<Vec<u8>, Error> {
//!     info!("looking up {} bytes", key.len());
//!     host::call("kv.get", key)
//! }
//! ```
//!
//! A host that offers no table (an older runtime, or a test harness)
//! leaves [`call`] failing with code -6 and [`log`] doing nothing.

use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::{code, method_id, Error};

/// The version of the host table this crate understands.
pub const HOST_VERSION: u32 = 1;

/// The host's table as C lays it out (`memlink_host` in `memlink.h`).
/// Modules never touch it; it is public for [`export!`](crate::export).
#[doc(hidden)]
#[repr(C)]
pub struct RawHost {
    version: u32,
    size: u32,
    ctx: *mut c_void,
    log: Option<unsafe extern "C" fn(ctx: *mut c_void, level: i32, msg: *const u8, msg_len: usize)>,
    call: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            fn_id: u32,
            args: *const u8,
            args_len: usize,
            out: *mut u8,
            out_cap: usize,
            out_len: *mut usize,
        ) -> i32,
    >,
}

/// The table bound by the host, or null.
static HOST: AtomicPtr<RawHost> = AtomicPtr::new(std::ptr::null_mut());

/// `memlink_host_bind`: keeps the table for [`call`] and [`log`].
///
/// # Safety
/// `host` is null or a table that stays valid until `memlink_shutdown`
/// has returned.
#[doc(hidden)]
pub unsafe fn __bind(host: *const RawHost) -> c_int {
    if !host.is_null() {
        // SAFETY: the caller's promise; version and size come first in
        // every version of the table.
        let (version, size) = unsafe { ((*host).version, (*host).size) };
        if version == 0 || (size as usize) < offset_of_log() {
            return code::INVALID_ARGS;
        }
    }
    HOST.store(host as *mut RawHost, Ordering::Release);
    code::OK
}

/// Forgets the table (at the last `memlink_shutdown`).
#[doc(hidden)]
pub fn __unbind() {
    HOST.store(std::ptr::null_mut(), Ordering::Release);
}

/// Where `log` starts in [`RawHost`]: a table must be at least this long.
fn offset_of_log() -> usize {
    // version, size, ctx: the struct is laid out as C would.
    let ptr = std::mem::size_of::<*mut c_void>();
    (8 + ptr - 1) / ptr * ptr + ptr
}

/// Whether the table is long enough to hold a field ending at `end`.
fn has(h: &RawHost, end: usize) -> bool {
    h.size as usize >= end
}

fn table() -> Option<&'static RawHost> {
    let p = HOST.load(Ordering::Acquire);
    // SAFETY: a bound table is valid until shutdown, which unbinds it.
    unsafe { p.as_ref() }
}

/// Whether the host bound a table (host functions may still be refused
/// one by one, as not granted to this module).
pub fn bound() -> bool {
    !HOST.load(Ordering::Acquire).is_null()
}

/// A log level, as Go's `log/slog` numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(i32)]
pub enum Level {
    /// `slog.LevelDebug` (-4).
    Debug = -4,
    /// `slog.LevelInfo` (0).
    Info = 0,
    /// `slog.LevelWarn` (4).
    Warn = 4,
    /// `slog.LevelError` (8).
    Error = 8,
}

/// Writes one record to the host's logger. It never fails: without a
/// table, or when the host cannot take the record, it is dropped (the host
/// counts what it drops).
pub fn log(level: Level, msg: &str) {
    let h = match table() {
        Some(h) => h,
        None => return,
    };
    let end = offset_of_log() + std::mem::size_of::<usize>();
    if !has(h, end) {
        return;
    }
    if let Some(f) = h.log {
        // SAFETY: the host's function, with its own ctx and our bytes.
        unsafe { f(h.ctx, level as i32, msg.as_ptr(), msg.len()) }
    }
}

/// How many times [`call_id`] asks again when the host says its result
/// needs a larger buffer.
const CALL_ROUNDS: usize = 3;

/// The first buffer [`call_id`] offers the host.
const FIRST_CAPACITY: usize = 256;

/// Calls the host function `name` with `args` and returns its result.
///
/// Errors: code -6 when the host has no such function or did not grant it
/// to this module (or bound no table); -1 with the Go error's text when
/// the function failed; -5 when it panicked; other codes as the host
/// chose.
pub fn call(name: &str, args: &[u8]) -> Result<Vec<u8>, Error> {
    call_id(method_id(name), args)
}

/// [`call`] with the function's id ([`method_id`] of its name) computed
/// beforehand, e.g. in a `const`.
pub fn call_id(fn_id: u32, args: &[u8]) -> Result<Vec<u8>, Error> {
    let h = match table() {
        Some(h) => h,
        None => {
            return Err(Error::new(
                code::UNKNOWN_METHOD,
                "no host functions: the host bound no table",
            ))
        }
    };
    let end = offset_of_log() + 2 * std::mem::size_of::<usize>();
    let f = match h.call {
        Some(f) if has(h, end) => f,
        _ => {
            return Err(Error::new(
                code::UNKNOWN_METHOD,
                "no host functions in the host's table",
            ))
        }
    };
    let mut out: Vec<u8> = Vec::with_capacity(FIRST_CAPACITY);
    for _ in 0..CALL_ROUNDS {
        let cap = out.capacity();
        let mut n: usize = 0;
        // SAFETY: the host writes at most cap bytes to out's spare capacity
        // and its length to n.
        let rc = unsafe {
            f(
                h.ctx,
                fn_id,
                args.as_ptr(),
                args.len(),
                out.as_mut_ptr(),
                cap,
                &mut n,
            )
        };
        if rc == code::OUTPUT_TOO_SMALL && n > cap {
            // The host keeps the result for this retry of the same call.
            out.reserve_exact(n);
            continue;
        }
        if n > cap {
            return Err(Error::new(
                code::INTERNAL,
                format!("host reported {} bytes in a {}-byte buffer", n, cap),
            ));
        }
        // SAFETY: the host initialised the first n bytes.
        unsafe { out.set_len(n) };
        if rc == code::OK {
            return Ok(out);
        }
        return Err(Error::new(rc, String::from_utf8_lossy(&out).into_owned()));
    }
    Err(Error::new(
        code::OUTPUT_TOO_SMALL,
        "host function result kept growing",
    ))
}

/// Logs at [`Level::Debug`] through [`host::log`](crate::host::log), with
/// `format!` arguments.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => {
        $crate::host::log($crate::host::Level::Debug, &::std::format!($($arg)+))
    };
}

/// Logs at [`Level::Info`] through [`host::log`](crate::host::log), with
/// `format!` arguments.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => {
        $crate::host::log($crate::host::Level::Info, &::std::format!($($arg)+))
    };
}

/// Logs at [`Level::Warn`] through [`host::log`](crate::host::log), with
/// `format!` arguments.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => {
        $crate::host::log($crate::host::Level::Warn, &::std::format!($($arg)+))
    };
}

/// Logs at [`Level::Error`] through [`host::log`](crate::host::log), with
/// `format!` arguments.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => {
        $crate::host::log($crate::host::Level::Error, &::std::format!($($arg)+))
    };
}
