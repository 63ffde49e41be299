//! Unit tests of the SDK: the exports that `export!` emits, called the way
//! a host calls them.

use std::mem;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use crate::__private::{self, OutputDesc, Slot};
use crate::{code, method_id, Error, Module};

/// How many times "big" ran.
static BIG_RUNS: AtomicU64 = AtomicU64::new(0);

struct TestMod {
    value: AtomicU64,
}

impl Module for TestMod {
    const METHODS: &'static [&'static str] = &["echo", "fail", "boom", "big", "get", "add"];

    fn init(config: &[u8]) -> Result<Self, Error> {
        if config == b"refuse" {
            return Err(Error::new(7, "refused"));
        }
        if config == b"panic" {
            panic!("init panicked");
        }
        Ok(TestMod {
            value: AtomicU64::new(config.len() as u64),
        })
    }

    fn call(&self, method: &str, args: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        match method {
            "echo" => out.extend_from_slice(args),
            "fail" => {
                out.extend_from_slice(b"discarded");
                return Err(Error::new(42, "failed: ünïcode"));
            }
            "boom" => panic!("boom with {} bytes", args.len()),
            "big" => {
                BIG_RUNS.fetch_add(1, Ordering::SeqCst);
                out.resize(args.len() * 1000, b'x');
            }
            "get" => out.extend_from_slice(&self.value.load(Ordering::SeqCst).to_le_bytes()),
            "add" => {
                self.value.fetch_add(args.len() as u64, Ordering::SeqCst);
            }
            _ => unreachable!(),
        }
        Ok(())
    }

    fn save_state(&self) -> Vec<u8> {
        let v = self.value.load(Ordering::SeqCst);
        if v == 999 {
            panic!("save panicked");
        }
        v.to_le_bytes().to_vec()
    }

    fn restore_state(&self, state: &[u8]) -> Result<(), Error> {
        if state.len() != 8 {
            return Err(Error::new(code::INVALID_ARGS, "want 8 bytes"));
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(state);
        self.value.store(u64::from_le_bytes(b), Ordering::SeqCst);
        Ok(())
    }
}

export!(TestMod, state);

static SETUP: Once = Once::new();

/// Initialises the exported module once for every test that calls it.
fn setup() {
    SETUP.call_once(|| {
        let rc = unsafe { memlink_init(ptr::null(), 0) };
        assert_eq!(rc, 0);
    });
}

/// Calls memlink_call_v2 with a buffer of cap bytes.
fn call(method: &str, args: &[u8], cap: usize) -> (i32, Vec<u8>, usize) {
    setup();
    let mut out = vec![0u8; cap];
    let mut n: usize = usize::MAX;
    let out_ptr = if cap == 0 { ptr::null_mut() } else { out.as_mut_ptr() };
    let rc = unsafe { memlink_call_v2(method_id(method), args.as_ptr(), args.len(), out_ptr, cap, &mut n) };
    let shown = if n <= cap { out[..n].to_vec() } else { Vec::new() };
    (rc, shown, n)
}

#[test]
fn method_ids_match_go() {
    // abi.MethodID("process") in Go, and the FNV-1a 32 offset basis for "".
    assert_eq!(method_id("process"), 0x9ce94d7a);
    assert_eq!(method_id(""), 2166136261);
    const ID: u32 = method_id("get");
    assert_eq!(__MEMLINK_IDS[4], ID);
    assert_eq!(__MEMLINK_IDS.len(), TestMod::METHODS.len());
}

#[test]
fn abi_version() {
    assert_eq!(memlink_abi_version(), 2);
}

#[test]
fn echo_exact_bytes() {
    let args = b"a\x00b\xffc";
    let (rc, out, n) = call("echo", args, 64);
    assert_eq!((rc, n), (0, args.len()));
    assert_eq!(out, args);
}

