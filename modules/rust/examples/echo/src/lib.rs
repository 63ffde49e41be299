//! echo: the module of the SDK's README. "process" returns its arguments
//! unchanged (any bytes, any length); "boom" panics, which the host sees
//! as code -5 with the panic message.
use memlink_module::{export, Error, Module};

struct Echo;
impl Module for Echo {
    const METHODS: &'static [&'static str] = &["process", "boom"];
    fn init(_config: &[u8]) -> Result<Self, Error> { Ok(Echo) }
    fn call(&self, method: &str, args: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        match method {
            "process" => { out.extend_from_slice(args); Ok(()) }
            "boom" => panic!("boom with {} bytes", args.len()),
            _ => unreachable!(),           // unknown ids never reach call: the SDK answers -6
        }
    }
}
export!(Echo);
