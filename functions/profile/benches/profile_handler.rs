//! The whole `GET /profile` handler: header parsing, token verification, user lookup, response.
//! `cargo bench -p profile --bench profile_handler`

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auth_core::claims::TokenKind;
use auth_testkit::{IssueNow, bearer_request, state};
use criterion::{Criterion, criterion_group, criterion_main};

fn profile_handler(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let state = state();
    let token = state
        .tokens()
        .issue(TokenKind::Access, "cosmo", true)
        .unwrap();
    c.bench_function("GET /profile handler", |b| {
        b.iter(|| {
            let request = bearer_request("GET", "/profile", &token);
            let response = runtime.block_on(profile::handle(&state, request)).unwrap();
            assert_eq!(response.status(), 200);
        })
    });
}

criterion_group!(benches, profile_handler);
criterion_main!(benches);