#[test]
fn empty_args_with_null_pointer() {
    setup();
    let mut out = [0u8; 16];
    let mut n = 99usize;
    let rc = unsafe { memlink_call_v2(method_id("echo"), ptr::null(), 0, out.as_mut_ptr(), out.len(), &mut n) };
    assert_eq!((rc, n), (0, 0));
}

#[test]
fn null_out_len_refused() {
    setup();
    let mut out = [0u8; 16];
    let rc = unsafe { memlink_call_v2(method_id("echo"), ptr::null(), 0, out.as_mut_ptr(), 16, ptr::null_mut()) };
    assert_eq!(rc, code::INVALID_ARGS);
}

#[test]
fn unknown_method() {
    let (rc, msg, _) = call("nope", b"", 64);
    assert_eq!(rc, code::UNKNOWN_METHOD);
    assert!(String::from_utf8(msg).unwrap().contains("unknown method id"));
}

#[test]
fn error_code_and_message() {
    let (rc, msg, _) = call("fail", b"", 64);
    assert_eq!(rc, 42);
    assert_eq!(String::from_utf8(msg).unwrap(), "failed: ünïcode");
}

#[test]
fn error_message_truncated_on_a_char_boundary() {
    // "failed: ü" is 10 bytes; 9 would split the ü.
    let (rc, msg, n) = call("fail", b"", 9);
    assert_eq!(rc, 42);
    assert_eq!(n, 8);
    assert_eq!(msg, b"failed: ");
}

#[test]
fn panic_becomes_code_5_with_message() {
    let (rc, msg, _) = call("boom", b"abc", 64);
    assert_eq!(rc, code::PANICKED);
    assert_eq!(String::from_utf8(msg).unwrap(), "boom with 3 bytes");
}

#[test]
fn panic_with_no_buffer() {
    let (rc, _, n) = call("boom", b"abc", 0);
    assert_eq!((rc, n), (code::PANICKED, 0));
}

#[test]
fn error_codes_reserved_for_the_host_are_mapped() {
    assert_eq!(Error::new(0, "x").code(), code::GENERAL);
    assert_eq!(Error::new(code::HANDED_OVER, "x").code(), code::GENERAL);
    assert_eq!(Error::new(5, "x").code(), 5);
    assert_eq!(Error::msg("m").code(), -1);
    assert_eq!(Error::msg("m").message(), "m");
    assert_eq!(Error::from("s").to_string(), "code -1: s");
}

/// Large results: -4 before the host announces the hand-over, then handed
/// over, each call running the method once. One test, because the
/// announcement is global to the library.
#[test]
fn large_results() {
    BIG_RUNS.store(0, Ordering::SeqCst);

    // No announcement yet: -4 with the size needed, then the retry fits.
    let (rc, _, n) = call("big", b"ab", 100);
    assert_eq!((rc, n), (code::OUTPUT_TOO_SMALL, 2000));
    let (rc, out, n) = call("big", b"ab", 2000);
    assert_eq!((rc, n, out.len()), (0, 2000, 2000));
    assert_eq!(BIG_RUNS.load(Ordering::SeqCst), 2);

    // The host's announcement.
    unsafe { memlink_release_output(ptr::null_mut(), 0) };
    assert!(__private::handover_enabled());

    // A result that fits still goes in the buffer.
    let (rc, out, _) = call("echo", b"fits", 100);
    assert_eq!((rc, out.as_slice()), (0, &b"fits"[..]));

    // One larger than the buffer is handed over: one run.
    setup();
    let mut buf = vec![0u8; 100];
    let mut n = 0usize;
    let args = b"abc";
    let rc = unsafe { memlink_call_v2(method_id("big"), args.as_ptr(), 3, buf.as_mut_ptr(), 100, &mut n) };
    assert_eq!(rc, code::HANDED_OVER);
    assert_eq!(n, mem::size_of::<OutputDesc>());
    let d: OutputDesc = unsafe { ptr::read_unaligned(buf.as_ptr() as *const OutputDesc) };
    assert!(!d.ptr.is_null());
    assert_eq!(d.len, 3000);
    let got = unsafe { std::slice::from_raw_parts(d.ptr, d.len) };
    assert!(got.iter().all(|&b| b == b'x'));
    unsafe { memlink_release_output(d.ptr, d.len) };
    assert_eq!(BIG_RUNS.load(Ordering::SeqCst), 3);

    // A buffer too small for a descriptor still gets -4.
    let (rc, _, n) = call("big", b"a", 8);
    assert_eq!((rc, n), (code::OUTPUT_TOO_SMALL, 1000));
}

