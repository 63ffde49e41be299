//! hostcall: a module that calls back into the host and logs.
//!
//! - "get": returns what the host function "kv.get" returns for args
//! - "put": calls "kv.put" with args ("key=value") and returns its result
//! - "log": logs args at info level through the host's logger, returns ""
//! - "missing": calls "no.such.function" (code -6 from the host)
//! - "thread": from a thread the module starts, calls "kv.get" with args
//!   and logs; returns the result
use memlink_module::{export, host, info, warn, Error, Module};

struct HostCall;

impl Module for HostCall {
    const METHODS: &'static [&'static str] = &["get", "put", "log", "missing", "thread"];

    fn init(_config: &[u8]) -> Result<Self, Error> {
        Ok(HostCall)
    }

    fn call(&self, method: &str, args: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        match method {
            "get" => out.extend(host::call("kv.get", args)?),
            "put" => out.extend(host::call("kv.put", args)?),
            "log" => info!("{}", String::from_utf8_lossy(args)),
            "missing" => out.extend(host::call("no.such.function", args)?),
            "thread" => {
                let key = args.to_vec();
                let got = std::thread::spawn(move || {
                    warn!("from a module thread");
                    host::call("kv.get", &key)
                })
                .join()
                .map_err(|_| Error::msg("module thread panicked"))??;
                out.extend(got);
            }
            _ => unreachable!(),
        }
        Ok(())
    }
}

export!(HostCall);
