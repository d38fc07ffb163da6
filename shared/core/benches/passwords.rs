//! One Argon2id verification: the cost of every login, right or wrong, known user or not.
//! `cargo bench -p auth-core --bench passwords`

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use auth_core::{passwords, users::DEMO_PASSWORD_HASH};
use criterion::{Criterion, criterion_group, criterion_main};

fn verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("passwords");
    group.sample_size(20);
    group.bench_function("verify Argon2id (m=19456, t=2, p=1)", |b| {
        b.iter(|| {
            assert!(passwords::verify_blocking(
                black_box("space-corgi"),
                DEMO_PASSWORD_HASH
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
