//! panic: a module that panics in the ways a Rust module can, none of
//! which may unwind into the host.
//!
//! - "boom": panics with a formatted message (code -5 with that message)
//! - "unwrap": unwraps None (code -5, "called `Option::unwrap()` on a `None` value")
//! - "fail": returns Error::new(17, "failed on purpose")
//! - "ok": returns "still here", to show the module keeps serving
//!
//! With the configuration "panic-in-init" it panics in init, which refuses
//! the load with code -5.
use memlink_module::{export, Error, Module};

struct Panicky;

impl Module for Panicky {
    const METHODS: &'static [&'static str] = &["boom", "unwrap", "fail", "ok"];

    fn init(config: &[u8]) -> Result<Self, Error> {
        if config == b"panic-in-init" {
            panic!("init refuses {:?}", std::str::from_utf8(config).unwrap_or(""));
        }
        Ok(Panicky)
    }

    fn call(&self, method: &str, args: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        match method {
            "boom" => panic!("boom with {} bytes", args.len()),
            "unwrap" => {
                // One past the end: always None.
                out.push(*args.get(args.len()).unwrap());
                Ok(())
            }
            "fail" => Err(Error::new(17, "failed on purpose")),
            "ok" => {
                out.extend_from_slice(b"still here");
                Ok(())
            }
            _ => unreachable!(),
        }
    }
}

export!(Panicky);