#[test]
fn abi1_call() {
    setup();
    let mut out = vec![0xffu8; __private::ABI1_OUTPUT_CAPACITY];
    let rc = unsafe { memlink_call(method_id("echo"), b"hi".as_ptr(), 2, out.as_mut_ptr()) };
    assert_eq!(rc, 0);
    assert_eq!(&out[..3], b"hi\0");
    let rc = unsafe { memlink_call(method_id("boom"), ptr::null(), 0, out.as_mut_ptr()) };
    assert_eq!(rc, code::PANICKED);
    assert_eq!(&out[..18], b"boom with 0 bytes\0");
    let rc = unsafe { memlink_call(method_id("big"), b"abcde".as_ptr(), 5, out.as_mut_ptr()) };
    assert_eq!(rc, code::OUTPUT_TOO_SMALL);
    let rc = unsafe { memlink_call(0, ptr::null(), 0, ptr::null_mut()) };
    assert_eq!(rc, code::INVALID_ARGS);
}

/// Life cycle and state on a slot of their own (the exported one is shared
/// by the other tests).
#[test]
fn lifecycle_and_state() {
    static SLOT: Slot<TestMod> = Slot::new();
    unsafe {
        assert_eq!(__private::init(&SLOT, b"refuse".as_ptr(), 6), 7);
        assert_eq!(__private::init(&SLOT, b"panic".as_ptr(), 5), code::PANICKED);
        // Not initialised: calls and state are refused, not crashes.
        assert_eq!(__private::state_size(&SLOT), 0);
        assert_eq!(__private::serialize_state(&SLOT, ptr::null_mut(), 0), code::INTERNAL);

        assert_eq!(__private::init(&SLOT, b"abc".as_ptr(), 3), 0);
        // A second init of the same image shares the value.
        assert_eq!(__private::init(&SLOT, ptr::null(), 0), 0);

        let n = __private::state_size(&SLOT);
        assert_eq!(n, 8);
        let mut buf = vec![0u8; n];
        assert_eq!(__private::serialize_state(&SLOT, buf.as_mut_ptr(), n), 0);
        assert_eq!(buf, 3u64.to_le_bytes());
        // A wrong length is refused.
        assert_eq!(__private::state_size(&SLOT), 8);
        assert_eq!(__private::serialize_state(&SLOT, buf.as_mut_ptr(), 4), code::INVALID_ARGS);

        let new = 999u64.to_le_bytes();
        assert_eq!(__private::deserialize_state(&SLOT, new.as_ptr(), 8), 0);
        assert_eq!(__private::deserialize_state(&SLOT, new.as_ptr(), 3), code::INVALID_ARGS);
        // save_state panics at 999: size 0, then serialize reports -5.
        assert_eq!(__private::state_size(&SLOT), 0);
        assert_eq!(__private::serialize_state(&SLOT, ptr::null_mut(), 0), code::PANICKED);

        // Two inits, two shutdowns; the value lives until the second.
        assert_eq!(__private::shutdown(&SLOT), 0);
        let mut n = 0usize;
        let mut out = [0u8; 8];
        let rc = __private::call_v2(
            &SLOT,
            &__MEMLINK_IDS,
            method_id("get"),
            ptr::null(),
            0,
            out.as_mut_ptr(),
            8,
            &mut n,
        );
        assert_eq!((rc, out), (0, 999u64.to_le_bytes()));
        assert_eq!(__private::shutdown(&SLOT), 0);
        let rc = __private::call_v2(
            &SLOT,
            &__MEMLINK_IDS,
            method_id("get"),
            ptr::null(),
            0,
            out.as_mut_ptr(),
            8,
            &mut n,
        );
        assert_eq!(rc, code::INTERNAL);
        // A shutdown too many is harmless.
        assert_eq!(__private::shutdown(&SLOT), 0);
    }
}

