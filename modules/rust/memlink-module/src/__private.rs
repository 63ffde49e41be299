//! The machinery behind [`export!`](crate::export): not part of the API,
//! public only because the macro expands in the module's crate.

use std::any::Any;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::slice;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::{code, Module};

/// The output capacity an ABI-1 host gives `memlink_call` (it does not say).
pub const ABI1_OUTPUT_CAPACITY: usize = 4096;

/// What a handed-over result looks like in the host's output buffer: the
/// C `memlink_output` of `memlink.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputDesc {
    /// First byte of the module-owned result.
    pub ptr: *mut u8,
    /// Its length.
    pub len: usize,
}

/// Whether the host has announced that it takes handed-over results
/// (`memlink_release_output(NULL, 0)` before `memlink_init`). One flag per
/// image, like every static of the library.
static HANDOVER: AtomicBool = AtomicBool::new(false);

/// The module value of one library, and its life cycle.
pub struct Slot<M> {
    /// The value, or null before init and after the last shutdown. Calls
    /// only read it: the host never runs init or shutdown during a call.
    inst: AtomicPtr<M>,
    /// How many inits are not yet matched by a shutdown (several when the
    /// host maps one image for several handles). Also serialises init and
    /// shutdown.
    users: Mutex<usize>,
    /// The state saved by `memlink_get_state_size` for the
    /// `memlink_serialize_state` that follows it: Ok(bytes) or Err(code).
    pending: Mutex<Option<Result<Vec<u8>, i32>>>,
}

impl<M> Slot<M> {
    /// An empty slot (for a `static`).
    pub const fn new() -> Slot<M> {
        Slot {
            inst: AtomicPtr::new(ptr::null_mut()),
            users: Mutex::new(0),
            pending: Mutex::new(None),
        }
    }

    fn get(&self) -> Option<&M> {
        let p = self.inst.load(Ordering::Acquire);
        // SAFETY: a non-null pointer is a leaked Box that lives until the
        // last shutdown, and the host never calls shutdown during a call.
        unsafe { p.as_ref() }
    }
}

impl<M> Default for Slot<M> {
    fn default() -> Slot<M> {
        Slot::new()
    }
}

/// Locks m, whose data stays consistent even if a holder panicked (every
/// critical section here is panic-free or caught).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Returns the ids of `methods`, in order. Two names with one id (the same
/// name twice, or an FNV-1a collision) stop the build.
pub const fn method_ids<const N: usize>(methods: &[&str]) -> [u32; N] {
    let mut ids = [0u32; N];
    let mut i = 0;
    while i < N {
        ids[i] = crate::method_id(methods[i]);
        let mut j = 0;
        while j < i {
            if ids[j] == ids[i] {
                panic!("memlink_module: two METHODS have the same id (a name given twice?)");
            }
            j += 1;
        }
        i += 1;
    }
    ids
}

/// A slice of `len` bytes at `p`, empty when `len` is 0 or `p` is null.
///
/// # Safety
/// A non-null `p` must point to `len` readable bytes that outlive the use.
pub unsafe fn bytes<'a>(p: *const u8, len: usize) -> &'a [u8] {
    if p.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: the caller's promise.
        unsafe { slice::from_raw_parts(p, len) }
    }
}

/// The text of a panic payload: what `panic!` was given.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

/// Runs f, turning a panic into its message.
fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => Ok(v),
        Err(payload) => {
            let msg = panic_message(&*payload);
            // A payload whose destructor panics must not unwind either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            Err(msg)
        }
    }
}

/// Whether the SDK's panic hook is installed (once per image).
static HOOKED: AtomicBool = AtomicBool::new(false);

/// Replaces std's default panic hook, which looks up the current thread
/// (`std::thread::current`) and so registers a thread-local destructor:
/// with glibc that keeps the library mapped after the host unloads it,
/// until the thread that panicked exits (a Go thread rarely does), and a
/// reload of a module that once panicked would leave its old image behind.
/// This hook sends the panic, with its location, to the host's log, or to
/// stderr when the host bound no log.
fn install_panic_hook() {
    if HOOKED.swap(true, Ordering::AcqRel) {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let text = format!("memlink module {}", info);
        if crate::host::bound() {
            crate::host::log(crate::host::Level::Error, &text);
        } else {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{}", text);
        }
    }));
}

