//! Token issue and verify: the work every request of every function does; and the signatures
//! of the asymmetric algorithms on their own (the keys of `interop/keys/`).
//! `cargo bench -p auth-core --bench tokens`

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auth_testkit::IssueNow;
use std::hint::black_box;

use auth_core::{
    claims::TokenKind,
    keys::{Asymmetric, KeySet},
    tokens::TokenService,
};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::signature::Signer;

fn service() -> TokenService {
    TokenService::new(&auth_testkit::settings_with(&[])).expect("keys load")
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

/// Sign and verify a token-sized message with each asymmetric algorithm's key.
fn signatures(c: &mut Criterion) {
    let message = "e".repeat(300);
    for (asymmetric, pem) in [
        (
            Asymmetric::Rs256,
            include_str!("../../../interop/keys/rs256-private.pem"),
        ),
        (
            Asymmetric::Es256,
            include_str!("../../../interop/keys/es256-private.pem"),
        ),
        (
            Asymmetric::EdDsa,
            include_str!("../../../interop/keys/eddsa-private.pem"),
        ),
    ] {
        let keys = KeySet::new(
            asymmetric,
            ("JWT_PRIVATE_KEY", pem),
            ("JWT_PUBLIC_KEYS", None),
        )
        .expect("the fixture keys load");
        let signature = keys
            .signing_key()
            .unwrap()
            .try_sign(message.as_bytes())
            .unwrap();
        let signature =
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature);
        let verifying = keys.verifying_key(keys.signing_kid()).unwrap();
        c.bench_function(&format!("sign {}", asymmetric.name()), |b| {
            b.iter(|| {
                keys.signing_key()
                    .unwrap()
                    .try_sign(black_box(message.as_bytes()))
                    .unwrap()
            })
        });
        c.bench_function(&format!("verify {}", asymmetric.name()), |b| {
            b.iter(|| {
                assert!(
                    jsonwebtoken::crypto::verify(
                        black_box(&signature),
                        message.as_bytes(),
                        verifying,
                        asymmetric.algorithm()
                    )
                    .unwrap()
                )
            })
        });
    }
}

criterion_group!(benches, tokens, signatures);
criterion_main!(benches);