#[test]
fn exported_state_round_trip() {
    setup();
    let n = memlink_get_state_size();
    let mut buf = vec![0u8; n];
    assert_eq!(unsafe { memlink_serialize_state(buf.as_mut_ptr(), n) }, 0);
    assert_eq!(n, 8);
}

/// A fake host table, as Go lays it out.
mod fake_host {
    use super::*;
    use crate::host::{self, RawHost};
    use std::os::raw::c_void;
    use std::sync::Mutex;

    pub static LOGS: Mutex<Vec<(i32, String)>> = Mutex::new(Vec::new());

    unsafe extern "C" fn log(_ctx: *mut c_void, level: i32, msg: *const u8, len: usize) {
        let b = unsafe { std::slice::from_raw_parts(msg, len) };
        LOGS.lock().unwrap().push((level, String::from_utf8_lossy(b).into_owned()));
    }

    /// "kv.get" answers 1000 'v' bytes (so the first round gets -4),
    /// "fail" an error with a message, anything else -6.
    unsafe extern "C" fn call(
        ctx: *mut c_void,
        id: u32,
        _args: *const u8,
        _args_len: usize,
        out: *mut u8,
        cap: usize,
        out_len: *mut usize,
    ) -> i32 {
        assert_eq!(ctx as usize, 0x1234);
        unsafe {
            if id == method_id("kv.get") {
                *out_len = 1000;
                if cap < 1000 {
                    return code::OUTPUT_TOO_SMALL;
                }
                ptr::write_bytes(out, b'v', 1000);
                return 0;
            }
            if id == method_id("fail") {
                ptr::copy_nonoverlapping(b"nope".as_ptr(), out, 4);
                *out_len = 4;
                return -1;
            }
            *out_len = 0;
            code::UNKNOWN_METHOD
        }
    }

    #[repr(C)]
    struct Table {
        version: u32,
        size: u32,
        ctx: *mut c_void,
        log: unsafe extern "C" fn(*mut c_void, i32, *const u8, usize),
        call: unsafe extern "C" fn(*mut c_void, u32, *const u8, usize, *mut u8, usize, *mut usize) -> i32,
    }

    #[test]
    fn with_a_table() {
        let t = Box::leak(Box::new(Table {
            version: 1,
            size: mem::size_of::<Table>() as u32,
            ctx: 0x1234 as *mut c_void,
            log,
            call,
        }));
        let short = Table {
            version: 1,
            size: 8,
            ctx: ptr::null_mut(),
            log,
            call,
        };
        unsafe {
            assert_eq!(host::__bind(&short as *const Table as *const RawHost), code::INVALID_ARGS);
            assert_eq!(host::__bind(t as *const Table as *const RawHost), 0);
        }
        assert!(host::bound());
        crate::warn!("careful {}", 7);
        assert_eq!(LOGS.lock().unwrap().as_slice(), &[(4, "careful 7".to_string())]);
        let got = host::call("kv.get", b"k").unwrap();
        assert_eq!(got, vec![b'v'; 1000]);
        let e = host::call("fail", b"").unwrap_err();
        assert_eq!((e.code(), e.message()), (-1, "nope"));
        assert_eq!(host::call("other", b"").unwrap_err().code(), code::UNKNOWN_METHOD);
        host::__unbind();
        assert_eq!(host::call("kv.get", b"").unwrap_err().code(), code::UNKNOWN_METHOD);
    }
}
