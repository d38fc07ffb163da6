//! Token issue and verify: the work every request of every function does.
//! `cargo bench -p shared --bench tokens`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use shared::{claims::TokenKind, tokens::TokenService};

fn service() -> TokenService {
    TokenService::new(&shared::testing::settings_with(&[])).expect("keys load")
}

fn tokens(c: &mut Criterion) {
    let service = service();
    c.bench_function("issue access token", |b| {
        b.iter(|| {
            service
                .issue(TokenKind::Access, black_box("cosmo"), true)
                .unwrap()
        })
    });
    let token = service.issue(TokenKind::Access, "cosmo", true).unwrap();
    c.bench_function("verify access token", |b| {
        b.iter(|| {
            service
                .verify(black_box(&token), TokenKind::Access)
                .unwrap()
        })
    });
}

criterion_group!(benches, tokens);
criterion_main!(benches);