/// `memlink_init`.
///
/// # Safety
/// `config` must point to `config_len` bytes (or be null).
pub unsafe fn init<M: Module>(slot: &Slot<M>, config: *const u8, config_len: usize) -> i32 {
    // SAFETY: the caller's promise.
    let config = unsafe { bytes(config, config_len) };
    let mut users = lock(&slot.users);
    if *users > 0 {
        // One image, several handles: they share the first value.
        *users += 1;
        return code::OK;
    }
    install_panic_hook();
    match guard(|| M::init(config)) {
        Ok(Ok(m)) => {
            slot.inst.store(Box::into_raw(Box::new(m)), Ordering::Release);
            *users = 1;
            code::OK
        }
        Ok(Err(e)) => {
            crate::host::log(
                crate::host::Level::Error,
                &format!("memlink_init failed: {}", e),
            );
            e.code()
        }
        Err(msg) => {
            // The ABI has no message for init: tell the host's log.
            crate::host::log(
                crate::host::Level::Error,
                &format!("memlink_init panicked: {}", msg),
            );
            code::PANICKED
        }
    }
}

/// `memlink_shutdown`: drops the value after the last handle's shutdown.
pub fn shutdown<M: Module>(slot: &Slot<M>) -> i32 {
    let mut users = lock(&slot.users);
    match *users {
        0 => return code::OK,
        1 => {}
        _ => {
            *users -= 1;
            return code::OK;
        }
    }
    *users = 0;
    *lock(&slot.pending) = None;
    let p = slot.inst.swap(ptr::null_mut(), Ordering::AcqRel);
    let mut rc = code::OK;
    if !p.is_null() {
        // SAFETY: p came from Box::into_raw in init and no call is running.
        let m = unsafe { Box::from_raw(p) };
        if guard(move || drop(m)).is_err() {
            rc = code::PANICKED;
        }
    }
    // The host's table is valid until shutdown returns: a thread of the
    // module that logs later gets nothing rather than a stale table.
    crate::host::__unbind();
    rc
}

/// Where a call's answer goes: the host's buffer and length cell.
struct Reply {
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
}

impl Reply {
    fn set_len(&self, n: usize) {
        // SAFETY: checked non-null by the caller; the host's cell need not
        // be aligned (it follows a buffer of any size).
        unsafe { ptr::write_unaligned(self.out_len, n) }
    }

    /// Copies b (b.len() <= cap) to the buffer and returns rc.
    fn put(&self, rc: i32, b: &[u8]) -> i32 {
        if !b.is_empty() {
            // SAFETY: the host gave cap writable bytes at out, b fits.
            unsafe { ptr::copy_nonoverlapping(b.as_ptr(), self.out, b.len()) }
        }
        self.set_len(b.len());
        rc
    }

    /// Answers with an error code and as much of msg as fits.
    fn fail(&self, rc: i32, msg: &str) -> i32 {
        self.put(rc, truncate(msg, self.cap))
    }

    /// Delivers a result: in the buffer, handed over, or -4 with its size.
    fn deliver(&self, result: Vec<u8>) -> i32 {
        let n = result.len();
        if n <= self.cap {
            return self.put(code::OK, &result);
        }
        if HANDOVER.load(Ordering::Acquire) && self.cap >= mem::size_of::<OutputDesc>() {
            let boxed = result.into_boxed_slice();
            let len = boxed.len();
            let ptr = Box::into_raw(boxed) as *mut u8;
            // SAFETY: the buffer holds at least a descriptor; it may not be
            // aligned for one.
            unsafe { ptr::write_unaligned(self.out as *mut OutputDesc, OutputDesc { ptr, len }) }
            self.set_len(mem::size_of::<OutputDesc>());
            return code::HANDED_OVER;
        }
        // A host without the hand-over retries with a buffer of n bytes,
        // and the method runs again.
        self.set_len(n);
        code::OUTPUT_TOO_SMALL
    }
}

