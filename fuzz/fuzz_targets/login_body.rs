//! Arbitrary bytes as the JSON body of `POST /login`, through `json_body` and the login and
//! logout schemas. See `fuzz/harness.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::login_body(data);
});
