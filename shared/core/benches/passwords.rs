//! One Argon2id verification: the cost of every login, right or wrong, known user or not.
//! `cargo bench -p shared --bench passwords`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use shared::{passwords, users::DEMO_PASSWORD_HASH};

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
