//! counter: a stateful module whose count survives a hot reload, also
//! from or to the C counter (modules/c/counter.c): the state is the count
//! as 8 little-endian bytes in both.
//!
//! Methods (results are decimal text, like the C counter's):
//! - "increment": add 1, return the new value
//! - "get": return the value
//! - "add": add the decimal number in args, return the new value
//! - "big": add 1 and return the new value followed by args-many bytes of
//!   '.' padding (in decimal), a result larger than the host's buffer: a
//!   counter that is run twice per call shows it.
//!
//! The configuration, if not empty, is the decimal start value.
use std::sync::atomic::{AtomicU64, Ordering};

use memlink_module::{code, export, Error, Module};

struct Counter {
    n: AtomicU64,
}

fn parse(b: &[u8]) -> Result<u64, Error> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| Error::new(code::INVALID_ARGS, "want a decimal number"))
}

impl Module for Counter {
    const METHODS: &'static [&'static str] = &["increment", "get", "add", "big"];

    fn init(config: &[u8]) -> Result<Self, Error> {
        let start = if config.is_empty() { 0 } else { parse(config)? };
        Ok(Counter { n: AtomicU64::new(start) })
    }

    fn call(&self, method: &str, args: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let v = match method {
            "increment" => self.n.fetch_add(1, Ordering::SeqCst) + 1,
            "get" => self.n.load(Ordering::SeqCst),
            "add" => {
                let d = parse(args)?;
                self.n.fetch_add(d, Ordering::SeqCst).wrapping_add(d)
            }
            "big" => {
                let pad = parse(args)? as usize;
                let v = self.n.fetch_add(1, Ordering::SeqCst) + 1;
                out.extend_from_slice(v.to_string().as_bytes());
                out.resize(out.len() + pad, b'.');
                return Ok(());
            }
            _ => unreachable!(),
        };
        out.extend_from_slice(v.to_string().as_bytes());
        Ok(())
    }

    fn save_state(&self) -> Vec<u8> {
        self.n.load(Ordering::SeqCst).to_le_bytes().to_vec()
    }

    fn restore_state(&self, state: &[u8]) -> Result<(), Error> {
        if state.len() != 8 {
            return Err(Error::new(code::INVALID_ARGS, "state is 8 bytes"));
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(state);
        self.n.store(u64::from_le_bytes(b), Ordering::SeqCst);
        Ok(())
    }
}

export!(Counter, state);