/// The longest prefix of s of at most max bytes that ends on a character
/// boundary.
fn truncate(s: &str, max: usize) -> &[u8] {
    if s.len() <= max {
        return s.as_bytes();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s.as_bytes()[..end]
}

/// Runs one call of the method with id `id`, catching panics.
fn run<M: Module>(slot: &Slot<M>, ids: &[u32], id: u32, args: &[u8]) -> Result<Vec<u8>, (i32, String)> {
    let index = match ids.iter().position(|&x| x == id) {
        Some(i) => i,
        None => return Err((code::UNKNOWN_METHOD, format!("unknown method id {:#010x}", id))),
    };
    let m = match slot.get() {
        Some(m) => m,
        None => return Err((code::INTERNAL, "the module is not initialised".to_string())),
    };
    let method = M::METHODS[index];
    let mut out = Vec::new();
    match guard(|| m.call(method, args, &mut out)) {
        Ok(Ok(())) => Ok(out),
        Ok(Err(e)) => Err((e.code, e.message)),
        Err(msg) => Err((code::PANICKED, msg)),
    }
}

/// `memlink_call_v2`.
///
/// # Safety
/// The pointers are the host's: `args` to `args_len` bytes, `out` to
/// `out_cap` writable bytes, `out_len` to a writable `size_t` (any may be
/// null; a null `out_len` is refused).
#[allow(clippy::too_many_arguments)]
pub unsafe fn call_v2<M: Module>(
    slot: &Slot<M>,
    ids: &[u32],
    id: u32,
    args: *const u8,
    args_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    if out_len.is_null() {
        return code::INVALID_ARGS;
    }
    let reply = Reply {
        out,
        cap: if out.is_null() { 0 } else { out_cap },
        out_len,
    };
    // SAFETY: the caller's promise.
    let args = unsafe { bytes(args, args_len) };
    match run(slot, ids, id, args) {
        Ok(result) => reply.deliver(result),
        Err((rc, msg)) => reply.fail(rc, &msg),
    }
}

/// `memlink_call` (ABI 1): the result and a NUL in a buffer of
/// [`ABI1_OUTPUT_CAPACITY`] bytes; the result must hold no NUL to be read
/// whole.
///
/// # Safety
/// `args` must point to `args_len` bytes (or be null), `output` to
/// [`ABI1_OUTPUT_CAPACITY`] writable bytes (or be null).
pub unsafe fn call_v1<M: Module>(
    slot: &Slot<M>,
    ids: &[u32],
    id: u32,
    args: *const u8,
    args_len: usize,
    output: *mut u8,
) -> i32 {
    if output.is_null() {
        return code::INVALID_ARGS;
    }
    // SAFETY: the caller's promise.
    let args = unsafe { bytes(args, args_len) };
    let (rc, body): (i32, Vec<u8>) = match run(slot, ids, id, args) {
        Ok(result) if result.len() < ABI1_OUTPUT_CAPACITY => (code::OK, result),
        Ok(result) => (
            code::OUTPUT_TOO_SMALL,
            format!(
                "result of {} bytes does not fit the {}-byte ABI-1 buffer",
                result.len(),
                ABI1_OUTPUT_CAPACITY
            )
            .into_bytes(),
        ),
        Err((rc, msg)) => (rc, truncate(&msg, ABI1_OUTPUT_CAPACITY - 1).to_vec()),
    };
    // SAFETY: body is shorter than the buffer, which has room for the NUL.
    unsafe {
        ptr::copy_nonoverlapping(body.as_ptr(), output, body.len());
        *output.add(body.len()) = 0;
    }
    rc
}

/// `memlink_release_output`: frees a handed-over result, or, with a null
/// pointer, records the host's announcement that it takes them.
///
/// # Safety
/// A non-null `ptr` must be one this library handed over, with its length,
/// released once.
pub unsafe fn release_output(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        HANDOVER.store(true, Ordering::Release);
        return;
    }
    // SAFETY: the caller's promise: a Box<[u8]> leaked by Reply::deliver.
    drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(ptr, len)) });
}

/// Whether the host announced the hand-over (for tests).
pub fn handover_enabled() -> bool {
    HANDOVER.load(Ordering::Acquire)
}

/// `memlink_get_state_size`: saves the state for the serialize call that
/// follows. A panic leaves an error for it and reports 0 bytes.
pub fn state_size<M: Module>(slot: &Slot<M>) -> usize {
    let saved = match slot.get() {
        None => Err(code::INTERNAL),
        Some(m) => guard(|| m.save_state()).map_err(|_| code::PANICKED),
    };
    let n = saved.as_ref().map(|s| s.len()).unwrap_or(0);
    *lock(&slot.pending) = Some(saved);
    n
}

/// `memlink_serialize_state`.
///
/// # Safety
/// `buf` must point to `buf_len` writable bytes (or be null with 0).
pub unsafe fn serialize_state<M: Module>(slot: &Slot<M>, buf: *mut u8, buf_len: usize) -> i32 {
    let pending = lock(&slot.pending).take();
    let saved = match pending {
        Some(s) => s,
        // Without a size call first, save now.
        None => match slot.get() {
            None => Err(code::INTERNAL),
            Some(m) => guard(|| m.save_state()).map_err(|_| code::PANICKED),
        },
    };
    match saved {
        Err(rc) => rc,
        Ok(state) if state.len() != buf_len => code::INVALID_ARGS,
        Ok(state) => {
            if !state.is_empty() {
                if buf.is_null() {
                    return code::INVALID_ARGS;
                }
                // SAFETY: the caller's promise; the sizes match.
                unsafe { ptr::copy_nonoverlapping(state.as_ptr(), buf, state.len()) }
            }
            code::OK
        }
    }
}

/// `memlink_deserialize_state`.
///
/// # Safety
/// `buf` must point to `len` bytes (or be null).
pub unsafe fn deserialize_state<M: Module>(slot: &Slot<M>, buf: *const u8, len: usize) -> i32 {
    // SAFETY: the caller's promise.
    let state = unsafe { bytes(buf, len) };
    match slot.get() {
        None => code::INTERNAL,
        Some(m) => match guard(|| m.restore_state(state)) {
            Ok(Ok(())) => code::OK,
            Ok(Err(e)) => e.code(),
            Err(_) => code::PANICKED,
        },
    }
}
