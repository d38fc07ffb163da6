//! Arbitrary bytes as an `Authorization` header value, through `bearer_token` and token
//! verification (access, refresh, either); and the same bytes as a token, straight to the
//! verifier. See `fuzz/harness.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::bearer_token_verify(data);
});
